import Foundation
import Testing
import TUICore
import TerminalIO
#if canImport(Glibc)
import Glibc
#endif

extension RealTerminalTests {
@Suite struct EditLineEditorTests {
    /// A pipe with `text` written and the write end closed.
    static func pipeReading(_ text: String) -> Int32 {
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0)
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBufferPointer { write(fds[1], $0.baseAddress, $0.count) }
        close(fds[1])
        return fds[0]
    }

    @Test func readsPlainLinesFromAPipe() {
        let input = Self.pipeReading("walk 1 2 usr\nread 2 0 10\r\n\nlast without newline")
        defer { close(input) }
        let devNull = open("/dev/null", O_WRONLY)
        defer { close(devNull) }
        let editor = EditLineEditor(prompt: "9p> ", input: input, output: devNull)
        #expect(!editor.isInteractive)
        var lines: [String] = []
        while let line = editor.readLine() { lines.append(line) }
        #expect(lines == ["walk 1 2 usr", "read 2 0 10", "", "last without newline"])
        #expect(editor.readLine() == nil)
    }

    @Test func historySkipsBlanksAndRepeatsAndRoundTripsThroughAFile() throws {
        let editor = EditLineEditor(interactive: false)
        editor.addHistory("walk 1 2")
        editor.addHistory("walk 1 2")
        editor.addHistory("   ")
        editor.addHistory("clunk 2")
        #expect(editor.historyEntries == ["walk 1 2", "clunk 2"])
        let path = "/tmp/ninescope-tui-history-\(getpid())"
        defer { unlink(path) }
        try editor.saveHistory(to: path)
        let other = EditLineEditor(interactive: false)
        other.addHistory("something else")
        try other.loadHistory(from: path)
        #expect(other.historyEntries == ["walk 1 2", "clunk 2"])
        // A missing file is not an error and keeps the history.
        try other.loadHistory(from: path + ".missing")
        #expect(other.historyEntries.count == 2)
        #expect(throws: LineEditorError.self) { try other.saveHistory(to: "/nonexistent-dir/history") }
    }

    @Test func completesWithTabOnATerminal() throws {
        var master: Int32 = -1, slave: Int32 = -1
        var size = winsize(ws_row: 24, ws_col: 80, ws_xpixel: 0, ws_ypixel: 0)
        #expect(openpty(&master, &slave, nil, nil, &size) == 0)
        defer { close(master); close(slave) }
        let editor = EditLineEditor(prompt: "9p> ", input: slave, output: slave)
        #expect(editor.isInteractive)
        var requests: [(String, Int)] = []
        editor.completer = { line, cursor in
            requests.append((line, cursor))
            return ["walk", "write", "wstat"]
        }
        // Typed ahead: "wa", tab (unique: walk + space), "1", enter.
        let typed = Array("wa\t1\r".utf8)
        _ = typed.withUnsafeBufferPointer { write(master, $0.baseAddress, $0.count) }
        let line = editor.readLine()
        #expect(line == "walk 1")
        #expect(requests.count == 1)
        #expect(requests.first?.0 == "wa" && requests.first?.1 == 2)
    }

    /// ctrl-c while a line is edited is a key (the terminal sends no SIGINT then): the line is
    /// abandoned, shown with ^C after it, and the next line is read as usual.
    @Test func ctrlCAbandonsTheLine() throws {
        var master: Int32 = -1, slave: Int32 = -1
        var size = winsize(ws_row: 24, ws_col: 80, ws_xpixel: 0, ws_ypixel: 0)
        #expect(openpty(&master, &slave, nil, nil, &size) == 0)
        defer { close(master); close(slave) }
        let editor = EditLineEditor(prompt: "9p> ", input: slave, output: slave)
        /// Types `text` once libedit has the terminal in its editing mode (signal characters off).
        func typeWhenEditing(_ text: String) {
            let (s, m) = (slave, master)
            Thread.detachNewThread {
                var t = termios()
                for _ in 0..<500 {
                    if tcgetattr(s, &t) == 0 && t.c_lflag & tcflag_t(ISIG) == 0 { break }
                    usleep(10_000)
                }
                let bytes = Array(text.utf8)
                _ = bytes.withUnsafeBufferPointer { write(m, $0.baseAddress, $0.count) }
            }
        }
        typeWhenEditing("vers\u{3}")
        #expect(editor.readLine() == "")
        typeWhenEditing("next\r")
        #expect(editor.readLine() == "next")
        // What the terminal showed: the abandoned line with ^C, then the next one.
        var shown = [UInt8](repeating: 0, count: 4096)
        let n = read(master, &shown, shown.count)
        let screen = String(decoding: shown.prefix(max(0, n)), as: UTF8.self)
        // (libedit may place the cursor with an escape sequence between the two)
        let typed = try #require(screen.range(of: "9p> vers"), "\(screen.debugDescription)")
        #expect(screen[typed.upperBound...].contains("^C"), "\(screen.debugDescription)")
        #expect(editor.historyEntries.isEmpty)
    }

    @Test func signalKeysAreNamedAsLibeditBindsThem() {
        #expect(EditLineEditor.keyName(3) == "^C")
        #expect(EditLineEditor.keyName(26) == "^Z")
        #expect(EditLineEditor.keyName(28) == "^\\")
        #expect(EditLineEditor.keyName(127) == "^?")
        #expect(EditLineEditor.keyName(0) == nil)
        #expect(EditLineEditor.keyName(0x80) == nil)
    }
}
}
