import NinePWire

/// What a pending request will do to the fid table if it succeeds.
enum FidEffect: Sendable {
    case attach(fid: Fid, aname: P9String, uname: P9String, nUname: UInt32?)
    case auth(afid: Fid, uname: P9String, nUname: UInt32?)
    case walk(fid: Fid, newfid: Fid, names: [P9String])
    case open(fid: Fid, mode: FidOpenMode)
    /// `mode` nil: not known (a capture cut the request before it).
    case create(fid: Fid, name: P9String, mode: FidOpenMode?)
    case xattrwalk(fid: Fid, newfid: Fid, name: P9String)
    case xattrcreate(fid: Fid, name: P9String, size: UInt64)
    case clunk(fid: Fid)
    case remove(fid: Fid)
    case rename(fid: Fid, dfid: Fid, name: P9String)
    case renameat(olddirfid: Fid, oldname: P9String, newdirfid: Fid, newname: P9String)
    /// A Tunlinkat: fids holding the file keep it under a deleted path.
    case unlinkat(dirfid: Fid, name: P9String)
    /// A Twstat that renames (a name given: wstat(5) renames within the directory).
    case wstatRename(fid: Fid, name: P9String)
}

/// Per pending request: its fid effect and the primary fid's record and path at request time.
struct PendingInfo: Sendable {
    var effect: FidEffect?
    var primaryFid: Fid?
    var pathNode: Int32
    /// A Tread's, Treaddir's or Twrite's count (whole frames only): its reply's may not exceed it.
    var count: UInt32?
}

/// Rare per-exchange data, kept out of the dense exchange array.
struct ExchangeExtras: Sendable {
    var error: ExchangeError?
    var flushTarget: Int?
    var flushOutcome: FlushOutcome?
    var flushedBy: [Int] = []
    var lateReplyIndex: Int?
}

/// The dense per-exchange record (kept by id in an `ExchangeTable`).
struct ExchangeRecord: Sendable {
    static let noIndex = -1
    static let noTime = Int64.min
    var requestIndex: Int
    var replyIndex: Int
    var start: Int64
    var end: Int64
    var conn: ConnectionID
    var tag: Tag
    var requestCode: UInt8
    var replyCode: UInt8
    var status: ExchangeStatus
    var isInjected: Bool
    var isMalformed: Bool
    var hasExtras: Bool
    /// A `stillPending` anomaly was raised for it (`reportOverdue`): once per exchange.
    var reportedOverdue = false
}

/// One message in the log. Bytes are stored once (in the tracker's `FrameStore`); the decoding is redone on
/// demand.
struct StoredMessage: Sendable {
    static let toClientBit: UInt8 = 1, garbageBit: UInt8 = 2, malformedBit: UInt8 = 4
    /// An Rread of a directory in 9P2000/.u (`TracedMessage.readsDirectory`).
    static let directoryReadBit: UInt8 = 8
    var frame: FrameStore.Ref
    var at: Int64
    var exchange: Int32
    var pathNode: Int32
    var conn: ConnectionID
    var flags: UInt8
    var marks: FrameMarks
    var dialect: Dialect
}

/// Everything the tracker knows about one connection.
struct ConnState: Sendable {
    var id: ConnectionID
    var info: ConnectionInfo?
    var openedAt: Int64
    var closedAt: Int64?
    var closeReason: CloseReason?

    var dialect: Dialect
    var dialectSource: DialectSource
    /// Dialects the traffic has contradicted (only used while guessing).
    var ruledOut: Set<Dialect> = []
    var proposedVersion: String?
    var proposedMsize: UInt32?
    var negotiatedVersion: String?
    var msize: UInt32?

    /// Each attach root's qid (from its Rattach), by path node: a walk of `..` there must return it.
    var rootQids: [Int32: Qid] = [:]

    var sawFrame = false
    var startedMidStream = false
    /// True from a mid-stream start until the next Tversion: unknown fids are adopted silently and
    /// replies to never-seen tags are not anomalies.
    var midStreamActive = false
    var seenTags = IntKeySet<Tag>()

    var pendingByTag = IntKeyMap<Tag, Int>()
    var pendingIDs = IntKeySet<Int>()
    var pendingInfo = IntKeyMap<Int, PendingInfo>()
    /// Tags whose last request was flushed (Rflush came first): a reply on them is a late reply.
    var flushedTags = IntKeyMap<Tag, Int>()

    /// Live fids → their slots in `fidRecords`.
    var liveFids = IntKeyMap<Fid, Int>()
    /// Per fid, the exchange of the Tclunk or Tremove the client sent for it (use-after-clunk while that is
    /// pending; an entry whose exchange is no longer pending is stale).
    var releasing = IntKeyMap<Fid, Int>()
    /// Fid records: every one ever made, or (streaming) the live ones and free slots of ended ones.
    var fidRecords: [FidRecord] = []
    /// Streaming: slots in `fidRecords` of ended records, to reuse.
    var freeFidSlots: [Int] = []
    /// Fid records made so far (each one's generation is the count before it).
    var fidsCreated = 0
    /// Streaming: exchanges kept because they take part in a flush race (released at close).
    var flushRecords: [Int] = []

    var messageCount = 0, requestCount = 0, replyCount = 0
    /// The index of the connection's latest message (-1: none yet).
    var lastMessage = -1
    var bytesToServer = 0, bytesToClient = 0
    var exchangeCount = 0, errorCount = 0, flushCount = 0, malformedCount = 0, garbageCount = 0, anomalyCount = 0

    init(id: ConnectionID, info: ConnectionInfo?, openedAt: Int64, dialect: Dialect, source: DialectSource) {
        self.id = id; self.info = info; self.openedAt = openedAt; self.dialect = dialect; self.dialectSource = source
    }

    /// Whether the dialect may still be re-decided from traffic.
    var isGuessing: Bool { dialectSource == .assumed || dialectSource == .inferred }
}

/// A connection's state in a box of its own, so the tracker mutates it in place (see
/// `SessionTracker.uniqueConn`). The tracker stays a value: a box shared by two copies of a tracker is
/// copied before either mutates it.
final class ConnSlot: @unchecked Sendable {
    // @unchecked: a slot is mutated only through `uniqueConn`, which first makes it unshared; a tracker (a
    // value) is used by one thread at a time, like any struct with mutable state.
    @exclusivity(unchecked) var state: ConnState
    init(_ state: ConnState) { self.state = state }
}
