import NinePWire

/// Identifiers and small value types shared by the tracker's inputs and outputs.

/// The index of a message (frame or garbage run) in the tracker's global, append-only message log.
public typealias MessageIndex = Int

/// An exchange (a request and its reply, paired by tag on one connection). Ids are dense: 0, 1, 2, …
/// in the order the tracker created them.
public struct ExchangeID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public init(_ value: Int) { self.rawValue = value }
    public static func < (a: ExchangeID, b: ExchangeID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "x" + String(rawValue) }
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

    /// The text of an `.error` (what a capture records as the connection's `why`); nil for the others.
    public var errorText: String? {
        if case .error(let text) = self { text } else { nil }
    }
}

/// Addresses of a proxied connection, as display strings (`127.0.0.1:40123`).
public struct ConnectionInfo: Hashable, Sendable {
    public var client: String
    public var upstream: String
    /// What the connection negotiated before the trace began, when a record says so (a capture file that
    /// continues an earlier one): the tracker decodes with that version's dialect from the first frame.
    public var version: String?
    public var msize: UInt32?
    /// The fids then in use, with their paths: the tracker starts the connection with them (`.adopted`
    /// ones are taken as they come anyway; these keep their paths and states).
    public var fids: [KnownFid]
    /// The trace holds the connection from its very start (a proxy's own, or a capture's that it recorded
    /// from the start): a first frame other than a Tversion is then not the middle of a session joined late,
    /// and a reply to a request never seen is an anomaly like any other.
    public var fromStart: Bool
    /// The trace is the server's own (`serve --trace`): `upstream` is the address it serves on, and is
    /// named `server` where it is shown.
    public var hosted: Bool
    public init(client: String, upstream: String, version: String? = nil, msize: UInt32? = nil,
                fids: [KnownFid] = [], fromStart: Bool = false, hosted: Bool = false) {
        self.client = client; self.upstream = upstream
        self.version = version; self.msize = msize; self.fids = fids; self.fromStart = fromStart
        self.hosted = hosted
    }
    /// What `upstream` is called where it is shown: `upstream` for a proxy's, `server` for a hosted one.
    public var upstreamLabel: String { hosted ? "server" : "upstream" }
}

/// A fid in use before the trace began, as a record of it says (a capture file that continues an earlier
/// one): its path and state, and what else was known of it (as in `FidEntry`).
public struct KnownFid: Hashable, Sendable {
    public var fid: Fid
    public var path: FidPath
    public var state: FidState
    public var qid: Qid?
    public var openMode: FidOpenMode?
    public var iounit: UInt32?
    public var xattr: XattrInfo?
    public var uname: P9String?
    public var nUname: UInt32?
    public init(fid: Fid, path: FidPath, state: FidState, qid: Qid? = nil, openMode: FidOpenMode? = nil,
                iounit: UInt32? = nil, xattr: XattrInfo? = nil, uname: P9String? = nil, nUname: UInt32? = nil) {
        self.fid = fid; self.path = path; self.state = state; self.qid = qid; self.openMode = openMode
        self.iounit = iounit; self.xattr = xattr; self.uname = uname; self.nUname = nUname
    }
}
