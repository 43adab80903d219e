@testable import InspectorCore
import NinePSession
import NinePWire
import Testing

@Suite struct ModelTests {
    /// The store holds a row per exchange, millions of them live: the row stays 64 bytes (its 16 bits of
    /// flags fit where the 8 did, in what was padding).
    @Test func anExchangeRowIsSixtyFourBytes() {
        #expect(MemoryLayout<ExchangeRow>.stride == 64)
    }

    @Test func storeHoldsOneRowPerExchange() {
        let m = Sample.model()
        #expect(m.store.count == Sample.count)
        #expect(m.store[Sample.walkUsrLib].requestType == .twalk)
        #expect(m.store[Sample.walkUsrLib].replyType == .rwalk)
        #expect(m.store[Sample.version].tag == 0xFFFF)
        #expect(m.store[Sample.readPasswd].requestType == .tread)
        #expect(m.store[Sample.readPasswd].latency == 2_500_000)
        #expect(m.store[Sample.attach].latency == 180_000)
    }

    @Test func statesComeFromTheTracker() {
        let m = Sample.model()
        #expect(m.store[Sample.pendingRead].status == .pending)
        #expect(m.store[Sample.pendingRead].displayState == .pending)
        #expect(m.store[Sample.pendingRead].latency == nil)
        #expect(m.store[Sample.flushedReaddir].status == .flushed)
        #expect(m.store[Sample.flushedReaddir].displayState == .flushed)
        #expect(m.store[Sample.walkMissing].isError)
        #expect(m.store[Sample.walkMissing].errno == Errno.ENOENT.rawValue)
        #expect(m.store[Sample.injected].flags.contains(.injected))
        #expect(m.store[Sample.injected].displayState == .injected)
        #expect(m.store[Sample.badClunk].flags.contains(.anomaly))
        #expect(m.store[Sample.badClunk].displayState == .anomaly)
        #expect(m.store[Sample.statfs].displayState == .ok)
    }

    @Test func fidsAndPathsOfRequests() {
        let m = Sample.model()
        let walk = m.store[Sample.walkPasswd]
        #expect(walk.fid == 0)
        #expect(walk.otherFid == 2)
        #expect(m.store.path(walk.replyPath) == "/etc/passwd")
        #expect(m.store.path(m.store[Sample.readPasswd].requestPath) == "/etc/passwd")
        #expect(m.store[Sample.version].fid == ExchangeRow.noFid)
        #expect(m.store.isMisused(conn: 1, fid: 99))
        #expect(!m.store.isMisused(conn: 1, fid: 2))
    }

    @Test func filtersOverTheSampleSession() throws {
        let m = Sample.model()
        #expect(try Sample.rows(m, "Twalk") == [Sample.walkUsrLib, Sample.walkPasswd, Sample.walkMissing, Sample.walkTmp])
        #expect(try Sample.rows(m, "error") == [Sample.walkMissing, Sample.badClunk])
        #expect(try Sample.rows(m, "Rlerror") == [Sample.walkMissing, Sample.badClunk])
        #expect(try Sample.rows(m, "pending") == [Sample.pendingRead])
        #expect(try Sample.rows(m, "flushed") == [Sample.flushedReaddir])
        #expect(try Sample.rows(m, "injected") == [Sample.injected])
        #expect(try Sample.rows(m, "anomaly") == [Sample.badClunk])
        #expect(try Sample.rows(m, "anomaly:unknown-fid") == [Sample.badClunk])
        #expect(try Sample.rows(m, "anomaly:fid-leak or anomaly:walk-left-root").isEmpty)
        #expect(try Sample.rows(m, "anomaly and not anomaly:unknown-fid").isEmpty)
        #expect(try Sample.rows(m, "fid:2") == [Sample.walkPasswd, Sample.getattr, Sample.lopenPasswd, Sample.readPasswd,
                                                 Sample.clunkPasswd])
        #expect(try Sample.rows(m, "path:/etc") == [Sample.walkPasswd, Sample.getattr, Sample.lopenPasswd,
                                                     Sample.readPasswd, Sample.clunkPasswd])
        #expect(try Sample.rows(m, "errno:ENOENT") == [Sample.walkMissing])
        #expect(try Sample.rows(m, "latency>2ms") == [Sample.readPasswd])
        #expect(try Sample.rows(m, "passwd") == [Sample.walkPasswd])
        #expect(try Sample.rows(m, "tag:4") == [Sample.walkMissing, Sample.clunkPasswd])
        #expect(try Sample.rows(m, "Tread or Twrite") == [Sample.readPasswd, Sample.write, Sample.pendingRead])
        #expect(try Sample.rows(m, "conn:1").count == Sample.count)
        #expect(try Sample.rows(m, "conn:2").isEmpty)
        #expect(try Sample.rows(m, "Twalk and not error") == [Sample.walkUsrLib, Sample.walkPasswd, Sample.walkTmp])
        #expect(try Sample.rows(m, "(Tlopen or Tlcreate) fid:4") == [Sample.lcreate])
    }

    /// Feeding events one at a time under a filter gives the same rows as filtering at the end, for
    /// filters that depend on replies (the rows change state after they were first checked).
    @Test func incrementalFilteringMatchesBatch() throws {
        let events = SampleTraffic.session()
        for text in ["pending", "error", "Rwalk", "latency>=1ms", "path:/usr", "not ok", "passwd or flushed", "fid:1"] {
            var live = InspectorModel(scanBudget: 3)
            live.setFilter(try FilterParser.parse(text))
            for e in events { live.handle(e) }
            while !live.continueScan() {}
            let incremental = (0..<live.view.count).map { live.view[$0] }
            var batch = InspectorModel()
            batch.handle(events)
            let expected = (0..<batch.store.count).filter { row in
                var matcher = FilterMatcher(try! FilterParser.parse(text))
                return matcher.matches(row, in: batch.store, text: { batch.text(ofRow: $0) })
            }
            #expect(incremental == expected, "\(text)")
        }
    }

    /// `anomaly:fid-leak` (the README's example) finds the exchanges that made the fids left open at the
    /// close, whether the filter was set before the close (live) or after; those rows are not marked as
    /// anomalies themselves (they did nothing wrong), so `anomaly` alone still leaves them out.
    @Test func anomalyKindFindsTheExchangesThatMadeLeakedFids() throws {
        var s = SampleTraffic()
        s.open()
        s.version()
        s.attach(fid: 0, uname: "glenda", nUname: 1000)
        s.t(1, .twalk(Twalk(fid: 0, newfid: 1, wnames: ["tmp"])))
        s.r(1, .rwalk(Rwalk(wqids: [Qid(type: .dir, version: 0, path: 2)])))
        s.t(1, .tclunk(Tclunk(fid: 1)))
        s.r(1, .rclunk)
        s.t(1, .twalk(Twalk(fid: 0, newfid: 2, wnames: ["etc"])))
        s.r(1, .rwalk(Rwalk(wqids: [Qid(type: .dir, version: 0, path: 3)])))
        s.close()
        var batch = InspectorModel()
        batch.handle(s.events)
        #expect(try Sample.rows(batch, "anomaly:fid-leak") == [1, 4])
        #expect(try Sample.rows(batch, "anomaly").isEmpty)
        var live = InspectorModel(scanBudget: 2)
        live.setFilter(try FilterParser.parse("anomaly:fid-leak"))
        for e in s.events { live.handle(e) }
        while !live.continueScan() {}
        #expect((0..<live.view.count).map { live.view[$0] } == [1, 4])
    }

    @Test func followsTheTailUntilTheUserMoves() {
        let events = SampleTraffic.session()
        var m = InspectorModel()
        m.setPageSize(5)
        m.handle(events.prefix(10))
        let firstCount = m.store.count
        #expect(m.cursor.isFollowing)
        #expect(m.selectedRow == firstCount - 1)
        m.moveSelection(by: -2)
        #expect(!m.cursor.isFollowing)
        let held = m.selectedRow
        m.handle(events.dropFirst(10))
        #expect(m.store.count > firstCount)
        #expect(m.selectedRow == held)
        m.toBottom()
        #expect(m.cursor.isFollowing)
        #expect(m.selectedRow == m.store.count - 1)
        #expect(m.cursor.visible.upperBound == m.store.count)
    }

    @Test func filterChangeKeepsTheSelectedExchange() throws {
        var m = Sample.model()
        m.toTop()
        let r1 = m.select(row: Sample.readPasswd)
        #expect(r1)
        m.setFilter(try FilterParser.parse("fid:2"))
        #expect(m.selectedRow == Sample.readPasswd)
        // A row the filter hides: the selection goes to the next one that matches.
        let r2 = m.select(row: Sample.getattr)
        #expect(r2)
        m.setFilter(try FilterParser.parse("Tread or Tclunk"))
        #expect(m.selectedRow == Sample.readPasswd)
        m.filterToFid(Fid(4), conn: 1)
        #expect((0..<m.view.count).map { m.view[$0] } == [Sample.walkTmp, Sample.lcreate, Sample.write])
    }

    @Test func searchWrapsAround() throws {
        var m = Sample.model()
        m.toTop()
        m.setSearch(try FilterParser.parse("error"))
        let r3 = m.searchNext()
        #expect(r3)
        #expect(m.selectedRow == Sample.walkMissing)
        let r4 = m.searchNext()
        #expect(r4)
        #expect(m.selectedRow == Sample.badClunk)
        let r5 = m.searchNext()
        #expect(r5)
        #expect(m.selectedRow == Sample.walkMissing)
        let r6 = m.searchNext(forward: false)
        #expect(r6)
        #expect(m.selectedRow == Sample.badClunk)
        m.setSearch(try FilterParser.parse("Tsymlink"))
        let neg = m.searchNext()
        #expect(!neg)
    }

    @Test func statisticsPerTypeAndConnection() {
        let m = Sample.model()
        let walk = m.statistics.bucket(type: .twalk)
        #expect(walk?.count == 4)
        #expect(walk?.errors == 1)
        #expect(walk?.latencyCount == 4)
        let read = m.statistics.bucket(type: .tread)
        #expect(read?.count == 2)
        #expect(read?.pending == 1)
        #expect(read?.latencyCount == 1)
        #expect(read?.max == 2_500_000)
        #expect(m.statistics.bucket(type: .treaddir)?.flushed == 1)
        #expect(m.statistics.total.count == Sample.count)
        #expect(m.statistics.byConnection[1]?.count == Sample.count)
        #expect(m.statistics.total.errors == 2)
        // Bytes: every frame counted once.
        let frameBytes = SampleTraffic.session().reduce(0) { sum, e in
            if case .frame(_, _, _, let b, _) = e { return sum + b.count }
            return sum
        }
        #expect(m.statistics.total.bytes == frameBytes)
    }

    @Test func percentilesOfKnownLatencies() {
        var s = Statistics()
        // 100 exchanges with latencies 1µs … 100µs.
        for i in 1...100 {
            let row = ExchangeRow(start: 0, end: Int64(i) * 1_000, conn: 3, tag: UInt16(i), requestCode: MessageType.tread.rawValue,
                                  replyCode: MessageType.rread.rawValue, status: .ok, flags: [.hasRequest, .hasReply])
            s.apply(old: nil, new: row)
        }
        let b = s.bucket(type: .tread)!
        // Three significant digits: within 0.1%.
        #expect(abs(b.p50! - 50_000) <= 50)
        #expect(abs(b.p90! - 90_000) <= 90)
        #expect(abs(b.p99! - 99_000) <= 99)
        #expect(b.max == 100_000)
        #expect(s.byConnection[3]?.count == 100)
    }

    @Test func completionUpdatesStatisticsOnce() {
        var s = Statistics()
        var row = ExchangeRow(start: 0, tag: 1, requestCode: MessageType.twalk.rawValue, status: .pending,
                              flags: [.hasRequest])
        s.apply(old: nil, new: row)
        #expect(s.bucket(type: .twalk)?.pending == 1)
        let old = row
        row.end = 5_000
        row.status = .error
        row.replyCode = MessageType.rlerror.rawValue
        row.flags.insert(.hasReply)
        s.apply(old: old, new: row)
        let b = s.bucket(type: .twalk)!
        #expect(b.count == 1)
        #expect(b.pending == 0)
        #expect(b.errors == 1)
        #expect(b.latencyCount == 1)
    }
}

/// The live view's bounded history (`InspectorModel.historyLimit`).
@Suite struct HistoryLimitTests {
    /// A mount, one Tread the server never answers, then `count` Tgetattr exchanges (the `fid:1` ones
    /// every tenth), fed `batch` events at a time as the live UI feeds them.
    static func feed(_ model: inout InspectorModel, count: Int, batch: Int = 1000) {
        var t: Int64 = 1_700_000_000_000_000_000
        var events: [SessionEvent] = []
        func frame(_ tag: UInt16, _ m: Message, _ d: Direction) {
            t += 1_000
            events.append(.frame(conn: 1, direction: d, at: t, bytes: Fcall(tag: Tag(tag), m).encode(dialect: .l), marks: []))
        }
        if model.store.isEmpty {
            events.append(.connectionOpened(conn: 1, at: t, info: nil))
            frame(0xFFFF, .tversion(Tversion(msize: 8192, version: "9P2000.L")), .toServer)
            frame(0xFFFF, .rversion(Rversion(msize: 8192, version: "9P2000.L")), .toClient)
            frame(0, .tattach(Tattach(fid: 1, uname: "u", aname: "", nUname: 0)), .toServer)
            frame(0, .rattach(Rattach(qid: Qid(type: .dir, path: 1))), .toClient)
            frame(3, .tread(Tread(fid: 1, offset: 0, count: 10)), .toServer)
        } else {
            t = model.store.lastTime ?? t
        }
        for i in 0..<count {
            let fid: UInt32 = i % 10 == 0 ? 1 : 2
            frame(5, .tgetattr(Tgetattr(fid: Fid(fid), requestMask: .basic)), .toServer)
            frame(5, .rgetattr(Rgetattr(valid: .basic, qid: Qid(path: UInt64(i)))), .toClient)
            if events.count >= batch { model.handle(events); events = [] }
        }
        model.handle(events)
    }

    @Test func theOldestExchangesAreForgottenButThePendingOne() throws {
        var m = InspectorModel()
        m.historyLimit = 4 << 20
        Self.feed(&m, count: 40_000)
        let pending = 2   // version, attach, the read
        #expect(m.forgottenExchanges > 0)
        #expect(m.heldBytes <= 4 << 20, "\(m.heldBytes) bytes held")
        #expect(m.store.count == 40_003 && m.store.heldCount == m.store.count - m.forgottenExchanges)
        #expect(m.store.firstHeld % 4096 == 0 && m.store.keptRows == [pending])
        // The list: the pending read first, then the newest exchanges; following the tail still.
        #expect(m.view.count == m.store.heldCount && m.view[0] == pending && m.view[1] == m.store.firstHeld)
        #expect(m.cursor.isFollowing && m.selectedRow == m.store.count - 1)
        #expect(m.columns(ofRow: pending, time: .utc).request.hasPrefix("Tread fid 1"))
        #expect(m.messages(ofRow: m.store.firstHeld).reply != nil)
        #expect(!m.store.isHeld(m.store.firstHeld - 1) && m.store[m.store.firstHeld - 1] == ExchangeRow())
        // Statistics still count every exchange.
        #expect(m.statistics.total.count == 40_003)
        // A filter sees only what is held; set afterwards, it finds the same.
        m.setFilter(.term(.fid(1)))
        while !m.continueScan() {}
        let rows = (0..<m.view.count).map { m.view[$0] }
        #expect(rows.first == pending && rows.dropFirst().allSatisfy { $0 >= m.store.firstHeld && (($0 - 3) % 10 == 0) },
                "\(rows.prefix(5))")
        #expect(rows.count == 1 + (m.store.firstHeld..<m.store.count).filter { ($0 - 3) % 10 == 0 }.count, "\(rows.count)")
    }

    /// A client that connects once per operation and gets an error each time: the error counts of the
    /// connections the history forgets go with them (the connections view lists only those held), those
    /// held keep theirs, and the statistics still count every error.
    @Test func errorCountsGoWithTheConnectionsForgotten() {
        var m = InspectorModel()
        m.historyLimit = 1 << 20
        var t: Int64 = 1_700_000_000_000_000_000
        let connections = 3000
        for c in 1...UInt32(connections) {
            var events: [SessionEvent] = [.connectionOpened(conn: ConnectionID(rawValue: c), at: t, info: nil)]
            func frame(_ tag: UInt16, _ msg: Message, _ d: Direction) {
                t += 1_000
                events.append(.frame(conn: ConnectionID(rawValue: c), direction: d, at: t,
                                     bytes: Fcall(tag: Tag(tag), msg).encode(dialect: .l), marks: []))
            }
            frame(0xFFFF, .tversion(Tversion(msize: 8192, version: "9P2000.L")), .toServer)
            frame(0xFFFF, .rversion(Rversion(msize: 8192, version: "9P2000.L")), .toClient)
            frame(0, .tattach(Tattach(fid: 1, uname: "u", aname: "", nUname: 0)), .toServer)
            frame(0, .rattach(Rattach(qid: Qid(type: .dir, path: 1))), .toClient)
            for _ in 0..<8 {
                frame(1, .twalk(Twalk(fid: 1, newfid: 2, wnames: ["missing"])), .toServer)
                frame(1, .rlerror(Rlerror(ecode: Errno(2))), .toClient)
            }
            events.append(.connectionClosed(conn: ConnectionID(rawValue: c), at: t + 1, reason: .eof))
            m.handle(events)
        }
        let held = m.tracker.connections
        #expect(m.forgottenExchanges > 0 && held.count < connections / 2, "\(held.count) held")
        #expect(m.statistics.errorsByConnection.count <= held.count, "\(m.statistics.errorsByConnection.count)")
        #expect(held.allSatisfy { m.statistics.errorsByConnection[$0.id.rawValue] == 8 })
        #expect(m.statistics.total.errors == 8 * connections)
        // The statistics view's rows: the newest connections' own, the rest counted together, all of them.
        let own = m.statistics.byConnection.count
        #expect(own > 0 && own + m.statistics.otherConnectionCount == connections)
        #expect(m.statistics.byConnection.values.reduce(0) { $0 + $1.errors }
                + (m.statistics.otherConnections?.errors ?? 0) == 8 * connections)
    }

    /// A selection on a row that is kept stays on it; on a row forgotten it moves to the first one held; a
    /// filtered view drops the forgotten rows as they go.
    @Test func theSelectionAndFilterFollowWhatIsForgotten() throws {
        var m = InspectorModel()
        m.setPageSize(20)
        Self.feed(&m, count: 5000)
        m.setFilter(.term(.fid(1)))
        while !m.continueScan() {}
        m.toTop()
        m.moveSelection(by: 3)
        let selected = try #require(m.selectedRow)
        #expect(selected < 4096)
        m.historyLimit = 2 << 20
        Self.feed(&m, count: 20_000)
        #expect(m.forgottenExchanges > 0 && !m.cursor.isFollowing)
        #expect(m.selectedRow == m.view[0] || m.selectedRow == m.store.firstHeld || m.view[m.cursor.selected ?? 0] >= m.store.firstHeld)
        let rows = (0..<m.view.count).map { m.view[$0] }
        #expect(rows.allSatisfy { m.store.isHeld($0) }, "a forgotten row in the view")
        #expect(rows == rows.sorted())
        // The pending read (fid 1) is kept and still listed.
        #expect(rows.first == 2)
        // Selecting the kept pending read: still there after more is forgotten.
        let selectedPending = m.select(row: 2)
        #expect(selectedPending)
        Self.feed(&m, count: 20_000)
        #expect(m.selectedRow == 2)
        // Clearing the filter lists every row held.
        m.setFilter(.all)
        #expect(m.view.count == m.store.heldCount && m.selectedRow == 2)
        // A row forgotten cannot be selected.
        let selectedForgotten = m.select(row: 100)
        #expect(!selectedForgotten)
    }
}
