import CEditLine
import Synchronization
import TUICore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A `LineEditor` on libedit: emacs-style editing, history (optionally kept in a file) and tab
/// completion through `completer`.
///
/// When the input or output is not a terminal (a script piped in), lines are read plainly with
/// no prompt and no editing; history still records what `addHistory` is given.
///
/// Not thread-safe and not `Sendable`: use it from one thread. Do not use it while a
/// `CursesBackend` owns the screen: call the backend's `suspend()` first and `resume()` after.
/// While a line is edited the terminal's signal characters are keys: ctrl-c abandons the line (it
/// stays on the screen with `^C` after it, as in a shell) and `readLine()` returns an empty line;
/// ctrl-z stops the process as a shell's job and `fg` brings the line back; ctrl-\ quits. ctrl-d
/// on an empty line ends input (`readLine()` returns nil).
public final class EditLineEditor: LineEditor {
    public var prompt: String {
        didSet { setPromptBuffer() }
    }
    public var completer: ((_ line: String, _ cursor: Int) -> [String])?
    public var wordBreakCharacters: Set<Character> = LineCompletion.defaultBreaks
    /// Add a space after a unique completion (see `LineCompletion.complete`).
    public var appendSpaceAfterCompletion = true
    /// True when libedit is in use (input and output are terminals).
    public let isInteractive: Bool
    /// Where other threads write while a line may be edited (see `EditLineNotices`).
    public var notices: EditLineNotices?

    private let history: OpaquePointer  // History *
    private let programName: String
    private var promptBuffer: UnsafeMutablePointer<CChar>
    private let inFile: UnsafeMutablePointer<FILE>
    private let outFile: UnsafeMutablePointer<FILE>
    private var ownedFiles: [UnsafeMutablePointer<FILE>] = []
    /// Set by ctrl-c during a read: the line is abandoned.
    private var cancelled = false

    /// - Parameters:
    ///   - programName: the name libedit uses to pick settings from `~/.editrc`.
    ///   - historySize: entries kept in memory (and saved).
    ///   - interactive: force line editing on or off; by default it is on when `input` and
    ///     `output` are terminals.
    ///   - input, output: file descriptors to read lines from and to echo/prompt on (default
    ///     stdin and stdout; other descriptors are duplicated, not closed).
    public init(programName: String = "ninescope", prompt: String = "> ", historySize: Int = 1000,
                interactive: Bool? = nil, input: Int32 = 0, output: Int32 = 1) {
        self.prompt = prompt
        self.programName = programName
        self.promptBuffer = strdup(prompt)
        self.isInteractive = interactive ?? (isatty(input) != 0 && isatty(output) != 0)
        var owned: [UnsafeMutablePointer<FILE>] = []
        func file(_ fd: Int32, standard: UnsafeMutablePointer<FILE>?, mode: String) -> UnsafeMutablePointer<FILE> {
            if let standard, fileno(standard) == fd { return standard }
            guard let opened = fdopen(dup(fd), mode) else { fatalError("EditLineEditor: cannot open fd \(fd)") }
            owned.append(opened)
            return opened
        }
        self.inFile = file(input, standard: ns_stdin(), mode: "r")
        self.outFile = file(output, standard: ns_stdout(), mode: "w")
        self.ownedFiles = owned
        guard let history = history_init() else { fatalError("libedit: history_init failed (out of memory)") }
        self.history = history
        _ = ns_history_setsize(history, Int32(clamping: historySize))
        _ = ns_history_setunique(history, 1)
    }

    deinit {
        history_end(history)
        free(promptBuffer)
        ownedFiles.forEach { fclose($0) }
    }

    /// A libedit instance for one `readLine()`. libedit saves the tty modes when it starts and
    /// puts them back when it ends, so it must not outlive the read: a long-lived instance
    /// torn down later (say, after curses took the terminal back) would undo curses' raw mode.
    private func startEditLine() -> OpaquePointer? {
        TerminalEnvironment.ensureUTF8Locale()
        guard let editLine = el_init(programName, inFile, outFile, ns_stderr()) else { return nil }
        _ = ns_el_set_clientdata(editLine, Unmanaged.passUnretained(self).toOpaque())
        _ = ns_el_set_editor(editLine, "emacs")
        _ = ns_el_set_signal(editLine, 1)
        _ = ns_el_set_hist(editLine, history)
        _ = ns_el_set_prompt(editLine, { editLine in
            guard let editLine, let editor = EditLineEditor.from(editLine) else { return nil }
            return editor.promptBuffer
        })
        _ = ns_el_addfn(editLine, "ns-complete", "Complete the word before the cursor", { editLine, _ in
            guard let editLine, let editor = EditLineEditor.from(editLine) else { return UInt8(CC_ERROR) }
            return editor.complete(editLine)
        })
        _ = ns_el_bind(editLine, "^I", "ns-complete")
        for (sequence, command) in EditLineEditor.extraKeys { _ = ns_el_bind(editLine, sequence, command) }
        _ = ns_el_addfn(editLine, "ns-cancel-line", "Abandon the line (ctrl-c)", { editLine, _ in
            guard let editLine, let editor = EditLineEditor.from(editLine) else { return UInt8(CC_ERROR) }
            return editor.cancelLine(editLine)
        })
        _ = ns_el_addfn(editLine, "ns-suspend", "Stop the program, as the terminal's ctrl-z would", { editLine, _ in
            guard let editLine, let editor = EditLineEditor.from(editLine) else { return UInt8(CC_ERROR) }
            return editor.suspend(editLine)
        })
        _ = ns_el_addfn(editLine, "ns-quit", "Quit the program, as the terminal's ctrl-\\ would", { editLine, _ in
            if let editLine { _ = ns_el_prep_term(editLine, 0) }
            kill(0, SIGQUIT)
            return UInt8(CC_NORM)
        })
        _ = ns_el_set_read_char(editLine)
        ns_el_set_output_hook { editLine in
            guard let editLine, let editor = EditLineEditor.from(editLine) else { return }
            editor.showNotices(editLine)
        }
        _ = ns_el_tty_signals_off(editLine)
        let fd = fileno(inFile)
        for (which, function) in [(ns_vintr(), "ns-cancel-line"), (ns_vsusp(), "ns-suspend"), (ns_vquit(), "ns-quit")] {
            let c = ns_tty_signal_char(fd, which)
            guard c >= 0, let key = EditLineEditor.keyName(UInt8(c)) else { continue }
            _ = ns_el_bind(editLine, key, function)
        }
        _ = el_source(editLine, nil)  // the user's ~/.editrc, if any
        return editLine
    }

    /// Keys libedit binds neither by default nor from the terminal's entry: Home and End as tmux and screen
    /// send them whatever TERM says, and the Linux console and rxvt (`ESC [1~`, `ESC [4~`, `ESC [7~`,
    /// `ESC [8~`: each inserted a `~` and left the cursor where it was), and ctrl- or alt-arrows by words
    /// (which inserted `;5D`).
    static let extraKeys: [(sequence: String, command: String)] = [
        ("\u{1B}[1~", "ed-move-to-beg"), ("\u{1B}[7~", "ed-move-to-beg"),
        ("\u{1B}[4~", "ed-move-to-end"), ("\u{1B}[8~", "ed-move-to-end"),
        ("\u{1B}[1;5D", "ed-prev-word"), ("\u{1B}[1;3D", "ed-prev-word"),
        ("\u{1B}[1;5C", "em-next-word"), ("\u{1B}[1;3C", "em-next-word"),
    ]

    private static func from(_ editLine: OpaquePointer) -> EditLineEditor? {
        guard let data = ns_el_get_clientdata(editLine) else { return nil }
        return Unmanaged<EditLineEditor>.fromOpaque(data).takeUnretainedValue()
    }

    private func setPromptBuffer() {
        free(promptBuffer)
        promptBuffer = strdup(prompt)
    }

    // MARK: LineEditor

    public func readLine() -> String? {
        guard isInteractive, let editLine = startEditLine() else {
            return plainLine()
        }
        defer { el_end(editLine) }
        // After fg and after a resize the line is drawn again by the read on this thread (see the
        // header); between the two calls the signals are passed on to here.
        ns_el_redraw_signals_begin(fileno(inFile))
        defer { ns_el_redraw_signals_end() }
        notices?.beginEditing()
        defer { notices?.endEditing() }
        var count: Int32 = 0
        cancelled = false
        let raw = el_gets(editLine, &count)
        if cancelled { return "" }
        guard let raw, count > 0 else { return nil }
        var line = String(cString: raw)  // copied before el_end frees the buffer
        if line.last == "\n" || line.last == "\r\n" { line.removeLast() }
        return line
    }

    /// One line from a non-terminal input, without its line ending; nil at end of input.
    private func plainLine() -> String? {
        var buffer: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(buffer) }
        let count = getline(&buffer, &capacity, inFile)
        guard count >= 0, let buffer else { return nil }
        var line = String(decoding: UnsafeRawBufferPointer(start: buffer, count: count), as: UTF8.self)
        if line.last == "\n" || line.last == "\r\n" { line.removeLast() }  // "\r\n" is one Character
        return line
    }

    public func addHistory(_ line: String) {
        guard line.contains(where: { !$0.isWhitespace }) else { return }
        _ = ns_history_enter(history, line)
    }

    /// The history, oldest first.
    public var historyEntries: [String] {
        var entries: [String] = []
        var event = HistEvent()
        guard ns_history_first(history, &event) else { return [] }
        repeat {
            entries.append(String(cString: event.str))
        } while ns_history_next(history, &event)
        return entries.reversed()
    }

    public func loadHistory(from path: String) throws {
        guard access(path, F_OK) == 0 else { return }
        _ = ns_history_clear(history)
        guard ns_history_load(history, path) >= 0 else {
            throw LineEditorError(path: path, reason: "cannot read history")
        }
    }

    public func saveHistory(to path: String) throws {
        guard ns_history_save(history, path) >= 0 else {
            throw LineEditorError(path: path, reason: "cannot write history")
        }
    }

    /// ctrl-z: the terminal back as the shell left it, `^Z` echoed as the terminal would, the process
    /// stopped as a job; after `fg` the terminal is ours again and the line drawn again. With no job
    /// control (nothing would bring the process back) nothing stops: a beep.
    private func suspend(_ editLine: OpaquePointer) -> UInt8 {
        if let out = ns_el_output(editLine) { fputs("^Z", out); fflush(out) }
        _ = ns_el_prep_term(editLine, 0)
        let stopped = CursesBackend.stopAsJob(wholeGroup: true)
        ns_el_forget_signals()  // the SIGCONT of this fg: redrawn here
        _ = ns_el_prep_term(editLine, 1)
        if !stopped { el_beep(editLine) }
        return UInt8(CC_REDISPLAY)  // the line again from its start (after fg, the shell has left a fresh line)
    }

    /// libedit's name for a key that sends `byte`: `^C` for control characters, `^?` for DEL.
    public static func keyName(_ byte: UInt8) -> String? {
        switch byte {
        case 0: return nil
        case 1..<32: return "^" + String(UnicodeScalar(byte + 64))
        case 127: return "^?"
        case 32..<127: return String(UnicodeScalar(byte))
        default: return nil
        }
    }

    /// ctrl-c: the cursor to the end, `^C` after the line, and the line ended as Enter would end it
    /// (with the newline libedit writes); `readLine` then returns an empty line instead of it.
    private func cancelLine(_ editLine: OpaquePointer) -> UInt8 {
        if let info = el_line(editLine)?.pointee {
            let after = EditLineEditor.text(from: info.cursor, to: info.lastchar)
            _ = el_cursor(editLine, Int32(after.unicodeScalars.count))
        }
        _ = el_insertstr(editLine, "^C")
        cancelled = true
        el_push(editLine, "\n")
        return UInt8(CC_REFRESH)
    }

    /// On the reading thread, inside the read: what other threads wrote meanwhile, shown where the prompt
    /// and the line were (erased, from the row the line starts on), then the prompt and the line drawn
    /// again under it, the cursor where it was.
    private func showNotices(_ editLine: OpaquePointer) {
        guard let notices, let info = el_line(editLine)?.pointee else { return }
        let pieces = notices.take()
        guard !pieces.isEmpty else { return }
        let columns = max(1, TerminalEnvironment.columns(fileno(outFile)) ?? 80)
        let before = EditLineEditor.text(from: info.buffer, to: info.cursor)
        let row = (displayWidth(of: prompt) + displayWidth(of: before)) / columns
        fflush(outFile)
        EditLineNotices.writeAll(Array(("\r" + (row > 0 ? "\u{1B}[\(row)A" : "") + "\u{1B}[J").utf8), to: fileno(outFile))
        for piece in pieces { EditLineNotices.writeAll(piece.bytes, to: piece.fd) }
        _ = ns_el_refresh(editLine)
    }

    // MARK: completion

    /// Runs on tab: completes the word before the cursor, lists candidates when ambiguous.
    private func complete(_ editLine: OpaquePointer) -> UInt8 {
        guard let completer, let info = el_line(editLine)?.pointee else { return UInt8(CC_REFRESH_BEEP) }
        let before = EditLineEditor.text(from: info.buffer, to: info.cursor)
        let after = EditLineEditor.text(from: info.cursor, to: info.lastchar)
        let line = before + after
        let cursor = before.count
        let result = LineCompletion.complete(line: line, cursor: cursor, candidates: completer(line, cursor),
                                             breaks: wordBreakCharacters, appendSpace: appendSpaceAfterCompletion)
        switch result.kind {
        case .none:
            return UInt8(CC_REFRESH_BEEP)
        case .unique, .commonPrefix:
            el_deletestr(editLine, Int32(result.word.unicodeScalars.count))
            guard el_insertstr(editLine, result.replacement) == 0 else { return UInt8(CC_REFRESH_BEEP) }
            return UInt8(CC_REFRESH)
        case .ambiguous:
            let out = outFile
            fputs("\n", out)
            for row in LineCompletion.columns(result.candidates, width: TerminalEnvironment.columns(fileno(out)) ?? 80) {
                fputs(row + "\n", out)
            }
            fflush(out)
            return UInt8(CC_REDISPLAY)
        }
    }

    private static func text(from start: UnsafePointer<CChar>?, to end: UnsafePointer<CChar>?) -> String {
        guard let start, let end, end > start else { return "" }
        let bytes = UnsafeRawBufferPointer(start: start, count: end - start)
        return String(decoding: bytes, as: UTF8.self)
    }
}

@available(*, unavailable, message: "libedit is confined to one thread")
extension EditLineEditor: Sendable {}

/// Output of other threads (replies that arrive while the user types, a connection lost) for a terminal
/// where an `EditLineEditor` may be editing a line: written at once while no line is edited; while one is,
/// shown above it, the prompt and the half-typed line drawn again under it, instead of being written into
/// the middle of the line (where libedit, unaware of it, went on editing a line the screen no longer
/// showed). Give it to the editor (`notices`) and write everything that goes to the terminal through it.
public final class EditLineNotices: Sendable {
    private struct State {
        var editing = false
        var queued: [(fd: Int32, bytes: [UInt8])] = []
        var woken = false
    }
    private let state = Mutex(State())

    public init() {}

    /// Writes `text` to `fd` now, or, while a line is edited, above it.
    public func write(_ text: String, to fd: Int32) {
        let bytes = Array(text.utf8)
        state.withLock { s in
            guard s.editing else { return Self.writeAll(bytes, to: fd) }
            s.queued.append((fd, bytes))
            if !s.woken {
                s.woken = true
                ns_el_wake_for_output()
            }
        }
    }

    /// The reading thread starts editing a line (inside `ns_el_redraw_signals_begin`/`_end`).
    func beginEditing() { state.withLock { $0.editing = true } }

    /// The line is done: what is still queued is written after it.
    func endEditing() {
        state.withLock { s in
            s.editing = false
            s.woken = false
            for piece in s.queued { Self.writeAll(piece.bytes, to: piece.fd) }
            s.queued = []
        }
    }

    /// What waits to be shown, taken.
    func take() -> [(fd: Int32, bytes: [UInt8])] {
        state.withLock { s in
            s.woken = false
            defer { s.queued = [] }
            return s.queued
        }
    }

    static func writeAll(_ bytes: [UInt8], to fd: Int32) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = systemWrite(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                offset += n
            }
        }
    }
}

/// write(2), named apart from `EditLineNotices.write`.
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, bytes, count)
    #else
    return Darwin.write(fd, bytes, count)
    #endif
}
