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
        // The text is the inspector's statistics table.
        #expect(stats.textLines == model.statisticsTable().plainText())
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
