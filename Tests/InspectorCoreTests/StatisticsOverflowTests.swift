import Testing
import Histogram
import NinePWire
import NinePSession
@testable import InspectorCore

/// Connections past the statistics' limit count together: the later ones (headless `--stats`) or the
/// oldest (the inspector), their counts and latencies merged, the totals unchanged.
@Suite struct StatisticsOverflowTests {
    /// A Tgetattr exchange on `conn` answered after `latency` ns (an error when `error`).
    static func row(conn: UInt32, latency: Int64, error: Bool = false) -> ExchangeRow {
        ExchangeRow(start: 1_000, end: 1_000 + latency, conn: conn, requestBytes: 17, replyBytes: error ? 11 : 160,
                    requestCode: MessageType.tgetattr.rawValue,
                    replyCode: error ? MessageType.rlerror.rawValue : MessageType.rgetattr.rawValue,
                    status: error ? .error : .ok, flags: [.hasRequest, .hasReply])
    }

    @Test func theOldestConnectionsCountTogetherAsNewerOnesCome() throws {
        var stats = Statistics(connectionLimit: 3, overflow: .older)
        // A connection's latencies are kept to two significant digits (its bucket an eighth of the size).
        var merged = Histogram<UInt32>(numberOfSignificantValueDigits: .two)
        for conn in UInt32(1)...5 {
            for k in 0..<Int64(conn) {
                let latency = 1_000 * Int64(conn) + k * 37_000
                stats.apply(old: nil, new: Self.row(conn: conn, latency: latency, error: conn == 1))
                if conn <= 2 { merged.record(UInt64(latency)) }
            }
        }
        #expect(stats.byConnection.keys.sorted() == [3, 4, 5])
        let others = try #require(stats.otherConnections)
        #expect(stats.otherConnectionCount == 2 && stats.otherConnectionsLabel == "2 older")
        #expect(others.count == 3 && others.errors == 1 && others.bytes == 17 * 3 + 11 + 160 * 2)
        #expect(others.latency == merged, "the folded latencies, merged")
        #expect(others.p50 == Int64(merged.valueAtPercentile(50)) && others.max == Int64(merged.maxRecorded))
        #expect(stats.total.count == 15)
        #expect(stats.byConnection[3]?.latency.numberOfSignificantValueDigits == .two)
        #expect(stats.total.latency.numberOfSignificantValueDigits == .three)
        #expect(stats.bucket(type: .tgetattr)?.latency.numberOfSignificantValueDigits == .three)
        #expect(stats.byConnection.values.map(\.count).reduce(0, +) + others.count == stats.total.count)

        // A folded connection's later exchanges count with the others; it gets no row again.
        stats.apply(old: nil, new: Self.row(conn: 1, latency: 5_000))
        #expect(stats.byConnection.keys.sorted() == [3, 4, 5] && stats.otherConnections?.count == 4)
        // A reply to a folded connection's pending exchange moves its counts within the others.
        let pending = ExchangeRow(start: 1_000, conn: 2, requestBytes: 17, requestCode: MessageType.tgetattr.rawValue,
                                  flags: [.hasRequest])
        stats.apply(old: nil, new: pending)
        #expect(stats.otherConnections?.pending == 1)
        stats.apply(old: pending, new: Self.row(conn: 2, latency: 9_000))
        #expect(stats.otherConnections?.pending == 0 && stats.otherConnections?.count == 5)
        // The table shows the older ones first, then the newest by id.
        let names = Tables.statistics(stats).rows.map { $0.cells[0] }
        let from = try #require(names.firstIndex(of: "connection"))
        #expect(Array(names[(from + 1)...]) == ["2 older", "c3", "c4", "c5", "total"], "\(names)")
    }

    @Test func laterConnectionsCountTogetherAfterTheFirstOnes() throws {
        var stats = Statistics(connectionLimit: 3, overflow: .later)
        for conn in UInt32(1)...5 { stats.apply(old: nil, new: Self.row(conn: conn, latency: 1_000)) }
        #expect(stats.byConnection.keys.sorted() == [1, 2, 3] && stats.otherConnectionsLabel == "2 more")
        let names = Tables.statistics(stats).rows.map { $0.cells[0] }
        let from = try #require(names.firstIndex(of: "connection"))
        #expect(Array(names[(from + 1)...]) == ["c1", "c2", "c3", "2 more", "total"], "\(names)")
    }

    /// The inspector keeps rows for its newest `connectionRows` connections.
    @Test func theInspectorKeepsTheNewestConnections() {
        var model = InspectorModel()
        var t: Int64 = 1_700_000_000_000_000_000
        let n = InspectorModel.connectionRows + 44
        for c in UInt32(1)...UInt32(n) {
            let conn = ConnectionID(c)
            t += 1_000
            model.handle(.connectionOpened(conn: conn, at: t, info: nil))
            for (tag, m, d) in [(Tag.notag, Message.tversion(Tversion(msize: 8192, version: "9P2000.L")), Direction.toServer),
                                (.notag, .rversion(Rversion(msize: 8192, version: "9P2000.L")), .toClient)] {
                t += 1_000
                model.handle(.frame(conn: conn, direction: d, at: t, bytes: Fcall(tag: tag, m).encode(dialect: .l), marks: []))
            }
        }
        #expect(model.statistics.byConnection.count == InspectorModel.connectionRows)
        #expect(model.statistics.byConnection.keys.min() == 45 && model.statistics.otherConnectionsLabel == "44 older")
        #expect(model.statistics.total.count == n)
    }
}
