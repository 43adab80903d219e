/// Identifiers and small value types shared by the tracker's inputs and outputs.

/// The index of a message (frame or garbage run) in the tracker's global, append-only message log.
public typealias MessageIndex = Int

/// A connection as numbered by whoever feeds the tracker (the proxy, a capture reader).
public struct ConnectionID: RawRepresentable, Hashable, Comparable, Sendable, ExpressibleByIntegerLiteral,
    CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ value: UInt32) { self.rawValue = value }
    public init(integerLiteral value: UInt32) { self.rawValue = value }
    public static func < (a: ConnectionID, b: ConnectionID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "c" + String(rawValue) }
}

/// An exchange (a request and its reply, paired by tag on one connection). Ids are dense: 0, 1, 2, …
/// in the order the tracker created them.
public struct ExchangeID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public init(_ value: Int) { self.rawValue = value }
    public static func < (a: ExchangeID, b: ExchangeID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "x" + String(rawValue) }
}

/// Which way a frame travelled.
public enum Direction: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Client → server (T-messages, normally).
    case toServer = 0
    /// Server → client (R-messages, normally).
    case toClient = 1
    public var description: String { self == .toServer ? "→" : "←" }
}

/// Marks the proxy (or a capture's metadata) puts on a frame.
public struct FrameMarks: OptionSet, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// Sent by ninescope itself (REPL/UI injection), not by the client; its reply is not forwarded.
    public static let injected = FrameMarks(rawValue: 1)
    /// Held by the user before being forwarded.
    public static let intercepted = FrameMarks(rawValue: 2)
    /// Changed by the user before being forwarded (the bytes given are what was forwarded).
    public static let modified = FrameMarks(rawValue: 4)
    /// Dropped by the user: seen by the proxy but never forwarded.
    public static let dropped = FrameMarks(rawValue: 8)
    /// Re-sent from a capture by `replay`.
    public static let replayed = FrameMarks(rawValue: 16)
}

/// Why a connection ended.
public enum CloseReason: Hashable, Sendable, CustomStringConvertible {
    /// Orderly end of stream.
    case eof
    /// Connection reset by a peer.
    case reset
    /// Any other transport error, as text.
    case error(String)
    /// The capture being decoded ended while the connection was still open. Pending requests are marked
    /// unanswered, but open fids are NOT reported as leaks (the connection did not really end).
    case endOfCapture

    public var description: String {
        switch self {
        case .eof: "eof"
        case .reset: "reset"
        case .error(let text): "error: " + text
        case .endOfCapture: "end of capture"
        }
    }
}

/// Addresses of a proxied connection, as display strings (`tcp!127.0.0.1!40123`).
public struct ConnectionInfo: Hashable, Sendable {
    public var client: String
    public var upstream: String
    public init(client: String, upstream: String) { self.client = client; self.upstream = upstream }
}
