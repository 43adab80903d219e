import NinePWire

/// What ninescope recorded about a connection or frame in its own captures; absent for foreign captures.
public struct CaptureMetadata: Hashable, Sendable {
    /// Frame marks (on `.data`).
    public var marks: FrameMarks
    /// The real client's address as the proxy saw it (on `.open`), e.g. `127.0.0.1:51234`.
    public var clientAddress: String?
    /// The real upstream server's address (on `.open`), e.g. `tcp!127.0.0.1!5640` or `unix!/tmp/9p.sock`.
    public var upstreamAddress: String?
    /// The version and msize the connection negotiated before the capture file began (on `.open` of a
    /// connection that continues from an earlier file of a rotated capture).
    public var version: String?
    public var msize: UInt32?
    /// The fids in use when the capture file began, with their paths (same event).
    public var fids: [RecordedFid]
    /// On `.data` of a ninescope capture: the bytes are one event as the proxy reported it, a frame or
    /// (marked `.malformed`) a run of unframeable bytes, not a piece of a stream to frame again.
    public var isWholeEvent: Bool
    /// On `.open` of a ninescope capture: the connection was recorded from its open (false for one that
    /// continues from an earlier file of a cut capture, and for other tools' captures).
    public var recordedFromOpen: Bool
    /// Why such a run could not be framed, as recorded (`why`; nil in captures made before it was).
    public var garbageReason: String?

    public init(marks: FrameMarks = [], clientAddress: String? = nil, upstreamAddress: String? = nil,
                version: String? = nil, msize: UInt32? = nil, fids: [RecordedFid] = [], isWholeEvent: Bool = false,
                garbageReason: String? = nil, recordedFromOpen: Bool = false) {
        self.isWholeEvent = isWholeEvent
        self.recordedFromOpen = recordedFromOpen
        self.garbageReason = garbageReason
        self.marks = marks
        self.clientAddress = clientAddress
        self.upstreamAddress = upstreamAddress
        self.version = version
        self.msize = msize
        self.fids = fids
    }
}

/// One step of a reassembled TCP conversation, in capture order.
public enum CaptureEvent: Hashable, Sendable {
    /// A connection was first seen (its SYN, or its first segment when the capture starts mid-stream).
    case open(conn: ConnectionID, client: Endpoint, server: Endpoint, timestampNanos: Int64,
              metadata: CaptureMetadata?)
    /// In-order stream bytes. For ninescope's own captures one event carries exactly one recorded frame.
    case data(conn: ConnectionID, direction: Direction, timestampNanos: Int64, bytes: [UInt8],
              metadata: CaptureMetadata?)
    /// `missingBytes` bytes of the stream were never captured; the next `.data` resumes after them.
    case gap(conn: ConnectionID, direction: Direction, missingBytes: Int, timestampNanos: Int64)
    /// The connection ended: both FINs delivered, or a RST (`reset`). `reason`: why, when the capture says
    /// (ninescope's proxy records why a connection ended other than by an orderly EOF: "reset by upstream",
    /// "proxy stopped", …).
    case close(conn: ConnectionID, reset: Bool, reason: String?, timestampNanos: Int64)

    public var conn: ConnectionID {
        switch self {
        case .open(let conn, _, _, _, _), .data(let conn, _, _, _, _), .gap(let conn, _, _, _),
             .close(let conn, _, _, _):
            return conn
        }
    }

    /// Whether this is a `.close`.
    public var isClose: Bool {
        if case .close = self { return true }
        return false
    }

    public var timestampNanos: Int64 {
        switch self {
        case .open(_, _, _, let t, _), .data(_, _, let t, _, _), .gap(_, _, _, let t), .close(_, _, _, let t):
            return t
        }
    }
}
