import NinePSession

/// The texts of one exchange-list row, column by column, and the role it is drawn in. Views decide
/// widths (they know display widths); this decides words.
public struct ExchangeColumns: Hashable, Sendable {
    /// Two characters: state (`*` pending, `E` error, `F` flushed, space otherwise) and flag
    /// (`I` injected, `!` anomaly, space otherwise), so states read without colour too.
    public var mark: String
    public var time: String
    public var conn: String
    public var tag: String
    public var request: String
    public var reply: String
    public var latency: String
    public var role: ThemeRole

    public var runs: [StyledRun] {
        [mark, time, conn, tag, request, reply, latency].map { StyledRun($0, role) }
    }
}

/// Words for exchanges: list columns and summaries built from canonical lines.
public enum ExchangeFormatter {
    /// Column titles, in `ExchangeColumns` order.
    public static let titles = ["", "time", "conn", "tag", "request", "reply", "latency"]

    public static func columns(_ row: ExchangeRow, requestLine: String?, replyLine: String?,
                               time: TimeFormat) -> ExchangeColumns {
        let state = row.displayState
        return ExchangeColumns(
            mark: mark(row),
            time: row.time == ExchangeRow.noTime ? "" : time.format(row.time),
            conn: "c\(row.conn)",
            tag: row.tag == 0xFFFF ? "NOTAG" : String(row.tag),
            request: row.hasRequest ? summary(requestLine ?? "") : "(no request)",
            reply: replyText(row, replyLine: replyLine),
            latency: latencyText(row),
            role: ThemeRole.list(state))
    }

    public static func mark(_ row: ExchangeRow) -> String {
        let state: Character
        if row.status == .pending {
            state = "*"
        } else if row.isError {
            state = "E"
        } else if row.status == .flushed {
            state = "F"
        } else {
            state = " "
        }
        let flag: Character
        if row.flags.contains(.injected) {
            flag = "I"
        } else if row.flags.contains(.anomaly) || row.flags.contains(.malformed) || row.status == .unmatchedReply {
            flag = "!"
        } else {
            flag = " "
        }
        return String([state, flag])
    }

    public static func latencyText(_ row: ExchangeRow) -> String {
        if let l = row.latency { return DurationFormat.compact(l) }
        switch row.status {
        case .pending: return "pending"
        case .unansweredAtClose, .abortedByVersion, .unmatchedReply: return "-"
        default: return ""
        }
    }

    static func replyText(_ row: ExchangeRow, replyLine: String?) -> String {
        let reply = row.hasReply ? summary(replyLine ?? "") : ""
        switch row.status {
        case .pending: return row.flags.contains(.flushRequested) ? "(flush sent)" : ""
        case .flushed: return reply.isEmpty ? "(flushed)" : reply + " (flushed)"
        case .answeredAfterFlush: return reply + " (flush came late)"
        case .unansweredAtClose: return "(no reply: connection ended)"
        case .abortedByVersion: return "(aborted by Tversion)"
        case .superseded: return reply.isEmpty ? "(superseded)" : reply + " (superseded)"
        default: return reply
        }
    }

    /// A canonical line without its ` tag N` part (the list shows the tag in its own column):
    /// `Twalk tag 3 fid 1 newfid 2 …` → `Twalk fid 1 newfid 2 …`.
    public static func summary(_ line: String) -> String {
        let chars = Array(line)
        let marker: [Character] = [" ", "t", "a", "g", " "]
        guard chars.count > marker.count else { return line }
        for i in 0...(chars.count - marker.count) where Array(chars[i..<(i + marker.count)]) == marker {
            var end = i + marker.count
            while end < chars.count, chars[end] != " " { end += 1 }
            guard end > i + marker.count else { return line }
            return String(chars[..<i]) + String(chars[end...])
        }
        return line
    }
}
