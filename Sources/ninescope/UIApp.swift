import ArgumentParser
import Foundation
import Synchronization
import InspectorCore
import InspectorUI
import NinePSession
import NinePWire
import TerminalIO
import TUICore

/// Wiring shared by the commands that open the inspector UI (`proxy`, `demo`, `view`): theme, history
/// files, local time, the curses backend on its own thread, and the benchmark timing log.
enum UIApp {
    /// Where filter and command histories are kept: `$XDG_STATE_HOME/ninescope` or
    /// `~/.local/state/ninescope` (nil when neither is known).
    static func historyDirectory(_ env: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let d = env["XDG_STATE_HOME"], !d.isEmpty { return d + "/ninescope" }
        if let home = env["HOME"], !home.isEmpty { return home + "/.local/state/ninescope" }
        return nil
    }

    /// The theme `--theme` asks for (or `$NINESCOPE_THEME`, or the default), NO_COLOR applied.
    static func theme(_ spec: String?) throws -> Theme {
        let env = ProcessInfo.processInfo.environment
        let chosen = spec ?? env["NINESCOPE_THEME"]
        themeChosen.withLock { $0 = !(chosen ?? "").isEmpty }
        do {
            return try ThemeLoader.load(chosen, environment: env)
        } catch {
            throw UIAppError("\(error)")
        }
    }

    /// Whether the UI's theme was asked for (`--theme`, `$NINESCOPE_THEME`) rather than the default.
    private static let themeChosen = Mutex(false)
    /// The theme for a terminal of fewer than 256 colours when none was asked for: the default's shades
    /// of grey fall to black or white there (the selected row's background to the screen's own).
    static let fewColoursTheme = "16color"

    /// `--theme`, checked when the command starts whether or not the UI opens (a name mistyped for a run
    /// whose output went to a pipe is said, not ignored).
    static func checkTheme(_ spec: String?) throws {
        guard let spec else { return }
        do { _ = try ThemeLoader.load(spec, environment: ProcessInfo.processInfo.environment) } catch {
            throw ValidationError("--theme: \(error)")
        }
    }

    /// Wall-clock times in the local time zone.
    static var localTime: TimeFormat { .clock(utcOffsetSeconds: TimeZone.current.secondsFromGMT()) }

    /// The app's configuration: histories, and a timing log when `NINESCOPE_UI_TIMING=FILE` is set.
    static func configuration(startedAt: ContinuousClock.Instant = .now) -> InspectorApp.Configuration {
        let env = ProcessInfo.processInfo.environment
        let dir = historyDirectory(env)
        var timing: (@Sendable (String) -> Void)?
        if let path = env["NINESCOPE_UI_TIMING"], !path.isEmpty {
            let log = TimingLog(path: path)
            timing = { log.write($0) }
        }
        return InspectorApp.Configuration(filterHistoryPath: dir.map { $0 + "/filters" },
                                          commandHistoryPath: dir.map { $0 + "/commands" },
                                          environment: env, timing: timing, startedAt: startedAt)
    }

    /// What a command that cannot open the UI prints instead, said after the reason: `view` has no
    /// --headless, only a pipe.
    static let linesInsteadLive = "or use --headless (or a pipe) for lines"
    static let linesInsteadView = "or send the output to a pipe for lines, as `ninescope decode` prints them"

    /// Runs the UI on the terminal until the user quits; `instead` (after the reason it cannot start) says
    /// how to have lines instead.
    static func run(_ app: InspectorApp, instead: String = linesInsteadLive) async throws {
        do {
            let keepTheme = themeChosen.withLock { $0 }
            try await app.runOnOwnThread(makeBackend: {
                let backend = try CursesBackend()
                if !keepTheme, (1..<256).contains(backend.paletteSize),
                   let theme = try? ThemeLoader.load(fewColoursTheme, environment: ProcessInfo.processInfo.environment) {
                    app.useTheme(theme, saying: "theme \(fewColoursTheme): this terminal has \(backend.paletteSize) "
                                 + "colours (--theme chooses another)")
                }
                return backend
            }, tearDown: { ($0 as? CursesBackend)?.shutdown() })
        } catch let error as TerminalError {
            throw UIAppError("\(error), \(instead)")  // TerminalError says "cannot start the terminal UI: …" itself
        }
    }

    /// A tracker for live sessions: injection's reserved tag and fid ranges are known, so a client that
    /// uses them is reported.
    static func liveTracker() -> SessionTracker {
        SessionTracker(configuration: .init(reservedTags: TagAllocator.defaultRange,
                                            reservedFids: FidAllocator.defaultRange))
    }
}

/// A UI setup failure, printed as `Error: <text>`.
struct UIAppError: Error, CustomStringConvertible {
    var description: String
    init(_ text: String) { description = text }
}

/// Appends timing lines to a file (benchmarks read it).
final class TimingLog: @unchecked Sendable {
    private let lock = NSLock()
    private let handle: FileHandle?

    init(path: String) {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        handle = FileHandle(forWritingAtPath: path)
    }

    func write(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        handle?.write(Data((line + "\n").utf8))
    }
}

/// Saving a session to pcapng, for every UI.
struct CaptureSaver {
    /// Files a save must not replace, and what each is (`the capture being recorded (--capture)`).
    typealias Protected = (paths: [String], what: String)

    /// Writes the session to `path` (a new file put in place of any old one), unless `path` names one of
    /// the `protected` files however it is spelled: the live capture (the recorder would go on writing to
    /// the replaced file, unlinked, and lose everything after) or a capture being viewed.
    static func save(_ tracker: SessionTracker, to path: String, protected: Protected? = nil) throws -> String {
        if let protected, let target = fileID(path), protected.paths.contains(where: { fileID($0) == target }) {
            throw InspectorActionError("\(path) is \(protected.what): saving over it would lose it; "
                                       + "save to another file")
        }
        let bytes = CaptureExport.pcapng(from: tracker, toolVersion: NinescopeVersion.string)
        do {
            try FileAccess.write(Data(bytes), toFile: path)
        } catch {
            throw InspectorActionError(error.description)
        }
        return "saved \(tracker.messageCount) messages to \(path) (\(ProxyTrace.bytes(bytes.count)))"
    }

    /// The device and inode of an existing file, nil when there is none.
    private static func fileID(_ path: String) -> [UInt64]? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return [UInt64(st.st_dev), UInt64(st.st_ino)]
    }
}

/// Actions for a capture viewed offline: saving works (not over the files viewed); there is no live session
/// to act on.
struct OfflineActions: InspectorActions {
    var viewed: [String] = []

    func inject(_ request: String, conn: ConnectionID, tracker: SessionTracker) async throws -> String {
        throw InspectorActionError("injection needs a live session")
    }

    func flush(tag: Tag, conn: ConnectionID, tracker: SessionTracker) async throws -> String {
        throw InspectorActionError("flush needs a live session")
    }

    func save(to path: String, tracker: SessionTracker) async throws -> String {
        try CaptureSaver.save(tracker, to: path, protected: (viewed, "a capture being viewed"))
    }
}
