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

    /// Forgetting history: the oldest exchanges and messages are gone (nil), the numbering goes on, and what
    /// later traffic needs stays: a request still pending (its reply pairs, with its latency), a flushed
    /// request a late reply may still come for and its flush, the live fids with their paths. Frames are
    /// freed; fid records and anomalies of what was forgotten go.
    @Test func forgettingHistoryKeepsWhatIsStillNeeded() throws {
        var h = Harness(wire: .l)
        h.version()
        h.attach(0, fid: 0)
        h.walk(0, 0, 1, ["etc", "hosts"], dir: false)
        let pendingRead = h.t(3, .tread(Tread(fid: 1, offset: 0, count: 512)))
        let readStart = h.now
        let stuck = h.t(2, .tgetattr(Tgetattr(fid: 1, requestMask: .all)))   // never answered
        // A request flushed before its reply (which may still come late), and its flush.
        let flushed = h.t(4, .tread(Tread(fid: 1, offset: 512, count: 512)))
        let flush = h.t(5, .tflush(Tflush(oldtag: 4)))
        h.r(5, .rflush)
        // A fid used and clunked long ago, and an anomaly on an old message.
        h.walk(0, 0, 7, ["tmp"])
        h.clunk(0, 7)
        let bad = h.t(6, .tclunk(Tclunk(fid: 99)))
        h.r(6, .rlerror(Rlerror(ecode: .EBADF)))
        for i in 0..<10_000 {
            h.t(Tag(10 + UInt16(i % 100)), .tgetattr(Tgetattr(fid: 0, requestMask: .basic)))
            h.r(Tag(10 + UInt16(i % 100)), .rgetattr(Rgetattr(valid: .basic, qid: Qid(path: UInt64(i)))))
        }
        let recent = h.lastIndex
        let badIndex = try #require(bad.message?.index), readIndex = try #require(pendingRead.message?.index)
        let flushID = try #require(flush.message?.exchange), flushedID = try #require(flushed.message?.exchange)
        let beforeBytes = h.tracker.heldFrameBytes
        let beforeFids = h.tracker.fidTable(on: h.conn, includingHistory: true).count
        #expect(h.tracker.anomalies.contains { $0.messageIndex == bad.message?.index })
        let exchanges = h.tracker.exchangeCount

        let f = h.tracker.forgetHistory(before: 9000)
        #expect(f.firstExchange == 8192, "rounded down to a piece: \(f)")
        // Exchange 8192 is the 8182nd getattr: its request is message 17 + 2 × 8182 = 16381, in the piece of
        // messages from 12288.
        #expect(f.firstMessage == 12288, "\(f)")
        let keptIDs = [pendingRead, stuck, flushed, flush].compactMap { $0.message?.exchange }
        #expect(f.kept == keptIDs, "\(f.kept)")
        // Kept below: the pending read's and getattr's requests, the flushed read's, the Tflush and its Rflush.
        #expect(f.exchanges == 8192 - 4 && f.messages == 12288 - 5, "\(f)")
        #expect(h.tracker.exchangeCount == exchanges && h.tracker.messageCount == recent + 1, "numbering goes on")
        #expect(h.tracker.firstHeldExchange == 8192)
        #expect(h.tracker.heldFrameBytes < beforeBytes, "\(h.tracker.heldFrameBytes) of \(beforeBytes) bytes held")
        // Gone: old messages and exchanges, the clunked fid's record, the old anomaly.
        #expect(h.tracker.message(at: 0) == nil && h.tracker.messageSummary(at: 5) == nil)
        #expect(h.tracker.exchange(ExchangeID(0)) == nil)
        #expect(h.tracker.message(at: badIndex) == nil)
        #expect(!h.tracker.anomalies.contains { $0.messageIndex == bad.message?.index })
        // Counts stay: the bad clunk, and the two reads of fid 1, which was walked to but never opened.
        #expect(h.tracker.anomalyTotal == 3 && h.tracker.anomalyCounts == [.unknownFid: 1, .fidNotOpen: 2], "counts stay")
        let history = h.tracker.fidTable(on: h.conn, includingHistory: true)
        #expect(history.count < beforeFids && !history.contains { $0.fid == 7 }, "\(history.map(\.fid))")
        #expect(Set(history.map(\.fid)) == [0, 1] && h.tracker.fid(1, on: h.conn)?.path?.description == "/etc/hosts")
        // Held: recent messages, and what is still needed, decoded as before.
        #expect(h.tracker.message(at: recent)?.canonicalLine.hasPrefix("Rgetattr") == true)
        let read = try #require(h.tracker.message(at: readIndex))
        #expect(read.canonicalLine.hasPrefix("Tread tag 3 fid 1 offset 0 count 512"), "\(read.canonicalLine)")
        #expect(h.tracker.exchange(flushID)?.flushTarget == flushedID)
        // The pending read's reply pairs with it, with its latency.
        let reply = h.r(3, .rread(Rread(data: [1, 2, 3])))
        #expect(reply.anomalies.isEmpty)
        #expect(reply.message?.exchange == pendingRead.message?.exchange)
        #expect(reply.message?.latency == h.now - readStart, "\(String(describing: reply.message?.latency))")
        // The late reply of the flushed read is known as such.
        let late = h.r(4, .rread(Rread(data: [9])))
        #expect(late.message?.exchange == flushed.message?.exchange, "late reply on the flushed tag")
        #expect(h.tracker.exchange(flushedID)?.lateReplyIndex == late.message?.index)
        // Forgetting again drops what was kept and is no longer needed; the tracker goes on.
        h.t(7, .tgetattr(Tgetattr(fid: 1, requestMask: .basic)))
        h.r(7, .rgetattr(Rgetattr(valid: .basic, qid: Qid(path: 1))))
        let again = h.tracker.forgetHistory(before: h.tracker.exchangeCount)
        let readID = try #require(pendingRead.message?.exchange)
        #expect(again.kept.first == stuck.message?.exchange && !again.kept.contains(readID), "\(again.kept)")
        #expect(h.tracker.message(at: readIndex) == nil, "answered: no longer kept")
        let next = h.t(8, .tclunk(Tclunk(fid: 1)))
        let nextIndex = try #require(next.message?.index)
        #expect(next.anomalies.isEmpty && h.tracker.message(at: nextIndex) != nil)
        // The request still pending survives any number of forgettings, its frame moved out of each piece
        // freed (it was kept first in what was then the newest piece).
        let stuckIndex = try #require(stuck.message?.index)
        for round in 0..<3 {
            for i in 0..<10_000 {
                h.t(Tag(10 + UInt16(i % 100)), .tgetattr(Tgetattr(fid: 0, requestMask: .basic)))
                h.r(Tag(10 + UInt16(i % 100)), .rgetattr(Rgetattr(valid: .basic, qid: Qid(path: UInt64(i)))))
            }
            h.tracker.forgetHistory(before: h.tracker.exchangeCount)
            #expect(h.tracker.message(at: stuckIndex)?.canonicalLine.hasPrefix("Tgetattr tag 2 fid 1") == true, "round \(round)")
        }
        #expect(h.tracker.heldFrameBytes <= 3 * FrameStore.pieceSize, "\(h.tracker.heldFrameBytes) bytes of frames held")
        let answer = h.r(2, .rgetattr(Rgetattr(valid: .basic, qid: Qid(path: 1))))
        #expect(answer.message?.exchange == stuck.message?.exchange && answer.anomalies.isEmpty)
    }

    /// A client that connects once per operation: closed connections none of whose messages is held any
    /// more go with the history (the order of the others stays, `forgottenConnections` counts them); an
    /// open one, however old, and a closed one with a message still held stay, and traffic on an open
    /// connection after others went is tracked on its own state.
    @Test func forgettingHistoryLetsClosedConnectionsGo() throws {
        var h = Harness(wire: .l, conn: 1)
        h.version()
        h.attach(0, fid: 0)
        h.walk(0, 0, 1, ["etc"])
        // Connections 2…3001: version, attach, clunk, closed.
        for c in UInt32(2)...3001 {
            h.conn = ConnectionID(c)
            _ = h.tracker.handle(.connectionOpened(conn: h.conn, at: h.tick(), info: nil))
            h.version()
            h.attach(0, fid: 0)
            h.clunk(1, 0)
            h.close()
        }
        // The last closed ones' messages stay held; 3002 stays open.
        h.conn = 3002
        _ = h.tracker.handle(.connectionOpened(conn: h.conn, at: h.tick(), info: nil))
        h.version()
        #expect(h.tracker.connections.count == 3002)

        let f = h.tracker.forgetHistory(before: h.tracker.exchangeCount - 100)
        #expect(f.firstExchange == 8192 && f.firstMessage == 16384, "\(f)")
        let ids = h.tracker.connections.map(\.id.rawValue)
        #expect(f.connections > 2000 && f.connections == h.tracker.forgottenConnections, "\(f)")
        #expect(ids.count == 3002 - f.connections)
        #expect(ids.first == 1, "the open first connection stays, first: \(ids.prefix(3))")
        #expect(ids == ids.sorted() && ids.last == 3002, "the order stays")
        #expect(ids.count >= 3 && ids[1] == ids[2] - 1 && ids.suffix(2) == [3001, 3002], "closed ones at the end stay")
        // The oldest closed connection that stays has a message held; the one before it had none.
        let held = (f.firstMessage..<h.tracker.messageCount).compactMap { h.tracker.message(at: $0)?.conn.rawValue }
        #expect(held.contains(ids[1]) && !held.contains(ids[1] - 1), "\(ids.prefix(3))")
        #expect(h.tracker.connection(2) == nil && h.tracker.fidTable(on: 2).isEmpty)

        // Connection 1 goes on with its fids and paths; a forgotten id may come again, as a new connection.
        h.conn = 1
        let clunk = h.t(5, .tclunk(Tclunk(fid: 1)))
        #expect(clunk.anomalies.isEmpty, "\(clunk.anomalies)")
        h.r(5, .rclunk)
        #expect(h.tracker.connection(1)?.exchangeCount == 4 && h.tracker.fid(0, on: 1) != nil)
        h.conn = 2
        _ = h.tracker.handle(.connectionOpened(conn: 2, at: h.tick(), info: nil))
        h.version()
        #expect(h.tracker.connection(2)?.exchangeCount == 1)
        #expect(h.tracker.connections.map(\.id.rawValue).last == 2)
        // Counted still: every message and connection.
        #expect(h.tracker.connections.count + h.tracker.forgottenConnections == 3003)
    }

    /// Forgetting never changes how later traffic is tracked: two trackers fed the same random traffic on two
    /// connections (requests on free tags, replies in any order, some never; flushes answered before or
    /// after the request; walks and clunks), with short connections coming and going between them (some
    /// closing with a request unanswered or a fid in use, some ids used again after a while), one
    /// forgetting its history every 3,000 events, report the same for every event — the message's
    /// exchange, pairing and latency, its line, the exchanges it changed and the anomalies it raised — and
    /// every request still pending is still readable; the bounded one lets closed connections go.
    @Test func forgettingDoesNotChangeWhatLaterTrafficDoes() throws {
        var rng = SplitMix(seed: 34)
        func below(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
        var whole = SessionTracker(), bounded = SessionTracker()
        var t: Int64 = 1_700_000_000_000_000_000
        var events: [SessionEvent] = []
        for c: UInt32 in [1, 2] {
            events.append(.connectionOpened(conn: ConnectionID(c), at: t, info: nil))
            for (m, d) in [(Message.tversion(Tversion(msize: 8192, version: "9P2000.L")), Direction.toServer),
                           (.rversion(Rversion(msize: 8192, version: "9P2000.L")), .toClient),
                           (.tattach(Tattach(fid: 0, uname: "u", aname: "", nUname: 0)), .toServer),
                           (.rattach(Rattach(qid: Qid(type: .dir, path: 1))), .toClient)] {
                t += 1000
                let tag: UInt16 = m.typeCode == MessageType.tversion.rawValue || m.typeCode == MessageType.rversion.rawValue ? 0xFFFF : 0
                events.append(.frame(conn: ConnectionID(c), direction: d, at: t, bytes: Fcall(tag: Tag(tag), m).encode(dialect: .l), marks: []))
            }
        }
        // Per connection: requests outstanding by tag (their reply), fids in use.
        var outstanding: [[UInt16: Message]] = [[:], [:]]
        var fids: [Set<UInt32>] = [[], []]
        // Replies that come long after their request was flushed (a forgetting or two later); their tags are
        // not used again until then.
        var late: [(c: Int, tag: UInt16, reply: Message, step: Int)] = []
        var blocked: [Set<UInt16>] = [[], []]
        var shortConnections = 0
        for step in 0..<40_000 {
            let c = below(2)
            t += Int64(1000 + below(5000))
            func send(_ tag: UInt16, _ m: Message, _ d: Direction, on conn: ConnectionID? = nil) {
                events.append(.frame(conn: conn ?? ConnectionID(UInt32(c) + 1), direction: d, at: t,
                                     bytes: Fcall(tag: Tag(tag), m).encode(dialect: .l), marks: []))
            }
            if below(100) == 0 {
                // A short connection: version, attach, a getattr; closed with the getattr answered or not, the
                // attach's fid clunked or not. Its id is new, or (one in four) one used before.
                shortConnections += 1
                let id = ConnectionID(UInt32(3 + (below(4) == 0 ? below(shortConnections) : shortConnections)))
                events.append(.connectionOpened(conn: id, at: t, info: nil))
                send(0xFFFF, .tversion(Tversion(msize: 8192, version: "9P2000.L")), .toServer, on: id)
                send(0xFFFF, .rversion(Rversion(msize: 8192, version: "9P2000.L")), .toClient, on: id)
                send(0, .tattach(Tattach(fid: 0, uname: "u", aname: "", nUname: 0)), .toServer, on: id)
                send(0, .rattach(Rattach(qid: Qid(type: .dir, path: 1))), .toClient, on: id)
                send(1, .tgetattr(Tgetattr(fid: 0, requestMask: .basic)), .toServer, on: id)
                if below(3) > 0 { send(1, .rgetattr(Rgetattr(valid: .basic, qid: Qid(path: 5))), .toClient, on: id) }
                if below(3) > 0 {
                    send(2, .tclunk(Tclunk(fid: 0)), .toServer, on: id)
                    send(2, .rclunk, .toClient, on: id)
                }
                t += 1000
                events.append(.connectionClosed(conn: id, at: t, reason: below(2) == 0 ? .eof : .reset))
                continue
            }
            while let due = late.first, due.step <= step {
                late.removeFirst()
                send(due.tag, due.reply, .toClient, on: ConnectionID(UInt32(due.c) + 1))
                blocked[due.c].remove(due.tag)
            }
            func free(_ tag: UInt16) -> Bool { outstanding[c][tag] == nil && !blocked[c].contains(tag) }
            let roll = below(100)
            if roll < 45 || outstanding[c].isEmpty {
                guard let tag = (0..<UInt16(24)).shuffled(using: &rng).first(where: free) else { continue }
                switch below(4) {
                case 0:
                    let newfid = UInt32(1 + below(30))
                    send(tag, .twalk(Twalk(fid: 0, newfid: Fid(newfid), wnames: [P9String("f\(below(9))")])), .toServer)
                    outstanding[c][tag] = fids[c].contains(newfid) ? .rlerror(Rlerror(ecode: .EEXIST))
                        : .rwalk(Rwalk(wqids: [Qid(path: UInt64(below(1000)))]))
                    if !fids[c].contains(newfid) { fids[c].insert(newfid) }
                case 1 where !fids[c].isEmpty:
                    let fid = fids[c].randomElement(using: &rng)!
                    fids[c].remove(fid)
                    send(tag, .tclunk(Tclunk(fid: Fid(fid))), .toServer)
                    outstanding[c][tag] = .rclunk
                case 2:
                    send(tag, .tread(Tread(fid: 0, offset: 0, count: 64)), .toServer)
                    outstanding[c][tag] = .rread(Rread(data: [UInt8](repeating: 7, count: below(400))))
                default:
                    send(tag, .tgetattr(Tgetattr(fid: 0, requestMask: .basic)), .toServer)
                    outstanding[c][tag] = below(10) == 0 ? .rlerror(Rlerror(ecode: .ENOENT))
                        : .rgetattr(Rgetattr(valid: .basic, qid: Qid(path: UInt64(below(1000)))))
                }
            } else if roll < 95 {
                // A reply to some outstanding request; one in fifty is never answered (stays pending).
                let tag = outstanding[c].keys.sorted()[below(outstanding[c].count)]
                if below(50) == 0 { outstanding[c][tag] = nil; continue }
                send(tag, outstanding[c].removeValue(forKey: tag)!, .toClient)
            } else {
                // A flush of an outstanding request: its reply comes before the Rflush, after it (late), or
                // never.
                let old = outstanding[c].keys.sorted()[below(outstanding[c].count)]
                guard let tag = (0..<UInt16(24)).first(where: free) else { continue }
                send(tag, .tflush(Tflush(oldtag: Tag(old))), .toServer)
                let reply = outstanding[c][old]!
                let when = below(3)
                if when == 0 { send(old, reply, .toClient) }
                outstanding[c][old] = nil
                t += 1000
                send(tag, .rflush, .toClient)
                if when == 1 {
                    blocked[c].insert(old)
                    late.append((c, old, reply, step + 4000 + below(4000)))
                }
            }
        }
        var forgotten = 0
        for (k, event) in events.enumerated() {
            let a = whole.handle(event), b = bounded.handle(event)
            #expect(a.anomalies == b.anomalies, "event \(k): \(a.anomalies) against \(b.anomalies)")
            #expect(a.exchanges == b.exchanges, "event \(k)")
            #expect(a.message?.exchange == b.message?.exchange && a.message?.requestIndex == b.message?.requestIndex
                    && a.message?.latency == b.message?.latency && a.message?.canonicalLine == b.message?.canonicalLine
                    && a.message?.fidPath == b.message?.fidPath, "event \(k)")
            if a.anomalies != b.anomalies || a.exchanges != b.exchanges { break }
            if k % 3000 == 2999 {
                forgotten += bounded.forgetHistory(before: bounded.exchangeCount - 500).exchanges
                for conn in [ConnectionID(1), ConnectionID(2)] {
                    for x in bounded.pending(on: conn) {
                        #expect(x.requestIndex.flatMap { bounded.message(at: $0) } != nil, "pending \(x.id) unreadable")
                    }
                    #expect(bounded.fidTable(on: conn).map(\.fid) == whole.fidTable(on: conn).map(\.fid))
                }
            }
        }
        #expect(forgotten > whole.exchangeCount / 4, "only \(forgotten) of \(whole.exchangeCount) exchanges forgotten")
        #expect(bounded.forgottenConnections > 100, "\(bounded.forgottenConnections) of \(shortConnections) short connections let go")
        #expect(bounded.connections.count < whole.connections.count)
        let kept = bounded.connections
        for c in kept { #expect(whole.connection(c.id) == c, "c\(c.id) differs") }
        #expect(bounded.heldFrameBytes < whole.heldFrameBytes, "\(bounded.heldFrameBytes) against \(whole.heldFrameBytes) bytes of frames")
        #expect(bounded.exchangeCount == whole.exchangeCount && bounded.anomalyTotal == whole.anomalyTotal)
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
