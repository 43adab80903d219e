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
                             metadata: CaptureMetadata(clientAddress: client, upstreamAddress: upstream, recordedFromOpen: true))
            case .frame(let id, let direction, let t, let bytes, let marks):
                return .data(conn: ConnectionID(UInt32(id)), direction: direction, timestampNanos: t, bytes: bytes,
                             metadata: CaptureMetadata(marks: marks, isWholeEvent: true))
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
        #expect(contents.ninescopeFormatVersion == PcapngWriter.captureFormatVersion)
        #expect(contents.warnings.isEmpty)
        #expect(!contents.truncatedTail)
        #expect(contents.format == .pcapng)
    }

    /// A frame read back from our own capture comes in an allocation of its own size, however many segments
    /// carried it (`view` keeps every frame: a 64 MiB capture of 64 KiB reads held 199 MiB when each frame
    /// grew segment by segment, 70 MiB so). A frame whose size field lies (no room is made for it) is read back
    /// whole all the same.
    @Test(arguments: [PcapngWriter.largestSegmentSize, 1000, 97])
    func framesComeBackInAllocationsOfTheirSize(segmentSize: Int) throws {
        func rread(tag: UInt16, data: [UInt8]) -> [UInt8] {
            Fix.frame(type: 117, tag: tag, body: Fix.le32(UInt32(data.count)) + data)
        }
        var lying = rread(tag: 2, data: Array(Self.big.prefix(5000)))
        lying.replaceSubrange(0..<4, with: [0x00, 0x00, 0x80, 0x00])   // 8 MiB
        var short = rread(tag: 3, data: Array(Self.big.prefix(5000)))
        short.replaceSubrange(0..<4, with: [0x10, 0x00, 0x00, 0x00])    // 16 bytes
        let steps: [Step] = [
            .open(1, "127.0.0.1:5000", "tcp!up!564", 1),
            .frame(1, .toServer, 2, Fix.twrite(tag: 1, data: Self.big), []),
            .frame(1, .toClient, 3, rread(tag: 1, data: Array(Self.big.prefix(65_536))), []),
            .frame(1, .toClient, 4, lying, [.malformed]),
            .frame(1, .toClient, 5, short, [.malformed]),
            .frame(1, .toClient, 6, Fix.rclunk(tag: 4), []),
        ]
        let contents = try CaptureFile.decode(Self.write(steps, options: PcapngWriterOptions(maxSegmentSize: segmentSize)))
        #expect(contents.events == Self.expectedEvents(steps))
        var frames = 0
        for case .data(_, _, _, let bytes, let metadata) in contents.events where metadata?.marks != [.malformed] {
            frames += 1
            // 32: the spare room beyond which the tracker copies a frame it keeps into one of its own size.
            #expect(bytes.capacity <= bytes.count + 32, "\(bytes.count) bytes in \(bytes.capacity) (segments of \(segmentSize))")
        }
        #expect(frames == 3)
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

    /// A run of unframeable bytes keeps why it was one (`why` on its first segment), however many segments
    /// carry it; each recorded event reads back as one whole event.
    @Test func garbageKeepsItsReasonAcrossSegments() throws {
        var writer = PcapngWriter(options: PcapngWriterOptions(maxSegmentSize: 5))
        var file = writer.header()
        file += writer.open(conn: ConnectionID(1), clientAddress: "c", upstreamAddress: "u", t: 1)
        let run: [UInt8] = [3, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]
        file += writer.frame(conn: ConnectionID(1), direction: .toServer, t: 2, bytes: run, marks: [.malformed],
                             why: "frame size 3 is below the 7-byte minimum, and 8 bytes after it")
        file += writer.frame(conn: ConnectionID(1), direction: .toServer, t: 3, bytes: Fix.tclunk(tag: 1, fid: 2))
        let data = try CaptureFile.decode(file).events.compactMap { e -> ([UInt8], CaptureMetadata?)? in
            if case .data(_, _, _, let bytes, let m) = e { return (bytes, m) } else { return nil }
        }
        #expect(data.count == 2)
        #expect(data.first?.0 == run)
        #expect(data.first?.1 == CaptureMetadata(marks: [.malformed], isWholeEvent: true,
                                                  garbageReason: "frame size 3 is below the 7-byte minimum, and 8 bytes after it"))
        #expect(data.last?.1 == CaptureMetadata(isWholeEvent: true))
    }

}
