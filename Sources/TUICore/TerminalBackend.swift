/// A terminal the UI draws to and reads input from.
///
/// Backends are not thread-safe: a backend is created, used and torn down on one thread (or
/// inside one actor). They are classes because a terminal is a single shared resource.
///
/// A frame is drawn as `draw` (any number of times) + optional `setCursor` + `present`;
/// nothing need be visible before `present`. `Renderer` does this for you.
public protocol TerminalBackend: AnyObject {
    /// The current terminal size in cells.
    var size: Size { get }

    /// Draws runs of cells (in any order; runs never overlap). Cells outside `size` are ignored.
    func draw(_ runs: [CellRun])

    /// Shows the text cursor at a point, or hides it (`nil`, the default state).
    func setCursor(_ position: Point?)

    /// Makes everything drawn since the last `present` visible.
    func present()

    /// Waits for the next input event for at most `timeout` (nil waits indefinitely, `.zero`
    /// only polls); returns nil when none arrived in time.
    func readEvent(timeout: Duration?) -> InputEvent?

    /// Hands the terminal back to normal line mode (e.g. for a line editor or a subprocess).
    /// Drawing while suspended is not allowed.
    func suspend()

    /// Takes the terminal back after `suspend()` and repaints the last frame.
    func resume()

    /// Gives the terminal back and stops the process as a shell's job (SIGTSTP: to the whole process
    /// group when `wholeGroup`, as the terminal's ctrl-z would, else to this process); once it is
    /// continued (`fg`), takes the terminal back and returns true. Returns false at once, having
    /// stopped nothing, where no shell's job control would bring it back (an orphaned process group,
    /// e.g. a program started by `sh -c` with no job control). Call when not suspended.
    @discardableResult
    func stopProcess(wholeGroup: Bool) -> Bool
}
