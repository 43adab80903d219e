import TUICore

/// An in-memory `TerminalBackend` for view tests: it keeps the screen as a `Grid` (updated by
/// `draw`, as a real terminal would be), serves scripted input events, and renders snapshots.
///
/// ```swift
/// let terminal = FakeTerminal(width: 20, height: 3)
/// terminal.enqueue(.key(.down), .key(KeyChord("q")))
/// var renderer = Renderer()
/// renderer.render(grid, to: terminal)
/// #expect(terminal.snapshot() == "…")
/// ```
public final class FakeTerminal: TerminalBackend {
    /// The screen contents as last drawn.
    public private(set) var screen: Grid
    /// Where the cursor is shown (nil = hidden).
    public private(set) var cursor: Point?
    /// How many times `present()` was called.
    public private(set) var presentCount = 0
    /// Every `draw` call's runs, oldest first (cleared by `resetLog()`).
    public private(set) var drawLog: [[CellRun]] = []
    /// True between `suspend()` and `resume()`.
    public private(set) var isSuspended = false
    /// How many times `suspend()` / `resume()` were called.
    public private(set) var suspendCount = 0
    public private(set) var resumeCount = 0
    /// Each `stopProcess` call's `wholeGroup`, oldest first.
    public private(set) var stops: [Bool] = []
    /// Events not yet read.
    public private(set) var pendingEvents: [InputEvent] = []
    /// The timeouts `readEvent` was called with, oldest first.
    public private(set) var readTimeouts: [Duration?] = []

    public init(size: Size) {
        self.screen = Grid(size: size)
    }

    public convenience init(width: Int, height: Int) {
        self.init(size: Size(width: width, height: height))
    }

    // MARK: TerminalBackend

    public var size: Size { screen.size }

    public func draw(_ runs: [CellRun]) {
        precondition(!isSuspended, "FakeTerminal: draw while suspended")
        drawLog.append(runs)
        for run in runs {
            for (offset, cell) in run.cells.enumerated() where !cell.isContinuation {
                screen.set(cell, at: run.origin.offset(dx: offset))
            }
        }
    }

    public func setCursor(_ position: Point?) {
        cursor = position
    }

    public func present() {
        presentCount += 1
    }

    /// Returns the next scripted event, or nil (as if the timeout expired) when none is left.
    public func readEvent(timeout: Duration?) -> InputEvent? {
        readTimeouts.append(timeout)
        guard !pendingEvents.isEmpty else { return nil }
        return pendingEvents.removeFirst()
    }

    public func suspend() {
        isSuspended = true
        suspendCount += 1
    }

    public func resume() {
        isSuspended = false
        resumeCount += 1
    }

    /// Records the stop (no process is stopped; `stops` lists each call's `wholeGroup`) and blanks the
    /// screen, as the shell's lines do while the program is stopped: what the program has not drawn again
    /// after it stays blank.
    @discardableResult
    public func stopProcess(wholeGroup: Bool) -> Bool {
        precondition(!isSuspended, "FakeTerminal: stopProcess while suspended")
        stops.append(wholeGroup)
        guard jobControl else { return false }
        screen = Grid(size: screen.size)
        return true
    }

    /// False: `stopProcess` stops nothing, as with no shell's job control.
    public var jobControl = true

    // MARK: scripting

    /// Queues events for `readEvent`.
    public func enqueue(_ events: InputEvent...) {
        pendingEvents += events
    }

    public func enqueue(_ events: [InputEvent]) {
        pendingEvents += events
    }

    /// Queues key events for each character of `text` (`\r` and `\n` become `enter`).
    public func type(_ text: String) {
        for character in text {
            if character == "\n" || character == "\r" || character == "\r\n" {
                pendingEvents.append(.key(.enter))
            } else {
                pendingEvents.append(.key(KeyChord(character)))
            }
        }
    }

    /// Queues key events parsed from chord names, e.g. `press("j", "ctrl-f", "enter")`.
    /// Traps on a bad name (a test bug).
    public func press(_ names: String...) {
        for name in names {
            guard let chord = KeyChord(name) else { preconditionFailure("FakeTerminal: bad key name '\(name)'") }
            pendingEvents.append(.key(chord))
        }
    }

    /// Changes the size, keeping the top-left content, and queues the matching `.resize` event.
    public func resize(to newSize: Size) {
        screen.resize(to: newSize)
        pendingEvents.append(.resize(newSize))
    }

    /// Forgets the draw log (the screen is kept).
    public func resetLog() {
        drawLog.removeAll()
    }

    // MARK: snapshots

    /// The screen as text: one line per row, trailing spaces removed unless `trimTrailing`
    /// is false. With `styles`, a style layer follows a `--- styles ---` line: one line per
    /// row with `.` for the plain style and a letter per other style, then a legend line per
    /// letter (`a: fg=red bold`). With `cursor`, a final `cursor: (x,y)` or `cursor: hidden`
    /// line is added.
    public func snapshot(styles: Bool = false, trimTrailing: Bool = true, cursor showCursor: Bool = false) -> String {
        FakeTerminal.snapshot(of: screen, styles: styles, trimTrailing: trimTrailing,
                              cursor: showCursor ? .some(cursor) : .none)
    }

    /// The same snapshot format for any grid (e.g. a view drawn without a terminal).
    public static func snapshot(of grid: Grid, styles: Bool = false, trimTrailing: Bool = true,
                                cursor: Point?? = .none) -> String {
        var lines = grid.rows.map { trimTrailing ? trimmed($0) : $0 }
        if styles {
            let layer = grid.styleLayer()
            lines.append("--- styles ---")
            lines += layer.rows.map { trimTrailing ? trimmedStyles($0) : $0 }
            lines += layer.legend
        }
        if case .some(let position) = cursor {
            lines.append("cursor: " + (position.map { $0.description } ?? "hidden"))
        }
        return lines.joined(separator: "\n")
    }

    private static func trimmed(_ line: String) -> String {
        String(line.reversed().drop(while: { $0 == " " }).reversed())
    }

    private static func trimmedStyles(_ line: String) -> String {
        String(line.reversed().drop(while: { $0 == "." }).reversed())
    }
}
