import NinePWire
import Testing
@testable import NinePCapture

@Suite struct PcapngWriterTests {
    /// Independent one's-complement sum check: a header with a correct checksum sums to 0xFFFF.
    static func onesComplementSum(_ bytes: [UInt8]) -> UInt32 {
        var sum: UInt32 = 0
        var index = 0
        while index < bytes.count {
            let high = UInt32(bytes[index]) << 8
            let low = index + 1 < bytes.count ? UInt32(bytes[index + 1]) : 0
            sum += high | low
            index += 2
        }
        while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
        return sum
    }

    static func packets(_ file: [UInt8]) throws -> [CapturedPacket] {
        var reader = try PcapngReader(bytes: file)
        let packets = reader.readAll()
        #expect(!reader.truncatedTail)
        #expect(reader.warnings.isEmpty)
        return packets
    }

    static func segment(_ packet: CapturedPacket) -> TCPSegment? {
        if case .tcp(let segment) = PacketDecoder.decode(packet.data, linkType: packet.linkType) { return segment }
        return nil
    }

    /// The writer's checksum (eight bytes at a time) equals the byte-pair sum above, over every length up
    /// to 300, odd and even starts, large payloads and all-0xFF data (where end-around carries pile up).
    @Test func fastChecksumAgreesWithTheBytePairSum() {
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt8 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: seed >> 56)
        }
        var cases: [[UInt8]] = (0...300).map { n in (0..<n).map { _ in next() } }
        cases.append((0..<65_547).map { _ in next() })
        cases.append([UInt8](repeating: 0xFF, count: 65_535))
        cases.append([UInt8](repeating: 0, count: 64))
        for bytes in cases {
            for start in [0, 1, 3] where start <= bytes.count {
                let slice = bytes[start...]
                let expected = Self.onesComplementSum(Array(slice))
                #expect(UInt32(NinePCapture.onesComplementSum(slice)) == expected, "length \(slice.count), start \(start)")
                slice.withUnsafeBytes { raw in
                    #expect(internetChecksum(raw) == ~UInt16(expected))
                    #expect(internetChecksum(raw, adding: 0x1_2345) == ~UInt16(foldedSum(UInt64(expected) + 0x1_2345)))
                }
            }
        }
    }

    @Test func headerDescribesTheCapture() throws {
        let writer = PcapngWriter(options: PcapngWriterOptions(toolVersion: "1.2.3"))
        var reader = try PcapngReader(bytes: writer.header())
        #expect(reader.readAll().isEmpty)
        #expect(reader.sections.first?.userApplication == "ninescope 1.2.3")
        #expect(reader.sections.first?.comments == ["ninescope capture-format=2"])
        #expect(reader.interfaces.map(\.linkType) == [.ethernet])
        #expect(reader.interfaces.first?.timestampResolution == 9)
        #expect(!reader.truncatedTail && reader.warnings.isEmpty)
    }

    @Test func handshakeDataAndCloseAreConsistent() throws {
        var writer = PcapngWriter()
        let conn = ConnectionID(7)
        var file = writer.header()
        file += writer.open(conn: conn, clientAddress: "127.0.0.1:51000", upstreamAddress: "tcp!127.0.0.1!5640",
                            t: 1_000)
        file += writer.frame(conn: conn, direction: .toServer, t: 2_000, bytes: Fix.tversion)
        file += writer.frame(conn: conn, direction: .toClient, t: 3_000, bytes: Fix.rversion, marks: [.injected])
        file += writer.close(conn: conn, t: 4_000)
        let packets = try Self.packets(file)
        #expect(packets.count == 8)
        #expect(packets.map(\.timestampNanos) == [1_000, 1_000, 1_000, 2_000, 3_000, 4_000, 4_000, 4_000])
        let segments = packets.compactMap(Self.segment)
        #expect(segments.count == 8)
        #expect(segments.map(\.flags) == [[.syn], [.syn, .ack], [.ack], [.ack, .psh], [.ack, .psh],
                                          [.fin, .ack], [.fin, .ack], [.ack]])
        let client = segments[0].source, server = segments[0].destination
        #expect(client.description == "10.0.1.1:40007")
        #expect(server.description == "10.0.0.1:564")
        // Sequence numbers advance by payload, SYN and FIN; every ACK names the peer's next byte.
        var next: [Endpoint: UInt32] = [:]
        for segment in segments {
            if let expected = next[segment.source] { #expect(segment.sequenceNumber == expected) }
            let consumed = UInt32(segment.payload.count) + (segment.flags.contains(.syn) ? 1 : 0)
                + (segment.flags.contains(.fin) ? 1 : 0)
            next[segment.source] = segment.sequenceNumber &+ consumed
            if segment.flags.contains(.ack) {
                #expect(segment.acknowledgmentNumber == next[segment.destination])
            }
        }
        // Checksums: IPv4 header and TCP (with pseudo-header) sum to 0xFFFF.
        for packet in packets {
            let ip = Array(packet.data[14..<34])
            #expect(Self.onesComplementSum(ip) == 0xFFFF)
            let tcp = Array(packet.data[34...])
            let pseudo = Array(packet.data[26..<34]) + [0, 6, UInt8(tcp.count >> 8), UInt8(tcp.count & 0xFF)]
            #expect(Self.onesComplementSum(pseudo + tcp) == 0xFFFF)
            #expect(packet.data[20] & 0x40 != 0) // DF
        }
        // Metadata in options.
        #expect(packets[0].comments == ["ninescope conn=7 dir=c2s ev=open client=127.0.0.1:51000 upstream=tcp!127.0.0.1!5640"])
        #expect(packets[3].comments == ["ninescope conn=7 dir=c2s ev=data seg=1/1"])
        #expect(packets[4].comments == ["ninescope conn=7 dir=s2c ev=data seg=1/1 marks=injected"])
        #expect(packets.map(\.flags) == [1, 2, 1, 1, 2, 1, 2, 1])
    }

    @Test func largeFramesAreSplitIntoSegments() throws {
        var writer = PcapngWriter(options: PcapngWriterOptions(maxSegmentSize: 100))
        let payload = (0..<250).map { UInt8($0 & 0xFF) }
        let file = writer.header() + writer.frame(conn: ConnectionID(0), direction: .toServer, t: 5, bytes: payload)
        let packets = try Self.packets(file)
        let data = Array(packets.dropFirst(3))
        #expect(data.compactMap(Self.segment).map(\.payload.count) == [100, 100, 50])
        #expect(data.compactMap(Self.segment).map(\.flags) == [[.ack], [.ack], [.ack, .psh]])
        #expect(data.map(\.comments) == [["ninescope conn=0 dir=c2s ev=data seg=1/3"],
                                         ["ninescope conn=0 dir=c2s ev=data seg=2/3"],
                                         ["ninescope conn=0 dir=c2s ev=data seg=3/3"]])
        // The auto-opened handshake carries no addresses.
        #expect(packets[0].comments == ["ninescope conn=0 dir=c2s ev=open"])
        #expect(PcapngWriterOptions(maxSegmentSize: 1_000_000).effectiveSegmentSize == 65495)
        #expect(PcapngWriterOptions(maxSegmentSize: 0).effectiveSegmentSize == 1)
    }

    @Test func cachedCommentsStayRightAcrossConnectionsMarksAndTheCacheLimit() throws {
        // Data comments are encoded once per connection, direction, segment, count and marks, and kept in
        // a map of at most `commentCacheLimit` entries: every packet must still get its own, across more
        // connections than that and keys that differ in one part only.
        var writer = PcapngWriter(options: PcapngWriterOptions(maxSegmentSize: 10))
        var file = writer.header()
        var expected: [String] = []
        let markChoices: [FrameMarks] = [[], [.injected], [.malformed]]
        let connections = PcapngWriter.commentCacheLimit + 300
        for n in 0..<connections {
            let conn = ConnectionID(UInt32(n * 7919 % 100_003))
            let first: Direction = n % 2 == 0 ? .toServer : .toClient
            let count = 1 + n % 3 * 10   // 1, 11 or 21 bytes: 1, 2 or 3 segments
            // Three frames per connection: the second differs from the first in its marks only, the third
            // in its direction only.
            let writes = [(first, markChoices[n % 3]), (first, markChoices[(n + 1) % 3]),
                          (first.reversed, markChoices[n % 3])]
            for (index, (direction, marks)) in writes.enumerated() {
                file += writer.frame(conn: conn, direction: direction, t: Int64(n * 3 + index),
                                     bytes: [UInt8](repeating: 1, count: count), marks: marks)
                let total = (count + 9) / 10
                for seg in 1...total {
                    var text = "ninescope conn=\(conn.rawValue) dir=\(direction == .toServer ? "c2s" : "s2c") ev=data seg=\(seg)/\(total)"
                    if marks == [.injected] { text += " marks=injected" }
                    if marks == [.malformed] { text += " marks=malformed" }
                    expected.append(text)
                }
            }
        }
        let packets = try Self.packets(file)
        let data = packets.filter { $0.comments.first?.contains("ev=data") == true }
        #expect(data.count == expected.count)
        let got = data.map { $0.comments.first ?? "" }
        let firstWrong = got.indices.first { $0 < expected.count && got[$0] != expected[$0] }
        #expect(firstWrong == nil, "packet \(firstWrong ?? 0): \(firstWrong.map { got[$0] } ?? "") instead of \(firstWrong.map { expected[$0] } ?? "")")
    }

    @Test func edgeCasesWriteNothing() {
        var writer = PcapngWriter()
        let conn = ConnectionID(1)
        #expect(!writer.open(conn: conn, clientAddress: "a", upstreamAddress: "b", t: 0).isEmpty)
        #expect(writer.open(conn: conn, clientAddress: "a", upstreamAddress: "b", t: 0).isEmpty)
        #expect(writer.frame(conn: conn, direction: .toServer, t: 0, bytes: []).isEmpty)
        #expect(!writer.close(conn: conn, reset: true, t: 0).isEmpty)
        #expect(writer.close(conn: conn, t: 0).isEmpty)
        #expect(writer.frame(conn: conn, direction: .toServer, t: 0, bytes: [1]).isEmpty)
        #expect(writer.close(conn: ConnectionID(99), t: 0).isEmpty)
    }

    @Test func clientAddressesStayUniqueAcrossManyConnections() {
        #expect(PcapngWriter.clientEndpoint(ConnectionID(0)).description == "10.0.1.1:40000")
        #expect(PcapngWriter.clientEndpoint(ConnectionID(19_999)).description == "10.0.1.1:59999")
        #expect(PcapngWriter.clientEndpoint(ConnectionID(20_000)).description == "10.0.1.2:40000")
        var seen = Set<Endpoint>()
        for id in stride(from: 0, to: 200_000, by: 7) { seen.insert(PcapngWriter.clientEndpoint(ConnectionID(UInt32(id)))) }
        #expect(seen.count == (200_000 + 6) / 7)
    }

    @Test func commentValuesAreEscaped() {
        let text = CaptureComment.encode([("upstream", "unix!/tmp/my sock=%1"), ("x", "ü")])
        #expect(text == "ninescope upstream=unix!/tmp/my%20sock%3D%251 x=%C3%BC")
        #expect(CaptureComment.parse(text) == ["upstream": "unix!/tmp/my sock=%1", "x": "ü"])
        #expect(CaptureComment.parse("ninescopes conn=1") == nil)
        #expect(CaptureComment.parse("hello") == nil)
        #expect(CaptureComment.parse("ninescope a=%Z1 b=2") == ["b": "2"])
    }

    /// The comment parser reads bytes; what it reads is what splitting the text into words reads (the
    /// reading below): leading, repeated and trailing spaces, words without `=`, `=` in a value, empty keys
    /// and values, bad escapes, and random words of the characters that matter.
    @Test func commentParsingReadsWhatSplittingWordsReads() {
        func byWords(_ text: String) -> [String: String]? {
            let words = text.split(separator: " ", omittingEmptySubsequences: true)
            guard words.first == "ninescope" else { return nil }
            var fields: [String: String] = [:]
            for word in words.dropFirst() {
                guard let eq = word.firstIndex(of: "=") else { continue }
                guard let v = CaptureComment.unescapedBytes(word[word.index(after: eq)...]) else { continue }
                fields[String(word[..<eq])] = String(decoding: v, as: UTF8.self)
            }
            return fields
        }
        var cases = ["ninescope", "ninescope ", "  ninescope conn=1  dir=c2s ", "ninescope a=b=c =x y= plain %41=1",
                     "ninescope a=1 a=2", "ninescope a=%4", "ninescope a=%41%42", "ninescopeconn=1", " ninescop",
                     "", "ninescope conn=0 dir=c2s ev=data seg=1/1", "ninescope k=%C3%BC"]
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("ns =%4Aa1".utf8)
        for _ in 0..<2000 {
            let body = (0..<Int.random(in: 0...24, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
            cases.append("ninescope " + String(decoding: body, as: UTF8.self))
        }
        for text in cases { #expect(CaptureComment.parse(text) == byWords(text), "\(text.debugDescription)") }
    }
    /// Each record's fixed bytes (stored on the stack and appended whole): for payloads of every length
    /// modulo four, in both byte orders, the reader finds each block well formed, and each packet's IPv4
    /// total length, TCP header length, SYN options and checksums are right.
    @Test func recordsOfEveryPaddingAreWellFormed() throws {
        for bigEndian in [false, true] {
            var writer = PcapngWriter(options: PcapngWriterOptions(maxSegmentSize: 1460, bigEndian: bigEndian))
            var file = writer.header()
            let conn = ConnectionID(3)
            file += writer.open(conn: conn, clientAddress: "a", upstreamAddress: "b", t: 10)
            let sizes = Array(1...9) + [1459, 1460, 1461]
            for (k, size) in sizes.enumerated() {
                let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ k) }
                file += writer.frame(conn: conn, direction: k % 2 == 0 ? .toServer : .toClient, t: Int64(20 + k),
                                     bytes: bytes, marks: k == 4 ? [.dropped] : [])
            }
            file += writer.close(conn: conn, reset: true, reason: "why", t: 99)
            let packets = try Self.packets(file)
            #expect(packets.count == 3 + sizes.count + 1 + 1, "big-endian \(bigEndian)")   // 1461 takes two segments
            for packet in packets {
                let d = packet.data
                #expect(packet.originalLength == d.count)
                #expect(Int(d[16]) << 8 | Int(d[17]) == d.count - 14)          // IPv4 total length
                let tcpHeader = Int(d[46] >> 4) * 4
                let syn = d[47] & 0x02 != 0
                #expect(tcpHeader == (syn ? 28 : 20))
                if syn {
                    #expect(Array(d[54..<58]) == [1, 3, 3, PcapngWriter.windowScale])
                    #expect(Array(d[58..<62]) == [2, 4, UInt8(1460 >> 8), UInt8(1460 & 0xFF)])
                }
                #expect(Self.onesComplementSum(Array(d[14..<34])) == 0xFFFF)
                let tcp = Array(d[34...])
                let pseudo = Array(d[26..<34]) + [0, 6, UInt8(tcp.count >> 8), UInt8(tcp.count & 0xFF)]
                #expect(Self.onesComplementSum(pseudo + tcp) == 0xFFFF)
            }
            let data = packets[3..<(3 + sizes.count + 1)].compactMap(Self.segment)
            #expect(data.map(\.payload.count) == Array(1...9) + [1459, 1460, 1460, 1])
            #expect(packets[7].comments == ["ninescope conn=3 dir=c2s ev=data seg=1/1 marks=dropped"])
            #expect(packets.last.flatMap(Self.segment)?.flags == [.rst, .ack])
        }
    }

    /// Records built with large payloads left out, then put back where the splices say, are the very bytes
    /// of records built whole: lengths, padding and checksums count the payloads left out.
    @Test func splicedPayloadsPutBackGiveTheSameRecords() {
        var seed: UInt64 = 0x5EED
        func next() -> UInt64 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return seed >> 33
        }
        for bigEndian in [false, true] {
            for segmentSize in [PcapngWriter.largestSegmentSize, 1000, 333] {
                let options = PcapngWriterOptions(maxSegmentSize: segmentSize, bigEndian: bigEndian)
                var whole = PcapngWriter(options: options), spliced = PcapngWriter(options: options)
                var expected: [UInt8] = [], built: [UInt8] = [], splices: [PayloadSplice] = []
                var sources: [[UInt8]] = []
                let conn = ConnectionID(5)
                expected += whole.open(conn: conn, clientAddress: "c", upstreamAddress: "u", t: 1)
                built += spliced.open(conn: conn, clientAddress: "c", upstreamAddress: "u", t: 1)
                for (k, size) in [1, 2, 3, 511, 512, 513, 999, 1000, 1001, 4095, 70_001, 65_536, 7, 200_003].enumerated() {
                    let bytes = (0..<size).map { _ in UInt8(truncatingIfNeeded: next()) }
                    let direction: Direction = k % 2 == 0 ? .toServer : .toClient
                    let marks: FrameMarks = k % 3 == 0 ? [.injected] : []
                    whole.appendFrame(conn: conn, direction: direction, t: Int64(k), bytes: bytes, marks: marks,
                                      to: &expected)
                    let before = splices.count
                    spliced.appendFrame(conn: conn, direction: direction, t: Int64(k), bytes: bytes, marks: marks,
                                        to: &built, splicing: 300, splices: &splices)
                    sources += Array(repeating: bytes, count: splices.count - before)
                }
                #expect(splices.count > 10)
                #expect(splices.allSatisfy { $0.range.count >= 300 })
                var file: [UInt8] = []
                var from = 0
                for (splice, source) in zip(splices, sources) {
                    file += built[from..<splice.at]
                    file += source[splice.range]
                    from = splice.at
                }
                file += built[from...]
                #expect(file == expected, "big-endian \(bigEndian), segments of \(segmentSize)")
                #expect(built.count + splices.reduce(0) { $0 + $1.range.count } == expected.count)
            }
        }
    }
}
