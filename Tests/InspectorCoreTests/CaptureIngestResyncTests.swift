import InspectorCore
import NinePCapture
import NinePSession
import NinePWire
import Testing

/// Reading a capture (`decode`, `view`): after a connection's version exchange, framing that lost step
/// takes no header larger than the msize it agreed, so a random header in the garbage cannot swallow the
/// real frames after it; before the exchange it can (nothing says how large a frame may be yet).
@Suite struct CaptureIngestResyncTests {
    static let conn = ConnectionID(1)
    static let client = Endpoint(address: IPAddress(bytes: [127, 0, 0, 1])!, port: 40000)
    static let server = Endpoint(address: IPAddress(bytes: [127, 0, 0, 1])!, port: 564)
    static func frame(_ tag: UInt16, _ m: Message) -> [UInt8] { Fcall(tag: Tag(tag), m).encode(dialect: .l) }
    /// A size field below the minimum, noise, a plausible header claiming 100,000 bytes (a Tread), noise.
    static let garbage: [UInt8] = [3, 0, 0, 0] + Array("noise".utf8)
        + [0xA0, 0x86, 0x01, 0x00, MessageType.tread.rawValue, 1, 0] + Array("more noise".utf8)
    static let after = frame(5, .tclunk(Tclunk(fid: 1))) + frame(6, .tclunk(Tclunk(fid: 2)))

    /// The session events of one capture: `exchange` first (if any), then the garbage and two Tclunks in
    /// one segment, then the end of the capture.
    static func ingest(versionExchange: Bool) -> [SessionEvent] {
        var ingest = CaptureIngest()
        var out = ingest.ingest(.open(conn: conn, client: client, server: server, timestampNanos: 1, metadata: nil))
        var t: Int64 = 2
        func data(_ d: Direction, _ bytes: [UInt8]) {
            out += ingest.ingest(.data(conn: conn, direction: d, timestampNanos: t, bytes: bytes, metadata: nil))
            t += 1
        }
        if versionExchange {
            data(.toServer, frame(0xFFFF, .tversion(Tversion(msize: 8192, version: "9P2000.L"))))
            data(.toClient, frame(0xFFFF, .rversion(Rversion(msize: 8192, version: "9P2000.L"))))
        }
        data(.toServer, garbage + after)
        out += ingest.finish()
        return out
    }

    static func frames(_ events: [SessionEvent]) -> [[UInt8]] {
        events.compactMap { if case .frame(_, .toServer, _, let b, _) = $0 { b } else { nil } }
    }
    static func garbageBytes(_ events: [SessionEvent]) -> [UInt8] {
        events.flatMap { (e: SessionEvent) -> [UInt8] in
            if case .garbage(_, .toServer, _, let b, _) = e { return b }
            return []
        }
    }

    @Test func afterAVersionExchangeTheRealFramesAreFound() {
        let events = Self.ingest(versionExchange: true)
        let frames = Self.frames(events)
        #expect(frames.dropFirst().map { $0 } == [Self.frame(5, .tclunk(Tclunk(fid: 1))), Self.frame(6, .tclunk(Tclunk(fid: 2)))],
                "frames of \(frames.map(\.count)) bytes")
        #expect(Self.garbageBytes(events) == Self.garbage)
    }

    @Test func beforeOneTheFakeHeaderTakesWhatFollows() {
        let events = Self.ingest(versionExchange: false)
        #expect(Self.frames(events).isEmpty)
        #expect(Self.garbageBytes(events) == Self.garbage + Self.after, "all of it garbage, the fake frame cut short")
    }

    /// A real frame above the agreed msize, met in step, is still a frame (the limit is for resynchronising).
    @Test func aFrameAboveMsizeInStepIsStillAFrame() {
        var ingest = CaptureIngest()
        var events = ingest.ingest(.open(conn: Self.conn, client: Self.client, server: Self.server,
                                         timestampNanos: 1, metadata: nil))
        let big = Self.frame(2, .twrite(Twrite(fid: 1, offset: 0, data: Array(repeating: 0x5A, count: 9000))))
        for (i, (d, bytes)) in [(Direction.toServer, Self.frame(0xFFFF, .tversion(Tversion(msize: 8192, version: "9P2000.L")))),
                                (.toClient, Self.frame(0xFFFF, .rversion(Rversion(msize: 8192, version: "9P2000.L")))),
                                (.toServer, big)].enumerated() {
            events += ingest.ingest(.data(conn: Self.conn, direction: d, timestampNanos: Int64(2 + i), bytes: bytes,
                                          metadata: nil))
        }
        #expect(Self.frames(events).last?.count == big.count)
        #expect(Self.garbageBytes(events).isEmpty)
    }
}

/// A request still pending when a capture ends is pending in the view, its age counted to the capture's
/// last moment (`>2.00s`), not an error "no reply: connection ended": the connection did not end.
@Test func aRequestPendingWhenTheCaptureEndsShowsItsAge() {
    let conn = CaptureIngestResyncTests.conn
    var ingest = CaptureIngest()
    var events = ingest.ingest(.open(conn: conn, client: CaptureIngestResyncTests.client,
                                     server: CaptureIngestResyncTests.server, timestampNanos: 1, metadata: nil))
    let second: Int64 = 1_000_000_000
    for (t, d, m): (Int64, Direction, Message) in [
        (second, .toServer, .tversion(Tversion(msize: 8192, version: "9P2000.L"))),
        (second + 1, .toClient, .rversion(Rversion(msize: 8192, version: "9P2000.L"))),
        (2 * second, .toServer, .tread(Tread(fid: 1, offset: 0, count: 10))),
        (4 * second, .toServer, .tclunk(Tclunk(fid: 7))),
        (4 * second + 5, .toClient, .rclunk),
    ] {
        let tag: UInt16 = if case .tversion = m { 0xFFFF } else if case .rversion = m { 0xFFFF }
            else if case .tread = m { 1 } else { 2 }
        events += ingest.ingest(.data(conn: conn, direction: d, timestampNanos: t,
                                      bytes: Fcall(tag: Tag(tag), m).encode(dialect: .l), metadata: nil))
    }
    events += ingest.finish()
    var model = InspectorModel(tracker: SessionTracker())
    model.handle(events)
    let rows = (0..<model.store.count).map { model.columns(ofRow: $0, time: .utc, now: model.store.lastTime) }
    let read = rows.first { $0.request.hasPrefix("Tread") }
    #expect(read?.latency == ">2.00s", "\(rows)")
    #expect(read?.reply == "", "\(rows)")
    #expect(read?.mark.hasPrefix("*") == true, "\(rows)")
}
