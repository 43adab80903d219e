import NinePWire

/// Per-connection limits and policy for ``ServerConnection``.
public struct ServerConfig: Hashable, Sendable {
    /// The largest msize the server accepts; Rversion answers `min(client's msize, maxMsize)`.
    /// A transport's frame splitter may use this as its frame limit; larger frames close the connection.
    public var maxMsize: UInt32
    /// The smallest msize the server works with; a Tversion offering less is refused.
    public var minMsize: UInt32
    /// The most fids one connection may hold at once (EMFILE beyond).
    public var maxFids: Int
    /// Refuse every request that would change the tree (EROFS).
    public var readOnly: Bool
    /// Dialects the server offers. A client asking for one not offered is answered with "9P2000" when
    /// that is offered, else "unknown".
    public var dialects: Set<Dialect>
    /// iounit reported by Rlopen/Ropen/Rlcreate/Rcreate; nil = msize − IOHDRSZ (24).
    public var iounit: UInt32?
    /// Largest xattr value accepted by Txattrcreate (Linux XATTR_SIZE_MAX is 65536).
    public var maxXattrSize: UInt64

    public init(maxMsize: UInt32 = 131_096, minMsize: UInt32 = 256, maxFids: Int = 4096, readOnly: Bool = false,
                dialects: Set<Dialect> = Set(Dialect.allCases), iounit: UInt32? = nil, maxXattrSize: UInt64 = 65_536) {
        self.maxMsize = maxMsize; self.minMsize = minMsize; self.maxFids = maxFids; self.readOnly = readOnly
        self.dialects = dialects; self.iounit = iounit; self.maxXattrSize = maxXattrSize
    }
}

/// Why the server wants its connection closed (the `close` output of ``ServerConnection``).
public enum CloseReason: Hashable, Sendable, CustomStringConvertible {
    /// A frame larger than the negotiated msize (or ``ServerConfig/maxMsize`` before Tversion).
    case frameTooLarge(size: Int, msize: UInt32)
    /// A frame whose header cannot be read (shorter than 7 bytes, or size field ≠ frame length).
    case malformedFrame(String)
    /// A fault injected on purpose (`serve --fault close=TYPE`): the rule that fired.
    case fault(String)

    public var description: String {
        switch self {
        case let .frameTooLarge(size, msize): "frame of \(size) bytes exceeds msize \(msize)"
        case let .malformedFrame(why): "malformed frame: \(why)"
        case let .fault(rule): "fault \(rule)"
        }
    }
}

/// What a connection emits, for consumers that prefer a stream (see ``ServerConnection/makeStream(driver:config:)``).
public enum ServerOutput: Hashable, Sendable {
    /// A complete reply frame to write to the client.
    case frame([UInt8])
    /// The server wants the connection closed; nothing more will be emitted.
    case shouldClose(CloseReason)
}
