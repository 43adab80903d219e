@testable import InspectorCore
import NinePCapture
import NinePSession
import NinePWire
import Testing

/// Injection planning, the proxy's flush answers, and exporting a session as a capture.
@Suite struct LiveSessionTests {
    /// Connection 1 opened, Tversion/Rversion (9P2000.L, msize 8192) and fid 0 attached.
    /// `mounted()`, then a Tgetattr (tag 20) that the proxy flushed: its Tflush injected, the request answered
    /// by the proxy (Rlerror EINTR, injected), the server's Rflush intercepted.
    static func mountedWithAProxyFlushedGetattr() -> SampleTraffic {
        var s = mounted()
        s.t(20, .tgetattr(Tgetattr(fid: 0, requestMask: .basic)))
        s.t(0xFFFE, .tflush(Tflush(oldtag: 20)), marks: .injected)
        s.r(20, .rlerror(Rlerror(ecode: .EINTR)), marks: .injected)
        s.r(0xFFFE, .rflush, marks: .intercepted)
        return s
    }

    static func mounted() -> SampleTraffic {
        var s = SampleTraffic(start: 1_000)
        s.open()
        s.version()
        s.attach(fid: 0, uname: "u")
        return s
    }

    /// The sample session's tracker (connection 1 open; fids 0, 1, 4 live).
    func tracker() -> SessionTracker {
        var t = SessionTracker()
        for e in SampleTraffic.session() { _ = t.handle(e) }
        return t
    }

    @Test func injectedWalkGetsReservedTagAndFid() throws {
        var planner = InjectionPlanner()
        let t = tracker()
        let plan = try planner.plan(.twalk(Twalk(fid: 0, newfid: 100, wnames: ["etc", "passwd"])), conn: 1, tracker: t)
        guard case .twalk(let w) = plan.fcall.message else {
            Issue.record("not a walk")
            return
        }
        #expect(w.fid == 0)  // the client's root fid is walked from, not replaced
        #expect(FidAllocator.defaultRange.contains(w.newfid.rawValue))
        #expect(TagAllocator.defaultRange.contains(plan.fcall.tag.rawValue))
        #expect(!t.pendingTags(on: 1).contains(plan.fcall.tag))
        #expect(plan.mappedFids == [Fid(100): w.newfid])
        #expect(try Fcall.decode(plan.frame, dialect: .l) == plan.fcall)
        // The same user fid maps to the same real fid in the next request.
        let next = try planner.plan(.tgetattr(Tgetattr(fid: 100, requestMask: .basic)), conn: 1, tracker: t)
        guard case .tgetattr(let g) = next.fcall.message else { return }
        #expect(g.fid == w.newfid)
        #expect(next.fcall.tag != plan.fcall.tag)
    }

    @Test func creatingOverAClientFidIsRemapped() throws {
        var planner = InjectionPlanner()
        // fid 1 is the client's (open on /usr/lib): walking into newfid 1 must not clobber it.
        let plan = try planner.plan(.twalk(Twalk(fid: 0, newfid: 1, wnames: ["tmp"])), conn: 1, tracker: tracker())
        guard case .twalk(let w) = plan.fcall.message else { return }
        #expect(w.newfid != 1)
        #expect(FidAllocator.defaultRange.contains(w.newfid.rawValue))
    }

    @Test func changingAClientFidIsRefused() {
        var planner = InjectionPlanner()
        let t = tracker()
        for m: Message in [.tclunk(Tclunk(fid: 0)), .tremove(Tremove(fid: 1)), .tlopen(Tlopen(fid: 0, flags: [])),
                           .twalk(Twalk(fid: 1, newfid: 1, wnames: ["x"]))] {
            #expect(throws: InjectionPlanner.Refusal.self, "\(m)") { try planner.plan(m, conn: 1, tracker: t) }
        }
        #expect(throws: InjectionPlanner.Refusal.self) {
            try planner.plan(.tversion(Tversion(msize: 8192, version: "9P2000.L")), conn: 1, tracker: t)
        }
        #expect(throws: InjectionPlanner.Refusal.noConnection(7)) {
            try planner.plan(.tstatfs(Tstatfs(fid: 0)), conn: 7, tracker: t)
        }
        // It says how to inject elsewhere (it read `no open connection c7`).
        #expect(InjectionPlanner.Refusal.noConnection(7).description
                == "c7 is not open: select an exchange of an open connection to inject into it")
    }

    @Test func releasedFidsAreForgottenAfterClunk() throws {
        var planner = InjectionPlanner()
        let s = Self.mounted()
        var t = SessionTracker()
        for e in s.events { _ = t.handle(e) }
        let walk = try planner.plan(.twalk(Twalk(fid: 0, newfid: 100, wnames: [])), conn: 1, tracker: t)
        guard case .twalk(let w) = walk.fcall.message else { return }
        #expect(planner.fidMaps[1]?[100] == w.newfid)
        // The tracker sees the injected walk and a clunk of the real fid.
        _ = t.handle(.frame(conn: 1, direction: .toServer, at: 9_000, bytes: walk.frame, marks: .injected))
        _ = t.handle(.frame(conn: 1, direction: .toClient, at: 9_100,
                            bytes: Fcall(tag: walk.fcall.tag, .rwalk(Rwalk(wqids: []))).encode(dialect: .l), marks: .intercepted))
        _ = t.handle(.frame(conn: 1, direction: .toServer, at: 9_200,
                            bytes: Fcall(tag: 5, .tclunk(Tclunk(fid: w.newfid))).encode(dialect: .l), marks: .injected))
        _ = t.handle(.frame(conn: 1, direction: .toClient, at: 9_300,
                            bytes: Fcall(tag: 5, .rclunk).encode(dialect: .l), marks: .intercepted))
        _ = try planner.plan(.tstatfs(Tstatfs(fid: 0)), conn: 1, tracker: t)
        #expect(planner.fidMaps[1]?[100] == nil)
    }

    @Test func mappingCoversEveryFidField() {
        let m = Message.trenameat(Trenameat(olddirfid: 1, oldname: "a", newdirfid: 2, newname: "b"))
        guard case .trenameat(let r) = m.mappingFids({ Fid($0.rawValue + 10) }) else { return }
        #expect(r.olddirfid == 11 && r.newdirfid == 12)
        guard case .tattach(let a) = Message.tattach(Tattach(fid: 3, afid: .nofid, uname: "", aname: ""))
            .mappingFids({ Fid($0.rawValue + 10) }) else { return }
        #expect(a.fid == 13 && a.afid == .nofid)
    }

    /// The proxy answers a flushed request itself (Rlerror EINTR marked injected): the row reads as
    /// flushed, not as an error.
    @Test func proxyAnsweredFlushReadsAsFlushed() throws {
        let s = Self.mountedWithAProxyFlushedGetattr()
        var m = InspectorModel()
        m.handle(s.events)
        let row = m.store[2]
        #expect(m.tracker.anomalies.isEmpty)
        #expect(row.requestType == .tgetattr)
        #expect(row.flags.contains(.answeredByProxy))
        #expect(row.displayState == .flushed)
        #expect(!row.isError)
        #expect(try Sample.rows(m, "flushed") == [2])
        #expect(try Sample.rows(m, "error").isEmpty)
        #expect(ExchangeFormatter.mark(row) == "F ")
        // The detail's header says it as the list does, not as the tracker's answered-after-flush.
        let head = m.detail(ofRow: 2, time: .utc).lines.first?.text.text ?? ""
        #expect(head.contains("flushed (ninescope answered)") && !head.contains("answered-after-flush"), "\(head)")
    }

    /// The connections view lists connections by number, whatever order their openings were reported in (the
    /// proxy's event loops report them each on its own: c1 could come before c0).
    @Test func connectionsAreListedByNumber() {
        var m = InspectorModel()
        for c in [2, 0, 1] as [ConnectionID] {
            _ = m.handle(.connectionOpened(conn: c, at: 1_000, info: ConnectionInfo(client: "c\(c.rawValue)", upstream: "u")))
        }
        #expect(m.connectionTable(time: .utc).rows.map { $0.cells[0] } == ["c0", "c1", "c2"])
    }

    /// The connections view's `err`, the statistics' `errors` and the filter `conn:N and error` count the
    /// same exchanges: a server's error and a `--fault` error count; the EINTR the proxy answers a flushed
    /// request with does not (it was counted by the connections view alone).
    @Test func errorCountsAgreeAfterAFlush() throws {
        var s = Self.mountedWithAProxyFlushedGetattr()
        s.t(21, .twalk(Twalk(fid: 0, newfid: 1, wnames: ["nope"])))
        s.r(21, .rlerror(Rlerror(ecode: .ENOENT)))
        s.t(22, .tlopen(Tlopen(fid: 0, flags: .rdonly)), marks: .dropped)
        s.r(22, .rlerror(Rlerror(ecode: .EACCES)), marks: .injected)
        var m = InspectorModel()
        m.handle(s.events)
        let conn = try #require(m.tracker.connections.first)
        let table = m.connectionTable(time: .utc)
        let column = try #require(table.columns.firstIndex { $0.title == "err" })
        let shown = try #require(table.rows.first?.cells[column])
        let filtered = try Sample.rows(m, "conn:\(conn.id.rawValue) and error").count
        let statistics = try #require(m.statistics.byConnection[conn.id.rawValue]).errors
        #expect(filtered == 2)
        #expect(statistics == 2)
        #expect(shown == "2")
    }

    /// What `proxy --fault` did shows on the row: an error the proxy gave (`(fault)`, an error, not a
    /// flush), a reply held back (`(delayed)`), a request kept from the server and still waiting
    /// (`(held by --fault)`); the filter keyword `fault` finds them, and the detail says what happened.
    @Test func faultedExchangesSayWhatTheProxyDid() throws {
        var s = Self.mounted()
        s.t(21, .tlopen(Tlopen(fid: 0, flags: .rdonly)), marks: .dropped)
        s.r(21, .rlerror(Rlerror(ecode: .EACCES)), marks: .injected)
        s.t(22, .tgetattr(Tgetattr(fid: 0, requestMask: .basic)))
        s.r(22, .rgetattr(Rgetattr(valid: .basic, qid: Qid(path: 100))), marks: .delayed)
        s.t(23, .tstatfs(Tstatfs(fid: 0)), marks: .dropped)
        s.t(24, .tgetattr(Tgetattr(fid: 0, requestMask: .basic)))
        s.r(24, .rgetattr(Rgetattr(valid: .basic, qid: Qid(path: 100))))
        // A request a delay rule fired on: passed on to the server, its reply to be held back.
        s.t(25, .tgetattr(Tgetattr(fid: 0, requestMask: .basic)), marks: .delayed)
        var m = InspectorModel()
        m.handle(s.events)
        #expect(m.tracker.anomalies.isEmpty)
        let (error, delayed, held, plain) = (m.store[2], m.store[3], m.store[4], m.store[5])
        let holding = m.store[6]
        #expect(holding.status == .pending && ExchangeFormatter.replyText(holding, replyLine: nil) == "(held by --fault)")
        #expect(DetailFormatter.handling([.delayed], toServer: true) == "passed on; a --fault rule holds back or replaces its reply")
        #expect(error.displayState == .error && error.isError && !error.isFlushed)
        #expect(ExchangeFormatter.replyText(error, replyLine: "Rlerror tag 21 ecode 13 EACCES")
                .hasPrefix("(fault) Rlerror"))
        #expect(ExchangeFormatter.replyText(delayed, replyLine: "Rgetattr tag 22").hasPrefix("(delayed) Rgetattr"))
        #expect(ExchangeFormatter.replyText(held, replyLine: nil) == "(held by --fault)")
        #expect(ExchangeFormatter.replyText(plain, replyLine: "Rgetattr tag 24") == "Rgetattr")
        #expect(try Sample.rows(m, "fault") == [2, 3, 4, 6])
        #expect(try Sample.rows(m, "not fault and Tgetattr") == [5])
        let detail = DetailFormatter.handling([.dropped], toServer: true)
        #expect(detail == "kept from the server (--fault)")
        #expect(DetailFormatter.handling([.injected], toServer: false) == "made by ninescope, not the server")
        #expect(DetailFormatter.handling([], toServer: false) == nil)
    }

    /// The session exported as a pcapng capture (`:save`) and read back as `decode` reads it.
    static func exportedAndReadBack(_ original: SessionTracker) throws -> SessionTracker {
        var reader = try CaptureReader(bytes: CaptureExport.pcapng(from: original, toolVersion: "test"))
        var decoder = CaptureDecoder(options: ReassemblyOptions())
        var ingest = CaptureIngest()
        var back = SessionTracker()
        func feed(_ events: [CaptureEvent]) { for ce in events { for se in ingest.ingest(ce) { _ = back.handle(se) } } }
        while let packet = reader.next() { feed(decoder.process(packet)) }
        feed(decoder.finish())
        for se in ingest.finish() { _ = back.handle(se) }
        return back
    }

    /// Exporting a session and reading it back gives the same messages.
    @Test func exportedCaptureReadsBack() throws {
        let original = tracker()
        let back = try Self.exportedAndReadBack(original)
        #expect(back.messageCount == original.messageCount)
        for i in 0..<original.messageCount {
            let a = original.message(at: i), b = back.message(at: i)
            #expect(a?.canonicalLine == b?.canonicalLine, "message \(i)")
            #expect(a?.timestamp == b?.timestamp)
            #expect(a?.marks == b?.marks)
            #expect(a?.direction == b?.direction)
        }
        #expect(back.connections.first?.info?.client == "tcp!127.0.0.1!40001")
    }

    /// A saved session is a capture finished in good order: it ends with the end record, so reading it back
    /// (`decode`, `view`) does not say its writer was killed or is still writing, as it said of every `:save`.
    @Test func anExportedCaptureEndsWithItsEndRecord() throws {
        let original = tracker()
        let bytes = CaptureExport.pcapng(from: original, toolVersion: "test")
        var reader = try CaptureReader(bytes: bytes)
        var packets = 0
        while reader.next() != nil { packets += 1 }
        #expect(packets > original.messageCount, "a handshake and the frames")
        let unfinished = reader.lacksEndRecord, endRecord = reader.endRecord
        #expect(!unfinished, "a saved capture read as unfinished")
        let end = try #require(endRecord)
        #expect(CaptureComment.parse(end)?["why"] == "saved", "\(end)")
    }

    /// A session read from a capture cut by a snap length, exported, reads back the same: each cut frame is
    /// written as a snap length leaves one (segments for its whole size, holding the bytes there are: here
    /// a 100,011-byte Rread over two segments, 62 bytes captured), so it comes back cut, in step with the
    /// frames after it, with the marks it had.
    @Test func anExportedCutFrameReadsBackCut() throws {
        var original = SessionTracker()
        let c = ConnectionID(1)
        _ = original.handle(.connectionOpened(conn: c, at: 1_000, info: ConnectionInfo(client: "a", upstream: "b")))
        func send(_ d: Direction, _ f: Fcall, cut: Int? = nil, at t: Int64) {
            let bytes = f.encode(dialect: .l)
            _ = original.handle(.frame(conn: c, direction: d, at: t, bytes: cut.map { Array(bytes.prefix($0)) } ?? bytes,
                                       marks: cut == nil ? [] : [.truncated, .intercepted]))
        }
        send(.toServer, Fcall(tag: .notag, .tversion(Tversion(msize: 200_000, version: "9P2000.L"))), at: 2_000)
        send(.toClient, Fcall(tag: .notag, .rversion(Rversion(msize: 200_000, version: "9P2000.L"))), at: 3_000)
        send(.toServer, Fcall(tag: 1, .tread(Tread(fid: 1, offset: 0, count: 100_000))), at: 4_000)
        send(.toClient, Fcall(tag: 1, .rread(Rread(data: (0..<100_000).map { UInt8(truncatingIfNeeded: $0) }))), cut: 62,
             at: 5_000)
        send(.toServer, Fcall(tag: 2, .tclunk(Tclunk(fid: 1))), at: 6_000)
        send(.toClient, Fcall(tag: 2, .rclunk), at: 7_000)
        let bytes = CaptureExport.pcapng(from: original, toolVersion: "test")
        var reader = try CaptureReader(bytes: bytes)
        var decoder = CaptureDecoder(options: ReassemblyOptions())
        var ingest = CaptureIngest()
        var back = SessionTracker()
        var packets = 0
        func feed(_ events: [CaptureEvent]) { for ce in events { for se in ingest.ingest(ce) { _ = back.handle(se) } } }
        while let packet = reader.next() {
            packets += 1
            feed(decoder.process(packet))
        }
        feed(decoder.finish())
        for se in ingest.finish() { _ = back.handle(se) }
        #expect(packets == 3 + 7, "a handshake, then six frames, the cut one in two segments (MSS 65495)")
        #expect(back.messageCount == original.messageCount)
        for i in 0..<original.messageCount {
            #expect(back.message(at: i)?.canonicalLine == original.message(at: i)?.canonicalLine, "message \(i)")
            #expect(back.message(at: i)?.marks == original.message(at: i)?.marks, "message \(i)")
        }
        #expect(back.message(at: 3)?.canonicalLine.hasSuffix("(cut: 62 of 100011 bytes captured)") == true)
        #expect(back.anomalies.map(\.kind) == original.anomalies.map(\.kind), "\(back.anomalies)")
    }

    /// Why each connection ended survives an export and a read back: an orderly EOF, a reset, and a reason
    /// the proxy gave (which the capture carries as text).
    @Test func exportedCaptureKeepsWhyConnectionsEnded() throws {
        var original = SessionTracker()
        let reasons: [CloseReason] = [.eof, .reset, .error("proxy stopped"), .error("eof mid-frame (client→server)")]
        let tversion = Fcall(tag: .notag, .tversion(Tversion(msize: 8192, version: "9P2000.L"))).encode(dialect: .l)
        for (i, reason) in reasons.enumerated() {
            let conn = ConnectionID(UInt32(i + 1)), t = Int64(i + 1) * 1_000_000
            _ = original.handle(.connectionOpened(conn: conn, at: t, info: nil))
            _ = original.handle(.frame(conn: conn, direction: .toServer, at: t + 1, bytes: tversion, marks: []))
            _ = original.handle(.connectionClosed(conn: conn, at: t + 2, reason: reason))
        }
        let bytes = CaptureExport.pcapng(from: original, toolVersion: "test")
        var reader = try CaptureReader(bytes: bytes)
        var decoder = CaptureDecoder(options: ReassemblyOptions())
        var ingest = CaptureIngest()
        var back: [ConnectionID: CloseReason] = [:]
        func feed(_ events: [CaptureEvent]) {
            for ce in events {
                for case let .connectionClosed(conn, _, reason) in ingest.ingest(ce) { back[conn] = reason }
            }
        }
        while let packet = reader.next() { feed(decoder.process(packet)) }
        feed(decoder.finish())
        #expect(back.count == reasons.count)
        for (i, reason) in reasons.enumerated() {
            #expect(back[ConnectionID(UInt32(i + 1))] == reason, "connection \(i + 1)")
        }
    }

    /// A connection that opened and closed without a word (a REPL that never spoke, a port check) is in a saved
    /// session as `--capture` records it: `:save` left it out, so the saved file had one connection fewer
    /// than the live view and the capture, and the ones after it in time kept their order.
    @Test func anExportedCaptureKeepsASilentConnection() throws {
        var original = SessionTracker()
        let tversion = Fcall(tag: .notag, .tversion(Tversion(msize: 8192, version: "9P2000.L"))).encode(dialect: .l)
        let silent = ConnectionID(1), talking = ConnectionID(2)
        _ = original.handle(.connectionOpened(conn: talking, at: 1_000, info: ConnectionInfo(client: "a", upstream: "b")))
        _ = original.handle(.connectionOpened(conn: silent, at: 2_000, info: ConnectionInfo(client: "c", upstream: "b")))
        _ = original.handle(.connectionClosed(conn: silent, at: 3_000, reason: .eof))
        _ = original.handle(.frame(conn: talking, direction: .toServer, at: 4_000, bytes: tversion, marks: []))
        _ = original.handle(.connectionClosed(conn: talking, at: 5_000, reason: .eof))
        let back = try Self.exportedAndReadBack(original)
        let conns = back.connections.sorted { $0.id < $1.id }
        #expect(conns.map(\.id) == [silent, talking])
        #expect(conns.first?.info?.client == "c")
        #expect(conns.first?.openedAt == 2_000)
        #expect(conns.first?.closedAt == 3_000)
        #expect(conns.first?.closeReason == .eof)
        #expect(back.messageCount == 1)
    }

    /// The second file of a capture of connection `c` cut into files: a continuation recording `fids`, then
    /// `frames` (times 3, 4, …), read back through the capture decoder into a tracker; with its anomalies.
    static func continuedFile(_ c: ConnectionID, fids: [RecordedFid], frames: [(Direction, [UInt8])]) throws
        -> (SessionTracker, [AnomalyKind]) {
        var writer = PcapngWriter()
        _ = writer.header()
        _ = writer.open(conn: c, clientAddress: "a", upstreamAddress: "b", t: 1)
        var file = writer.header()
        file += writer.continuation(conn: c, clientAddress: "a", upstreamAddress: "b", version: "9P2000.L", msize: 8192,
                                    fids: fids, t: 2)
        for (i, (direction, bytes)) in frames.enumerated() {
            file += writer.frame(conn: c, direction: direction, t: Int64(3 + i), bytes: bytes)
        }
        var reader = try CaptureReader(bytes: file)
        var decoder = CaptureDecoder(options: ReassemblyOptions())
        var ingest = CaptureIngest()
        var tracker = SessionTracker()
        var anomalies: [AnomalyKind] = []
        func feed(_ events: [CaptureEvent]) {
            for ce in events { for se in ingest.ingest(ce) { anomalies += tracker.handle(se).anomalies.map(\.kind) } }
        }
        while let packet = reader.next() { feed(decoder.process(packet)) }
        feed(decoder.finish())
        return (tracker, anomalies)
    }

    /// A capture file that continues an earlier one (a capture cut into files) gives the tracker every fid it
    /// had in use with all that was known of it: path, state, qid, how it was opened, iounit, the attach's
    /// user, an xattr fid's attribute.
    @Test func aContinuedFileGivesTheTrackerWhatWasKnownOfEachFid() throws {
        let c = ConnectionID(4)
        let tread = Fcall(tag: 1, .tread(Tread(fid: 2, offset: 0, count: 2048))).encode(dialect: .l)
        let (tracker, anomalies) = try Self.continuedFile(c, fids: [
            RecordedFid(fid: 2, state: "open", root: .attach(aname: "/srv"), elements: ["log"],
                        qid: Qid(version: 3, path: 9), opened: .dotL(LOpenFlags(rawValue: 0o2002)),
                        iounit: 1024, uname: "glenda", nUname: 1000),
            RecordedFid(fid: 5, state: "xattr", root: .attach(aname: "/srv"), elements: ["log"],
                        xattr: XattrInfo(name: "user.tag", size: 40)),
            RecordedFid(fid: 6, state: "open", root: .attach(aname: "/srv"), elements: ["tmp", "gone"],
                        opened: .dotL(LOpenFlags(rawValue: 2)), deleted: true),
        ], frames: [(.toServer, tread)])
        let fids = tracker.fidTable(on: c)
        let log = try #require(fids.first { $0.fid == 2 })
        #expect(log.path?.description == "/srv:/log" && log.state == .open && log.qid == Qid(version: 3, path: 9))
        #expect(log.openMode?.description == "RDWR|APPEND" && log.iounit == 1024)
        #expect(log.uname == "glenda" && log.nUname == 1000)
        #expect(fids.first { $0.fid == 5 }?.xattr == XattrInfo(name: "user.tag", size: 40))
        #expect(fids.first { $0.fid == 6 }?.path?.description == "/srv:/tmp/gone (deleted)")
        #expect(anomalies.contains(.countExceedsIounit), "a read beyond the iounit it was opened with: \(anomalies)")
    }

    /// A continued file knows its attach roots' qids from the fids recorded at them, so a `..` walked out of
    /// the root there is still walk-left-root; a recorded path that went out that way keeps its `..`.
    @Test func aContinuedFileKnowsItsRootsForTheDotDotCheck() throws {
        let c = ConnectionID(2)
        let (tracker, anomalies) = try Self.continuedFile(c, fids: [
            RecordedFid(fid: 0, state: "attached", root: .attach(aname: "/srv"), elements: [], qid: Qid(type: .dir, path: 1)),
            RecordedFid(fid: 3, state: "walked", root: .attach(aname: "/srv"), elements: ["..", "etc"],
                        qid: Qid(type: .dir, path: 5)),
        ], frames: [
            (.toServer, Fcall(tag: 1, .twalk(Twalk(fid: 0, newfid: 4, wnames: [".."]))).encode(dialect: .l)),
            (.toClient, Fcall(tag: 1, .rwalk(Rwalk(wqids: [Qid(type: .dir, path: 9)]))).encode(dialect: .l)),
        ])
        #expect(anomalies == [.walkLeftRoot], "\(anomalies)")
        let fids = tracker.fidTable(on: c)
        #expect(fids.first { $0.fid == 3 }?.path?.description == "/srv:/../etc")
        #expect(fids.first { $0.fid == 4 }?.path?.description == "/srv:/..")
    }
}
