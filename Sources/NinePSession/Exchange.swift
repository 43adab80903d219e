import NinePWire

/// Where an exchange is in its life.
public enum ExchangeStatus: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Request seen, no reply yet.
    case pending
    /// Answered with the matching R-message (or with an unexpected non-error type; see the anomaly).
    case ok
    /// Answered with Rerror or Rlerror; `Exchange.error` holds errno/ename.
    case error
    /// A Tflush targeted it and the Rflush came before any reply: cancelled, "as though never sent".
    case flushed
    /// A Tflush targeted it but the original reply still came before the Rflush (the reply counts);
    /// `Exchange.error` is set when that reply was an error.
    case answeredAfterFlush
    /// A Tflush that was never answered itself, but a later Tflush for the same request was: per
    /// flush(5) that Rflush answers all earlier ones.
    case superseded
    /// Still pending when the connection ended (a request still pending when a capture stopped stays `.pending`).
    case unansweredAtClose
    /// Still pending when a Tversion started a new session (version(5) aborts outstanding I/O).
    case abortedByVersion
    /// A reply whose tag matched no pending request (no request in this exchange).
    case unmatchedReply

    public var description: String {
        switch self {
        case .pending: "pending"
        case .ok: "ok"
        case .error: "error"
        case .flushed: "flushed"
        case .answeredAfterFlush: "answered-after-flush"
        case .superseded: "superseded"
        case .unansweredAtClose: "unanswered-at-close"
        case .abortedByVersion: "aborted-by-version"
        case .unmatchedReply: "unmatched-reply"
        }
    }

    /// Whether the exchange is finished (no reply expected any more).
    public var isComplete: Bool { self != .pending }
}

/// The error carried by Rerror (ename, and errno in 9P2000.u) or Rlerror (ecode).
public struct ExchangeError: Hashable, Sendable, CustomStringConvertible {
    /// Linux errno: Rlerror's ecode, or 9P2000.u Rerror's errno. Nil for plain 9P2000 Rerror or a
    /// malformed error reply.
    public var errno: Errno?
    /// Rerror's ename (nil for Rlerror, and for a 9P2000.L Rerror of errno[4] alone, as nfs-ganesha sends).
    public var ename: String?
    public init(errno: Errno?, ename: String?) { self.errno = errno; self.ename = ename }
    public var description: String {
        switch (errno, ename) {
        case let (e?, n?): "\(n) (\(e))"
        case let (e?, nil): e.name.map { "\($0) \(e.message)" } ?? e.message
        case let (nil, n?): n
        case (nil, nil): "error"
        }
    }
}

/// For a Tflush exchange: what happened to the request it targeted.
public enum FlushOutcome: UInt8, Hashable, Sendable, CustomStringConvertible {
    /// The Tflush is itself still pending (or was never answered).
    case awaitingRflush
    /// `oldtag` matched no pending request when the Tflush was seen (legal; the server just answers).
    case noPendingTarget
    /// The Rflush came first: the target was cancelled.
    case targetFlushed
    /// The target's reply came after the Tflush but before the Rflush: the reply stands.
    case targetAnsweredFirst
    /// The target's reply came after the Rflush: a server bug (see `AnomalyKind.replyAfterRflush`).
    case targetAnsweredAfterRflush
    /// This Tflush was superseded: a later Tflush for the same request was answered.
    case superseded

    public var description: String {
        switch self {
        case .awaitingRflush: "awaiting Rflush"
        case .noPendingTarget: "no pending target"
        case .targetFlushed: "target flushed"
        case .targetAnsweredFirst: "target answered before Rflush"
        case .targetAnsweredAfterRflush: "target answered after Rflush"
        case .superseded: "superseded by a later flush"
        }
    }
}

/// One request/reply pair (by tag, per connection), as known now.
public struct Exchange: Hashable, Sendable, Identifiable {
    public var id: ExchangeID
    public var conn: ConnectionID
    public var tag: Tag
    /// The request's type code (from its header, even when the body was malformed); nil for an
    /// unmatched reply.
    public var requestCode: UInt8?
    /// The reply's type code, once a reply came.
    public var replyCode: UInt8?
    public var requestIndex: MessageIndex?
    public var replyIndex: MessageIndex?
    /// A reply that came after this exchange was already flushed (a protocol violation).
    public var lateReplyIndex: MessageIndex?
    /// Request time (ns); nil for an unmatched reply.
    public var start: Int64?
    /// Completion time (ns): reply, Rflush, close or Tversion.
    public var end: Int64?
    public var status: ExchangeStatus
    /// Set when the reply was Rerror/Rlerror.
    public var error: ExchangeError?
    /// The request was marked `.injected` by the proxy.
    public var isInjected: Bool
    /// The request or the reply could not be decoded.
    public var isMalformed: Bool
    /// For a Tflush: the exchange its `oldtag` referred to (nil when no request was pending on it).
    public var flushTarget: ExchangeID?
    /// For a Tflush: what became of its target.
    public var flushOutcome: FlushOutcome?
    /// The Tflush exchanges that targeted this exchange, in order.
    public var flushedBy: [ExchangeID]

    public init(id: ExchangeID, conn: ConnectionID, tag: Tag, requestCode: UInt8?, replyCode: UInt8?,
                requestIndex: MessageIndex?, replyIndex: MessageIndex?, lateReplyIndex: MessageIndex?,
                start: Int64?, end: Int64?, status: ExchangeStatus, error: ExchangeError?, isInjected: Bool,
                isMalformed: Bool, flushTarget: ExchangeID?, flushOutcome: FlushOutcome?, flushedBy: [ExchangeID]) {
        self.id = id; self.conn = conn; self.tag = tag; self.requestCode = requestCode; self.replyCode = replyCode
        self.requestIndex = requestIndex; self.replyIndex = replyIndex; self.lateReplyIndex = lateReplyIndex
        self.start = start; self.end = end; self.status = status; self.error = error; self.isInjected = isInjected
        self.isMalformed = isMalformed; self.flushTarget = flushTarget; self.flushOutcome = flushOutcome
        self.flushedBy = flushedBy
    }

    /// The request's type (nil for unknown codes or an unmatched reply).
    public var requestType: MessageType? { requestCode.flatMap { MessageType(rawValue: $0) } }
    /// The reply's type (nil when none or unknown).
    public var replyType: MessageType? { replyCode.flatMap { MessageType(rawValue: $0) } }
    /// Reply time − request time (ns), when both are known and a reply (or Rflush) ended it.
    public var latency: Int64? {
        guard let s = start, let e = end, status != .pending, status != .unansweredAtClose,
              status != .abortedByVersion else { return nil }
        return e - s
    }
    /// Whether this exchange is a Tflush.
    public var isFlush: Bool { requestCode == MessageType.tflush.rawValue }
}
