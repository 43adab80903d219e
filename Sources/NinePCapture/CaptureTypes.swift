
/// A pcap/pcapng link-layer type (LINKTYPE_* values from the tcpdump registry).
public struct LinkType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// BSD loopback: 4-byte address family in the capturing host's byte order.
    public static let null = LinkType(rawValue: 0)
    public static let ethernet = LinkType(rawValue: 1)
    /// Raw IPv4 or IPv6, version taken from the first nibble.
    public static let raw = LinkType(rawValue: 101)
    /// OpenBSD loopback: 4-byte address family in network byte order.
    public static let loop = LinkType(rawValue: 108)
    public static let linuxSLL = LinkType(rawValue: 113)
    public static let ipv4 = LinkType(rawValue: 228)
    public static let ipv6 = LinkType(rawValue: 229)
    public static let linuxSLL2 = LinkType(rawValue: 276)

    public var description: String {
        switch self {
        case .null: return "NULL"
        case .ethernet: return "ETHERNET"
        case .raw: return "RAW"
        case .loop: return "LOOP"
        case .linuxSLL: return "LINUX_SLL"
        case .ipv4: return "IPV4"
        case .ipv6: return "IPV6"
        case .linuxSLL2: return "LINUX_SLL2"
        default: return "LINKTYPE_\(rawValue)"
        }
    }
}

/// The container format of a capture file.
public enum CaptureFormat: String, Hashable, Sendable {
    case pcap
    case pcapng
}

/// Something odd but survivable in a capture. `offset` is a byte offset in the file when known,
/// `packet` the 1-based packet number (as tshark's frame.number counts) when it concerns one packet.
public struct CaptureWarning: Hashable, Sendable, CustomStringConvertible {
    public var offset: Int?
    public var packet: Int?
    public var message: String

    public init(offset: Int? = nil, packet: Int? = nil, message: String) {
        self.offset = offset
        self.packet = packet
        self.message = message
    }

    public var description: String {
        if let packet { return "packet \(packet): \(message)" }
        return message
    }
}

/// Why a capture could not be read at all.
public enum CaptureError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Fewer bytes than any format's magic number.
    case tooShort(count: Int)
    /// The first four bytes are no pcap or pcapng magic.
    case unrecognizedFormat(magic: UInt32)
    /// A pcapng section header with an unknown byte-order magic or major version.
    case unsupportedVersion(major: UInt16, minor: UInt16)

    public var description: String {
        switch self {
        case .tooShort(let count):
            return "capture too short to identify (\(count) bytes)"
        case .unrecognizedFormat(let magic):
            return "not a pcap or pcapng file (magic 0x\(String(magic, radix: 16)))"
        case .unsupportedVersion(let major, let minor):
            return "unsupported capture version \(major).\(minor)"
        }
    }
}

/// One packet record from a capture, link layer still attached.
public struct CapturedPacket: Hashable, Sendable {
    /// 1-based position in the file (tshark's frame.number).
    public var number: Int
    /// Byte offset of the record (pcap) or block (pcapng) in the file.
    public var fileOffset: Int
    /// Nanoseconds since the Unix epoch.
    public var timestampNanos: Int64
    public var linkType: LinkType
    /// The captured bytes (possibly fewer than `originalLength` when the capture used a snap length).
    public var data: [UInt8]
    public var originalLength: Int
    /// pcapng interface id (0 for pcap).
    public var interfaceID: Int
    /// pcapng section number (0 for pcap; increments at each further section header).
    public var section: Int
    /// pcapng opt_comment values of the packet block.
    public var comments: [String]
    /// pcapng epb_flags, when present.
    public var flags: UInt32?

    public init(number: Int, fileOffset: Int = 0, timestampNanos: Int64, linkType: LinkType, data: [UInt8],
                originalLength: Int? = nil, interfaceID: Int = 0, section: Int = 0,
                comments: [String] = [], flags: UInt32? = nil) {
        self.number = number
        self.fileOffset = fileOffset
        self.timestampNanos = timestampNanos
        self.linkType = linkType
        self.data = data
        self.originalLength = originalLength ?? data.count
        self.interfaceID = interfaceID
        self.section = section
        self.comments = comments
        self.flags = flags
    }
}
