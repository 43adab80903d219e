import Foundation
import InspectorCore
import NinePSession
import NinePWire
import Testing

/// `decode --stats` / `proxy --stats`: statistics counted from a change-reporting tracker's output, one
/// exchange at a time as each completes, agree with the inspector's, which the model counts from its whole
/// exchange store.
@Suite struct TraceStatisticsTests {
    /// The sample session (two connections, every kind of exchange: errors, a flush, an anomaly) through
    /// `TraceStatistics` and through the inspector's model.
    static func both(filter: String? = nil, closed: Bool = true, bulk: Int = 0, connectionLimit: Int = 64,
                     pathLimit: Int = 1 << 16) throws
        -> (stats: TraceStatistics, model: InspectorModel, events: [SessionEvent]) {
        var sample = SampleTraffic()
        sample.open()
        sample.mountAndWorkload()
        if closed { sample.close() }
        var events = sample.events
        if bulk > 0 { events += SampleTraffic.bulk(exchanges: bulk, conn: 2, start: 1_800_000_000_000_000_000) }
        var tracker = SessionTracker(configuration: .init(retainFrames: false, reportsChanges: true))
        var stats = TraceStatistics(filter: try filter.map(FilterParser.parse), connectionLimit: connectionLimit,
                                    pathLimit: pathLimit)
        var model = InspectorModel(tracker: SessionTracker())
        for event in events {
            stats.take(tracker.handle(event))
            model.handle(event)
        }
        stats.finish()
        return (stats, model, events)
    }

    static func same(_ a: StatBucket?, _ b: StatBucket?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        return a.count == b.count && a.errors == b.errors && a.bytes == b.bytes && a.pending == b.pending
            && a.flushed == b.flushed && a.p50 == b.p50 && a.p90 == b.p90 && a.p99 == b.p99 && a.max == b.max
            && a.latencyCount == b.latencyCount
    }

    @Test(arguments: [true, false])
    func countsWhatTheInspectorCounts(closed: Bool) throws {
        let (stats, model, _) = try Self.both(closed: closed, bulk: 2_000)
        let ours = stats.statistics, theirs = model.statistics
        #expect(ours.codes == theirs.codes)
        for code in theirs.codes {
            #expect(Self.same(ours.bucket(code: code), theirs.bucket(code: code)),
                    "\(MessageType(rawValue: code)?.name ?? "\(code)")")
        }
        #expect(Set(ours.byConnection.keys) == Set(theirs.byConnection.keys) && ours.byConnection.count == 2)
        for (conn, bucket) in theirs.byConnection { #expect(Self.same(ours.byConnection[conn], bucket), "c\(conn)") }
        #expect(Self.same(ours.total, theirs.total) && ours.total.count > 2_000)
        #expect(ours.total.errors > 0 && ours.bucket(type: .tread)?.flushed == 0 && ours.bucket(type: .treaddir)?.flushed == 1)
        // Per user: glenda(1000) on c1, bench(1000) on c2 (the bulk), the same buckets; every exchange with a
        // fid is one of theirs.
        #expect(Set(ours.byUser.keys) == Set(theirs.byUser.keys) && ours.byUser.count == 2)
        for (id, bucket) in theirs.byUser { #expect(Self.same(ours.byUser[id], bucket), "user \(id)") }
        #expect(ours.byUser.values.reduce(0) { $0 + $1.count } < ours.total.count)   // Tversion has no user
        // bench's: its Tattach and the 2,000 bulk exchanges, but for the three on the newfid of each failed walk
        // (every 97th exchange that is a walk): that fid was never made, so whose it is is not known.
        let failedWalks = stride(from: 0, to: 2_000, by: 4).filter { $0 % 97 == 0 }.count
        #expect(ours.byUser.values.map(\.count).max() == 1 + 2_000 - 3 * failedWalks)
        // The text is the inspector's statistics table, a user's row filtering to that user.
        #expect(stats.textLines == model.statisticsTable().plainText())
        let table = model.statisticsTable()
        let header = try #require(table.rows.firstIndex { $0.cells[0] == "user" })
        #expect(table.rows[header + 1].cells[0] == "glenda(1000)" && table.rows[header + 2].cells[0] == "bench(1000)")
        #expect(table.rows[header + 1].action == .filter(.term(.user("glenda(1000)"))))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(stats.json.utf8)) as? [String: Any])
        let users = try #require(json["users"] as? [[String: Any]])
        #expect(users.map { $0["user"] as? String } == ["glenda(1000)", "bench(1000)"])
    }

    /// A row that learns whose it is after it was counted moves to that user's bucket.
    @Test func aRowMovesToItsUser() {
        var stats = Statistics()
        let none = ExchangeRow(requestIndex: 0, conn: 1, requestBytes: 20, requestCode: MessageType.twalk.rawValue,
                               flags: [.hasRequest])
        stats.apply(old: nil, new: none)
        #expect(stats.byUser.isEmpty && stats.total.count == 1)
        var first = none
        first.user = 1
        stats.apply(old: none, new: first)
        #expect(stats.byUser[1]?.count == 1 && stats.byUser[1]?.bytes == 20)
        var second = first
        second.user = 2
        stats.apply(old: first, new: second)
        #expect(stats.byUser[1]?.count == 0 && stats.byUser[2]?.count == 1 && stats.total.count == 1)
        stats.apply(old: second, new: none)
        #expect(stats.byUser[2]?.count == 0 && stats.total.count == 1)
    }

    /// One user, no user section: nothing to compare.
    @Test func oneUserHasNoSection() throws {
        let (stats, model, _) = try Self.both(closed: true)
        #expect(model.statistics.byUser.count == 1)
        #expect(!model.statisticsTable().rows.contains { $0.cells[0] == "user" })
        #expect(!stats.json.contains("\"users\""))
    }

    /// A path table started afresh every few paths counts the same exchanges for a path filter as one kept
    /// for the whole session.
    @Test func aSmallPathTableCountsTheSame() throws {
        let small = try Self.both(filter: "path:/usr", pathLimit: 2).stats.statistics
        let whole = try Self.both(filter: "path:/usr").stats.statistics
        let all = try Self.both().stats.statistics
        #expect(whole.total.count > 0 && whole.total.count < all.total.count)
        #expect(Self.same(small.total, whole.total) && small.codes == whole.codes)
    }

    /// With a filter only the exchanges that match count.
    @Test func withAFilterOnlyTheMatchingExchangesCount() throws {
        let (stats, model, _) = try Self.both(filter: "Twalk or error")
        let ours = stats.statistics, theirs = model.statistics
        #expect(Self.same(ours.bucket(type: .twalk), theirs.bucket(type: .twalk)))
        // Every error counts, whatever its type; nothing else but walks.
        #expect(ours.total.errors == theirs.total.errors && ours.total.errors > 0)
        for code in ours.codes where code != MessageType.twalk.rawValue {
            #expect(ours.bucket(code: code)!.count == ours.bucket(code: code)!.errors, "\(code)")
        }
        let none = try Self.both(filter: "conn:99").stats
        #expect(none.statistics.total.count == 0 && none.textLines == ["statistics: no exchanges yet"])
    }

    /// Past the connection limit, later connections count together (each bucket's histogram is ~100 KB: a
    /// proxy that sees a connection per operation for days must not grow by one per connection).
    @Test func connectionsPastTheLimitCountTogether() throws {
        let (stats, model, _) = try Self.both(bulk: 500, connectionLimit: 1)
        let ours = stats.statistics, theirs = model.statistics
        #expect(Array(ours.byConnection.keys) == [1] && Self.same(ours.byConnection[1], theirs.byConnection[1]))
        #expect(ours.otherConnectionCount == 1 && Self.same(ours.otherConnections, theirs.byConnection[2]))
        #expect(Self.same(ours.total, theirs.total))
        #expect(stats.textLines.contains { $0.hasPrefix("1 more ") }, "\(stats.textLines)")
        #expect(stats.json.contains("\"other_connections\":{\"connections\":1,\"count\":\(theirs.byConnection[2]!.count),"))
        #expect(try Self.both().stats.statistics.otherConnections == nil && !(try Self.both().stats.json.contains("other_")))
    }

    @Test func jsonHoldsEveryBucket() throws {
        let (stats, _, _) = try Self.both()
        let text = stats.json
        #expect(text.hasPrefix("{\"event\":\"statistics\",\"types\":[{\"type\":\""))
        let walk = try #require(stats.statistics.bucket(type: .twalk))
        #expect(text.contains("{\"type\":\"Twalk\",\"count\":\(walk.count),\"errors\":\(walk.errors),\"bytes\":\(walk.bytes),"
                              + "\"pending\":0,\"flushed\":0,\"latency_ns\":{\"count\":\(walk.latencyCount),"
                              + "\"p50\":\(walk.p50!),"))
        #expect(text.contains("\"connections\":[{\"conn\":1,\"count\":\(stats.statistics.total.count),"))
        #expect(text.hasSuffix("}}") && text.contains("\"total\":{\"type\":\"total\",\"count\":\(stats.statistics.total.count),"))
    }

    /// A table as plain text: columns as wide as their widest cell, numbers right-aligned, two spaces
    /// between columns, no trailing spaces.
    @Test func aTableAsPlainText() {
        let table = Table(title: "t", columns: [TableColumn("name", width: 12, flexible: true),
                                                TableColumn("n", width: 3, alignRight: true),
                                                TableColumn("last", width: 2)],
                          rows: [TableRow(["Twalk", "12", "x"]), TableRow(["Tread", "12345", ""]),
                                 TableRow(["connection", "", ""])])
        #expect(table.plainText() == ["t",
                                      "name            n  last",
                                      "Twalk          12  x",
                                      "Tread       12345",
                                      "connection"])
        #expect(Table(title: "t", columns: table.columns, rows: [], emptyText: "none").plainText() == ["t: none"])
    }
}
