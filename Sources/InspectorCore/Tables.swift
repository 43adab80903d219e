import NinePSession
import NinePWire

/// The tables of the inspector's table views, built from the model.
extension InspectorModel {
    /// The fid table of a connection: live fids by number, then ended records, newest first. Leaked fids
    /// and fids named by anomalies get their own roles. Opening a row filters the list to that fid's lifetime
    /// (`fidLifetime`: not the other fids that had its number before or after) and selects the exchange
    /// that made it. Whose
    /// each fid is (the uname and n_uname of the attach it descends from) is said in the title when every
    /// fid is one user's, and in a column of its own when they are several users' (a mount with
    /// `access=user` attaches once per user).
    public func fidTable(conn: ConnectionID) -> Table {
        let entries = tracker.fidTable(on: conn, includingHistory: true)
        let live = entries.filter(\.isLive).sorted { $0.fid < $1.fid }
        let ended = entries.filter { !$0.isLive }.reversed()
        let users = (live + ended).map(\.user.description)
        let oneUser = Set(users).count <= 1
        let rows = zip(live + ended, users).map { e, user -> TableRow in
            let misused = store.isMisused(conn: conn.rawValue, fid: e.fid.rawValue)
            let role: ThemeRole
            if e.state == .leaked {
                role = .fidLeaked
            } else if misused && e.isLive {
                role = .fidMisused
            } else if !e.isLive {
                role = .fidEnded
            } else {
                role = e.isOpen ? .fidOpen : .fidLive
            }
            var state = e.state.description
            if misused { state += "!" }
            return TableRow((oneUser ? [e.fid.description, state] : [e.fid.description, state, user]) + [
                e.path?.description ?? "?",
                e.qid.map(Tables.qid) ?? "", e.openMode?.description ?? "",
                e.iounit.map(String.init) ?? "", e.createdBy?.description ?? "-", String(e.useCount),
            ], role: role, action: Self.fidLifetime(e))
        }
        let who = oneUser && users.first.map { !$0.isEmpty } == true ? " · user " + users[0] : ""
        let userColumn = oneUser ? [] : [TableColumn("user", width: 6, flexible: true, maxWidth: 16)]
        // The fid and "made by" columns are as wide as their widest cell: an injected request's fids are
        // 4294967294 and below (InjectionPlanner), and a long session's exchanges run past x999999.
        func widest(_ column: Int, atLeast: Int) -> Int {
            rows.reduce(atLeast) { max($0, $1.cells[column].count) }
        }
        let madeBy = oneUser ? 6 : 7
        return Table(title: "fids of \(conn)" + who, columns: [
            TableColumn("fid", width: widest(0, atLeast: 6), alignRight: true), TableColumn("state", width: 9)] + userColumn + [
            TableColumn("path", width: 16, flexible: true), TableColumn("qid", width: 10, flexible: true, maxWidth: 24),
            TableColumn("mode", width: 12, flexible: true, maxWidth: 32), TableColumn("iounit", width: 6, alignRight: true),
            TableColumn("made by", width: widest(madeBy, atLeast: 7)), TableColumn("uses", width: 5, alignRight: true),
        ], rows: rows, emptyText: "no fids on \(conn) yet")
    }

    /// What opening a fid's row does: the list filtered to the exchanges of that fid from the one that made it
    /// to the one that ended it (`conn:0 and fid:2 and x:114-130`; from x114 on while it lives), the exchange
    /// that made it selected. A fid whose making was not seen (a capture started later) runs from the start.
    static func fidLifetime(_ e: FidEntry) -> TableAction {
        let fid = FilterExpr.and(.term(.conn(e.conn.rawValue)), .term(.fid(e.fid.rawValue)))
        let from = e.createdBy?.rawValue ?? 0
        let through = e.isLive ? nil : e.endedBy?.rawValue
        if from == 0 && through == nil { return .filter(fid) }
        let expr = FilterExpr.and(fid, .term(.exchanges(from: from, through: through)))
        return e.createdBy.map { .filterSelecting(expr, row: $0.rawValue) } ?? .filter(expr)
    }

    /// Statistics per message type, then per connection, then the total.
    public func statisticsTable() -> Table { Tables.statistics(statistics, users: store.users) }

    /// What opening an anomaly's row does: select its exchange, or show the bytes of a garbage run (which
    /// belongs to no exchange); nothing for an anomaly with neither.
    public static func action(of a: Anomaly) -> TableAction? {
        a.exchange.map { .showExchange($0.rawValue) }
            ?? (a.kind == .garbageBytes ? a.messageIndex.map { .showMessage($0) } : nil)
    }

    /// Every anomaly the tracker reported, oldest first. Opening one selects its exchange, or for bytes that
    /// could not be framed (no exchange) shows them. With a `window`, only the rows in it are made (the others
    /// are blank rows with no action): a view draws a page of them, and a live mount can report anomalies by
    /// the ten thousand (formatting 60,000 of them took a key 62–75 ms).
    public func anomalyTable(time: TimeFormat, window: Range<Int>? = nil) -> Table {
        let all = tracker.anomalies
        let rows = all.indices.map { i in
            if let window, !window.contains(i) { return TableRow([], role: .anomalyKind) }
            let a = all[i]
            return TableRow([time.format(a.at), a.conn.description, a.kind.rawValue, a.text], role: .anomalyKind,
                            action: Self.action(of: a))
        }
        return Table(title: "anomalies", columns: [
            TableColumn("time", width: 12), TableColumn("conn", width: 4), TableColumn("kind", width: 19),
            TableColumn("what", width: 20, flexible: true),
        ], rows: rows, emptyText: "no anomalies")
    }

    /// Every connection. Opening one filters the list to it. `err` counts what the statistics' `errors` and the
    /// filter `conn:N and error` count: exchanges answered with an error (by the server, or by a
    /// `proxy --fault` rule) or never answered; not the EINTR ninescope's proxy answers a flushed request
    /// with (that exchange reads as flushed).
    public func connectionTable(time: TimeFormat) -> Table {
        // By number: the proxy numbers connections as it accepts them, but their opening is reported by the
        // event loop each one runs on, not always in that order (c1 was listed before c0 under diodload -n 4).
        let rows = tracker.connections.sorted { $0.id.rawValue < $1.id.rawValue }.map { c in
            let version = c.negotiatedVersion ?? c.proposedVersion.map { $0 + "?" } ?? c.dialect.rawValue + "~"
            return TableRow([
                c.id.description, c.info?.client ?? "", c.info?.upstream ?? "", version,
                c.msize.map(String.init) ?? "", String(c.exchangeCount), String(c.pendingCount),
                String(statistics.errorsByConnection[c.id.rawValue] ?? 0), String(c.anomalyCount),
                "\(c.liveFidCount)/\(c.openFidCount)",
                c.isOpen ? "open" : "closed " + (c.closeReason?.description ?? ""),
            ], role: c.isOpen ? .connOpen : .connClosed, action: .filter(.term(.conn(c.id.rawValue))))
        }
        return Table(title: "connections", columns: [
            TableColumn("conn", width: 4), TableColumn("client", width: 10, flexible: true),
            TableColumn("upstream", width: 10, flexible: true), TableColumn("version", width: 9),
            TableColumn("msize", width: 6, alignRight: true), TableColumn("xchg", width: 6, alignRight: true),
            TableColumn("pend", width: 4, alignRight: true), TableColumn("err", width: 4, alignRight: true),
            TableColumn("anom", width: 4, alignRight: true), TableColumn("fids/open", width: 9, alignRight: true),
            TableColumn("state", width: 6, flexible: true),
        ], rows: rows, emptyText: "no connections yet")
    }
}

/// Small text helpers for tables.
public enum Tables {
    /// Statistics per message type (most exchanges first), then per connection, then per user when there are
    /// several (`users` names them), then the total: count, errors, bytes (requests and replies), latency
    /// p50/p90/p99/max. Opening a type's, a connection's or a user's row filters the list to it.
    public static func statistics(_ statistics: Statistics, users: UserTable = UserTable()) -> Table {
        func cells(_ name: String, _ b: StatBucket) -> [String] {
            [name, String(b.count), String(b.errors), Tables.bytes(b.bytes),
             b.p50.map(DurationFormat.compact) ?? "-", b.p90.map(DurationFormat.compact) ?? "-",
             b.p99.map(DurationFormat.compact) ?? "-", b.max.map(DurationFormat.compact) ?? "-"]
        }
        var rows: [TableRow] = statistics.typesByCount.map { code, bucket in
            let name = MessageType(rawValue: code)?.name ?? TracedMessage.typeName(code)
            let role: ThemeRole = bucket.errors > 0 ? .listError : .normal
            return TableRow(cells(name, bucket), role: role,
                            action: MessageType(rawValue: code).map { .filter(.term(.messageType($0))) })
        }
        if !statistics.byConnection.isEmpty {
            rows.append(TableRow(["connection", "", "", "", "", "", "", ""], role: .listHeader))
            // The connections that count together, in their place: the older ones first, the later ones last.
            let others = statistics.otherConnections.map { b in
                TableRow(cells(statistics.otherConnectionsLabel, b), role: b.errors > 0 ? .listError : .normal)
            }
            if let others, statistics.overflow == .older { rows.append(others) }
            for (conn, bucket) in statistics.byConnection.sorted(by: { $0.key < $1.key }) {
                rows.append(TableRow(cells("c\(conn)", bucket), role: bucket.errors > 0 ? .listError : .normal,
                                     action: .filter(.term(.conn(conn)))))
            }
            if let others, statistics.overflow == .later { rows.append(others) }
        }
        if statistics.byUser.count > 1 {
            rows.append(TableRow(["user", "", "", "", "", "", "", ""], role: .listHeader))
            for (id, bucket) in statistics.byUser.sorted(by: { $0.key < $1.key }) {
                let name = Tables.userLabel(id, users)
                let action = users[id].flatMap { $0.isEmpty ? nil : FilterExpr.term(.user($0.description)) }
                rows.append(TableRow(cells(name, bucket), role: bucket.errors > 0 ? .listError : .normal,
                                     action: action.map { .filter($0) }))
            }
        }
        if statistics.total.count > 0 {
            rows.append(TableRow(cells("total", statistics.total), role: .listHeader))
        }
        return Table(title: "statistics", columns: [
            TableColumn("type", width: 12, flexible: true, maxWidth: 24), TableColumn("count", width: 8, alignRight: true),
            TableColumn("errors", width: 6, alignRight: true), TableColumn("bytes", width: 8, alignRight: true),
            TableColumn("p50", width: 7, alignRight: true), TableColumn("p90", width: 7, alignRight: true),
            TableColumn("p99", width: 7, alignRight: true), TableColumn("max", width: 7, alignRight: true),
        ], rows: rows, emptyText: "no exchanges yet")
    }

    /// A user's name in the statistics: as the fids view shows it, `(no name)` for an attach that gave
    /// neither uname nor n_uname, `other` for the users past the table's 254.
    static func userLabel(_ id: UInt8, _ users: UserTable) -> String {
        guard let user = users[id] else { return "other" }
        return user.isEmpty ? "(no name)" : user.description
    }

    /// `0000000000000010 0 d` → compact `10 v0 d`: path in hex, version, type letters.
    public static func qid(_ q: Qid) -> String {
        let letters: [(QidType, Character)] = [
            (.dir, "d"), (.append, "a"), (.excl, "l"), (.mount, "m"), (.auth, "A"), (.tmp, "t"),
            (.symlink, "L"), (.link, "H"),
        ]
        let type = String(letters.filter { q.type.contains($0.0) }.map(\.1))
        return String(q.path, radix: 16) + " v" + String(q.version) + (type.isEmpty ? "" : " " + type)
    }

    /// `512`, `12.3K`, `4.56M`, `1.20G` (powers of 1024).
    public static func bytes(_ n: Int) -> String {
        if n < 1024 { return String(n) }
        let units = ["K", "M", "G", "T"]
        var value = Double(n) / 1024
        var i = 0
        while value >= 1024 && i < units.count - 1 {
            value /= 1024
            i += 1
        }
        let digits = value >= 100 ? 0 : value >= 10 ? 1 : 2
        return fixed(value, digits) + units[i]
    }

    /// `value` with `digits` decimals, rounded down (no Foundation formatting).
    static func fixed(_ value: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = Int((value * scale).rounded(.down))
        let whole = scaled / Int(scale)
        guard digits > 0 else { return String(whole) }
        var frac = String(scaled % Int(scale))
        while frac.count < digits { frac = "0" + frac }
        return String(whole) + "." + frac
    }
}
