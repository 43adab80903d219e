import Testing
import TUICore
import TerminalIO
#if canImport(Glibc)
import Glibc
#endif

/// Tests that drive the real C libraries (curses, libedit) on pseudo-terminals. Serialized:
/// both libraries keep process-wide terminal state and must never run on two threads at once.
@Suite(.serialized) enum RealTerminalTests {}

/// Smoke tests of the real curses backend on a pseudo-terminal made by the test: what it
/// writes is read back from the master side, and keys are typed into it.
extension RealTerminalTests {
@Suite struct CursesBackendPTYTests {
    final class PTY {
        let master: Int32
        let slave: Int32

        init(rows: UInt16, columns: UInt16) throws {
            var master: Int32 = -1, slave: Int32 = -1
            var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
            guard openpty(&master, &slave, nil, nil, &size) == 0 else { throw PTYError.openFailed }
            self.master = master
            self.slave = slave
            _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)
        }

        deinit {
            close(master)
            close(slave)
        }

        /// Everything the backend wrote so far (waits briefly for it to arrive).
        func drain() -> [UInt8] {
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            var fds = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            while poll(&fds, 1, 200) > 0 {
                let n = read(master, &buffer, buffer.count)
                if n <= 0 { break }
                bytes += buffer[0..<n]
            }
            return bytes
        }

        func type(_ text: String) {
            let bytes = Array(text.utf8)
            _ = bytes.withUnsafeBufferPointer { write(master, $0.baseAddress, $0.count) }
        }
    }

    enum PTYError: Error { case openFailed }

    static func contains(_ haystack: [UInt8], _ needle: String) -> Bool {
        let n = Array(needle.utf8)
        guard n.count <= haystack.count else { return false }
        return (0...(haystack.count - n.count)).contains { Array(haystack[$0..<($0 + n.count)]) == n }
    }

    static let options = CursesBackend.Options(colors: true, mouse: false, restoreTerminalOnExit: false,
                                               terminalType: "xterm-256color")

    @Test func drawsReadsKeysAndShutsDown() throws {
        let pty = try PTY(rows: 6, columns: 30)
        let backend = try CursesBackend(options: Self.options, input: pty.slave, output: pty.slave)
        #expect(backend.size == Size(width: 30, height: 6))
        #expect(backend.paletteSize == 256)
        _ = pty.drain()

        var grid = Grid(size: backend.size)
        grid.put(text: "hello 漢字", at: Point(x: 2, y: 1), style: Style(fg: .red))
        var renderer = Renderer()
        renderer.render(grid, to: backend)
        let output = pty.drain()
        #expect(Self.contains(output, "hello"))
        #expect(Self.contains(output, "漢字"))
        #expect(Self.contains(output, "\u{1B}[31m") || Self.contains(output, "\u{1B}[38;5;1m"))

        // Only the change goes out the second time.
        grid.put(text: "J", at: Point(x: 2, y: 1), style: Style(fg: .red))
        renderer.render(grid, to: backend)
        let update = pty.drain()
        #expect(Self.contains(update, "J"))
        #expect(!Self.contains(update, "ello"))

        pty.type("j")
        #expect(backend.readEvent(timeout: .seconds(2)) == .key(KeyChord("j")))
        pty.type("\u{1B}OA")  // xterm's up arrow in keypad-transmit mode (kcuu1)
        #expect(backend.readEvent(timeout: .seconds(2)) == .key(.up))
        pty.type("\u{06}")
        #expect(backend.readEvent(timeout: .seconds(2)) == .key(KeyChord("ctrl-f")!))
        pty.type("\u{1B}x")
        #expect(backend.readEvent(timeout: .seconds(2)) == .key(KeyChord("alt-x")!))
        pty.type("é")
        #expect(backend.readEvent(timeout: .seconds(2)) == .key(KeyChord("é")))
        #expect(backend.readEvent(timeout: .zero) == nil)

        // The app's flow for a line prompt: suspend curses, read a line with libedit, resume.
        backend.suspend()
        #expect(backend.isSuspended)
        let editor = EditLineEditor(prompt: ": ", input: pty.slave, output: pty.slave)
        pty.type("quit\r")
        #expect(editor.readLine() == "quit")
        backend.resume()
        #expect(!backend.isSuspended)
        let repaint = pty.drain()
        #expect(Self.contains(repaint, "Jello"))  // resume repaints the whole screen
        // Still in raw mode with colours after libedit had the terminal.
        pty.type("\u{03}")
        #expect(backend.readEvent(timeout: .seconds(2)) == .key(KeyChord("ctrl-c")!))
        grid.put(text: "blue", at: Point(x: 0, y: 3), style: Style(fg: .blue))
        renderer.render(grid, to: backend)
        let blue = pty.drain()
        #expect(Self.contains(blue, "\u{1B}[34m") || Self.contains(blue, "\u{1B}[38;5;4m"))

        backend.shutdown()
        #expect(backend.isShutDown)
        #expect(backend.readEvent(timeout: .zero) == nil)
    }

    /// Home and End as tmux sends them under TERM=xterm-256color, whose entry names `ESC O H` / `ESC O F`
    /// (and as rxvt sends them), besides the entry's own: one key each, not alt-[, a digit and `~`.
    @Test func homeAndEndAsTmuxSendsThem() throws {
        let pty = try PTY(rows: 3, columns: 20)
        let backend = try CursesBackend(options: Self.options, input: pty.slave, output: pty.slave)
        defer { backend.shutdown() }
        _ = pty.drain()
        for (typed, key) in [("\u{1B}[1~", KeyChord.home), ("\u{1B}[4~", .end), ("\u{1B}[7~", .home),
                             ("\u{1B}[8~", .end), ("\u{1B}OH", .home), ("\u{1B}OF", .end)] {
            pty.type(typed)
            #expect(backend.readEvent(timeout: .seconds(2)) == .key(key), "\(typed.debugDescription)")
            // Whatever else the sequence was read as.
            while let extra = backend.readEvent(timeout: .milliseconds(50)) {
                Issue.record("\(typed.debugDescription) also gave \(extra)")
            }
        }
    }

    @Test func noColorDrawsAttributesOnly() throws {
        let pty = try PTY(rows: 3, columns: 20)
        var options = Self.options
        options.colors = false
        let backend = try CursesBackend(options: options, input: pty.slave, output: pty.slave)
        defer { backend.shutdown() }
        #expect(backend.paletteSize == 0)
        _ = pty.drain()
        var grid = Grid(size: backend.size)
        grid.put(text: "plain", at: .zero, style: Style(fg: .red, attrs: .bold))
        var renderer = Renderer()
        renderer.render(grid, to: backend)
        let output = pty.drain()
        #expect(Self.contains(output, "plain"))
        #expect(!Self.contains(output, "\u{1B}[31m") && !Self.contains(output, "38;5"))
        #expect(Self.contains(output, "\u{1B}[1m") || Self.contains(output, "\u{1B}[0;1m"))  // bold
    }

    /// A terminal with no cursor addressing (TERM=dumb) is refused with a reason, not drawn blank.
    @Test func refusesATerminalThatCannotMoveTheCursor() throws {
        let pty = try PTY(rows: 24, columns: 80)
        let dumb = CursesBackend.Options(colors: true, mouse: false, restoreTerminalOnExit: false, terminalType: "dumb")
        let result = Result { try CursesBackend(options: dumb, input: pty.slave, output: pty.slave) }
        guard case .failure(let error) = result else {
            Issue.record("TERM=dumb was accepted")
            return
        }
        #expect("\(error)".contains("TERM=dumb cannot move the cursor"), "\(error)")
    }

    @Test func refusesANonTerminal() {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        #expect(throws: TerminalError.notATerminal) {
            _ = try CursesBackend(options: Self.options, input: fds[0], output: fds[1])
        }
    }
}
}
