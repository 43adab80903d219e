import NinePWire

/// The lifecycle of a fid, as far as the tracker saw. States change only on successful replies, except
/// that Tclunk and Tremove end the fid on any reply (clunk(5), remove(5)).
public enum FidState: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Made by Tattach.
    case attached
    /// Made (or moved) by Twalk.
    case walked
    /// Opened (Topen/Tlopen) or created (Tcreate/Tlcreate).
    case open
    /// Made by Txattrwalk, or turned into an xattr fid by Txattrcreate.
    case xattr
    /// An authentication fid (Tauth afid).
    case auth
    /// Already in use when the trace began (seen in a request before any reply created it).
    case adopted
    /// Ended by Tclunk.
    case clunked
    /// Ended by Tremove (successful; a failed Tremove still ends it as `clunked`).
    case removed
    /// Freed by a later Tversion (version(5): "all active fids are freed").
    case resetByVersion
    /// Still in use when the connection ended (reported as a leak).
    case leaked

    /// Whether the fid is still valid on its connection.
    public var isLive: Bool {
        switch self {
        case .attached, .walked, .open, .xattr, .auth, .adopted: true
        case .clunked, .removed, .resetByVersion, .leaked: false
        }
    }

    public var description: String {
        switch self {
        case .attached: "attached"
        case .walked: "walked"
        case .open: "open"
        case .xattr: "xattr"
        case .auth: "auth"
        case .adopted: "adopted"
        case .clunked: "clunked"
        case .removed: "removed"
        case .resetByVersion: "reset-by-version"
        case .leaked: "leaked"
        }
    }
}

/// One fid's record. Numbers are reused by clients, so one fid number can have several records over time
/// (`FidEntry.generation` counts them per connection).
public struct FidEntry: Hashable, Sendable {
    public var fid: Fid
    public var conn: ConnectionID
    /// Ordinal of this record among all fid records of the connection (0, 1, 2, …).
    public var generation: Int
    /// Path from the attach root (nil for none known, e.g. never happens for live fids).
    public var path: FidPath?
    public var qid: Qid?
    public var state: FidState
    public var openMode: FidOpenMode?
    /// From Ropen/Rcreate/Rlopen/Rlcreate (0 = no guarantee).
    public var iounit: UInt32?
    public var xattr: XattrInfo?
    /// The attach's uname / n_uname this fid descends from.
    public var uname: P9String?
    public var nUname: UInt32?
    /// The exchange that created it (Tattach, Twalk, Txattrwalk, Tauth); nil for adopted fids.
    public var createdBy: ExchangeID?
    /// The exchange that ended it (Tclunk, Tremove, Tversion); nil while live or when ended by close.
    public var endedBy: ExchangeID?
    /// The last request message that named this fid.
    public var lastUsedIndex: MessageIndex?
    /// How many requests named this fid (its creating request included).
    public var useCount: Int

    public init(fid: Fid, conn: ConnectionID, generation: Int, path: FidPath?, qid: Qid?, state: FidState,
                openMode: FidOpenMode?, iounit: UInt32?, xattr: XattrInfo?, uname: P9String?, nUname: UInt32?,
                createdBy: ExchangeID?, endedBy: ExchangeID?, lastUsedIndex: MessageIndex?, useCount: Int) {
        self.fid = fid; self.conn = conn; self.generation = generation; self.path = path; self.qid = qid
        self.state = state; self.openMode = openMode; self.iounit = iounit; self.xattr = xattr; self.uname = uname
        self.nUname = nUname; self.createdBy = createdBy; self.endedBy = endedBy; self.lastUsedIndex = lastUsedIndex
        self.useCount = useCount
    }

    /// Whose the fid is: `uname` and `nUname` together (the fids views name it by its description).
    public var user: AttachUser { AttachUser(uname: uname ?? "", nUname: nUname) }

    /// Still valid on the connection.
    public var isLive: Bool { state.isLive }
    /// Opened for I/O and still live.
    public var isOpen: Bool { state == .open }
}

/// The tracker's internal fid record: like `FidEntry` but with an interned path.
struct FidRecord: Sendable {
    var fid: Fid
    var generation: Int
    var pathNode: Int32
    var qid: Qid?
    var state: FidState
    var openMode: FidOpenMode?
    var iounit: UInt32?
    var xattr: XattrInfo?
    var uname: P9String?
    var nUname: UInt32?
    var createdBy: ExchangeID?
    var endedBy: ExchangeID?
    var lastUsedIndex: MessageIndex?
    /// The index of the request that brought the fid into use (nil for a fid adopted mid-stream).
    var createdIndex: MessageIndex?
    var useCount: Int
    /// Made by a request the proxy injected (the client never had this fid).
    var injected = false
}
