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
    private let format: TraceLine
    /// Fid paths of the exchanges seen, interned for the matcher (which remembers, per id, whether a path
    /// pattern matched). Started afresh, with the held rows' paths carried over, past `pathLimit` entries.
    private var paths = StringInterner()
    private let pathLimit: Int
    private struct Held: Sendable {
        var row = ExchangeRow()
        var lines: [UInt8] = []
        /// The messages' canonical lines, for free-text terms (kept only when the filter has one).
        var text = ""
    }
    private var held: [Int: Held] = [:]
    /// Exchanges the current event completed, in id order.
    private var completed: [Int] = []

    public init(_ expr: FilterExpr, format: TraceLine, pathLimit: Int = 1 << 16) {
        matcher = FilterMatcher(expr)
        self.format = format
        self.pathLimit = pathLimit
    }

    /// Exchanges held (outstanding).
    public var heldCount: Int { held.count }
    /// Exchanges judged so far (complete, or outstanding at `finish`), and of them those that matched.
    public private(set) var judged = 0
    public private(set) var matched = 0

    /// Takes what one tracker event produced; appends to `out` the lines of every exchange it completed
    /// that matches.
    public mutating func take(_ output: TrackerOutput, into out: inout [UInt8]) {
        for exchange in output.exchanges {
            held[exchange.id.rawValue, default: Held()].row.update(from: exchange)
        }
        if let m = output.message, let id = m.exchange?.rawValue {
            let path = m.fidPath.map { paths.intern($0.description) } ?? ExchangeRow.noPath
            var h = held.removeValue(forKey: id) ?? Held()
            h.row.update(from: m, path: path)
            if matcher.needsText { h.text += m.canonicalLine + "\n" }
            format.appendLines(for: TrackerOutput(message: m, anomalies: output.anomalies), to: &h.lines)
            for a in output.anomalies where a.marksItsExchange && a.exchange?.rawValue == id {
                h.row.flags.insert(.anomaly)
            }
            held[id] = h
        }
        for exchange in output.exchanges where exchange.status.isComplete { completed.append(exchange.id.rawValue) }
        if let id = output.message?.exchange?.rawValue, held[id]?.row.status.isComplete == true {
            completed.append(id)
        }
        guard !completed.isEmpty else { return }
        completed.sort()
        var previous = -1
        for id in completed where id != previous {
            previous = id
            if let h = held.removeValue(forKey: id) { emit(h, into: &out) }
        }
        completed.removeAll(keepingCapacity: true)
        if paths.count > pathLimit { restartPaths() }
    }

    /// Appends the lines of the exchanges still outstanding that match (as they stand: pending), in order.
    public mutating func finish(into out: inout [UInt8]) {
        for id in held.keys.sorted() { emit(held[id]!, into: &out) }
        held.removeAll()
    }

    private mutating func emit(_ h: Held, into out: inout [UInt8]) {
        // Rows made only by a change report (an exchange already written that changed again, e.g. a flushed
        // request's late reply) have no lines: nothing to judge.
        guard !h.lines.isEmpty else { return }
        judged += 1
        if matcher.matches(h.row, paths: paths, text: { h.text }) {
            matched += 1
            out.append(contentsOf: h.lines)
        }
    }

    /// A fresh path table (and matcher, whose memo is per path id), the held rows' paths moved over.
    private mutating func restartPaths() {
        let old = paths
        paths = StringInterner()
        matcher = FilterMatcher(matcher.expr)
        for id in Array(held.keys) {
            var row = held[id]!.row
            row.requestPath = old[row.requestPath].map { paths.intern($0) } ?? ExchangeRow.noPath
            row.replyPath = old[row.replyPath].map { paths.intern($0) } ?? ExchangeRow.noPath
            held[id]!.row = row
        }
    }
}
