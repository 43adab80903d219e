import NinePWire

/// Kinds of protocol anomaly the tracker reports.
public enum AnomalyKind: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// A request used a tag that is still pending on the connection.
    case tagReusedWhilePending = "tag-reused"
    /// A reply whose tag matches no pending request.
    case replyToUnknownTag = "unknown-tag"
    /// A request named a fid that is not in use on the connection.
    case unknownFid = "unknown-fid"
    /// Tattach fid / Twalk newfid / Txattrwalk newfid / Tauth afid already in use.
    case newfidInUse = "newfid-in-use"
    /// A request named a fid after the client sent the fid's Tclunk or Tremove and before its reply:
    /// clunk(5) and remove(5) free the fid whatever the reply, and a server may carry out requests in any
    /// order, so the request may find the fid gone (a client's use after free; once the reply has come, it
    /// is `unknown-fid`).
    case useAfterClunk = "use-after-clunk"
    /// Twalk with more than MAXWELEM (16) names (or Rwalk with more than 16 qids).
    case walkTooLong = "walk-too-long"
    /// A walk of `..` in the attach root answered with a qid other than the root's: walk(5) makes it a walk
    /// of no names, so the server let the client out of the tree it attached (an export's parent).
    case walkLeftRoot = "walk-left-root"
    /// Tread, Treaddir or Twrite on a fid that is not open (attached or walked), or open for the other
    /// direction (a write on a fid opened read-only).
    case fidNotOpen = "fid-not-open"
    /// Tread/Twrite/Treaddir count above the fid's iounit.
    case countExceedsIounit = "count-over-iounit"
    /// Tread/Twrite/Treaddir count above msize − 24 (IOHDRSZ).
    case countExceedsMsize = "count-over-msize"
    /// A reply of another type than the request's (Rerror/Rlerror excepted).
    case replyTypeMismatch = "reply-type-mismatch"
    /// Tversion with a tag other than NOTAG.
    case versionTagNotNotag = "version-tag"
    /// Tversion answered with Rerror or Rlerror: a server that accepts no version the client offers answers
    /// Rversion with the version "unknown", not an error (version(5)).
    case versionAnsweredWithError = "version-error"
    /// Rversion with an msize above the Tversion's: version(5) says the server's must be less than or equal to
    /// the client's.
    case msizeRaised = "msize-raised"
    /// Rwalk with more qids than the Twalk had names, or with none for a walk of some names (walk(5): nwqid
    /// cannot be zero unless nwname is; a first name that cannot be walked is an Rerror), or with a qid that is
    /// not a directory's followed by another (only directories are walked through).
    case badRwalk = "bad-rwalk"
    /// Rread, Rreaddir or Rwrite with a count above the one the request asked for.
    case replyOverCount = "reply-over-count"
    /// Rlerror with ecode 0 (or an Rerror of errno[4] alone with errno 0): an error that names no error. The
    /// Linux client takes the negated number for the call's result, so it takes this for success and reads
    /// the error as the reply it expected.
    case errnoZero = "errno-zero"
    /// A frame larger than the negotiated msize.
    case messageExceedsMsize = "over-msize"
    /// A reply to a request that was already flushed (it came after the Rflush).
    case replyAfterRflush = "reply-after-rflush"
    /// A fid still in use when the connection ended.
    case fidLeakedAtClose = "fid-leak"
    /// A request still unanswered when the connection ended (not when a capture merely ended).
    case unansweredAtClose = "unanswered"
    /// A request still unanswered a given time after it was sent (`SessionTracker.reportOverdue`): raised
    /// when the tracker is asked with the present time, not by a frame.
    case stillPending = "still-pending"
    /// A frame that could not be decoded.
    case malformedFrame = "malformed"
    /// Bytes the splitter could not frame.
    case garbageBytes = "garbage"
    /// A message type that the connection's (negotiated or forced) dialect does not define.
    case typeNotInDialect = "type-not-in-dialect"
    /// A T-message travelling to the client or an R-message travelling to the server.
    case wrongDirection = "wrong-direction"
    /// The client used a tag from the range reserved for injection.
    case clientUsedReservedTag = "reserved-tag"
    /// The client used a fid from the range reserved for injection.
    case clientUsedReservedFid = "reserved-fid"

    public var description: String { rawValue }

    /// One bit per kind (every kind fits in 32), for a set of kinds kept in a word.
    public var bit: UInt32 { AnomalyKind.bits[self] ?? 0 }
    private static let bits: [AnomalyKind: UInt32] = {
        precondition(allCases.count <= 32, "anomaly kinds no longer fit in a UInt32 mask")
        return Dictionary(uniqueKeysWithValues: allCases.enumerated().map { ($1, UInt32(1) << UInt32($0)) })
    }()

    /// `2 fid-leak, 1 walk-left-root`: counts by kind, the most first, then by name.
    public static func countsText(_ counts: [AnomalyKind: Int]) -> String {
        counts.sorted { ($0.value, $1.key.rawValue) > ($1.value, $0.key.rawValue) }
            .map { "\($0.value) \($0.key.rawValue)" }.joined(separator: ", ")
    }
}

/// One anomaly: what, where (connection, message), and a human sentence.
public struct Anomaly: Hashable, Sendable, CustomStringConvertible {
    public var kind: AnomalyKind
    public var conn: ConnectionID
    /// The message that showed the problem. For `fidLeakedAtClose`: the request that created the fid
    /// (nil for an adopted fid).
    public var messageIndex: MessageIndex?
    /// The exchange concerned, when there is one.
    public var exchange: ExchangeID?
    public var tag: Tag?
    public var fid: Fid?
    /// When it was detected (ns).
    public var at: Int64
    /// A sentence for humans, e.g. "tag 3 reused while Twalk (x12) is pending".
    public var text: String

    public init(kind: AnomalyKind, conn: ConnectionID, messageIndex: MessageIndex?, exchange: ExchangeID?,
                tag: Tag?, fid: Fid?, at: Int64, text: String) {
        self.kind = kind; self.conn = conn; self.messageIndex = messageIndex; self.exchange = exchange
        self.tag = tag; self.fid = fid; self.at = at; self.text = text
    }

    /// `ANOMALY kind conn #index: text`.
    public var description: String {
        "\(kind) \(conn)" + (messageIndex.map { " #\($0)" } ?? "") + ": " + text
    }
}
