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

    /// `now` (ns since the epoch, as the rows' times): the moment a pending request's age is counted to (its
    /// latency column then reads `>12.3s`: the latency will be more than that); nil shows `pending`.
    public static func columns(_ row: ExchangeRow, requestLine: String?, replyLine: String?,
                               time: TimeFormat, now: Int64? = nil) -> ExchangeColumns {
        let state = row.displayState
        return ExchangeColumns(
            mark: mark(row),
            time: row.time == ExchangeRow.noTime ? "" : time.format(row.time),
            conn: "c\(row.conn)",
            tag: row.tag == 0xFFFF ? "NOTAG" : String(row.tag),
            request: row.hasRequest ? listText(requestLine ?? "") : "(no request)",
            reply: replyText(row, replyLine: replyLine),
            latency: latencyText(row, now: now),
            role: ThemeRole.list(state))
    }

    public static func mark(_ row: ExchangeRow) -> String {
        let state: Character
        if row.status == .pending {
            state = "*"
        } else if row.isFlushed {
            state = "F"
        } else if row.isError {
            state = "E"
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

    public static func latencyText(_ row: ExchangeRow, now: Int64? = nil) -> String {
        if let l = row.latency { return DurationFormat.compact(l) }
        switch row.status {
        case .pending:
            if let age = pendingAge(row, now: now) { return ">" + DurationFormat.age(age) }
            return "pending"
        case .unansweredAtClose, .abortedByVersion, .unmatchedReply: return "-"
        default: return ""
        }
    }

    /// How long a pending request has waited by `now` (nil when it is not pending, or either time is unknown).
    public static func pendingAge(_ row: ExchangeRow, now: Int64?) -> Int64? {
        guard row.status == .pending, let now, row.start != ExchangeRow.noTime else { return nil }
        return max(0, now &- row.start)
    }

    static func replyText(_ row: ExchangeRow, replyLine: String?) -> String {
        let reply = row.hasReply ? listText(replyLine ?? "") : ""
        if row.answeredForAFlush { return "(flushed) ninescope answered " + reply }
        if row.answeredForAFault { return "(fault) " + reply }
        if row.flags.contains(.faulted) && row.hasReply && row.status != .flushed { return "(delayed) " + reply }
        switch row.status {
        case .pending:
            if row.flags.contains(.flushRequested) { return "(flush sent)" }
            return row.flags.contains(.faulted) ? "(held by --fault)" : ""
        case .flushed: return reply.isEmpty ? "(flushed)" : reply + " (flushed)"
        case .answeredAfterFlush: return reply + " (flush came late)"
        case .unansweredAtClose: return "(no reply: connection ended)"
        case .abortedByVersion: return "(aborted by Tversion)"
        case .superseded: return reply.isEmpty ? "(superseded)" : reply + " (superseded)"
        default: return reply
        }
    }

    /// A message's line for the list: `summary`, and for a frame the capture cut (its line ends
    /// ` (cut: 74 of 8179 bytes captured)`, or `… bytes kept)` when the view cut it) `(cut) ` first instead,
    /// where a narrow column still shows it: `(cut) Rread count 8168 d461c9f7…`.
    public static func listText(_ line: String) -> String {
        if line.hasSuffix(" bytes captured)") || line.hasSuffix(" bytes kept)"),
           let r = line.ranges(of: " (cut: ").last {
            return "(cut) " + summary(String(line[..<r.lowerBound]))
        }
        return summary(line)
    }

    /// A canonical line made compact for the list (the detail view shows the full line and fields):
    /// without ` tag N` (the list has a tag column), without the `nwname`/`nwqid` counts (the elements
    /// follow), and with qid paths lost their leading zeros: `Twalk tag 3 fid 1 newfid 2 nwname 2 0:usr
    /// 1:bin` → `Twalk fid 1 newfid 2 0:usr 1:bin`; `(0000000000000007 0 d)` → `(7 0 d)`. Quoted strings
    /// are never touched.
    public static func summary(_ line: String) -> String {
        var tokens = tokenize(line)
        var out: [String] = []
        var i = 0
        var droppedTag = false
        while i < tokens.count {
            let t = tokens[i]
            if i > 0, i + 1 < tokens.count, (t == "tag" && !droppedTag) || t == "nwname" || t == "nwqid" {
                if t == "tag" { droppedTag = true }
                i += 2
                continue
            }
            if t == ")", !out.isEmpty {
                out[out.count - 1] += ")"
                i += 1
                continue
            }
            tokens[i] = compactQid(t)
            out.append(tokens[i])
            i += 1
        }
        return out.joined(separator: " ")
    }

    /// Splits at spaces outside `'…'` strings (which keep their `\'` escapes).
    static func tokenize(_ line: String) -> [String] {
        var tokens: [String] = []
        var current = ""
        var quoted = false
        var escaped = false
        for c in line {
            if quoted {
                current.append(c)
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "'" { quoted = false }
                continue
            }
            if c == " " {
                if !current.isEmpty { tokens.append(current) }
                current = ""
                continue
            }
            if c == "'" { quoted = true }
            current.append(c)
        }
        if !current.isEmpty { tokens.append(current) }
        return tokens
    }

    /// `(0000000000000007` → `(7` (also after an `i:` prefix); other tokens unchanged.
    static func compactQid(_ token: String) -> String {
        guard let open = token.firstIndex(of: "("), !token.contains("'") else { return token }
        let hex = token[token.index(after: open)...]
        guard hex.count == 16, hex.allSatisfy(\.isHexDigit) else { return token }
        let trimmed = hex.drop { $0 == "0" }
        return String(token[...open]) + (trimmed.isEmpty ? "0" : String(trimmed))
    }
}
