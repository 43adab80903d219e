import NinePWire

/// Where a connection's decoding dialect came from.
public enum DialectSource: UInt8, Hashable, Sendable, CustomStringConvertible {
    /// Given in the tracker's configuration; Tversion/Rversion do not change it.
    case forced
    /// From Rversion (the server's answer wins).
    case negotiated
    /// From a Tversion still awaiting its Rversion.
    case proposed
    /// Rversion said "unknown" (or another unparseable version): no dialect was agreed; decoding keeps
    /// the previous dialect.
    case rejected
    /// Guessed from the traffic (the trace began mid-session): message codes or bodies that only one
    /// dialect explains. Re-decided when new evidence contradicts it.
    case inferred
    /// No evidence yet: the configuration's default (9P2000.L unless set otherwise).
    case assumed

    public var description: String {
        switch self {
        case .forced: "forced"
        case .negotiated: "negotiated"
        case .proposed: "proposed"
        case .rejected: "rejected"
        case .inferred: "inferred"
        case .assumed: "assumed"
        }
    }
}

/// A connection at a glance.
public struct ConnectionSummary: Hashable, Sendable, Identifiable {
    public var id: ConnectionID
    public var info: ConnectionInfo?
    public var openedAt: Int64
    public var closedAt: Int64?
    public var closeReason: CloseReason?
    /// The dialect frames are decoded with now, and why.
    public var dialect: Dialect
    public var dialectSource: DialectSource
    /// The last Tversion's version string and msize.
    public var proposedVersion: String?
    public var proposedMsize: UInt32?
    /// The last Rversion's version string and msize (nil until one came).
    public var negotiatedVersion: String?
    public var msize: UInt32?
    /// The trace began after the connection's Tversion (so unknown fids/tags are expected at first).
    public var startedMidStream: Bool
    public var messageCount: Int
    public var requestCount: Int
    public var replyCount: Int
    public var bytesToServer: Int
    public var bytesToClient: Int
    public var exchangeCount: Int
    public var pendingCount: Int
    public var errorCount: Int
    public var flushCount: Int
    public var malformedCount: Int
    public var garbageCount: Int
    public var anomalyCount: Int
    /// Live fids and, of those, open ones.
    public var liveFidCount: Int
    public var openFidCount: Int
    /// Fid records ever made on this connection.
    public var fidRecordCount: Int

    public var isOpen: Bool { closedAt == nil }
}
