import NinePCapture
import NinePSession
import NinePWire

/// Writes what a tracker logged as a pcapng capture (the format `ninescope proxy --capture` writes:
/// Wireshark/tshark read it as 9P; ninescope reads back connections, marks and addresses).
public enum CaptureExport {
    /// The whole capture as bytes: connections open at their time (with their addresses; one that said
    /// nothing too, as `--capture` records it), frames and garbage in log order with their marks, and closes
    /// at their time, then the end record of a file finished in good order (`why=saved`, at the last thing it
    /// holds), so that reading it back does not take it for a capture its writer never finished. A tracker
    /// that keeps no frames gives a file of none.
    public static func pcapng(from tracker: SessionTracker, toolVersion: String) -> [UInt8] {
        var writer = PcapngWriter(options: PcapngWriterOptions(toolVersion: toolVersion))
        var out = writer.header()
        let summaries = Dictionary(tracker.connections.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var opened: Set<ConnectionID> = []
        let opens = tracker.connections.map { (conn: $0.id, at: $0.openedAt) }.sorted { $0.at < $1.at }
        let closes = tracker.connections.compactMap { c in c.closedAt.map { (conn: c.id, at: $0, c.closeReason) } }
            .sorted { $0.at < $1.at }
        var nextOpen = 0, nextClose = 0
        var last: Int64 = 0
        func open(_ conn: ConnectionID, at t: Int64) {
            guard opened.insert(conn).inserted else { return }
            let info = summaries[conn]?.info
            out += writer.open(conn: conn, clientAddress: info?.client ?? "", upstreamAddress: info?.upstream ?? "", t: t)
            last = max(last, t)
        }
        // Opens at or before `t` and closes before it, in time order (an open first at the same time).
        func advance(to t: Int64) {
            while true {
                let o = nextOpen < opens.count && opens[nextOpen].at <= t ? opens[nextOpen].at : nil
                let c = nextClose < closes.count && closes[nextClose].at < t ? closes[nextClose].at : nil
                if let o, c.map({ o <= $0 }) ?? true {
                    open(opens[nextOpen].conn, at: o)
                    nextOpen += 1
                } else if c != nil {
                    let c = closes[nextClose]
                    if opened.contains(c.conn), c.2 != .endOfCapture {
                        out += writer.close(conn: c.conn, reset: Self.isReset(c.2), reason: c.2?.errorText, t: c.at)
                        last = max(last, c.at)
                    }
                    nextClose += 1
                } else {
                    return
                }
            }
        }
        for index in 0..<tracker.messageCount {
            guard let m = tracker.message(at: index) else { continue }
            advance(to: m.timestamp)
            last = max(last, m.timestamp)
            open(m.conn, at: summaries[m.conn]?.openedAt ?? m.timestamp)
            if case .garbage(let reason) = m.kind {
                out += writer.frame(conn: m.conn, direction: m.direction, t: m.timestamp, bytes: m.bytes,
                                    marks: m.marks.union(.malformed), why: reason)
            } else {
                out += writer.frame(conn: m.conn, direction: m.direction, t: m.timestamp, bytes: m.bytes, marks: m.marks)
            }
        }
        advance(to: .max)
        out += writer.endRecord(t: last, why: "saved")
        return out
    }

    /// Whether a connection ended by a reset: the tracker's `.reset` (a capture's RST), or the proxy's reason
    /// for one (`reset by client`, `reset by upstream`), which the live tracker keeps as its text.
    static func isReset(_ reason: CloseReason?) -> Bool {
        reason == .reset || reason?.errorText?.hasPrefix("reset by ") == true
    }
}
