import NinePSession
import NinePWire

/// Flags on an exchange row.
public struct RowFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let hasRequest = RowFlags(rawValue: 1 << 0)
    public static let hasReply = RowFlags(rawValue: 1 << 1)
    /// The request was sent by ninescope (REPL or UI injection).
    public static let injected = RowFlags(rawValue: 1 << 2)
    /// The request or reply did not decode.
    public static let malformed = RowFlags(rawValue: 1 << 3)
    /// At least one tracker anomaly names this exchange.
    public static let anomaly = RowFlags(rawValue: 1 << 4)
    /// The user asked to flush it (a Tflush was sent or is being sent).
    public static let flushRequested = RowFlags(rawValue: 1 << 5)
    /// Its reply was made by ninescope's proxy, not the server: the error reply a request the proxy
    /// flushed gets (status `.answeredAfterFlush`), or the one a `proxy --fault error=…` rule gave.
    public static let answeredByProxy = RowFlags(rawValue: 1 << 6)
    /// The request or the reply is a frame the capture cut (`FrameMarks.truncated`).
    public static let truncated = RowFlags(rawValue: 1 << 7)
    /// A `proxy --fault` rule acted on it: the request was kept from the server (`FrameMarks.dropped`) or
    /// its reply held back (`.delayed`).
    public static let faulted = RowFlags(rawValue: 1 << 8)
}

/// What colour-relevant state an exchange is in, for the list (one per row).
public enum RowState: UInt8, Hashable, Sendable, CaseIterable {
    case pending, ok, error, flushed, injected, anomaly
}

/// One exchange as the store keeps it: 64 bytes, no heap storage. Frames stay in the tracker's log;
/// `requestIndex`/`replyIndex` point there. Strings (paths) are interned in the store.
public struct ExchangeRow: Hashable, Sendable {
    public static let noTime = Int64.min
    public static let noIndex: Int32 = -1
    public static let noPath: Int32 = -1
    public static let noFid = Fid.nofid.rawValue

    /// Request time (ns since the epoch), `noTime` for an unmatched reply.
    public var start: Int64
    /// Completion time (reply, Rflush, close), `noTime` while pending.
    public var end: Int64
    /// The request's and reply's index in the tracker's message log (`noIndex` when absent).
    public var requestIndex: Int32
    public var replyIndex: Int32
    public var conn: UInt32
    /// The fid the request is about (`noFid` when none).
    public var fid: UInt32
    /// A second fid the request names (newfid, afid, dfid …; `noFid` when none).
    public var otherFid: UInt32
    /// Interned path of the fid concerned before the request, and after the reply (Rwalk: newfid's).
    public var requestPath: Int32
    public var replyPath: Int32
    /// Linux errno of an error reply (0 when none or unknown).
    public var errno: UInt32
    /// Frame sizes in bytes (0 when absent).
    public var requestBytes: UInt32
    public var replyBytes: UInt32
    public var tag: UInt16
    public var requestCode: UInt8
    public var replyCode: UInt8
    public var status: ExchangeStatus
    /// Whose the request's fid is: its number in the store's `UserTable` (`UserTable.none` when not known).
    /// In the byte the other fields leave free, so that a row stays 64 bytes.
    public var user: UInt8
    public var flags: RowFlags

    public init(start: Int64 = noTime, end: Int64 = noTime, requestIndex: Int32 = noIndex, replyIndex: Int32 = noIndex,
                conn: UInt32 = 0, fid: UInt32 = noFid, otherFid: UInt32 = noFid, requestPath: Int32 = noPath,
                replyPath: Int32 = noPath, errno: UInt32 = 0, requestBytes: UInt32 = 0, replyBytes: UInt32 = 0,
                tag: UInt16 = 0, requestCode: UInt8 = 0, replyCode: UInt8 = 0, status: ExchangeStatus = .pending,
                user: UInt8 = UserTable.none, flags: RowFlags = []) {
        self.start = start; self.end = end; self.requestIndex = requestIndex; self.replyIndex = replyIndex
        self.conn = conn; self.fid = fid; self.otherFid = otherFid; self.requestPath = requestPath
        self.replyPath = replyPath; self.errno = errno; self.requestBytes = requestBytes; self.replyBytes = replyBytes
        self.tag = tag; self.requestCode = requestCode; self.replyCode = replyCode; self.status = status
        self.user = user; self.flags = flags
    }

    public var hasRequest: Bool { flags.contains(.hasRequest) }
    public var hasReply: Bool { flags.contains(.hasReply) }
    public var requestType: MessageType? { hasRequest ? MessageType(rawValue: requestCode) : nil }
    public var replyType: MessageType? { hasReply ? MessageType(rawValue: replyCode) : nil }

    /// Reply time − request time, for exchanges a reply or Rflush completed.
    public var latency: Int64? {
        guard start != Self.noTime, end != Self.noTime else { return nil }
        switch status {
        case .pending, .unansweredAtClose, .abortedByVersion, .unmatchedReply: return nil
        default: return end &- start
        }
    }

    /// Cancelled by a flush: the Rflush came first, or ninescope answered the client for the server.
    public var isFlushed: Bool { status == .flushed || answeredForAFlush }

    /// ninescope's proxy answered the client itself because it flushed the request.
    public var answeredForAFlush: Bool { flags.contains(.answeredByProxy) && status == .answeredAfterFlush }

    /// ninescope's proxy answered the client itself with the error a `proxy --fault` rule gave.
    public var answeredForAFault: Bool { flags.contains(.answeredByProxy) && status != .answeredAfterFlush }

    /// A `proxy --fault` rule acted on it (kept the request from the server, held the reply back, or
    /// answered with an error of its own).
    public var isFaulted: Bool { flags.contains(.faulted) || answeredForAFault }

    /// Whether the filter keyword `error` holds: an error reply, or never answered.
    public var isError: Bool {
        if answeredForAFlush { return false }
        return switch status {
        case .error, .unansweredAtClose, .abortedByVersion: true
        case .answeredAfterFlush: errno != 0 || replyType?.isError == true
        default: replyType?.isError == true
        }
    }

    /// The state the list colours the row by. Precedence: anomaly, error, flushed, injected, pending, ok.
    public var displayState: RowState {
        if flags.contains(.anomaly) || flags.contains(.malformed) || status == .unmatchedReply { return .anomaly }
        if isFlushed { return .flushed }
        if isError { return .error }
        if flags.contains(.injected) { return .injected }
        if status == .pending { return .pending }
        return .ok
    }

    /// The row's time: the request's, or the reply's for an unmatched reply.
    public var time: Int64 { start != Self.noTime ? start : end }
}
