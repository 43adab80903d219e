import NinePCapture
import NinePSession
import NinePWire

/// Writes what a tracker logged as a pcapng capture (the format `ninescope proxy --capture` writes:
/// Wireshark/tshark read it as 9P; ninescope reads back connections, marks and addresses).
public enum CaptureExport {
    /// The whole capture as bytes: connections open at their first message (with their addresses), frames
    /// and garbage in log order with their marks, and closes at their time, then the end record of a file
    /// finished in good order (`why=saved`, at the last thing it holds), so that reading it back does not
    /// take it for a capture its writer never finished. A tracker that keeps no frames gives a file of none.
    public static func pcapng(from tracker: SessionTracker, toolVersion: String) -> [UInt8] {
        var writer = PcapngWriter(options: PcapngWriterOptions(toolVersion: toolVersion))
        var out = writer.header()
        let summaries = Dictionary(tracker.connections.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var opened: Set<ConnectionID> = []
        let closes = tracker.connections.compactMap { c in c.closedAt.map { (conn: c.id, at: $0, c.closeReason) } }
            .sorted { $0.at < $1.at }
        var nextClose = 0
        var last: Int64 = 0
        func closeUpTo(_ t: Int64) {
            while nextClose < closes.count, closes[nextClose].at <= t {
                let c = closes[nextClose]
                if opened.contains(c.conn), c.2 != .endOfCapture {
                    out += writer.close(conn: c.conn, reset: Self.isReset(c.2), reason: c.2?.errorText, t: c.at)
                    last = max(last, c.at)
                }
                nextClose += 1
            }
        }
        for index in 0..<tracker.messageCount {
            guard let m = tracker.message(at: index) else { continue }
            closeUpTo(m.timestamp - 1)
            last = max(last, m.timestamp)
            if !opened.contains(m.conn) {
                opened.insert(m.conn)
                let info = summaries[m.conn]?.info
                out += writer.open(conn: m.conn, clientAddress: info?.client ?? "", upstreamAddress: info?.upstream ?? "",
                                   t: summaries[m.conn]?.openedAt ?? m.timestamp)
            }
            if case .garbage(let reason) = m.kind {
                out += writer.frame(conn: m.conn, direction: m.direction, t: m.timestamp, bytes: m.bytes,
                                    marks: m.marks.union(.malformed), why: reason)
            } else {
                out += writer.frame(conn: m.conn, direction: m.direction, t: m.timestamp, bytes: m.bytes, marks: m.marks)
            }
        }
        closeUpTo(.max)
        out += writer.endRecord(t: last, why: "saved")
        return out
    }

    /// Whether a connection ended by a reset: the tracker's `.reset` (a capture's RST), or the proxy's reason
    /// for one (`reset by client`, `reset by upstream`), which the live tracker keeps as its text.
    static func isReset(_ reason: CloseReason?) -> Bool {
        reason == .reset || reason?.errorText?.hasPrefix("reset by ") == true
    }
}
