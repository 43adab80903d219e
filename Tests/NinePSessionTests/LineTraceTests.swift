import NinePSession
import NinePWire
import Testing

/// The streaming configuration (`Configuration.lineTrace`) and decodings made ahead (`Predecoded`): what
/// `decode`, the headless proxy and replay rely on to print the same lines faster.
@Suite struct LineTraceTests {
    /// Events of three connections: a 9P2000.L mount with walks, getattr, reads, an unknown fid, a reused
    /// tag, a flush and a leak at close; a 9P2000.u session; and a classic trace that starts mid-session
    /// (the tracker guesses 9P2000.L first and must switch).
    static func events() -> [(event: SessionEvent, wire: Dialect)] {
        var out: [(SessionEvent, Dialect)] = []
        var t: Int64 = 1_700_000_000_000_000_000
        func frame(_ conn: ConnectionID, _ wire: Dialect, _ tag: Tag, _ m: Message) {
            t += 1_000
            let dir: Direction = (m.typeCode & 1) == 0 ? .toServer : .toClient
            out.append((.frame(conn: conn, direction: dir, at: t, bytes: Fcall(tag: tag, m).encode(dialect: wire), marks: []), wire))
        }
        let info = ConnectionInfo(client: "tcp!127.0.0.1!5000", upstream: "tcp!127.0.0.1!564")
        out.append((.connectionOpened(conn: 1, at: t, info: info), .l))
        frame(1, .l, .notag, .tversion(Tversion(msize: 8192, version: "9P2000.L")))
        frame(1, .l, .notag, .rversion(Rversion(msize: 8192, version: "9P2000.L")))
        frame(1, .l, 1, .tattach(Tattach(fid: 0, afid: .nofid, uname: "u", aname: "", nUname: 0)))
        frame(1, .l, 1, .rattach(Rattach(qid: Qid(type: .dir, path: 1))))
        for i in 0..<20 {
            let fid = Fid(UInt32(10 + i))
            frame(1, .l, 2, .twalk(Twalk(fid: 0, newfid: fid, wnames: ["usr", P9String("f\(i)")])))
            frame(1, .l, 2, .rwalk(Rwalk(wqids: [Qid(type: .dir, path: 2), Qid(path: UInt64(100 + i))])))
            frame(1, .l, 3, .tgetattr(Tgetattr(fid: fid, requestMask: .basic)))
            frame(1, .l, 3, .rgetattr(Rgetattr(valid: .basic, qid: Qid(path: UInt64(100 + i)))))
            frame(1, .l, 4, .tlopen(Tlopen(fid: fid, flags: LOpenFlags(rawValue: 0))))
            frame(1, .l, 4, .rlopen(Rlopen(qid: Qid(path: UInt64(100 + i)), iounit: 4096)))
            frame(1, .l, 5, .tread(Tread(fid: fid, offset: 0, count: 9000)))     // above iounit and msize
            frame(1, .l, 5, .rread(Rread(data: Array("data \(i)\n".utf8))))
            if i % 2 == 0 { frame(1, .l, 6, .tclunk(Tclunk(fid: fid))); frame(1, .l, 6, .rclunk) }
        }
        frame(1, .l, 7, .tgetattr(Tgetattr(fid: 99, requestMask: .all)))            // unknown fid
        frame(1, .l, 7, .rlerror(Rlerror(ecode: Errno(9))))
        frame(1, .l, 8, .tread(Tread(fid: 11, offset: 0, count: 10)))
        frame(1, .l, 8, .tread(Tread(fid: 11, offset: 0, count: 10)))                // tag reused while pending
        frame(1, .l, 9, .tflush(Tflush(oldtag: 8)))
        frame(1, .l, 9, .rflush)
        t += 1_000
        out.append((.connectionClosed(conn: 1, at: t, reason: .eof), .l))             // odd fids leak

        out.append((.connectionOpened(conn: 2, at: t, info: nil), .u))
        frame(2, .u, .notag, .tversion(Tversion(msize: 8192, version: "9P2000.u")))
        frame(2, .u, .notag, .rversion(Rversion(msize: 8192, version: "9P2000.u")))
        frame(2, .u, 1, .tattach(Tattach(fid: 0, afid: .nofid, uname: "u", aname: "/", nUname: 1000)))
        frame(2, .u, 1, .rattach(Rattach(qid: Qid(type: .dir, path: 1))))
        frame(2, .u, 2, .topen(Topen(fid: 0, mode: OpenMode(rawValue: 0))))
        frame(2, .u, 2, .rerror(Rerror(ename: "is a directory", errno: 21)))

        // Mid-session classic 9P2000: no Tversion; Topen/Rerror only the classic dialects define.
        frame(3, .p9, 4, .tclunk(Tclunk(fid: 7)))
        frame(3, .p9, 4, .rclunk)
        frame(3, .p9, 5, .topen(Topen(fid: 8, mode: OpenMode(rawValue: 0))))
        frame(3, .p9, 5, .rerror(Rerror(ename: "permission denied", errno: nil)))
        frame(3, .p9, 6, .tstat(Tstat(fid: 8)))
        t += 1_000
        out.append((.connectionClosed(conn: 3, at: t, reason: .reset), .p9))
        return out
    }

    /// Line-trace outputs carry the same messages and anomalies as full ones, and no change snapshots.
    @Test func lineTraceKeepsMessagesAndAnomalies() {
        var full = SessionTracker()
        var lean = SessionTracker(configuration: .lineTrace())
        var sawAnomalies = 0, sawChanges = 0
        for (event, _) in Self.events() {
            let a = full.handle(event), b = lean.handle(event)
            #expect(a.message == b.message)
            #expect(a.anomalies == b.anomalies)
            #expect(b.exchanges.isEmpty && b.fids.isEmpty)
            sawAnomalies += a.anomalies.count
            sawChanges += a.exchanges.count + a.fids.count
        }
        #expect(sawAnomalies >= 5, "the scenario should raise anomalies (\(sawAnomalies))")
        #expect(sawChanges > 100)
        #expect(lean.anomalyTotal == full.anomalies.count && lean.anomalies.isEmpty)
        #expect(lean.message(at: 0) == nil, "a line trace keeps no log")
    }

    /// A decoding made ahead with the dialect the tracker uses stands for the tracker's own; one made with
    /// another dialect is ignored. Either way the outputs are those of plain tracking.
    @Test func predecodedDecodingsAreUsedOnlyWhenTheDialectAgrees() throws {
        var plain = SessionTracker(configuration: .lineTrace())
        var right = SessionTracker(configuration: .lineTrace())
        var wrong = SessionTracker(configuration: .lineTrace())
        for (event, wire) in Self.events() {
            let a = plain.handle(event)
            guard case let .frame(conn, direction, at, bytes, marks) = event else {
                #expect(right.handle(event) == a)
                #expect(wrong.handle(event) == a)
                continue
            }
            let dialect = try #require(a.message?.dialect)
            var ahead: Predecoded?
            if let f = try? Fcall.decode(bytes, dialect: dialect) { ahead = Predecoded(dialect: dialect, fcall: f) }
            let b = right.frame(conn: conn, direction: direction, at: at, bytes: bytes, marks: marks, predecoded: ahead)
            #expect(b == a)
            // Decoded with some other dialect (the wire's when the tracker still guesses differently).
            let other: Dialect = dialect == wire ? (wire == .l ? .u : .l) : wire
            var misled: Predecoded?
            if let f = try? Fcall.decode(bytes, dialect: other) { misled = Predecoded(dialect: other, fcall: f) }
            let c = wrong.frame(conn: conn, direction: direction, at: at, bytes: bytes, marks: marks, predecoded: misled)
            #expect(c == a)
        }
    }

    /// The tracker really takes the decoding it is given (so the path above is not dead): a different
    /// message under the matching dialect is what the output shows.
    @Test func aMatchingPredecodedIsTakenAsIs() {
        var tracker = SessionTracker(configuration: .lineTrace())
        let bytes = Fcall(tag: 1, .tclunk(Tclunk(fid: 3))).encode(dialect: .l)
        let substitute = Fcall(tag: 1, .tclunk(Tclunk(fid: 4)))
        let out = tracker.frame(conn: 1, direction: .toServer, at: 0, bytes: bytes,
                                predecoded: Predecoded(dialect: .l, fcall: substitute))
        #expect(out.message?.decoded == substitute)
        let again = tracker.frame(conn: 2, direction: .toServer, at: 0, bytes: bytes,
                                  predecoded: Predecoded(dialect: .u, fcall: substitute))
        #expect(again.message?.decoded == Fcall(tag: 1, .tclunk(Tclunk(fid: 3))))
    }

    @Test func fidListsHoldUpToTwoFidsInline() {
        #expect(Array(FidList()) == [])
        #expect(Array(FidList(5)) == [5])
        #expect(Array(FidList(5, 6)) == [5, 6])
        #expect(FidList(5, 6) == FidList(5, 6) && FidList(5, 6) != FidList(6, 5) && FidList(5) != FidList(5, 5))
        #expect(FidList(1, 2).description == "[1, 2]")
        #expect(Array(Message.trename(Trename(fid: 1, dfid: 2, name: "x")).fidRefs.uses) == [1, 2])
        #expect(Array(Message.tattach(Tattach(fid: 1, afid: .nofid, uname: "", aname: "", nUname: 0)).fidRefs.uses) == [])
        #expect(Array(Message.tattach(Tattach(fid: 1, afid: 3, uname: "", aname: "", nUname: 0)).fidRefs.uses) == [3])
        #expect(Array(Message.tgetattr(Tgetattr(fid: 9, requestMask: .basic)).fidRefs.uses) == [9])
        #expect(Array(Message.rclunk.fidRefs.uses) == [])
    }
}
