@testable import NinePSession
import NinePTestSupport
import NinePWire
import Testing

/// The message log: re-decoding on demand, summaries, retention, several connections.
@Suite struct LogTests {
    /// TracedMessage keeps its fields in one box: equality and hashing compare the fields of separate
    /// boxes (the message as emitted and as rebuilt from the log), and tell different messages apart.
    @Test func tracedMessagesCompareByTheirFields() {
        var h = Harness(wire: .l)
        let request = h.t(.notag, .tversion(Tversion(msize: 8192, version: "9P2000.L"))).message!
        let reply = h.r(.notag, .rversion(Rversion(msize: 8192, version: "9P2000.L"))).message!
        let rebuilt = h.tracker.message(at: reply.index)!
        #expect(rebuilt == reply && rebuilt.hashValue == reply.hashValue)
        #expect(Set([request, reply, rebuilt]).count == 2)
        #expect(request != reply)
        #expect(String(describing: reply).contains("latency: Optional("), "printed with its fields: \(reply)")
    }

    @Test func storedMessagesDecodeAsEmitted() {
        var h = Harness(wire: .l)
        var emitted: [TracedMessage] = []
        h.t(.notag, .tversion(Tversion(msize: 8192, version: "9P2000.L")))
        emitted.append(h.r(.notag, .rversion(Rversion(msize: 8192, version: "9P2000.L"))).message!)
        emitted.append(h.t(0, .tattach(Tattach(fid: 0, uname: "u", aname: "", nUname: 0))).message!)
        emitted.append(h.r(0, .rattach(Rattach(qid: Qid(type: .dir, path: 1)))).message!)
        emitted.append(h.t(0, .twalk(Twalk(fid: 0, newfid: 1, wnames: ["a"]))).message!)
        emitted.append(h.r(0, .rwalk(Rwalk(wqids: [Qid(path: 2)]))).message!)
        for m in emitted {
            let again = h.tracker.message(at: m.index)!
            #expect(again == m)
            #expect(again.bytes == m.bytes)
            #expect(again.decoded == m.decoded)
            #expect(again.decoded != nil)
            #expect(again.exchange == m.exchange)
            #expect(again.requestIndex == m.requestIndex)
            #expect(again.latency == m.latency)
            #expect(again.fidPath == m.fidPath)
            #expect(again.dialect == m.dialect)
            #expect(again.canonicalLine == m.canonicalLine)
            let s = h.tracker.messageSummary(at: m.index)!
            #expect(s.size == m.bytes.count)
            #expect(s.typeCode == m.header?.type)
            #expect(s.tag == m.header?.tag)
            #expect(s.exchange == m.exchange)
            #expect(s.direction == m.direction)
            #expect(!s.isMalformed && !s.isGarbage)
        }
        #expect(h.tracker.message(at: 999) == nil)
        #expect(h.tracker.messageSummary(at: -1) == nil)
        #expect(h.tracker.exchange(ExchangeID(999)) == nil)
    }

    /// Small frames are packed together (no array of their own each), and come back as copies of their own
    /// size; a large one (a read's data) is kept in the array it came in, without its spare room, and comes
    /// back shared.
    @Test func framesAreStoredOnceAndCompactly() {
        var h = Harness(wire: .l)
        var small: [[UInt8]] = []
        for tag in 0..<300 {
            var roomy: [UInt8] = []
            roomy.reserveCapacity(4096)
            roomy += Fcall(tag: Tag(UInt16(tag)), .tclunk(Tclunk(fid: Fid(UInt32(tag))))).encode(dialect: .l)
            small.append(roomy)
        }
        var indices: [MessageIndex] = []
        for frame in small {
            let out = h.tracker.handle(.frame(conn: h.conn, direction: .toServer, at: h.tick(), bytes: frame, marks: []))
            indices.append(out.message!.index)
        }
        var big: [UInt8] = []
        big.reserveCapacity(200_000)
        big += Fcall(tag: 1000, .twrite(Twrite(fid: 9, offset: 0, data: [UInt8](repeating: 7, count: 100_000))))
            .encode(dialect: .l)
        let out = h.tracker.handle(.frame(conn: h.conn, direction: .toServer, at: h.tick(), bytes: big, marks: []))
        for (tag, (i, frame)) in zip(indices, small).enumerated() {
            let stored = h.tracker.message(at: i)!
            #expect(stored.bytes == frame && stored.canonicalLine == "Tclunk tag \(tag) fid \(tag)", "\(stored.canonicalLine)")
            #expect(stored.bytes.capacity < frame.count + 32, "a copy of its own size, not a piece")
            let summary = h.tracker.messageSummary(at: i)
            #expect(summary?.size == frame.count && summary?.tag == Tag(UInt16(tag)) && summary?.typeCode == 120)
        }
        let stored = h.tracker.message(at: out.message!.index)!
        #expect(stored.bytes == big && stored.bytes.capacity < big.count + 32, "spare capacity is not kept")
        // Asked for twice, the large frame is one buffer.
        let again = h.tracker.message(at: out.message!.index)!
        #expect(stored.bytes.withUnsafeBufferPointer { $0.baseAddress } == again.bytes.withUnsafeBufferPointer { $0.baseAddress })
    }

    /// The store itself: frames packed across pieces (one that does not fit the rest of a piece starts the
    /// next), large ones whole, every one back as it went in.
    @Test func frameStoreRoundTrips() {
        var store = FrameStore()
        var kept: [(FrameStore.Ref, [UInt8])] = []
        var rng = SplitMix(seed: 7)
        for i in 0..<800 {
            let count = i % 50 == 0 ? FrameStore.ownedFrom + i : 1 + Int(rng.next() % 4000)
            let bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            kept.append((store.append(bytes), bytes))
        }
        let packed = kept.filter { $0.0.offset != FrameStore.Ref.whole }, whole = kept.filter { $0.0.offset == FrameStore.Ref.whole }
        #expect(Set(packed.map(\.0.piece)).count >= 2, "small frames spread over pieces")
        #expect(whole.count == 16 && Set(whole.map(\.0.piece)).count == 16
                && Set(whole.map(\.0.piece)).isDisjoint(with: packed.map(\.0.piece)), "large ones each alone")
        for (ref, bytes) in kept {
            #expect(store[ref] == bytes)
            #expect(Array(store.prefix(ref, 7)) == Array(bytes.prefix(7)))
            #expect((ref.offset == FrameStore.Ref.whole) == (bytes.count >= FrameStore.ownedFrom))
            if ref.offset != FrameStore.Ref.whole {
                #expect(Int(ref.offset) + bytes.count <= FrameStore.pieceSize, "a frame never straddles pieces")
            }
        }
    }

    @Test func notRetainingStillTracks() {
        var h = Harness(wire: .l, configuration: .init(retainFrames: false))
        h.version()
        h.attach(0, fid: 0)
        let out = h.t(0, .tgetattr(Tgetattr(fid: 0, requestMask: .basic)))
        #expect(out.message?.decoded != nil, "the output still carries the decoding")
        #expect(h.tracker.messageCount == 5)
        #expect(h.tracker.message(at: 0) == nil)
        #expect(h.tracker.messageSummary(at: 0) == nil)
        let id = out.message!.exchange!
        #expect(h.tracker.exchange(id)?.status == .pending)
        let reply = h.r(0, .rgetattr(Rgetattr(valid: .basic, qid: Qid(path: 1))))
        #expect(reply.message?.requestIndex == 4)
        #expect(reply.message?.exchange == id)
        #expect(h.tracker.exchange(id) == nil, "a settled exchange is not kept")
        #expect(h.path(0) == "/")
    }

    @Test func connectionsAreIndependentAndIndicesGlobal() {
        var tracker = SessionTracker()
        let frame = { (tag: Tag, m: Message) in Fcall(tag: tag, m).encode(dialect: .l) }
        _ = tracker.handle(.connectionOpened(conn: 1, at: 10, info: ConnectionInfo(client: "a", upstream: "s")))
        _ = tracker.handle(.frame(conn: 1, direction: .toServer, at: 11,
                                  bytes: frame(.notag, .tversion(Tversion(msize: 8192, version: "9P2000.L"))), marks: []))
        // Connection 2 is never announced: it opens implicitly, mid-stream, with an .L code.
        let c2 = tracker.handle(.frame(conn: 2, direction: .toServer, at: 12,
                                       bytes: frame(0, .tgetattr(Tgetattr(fid: 5, requestMask: .basic))), marks: []))
        let r1 = tracker.handle(.frame(conn: 1, direction: .toClient, at: 13,
                                       bytes: frame(.notag, .rversion(Rversion(msize: 8192, version: "9P2000.L"))), marks: []))
        let r2 = tracker.handle(.frame(conn: 2, direction: .toClient, at: 14,
                                       bytes: frame(0, .rgetattr(Rgetattr(valid: .basic, qid: Qid(path: 3)))), marks: []))
        #expect(c2.message?.index == 1 && r1.message?.index == 2 && r2.message?.index == 3)
        #expect(r1.message?.requestIndex == 0)
        #expect(r2.message?.requestIndex == 1)
        #expect(r2.message?.latency == 2)
        #expect(tracker.connections.map(\.id) == [1, 2])
        let s1 = tracker.connection(1)!, s2 = tracker.connection(2)!
        #expect(s1.info == ConnectionInfo(client: "a", upstream: "s"))
        #expect(s1.openedAt == 10 && s2.openedAt == 12)
        #expect(s2.info == nil)
        #expect(!s1.startedMidStream && s2.startedMidStream)
        #expect(s1.msize == 8192 && s2.msize == nil)
        #expect(s1.messageCount == 2 && s2.messageCount == 2)
        #expect(tracker.fidTable(on: 1).isEmpty)
        #expect(tracker.fidTable(on: 2).map(\.fid) == [5])
        #expect(tracker.anomalies.isEmpty)
        _ = tracker.handle(.connectionClosed(conn: 2, at: 20, reason: .eof))
        #expect(tracker.anomalies(on: 2).map(\.kind) == [.fidLeakedAtClose])
        #expect(tracker.anomalies(on: 1).isEmpty)
        #expect(tracker.anomalies(on: 2).first?.messageIndex == 1, "an adopted fid points at its first use")
        #expect(tracker.connection(1)?.isOpen == true && tracker.connection(2)?.isOpen == false)
    }

    @Test func reopeningAnIdStartsAFreshConnection() {
        var h = Harness(wire: .l)
        h.version()
        h.attach(0, fid: 0)
        let pending = h.t(1, .tgetattr(Tgetattr(fid: 0, requestMask: .basic)))
        #expect(h.tracker.pendingExchange(tag: 1, on: h.conn)?.id == pending.message?.exchange)
        #expect(h.tracker.pendingExchange(tag: 2, on: h.conn) == nil)
        let out = h.tracker.handle(.connectionOpened(conn: h.conn, at: h.tick(), info: nil))
        #expect(out.exchanges.map(\.status) == [.unansweredAtClose])
        #expect(h.tracker.fidTable(on: h.conn).isEmpty)
        #expect(h.summary.messageCount == 0 && h.summary.msize == nil)
        #expect(h.tracker.exchange(pending.message!.exchange!)?.status == .unansweredAtClose)
    }

    @Test func summaryCounts() {
        var h = Harness(wire: .l)
        h.version(msize: 8192)
        h.attach(0, fid: 0)
        h.walk(0, 0, 1, [])
        h.t(0, .tlopen(Tlopen(fid: 1, flags: .rdonly)))
        h.r(0, .rlopen(Rlopen(qid: Qid(path: 1), iounit: 0)))
        h.t(0, .treaddir(Treaddir(fid: 1, offset: 0, count: 100)))
        h.t(1, .tflush(Tflush(oldtag: 0)))
        h.r(1, .rflush)
        h.t(0, .tgetattr(Tgetattr(fid: 9, requestMask: .basic)))
        h.r(0, .rlerror(Rlerror(ecode: .EBADF)))
        let s = h.summary
        #expect(s.messageCount == 13)
        #expect(s.requestCount == 7 && s.replyCount == 6)
        #expect(s.exchangeCount == 7)
        #expect(s.pendingCount == 0)
        #expect(s.flushCount == 1)
        #expect(s.errorCount == 1)
        #expect(s.anomalyCount == 1)
        #expect(s.liveFidCount == 2 && s.openFidCount == 1)
        #expect(s.bytesToServer + s.bytesToClient
                == (0..<h.tracker.messageCount).reduce(0) { $0 + h.tracker.message(at: $1)!.bytes.count })
    }
}
