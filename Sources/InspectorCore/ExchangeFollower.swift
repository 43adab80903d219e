import NinePSession

/// Follows each exchange of a live trace until it is complete (answered, flushed, unanswered when its
/// connection ended), from the output of a tracker that reports changes (`TrackerOutput.exchanges`): its
/// row (state, latency, sizes, fids, paths, flags) and, when asked, its messages' lines and canonical text.
/// Only what is outstanding is held, so it runs as long as a proxy does. Used by `LiveTraceFilter` (which
/// writes the lines of the exchanges that match) and `TraceStatistics` (which counts them).
struct ExchangeFollower: Sendable {
    struct Held: Sendable {
        /// The exchange's number (`x:` filter terms).
        var id = -1
        var row = ExchangeRow()
        /// The messages' trace lines, as UTF-8 (kept only with a `format`).
        var lines: [UInt8] = []
        /// The messages' canonical lines, for free-text filter terms (kept only with `keepsText`).
        var text = ""
        /// Whether a message of the exchange was seen (not only a change report).
        var hasMessages = false
        /// The kinds of anomaly naming it (`AnomalyKind.bit`s).
        var anomalies: UInt32 = 0
    }

    private let format: TraceLine?
    private let keepsText: Bool
    /// Fid paths of the exchanges seen, interned for the rows. Started afresh, with the held rows' paths
    /// carried over, past `pathLimit` entries.
    private(set) var paths = StringInterner()
    /// Whose the requests' fids are, for the rows.
    private(set) var users = UserTable()
    private let pathLimit: Int
    private var held: [Int: Held] = [:]
    /// Exchanges the current event completed, in id order.
    private var completed: [Int] = []

    /// `format`: keep each exchange's lines in that format (nil: none); `keepsText`: its canonical text.
    init(format: TraceLine?, keepsText: Bool, pathLimit: Int = 1 << 16) {
        self.format = format
        self.keepsText = keepsText
        self.pathLimit = pathLimit
    }

    /// Exchanges held (outstanding).
    var heldCount: Int { held.count }

    /// An outstanding exchange as it stands (nil when complete or never seen).
    func outstanding(_ id: Int) -> Held? { held[id] }

    /// Takes what one tracker event produced; returns every exchange it completed that has messages, in id
    /// order (an exchange already returned that changes again, such as a flushed request's late reply, comes
    /// as a change report alone and is not returned again), with their path ids in `paths` as it now stands;
    /// `restarted`: the path table was started afresh before this event (path ids kept from earlier calls
    /// are stale).
    mutating func take(_ output: TrackerOutput) -> (completed: [Held], restarted: Bool) {
        let restarted = paths.count > pathLimit
        if restarted { restartPaths() }
        for exchange in output.exchanges {
            held[exchange.id.rawValue, default: Held(id: exchange.id.rawValue)].row.update(from: exchange)
        }
        if let m = output.message, let id = m.exchange?.rawValue {
            let path = m.fidPath.map { paths.intern($0.description) } ?? ExchangeRow.noPath
            let user = users.id(m.fidPath?.user)
            var h = held.removeValue(forKey: id) ?? Held(id: id)
            h.row.update(from: m, path: path, user: user)
            h.hasMessages = true
            if keepsText { h.text += m.canonicalLine + "\n" }
            format?.appendLines(for: TrackerOutput(message: m, anomalies: output.anomalies), to: &h.lines)
            for a in output.anomalies where a.marksItsExchange && a.exchange?.rawValue == id {
                h.row.flags.insert(.anomaly)
                h.anomalies |= a.kind.bit
            }
            held[id] = h
        }
        for exchange in output.exchanges where exchange.status.isComplete { completed.append(exchange.id.rawValue) }
        if let id = output.message?.exchange?.rawValue, held[id]?.row.status.isComplete == true {
            completed.append(id)
        }
        guard !completed.isEmpty else { return ([], restarted) }
        completed.sort()
        var done: [Held] = []
        var previous = -1
        for id in completed where id != previous {
            previous = id
            if let h = held.removeValue(forKey: id), h.hasMessages { done.append(h) }
        }
        completed.removeAll(keepingCapacity: true)
        return (done, restarted)
    }

    /// The exchanges still outstanding (as they stand: pending), in order; none is held afterwards.
    mutating func finish() -> [Held] {
        defer { held.removeAll() }
        return held.keys.sorted().compactMap { held[$0]!.hasMessages ? held[$0] : nil }
    }

    /// A fresh path table, the held rows' paths moved over.
    private mutating func restartPaths() {
        let old = paths
        paths = StringInterner()
        for id in Array(held.keys) {
            var row = held[id]!.row
            row.requestPath = old[row.requestPath].map { paths.intern($0) } ?? ExchangeRow.noPath
            row.replyPath = old[row.replyPath].map { paths.intern($0) } ?? ExchangeRow.noPath
            held[id]!.row = row
        }
    }
}
