import NinePSession

/// Why `:goto` cannot go where it was asked: a sentence for the status line.
public struct GotoFailure: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
    init(_ text: String) { description = text }
}

extension InspectorModel {
    /// The store row `:goto TARGET` names: `#12` or `12` the exchange of message 12 (the numbers `decode`,
    /// the headless proxy and the detail view give messages; a reply's line ends with its request's), `x12`
    /// exchange 12 (as the detail view and the status line name exchanges).
    public func row(goingTo target: String) throws(GotoFailure) -> Int {
        let text = String(target.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
        let message = "#N (a message, as decode numbers them)", exchange = "xN (an exchange)"
        guard !text.isEmpty else { throw GotoFailure("goto needs \(message) or \(exchange)") }
        let neither = GotoFailure("'\(text)' is neither \(message) nor \(exchange)")
        if text.first == "x" || text.first == "X" {
            guard let n = Int(text.dropFirst()), n >= 0 else { throw neither }
            guard n < store.count else {
                throw GotoFailure(store.count == 0 ? "no exchanges yet" : "no exchange x\(n) (the last is x\(store.count - 1))")
            }
            return try held(n, "x\(n)")
        }
        guard let n = Int(text.first == "#" ? text.dropFirst() : Substring(text)), n >= 0 else { throw neither }
        guard n < tracker.messageCount else {
            throw GotoFailure(tracker.messageCount == 0 ? "no messages yet"
                              : "no message #\(n) (the last is #\(tracker.messageCount - 1))")
        }
        guard let m = tracker.messageSummary(at: MessageIndex(n)) else { return try held(-1, "#\(n)") }
        guard let x = m.exchange else {
            throw GotoFailure("#\(n) is \(m.isGarbage ? "bytes that could not be framed" : "part of no exchange"); "
                              + "it has no row")
        }
        return try held(x.rawValue, "#\(n)")
    }

    private func held(_ row: Int, _ name: String) throws(GotoFailure) -> Int {
        guard row >= 0, store.isHeld(row) else {
            throw GotoFailure("\(name) is no longer held: the live view keeps the newest exchanges (--view-history)")
        }
        return row
    }
}
