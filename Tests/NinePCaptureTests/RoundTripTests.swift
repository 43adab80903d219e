import NinePWire
import Testing
@testable import NinePCapture

@Suite struct RoundTripTests {
    /// What a writer was told, to compare with what the reader returns.
    enum Step {
        case open(Int, String, String, Int64)
        case frame(Int, Direction, Int64, [UInt8], FrameMarks)
        /// Connection, reset, time, and why (the proxy's reason, when not an orderly EOF).
        case close(Int, Bool, Int64, String? = nil)
    }

    static func write(_ steps: [Step], options: PcapngWriterOptions = PcapngWriterOptions()) -> [UInt8] {
        var writer = PcapngWriter(options: options)
        var file = writer.header()
        for step in steps {
            switch step {
            case .open(let id, let client, let upstream, let t):
                file += writer.open(conn: ConnectionID(UInt32(id)), clientAddress: client, upstreamAddress: upstream, t: t)
            case .frame(let id, let direction, let t, let bytes, let marks):
                file += writer.frame(conn: ConnectionID(UInt32(id)), direction: direction, t: t, bytes: bytes, marks: marks)
            case .close(let id, let reset, let t, let why):
                file += writer.close(conn: ConnectionID(UInt32(id)), reset: reset, reason: why, t: t)
            }
        }
        return file
    }

    /// The events the reader must return for `steps` (server port 564).
    static func expectedEvents(_ steps: [Step]) -> [CaptureEvent] {
        steps.map { step in
            switch step {
            case .open(let id, let client, let upstream, let t):
                return .open(conn: ConnectionID(UInt32(id)), client: PcapngWriter.clientEndpoint(ConnectionID(UInt32(id))),
                             server: Endpoint(address: .v4(0x0A00_0001), port: 564), timestampNanos: t,
                             metadata: CaptureMetadata(clientAddress: client, upstreamAddress: upstream))
            case .frame(let id, let direction, let t, let bytes, let marks):
                return .data(conn: ConnectionID(UInt32(id)), direction: direction, timestampNanos: t, bytes: bytes,
                             metadata: CaptureMetadata(marks: marks))
            case .close(let id, let reset, let t, let why):
                return .close(conn: ConnectionID(UInt32(id)), reset: reset, reason: why, timestampNanos: t)
            }
        }
    }

    static let big: [UInt8] = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }

    static let conversation: [Step] = [
        .open(3, "127.0.0.1:51000", "unix!/tmp/9p sock", 1_700_000_000_000_000_001),
        .frame(3, .toServer, 1_700_000_000_000_000_002, Fix.tversion, []),
        .open(9, "[::1]:4242", "tcp!server!564", 1_700_000_000_000_000_003),
        .frame(3, .toClient, 1_700_000_000_000_000_004, Fix.rversion, [.intercepted]),
        .frame(9, .toServer, 1_700_000_000_000_000_005, Fix.twrite(tag: 1, data: big), [.injected, .malformed]),
        .frame(9, .toClient, 1_700_000_000_000_000_006, Fix.rwrite(tag: 1, count: 200_000), []),
        .close(3, false, 1_700_000_000_000_000_007, "proxy stopped (100% = done)"),
        .close(9, true, 1_700_000_000_000_000_008, "reset by upstream"),
    ]

    @Test(arguments: [PcapngWriter.largestSegmentSize, 1000, 97])
    func ownCaptureRestoresEverythingExactly(segmentSize: Int) throws {
        let file = Self.write(Self.conversation, options: PcapngWriterOptions(maxSegmentSize: segmentSize))
        let contents = try CaptureFile.decode(file)
        #expect(contents.events == Self.expectedEvents(Self.conversation))
        #expect(contents.ninescopeFormatVersion == 1)
        #expect(contents.warnings.isEmpty)
        #expect(!contents.truncatedTail)
        #expect(contents.format == .pcapng)
    }

    @Test func bigEndianAndWrappingSequenceNumbers() throws {
        let options = PcapngWriterOptions(maxSegmentSize: 1400, initialSequence: 0xFFFF_0000, bigEndian: true)
        let file = Self.write(Self.conversation, options: options)
        #expect(try PcapngReader(bytes: file).sections.first?.bigEndian == true)
        #expect(try CaptureFile.decode(file).events == Self.expectedEvents(Self.conversation))
    }

    /// The same packets without ninescope's comments (as a plain pcap) reassemble through TCP alone.
    @Test func foreignPathReassemblesTheSameStreams() throws {
        let options = PcapngWriterOptions(maxSegmentSize: 1400, initialSequence: 0xFFFF_0000)
        var reader = try PcapngReader(bytes: Self.write(Self.conversation, options: options))
        let records = reader.readAll().map { packet in
            (sec: UInt32(packet.timestampNanos / 1_000_000_000), frac: UInt32(packet.timestampNanos % 1_000_000_000),
             data: packet.data)
        }
        let contents = try CaptureFile.decode(Fix.pcap(big: false, nano: true, records: records))
        let events = contents.events
        #expect(events.opens.map(\.conn) == [1, 2])
        #expect(events.opens.map(\.client) == [PcapngWriter.clientEndpoint(ConnectionID(3)),
                                               PcapngWriter.clientEndpoint(ConnectionID(9))])
        #expect(events.stream(1, .toServer) == Fix.tversion)
        #expect(events.stream(1, .toClient) == Fix.rversion)
        #expect(events.stream(2, .toServer) == Fix.twrite(tag: 1, data: Self.big))
        #expect(events.stream(2, .toClient) == Fix.rwrite(tag: 1, count: 200_000))
        #expect(events.closes.map(\.conn) == [1, 2])
        #expect(events.closes.map(\.reset) == [false, true])
        #expect(events.gaps.isEmpty)
        #expect(contents.ninescopeFormatVersion == nil)
        for event in events {
            if case .data(_, _, _, _, let metadata) = event { #expect(metadata == nil) }
        }
    }

    @Test func manyConnectionsInterleaved() throws {
        var steps: [Step] = []
        var t: Int64 = 1
        let ids = (0..<60).map { $0 * 1000 + ($0 % 7) } // reaches past 20000: second client address
        for id in ids {
            steps.append(.open(id, "10.9.9.9:\(id)", "tcp!up!564", t)); t += 1
        }
        for round in 0..<3 {
            for id in ids {
                let tag = UInt16(round)
                steps.append(.frame(id, .toServer, t, Fix.tclunk(tag: tag, fid: UInt32(id)), [])); t += 1
                steps.append(.frame(id, .toClient, t, Fix.rclunk(tag: tag), round == 1 ? [.malformed] : [])); t += 1
            }
        }
        for id in ids.reversed() {
            steps.append(.close(id, id % 2 == 0, t, id % 3 == 0 ? "eof mid-frame (client→server)" : nil)); t += 1
        }
        let contents = try CaptureFile.decode(Self.write(steps, options: PcapngWriterOptions(maxSegmentSize: 5)))
        #expect(contents.events == Self.expectedEvents(steps))
    }

    @Test func truncatedOwnCaptureKeepsTheCompletePrefix() throws {
        let steps: [Step] = [
            .open(0, "c", "u", 10), .frame(0, .toServer, 11, Fix.tversion, []),
            .frame(0, .toClient, 12, Fix.rversion, []),
        ]
        let file = Self.write(steps)
        let complete = try CaptureFile.decode(file)
        #expect(complete.events.count == 3)
        var reader = try PcapngReader(bytes: file)
        let sectionLength = Int(file[4]) | Int(file[5]) << 8
        let boundaries = Set([sectionLength, PcapngWriter().header().count] + reader.readAll().map(\.fileOffset))
        for cut in 4..<file.count {
            let contents = try CaptureFile.decode(Array(file[..<cut]))
            #expect(contents.truncatedTail == !boundaries.contains(cut), "cut \(cut)")
            #expect(contents.events.count <= complete.events.count, "cut \(cut)")
            // Whatever arrived is a prefix of the full event list, except that a frame may be partial.
            for (index, event) in contents.events.enumerated() where index < complete.events.count {
                if case .data(_, _, _, let bytes, _) = event, case .data(_, _, _, let full, _) = complete.events[index] {
                    #expect(Array(full.prefix(bytes.count)) == bytes, "cut \(cut)")
                } else {
                    #expect(event == complete.events[index], "cut \(cut)")
                }
            }
        }
    }
}
