import NinePWire
import Testing
@testable import NinePCapture

@Suite struct CaptureDecoderTests {
    /// A short 9P conversation as raw IPv4/TCP packets (no link header), client port 50000 → 564.
    static func conversation() -> [[UInt8]] {
        func ip(_ toServer: Bool, _ seq: UInt32, _ ack: UInt32, _ flags: UInt8, _ payload: [UInt8] = []) -> [UInt8] {
            let tcp = toServer ? Fix.tcp(sport: 50000, dport: 564, seq: seq, ack: ack, flags: flags, payload: payload)
                               : Fix.tcp(sport: 564, dport: 50000, seq: seq, ack: ack, flags: flags, payload: payload)
            return toServer ? Fix.ipv4(src: Fix.clientIP, dst: Fix.serverIP, body: tcp)
                            : Fix.ipv4(src: Fix.serverIP, dst: Fix.clientIP, body: tcp)
        }
        return [
            ip(true, 99, 0, 0x02), ip(false, 499, 100, 0x12), ip(true, 100, 500, 0x10),
            ip(true, 100, 500, 0x18, Fix.tversion), ip(false, 500, 121, 0x18, Fix.rversion),
            ip(true, 121, 521, 0x11), ip(false, 521, 122, 0x11), ip(true, 122, 522, 0x10),
        ]
    }

    static func expectConversation(_ contents: CaptureContents, sourceLocation: SourceLocation = #_sourceLocation) {
        let events = contents.events
        #expect(events.opens.map(\.client.description) == ["192.168.1.10:50000"], sourceLocation: sourceLocation)
        #expect(events.stream(1, .toServer) == Fix.tversion, sourceLocation: sourceLocation)
        #expect(events.stream(1, .toClient) == Fix.rversion, sourceLocation: sourceLocation)
        #expect(events.closes.map(\.reset) == [false], sourceLocation: sourceLocation)
        #expect(events.count == 4, sourceLocation: sourceLocation)
        #expect(contents.warnings.isEmpty, "\(contents.warnings)", sourceLocation: sourceLocation)
    }

    static func pcap(linkType: UInt32, header: [UInt8], big: Bool = false) -> [UInt8] {
        Fix.pcap(big: big, nano: false, linkType: linkType,
                 records: conversation().enumerated().map { (UInt32(1_000 + $0.offset), 0, header + $0.element) })
    }

    @Test func everyLinkTypeThroughTheWholePipeline() throws {
        let sll = Fix.be16(0) + Fix.be16(1) + Fix.be16(6) + [2, 0, 0, 0, 0, 1, 0, 0] + Fix.be16(0x0800)
        let sll2 = Fix.be16(0x0800) + Fix.be16(0) + Fix.be32(2) + Fix.be16(1) + [4, 6] + [2, 0, 0, 0, 0, 1, 0, 0]
        let ethernetVLAN = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2] + Fix.be16(0x8100) + Fix.be16(7) + Fix.be16(0x0800)
        Self.expectConversation(try CaptureFile.decode(Self.pcap(linkType: 1, header: ethernetVLAN)))
        Self.expectConversation(try CaptureFile.decode(Self.pcap(linkType: 113, header: sll, big: true)))
        Self.expectConversation(try CaptureFile.decode(Self.pcap(linkType: 276, header: sll2)))
        Self.expectConversation(try CaptureFile.decode(Self.pcap(linkType: 101, header: [])))
        Self.expectConversation(try CaptureFile.decode(Self.pcap(linkType: 228, header: [])))
        Self.expectConversation(try CaptureFile.decode(Self.pcap(linkType: 0, header: Fix.le32(2))))
        Self.expectConversation(try CaptureFile.decode(Self.pcap(linkType: 0, header: Fix.be32(2), big: true)))
    }

    @Test func ipv6ConversationInPcapng() throws {
        let client: [UInt8] = [0xFE, 0x80] + [UInt8](repeating: 0, count: 13) + [5]
        let server: [UInt8] = [0xFE, 0x80] + [UInt8](repeating: 0, count: 13) + [6]
        let hopByHop: [UInt8] = [6, 0, 1, 4, 0, 0, 0, 0]
        let packets = [
            Fix.ipv6(src: client, dst: server, next: 6, body: Fix.tcp(sport: 40000, dport: 564, seq: 5, flags: 0x02)),
            Fix.ipv6(src: client, dst: server, next: 0,
                     body: hopByHop + Fix.tcp(sport: 40000, dport: 564, seq: 6, flags: 0x18, payload: Fix.tversion)),
        ]
        let file = Fix.shb(true) + Fix.idb(true, linkType: 229, tsresol: 9)
            + packets.enumerated().map { Fix.epb(true, units: UInt64($0.offset), data: $0.element) }.joined()
        let contents = try CaptureFile.decode(file)
        #expect(contents.events.opens.map(\.server.description) == ["[fe80::6]:564"])
        #expect(contents.events.stream(1, .toServer) == Fix.tversion)
    }

    @Test func oddPacketsBecomeWarningsNotFailures() throws {
        let good = Self.conversation()
        let udp = Fix.ipv4(src: Fix.clientIP, dst: Fix.serverIP, body: [0, 1, 0, 2, 0, 8, 0, 0], proto: 17)
        let fragment = Fix.ipv4(src: Fix.clientIP, dst: Fix.serverIP, body: [1, 2, 3, 4, 5, 6, 7, 8],
                                fragmentField: 0x0010)
        let broken = [UInt8](good[3].prefix(30)) // IPv4 header fine, TCP header cut
        let records = [good[0], good[1], udp, good[2], fragment, broken, good[3], good[4], good[5], good[6], good[7]]
        let file = Fix.pcap(big: false, nano: true, linkType: 101,
                            records: records.map { (sec: 1, frac: 0, data: $0) })
        let contents = try CaptureFile.decode(file)
        #expect(contents.events.stream(1, .toServer) == Fix.tversion)
        #expect(contents.events.closes.count == 1)
        #expect(contents.warnings.map(\.packet) == [5, 6])
        #expect(contents.warnings.first?.message.contains("fragment") == true)
        #expect(contents.warnings.last?.message == "truncated TCP header")
        #expect(contents.packetCount == 11)
    }

    @Test func unsupportedLinkTypeIsReportedOnce() throws {
        let file = Fix.pcap(big: false, nano: false, linkType: 105, records: [(1, 0, [1, 2]), (2, 0, [3, 4])])
        let contents = try CaptureFile.decode(file)
        #expect(contents.events.isEmpty)
        #expect(contents.warnings.count == 1)
        #expect(contents.warnings.first?.message.contains("105") == true)
    }

    @Test func snapLengthCutBecomesAGap() throws {
        var packets = Self.conversation()
        packets[3] = Array(packets[3].dropLast(6)) // Tversion cut by a snap length: 6 bytes missing
        let file = Fix.pcap(big: false, nano: false, linkType: 101, records: packets.map { (1, 0, $0) })
        let contents = try CaptureFile.decode(file)
        #expect(contents.events.stream(1, .toServer) == Array(Fix.tversion.dropLast(6)))
        #expect(contents.events.gaps.map(\.missing) == [6])
        #expect(contents.warnings.count == 1)
    }

    /// The events of a capture as short words: `open`, `c2s 15` (data), `gap c2s 6`, `close`.
    static func kinds(_ events: [CaptureEvent]) -> [String] {
        events.map { e in
            switch e {
            case .open: "open"
            case .data(_, let d, _, let bytes, _): "\(d.token) \(bytes.count)"
            case .gap(_, let d, let n, _): "gap \(d.token) \(n)"
            case .close: "close"
            }
        }
    }

    /// A packet cut by a snap length: its bytes, then at once the hole where the rest was (not when a later
    /// packet shows it), so that a reader knows where the captured bytes end; one warning for the first such
    /// packet and a count at the end.
    @Test func aSnapLengthCutIsAGapRightAfterItsBytes() throws {
        var packets = Self.conversation()
        packets[3] = Array(packets[3].dropLast(6))   // Tversion
        packets[4] = Array(packets[4].dropLast(4))   // Rversion
        let file = Fix.pcap(big: false, nano: false, linkType: 101, records: packets.map { (1, 0, $0) })
        let contents = try CaptureFile.decode(file)
        let t = Fix.tversion.count - 6, r = Fix.rversion.count - 4
        #expect(Self.kinds(contents.events) == ["open", "c2s \(t)", "gap c2s 6", "s2c \(r)", "gap s2c 4", "close"])
        #expect(contents.warnings.map(\.packet) == [4, nil], "\(contents.warnings)")
        #expect(contents.warnings.last?.message == "2 packets cut short, 10 payload bytes not captured")

        // The cut segment arriving before the bytes in front of it: delivered with its hole once they come.
        let tv = Fix.tversion
        func ip(_ seq: UInt32, _ payload: [UInt8]) -> [UInt8] {
            Fix.ipv4(src: Fix.clientIP, dst: Fix.serverIP,
                     body: Fix.tcp(sport: 50000, dport: 564, seq: seq, ack: 500, flags: 0x18, payload: payload))
        }
        var reordered = Array(Self.conversation().prefix(3))
        reordered.append(Array(ip(110, Array(tv[10...])).dropLast(3)))
        reordered.append(ip(100, Array(tv[..<10])))
        reordered += Self.conversation().dropFirst(4)
        let late = try CaptureFile.decode(Fix.pcap(big: false, nano: false, linkType: 101,
                                                   records: reordered.map { (1, 0, $0) }))
        #expect(Self.kinds(late.events) == ["open", "c2s 10", "c2s \(tv.count - 13)", "gap c2s 3",
                                            "s2c \(Fix.rversion.count)", "close"])
        #expect(late.events.stream(1, .toServer) == Array(tv.dropLast(3)))
    }

    /// The same in a capture ninescope wrote (the exact path, by its packet comments), as `editcap -s` leaves
    /// one: the frame's captured bytes, then the hole.
    @Test func aSnapLengthCutInARecordedCaptureIsAGapRightAfterItsBytes() throws {
        func packet(_ toServer: Bool, _ seq: UInt32, _ ack: UInt32, _ payload: [UInt8], cut: Int) -> [UInt8] {
            let tcp = toServer ? Fix.tcp(sport: 40001, dport: 564, seq: seq, ack: ack, flags: 0x18, payload: payload)
                               : Fix.tcp(sport: 564, dport: 40001, seq: seq, ack: ack, flags: 0x18, payload: payload)
            let ip = toServer ? Fix.ipv4(src: Fix.clientIP, dst: Fix.serverIP, body: tcp)
                              : Fix.ipv4(src: Fix.serverIP, dst: Fix.clientIP, body: tcp)
            return Array(ip.dropLast(cut))
        }
        let c2s = CaptureComment.encode([("conn", "1"), ("dir", "c2s")])
        let s2c = CaptureComment.encode([("conn", "1"), ("dir", "s2c")])
        var file = Fix.shb(false) + Fix.idb(false, linkType: 101, tsresol: 9)
        file += Fix.epb(false, units: 1, data: packet(true, 1, 1, Fix.tversion, cut: 6), comments: [c2s])
        file += Fix.epb(false, units: 2, data: packet(false, 1, UInt32(1 + Fix.tversion.count), Fix.rversion, cut: 0),
                        comments: [s2c])
        file += Fix.epb(false, units: 3, data: packet(true, UInt32(1 + Fix.tversion.count), 1, Fix.tversion, cut: 0),
                        comments: [c2s])
        let contents = try CaptureFile.decode(file)
        #expect(Self.kinds(contents.events) == ["open", "c2s \(Fix.tversion.count - 6)", "gap c2s 6",
                                                "s2c \(Fix.rversion.count)", "c2s \(Fix.tversion.count)"])
    }

    @Test func recordedAndForeignConnectionsNeverShareAnID() throws {
        // A foreign conversation first (gets id 1), then one recorded by ninescope as conn 1.
        var writer = PcapngWriter()
        var file = Fix.shb(false) + Fix.idb(false, linkType: 101, tsresol: 9)
        for (index, packet) in Self.conversation().enumerated() {
            file += Fix.epb(false, units: UInt64(index), data: packet)
        }
        let own = writer.header() + writer.open(conn: ConnectionID(1), clientAddress: "c", upstreamAddress: "u", t: 50)
            + writer.frame(conn: ConnectionID(1), direction: .toServer, t: 51, bytes: Fix.tversion)
        file += own
        let contents = try CaptureFile.decode(file)
        #expect(contents.events.opens.map(\.conn) == [1, 2])
        #expect(contents.events.stream(2, .toServer) == Fix.tversion)
        #expect(contents.ninescopeFormatVersion == PcapngWriter.captureFormatVersion) // the second section's header
    }

    @Test func incrementalUseMatchesWholeFileDecoding() throws {
        let file = Self.pcap(linkType: 101, header: [])
        var reader = try CaptureReader(bytes: file)
        var decoder = CaptureDecoder()
        var events: [CaptureEvent] = []
        while let packet = reader.next() { events += decoder.process(packet) }
        events += decoder.finish()
        #expect(events == (try CaptureFile.decode(file)).events)
        #expect(events.count == 4)
    }
}
