import InspectorCore
import NinePSession
import NinePWire

/// What the inspector can ask of a live session (the proxy implements it) and of the app around it.
/// Each call gets a snapshot of the UI's tracker (fid tables, pending tags, dialects) and returns a line
/// for the status bar, or throws an error whose description is shown.
public protocol InspectorActions: Sendable {
    /// Injects `request` (the REPL's grammar: `walk 0 100 etc passwd`, `Tgetattr fid=100 mask=basic`) into
    /// connection `conn`, choosing tags and fids that cannot collide with the client's.
    func inject(_ request: String, conn: ConnectionID, tracker: SessionTracker) async throws -> String
    /// Sends Tflush upstream for the client's pending `tag` on `conn`.
    func flush(tag: Tag, conn: ConnectionID, tracker: SessionTracker) async throws -> String
    /// Writes the session so far to a pcapng capture at `path`.
    func save(to path: String, tracker: SessionTracker) async throws -> String
    /// Completions for the last word of a partly typed request (the REPL grammar's): full replacement
    /// words for that word; empty when unknown.
    func completions(for text: String) -> [String]
    /// The proxy's fault rules: `spec` empty shows them, `off` (or `none`) clears them, anything else sets
    /// them (`proxy --fault`'s grammar). Returns what to say.
    func faults(_ spec: String) throws -> String
}

extension InspectorActions {
    public func completions(for text: String) -> [String] { [] }
    public func faults(_ spec: String) throws -> String {
        throw InspectorActionError("fault rules need a live proxy")
    }
}

/// An error an action reports as a plain sentence.
public struct InspectorActionError: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
