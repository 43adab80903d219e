import CNCursesW
import TUICore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The real terminal: a `TerminalBackend` on ncursesw.
///
/// **Thread confinement.** curses keeps global state and is not thread-safe, so this class is
/// deliberately not `Sendable`: create it, use it and let it go on one thread (or inside one
/// actor). Create at most one at a time; it owns the process's tty until `shutdown()` (also run
/// by `deinit`, at process exit, and on SIGINT/SIGTERM/SIGHUP/SIGQUIT when those still have
/// their default action).
///
/// The terminal runs in raw mode, so ctrl-c, ctrl-z and ctrl-\ arrive as keys (`ctrl-c` …)
/// rather than signals; the UI decides what they do (`stopProcess` for ctrl-z). A SIGTSTP sent
/// from outside arrives as a `.stop` event (unless it was ignored at start). Resizes arrive as `.resize` events
/// (ncurses turns SIGWINCH into KEY_RESIZE). Mouse clicks and the wheel arrive as `.mouse`
/// events when `Options.mouse` is on and the terminal supports it.
public final class CursesBackend: TerminalBackend {
    public struct Options: Sendable {
        /// Use colours when the terminal has them; off draws with attributes only. Defaults
        /// to off when `NO_COLOR` is set (see `TerminalEnvironment.noColorRequested`).
        public var colors: Bool
        /// Report mouse clicks and wheel steps (this stops the terminal's own text selection
        /// unless shift is held, as in every curses program).
        public var mouse: Bool
        /// How long a lone ESC waits for the rest of an escape sequence.
        public var escapeDelay: Duration
        /// Leave curses mode when the process exits or dies of SIGINT, SIGTERM, SIGHUP or
        /// SIGQUIT (handlers are installed only for signals still at their default action).
        public var restoreTerminalOnExit: Bool
        /// The terminfo entry to use; nil means `$TERM`.
        public var terminalType: String?

        public init(colors: Bool = !TerminalEnvironment.noColorRequested, mouse: Bool = true,
                    escapeDelay: Duration = .milliseconds(25), restoreTerminalOnExit: Bool = true,
                    terminalType: String? = nil) {
            self.colors = colors
            self.mouse = mouse
            self.escapeDelay = escapeDelay
            self.restoreTerminalOnExit = restoreTerminalOnExit
            self.terminalType = terminalType
        }
    }

    public let options: Options
    /// Colours the terminal can show (8, 16, 256, or 16777216 for direct colour); 0 when
    /// drawing without colours.
    public private(set) var paletteSize: Int = 0
    /// True once `shutdown()` ran.
    public private(set) var isShutDown = false
    /// True between `suspend()` and `resume()`.
    public private(set) var isSuspended = false

    private let screen: OpaquePointer  // SCREEN *
    private let ownedFiles: [UnsafeMutablePointer<FILE>]  // FILEs opened for non-standard fds
    private let ttyFD: Int32
    private let terminal: UnsafeMutableRawPointer?  // terminfo's TERMINAL * for this screen
    private var programModes = termios()  // tty modes in curses mode, saved by suspend()
    private let window: UnsafeMutablePointer<WINDOW>
    private var palette: ColorPairs
    private var cursor: Point?
    private var cursorShown = false

    /// Takes over the terminal on `input` and `output` (by default stdin and stdout; any other
    /// descriptors are duplicated, not closed). Throws when either is not a terminal or curses
    /// cannot start (for example an unknown `TERM`).
    public init(options: Options = Options(), input: Int32 = 0, output: Int32 = 1) throws(TerminalError) {
        guard TerminalEnvironment.isTerminal(input), TerminalEnvironment.isTerminal(output) else {
            throw TerminalError.notATerminal
        }
        TerminalEnvironment.ensureUTF8Locale()
        self.options = options
        var owned: [UnsafeMutablePointer<FILE>] = []
        func file(_ fd: Int32, standard: UnsafeMutablePointer<FILE>?, mode: String) -> UnsafeMutablePointer<FILE>? {
            if let standard, fileno(standard) == fd { return standard }
            let copy = dup(fd)
            guard copy >= 0, let opened = fdopen(copy, mode) else { return nil }
            owned.append(opened)
            return opened
        }
        let inFile = file(input, standard: ns_curses_stdin(), mode: "r")
        let outFile = file(output, standard: ns_curses_stdout(), mode: "w")
        if options.restoreTerminalOnExit { ns_install_fatal_signal_handlers() }
        let stopIgnored = ns_stop_signal_ignored() != 0
        guard let inFile, let outFile, let screen = newterm(options.terminalType, outFile, inFile) else {
            if options.restoreTerminalOnExit { ns_remove_fatal_signal_handlers() }
            owned.forEach { fclose($0) }
            let term = options.terminalType ?? getenv("TERM").map { String(cString: $0) } ?? "(unset)"
            throw TerminalError.cursesFailed("curses does not know TERM=\(term)")
        }
        self.screen = screen
        self.ownedFiles = owned
        self.ttyFD = fileno(outFile)
        set_term(screen)
        self.terminal = ns_current_terminal()
        if options.restoreTerminalOnExit { ns_register_endwin_at_exit() }
        guard let window = ns_stdscr() else {
            if options.restoreTerminalOnExit { ns_remove_fatal_signal_handlers() }
            endwin()
            delscreen(screen)
            owned.forEach { fclose($0) }
            throw TerminalError.cursesFailed("no standard screen")
        }
        // A terminal that cannot move the cursor (TERM=dumb) would show one line and then nothing.
        guard ns_terminal_can_address_cursor() != 0 else {
            if options.restoreTerminalOnExit { ns_remove_fatal_signal_handlers() }
            endwin()
            delscreen(screen)
            owned.forEach { fclose($0) }
            let term = options.terminalType ?? getenv("TERM").map { String(cString: $0) } ?? "(unset)"
            // (What else to do is the command's to say: `view` has no --headless.)
            throw TerminalError.cursesFailed("TERM=\(term) cannot move the cursor; set TERM to your terminal's type")
        }
        self.window = window
        // After newterm, which installs ncurses' own SIGTSTP handler where there was none.
        if !stopIgnored { ns_install_stop_handler() }
        raw()
        noecho()
        nonl()
        keypad(window, true)
        // Home/End as tmux and VT220-style terminals send them, where the terminfo entry names other
        // sequences (else `ESC [ 1 ~` arrives as alt-[, 1 and ~).
        for (sequence, key) in KeyChord.homeEndSequences where key_defined(sequence) == 0 {
            _ = define_key(sequence, key == .home ? KEY_HOME : KEY_END)
        }
        intrflush(window, false)
        leaveok(window, false)
        scrollok(window, false)
        set_escdelay(Int32(clamping: CursesBackend.milliseconds(options.escapeDelay)))
        curs_set(0)

        var defaultColors = false
        if options.colors && has_colors() {
            start_color()
            defaultColors = use_default_colors() == OK
            paletteSize = Int(ns_colors())
        }
        palette = ColorPairs(paletteSize: paletteSize, maxPairs: Int(ns_color_pairs()), defaultColors: defaultColors)

        if options.mouse {
            var mask: mmask_t = 0
            for button in 1...5 { mask |= ns_button_pressed(Int32(button)) }
            mask |= ns_button_double_clicked(1)
            _ = mousemask(mask, nil)
            _ = mouseinterval(0)
        }
        werase(window)
        wrefresh(window)
    }

    deinit {
        shutdown()
    }

    /// Leaves curses mode and gives the terminal back in its original state. Idempotent.
    public func shutdown() {
        guard !isShutDown else { return }
        isShutDown = true
        if !isSuspended {
            if options.mouse { _ = mousemask(0, nil) }
            curs_set(1)
            endwin()
        }
        delscreen(screen)
        ownedFiles.forEach { fclose($0) }
        if options.restoreTerminalOnExit { ns_remove_fatal_signal_handlers() }
        ns_remove_stop_handler()
    }

    // MARK: TerminalBackend

    public var size: Size {
        guard !isShutDown else { return .zero }
        return Size(width: Int(max(0, ns_getmaxx(window))), height: Int(max(0, ns_getmaxy(window))))
    }

    public func draw(_ runs: [CellRun]) {
        guard !isShutDown, !isSuspended else { return }
        let bounds = Rect(size: size)
        for run in runs {
            let y = run.origin.y
            guard y >= 0, y < bounds.height else { continue }
            for (offset, cell) in run.cells.enumerated() where !cell.isContinuation {
                let x = run.origin.x + offset
                guard x >= 0, x < bounds.width else { continue }
                drawCell(cell, x: x, y: y, limit: bounds.width)
            }
        }
    }

    public func setCursor(_ position: Point?) {
        cursor = position
    }

    public func present() {
        guard !isShutDown, !isSuspended else { return }
        let bounds = Rect(size: size)
        if let cursor, bounds.contains(cursor) {
            wmove(window, Int32(cursor.y), Int32(cursor.x))
            if !cursorShown { curs_set(1); cursorShown = true }
        } else if cursorShown {
            curs_set(0)
            cursorShown = false
        }
        wrefresh(window)
    }

    public func readEvent(timeout: Duration?) -> InputEvent? {
        guard !isShutDown, !isSuspended else { return nil }
        if ns_take_stop_request() != 0 { return .stop }
        wtimeout(window, timeout.map { Int32(clamping: CursesBackend.milliseconds($0)) } ?? -1)
        var code: wint_t = 0
        let status = wget_wch(window, &code)
        if status == ERR, ns_take_stop_request() != 0 { return .stop }
        switch status {
        case OK:
            return characterEvent(code)
        case KEY_CODE_YES:
            return keyCodeEvent(Int32(bitPattern: code))
        default:
            return nil  // timeout, or interrupted by a signal
        }
    }

    public func suspend() {
        guard !isShutDown, !isSuspended else { return }
        isSuspended = true
        if cursorShown { curs_set(1) }
        tcgetattr(ttyFD, &programModes)
        def_prog_mode()
        endwin()
        fflush(ns_curses_stdout())
    }

    public func resume() {
        guard !isShutDown, isSuspended else { return }
        isSuspended = false
        // Whoever had the terminal may have replaced terminfo's current terminal and the tty
        // modes curses saved (libedit's tgetent does both): put ours back first.
        set_term(screen)
        ns_set_current_terminal(terminal)
        tcsetattr(ttyFD, TCSADRAIN, &programModes)
        def_prog_mode()
        reset_prog_mode()
        curs_set(cursorShown ? 1 : 0)
        clearok(ns_curscr(), true)  // the screen was scribbled on: repaint all of it
        wrefresh(window)
    }

    @discardableResult
    public func stopProcess(wholeGroup: Bool) -> Bool {
        guard !isShutDown, !isSuspended else { return false }
        suspend()
        let stopped = CursesBackend.stopAsJob(wholeGroup: wholeGroup)
        resume()
        return stopped
    }

    /// Stops the process as a shell's job, from the calling thread (see `ns_stop_process`): returns
    /// true once continued (`fg`), or false at once when no shell's job control would bring it back.
    /// The line editor's ctrl-z uses it too (`ns_stop_process` is called from this file only).
    static func stopAsJob(wholeGroup: Bool) -> Bool {
        ns_stop_process(wholeGroup ? 1 : 0) != 0
    }

    // MARK: drawing

    private func drawCell(_ cell: Cell, x: Int, y: Int, limit: Int) {
        let (attributes, pair) = palette.resolve(cell.style)
        let text = CursesBackend.cursesText(for: cell)
        let pad = text.padding && x + 1 < limit
        text.chars.withUnsafeBufferPointer { buffer in
            _ = ns_put_cell(window, Int32(y), Int32(x), buffer.baseAddress, attributes, pair)
        }
        if pad {
            let space: [wchar_t] = [0x20, 0]
            space.withUnsafeBufferPointer { buffer in
                _ = ns_put_cell(window, Int32(y), Int32(x + 1), buffer.baseAddress, attributes, pair)
            }
        }
    }

    /// What to hand curses for a cell so that curses' idea of its width (the C library's
    /// `wcwidth`) matches the grid's: the base scalar plus up to four zero-width marks; a wide
    /// cell whose base the C library thinks narrow is drawn narrow plus a padding space; an
    /// unprintable base becomes U+FFFD.
    static func cursesText(for cell: Cell) -> (chars: [wchar_t], padding: Bool) {
        let scalars = Array(cell.character.unicodeScalars)
        let base = scalars.first ?? " "
        let baseWidth = Int(ns_wcwidth(wchar_t(bitPattern: base.value)))
        var chars: [wchar_t] = []
        var padding = false
        switch (cell.width, baseWidth) {
        case (2, 2), (1, 1):
            chars.append(wchar_t(bitPattern: base.value))
            for scalar in scalars.dropFirst() {
                let v = scalar.value
                guard chars.count < 5, v != 0x200D, ns_wcwidth(wchar_t(bitPattern: v)) == 0 else { break }
                chars.append(wchar_t(bitPattern: v))
            }
        case (2, 1):
            chars.append(wchar_t(bitPattern: base.value))
            padding = true
        case (2, _):
            chars.append(0xFFFD)
            padding = true
        default:
            chars.append(0xFFFD)
        }
        chars.append(0)
        return (chars, padding)
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        if seconds < 0 { return 0 }
        if seconds > Int64(Int32.max) / 1000 { return Int64(Int32.max) }
        return seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
    }
}

@available(*, unavailable, message: "curses is confined to one thread")
extension CursesBackend: Sendable {}
