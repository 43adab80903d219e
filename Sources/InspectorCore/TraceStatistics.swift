import NinePSession
import NinePWire

/// Statistics over a trace without the UI: `ninescope decode --stats` and `ninescope proxy --stats`. Each
/// exchange is counted once it is complete (answered, flushed, unanswered when its connection ended), or at
/// `finish` as it stands (pending): per request type, per connection and per user, its count, whether it failed, its
/// bytes and its latency (the same `Statistics` the inspector's statistics view shows). With a filter, only
/// the exchanges that match count. Only what is outstanding is held, and only the first
/// `connectionLimit` connections get a row of their own (the rest count together), so it runs as long as
/// a proxy does.
///
/// Feed it the output of a tracker that reports changes (`TrackerOutput.exchanges`).
public struct TraceStatistics: Sendable {
    public private(set) var statistics: Statistics
    private var matcher: FilterMatcher?
    private var exchanges: ExchangeFollower

    /// `filter`: count only the exchanges that match it. `connectionLimit`: connections with a row of their
    /// own (see `Statistics`).
    public init(filter: FilterExpr? = nil, connectionLimit: Int = 64, pathLimit: Int = 1 << 16) {
        statistics = Statistics(connectionLimit: connectionLimit)
        matcher = filter.map(FilterMatcher.init)
        exchanges = ExchangeFollower(format: nil, keepsText: matcher?.needsText ?? false, pathLimit: pathLimit)
    }

    /// Takes what one tracker event produced.
    public mutating func take(_ output: TrackerOutput) {
        let (completed, restarted) = exchanges.take(output)
        if restarted { matcher?.forgetPaths() }
        for h in completed { count(h) }
    }

    /// Counts the exchanges still outstanding, as they stand (pending).
    public mutating func finish() {
        for h in exchanges.finish() { count(h) }
    }

    private mutating func count(_ h: ExchangeFollower.Held) {
        if matcher != nil, !matcher!.matches(h.row, index: h.id, paths: exchanges.paths, users: exchanges.users, anomalies: h.anomalies, text: { h.text }) { return }
        statistics.apply(old: nil, new: h.row)
    }

    /// The statistics as plain text lines (`Tables.statistics`).
    public var textLines: [String] { Tables.statistics(statistics, users: exchanges.users).plainText() }

    /// The statistics as one JSON object: `{"event":"statistics","types":[…],"connections":[…],"total":{…}}`,
    /// each entry with `count`, `errors`, `bytes`, `pending`, `flushed` and, when any latency was recorded,
    /// `latency_ns` (`p50`, `p90`, `p99`, `max`, and `count`: how many exchanges had one); types by count,
    /// connections by id; past the connection limit, `other_connections` (with `connections`: how many); when
    /// the requests' fids were several users', `users` (each with `user`, named as the fids view names it).
    public var json: String {
        func entry(_ first: (String, JSONValue), _ b: StatBucket) -> JSONValue {
            var members: [(String, JSONValue)] = [first, ("count", .uint(UInt64(b.count))),
                                                  ("errors", .uint(UInt64(b.errors))), ("bytes", .uint(UInt64(b.bytes))),
                                                  ("pending", .uint(UInt64(b.pending))), ("flushed", .uint(UInt64(b.flushed)))]
            if let p50 = b.p50, let p90 = b.p90, let p99 = b.p99, let max = b.max {
                members.append(("latency_ns", .object([
                    ("count", .uint(UInt64(b.latencyCount))), ("p50", .int(p50)), ("p90", .int(p90)),
                    ("p99", .int(p99)), ("max", .int(max)),
                ])))
            }
            return .object(members)
        }
        let types = statistics.typesByCount.map { code, bucket in
            entry(("type", .string(MessageType(rawValue: code)?.name ?? TracedMessage.typeName(code))), bucket)
        }
        let conns = statistics.byConnection.sorted { $0.key < $1.key }.map { conn, bucket in
            entry(("conn", .uint(UInt64(conn))), bucket)
        }
        var members: [(String, JSONValue)] = [("event", .string("statistics")), ("types", .array(types)),
                                              ("connections", .array(conns))]
        if let others = statistics.otherConnections {
            members.append(("other_connections",
                            entry(("connections", .uint(UInt64(statistics.otherConnectionCount))), others)))
        }
        if statistics.byUser.count > 1 {
            let users = statistics.byUser.sorted { $0.key < $1.key }.map { id, bucket in
                entry(("user", .string(Tables.userLabel(id, exchanges.users))), bucket)
            }
            members.append(("users", .array(users)))
        }
        members.append(("total", entry(("type", .string("total")), statistics.total)))
        return JSONValue.object(members).serialized
    }
}
