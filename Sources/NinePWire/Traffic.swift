/// Identifiers shared by every layer that sees 9P traffic (tracker, captures, proxy, UI): which
/// connection, which way, and what ninescope did to a frame.

/// A connection, numbered in order of first appearance (1, 2, 3, …) within a capture or a proxy run.
public struct ConnectionID: RawRepresentable, Hashable, Comparable, Sendable, ExpressibleByIntegerLiteral,
    CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ value: UInt32) { self.rawValue = value }
    public init(integerLiteral value: UInt32) { self.rawValue = value }
    public static func < (a: ConnectionID, b: ConnectionID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "c" + String(rawValue) }
}

/// Which way a frame travelled: client → server (T-messages, normally) or server → client.
public enum Direction: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case toServer = 0
    case toClient = 1
    public var reversed: Direction { self == .toServer ? .toClient : .toServer }
    /// Arrow for display: → to the server, ← to the client.
    public var description: String { self == .toServer ? "→" : "←" }
    /// Short token for machine output: `c2s` / `s2c`.
    public var token: String { self == .toServer ? "c2s" : "s2c" }
}

/// What ninescope did with a frame, recorded in captures and shown in the UI.
public struct FrameMarks: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// Sent by ninescope itself (an injected request, or the synthesized reply after a flush).
    public static let injected = FrameMarks(rawValue: 1 << 0)
    /// Received by ninescope and not forwarded (the reply to an injected request, a dropped Rflush).
    public static let intercepted = FrameMarks(rawValue: 1 << 1)
    /// The frame did not decode.
    public static let malformed = FrameMarks(rawValue: 1 << 2)
    /// Held by the proxy before it was passed on (a reply a `proxy --fault delay=…` rule held back); its
    /// time is when it was passed on, so its latency is the one the client saw. On a request: one whose
    /// reply a rule will hold back or replace (it went to the server as usual).
    public static let delayed = FrameMarks(rawValue: 1 << 3)
    /// Seen but not forwarded (a request a `proxy --fault` rule kept from the server, a server reply the
    /// proxy replaced or that came for a tag it had already answered).
    public static let dropped = FrameMarks(rawValue: 1 << 4)
    /// Sent by `ninescope replay`.
    public static let replayed = FrameMarks(rawValue: 1 << 5)
    /// Read from a capture that holds only the frame's first bytes (a snap length cut its packets): the
    /// frame's bytes are those, its size field says how long it was.
    public static let truncated = FrameMarks(rawValue: 1 << 6)
    /// With `.truncated`: the frame was cut by a viewer's data limit (`--view-data`), not by a capture — the
    /// capture, if any, holds it whole. Kept in memory only: not in `names`, so never written to a capture
    /// (a saved frame is cut as a snap length cuts it, and reads back as cut by the capture).
    public static let trimmed = FrameMarks(rawValue: 1 << 7)

    public static let names: [(FrameMarks, String)] = [
        (.injected, "injected"), (.intercepted, "intercepted"), (.malformed, "malformed"),
        (.delayed, "delayed"), (.dropped, "dropped"), (.replayed, "replayed"), (.truncated, "truncated"),
    ]
    /// Comma-separated names, e.g. `injected,intercepted`; empty when no mark is set.
    public var description: String { FrameMarks.names.filter { contains($0.0) }.map(\.1).joined(separator: ",") }
    /// Parses the names written by `description`; unknown names are ignored.
    public init(names: String) {
        var m: FrameMarks = []
        for part in names.split(separator: ",") {
            if let e = FrameMarks.names.first(where: { $0.1 == part }) { m.insert(e.0) }
        }
        self = m
    }
}
