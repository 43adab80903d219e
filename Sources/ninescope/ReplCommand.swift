import ArgumentParser
import Foundation
import NinePWire
import NinePNIO
import NinePREPL
import TUICore
import TerminalIO

/// `ninescope repl ADDR [--script FILE] [--dialect D] [--msize N] [--history FILE]`: hand-crafted requests.
struct ReplCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repl",
        abstract: "Send hand-crafted 9P requests to a server and see every reply.",
        discussion: """
        Friendly forms (walk 0 1 usr bin, lopen 1 rdwr|create, write 1 0 hello), raw forms naming every \
        field (Twalk fid=0 newfid=1 wname=usr,bin tag=5), raw bytes (hex …), conveniences (ls, cat, \
        stat PATH, put LOCAL REMOTE), expect lines (expect Rlerror ENOENT), fids, pending, set datalimit N, \
        reconnect. A trailing & sends without waiting; a leading - lets a script go on after an error. \
        Type help inside the REPL for every command and help Tname for a message's fields. ctrl-c \
        abandons the line being typed, or stops waiting for a reply (the request stays pending: flush \
        TAG cancels it); ctrl-z and fg come back to the line; quit or ctrl-d leaves.

        With --script, or with standard input not a terminal, lines run as a script: the exit status is \
        0 when everything passed, 1 at the first failed expect, failed command or unexpected error reply \
        (one not followed by an expect line and not marked with -), 2 at a line that does not parse.

        Examples:
          ninescope repl 127.0.0.1:5640
          ninescope repl 'unix!/tmp/9p.sock' --script examples/basic.9p
          echo 'version' | ninescope repl 'tcp!localhost!564' --dialect 9P2000.u
        """
    )

    @Argument(help: "The server: HOST:PORT, tcp!HOST!PORT, [V6]:PORT, unix!/path or unix:/path.") var address: String
    @Option(help: ArgumentHelp("Run the lines of FILE as a script and exit with its status.", valueName: "FILE"))
    var script: String?
    @Option(help: ArgumentHelp("Dialect proposed by version and assumed until one is negotiated (9P2000, 9P2000.u, 9P2000.L).",
                               valueName: "DIALECT"))
    var dialect = "9P2000.L"
    @Option(help: ArgumentHelp("msize proposed by version.", valueName: "N")) var msize: UInt32 = 131_096
    @Option(help: ArgumentHelp("History file (default ~/.ninescope_history).", valueName: "FILE")) var history: String?
    @Flag(help: "Do not read or write a history file.") var noHistory = false
    @Option(help: ArgumentHelp("Seconds to wait for a reply before giving up on it (0: forever).",
                               valueName: "SECONDS"))
    var timeout: Double = 30
    @Option(help: ArgumentHelp("Payload bytes shown on data lines (set datalimit N changes it).", valueName: "N"))
    var datalimit = 256
    @Option(name: .customLong("define"),
            help: ArgumentHelp("Replace ${NAME} with VALUE in every line (repeatable; $$ is a literal $).",
                               valueName: "NAME=VALUE"))
    var definitions: [String] = []

    func validate() throws {
        _ = try Dialect.option(dialect)
        _ = try Address.option(address)
        _ = try scriptVariables()
    }

    private func scriptVariables() throws -> ScriptVariables {
        do { return try ScriptVariables(definitions: definitions) } catch { throw ValidationError("--define: \(error)") }
    }

    func run() async throws {
        let dialect = try Dialect.option(self.dialect)
        let addr = try Address.option(address)
        let interactive = script == nil && isatty(0) != 0
        let variables = try scriptVariables()
        let out = LineOutput(lineBuffered: true)
        // At the terminal, replies and notices that come while a line is typed (the reply to a request sent
        // with &, a connection lost) are shown above the line, not written into it.
        let notices: EditLineNotices? = interactive ? EditLineNotices() : nil
        var env = ReplEngine.Environment(
            connect: { try await NIOReplTransport.connect(addr) },
            now: { WallClock.nowNanos() },
            sleep: { ns in try? await Task.sleep(nanoseconds: UInt64(max(0, ns))) },
            readLocalFile: { path in
                guard let data = FileManager.default.contents(atPath: path) else { throw ReplFileError(path: path) }
                return [UInt8](data)
            },
            output: { line in
                if let notices {
                    notices.write(line.text + "\n", to: line.kind == .error ? STDERR_FILENO : STDOUT_FILENO)
                } else if line.kind == .error { out.flush(); printError(line.text) } else { out.write(line.text) }
            })
        env.terminalColumns = { TerminalEnvironment.columns(STDOUT_FILENO) }
        let config = ReplEngine.Configuration(dialect: dialect, msize: msize, dataLimit: max(0, datalimit),
                                              replyTimeout: Int64(max(0, timeout) * 1e9))
        let engine = ReplEngine(configuration: config, environment: env)
        do { try await engine.connect() } catch {
            printError("ninescope: cannot connect to \(addr): \(error)")
            throw ExitCode(1)
        }
        if let script {
            // A file is read whole, and its variables checked, before anything is sent.
            guard let data = FileManager.default.contents(atPath: script) else {
                printError("ninescope: cannot read \(script)")
                throw ExitCode(2)
            }
            // Lines end at LF, a CR before it dropped (a file written on Windows); split as bytes, since in a
            // String "\r\n" is one Character, which a split at "\n" does not see.
            var lines = [UInt8](data).split(separator: 0x0A, omittingEmptySubsequences: false)
                .map { String(decoding: $0.last == 0x0D ? $0.dropLast() : $0, as: UTF8.self) }
            if lines.last == "" { lines.removeLast() }
            for i in lines.indices where !lines[i].trimmingCharacters(in: .whitespaces).hasPrefix("#") {
                do { lines[i] = try variables.expand(lines[i]) } catch {
                    printError("\(script):\(i + 1): \(error)")
                    await engine.close()
                    throw ExitCode(2)
                }
            }
            let status = await engine.runScript(lines, name: script)
            await engine.close()
            out.flush()
            if status != 0 { throw ExitCode(status) }
            return
        }
        if !interactive {
            // Piped standard input: each line runs as it arrives (a program that talks to the REPL through
            // a pipe sees each reply before it writes its next line).
            let status = await engine.runScript(Self.standardInputLines(), name: "stdin", variables: variables)
            await engine.close()
            out.flush()
            if status != 0 { throw ExitCode(status) }
            return
        }
        let historyPath = noHistory ? nil
            : (history ?? ProcessInfo.processInfo.environment["HOME"].map { $0 + "/.ninescope_history" })
        out.write("connected to \(addr); help lists the commands, quit or ctrl-d leaves")
        // ctrl-c while a command waits for a reply stops the wait, not the REPL (while a line is
        // edited it is a key that abandons the line).
        let interrupts = SignalWatch(signals: [SIGINT])
        Task.detached {
            while true {
                _ = await interrupts.next()
                notices?.write("\n", to: STDERR_FILENO)  // ends the line the terminal's ^C is on
                if await engine.interruptWaits().isEmpty {
                    notices?.write("ninescope: ctrl-c: nothing is waiting for a reply; quit or ctrl-d leaves\n",
                                   to: STDERR_FILENO)
                }
            }
        }
        let reader = LineReaderThread(engine: engine, historyPath: historyPath, notices: notices)
        var quitByCommand = false
        while let raw = await reader.next() {
            let line: String
            do { line = try variables.expand(raw) } catch {
                printError("ninescope: \(error)")
                continue
            }
            let outcome = await engine.execute(line)
            if outcome == .quit { quitByCommand = true; break }
        }
        // ctrl-d leaves the cursor after libedit's "^D": end that line, so that the shell's
        // prompt starts on a line of its own.
        if !quitByCommand { out.write("") }
        reader.stop()
        await engine.close()
        out.flush()
    }
}

struct ReplFileError: Error, CustomStringConvertible {
    var path: String
    var description: String { "cannot read \(path)" }
}

/// NinePNIO's client connection as a `NinePTransport`: every received frame goes to `incoming`.
struct NIOReplTransport: NinePTransport {
    let connection: NinePClientConnection
    let incoming: AsyncStream<TransportEvent>

    /// Frames go from the connection's event loop straight to `incoming` (no task in between).
    static func connect(_ address: Address) async throws -> NIOReplTransport {
        let (incoming, feed) = AsyncStream.makeStream(of: TransportEvent.self)
        let c = try await NinePClientConnection.connect(address, maxFrameSize: NineP.defaultMaxFrameSize) { d in
            switch d {
            case .frame(let f): feed.yield(.frame(f.bytes, receivedAt: f.at))
            case .closed(let why):
                feed.yield(.closed(reason: why))
                feed.finish()
            }
        }
        return NIOReplTransport(connection: c, incoming: incoming)
    }

    func send(_ frame: [UInt8]) async throws { try await connection.send(frame: frame) }
    func post(_ frame: [UInt8]) { connection.post(frame: frame) }
    func close() async { await connection.close() }
}

extension ReplCommand {
    /// The lines of standard input as they arrive, read by a thread of their own (a blocking read there
    /// holds no task); ends at end of file.
    static func standardInputLines() -> AsyncStream<String> {
        let (stream, feed) = AsyncStream.makeStream(of: String.self)
        let thread = Thread {
            while let line = readLine(strippingNewline: true) { feed.yield(line) }
            feed.finish()
        }
        thread.name = "ninescope-stdin"
        thread.start()
        return stream
    }
}

/// Runs libedit on a thread of its own, so a blocked `readLine` (and completion waiting for the
/// engine's directory listings) never holds a cooperative thread.
final class LineReaderThread: @unchecked Sendable {
    private let engine: ReplEngine
    private let historyPath: String?
    private let notices: EditLineNotices?
    private let lock = NSCondition()
    private var wanted = false
    private var stopping = false
    private var pending: CheckedContinuation<String?, Never>?
    private var thread: Thread?

    init(engine: ReplEngine, historyPath: String?, notices: EditLineNotices?) {
        self.engine = engine
        self.historyPath = historyPath
        self.notices = notices
        let t = Thread { [unowned self] in self.loop() }
        t.name = "ninescope-repl-input"
        thread = t
        t.start()
    }

    /// The next line, nil at end of input.
    func next() async -> String? {
        await withCheckedContinuation { (c: CheckedContinuation<String?, Never>) in
            lock.lock()
            pending = c
            wanted = true
            lock.signal()
            lock.unlock()
        }
    }

    func stop() {
        lock.lock()
        stopping = true
        lock.signal()
        lock.unlock()
    }

    private func loop() {
        let editor = EditLineEditor(programName: "ninescope", prompt: "9p> ")
        editor.notices = notices
        if let historyPath { try? editor.loadHistory(from: historyPath) }
        let engine = self.engine
        editor.completer = { line, cursor in
            let box = CompletionBox()
            let done = DispatchSemaphore(value: 0)
            Task {
                box.value = await engine.complete(line: line, cursor: cursor)
                done.signal()
            }
            done.wait()
            return box.value
        }
        while true {
            lock.lock()
            while !wanted && !stopping { lock.wait() }
            if stopping { lock.unlock(); break }
            wanted = false
            lock.unlock()
            let line = editor.readLine()
            if let line, !line.allSatisfy({ $0 == " " }) {
                editor.addHistory(line)
                if let historyPath { try? editor.saveHistory(to: historyPath) }
            }
            lock.lock()
            let c = pending
            pending = nil
            lock.unlock()
            c?.resume(returning: line)
            if line == nil { break }
        }
    }
}

private final class CompletionBox: @unchecked Sendable {
    var value: [String] = []
}
