/// What a `TerminalBackend` reports: a key, a new terminal size, a mouse action, or a request to stop.
public enum InputEvent: Hashable, Sendable {
    case key(KeyChord)
    /// The terminal now has this size; the next frame should be drawn at it.
    case resize(Size)
    case mouse(MouseEvent)
    /// The process was sent SIGTSTP (`kill -TSTP`): give the terminal back and stop now
    /// (`TerminalBackend.stopProcess`), as the shell's job control expects.
    case stop
}

/// A key event is exactly a chord: bindings are looked up by equality with it.
public typealias KeyEvent = KeyChord

/// A mouse click or wheel step at a cell.
public struct MouseEvent: Hashable, Sendable {
    public enum Button: Hashable, Sendable {
        case left, middle, right
    }

    public enum Action: Hashable, Sendable {
        case click(Button)
        case doubleClick(Button)
        case scrollUp
        case scrollDown
    }

    public var action: Action
    public var position: Point
    public var modifiers: Modifiers

    public init(_ action: Action, at position: Point, modifiers: Modifiers = []) {
        self.action = action
        self.position = position
        self.modifiers = modifiers
    }
}
