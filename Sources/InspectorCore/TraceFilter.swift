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
