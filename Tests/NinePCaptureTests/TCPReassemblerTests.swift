import NinePWire
import Testing
@testable import NinePCapture

@Suite struct TCPReassemblerTests {
    static let client = Endpoint(address: .v4(0xC0A8_010A), port: 50000)
    static let server = Endpoint(address: .v4(0xC0A8_0114), port: 564)
    static let syn: TCPFlags = [.syn], synAck: TCPFlags = [.syn, .ack], ack: TCPFlags = [.ack]
    static let push: TCPFlags = [.ack, .psh], fin: TCPFlags = [.fin, .ack], rst: TCPFlags = [.rst, .ack]

    static func seg(_ toServer: Bool, _ seq: UInt32, ack: UInt32 = 0, _ flags: TCPFlags = push,
                    _ payload: [UInt8] = [], client: Endpoint = client, server: Endpoint = server) -> TCPSegment {
        TCPSegment(source: toServer ? client : server, destination: toServer ? server : client,
                   sequenceNumber: seq, acknowledgmentNumber: ack, flags: flags, payload: payload)
    }

    static func bytes(_ range: Range<Int>) -> [UInt8] { range.map { UInt8($0 & 0xFF) } }

    /// Feeds segments at t = 1, 2, 3, … and finishes.
    static func run(_ segments: [TCPSegment], options: ReassemblyOptions = ReassemblyOptions()) -> [CaptureEvent] {
        var reassembler = TCPReassembler(options: options)
        var events: [CaptureEvent] = []
        for (index, segment) in segments.enumerated() {
            events += reassembler.process(segment, timestampNanos: Int64(index + 1))
        }
        return events + reassembler.finish(timestampNanos: Int64(segments.count + 1))
    }

    /// A handshake with client ISN `c` and server ISN `s`.
    static func handshake(_ c: UInt32, _ s: UInt32) -> [TCPSegment] {
        [seg(true, c, syn), seg(false, s, ack: c &+ 1, synAck), seg(true, c &+ 1, ack: s &+ 1, ack)]
    }

    @Test func inOrderConversationWithCleanClose() {
        let events = Self.run(Self.handshake(100, 900) + [
            Self.seg(true, 101, ack: 901, Self.push, Fix.tversion),
            Self.seg(false, 901, ack: 122, Self.push, Fix.rversion),
            Self.seg(true, 122, ack: 922, Self.fin),
            Self.seg(false, 922, ack: 123, Self.fin),
            Self.seg(true, 123, ack: 923, Self.ack),
        ])
        #expect(events.first == .open(conn: ConnectionID(1), client: Self.client, server: Self.server,
                                      timestampNanos: 1, metadata: nil))
        #expect(events[1] == .data(conn: ConnectionID(1), direction: .toServer, timestampNanos: 4,
                                   bytes: Fix.tversion, metadata: nil))
        #expect(events.stream(1, .toClient) == Fix.rversion)
        #expect(events.last == .close(conn: ConnectionID(1), reset: false, reason: nil, timestampNanos: 7))
        #expect(events.gaps.isEmpty)
        #expect(events.count == 4)
    }

    @Test func outOfOrderSegmentsAreDeliveredInSequenceOrder() {
        let data = Self.bytes(0..<30)
        let events = Self.run(Self.handshake(1000, 5000) + [
            Self.seg(true, 1021, ack: 5001, Self.push, Array(data[20..<30])),
            Self.seg(true, 1011, ack: 5001, Self.ack, Array(data[10..<20])),
            Self.seg(true, 1001, ack: 5001, Self.ack, Array(data[0..<10])),
        ])
        #expect(events.stream(1, .toServer) == data)
        #expect(events.gaps.isEmpty)
        // The first delivery happens when the first bytes arrive (t = 6); buffered ones keep their own times.
        let times = events.compactMap { if case .data(_, _, let t, _, _) = $0 { return t } else { return nil } }
        #expect(times == [6, 5, 4])
    }

    @Test func retransmissionsAreDroppedAndOverlapsTrimmed() {
        let data = Self.bytes(0..<20)
        let events = Self.run(Self.handshake(1000, 5000) + [
            Self.seg(true, 1001, ack: 5001, Self.ack, Array(data[0..<10])),
            Self.seg(true, 1001, ack: 5001, Self.ack, Array(data[0..<10])),      // retransmission
            Self.seg(true, 1006, ack: 5001, Self.ack, Array(data[5..<15])),      // overlaps 5 bytes
            Self.seg(true, 1018, ack: 5001, Self.ack, Array(data[17..<20])),     // out of order
            Self.seg(true, 1013, ack: 5001, Self.ack, Array(data[12..<18])),     // overlaps both sides
        ])
        #expect(events.stream(1, .toServer) == data)
        #expect(events.gaps.isEmpty)
    }

    @Test func firstCopyOfAnOverlappingByteWins() {
        let events = Self.run(Self.handshake(0, 0) + [
            Self.seg(true, 1, ack: 1, Self.ack, [1, 2, 3, 4]),
            Self.seg(true, 3, ack: 1, Self.ack, [99, 99, 5, 6]),
        ])
        #expect(events.stream(1, .toServer) == [1, 2, 3, 4, 5, 6])
    }

    @Test func lostBytesAcknowledgedByThePeerBecomeAGap() {
        let events = Self.run(Self.handshake(1000, 5000) + [
            Self.seg(true, 1001, ack: 5001, Self.push, Self.bytes(0..<10)),
            Self.seg(true, 1021, ack: 5001, Self.push, Self.bytes(20..<30)),   // 1011..<1021 never captured
            Self.seg(false, 5001, ack: 1031, Self.push, [7, 7]),
            Self.seg(true, 1031, ack: 5003, Self.push, [8]),
        ])
        #expect(events.gaps.map(\.missing) == [10])
        #expect(events.gaps.first?.direction == .toServer)
        #expect(events.stream(1, .toServer) == Self.bytes(0..<10) + Self.bytes(20..<30) + [8])
        // The gap comes right before the bytes that follow it, and before the peer's data.
        let kinds = events.map { event -> String in
            switch event {
            case .open: return "open"
            case .data(_, let d, _, _, _): return d == .toServer ? "c" : "s"
            case .gap: return "gap"
            case .close: return "close"
            }
        }
        #expect(kinds == ["open", "c", "s", "gap", "c", "c"] || kinds == ["open", "c", "gap", "c", "s", "c"])
    }

    @Test func lostBytesWithNothingAfterThemAreReportedOnAcknowledgment() {
        let events = Self.run(Self.handshake(1000, 5000) + [
            Self.seg(false, 5001, ack: 1051, Self.push, [1]), // acknowledges 50 client bytes never seen
        ])
        #expect(events.gaps.map(\.missing) == [50])
    }

    @Test func unresolvedHoleIsReportedAtFinish() {
        let events = Self.run(Self.handshake(1000, 5000) + [
            Self.seg(true, 1001, ack: 5001, Self.push, Self.bytes(0..<4)),
            Self.seg(true, 1009, ack: 5001, Self.push, Self.bytes(8..<12)),
        ])
        #expect(events.gaps.map(\.missing) == [4])
        #expect(events.stream(1, .toServer) == Self.bytes(0..<4) + Self.bytes(8..<12))
        #expect(events.closes.isEmpty) // still open when the capture ended
    }

    @Test func sequenceWrapAround() {
        let isn: UInt32 = 0xFFFF_FFF0
        let data = Self.bytes(0..<48)
        let events = Self.run(Self.handshake(isn, 7) + [
            Self.seg(true, isn &+ 1 &+ 32, ack: 8, Self.ack, Array(data[32..<48])),
            Self.seg(true, isn &+ 1, ack: 8, Self.ack, Array(data[0..<16])),       // crosses 2^32
            Self.seg(true, isn &+ 1 &+ 16, ack: 8, Self.ack, Array(data[16..<32])),
            Self.seg(true, isn &+ 1 &+ 16, ack: 8, Self.ack, Array(data[16..<32])), // retransmitted after wrap
            Self.seg(false, 8, ack: isn &+ 49, Self.push, [1]),
        ])
        #expect(events.stream(1, .toServer) == data)
        #expect(events.gaps.isEmpty)
    }

    @Test func captureStartingMidStream() {
        let events = Self.run([
            Self.seg(false, 777_000, ack: 123_456, Self.push, Fix.rversion),
            Self.seg(true, 123_456, ack: 777_021, Self.push, [1, 2, 3]),
            Self.seg(true, 123_400, ack: 777_021, Self.push, Self.bytes(0..<56)), // before the start: ignored
            Self.seg(true, 123_459, ack: 777_021, Self.push, [4]),
        ])
        #expect(events.opens.map(\.client) == [Self.client]) // port 564 marks the server
        #expect(events.stream(1, .toClient) == Fix.rversion)
        #expect(events.stream(1, .toServer) == [1, 2, 3, 4])
        #expect(events.gaps.isEmpty)
    }

    @Test func resetClosesAndFlushes() {
        let events = Self.run(Self.handshake(1000, 5000) + [
            Self.seg(true, 1001, ack: 5001, Self.push, [1, 2]),
            Self.seg(true, 1005, ack: 5001, Self.push, [5, 6]),
            Self.seg(false, 5001, ack: 1003, Self.rst),
            Self.seg(true, 1007, ack: 5001, Self.push, [9]), // after the end: ignored
        ])
        #expect(events.closes.map(\.reset) == [true])
        #expect(events.gaps.map(\.missing) == [2])
        #expect(events.stream(1, .toServer) == [1, 2, 5, 6])
        if case .close = events.last {} else { Issue.record("close must be the last event: \(events)") }
    }

    /// Who hung up is said: the server's FIN first (`closed by server`), a RST from either side (`reset by
    /// client`, `reset by server`); a client's orderly hang-up first has no reason (eof).
    @Test func theSideThatHungUpIsNamed() {
        let serverFirst = Self.run(Self.handshake(100, 900) + [
            Self.seg(true, 101, ack: 901, Self.push, Fix.tversion),
            Self.seg(false, 901, ack: 122, Self.fin),
            Self.seg(true, 122, ack: 902, Self.fin),
            Self.seg(false, 902, ack: 123, Self.ack),
        ])
        #expect(serverFirst.last == .close(conn: ConnectionID(1), reset: false, reason: "closed by server", timestampNanos: 6))
        let clientFirst = Self.run(Self.handshake(100, 900) + [Self.seg(true, 101, ack: 901, Self.fin),
                                                               Self.seg(false, 901, ack: 102, Self.fin)])
        #expect(clientFirst.last == .close(conn: ConnectionID(1), reset: false, reason: nil, timestampNanos: 5))
        for (fromClient, reason) in [(true, "reset by client"), (false, "reset by server")] {
            let reset = Self.run(Self.handshake(100, 900) + [Self.seg(fromClient, fromClient ? 101 : 901, Self.rst)])
            #expect(reset.last == .close(conn: ConnectionID(1), reset: true, reason: reason, timestampNanos: 4))
        }
    }

    @Test func closeWaitsForBytesBeforeTheFin() {
        let events = Self.run(Self.handshake(1000, 5000) + [
            Self.seg(true, 1003, ack: 5001, Self.fin, [3, 4]), // FIN at 1005, bytes 1001..<1003 missing yet
            Self.seg(false, 5001, ack: 1001, Self.fin),
            Self.seg(true, 1001, ack: 5002, Self.ack, [1, 2]),
        ])
        #expect(events.stream(1, .toServer) == [1, 2, 3, 4])
        #expect(events.closes.map(\.reset) == [false])
        #expect(events.last == .close(conn: ConnectionID(1), reset: false, reason: nil, timestampNanos: 6))
    }

    @Test func finAcknowledgedOverAHoleReportsTheGapThenCloses() {
        let events = Self.run(Self.handshake(1000, 5000) + [
            Self.seg(true, 1005, ack: 5001, Self.fin, [5]),     // 1001..<1005 lost; FIN at 1006
            Self.seg(false, 5001, ack: 1007, Self.fin),          // acknowledges everything including FIN
        ])
        #expect(events.gaps.map(\.missing) == [4])
        #expect(events.stream(1, .toServer) == [5])
        #expect(events.closes.map(\.reset) == [false])
    }

    @Test func rolesWithoutA9PPort() {
        let a = Endpoint(address: .v4(1), port: 7000), b = Endpoint(address: .v4(2), port: 8000)
        // The SYN sender is the client, even though it has the lower port.
        var events = Self.run([Self.seg(true, 1, Self.syn, client: a, server: b)])
        #expect(events.opens.map(\.client) == [a])
        // A SYN+ACK's sender is the server.
        events = Self.run([Self.seg(false, 1, ack: 5, Self.synAck, client: b, server: a)])
        #expect(events.opens.map(\.server) == [a])
        // Mid-stream: the lower port is the server.
        events = Self.run([Self.seg(true, 1, ack: 1, Self.push, [1], client: a, server: b)])
        #expect(events.opens.map(\.server) == [a])
        // Configured 9P port wins over everything.
        events = Self.run([Self.seg(true, 1, Self.syn, client: a, server: b)],
                          options: ReassemblyOptions(ninePPorts: [7000]))
        #expect(events.opens.map(\.server) == [a])
        // Equal ports: the destination of the first segment.
        let c = Endpoint(address: .v4(3), port: 9000), d = Endpoint(address: .v4(4), port: 9000)
        events = Self.run([Self.seg(true, 1, ack: 1, Self.push, [1], client: c, server: d)])
        #expect(events.opens.map(\.server) == [d])
    }

    @Test func connectionIDsFollowFirstAppearanceAndPortReuse() {
        let second = Endpoint(address: .v4(0xC0A8_010A), port: 50001)
        let events = Self.run(Self.handshake(100, 900) + [
            Self.seg(true, 5, Self.syn, client: second),
            Self.seg(true, 101, ack: 901, Self.rst),
            Self.seg(true, 101, ack: 901, Self.ack),            // stray after the reset: ignored
            Self.seg(true, 4000, Self.syn),                      // same 4-tuple, new connection
            Self.seg(true, 4001, ack: 0, Self.push, [42]),
        ])
        #expect(events.opens.map(\.conn) == [1, 2, 3])
        #expect(events.opens.map(\.client) == [Self.client, second, Self.client])
        #expect(events.stream(3, .toServer) == [42])
        #expect(events.closes.map(\.conn) == [1])
    }

    @Test func newSynOnAnOpenTupleClosesTheOldConnection() {
        var reassembler = TCPReassembler()
        var events: [CaptureEvent] = []
        for segment in Self.handshake(100, 900) + [Self.seg(true, 77_777, Self.syn)] {
            events += reassembler.process(segment, timestampNanos: 1)
        }
        #expect(events.opens.map(\.conn) == [1, 2])
        #expect(events.closes.map(\.conn) == [1])
        #expect(reassembler.warnings.count == 1)
    }

    @Test func bufferLimitDeclaresTheHoleLost() {
        let events = Self.run(Self.handshake(1000, 5000) + [
            Self.seg(true, 1101, ack: 5001, Self.ack, Self.bytes(0..<8)),
            Self.seg(true, 1109, ack: 5001, Self.ack, Self.bytes(8..<16)), // 16 bytes waiting > limit 10
        ], options: ReassemblyOptions(maxBufferedBytes: 10))
        #expect(events.gaps.map(\.missing) == [100])
        #expect(events.stream(1, .toServer) == Self.bytes(0..<16))
    }

    @Test func onlyNinePPortsIgnoresOtherTraffic() {
        let a = Endpoint(address: .v4(1), port: 7000), b = Endpoint(address: .v4(2), port: 80)
        let events = Self.run([Self.seg(true, 1, Self.syn, client: a, server: b)] + Self.handshake(1, 2),
                              options: ReassemblyOptions(onlyNinePPorts: true))
        #expect(events.opens.map(\.server) == [Self.server])
        #expect(events.opens.map(\.conn) == [1])
    }
}
