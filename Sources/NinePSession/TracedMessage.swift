import NinePWire

/// One frame (or one run of unframeable bytes) as the tracker saw it: raw bytes, the decoding, and
/// what the tracker knew at that moment.
public struct TracedMessage: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        /// A frame from the splitter.
        case frame
        /// Unframeable bytes, with the splitter's reason.
        case garbage(reason: String)
    }

    /// Global, dense message index (0, 1, 2, …) across all connections.
    public var index: MessageIndex
    public var conn: ConnectionID
    public var direction: Direction
    /// ns since the epoch.
    public var timestamp: Int64
    public var kind: Kind
    /// The frame exactly as seen (shared storage with the tracker's log: no copy).
    public var bytes: [UInt8]
    public var marks: FrameMarks
    /// The dialect the frame was decoded with.
    public var dialect: Dialect
    /// The decoding; `.failure` for malformed frames and garbage.
    public var fcall: Result<Fcall, DecodeError>
    /// The exchange this message belongs to (nil for garbage and header-less frames).
    public var exchange: ExchangeID?
    /// For a reply: the index of the request it answers.
    public var requestIndex: MessageIndex?
    /// For a reply: its time − the request's time (ns).
    public var latency: Int64?
    /// The path of the fid the message is about, when known: for requests, the primary fid's path
    /// before the request (Tattach: the attach root); for replies, the same fid's path after the reply
    /// took effect (Rwalk: newfid's path).
    public var fidPath: FidPath?

    public init(index: MessageIndex, conn: ConnectionID, direction: Direction, timestamp: Int64, kind: Kind,
                bytes: [UInt8], marks: FrameMarks, dialect: Dialect, fcall: Result<Fcall, DecodeError>,
                exchange: ExchangeID?, requestIndex: MessageIndex?, latency: Int64?, fidPath: FidPath?) {
        self.index = index; self.conn = conn; self.direction = direction; self.timestamp = timestamp
        self.kind = kind; self.bytes = bytes; self.marks = marks; self.dialect = dialect; self.fcall = fcall
        self.exchange = exchange; self.requestIndex = requestIndex; self.latency = latency; self.fidPath = fidPath
    }

    /// The fixed header (nil for frames shorter than 7 bytes and for garbage).
    public var header: FrameHeader? {
        if case .garbage = kind { return nil }
        return FrameHeader(bytes)
    }
    /// The decoded message, nil when malformed.
    public var decoded: Fcall? { try? fcall.get() }
    /// Whether it is a T-message (even type code); nil for garbage and header-less frames.
    public var isRequest: Bool? { header.map { $0.type & 1 == 0 } }
    public var isMalformed: Bool {
        if case .failure = fcall { return true }
        return false
    }

    /// The one line shown everywhere: the canonical line of the decoded message, or
    /// `malformed Twalk tag 3 (17 bytes): malformed at byte 15 (wname[0]): …`, or
    /// `garbage 9 bytes: <reason>`.
    public var canonicalLine: String {
        switch (kind, fcall) {
        case (.garbage(let reason), _):
            return "garbage \(bytes.count) bytes: \(reason)"
        case (.frame, .success(let f)):
            return f.canonicalLine
        case (.frame, .failure(let e)):
            guard let h = header else { return "malformed frame (\(bytes.count) bytes): \(e)" }
            return "malformed \(TracedMessage.typeName(h.type)) tag \(h.tag) (\(bytes.count) bytes): \(e)"
        }
    }

    /// Appends `canonicalLine` as UTF-8 (decoded frames without an intermediate `String`).
    public func appendCanonicalLine(to out: inout [UInt8]) {
        if case (.frame, .success(let f)) = (kind, fcall) {
            f.appendCanonicalLine(to: &out)
        } else {
            out.append(contentsOf: canonicalLine.utf8)
        }
    }

    /// The manual name of a type code, or `type<code>` when unknown.
    public static func typeName(_ code: UInt8) -> String {
        MessageType(rawValue: code)?.name ?? "type" + String(code)
    }
}

/// A message's metadata without decoding it (cheap; for lists and filters over a large log).
public struct MessageSummary: Hashable, Sendable {
    public var index: MessageIndex
    public var conn: ConnectionID
    public var direction: Direction
    public var timestamp: Int64
    public var isGarbage: Bool
    public var isMalformed: Bool
    public var marks: FrameMarks
    public var dialect: Dialect
    /// Frame length in bytes.
    public var size: Int
    /// Header fields (nil for garbage and frames shorter than 7 bytes).
    public var typeCode: UInt8?
    public var tag: Tag?
    public var exchange: ExchangeID?
}
