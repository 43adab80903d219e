import NinePTestSupport
import NinePWire
import Testing
@testable import NinePCapture

/// Which connections of a capture are 9P: those on a 9P port, and on other ports those whose bytes look
/// like 9P; the others are dropped and reported, and never held whole.
@Suite struct NinePStreamSnifferTests {
    static let client = Endpoint(address: .v4(0x7F00_0001), port: 42646)

    static func open(_ conn: UInt32, port: UInt16) -> CaptureEvent {
        .open(conn: ConnectionID(conn), client: client, server: Endpoint(address: .v4(0x7F00_0001), port: port),
              timestampNanos: Int64(conn) * 1000, metadata: nil)
    }

    static func data(_ conn: UInt32, _ direction: Direction, _ bytes: [UInt8], at t: Int64 = 0) -> CaptureEvent {
        .data(conn: ConnectionID(conn), direction: direction, timestampNanos: t, bytes: bytes, metadata: nil)
    }

    static func close(_ conn: UInt32) -> CaptureEvent {
        .close(conn: ConnectionID(conn), reset: false, reason: nil, timestampNanos: 0)
    }

    /// Events through a fresh sniffer (9P port 564), then its end; what came out and what it skipped.
    static func sniff(_ events: [CaptureEvent], window: Int = 64 << 10)
        -> (out: [CaptureEvent], skipped: [NinePStreamSniffer.Skipped], outBeforeEnd: Int) {
        var sniffer = NinePStreamSniffer(ninePPorts: [564], window: window)
        var out: [CaptureEvent] = []
        for e in events { sniffer.process(e, into: &out) }
        let before = out.count
        sniffer.finish(into: &out)
        return (out, sniffer.takeSkipped(), before)
    }

    static let http = Array("GET / HTTP/1.1\r\nHost: 127.0.0.1:8099\r\n\r\n".utf8)

    @Test func aNinePPortIsNinePWhateverItCarries() {
        let events = [Self.open(1, port: 564), Self.data(1, .toServer, Self.http), Self.close(1)]
        let r = Self.sniff(events)
        #expect(r.out == events && r.skipped.isEmpty)
    }

    @Test func anotherPortIsNinePWhenItBeginsLikeNineP() {
        let events = [Self.open(1, port: 5640), Self.data(1, .toServer, Fix.tversion),
                      Self.data(1, .toClient, Fix.rversion), Self.close(1)]
        let r = Self.sniff(events)
        #expect(r.out == events && r.skipped.isEmpty, "the held open comes out first, then everything in order")
        // The server speaking first is enough too.
        let serverFirst = [Self.open(2, port: 5640), Self.data(2, .toClient, Fix.rversion), Self.close(2)]
        #expect(Self.sniff(serverFirst).out == serverFirst)
        // A first segment shorter than a header: judged when the rest comes.
        let split = [Self.open(3, port: 5640), Self.data(3, .toServer, Array(Fix.tversion.prefix(3))),
                     Self.data(3, .toServer, Array(Fix.tversion.dropFirst(3)))]
        let s = Self.sniff(split)
        #expect(s.out == split && s.outBeforeEnd == 3)
    }

    @Test func anotherPortThatIsNotNinePIsSkippedAndNamed() throws {
        let events = [Self.open(1, port: 8099), Self.data(1, .toServer, Self.http),
                      Self.data(1, .toClient, Array("HTTP/1.0 200 OK\r\n".utf8)), Self.close(1)]
        let r = Self.sniff(events)
        #expect(r.out.isEmpty)
        let skipped = try #require(r.skipped.first)
        #expect(r.skipped.count == 1 && skipped.server.port == 8099)
        #expect(skipped.description == "127.0.0.1:42646 → 127.0.0.1:8099 does not look like 9P (it begins "
                + "'GET / HTTP/1.1\\r\\n'); skipped")
        // One that sent nothing at all.
        let silent = Self.sniff([Self.open(2, port: 8099), Self.close(2)])
        #expect(silent.out.isEmpty && silent.skipped.first?.description.contains("it carried no bytes") == true)
        // One still open when the capture ends.
        let open = Self.sniff([Self.open(3, port: 8099), Self.data(3, .toServer, Self.http)])
        #expect(open.out.isEmpty && open.skipped.count == 1)
    }

    /// A capture that began in the middle of a 9P conversation on another port: its first bytes are the
    /// end of a frame, but three frames follow one another.
    @Test func aStreamJoinedMidwayIsNinePByAChainOfFrames() {
        let frames = Fix.tclunk(tag: 1, fid: 5) + Fix.tclunk(tag: 2, fid: 6) + Fix.tclunk(tag: 3, fid: 7)
        let events = [Self.open(1, port: 5640), Self.data(1, .toServer, Array(Fix.tversion.suffix(9)) + frames),
                      Self.close(1)]
        let r = Self.sniff(events)
        #expect(r.out == events && r.skipped.isEmpty)
        // Two frames are not enough to tell.
        let two = [Self.open(2, port: 5640),
                   Self.data(2, .toServer, Array(Fix.tversion.suffix(9)) + Array(frames.prefix(22))), Self.close(2)]
        #expect(Self.sniff(two).out.isEmpty)
    }

    /// A long connection that is not 9P is judged once both directions together pass twice the window,
    /// before it ends: its events are not held to the end.
    @Test func aLongConnectionThatIsNotNinePIsNotHeldWhole() {
        var events = [Self.open(1, port: 22), Self.data(1, .toServer, Array("SSH-2.0-OpenSSH_9.6\r\n".utf8))]
        var rng = SplitMix(seed: 7)
        for _ in 0..<40 { events.append(Self.data(1, .toClient, (0..<1000).map { _ in UInt8(truncatingIfNeeded: rng.next()) })) }
        var sniffer = NinePStreamSniffer(ninePPorts: [564], window: 16 << 10)
        var out: [CaptureEvent] = []
        var judgedAt: Int?
        for (i, e) in events.enumerated() {
            sniffer.process(e, into: &out)
            if judgedAt == nil, !sniffer.takeSkipped().isEmpty { judgedAt = i }
        }
        #expect(out.isEmpty)
        #expect(judgedAt.map { $0 < events.count - 1 } == true, "judged at event \(String(describing: judgedAt))")
        // Later events of it are dropped too.
        sniffer.process(Self.data(1, .toServer, Fix.tversion), into: &out)
        sniffer.process(Self.close(1), into: &out)
        #expect(out.isEmpty)
    }

    /// Random bytes on another port are not taken for 9P (a header is plausible by chance about once in a
    /// thousand bytes; three in a row, about once in a billion).
    @Test func randomBytesAreNotNineP() {
        var rng = SplitMix(seed: 42)
        for conn in UInt32(1)...20 {
            let bytes = (0..<(64 << 10)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let r = Self.sniff([Self.open(conn, port: 9000), Self.data(conn, .toClient, bytes), Self.close(conn)])
            #expect(r.out.isEmpty, "connection \(conn)")
        }
    }

    /// The decoder keeps a 9P connection on another port beside an HTTP one it skips: the 9P one is c1, and
    /// the HTTP one is a warning that says how to decode it anyway.
    @Test func theDecoderSkipsWhatIsNotNineP() throws {
        func pkt(_ toServer: Bool, _ seq: UInt32, _ payload: [UInt8], flags: UInt8 = 0x18, port: Int) -> [UInt8] {
            Fix.packet(toServer: toServer, seq: seq, flags: flags, payload: payload, serverPort: port)
        }
        var records: [(sec: UInt32, frac: UInt32, data: [UInt8])] = []
        for (i, data) in [pkt(true, 99, [], flags: 0x02, port: 8099), pkt(true, 100, Self.http, port: 8099),
                          pkt(false, 500, Array("HTTP/1.0 200 OK\r\n".utf8), port: 8099),
                          pkt(true, 99, [], flags: 0x02, port: 5640), pkt(true, 100, Fix.tversion, port: 5640),
                          pkt(false, 500, Fix.rversion, port: 5640),
                          pkt(true, 100 + UInt32(Self.http.count), [], flags: 0x11, port: 8099),
                          pkt(false, 500 + 17, [], flags: 0x11, port: 8099)].enumerated() {
            records.append((sec: 1, frac: UInt32(i), data: data))
        }
        let file = Fix.pcap(big: false, nano: false, records: records)
        let contents = try CaptureFile.decode(file)
        let opens = contents.events.compactMap { e -> (ConnectionID, UInt16)? in
            if case .open(let conn, _, let server, _, _) = e { return (conn, server.port) }
            return nil
        }
        #expect(opens.map(\.0) == [ConnectionID(1)] && opens.map(\.1) == [5640], "\(contents.events)")
        let data = contents.events.compactMap { e -> [UInt8]? in
            if case .data(_, _, _, let bytes, _) = e { return bytes }
            return nil
        }
        #expect(data == [Fix.tversion, Fix.rversion])
        let warnings = contents.warnings.map(\.message)
        #expect(warnings.contains { $0.contains(":8099 does not look like 9P") && $0.contains("`--port 8099` decodes it") },
                "\(warnings)")
        // With the port named, it is decoded as 9P.
        let named = try CaptureFile.decode(file, options: ReassemblyOptions(ninePPorts: [564, 8099]))
        #expect(named.events.filter { if case .open = $0 { true } else { false } }.count == 2)
    }
}
