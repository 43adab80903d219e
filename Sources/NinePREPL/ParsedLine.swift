import NinePWire

/// A request ready to send: the message and the tag to use (nil: the engine picks one; Tversion
/// always defaults to NOTAG).
public struct Request: Hashable, Sendable {
    public var message: Message
    public var tag: Tag?
    public init(_ message: Message, tag: Tag? = nil) { self.message = message; self.tag = tag }
}

/// What one REPL line asks for.
public enum Command: Hashable, Sendable {
    /// Send a T-message (friendly or raw form).
    case request(Request)
    /// Send these bytes as they are.
    case hex([UInt8])
    /// Check the last reply.
    case expect(ReplyExpectation)
    case help(topic: String?)
    case set(name: String, value: String)
    /// `set` alone: list the settings.
    case settings
    case fids
    case pending
    /// Wait for the reply to a tag, or to everything outstanding.
    case wait(Tag?)
    case echo(String)
    /// Remote paths keep the bytes typed (`\xff` escapes a byte that is not UTF-8).
    case ls(path: P9String)
    case cat(path: P9String)
    case stat(path: P9String)
    case put(local: String, remote: P9String)
    case reconnect
    case quit
}

/// A parsed line: the command (nil for a blank line or a comment) and its markers.
public struct ParsedLine: Hashable, Sendable {
    public var command: Command?
    /// A trailing `&`: send and return without waiting for the reply.
    public var background: Bool
    /// A leading `-` (`-walk 0 1 nosuch`): an error reply or failure does not stop a script.
    public var allowFailure: Bool
    public init(command: Command?, background: Bool = false, allowFailure: Bool = false) {
        self.command = command; self.background = background; self.allowFailure = allowFailure
    }
}
