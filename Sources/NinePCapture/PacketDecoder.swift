/// Lifts TCP segments out of link-layer frames: Ethernet (with 802.1Q/802.1ad VLAN tags), Linux cooked
/// SLL and SLL2, raw IP (101, 228, 229), BSD NULL and OpenBSD LOOP; IPv4 (options; fragments: the first
/// is used, later ones skipped) and IPv6 (extension headers skipped). Every read is bounds-checked.
public enum PacketDecoder {
    static let etherTypeIPv4: UInt16 = 0x0800
    static let etherTypeIPv6: UInt16 = 0x86DD
    static let vlanEtherTypes: Set<UInt16> = [0x8100, 0x88A8, 0x9100]

    public static func decode(_ data: [UInt8], linkType: LinkType) -> PacketDecodeResult {
        switch linkType {
        case .ethernet:
            guard let type = data.u16(12, bigEndian: true) else { return .skipped("truncated Ethernet header") }
            return decode(etherType: type, data, at: 14)
        case .linuxSLL:
            guard let type = data.u16(14, bigEndian: true) else { return .skipped("truncated SLL header") }
            return decode(etherType: type, data, at: 16)
        case .linuxSLL2:
            guard let type = data.u16(0, bigEndian: true), data.has(0, 20) else {
                return .skipped("truncated SLL2 header")
            }
            return decode(etherType: type, data, at: 20)
        case .raw:
            guard let first = data.u8(0) else { return .skipped("empty raw IP packet") }
            switch first >> 4 {
            case 4: return decodeIPv4(data, at: 0)
            case 6: return decodeIPv6(data, at: 0)
            default: return .notTCP
            }
        case .ipv4:
            return decodeIPv4(data, at: 0)
        case .ipv6:
            return decodeIPv6(data, at: 0)
        case .null, .loop:
            guard let little = data.u32(0, bigEndian: false), let big = data.u32(0, bigEndian: true) else {
                return .skipped("truncated loopback header")
            }
            // NULL uses the capturing host's byte order; address families are small numbers.
            let family = linkType == .loop ? big : (little & 0xFFFF_0000 == 0 ? little : big)
            switch family {
            case 2: return decodeIPv4(data, at: 4)
            case 24, 28, 30: return decodeIPv6(data, at: 4) // BSD, FreeBSD, Darwin values of AF_INET6
            default: return .notTCP
            }
        default:
            return .skipped("unsupported link type \(linkType)")
        }
    }

    static func decode(etherType: UInt16, _ data: [UInt8], at start: Int) -> PacketDecodeResult {
        var type = etherType
        var offset = start
        while vlanEtherTypes.contains(type) {
            guard let inner = data.u16(offset + 2, bigEndian: true) else { return .skipped("truncated VLAN tag") }
            type = inner
            offset += 4
        }
        switch type {
        case etherTypeIPv4: return decodeIPv4(data, at: offset)
        case etherTypeIPv6: return decodeIPv6(data, at: offset)
        default: return .notTCP
        }
    }

    static func decodeIPv4(_ data: [UInt8], at start: Int) -> PacketDecodeResult {
        guard let versionIHL = data.u8(start), versionIHL >> 4 == 4 else { return .skipped("not an IPv4 header") }
        let headerLength = Int(versionIHL & 0x0F) * 4
        guard headerLength >= 20, data.has(start, headerLength),
              let totalLength = data.u16(start + 2, bigEndian: true),
              let fragment = data.u16(start + 6, bigEndian: true),
              let proto = data.u8(start + 9),
              let source = data.u32(start + 12, bigEndian: true),
              let destination = data.u32(start + 16, bigEndian: true) else {
            return .skipped("truncated IPv4 header")
        }
        guard proto == 6 else { return .notTCP }
        let fragmentOffset = fragment & 0x1FFF
        let moreFragments = fragment & 0x2000 != 0
        if fragmentOffset != 0 {
            let id = data.u16(start + 4, bigEndian: true) ?? 0
            return .skipped("IPv4 fragment (id \(id), offset \(Int(fragmentOffset) * 8)) skipped: "
                            + "fragments are not reassembled")
        }
        // Total length 0 appears with TCP segmentation offload; then the captured bytes are all we know.
        let declaredEnd = totalLength == 0 ? data.count : start + Int(totalLength)
        guard declaredEnd >= start + headerLength else { return .skipped("IPv4 total length below header") }
        return decodeTCP(data, at: start + headerLength, declaredEnd: declaredEnd,
                         source: .v4(source), destination: .v4(destination), firstFragment: moreFragments)
    }

    static func decodeIPv6(_ data: [UInt8], at start: Int) -> PacketDecodeResult {
        guard let version = data.u8(start), version >> 4 == 6, data.has(start, 40),
              let payloadLength = data.u16(start + 4, bigEndian: true),
              var next = data.u8(start + 6),
              let source = IPAddress(bytes: data.bytes(start + 8, 16) ?? []),
              let destination = IPAddress(bytes: data.bytes(start + 24, 16) ?? []) else {
            return .skipped("truncated IPv6 header")
        }
        let declaredEnd = payloadLength == 0 ? data.count : start + 40 + Int(payloadLength)
        var offset = start + 40
        var firstFragment = false
        while next != 6 {
            switch next {
            case 0, 43, 60, 135, 139, 140: // hop-by-hop, routing, destination, mobility, HIP, shim6
                guard let following = data.u8(offset), let length = data.u8(offset + 1) else {
                    return .skipped("truncated IPv6 extension header")
                }
                next = following
                offset += (Int(length) + 1) * 8
            case 44: // fragment
                guard let following = data.u8(offset), let field = data.u16(offset + 2, bigEndian: true) else {
                    return .skipped("truncated IPv6 fragment header")
                }
                if field >> 3 != 0 {
                    return .skipped("IPv6 fragment (offset \(Int(field >> 3) * 8)) skipped: "
                                    + "fragments are not reassembled")
                }
                firstFragment = field & 1 != 0
                next = following
                offset += 8
            case 51: // authentication header: length in 4-byte units, minus 2
                guard let following = data.u8(offset), let length = data.u8(offset + 1) else {
                    return .skipped("truncated IPv6 authentication header")
                }
                next = following
                offset += (Int(length) + 2) * 4
            default:
                return .notTCP // no next header, ESP, UDP, ICMPv6, …
            }
        }
        return decodeTCP(data, at: offset, declaredEnd: declaredEnd, source: source, destination: destination,
                         firstFragment: firstFragment)
    }

    static func decodeTCP(_ data: [UInt8], at start: Int, declaredEnd: Int, source: IPAddress,
                          destination: IPAddress, firstFragment: Bool) -> PacketDecodeResult {
        guard let sourcePort = data.u16(start, bigEndian: true),
              let destinationPort = data.u16(start + 2, bigEndian: true),
              let sequence = data.u32(start + 4, bigEndian: true),
              let acknowledgment = data.u32(start + 8, bigEndian: true),
              let offsetByte = data.u8(start + 12),
              let flags = data.u8(start + 13),
              let window = data.u16(start + 14, bigEndian: true) else {
            return .skipped("truncated TCP header")
        }
        let headerLength = Int(offsetByte >> 4) * 4
        guard headerLength >= 20 else { return .skipped("TCP data offset below 20 bytes") }
        guard data.has(start, headerLength) else { return .skipped("truncated TCP options") }
        let payloadStart = start + headerLength
        let availableEnd = min(declaredEnd, data.count)
        let payload = payloadStart < availableEnd ? Array(data[payloadStart..<availableEnd]) : []
        return .tcp(TCPSegment(
            source: Endpoint(address: source, port: sourcePort),
            destination: Endpoint(address: destination, port: destinationPort),
            sequenceNumber: sequence, acknowledgmentNumber: acknowledgment,
            flags: TCPFlags(rawValue: flags), window: window, payload: payload,
            declaredPayloadLength: max(0, declaredEnd - payloadStart), isFirstFragment: firstFragment))
    }
}
