import NinePTestSupport
import NinePSession
import NinePWire
import Testing

/// Random traffic (valid frames with clashing tags and fids, truncated and bit-flipped frames, random
/// bytes, garbage, closes and re-opens, three connections): the tracker never traps and its views stay
/// consistent with each other.
@Suite struct RobustnessTests {
    static func randomMessage(_ rng: inout SplitMix) -> Message {
        let fid = Fid(UInt32(rng.next() % 6)), other = Fid(UInt32(rng.next() % 6))
        let names: [P9String] = (0..<Int(rng.next() % 4)).map { _ in ["a", "b", "..", "."][Int(rng.next() % 4)] }
        let qid = Qid(type: rng.next() % 2 == 0 ? .dir : .file, path: rng.next() % 50)
        let all: [Message] = [
            .tversion(Tversion(msize: 8192, version: ["9P2000.L", "9P2000.u", "9P2000", "x"][Int(rng.next() % 4)])),
            .rversion(Rversion(msize: 4096, version: ["9P2000.L", "9P2000.u", "unknown"][Int(rng.next() % 3)])),
            .tattach(Tattach(fid: fid, uname: "u", aname: "", nUname: 0)), .rattach(Rattach(qid: qid)),
            .tauth(Tauth(afid: fid, uname: "u", aname: "", nUname: 0)), .rauth(Rauth(aqid: qid)),
            .twalk(Twalk(fid: fid, newfid: other, wnames: names)),
            .rwalk(Rwalk(wqids: (0..<Int(rng.next() % 4)).map { _ in qid })),
            .tlopen(Tlopen(fid: fid, flags: .rdwr)), .rlopen(Rlopen(qid: qid, iounit: UInt32(rng.next() % 3) * 100)),
            .topen(Topen(fid: fid, mode: .read)), .ropen(Ropen(qid: qid, iounit: 0)),
            .tlcreate(Tlcreate(fid: fid, name: "n", flags: .create, mode: 0o644, gid: 0)),
            .tlcreate(Tlcreate(fid: fid, name: "a-longer-name", flags: .create, mode: 0o644, gid: 0)),
            .twalk(Twalk(fid: fid, newfid: other, wnames: ["usr", "share", "doc"])),
            .rlcreate(Rlcreate(qid: qid, iounit: 0)),
            .tread(Tread(fid: fid, offset: 0, count: UInt32(rng.next() % 10_000))), .rread(Rread(data: [1, 2])),
            .twrite(Twrite(fid: fid, offset: 0, data: [1])), .rwrite(Rwrite(count: 1)),
            .tclunk(Tclunk(fid: fid)), .rclunk, .tremove(Tremove(fid: fid)), .rremove,
            .tflush(Tflush(oldtag: Tag(UInt16(rng.next() % 4)))), .rflush,
            .txattrwalk(Txattrwalk(fid: fid, newfid: other, name: "x")), .rxattrwalk(Rxattrwalk(size: 3)),
            .trename(Trename(fid: fid, dfid: other, name: "r")), .rrename,
            .trenameat(Trenameat(olddirfid: fid, oldname: "a", newdirfid: other, newname: "b")), .rrenameat,
            .rlerror(Rlerror(ecode: .ENOENT)), .rerror(Rerror(ename: "e", errno: 2)),
            .tgetattr(Tgetattr(fid: fid, requestMask: .basic)), .unknown(type: 98, body: [1, 2]),
        ]
        return all[Int(rng.next() % UInt64(all.count))]
    }

    @Test(arguments: [7, 8, 9])
    func randomTrafficKeepsInvariants(seed: UInt64) {
        var rng = SplitMix(seed: seed)
        var tracker = SessionTracker(configuration: .init(reservedTags: 3...3, reservedFids: 5...5))
        var logged = 0
        var at: Int64 = 0
        for _ in 0..<3000 {
            at += 1
            let conn = ConnectionID(UInt32(rng.next() % 3))
            let direction: Direction = rng.next() % 2 == 0 ? .toServer : .toClient
            let dialect = Dialect.allCases[Int(rng.next() % 3)]
            var bytes = Fcall(tag: Tag(UInt16(rng.next() % 4)), Self.randomMessage(&rng)).encode(dialect: dialect)
            var marks: FrameMarks = rng.next() % 10 == 0 ? .injected : []
            switch rng.next() % 20 {
            case 0: bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count))))
            case 1: bytes[Int(rng.next() % UInt64(bytes.count))] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
            case 2: bytes = (0..<Int(rng.next() % 12)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            case 3:
                _ = tracker.handle(.garbage(conn: conn, direction: direction, at: at, bytes: [0xFF], reason: "r"))
                logged += 1
                continue
            case 4:
                let reasons: [CloseReason] = [.eof, .reset, .endOfCapture, .error("x")]
                _ = tracker.handle(.connectionClosed(conn: conn, at: at, reason: reasons[Int(rng.next() % 4)]))
                continue
            case 5:
                _ = tracker.handle(.connectionOpened(conn: conn, at: at, info: nil))
                continue
            case 6 where bytes.count > NineP.headerSize, 7 where bytes.count > NineP.headerSize:
                // Cut by a capture's snap length: the header and some of the rest.
                bytes = Array(bytes.prefix(NineP.headerSize + Int(rng.next() % UInt64(bytes.count - NineP.headerSize))))
                marks.insert(.truncated)
            default: break
            }
            let out = tracker.handle(.frame(conn: conn, direction: direction, at: at, bytes: bytes, marks: marks))
            logged += 1
            #expect(out.message?.index == logged - 1)
            if marks.contains(.truncated) {
                #expect(out.message?.isTruncated == true && out.message?.isMalformed == false)
            }
            if let m = out.message, let x = m.exchange {
                let ex = tracker.exchange(x)!
                #expect(ex.conn == conn)
                #expect([ex.requestIndex, ex.replyIndex, ex.lateReplyIndex].contains(m.index))
                if let r = m.requestIndex { #expect(ex.requestIndex == r && ex.replyIndex == m.index) }
            }
        }
        #expect(tracker.messageCount == logged)
        for c in tracker.connections {
            let pending = tracker.pending(on: c.id)
            #expect(pending.allSatisfy { $0.status == .pending })
            #expect(pending.count == c.pendingCount)
            let table = tracker.fidTable(on: c.id)
            #expect(table.allSatisfy { $0.isLive })
            #expect(table.count == c.liveFidCount)
            #expect(Set(table.map { $0.fid }) == tracker.liveFids(on: c.id))
        }
        for i in 0..<tracker.exchangeCount {
            let x = tracker.exchange(ExchangeID(i))!
            for m in tracker.messages(of: x.id) { #expect(m < logged) }
            if let r = x.replyIndex, let q = x.requestIndex { #expect(q < r) }
            if let target = x.flushTarget { #expect(tracker.exchange(target)!.flushedBy.contains(x.id)) }
        }
        for a in tracker.anomalies {
            if let m = a.messageIndex { #expect(m < logged) }
        }
    }
}
