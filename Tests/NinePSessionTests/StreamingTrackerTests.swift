import NinePSession
import NinePWire
import Testing

/// A streaming tracker (`Configuration.lineTrace`: the headless proxy, `decode`, replay) holds what is
/// outstanding, not what has passed, and still produces exactly the outputs of a tracker that keeps
/// everything.
@Suite struct StreamingTrackerTests {
    /// A mount-like session on connection 1: per file a walk, getattr, open (every tenth fails), read and
    /// clunk, fid numbers reused; every 50th file a read left pending across the next file, and one read
    /// pending from the first file to the last (past the ring's 4096 slots). With `flushes`,
    /// every 100 files three flush races: the reply before the Rflush, a late reply after it, and two
    /// Tflushes for one request. Then: a request and a fid left at close (unanswered, leaked), a connection
    /// whose pending request and fids a second Tversion aborts and which ends with the capture, and a
    /// connection id opened again while a request is pending on it.
    static func session(files: Int, flushes: Bool) -> [SessionEvent] {
        var out: [SessionEvent] = []
        var t: Int64 = 1_000_000
        func frame(_ conn: ConnectionID, _ tag: Tag, _ m: Message) {
            t += 1_000
            let dir: Direction = (m.typeCode & 1) == 0 ? .toServer : .toClient
            out.append(.frame(conn: conn, direction: dir, at: t, bytes: Fcall(tag: tag, m).encode(dialect: .l), marks: []))
        }
        func start(_ conn: ConnectionID) {
            out.append(.connectionOpened(conn: conn, at: t, info: nil))
            frame(conn, .notag, .tversion(Tversion(msize: 65536, version: "9P2000.L")))
            frame(conn, .notag, .rversion(Rversion(msize: 65536, version: "9P2000.L")))
            frame(conn, 1, .tattach(Tattach(fid: 0, afid: .nofid, uname: "u", aname: "/srv", nUname: 0)))
            frame(conn, 1, .rattach(Rattach(qid: Qid(type: .dir, path: 1))))
        }
        func read(_ fid: Fid) -> Message { .tread(Tread(fid: fid, offset: 0, count: 4096)) }
        let data = Message.rread(Rread(data: Array("contents".utf8)))

        start(1)
        for i in 0..<files {
            let fid = Fid(UInt32(100 + i % 7))
            frame(1, 1, .twalk(Twalk(fid: 0, newfid: fid, wnames: ["d", P9String("f\(i)")])))
            frame(1, 1, .rwalk(Rwalk(wqids: [Qid(type: .dir, path: 2), Qid(path: UInt64(1000 + i))])))
            frame(1, 2, .tgetattr(Tgetattr(fid: fid, requestMask: .basic)))
            frame(1, 2, .rgetattr(Rgetattr(valid: .basic, qid: Qid(path: UInt64(1000 + i)))))
            frame(1, 3, .tlopen(Tlopen(fid: fid, flags: LOpenFlags(rawValue: 0))))
            if i % 10 == 3 {
                frame(1, 3, .rlerror(Rlerror(ecode: Errno(13))))
            } else {
                frame(1, 3, .rlopen(Rlopen(qid: Qid(path: UInt64(1000 + i)), iounit: 4096)))
                frame(1, 4, read(fid))
                frame(1, 4, data)
            }
            if i % 50 == 0 { frame(1, 20, read(0)) }          // answered after the next file
            if i % 50 == 1 { frame(1, 20, data) }
            if i == 0 { frame(1, 60, read(0)) }               // answered after all the others
            if i == files - 1 { frame(1, 60, data) }
            frame(1, 5, .tclunk(Tclunk(fid: fid)))
            frame(1, 5, .rclunk)
            if flushes && i % 100 == 17 {
                frame(1, 30, read(0)); frame(1, 31, .tflush(Tflush(oldtag: 30)))
                frame(1, 30, data); frame(1, 31, .rflush)                         // reply first
                frame(1, 32, read(0)); frame(1, 33, .tflush(Tflush(oldtag: 32)))
                frame(1, 33, .rflush); frame(1, 32, data)                         // late reply
                frame(1, 34, read(0)); frame(1, 35, .tflush(Tflush(oldtag: 34)))
                frame(1, 36, .tflush(Tflush(oldtag: 34)))
                frame(1, 36, .rflush); frame(1, 35, .rflush)                      // two flushes
            }
        }
        t += 1_000                                                                 // a truncated Twalk
        out.append(.frame(conn: 1, direction: .toServer, at: t, bytes: [12, 0, 0, 0, 110, 1, 0, 0, 0, 0, 0, 0],
                          marks: []))
        frame(1, 1, .rlerror(Rlerror(ecode: Errno(22))))
        frame(1, 40, read(0))                                                      // unanswered at close
        frame(1, 1, .twalk(Twalk(fid: 0, newfid: 500, wnames: ["leaked"])))
        frame(1, 1, .rwalk(Rwalk(wqids: [Qid(path: 9)])))                         // leaked at close
        t += 1_000
        out.append(.connectionClosed(conn: 1, at: t, reason: .eof))

        start(2)
        frame(2, 1, .twalk(Twalk(fid: 0, newfid: 5, wnames: ["a"])))
        frame(2, 1, .rwalk(Rwalk(wqids: [Qid(path: 3)])))
        frame(2, 2, read(5))
        frame(2, .notag, .tversion(Tversion(msize: 65536, version: "9P2000.L")))    // aborts tag 2, resets fids
        frame(2, .notag, .rversion(Rversion(msize: 65536, version: "9P2000.L")))
        t += 1_000
        out.append(.connectionClosed(conn: 2, at: t, reason: .endOfCapture))

        start(3)
        frame(3, 2, read(0))
        out.append(.connectionOpened(conn: 3, at: t, info: nil))                  // again, with tag 2 pending
        t += 1_000
        out.append(.connectionClosed(conn: 3, at: t, reason: .reset))
        return out
    }

    static let keepAll = SessionTracker.Configuration(retainFrames: true, reportsChanges: false)

    /// Every output (message, latency, request index, path, anomalies with their message indexes) is the
    /// same as a tracker's that keeps everything, flush races and leaks included.
    @Test func outputsAreThoseOfATrackerThatKeepsEverything() {
        var full = SessionTracker(configuration: Self.keepAll)
        var lean = SessionTracker(configuration: .lineTrace())
        var kinds: Set<AnomalyKind> = []
        var latencies = 0
        for event in Self.session(files: 1000, flushes: true) {
            let a = full.handle(event), b = lean.handle(event)
            #expect(a == b)
            kinds.formUnion(a.anomalies.map(\.kind))
            if a.message?.latency != nil { latencies += 1 }
        }
        // The scenario reaches the cases that read records made long before.
        #expect(kinds.isSuperset(of: [.replyAfterRflush, .fidLeakedAtClose]), "\(kinds)")
        #expect(latencies > 1000)
        #expect(lean.anomalyTotal == full.anomalies.count && lean.anomalyTotal > 0)
        #expect(lean.anomalies.isEmpty, "a streaming tracker counts anomalies, it does not list them")
        #expect(lean.messageCount == full.messageCount && lean.exchangeCount == full.exchangeCount)
        #expect(lean.malformedTotal == 1 && full.malformedTotal == 1)
        #expect(full.connections.map(\.malformedCount).reduce(0, +) == 1)
        #expect(full.connections.count == 3 && lean.connections.isEmpty, "closed connections are forgotten")
        // The leak names the message that created the fid, made long before the close.
        let leak = full.anomalies.first { $0.kind == .fidLeakedAtClose && $0.fid == 500 }
        #expect(leak?.messageIndex != nil)
    }

    /// Without flushes, at most the few requests pending at once and the live fids are held, however
    /// long the session; a tracker that keeps everything holds a record per exchange and per fid.
    @Test func heldRecordsFollowWhatIsOutstanding() {
        var full = SessionTracker(configuration: Self.keepAll)
        var lean = SessionTracker(configuration: .lineTrace())
        var maxExchanges = 0, maxFids = 0
        for event in Self.session(files: 3000, flushes: false) {
            _ = full.handle(event)
            _ = lean.handle(event)
            maxExchanges = max(maxExchanges, lean.heldExchangeCount)
            maxFids = max(maxFids, lean.heldFidRecordCount)
        }
        #expect(maxExchanges <= 4, "held exchanges peaked at \(maxExchanges)")
        #expect(maxFids <= 3, "held fid records peaked at \(maxFids)")
        #expect(lean.heldExchangeCount == 0 && lean.heldFidRecordCount == 0)
        #expect(full.heldExchangeCount == full.exchangeCount && full.exchangeCount > 4 * 3000)
        #expect(full.heldFidRecordCount > 3000)
    }

    /// The fid record count of a connection still open is the same either way, though the streaming one
    /// reuses the slots of ended records.
    @Test func fidRecordCountsAgree() {
        var full = SessionTracker(configuration: Self.keepAll)
        var lean = SessionTracker(configuration: .lineTrace())
        for event in Self.session(files: 200, flushes: false) {
            if case .connectionClosed(1, _, _) = event { break }
            _ = full.handle(event)
            _ = lean.handle(event)
        }
        let a = full.connection(1), b = lean.connection(1)
        #expect(a != nil && a == b)
        #expect((a?.fidRecordCount ?? 0) > 200 && lean.heldFidRecordCount <= 3)
    }

    /// Clients that connect, negotiate and leave, again and again: a streaming tracker keeps none of them.
    @Test func closedConnectionsAreForgotten() {
        var full = SessionTracker(configuration: Self.keepAll)
        var lean = SessionTracker(configuration: .lineTrace())
        var t: Int64 = 0
        for n in 0..<1000 {
            let conn = ConnectionID(UInt32(n))
            var events: [SessionEvent] = [.connectionOpened(conn: conn, at: t, info: nil)]
            for (tag, m) in [(Tag.notag, Message.tversion(Tversion(msize: 8192, version: "9P2000.L"))),
                             (Tag.notag, .rversion(Rversion(msize: 8192, version: "9P2000.L"))),
                             (Tag(1), .tread(Tread(fid: 3, offset: 0, count: 1)))] {
                t += 1
                events.append(.frame(conn: conn, direction: (m.typeCode & 1) == 0 ? .toServer : .toClient, at: t,
                                     bytes: Fcall(tag: tag, m).encode(dialect: .l), marks: []))
            }
            events.append(.connectionClosed(conn: conn, at: t, reason: n % 2 == 0 ? .eof : .reset))
            for e in events { #expect(full.handle(e) == lean.handle(e)) }
        }
        #expect(full.connections.count == 1000 && lean.connections.isEmpty)
        #expect(lean.heldExchangeCount == 0)
        #expect(lean.anomalyTotal == full.anomalies.count && lean.anomalyTotal >= 1000)
    }

    /// Flush races keep their records while their connection is open (a later frame can still change
    /// their outcome), and nothing else; the close releases them.
    @Test func flushRecordsAreKeptUntilTheClose() {
        var lean = SessionTracker(configuration: .lineTrace())
        var beforeClose = -1
        for event in Self.session(files: 1000, flushes: true) {
            if case .connectionClosed(1, _, _) = event { beforeClose = lean.heldExchangeCount }
            _ = lean.handle(event)
        }
        // 10 rounds of three races: 2 + 2 + 3 exchanges each, and the read unanswered at close.
        #expect(beforeClose == 10 * 7 + 1)
        #expect(lean.heldExchangeCount == 0 && lean.heldFidRecordCount == 0)
    }
}
