import Foundation
import InspectorCore
import NinePSession
import TUICore

/// The inspector's main loop. It owns the terminal backend and uses it from one thread only (the thread
/// that calls `run`): it takes session events from an `AsyncStream` (a live proxy or a capture being
/// read), feeds them to the model in batches, reads keys, performs commands through the registry, and
/// redraws with the diffing renderer. Actions that talk to the network (inject, flush, save) run as
/// tasks; their results come back to the loop as status messages.
public final class InspectorApp: @unchecked Sendable {
    public struct Configuration: Sendable {
        /// Where filter and command histories are remembered between runs (nil: not remembered).
        public var filterHistoryPath: String?
        public var commandHistoryPath: String?
        /// Environment used to resolve `:theme` (NO_COLOR, NINESCOPE_THEMES).
        public var environment: [String: String]
        /// Most events fed to the model between two looks at the keyboard (also bounded by `ingestTime`).
        public var ingestBatch: Int
        /// Longest time spent feeding the model between two looks at the keyboard.
        public var ingestTime: Duration
        /// How long to wait for a key when there is nothing else to do.
        public var idleWait: Duration
        /// Receives timing lines (for benchmarks): `first-screen MS` when the list first fills the
        /// screen (or the source ended), `key NAME MS` for each key from reading it to the frame being
        /// presented, `loaded MS` when the source ended and every event was taken in; MS counts from
        /// `startedAt`.
        public var timing: (@Sendable (String) -> Void)?
        public var startedAt: ContinuousClock.Instant

        public init(filterHistoryPath: String? = nil, commandHistoryPath: String? = nil,
                    environment: [String: String] = ProcessInfo.processInfo.environment,
                    ingestBatch: Int = 50_000, ingestTime: Duration = .milliseconds(20),
                    idleWait: Duration = .milliseconds(100),
                    timing: (@Sendable (String) -> Void)? = nil, startedAt: ContinuousClock.Instant = .now) {
            self.filterHistoryPath = filterHistoryPath
            self.commandHistoryPath = commandHistoryPath
            self.environment = environment
            self.ingestBatch = max(1, ingestBatch)
            self.ingestTime = ingestTime
            self.idleWait = idleWait
            self.timing = timing
            self.startedAt = startedAt
        }
    }

    public private(set) var screen: InspectorScreen
    public let configuration: Configuration
    private let actions: InspectorActions?
    private var renderer = Renderer()
    private var grid = Grid(size: .zero)
    private var running = false
    /// When the screen was last drawn.
    private var lastDraw = ContinuousClock.now

    // Crossing threads: events and action results arrive here from other tasks.
    private let lock = NSLock()
    private var inbox: [SessionEvent] = []
    private var inboxHead = 0
    private var sourceFinished = false
    private var results: [(effect: InspectorEffect?, text: String, isError: Bool)] = []
    /// A new `recording` for the screen, set from outside the UI thread (nil: no change).
    private var recordingUpdate: String?? = nil
    /// Set by `requestQuit` (from any thread): the loop ends at its next turn.
    private var quitRequested = false

    public init(screen: InspectorScreen, actions: InspectorActions? = nil, configuration: Configuration = Configuration()) {
        var screen = screen
        if let path = configuration.filterHistoryPath, let text = try? String(contentsOfFile: path, encoding: .utf8) {
            screen.filterHistory = History(text: text)
        }
        if let path = configuration.commandHistoryPath, let text = try? String(contentsOfFile: path, encoding: .utf8) {
            screen.commandHistory = History(text: text)
        }
        if let actions {
            screen.requestCompleter = { actions.completions(for: $0) }
        }
        // A directory is no file to write over: `:w DIR` goes on to the save, which says why it cannot
        // (`cannot write /tmp: Is a directory`), rather than offering `:w! DIR`, which could only fail.
        if screen.fileExists == nil {
            screen.fileExists = { path in
                var isDirectory: ObjCBool = false
                return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
            }
        }
        self.screen = screen
        self.actions = actions
        self.configuration = configuration
    }

    // MARK: - Feeding (any thread)

    /// Queues events for the model (thread-safe).
    public func enqueue<S: Sequence>(_ events: S) where S.Element == SessionEvent {
        lock.lock()
        inbox.append(contentsOf: events)
        lock.unlock()
    }

    /// Events queued and not yet taken in by the model (thread-safe): sources may wait while it is large.
    public var queuedEventCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return inbox.count - inboxHead
    }

    /// Marks the event source as finished (thread-safe).
    public func finishSource() {
        lock.lock()
        sourceFinished = true
        lock.unlock()
    }

    /// Consumes a stream of event batches into the queue until it ends; run it in a task of its own.
    public func consume(_ stream: AsyncStream<[SessionEvent]>) async {
        for await batch in stream { enqueue(batch) }
        finishSource()
    }

    /// Shows `text` on the message line at the loop's next turn (thread-safe): news from outside the UI,
    /// such as a capture that stopped.
    public func report(_ text: String, isError: Bool) {
        post(nil, text, isError: isError)
    }

    /// Sets what the status line says of the capture being written (`REC 12 MB`; nil: nothing), at the
    /// loop's next turn (thread-safe).
    public func setRecording(_ text: String?) {
        lock.lock()
        recordingUpdate = .some(text)
        lock.unlock()
    }

    /// Ends the loop at its next turn, as the quit key would (thread-safe): a signal that stops the program
    /// in good order.
    public func requestQuit() {
        lock.lock()
        quitRequested = true
        lock.unlock()
    }

    private var isQuitRequested: Bool {
        lock.lock()
        defer { lock.unlock() }
        return quitRequested
    }

    private func takeRecording() -> String?? {
        lock.lock()
        defer { lock.unlock() }
        let update = recordingUpdate
        recordingUpdate = nil
        return update
    }

    private func post(_ effect: InspectorEffect?, _ text: String, isError: Bool) {
        lock.lock()
        results.append((effect, text, isError))
        lock.unlock()
    }

    private func takeEvents(max: Int) -> ([SessionEvent], more: Bool) {
        lock.lock()
        defer { lock.unlock() }
        let end = min(inbox.count, inboxHead + max)
        let batch = Array(inbox[inboxHead..<end])
        inboxHead = end
        if inboxHead == inbox.count {
            inbox.removeAll(keepingCapacity: true)
            inboxHead = 0
        } else if inboxHead > 1 << 16 && inboxHead * 2 > inbox.count {
            inbox.removeSubrange(0..<inboxHead)
            inboxHead = 0
        }
        return (batch, inboxHead < inbox.count)
    }

    private func takeResults() -> [(effect: InspectorEffect?, text: String, isError: Bool)] {
        lock.lock()
        defer { lock.unlock() }
        let r = results
        results.removeAll()
        return r
    }

    // MARK: - The loop (UI thread)

    /// Runs until the user quits, drawing to `backend`. Call on the thread that owns the backend.
    public func run(backend: TerminalBackend) {
        running = true
        var dirty = true
        var firstScreenLogged = false
        var loadedLogged = false
        while running {
            if isQuitRequested { break }
            // (Read before taking events: a source enqueues its last batch, then says it has finished.)
            let finishedBefore = isSourceFinished
            // Feed the model in slices until the batch or the time budget is used up.
            let ingestStart = ContinuousClock.now
            var taken = 0
            var more = false
            repeat {
                let (batch, left) = takeEvents(max: min(4096, configuration.ingestBatch - taken))
                more = left
                guard !batch.isEmpty else { break }
                screen.model.handle(batch)
                taken += batch.count
                dirty = true
            } while more && taken < configuration.ingestBatch
                && ContinuousClock.now - ingestStart < configuration.ingestTime
            if finishedBefore, !more, !screen.sourceEnded {
                screen.sourceEnded = true
                dirty = true
            }
            var scanning = false
            if !screen.model.isScanComplete {
                screen.model.continueScan()
                scanning = !screen.model.isScanComplete
                dirty = true
            }
            for r in takeResults() {
                if let effect = r.effect {
                    screen.finished(effect, text: r.text, isError: r.isError)
                } else {
                    screen.setMessage(r.text, isError: r.isError)
                }
                dirty = true
            }
            if let update = takeRecording(), update != screen.recording {
                screen.recording = update
                dirty = true
            }
            // A pending request's age counts up with no traffic to redraw for: refresh it each second.
            if !dirty, screen.isLive, ContinuousClock.now - lastDraw >= .seconds(1), screen.showsPendingAge {
                dirty = true
            }
            if dirty {
                draw(backend)
                dirty = false
            }
            if let timing = configuration.timing {
                let finished = isSourceFinished && !more
                if !firstScreenLogged, finished || screen.model.view.count > screen.bodySize.height {
                    firstScreenLogged = true
                    timing("first-screen \(elapsedMilliseconds())")
                }
                if !loadedLogged, finished {
                    loadedLogged = true
                    timing("loaded \(elapsedMilliseconds())")
                }
            }
            let wait: Duration = more || scanning ? .zero : configuration.idleWait
            guard let event = backend.readEvent(timeout: wait) else { continue }
            let keyStart = ContinuousClock.now
            var names = [Self.name(of: event)]
            perform(screen.handle(event), backend: backend)
            // Drain keys already typed before redrawing (keeps key repeat smooth).
            while running, let next = backend.readEvent(timeout: .zero) {
                names.append(Self.name(of: next))
                perform(screen.handle(next), backend: backend)
            }
            if running {
                draw(backend)
                dirty = false
                if let timing = configuration.timing {
                    let ms = Self.milliseconds(ContinuousClock.now - keyStart)
                    timing("key \(names.joined(separator: ",")) \(ms)")
                }
            }
        }
    }

    private var isSourceFinished: Bool {
        lock.lock()
        defer { lock.unlock() }
        return sourceFinished
    }

    private func elapsedMilliseconds() -> String { Self.milliseconds(ContinuousClock.now - configuration.startedAt) }

    /// The wall clock in ns since the epoch, the clock the live traffic's times are read with (to a fraction
    /// of a microsecond: enough for an age shown to three digits).
    static func wallClock() -> Int64 { Int64(Date().timeIntervalSince1970 * 1e9) }

    /// `0.4 s`, `12.3 s`, `95 s`.
    static func seconds(_ d: Duration) -> String {
        let tenths = Int(d.components.seconds * 10 + d.components.attoseconds / 100_000_000_000_000_000)
        return tenths < 1000 ? "\(tenths / 10).\(tenths % 10) s" : "\(tenths / 10) s"
    }

    static func milliseconds(_ d: Duration) -> String {
        let (s, atto) = d.components
        let micros = s * 1_000_000 + atto / 1_000_000_000_000
        return "\(micros / 1000).\(String(micros % 1000 / 100))"
    }

    static func name(of event: InputEvent) -> String {
        switch event {
        case .key(let k): k.description
        case .resize(let s): "resize:\(s)"
        case .mouse: "mouse"
        case .stop: "stop"
        }
    }

    /// Runs `run(backend:)` on a thread of its own (the backend is made there, and `tearDown` runs there
    /// after the loop) and returns when it ends.
    public func runOnOwnThread(makeBackend: @escaping @Sendable () throws -> TerminalBackend,
                               tearDown: @escaping @Sendable (TerminalBackend) -> Void = { _ in }) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            let thread = Thread { [self] in
                do {
                    let backend = try makeBackend()
                    self.run(backend: backend)
                    tearDown(backend)
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.name = "ninescope-ui"
            thread.start()
        }
    }

    /// Changes the title bar's text (before `run`, or from the UI thread).
    public func setTitle(_ title: String) { screen.title = title }

    /// Changes the theme and says why on the message line (before `run`, or from the UI thread).
    public func useTheme(_ theme: Theme, saying why: String) {
        screen.theme = theme
        screen.setMessage(why)
    }

    /// Stops the loop after the current iteration (from the UI thread).
    public func stop() { running = false }

    private func draw(_ backend: TerminalBackend) {
        let size = backend.size
        if grid.size != size { grid = Grid(size: size) }
        if screen.isLive { screen.now = Self.wallClock() }
        lastDraw = ContinuousClock.now
        let cursor = screen.render(into: &grid)
        renderer.render(grid, to: backend, cursor: cursor)
    }

    private func perform(_ effects: [InspectorEffect], backend: TerminalBackend) {
        for effect in effects {
            switch effect {
            case .quit:
                running = false
            case .redraw:
                renderer.invalidate()
            case .suspend(let wholeGroup):
                let stopped = ContinuousClock.now
                guard backend.stopProcess(wholeGroup: wholeGroup) else {
                    screen.setMessage("not suspended: no shell's job control here would bring ninescope back (fg)",
                                      isError: true)
                    continue
                }
                renderer.invalidate()
                screen.setMessage("resumed after " + Self.seconds(ContinuousClock.now - stopped)
                                  + (screen.isLive ? "; the proxy was stopped too: its clients waited" : ""))
                draw(backend)   // at once, whatever keys wait: the shell has written over the screen
            case .loadTheme(let spec):
                do {
                    screen.theme = try ThemeLoader.load(spec, environment: configuration.environment)
                    screen.setMessage("theme \(screen.theme.name)")
                } catch {
                    screen.setMessage("\(error)", isError: true)
                }
            case .historyChanged:
                saveHistories()
            case .flush(let conn, let tag, _):
                launch(effect) { actions, tracker in try await actions.flush(tag: tag, conn: conn, tracker: tracker) }
            case .inject(let conn, let request):
                launch(effect) { actions, tracker in try await actions.inject(request, conn: conn, tracker: tracker) }
            case .save(let path):
                launch(effect) { actions, tracker in try await actions.save(to: path, tracker: tracker) }
            case .faults(let spec):
                launch(effect) { actions, _ in try actions.faults(spec) }
            }
        }
    }

    private func launch(_ effect: InspectorEffect,
                        _ body: @escaping @Sendable (InspectorActions, SessionTracker) async throws -> String) {
        guard let actions else {
            screen.finished(effect, text: "not available here", isError: true)
            return
        }
        let tracker = screen.model.tracker
        Task { [self] in
            do {
                let text = try await body(actions, tracker)
                self.post(effect, text, isError: false)
            } catch {
                self.post(effect, "\(error)", isError: true)
            }
        }
    }

    private func saveHistories() {
        if let path = configuration.filterHistoryPath { write(screen.filterHistory.text, to: path) }
        if let path = configuration.commandHistoryPath { write(screen.commandHistory.text, to: path) }
    }

    private func write(_ text: String, to path: String) {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        try? text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}
