import Foundation
import InspectorCore
@testable import InspectorUI
import NinePSession
import NinePTestSupport
import NinePWire
import Testing
import TUICore

/// A fake live session: records what the UI asked for.
final class RecordingActions: InspectorActions, @unchecked Sendable {
    private let lock = NSLock()
    private var _calls: [String] = []
    var calls: [String] { lock.lock(); defer { lock.unlock() }; return _calls }
    private func note(_ s: String) { lock.lock(); _calls.append(s); lock.unlock() }

    func inject(_ request: String, conn: ConnectionID, tracker: SessionTracker) async throws -> String {
        note("inject \(conn) \(request)")
        return "injected"
    }
    func flush(tag: Tag, conn: ConnectionID, tracker: SessionTracker) async throws -> String {
        note("flush \(conn) \(tag)")
        return "flushed"
    }
    func save(to path: String, tracker: SessionTracker) async throws -> String {
        note("save \(path) \(tracker.messageCount)")
        throw InspectorActionError("disk full")
    }
}

/// A live session whose flushes all fail.
final class FailingFlushActions: InspectorActions, @unchecked Sendable {
    private let lock = NSLock()
    private var _called = false
    var called: Bool { lock.withLock { _called } }

    func inject(_ request: String, conn: ConnectionID, tracker: SessionTracker) async throws -> String { "injected" }
    func flush(tag: Tag, conn: ConnectionID, tracker: SessionTracker) async throws -> String {
        lock.withLock { _called = true }
        throw InspectorActionError("flush of tag \(tag) on \(conn) failed: the client has no request pending with tag \(tag)")
    }
    func save(to path: String, tracker: SessionTracker) async throws -> String { "saved" }
}

@Suite struct AppTests {
    func makeApp(live: Bool = true, actions: InspectorActions? = nil,
                 configuration: InspectorApp.Configuration = .init(environment: [:])) -> InspectorApp {
        let screen = InspectorScreen(model: InspectorModel(), theme: ThemeLoader.defaultTheme, timeFormat: .utc,
                                     title: "test", isLive: live)
        return InspectorApp(screen: screen, actions: actions, configuration: configuration)
    }

    @Test func loopIngestsEventsDrawsAndQuits() {
        let app = makeApp()
        app.enqueue(SampleTraffic.session())
        let terminal = FakeTerminal(width: 80, height: 24)
        terminal.press("g", "j", "Q")
        app.run(backend: terminal)
        #expect(app.screen.model.store.count == Sample.count)
        #expect(app.screen.model.selectedRow == 1)
        #expect(terminal.presentCount >= 1)
        #expect(terminal.snapshot().contains("Tattach"))
    }

    /// `view` of a capture with no 9P in it (a tcpdump of HTTP, say) said "waiting for traffic…" once the
    /// capture was read to its end, as if more could come; it says there is none. A live source still waits.
    @Test func aCaptureWithNo9PIsNotWaitedFor() {
        let offline = makeApp(live: false)
        offline.finishSource()
        let terminal = FakeTerminal(width: 80, height: 24)
        terminal.press("Q")
        offline.run(backend: terminal)
        #expect(terminal.snapshot().contains("no 9P exchange in this capture"), "\(terminal.snapshot())")
        #expect(!terminal.snapshot().contains("waiting for traffic"))
        let live = makeApp()
        let liveTerminal = FakeTerminal(width: 80, height: 24)
        liveTerminal.press("Q")
        live.run(backend: liveTerminal)
        #expect(liveTerminal.snapshot().contains("waiting for traffic…"), "\(liveTerminal.snapshot())")
    }

    @Test func resizeRedrawsAtTheNewSize() {
        let app = makeApp()
        app.enqueue(SampleTraffic.session())
        let terminal = FakeTerminal(width: 80, height: 24)
        terminal.press("g")
        terminal.resize(to: Size(width: 100, height: 12))
        terminal.press("Q")
        app.run(backend: terminal)
        let lines = terminal.snapshot(trimTrailing: false).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 12)
        #expect(lines.allSatisfy { $0.count == 100 })
        #expect(lines[1].contains("time"))
    }

    /// The live proxy's capture shows on the status line (`setRecording`, from any thread), beside the
    /// other flags; an app with no capture shows none.
    @Test func theStatusLineShowsTheCaptureBeingWritten() {
        for recording in ["REC 3 MB · file 2", nil] as [String?] {
            let app = makeApp()
            app.enqueue(SampleTraffic.session())
            // Set from another thread, as the proxy's status task does; the last word wins.
            let done = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                app.setRecording("REC 1 kB")
                app.setRecording(recording)
                done.signal()
            }
            done.wait()
            let terminal = FakeTerminal(width: 100, height: 24)
            terminal.press("Q")
            app.run(backend: terminal)
            let statusLine = terminal.snapshot().split(separator: "\n").first { $0.contains("20 exchanges") } ?? ""
            if let recording {
                #expect(statusLine.contains(recording) && statusLine.contains("FOLLOW"), "\(statusLine)")
            } else {
                #expect(!statusLine.contains("REC") && statusLine.contains("FOLLOW"), "\(statusLine)")
            }
        }
    }

    /// A terminal whose keys select the sample session's pending read (from the top), then press `keys`.
    static func terminalOnThePendingRead(width: Int, height: Int, then keys: String...) -> FakeTerminal {
        let terminal = FakeTerminal(width: width, height: height)
        terminal.press("g")
        for _ in 0..<Sample.pendingRead { terminal.press("j") }
        for key in keys { terminal.press(key) }
        return terminal
    }

    @Test func actionsRunAndReportBack() async throws {
        let actions = RecordingActions()
        let app = makeApp(actions: actions)
        app.enqueue(SampleTraffic.session())
        app.run(backend: Self.terminalOnThePendingRead(width: 80, height: 24, then: "f", "s", "enter", "Q"))
        // The actions run as tasks; give them a moment.
        for _ in 0..<100 where actions.calls.count < 2 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(actions.calls.contains("flush c1 7"))
        #expect(actions.calls.contains { $0.hasPrefix("save ninescope.pcapng ") })
    }

    /// Saving does not write over a file that exists unless asked (`:w! FILE`): `s` then enter on a name
    /// already used replaced that capture without a word. The app looks at the file system for the screen.
    @Test func savingOverAFileThatExistsNeedsTheBang() async throws {
        let dir = Peers.tempDir("save-over")
        let path = dir + "/kept.pcapng"
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: path))
        let actions = RecordingActions()
        let app = makeApp(actions: actions)
        app.enqueue(SampleTraffic.session())
        #expect(app.screen.fileExists?(path) == true && app.screen.fileExists?(dir + "/new.pcapng") == false)
        let terminal = FakeTerminal(width: 160, height: 24)
        terminal.press("s", "ctrl-u")
        terminal.type(path)
        terminal.press("enter", ":")
        terminal.type("w " + path)
        terminal.press("enter", "Q")
        app.run(backend: terminal)
        try await Task.sleep(for: .milliseconds(50))
        #expect(!actions.calls.contains { $0.hasPrefix("save ") })
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "keep me")
        // `:w! FILE` goes ahead (the fake save fails, as a full disk would: what matters is that it was tried);
        // a new name is saved at once.
        let second = FakeTerminal(width: 160, height: 24)
        second.press(":")
        second.type("w! " + path)
        second.press("enter", ":")
        second.type("save " + dir + "/new.pcapng")
        second.press("enter", "Q")
        app.run(backend: second)
        for _ in 0..<100 where actions.calls.count < 2 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(actions.calls.contains { $0.hasPrefix("save \(path) ") })
        #expect(actions.calls.contains { $0.hasPrefix("save \(dir)/new.pcapng ") })
    }

    /// `:w DIR` is not asked to be `:w! DIR` (which could only fail): the save is tried, and says why it
    /// cannot write there. Before, the message line offered `:w! /tmp writes over it`.
    @Test func savingToADirectoryIsTriedNotOfferedTheBang() async throws {
        let dir = Peers.tempDir("save-dir")
        let actions = RecordingActions()
        let app = makeApp(actions: actions)
        app.enqueue(SampleTraffic.session())
        #expect(app.screen.fileExists?(dir) == false)
        let terminal = FakeTerminal(width: 160, height: 24)
        terminal.press(":")
        terminal.type("w " + dir)
        terminal.press("enter", "Q")
        app.run(backend: terminal)
        for _ in 0..<100 where actions.calls.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        #expect(actions.calls.contains { $0.hasPrefix("save \(dir) ") }, "\(actions.calls)")
    }

    /// The app hands a flush's failure back to the screen, which unmarks the row.
    @Test func aFailedFlushIsUnmarkedByTheLoop() async throws {
        let actions = FailingFlushActions()
        let app = makeApp(actions: actions)
        app.enqueue(SampleTraffic.session())
        app.run(backend: Self.terminalOnThePendingRead(width: 132, height: 30, then: "f", "Q"))
        #expect(app.screen.model.store[Sample.pendingRead].flags.contains(.flushRequested))
        for _ in 0..<200 where !actions.called { try await Task.sleep(for: .milliseconds(10)) }
        try await Task.sleep(for: .milliseconds(50))
        let second = FakeTerminal(width: 132, height: 30)
        second.press("Q")
        app.run(backend: second)
        #expect(!app.screen.model.store[Sample.pendingRead].flags.contains(.flushRequested))
    }

    @Test func historiesPersistAcrossRuns() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ninescope-hist-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = InspectorApp.Configuration(filterHistoryPath: dir.appendingPathComponent("filters").path,
                                                commandHistoryPath: dir.appendingPathComponent("commands").path,
                                                environment: [:])
        let first = makeApp(configuration: config)
        let t1 = FakeTerminal(width: 80, height: 24)
        t1.press("/")
        t1.type("Twalk")
        t1.press("enter", "Q")
        first.run(backend: t1)
        let second = makeApp(configuration: config)
        #expect(second.screen.filterHistory.entries == ["Twalk"])
        let t2 = FakeTerminal(width: 80, height: 24)
        t2.press("/", "up", "enter", "Q")
        second.run(backend: t2)
        #expect(second.screen.model.view.filter == .term(.messageType(.twalk)))
    }

    @Test func themeCommandSwitchesTheme() {
        let app = makeApp()
        let terminal = FakeTerminal(width: 80, height: 24)
        terminal.press(":")
        terminal.type("theme light")
        terminal.press("enter", "Q")
        app.run(backend: terminal)
        #expect(app.screen.theme.name == "light")
    }
}
