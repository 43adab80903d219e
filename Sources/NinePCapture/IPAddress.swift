/// An IPv4 or IPv6 address as seen in a packet header.
public enum IPAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Host-order value: 10.0.0.1 is `0x0A00_0001`.
    case v4(UInt32)
    /// The 128 bits as two big-endian halves: `::1` is `.v6(0, 1)`.
    case v6(UInt64, UInt64)

    /// Builds an address from 4 or 16 network-order bytes; nil for any other length.
    public init?(bytes: [UInt8]) {
        switch bytes.count {
        case 4:
            self = .v4(bytes.u32(0, bigEndian: true) ?? 0)
        case 16:
            self = .v6(bytes.u64(0, bigEndian: true) ?? 0, bytes.u64(8, bigEndian: true) ?? 0)
        default:
            return nil
        }
    }

    /// Network-order bytes (4 or 16).
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        switch self {
        case .v4(let value):
            out.appendU32(value, bigEndian: true)
        case .v6(let high, let low):
            out.appendU64(high, bigEndian: true)
            out.appendU64(low, bigEndian: true)
        }
        return out
    }

    /// Dotted quad for IPv4; RFC 5952 text (lower case, longest zero run compressed) for IPv6.
    public var description: String {
        switch self {
        case .v4(let value):
            return (0..<4).map { String((value >> UInt32(24 - 8 * $0)) & 0xFF) }.joined(separator: ".")
        case .v6(let high, let low):
            if high == 0, low >> 32 == 0xFFFF {
                return "::ffff:" + IPAddress.v4(UInt32(truncatingIfNeeded: low)).description
            }
            let groups: [UInt16] = (0..<8).map { index in
                let half = index < 4 ? high : low
                return UInt16(truncatingIfNeeded: half >> UInt64(48 - 16 * (index % 4)))
            }
            // Longest run of at least two zero groups (first one wins ties).
            var bestStart = -1, bestLength = 0, runStart = -1
            for index in 0...8 {
                if index < 8, groups[index] == 0 {
                    if runStart < 0 { runStart = index }
                } else if runStart >= 0 {
                    let length = index - runStart
                    if length > bestLength && length >= 2 { bestStart = runStart; bestLength = length }
                    runStart = -1
                }
            }
            let hex = groups.map { String($0, radix: 16) }
            if bestStart < 0 { return hex.joined(separator: ":") }
            let head = hex[0..<bestStart].joined(separator: ":")
            let tail = hex[(bestStart + bestLength)...].joined(separator: ":")
            return head + "::" + tail
        }
    }
}

/// An IP address and TCP port.
public struct Endpoint: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var port: UInt16

    public init(address: IPAddress, port: UInt16) {
        self.address = address
        self.port = port
    }

    /// `10.0.0.1:564` or `[::1]:564`.
    public var description: String {
        switch address {
        case .v4: return "\(address):\(port)"
        case .v6: return "[\(address)]:\(port)"
        }
    }

    public static func < (lhs: Endpoint, rhs: Endpoint) -> Bool {
        (lhs.address, lhs.port) < (rhs.address, rhs.port)
    }
}
