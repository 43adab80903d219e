/// TCP header flags.
public struct TCPFlags: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let fin = TCPFlags(rawValue: 0x01)
    public static let syn = TCPFlags(rawValue: 0x02)
    public static let rst = TCPFlags(rawValue: 0x04)
    public static let psh = TCPFlags(rawValue: 0x08)
    public static let ack = TCPFlags(rawValue: 0x10)
    public static let urg = TCPFlags(rawValue: 0x20)
    public static let ece = TCPFlags(rawValue: 0x40)
    public static let cwr = TCPFlags(rawValue: 0x80)

    public var description: String {
        let names: [(TCPFlags, String)] = [(.syn, "SYN"), (.fin, "FIN"), (.rst, "RST"), (.psh, "PSH"),
                                           (.ack, "ACK"), (.urg, "URG"), (.ece, "ECE"), (.cwr, "CWR")]
        let set = names.filter { contains($0.0) }.map(\.1)
        return set.isEmpty ? "none" : set.joined(separator: "|")
    }
}

/// A TCP segment lifted out of a packet.
public struct TCPSegment: Hashable, Sendable {
    public var source: Endpoint
    public var destination: Endpoint
    public var sequenceNumber: UInt32
    public var acknowledgmentNumber: UInt32
    public var flags: TCPFlags
    public var window: UInt16
    /// The payload bytes present in the capture.
    public var payload: [UInt8]
    /// The payload length the IP header declares; more than `payload.count` when a snap length cut the
    /// packet or when this is the first fragment of a fragmented IPv4/IPv6 datagram.
    public var declaredPayloadLength: Int
    /// True for the first fragment of a fragmented datagram (the rest of its payload is not in this packet).
    public var isFirstFragment: Bool

    public init(source: Endpoint, destination: Endpoint, sequenceNumber: UInt32, acknowledgmentNumber: UInt32,
                flags: TCPFlags, window: UInt16 = 65535, payload: [UInt8] = [],
                declaredPayloadLength: Int? = nil, isFirstFragment: Bool = false) {
        self.source = source
        self.destination = destination
        self.sequenceNumber = sequenceNumber
        self.acknowledgmentNumber = acknowledgmentNumber
        self.flags = flags
        self.window = window
        self.payload = payload
        self.declaredPayloadLength = max(declaredPayloadLength ?? payload.count, payload.count)
        self.isFirstFragment = isFirstFragment
    }
}

/// What a packet turned out to hold.
public enum PacketDecodeResult: Hashable, Sendable {
    case tcp(TCPSegment)
    /// Not TCP over IP (ARP, UDP, ICMP, LLC, …): nothing to report.
    case notTCP
    /// TCP/IP that could not be used, with the reason (non-first fragment, truncated header, unknown link
    /// type, …): worth a warning.
    case skipped(String)
}
