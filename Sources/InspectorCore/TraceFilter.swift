import NinePSession
import NinePWire

/// Headless filtering for `ninescope decode --filter EXPR`: the UI's filter language applied to a
/// trace. A filter speaks of exchanges (a request and its reply: `error`, `latency>10ms` need both), so
/// lines are held until the whole capture is read, then the lines of matching exchanges — each message
/// with the anomalies it raised — are returned in their original order. Lines that belong to no exchange
/// (connection open/close, unframeable bytes, leaks reported at close) are left out.
public struct TraceFilter: Sendable {
    private var model: InspectorModel
    private let expr: FilterExpr
    private var held: [(exchange: Int, lines: [String])] = []

    public init(_ expr: FilterExpr, tracker: SessionTracker) {
        self.expr = expr
        model = InspectorModel(tracker: tracker)
    }

    /// Feeds the event that produced `lines` (the formatted output of the caller's own tracker).
    public mutating func take(_ event: SessionEvent, exchange: ExchangeID?, lines: [String]) {
        model.handle(event)
        if let exchange, !lines.isEmpty { held.append((exchange.rawValue, lines)) }
    }

    /// The held lines of exchanges that match, in order.
    public mutating func finish() -> [String] {
        model.setFilter(expr)
        while !model.continueScan() {}
        var matching = Set<Int>()
        for p in 0..<model.view.count { matching.insert(model.view[p]) }
        return held.filter { matching.contains($0.exchange) }.flatMap(\.lines)
    }
}

/// `ninescope proxy --headless --filter EXPR`: the same filter language applied to a live trace, one
/// exchange at a time. A filter speaks of exchanges (`error` and `latency>10ms` need the reply), so each
/// exchange's lines (its messages, each with the anomalies it raised) are held while it is outstanding;
/// once it is complete (answered, flushed, unanswered when its connection ended) they are written together
/// if it matches, or dropped. Lines that belong to no exchange (unframeable bytes, fid leaks at close) are
/// left out, as `decode --filter` leaves them out. Only what is outstanding is held, so it runs as long as
/// the proxy does.
///
/// Feed it the output of a tracker that reports changes (`TrackerOutput.exchanges`): that is where an
/// exchange's state comes from.
public struct LiveTraceFilter: Sendable {
    private var matcher: FilterMatcher
    private var exchanges: ExchangeFollower

    public init(_ expr: FilterExpr, format: TraceLine, pathLimit: Int = 1 << 16) {
        matcher = FilterMatcher(expr)
        exchanges = ExchangeFollower(format: format, keepsText: matcher.needsText, pathLimit: pathLimit)
    }

    /// Exchanges held (outstanding).
    public var heldCount: Int { exchanges.heldCount }
    /// Exchanges judged so far (complete, or outstanding at `finish`), and of them those that matched.
    public private(set) var judged = 0
    public private(set) var matched = 0

    /// Takes what one tracker event produced; appends to `out` the lines of every exchange it completed
    /// that matches.
    public mutating func take(_ output: TrackerOutput, into out: inout [UInt8]) {
        let (completed, restarted) = exchanges.take(output)
        if restarted { matcher.forgetPaths() }
        for h in completed { emit(h, into: &out) }
    }

    /// Whether an outstanding exchange matches as it stands (pending: `Tread`, `pending`, `fid:3` can match,
    /// `error` cannot yet); false for one not held. For notices about it that cannot wait for its end (a
    /// request still pending long after it was sent).
    public func outstandingMatches(_ id: ExchangeID) -> Bool {
        guard let h = exchanges.outstanding(id.rawValue), h.hasMessages else { return false }
        var m = matcher
        return m.matches(h.row, index: h.id, paths: exchanges.paths, users: exchanges.users, anomalies: h.anomalies, text: { h.text })
    }

    /// Appends the lines of the exchanges still outstanding that match (as they stand: pending), in order.
    public mutating func finish(into out: inout [UInt8]) {
        for h in exchanges.finish() { emit(h, into: &out) }
    }

    private mutating func emit(_ h: ExchangeFollower.Held, into out: inout [UInt8]) {
        judged += 1
        if matcher.matches(h.row, index: h.id, paths: exchanges.paths, users: exchanges.users, anomalies: h.anomalies, text: { h.text }) {
            matched += 1
            out.append(contentsOf: h.lines)
        }
    }
}
