import Testing
@testable import NinePCapture

@Suite struct PacketDecoderTests {
    static let payload: [UInt8] = Fix.tversion
    static let tcpBytes = Fix.tcp(sport: 50000, dport: 564, seq: 77, ack: 88, flags: 0x18, payload: payload)
    static let ipv4Bytes = Fix.ipv4(src: Fix.clientIP, dst: Fix.serverIP, body: tcpBytes)
    static let v6Client: [UInt8] = [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [1]
    static let v6Server: [UInt8] = [UInt8](repeating: 0, count: 15) + [1]

    func expectSegment(_ result: PacketDecodeResult, v6: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) {
        guard case .tcp(let segment) = result else {
            Issue.record("expected TCP, got \(result)", sourceLocation: sourceLocation)
            return
        }
        #expect(segment.source.port == 50000, sourceLocation: sourceLocation)
        #expect(segment.destination.port == 564, sourceLocation: sourceLocation)
        #expect(segment.sequenceNumber == 77, sourceLocation: sourceLocation)
        #expect(segment.acknowledgmentNumber == 88, sourceLocation: sourceLocation)
        #expect(segment.flags == [.psh, .ack], sourceLocation: sourceLocation)
        #expect(segment.payload == Self.payload, sourceLocation: sourceLocation)
        if v6 {
            #expect(segment.source.description == "[2001:db8::1]:50000", sourceLocation: sourceLocation)
            #expect(segment.destination.description == "[::1]:564", sourceLocation: sourceLocation)
        } else {
            #expect(segment.source.description == "192.168.1.10:50000", sourceLocation: sourceLocation)
        }
    }

    @Test func ethernetIPv4() {
        expectSegment(PacketDecoder.decode(Fix.ethernet(type: 0x0800, Self.ipv4Bytes), linkType: .ethernet))
    }

    @Test func ethernetPaddingIsNotPayload() {
        let ack = Fix.ipv4(src: Fix.clientIP, dst: Fix.serverIP, body: Fix.tcp(sport: 1, dport: 564, seq: 5, flags: 0x10))
        let frame = Fix.ethernet(type: 0x0800, ack) + [0, 0, 0, 0, 0, 0] // padded to 60 bytes
        guard case .tcp(let segment) = PacketDecoder.decode(frame, linkType: .ethernet) else {
            Issue.record("expected TCP")
            return
        }
        #expect(segment.payload.isEmpty)
    }

    @Test func vlanAndStackedVlan() {
        expectSegment(PacketDecoder.decode(Fix.ethernet(type: 0x0800, Self.ipv4Bytes, vlans: [0x8100]),
                                           linkType: .ethernet))
        expectSegment(PacketDecoder.decode(Fix.ethernet(type: 0x0800, Self.ipv4Bytes, vlans: [0x88A8, 0x8100]),
                                           linkType: .ethernet))
    }

    @Test func ipv4Options() {
        let withOptions = Fix.ipv4(src: Fix.clientIP, dst: Fix.serverIP, body: Self.tcpBytes,
                                   options: [0x01, 0x01, 0x01, 0x00, 0x94, 0x04, 0x00, 0x00])
        expectSegment(PacketDecoder.decode(withOptions, linkType: .raw))
    }

    @Test func linuxCooked() {
        let sll = Fix.be16(0) + Fix.be16(772) + Fix.be16(6) + [2, 0, 0, 0, 0, 1, 0, 0] + Fix.be16(0x0800)
        expectSegment(PacketDecoder.decode(sll + Self.ipv4Bytes, linkType: .linuxSLL))
        let sll2 = Fix.be16(0x0800) + Fix.be16(0) + Fix.be32(1) + Fix.be16(1) + [0, 6] + [2, 0, 0, 0, 0, 1, 0, 0]
        #expect(sll2.count == 20)
        expectSegment(PacketDecoder.decode(sll2 + Self.ipv4Bytes, linkType: .linuxSLL2))
    }

    @Test func rawLinkTypes() {
        let ipv6 = Fix.ipv6(src: Self.v6Client, dst: Self.v6Server, next: 6, body: Self.tcpBytes)
        expectSegment(PacketDecoder.decode(Self.ipv4Bytes, linkType: .raw))
        expectSegment(PacketDecoder.decode(Self.ipv4Bytes, linkType: .ipv4))
        expectSegment(PacketDecoder.decode(ipv6, linkType: .raw), v6: true)
        expectSegment(PacketDecoder.decode(ipv6, linkType: .ipv6), v6: true)
    }

    @Test func bsdNullInBothByteOrdersAndLoop() {
        let ipv6 = Fix.ipv6(src: Self.v6Client, dst: Self.v6Server, next: 6, body: Self.tcpBytes)
        expectSegment(PacketDecoder.decode(Fix.le32(2) + Self.ipv4Bytes, linkType: .null))
        expectSegment(PacketDecoder.decode(Fix.be32(2) + Self.ipv4Bytes, linkType: .null))
        expectSegment(PacketDecoder.decode(Fix.le32(30) + ipv6, linkType: .null), v6: true)
        expectSegment(PacketDecoder.decode(Fix.be32(24) + ipv6, linkType: .null), v6: true)
        expectSegment(PacketDecoder.decode(Fix.be32(2) + Self.ipv4Bytes, linkType: .loop))
    }

    @Test func ipv6ExtensionHeadersAreSkipped() {
        // hop-by-hop (8 bytes) → destination options (16 bytes) → fragment (first fragment, M=0) → TCP
        let hopByHop: [UInt8] = [60, 0, 1, 4, 0, 0, 0, 0]
        let destination: [UInt8] = [44, 1] + [UInt8](repeating: 0, count: 14)
        let fragment: [UInt8] = [6, 0, 0, 0, 0, 0, 0, 9]
        let ipv6 = Fix.ipv6(src: Self.v6Client, dst: Self.v6Server, next: 0,
                            body: hopByHop + destination + fragment + Self.tcpBytes)
        expectSegment(PacketDecoder.decode(Fix.ethernet(type: 0x86DD, ipv6), linkType: .ethernet), v6: true)
    }

    @Test func ipv6NonFirstFragmentIsSkipped() {
        let fragment: [UInt8] = [6, 0, 0x05, 0x00, 0, 0, 0, 9] // offset 160 × 8
        let ipv6 = Fix.ipv6(src: Self.v6Client, dst: Self.v6Server, next: 44, body: fragment + Self.tcpBytes)
        guard case .skipped(let reason) = PacketDecoder.decode(ipv6, linkType: .raw) else {
            Issue.record("expected skipped")
            return
        }
        #expect(reason.contains("fragment"))
    }

    @Test func ipv4Fragments() {
        let first = Fix.ipv4(src: Fix.clientIP, dst: Fix.serverIP, body: Self.tcpBytes, fragmentField: 0x2000)
        guard case .tcp(let segment) = PacketDecoder.decode(first, linkType: .raw) else {
            Issue.record("first fragment should decode")
            return
        }
        #expect(segment.isFirstFragment)
        let later = Fix.ipv4(src: Fix.clientIP, dst: Fix.serverIP, body: [1, 2, 3, 4, 5, 6, 7, 8], fragmentField: 0x0003)
        guard case .skipped(let reason) = PacketDecoder.decode(later, linkType: .raw) else {
            Issue.record("later fragment should be skipped")
            return
        }
        #expect(reason.contains("offset 24"))
    }

    @Test func snapLengthCutKeepsDeclaredLength() {
        let full = Fix.ethernet(type: 0x0800, Self.ipv4Bytes)
        guard case .tcp(let segment) = PacketDecoder.decode(Array(full.dropLast(5)), linkType: .ethernet) else {
            Issue.record("expected TCP")
            return
        }
        #expect(segment.payload == Array(Self.payload.dropLast(5)))
        #expect(segment.declaredPayloadLength == Self.payload.count)
    }

    @Test func nonTCPAndBrokenPackets() {
        let udp = Fix.ipv4(src: Fix.clientIP, dst: Fix.serverIP, body: [0, 1, 0, 2, 0, 8, 0, 0], proto: 17)
        #expect(PacketDecoder.decode(udp, linkType: .raw) == .notTCP)
        #expect(PacketDecoder.decode(Fix.ethernet(type: 0x0806, [1, 2, 3]), linkType: .ethernet) == .notTCP)
        #expect(PacketDecoder.decode([1, 2, 3], linkType: .ethernet) == .skipped("truncated Ethernet header"))
        #expect(PacketDecoder.decode([0x45, 0, 0], linkType: .raw) == .skipped("truncated IPv4 header"))
        let shortTCP = Fix.ipv4(src: Fix.clientIP, dst: Fix.serverIP, body: [0, 1, 2])
        #expect(PacketDecoder.decode(shortTCP, linkType: .raw) == .skipped("truncated TCP header"))
        if case .skipped(let reason) = PacketDecoder.decode([1], linkType: LinkType(rawValue: 147)) {
            #expect(reason.contains("147"))
        } else {
            Issue.record("unknown link type should be skipped")
        }
        // Every prefix of a valid packet decodes without trapping.
        let full = Fix.ethernet(type: 0x86DD, Fix.ipv6(src: Self.v6Client, dst: Self.v6Server, next: 0,
                                                       body: [6, 0, 0, 0, 0, 0, 0, 0] + Self.tcpBytes))
        var tcpCount = 0
        for cut in 0...full.count {
            if case .tcp = PacketDecoder.decode(Array(full[..<cut]), linkType: .ethernet) { tcpCount += 1 }
        }
        #expect(tcpCount == Self.payload.count + 1) // every cut at or after the TCP header's end
    }

    @Test func addressFormatting() {
        #expect(IPAddress(bytes: [10, 0, 0, 1])?.description == "10.0.0.1")
        #expect(IPAddress(bytes: Self.v6Server)?.description == "::1")
        #expect(IPAddress(bytes: [UInt8](repeating: 0, count: 16))?.description == "::")
        let mapped: [UInt8] = [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF, 127, 0, 0, 1]
        #expect(IPAddress(bytes: mapped)?.description == "::ffff:127.0.0.1")
        let twoRuns: [UInt8] = [0x20, 0x01, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]
        #expect(IPAddress(bytes: twoRuns)?.description == "2001:0:0:1::1")
        #expect(IPAddress(bytes: [1, 2, 3]) == nil)
    }
}
