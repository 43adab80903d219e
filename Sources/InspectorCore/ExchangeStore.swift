import NinePSession
import NinePWire

/// The append-only table of exchanges the inspector shows, fed with the tracker's output.
///
/// Row `i` is the tracker's exchange `ExchangeID(i)` (the tracker numbers them densely), so lookups
/// are array indexing, in pieces of 4096 rows. Rows are compact value structs (`ExchangeRow`); frames stay
/// in the tracker's log; fid tables, anomalies and connection summaries are the tracker's (see
/// `InspectorModel`).
///
/// A bounded history (`forget(below:keeping:)`) drops the oldest pieces: rows below `firstHeld` are gone
/// but for those kept (exchanges still pending), and read as an empty row; `count` keeps counting.
public struct ExchangeStore: Sendable {
    private var rows = ChunkedArray<ExchangeRow>()
    /// Rows below `firstHeld` still held (exchanges still pending when they were forgotten), in order.
    public private(set) var keptRows: [Int] = []
    private var kept: [Int: ExchangeRow] = [:]
    /// Interned fid paths (`FidPath.description`), referenced by `ExchangeRow.requestPath`/`replyPath`.
    public private(set) var paths = StringInterner()
    /// Whose the requests' fids are, referenced by `ExchangeRow.user`.
    public private(set) var users = UserTable()
    /// Fids named by an anomaly (unknown fid, newfid in use, count over iounit …), per connection.
    public private(set) var misusedFids: [UInt32: Set<UInt32>] = [:]
    /// The kinds of anomaly naming each row that has any (`AnomalyKind.bit`s): few rows have one, so they
    /// are kept here rather than in every row.
    private var anomalyKindsByRow: [Int: UInt32] = [:]
    /// The earliest timestamp seen (ns), for relative times.
    public private(set) var firstTime: Int64?
    /// The latest timestamp seen (ns): where a capture ends, what a pending request's age counts to in `view`.
    public private(set) var lastTime: Int64?

    public init() {}

    /// What one `apply` changed: rows appended and rows changed, each with its previous value.
    public struct Change: Sendable {
        public var appended: Range<Int>
        /// Rows that existed before and changed, with their earlier value.
        public var updated: [(index: Int, old: ExchangeRow)]
        public var newAnomalies: Int
        public var fidsChanged: Bool
        public init(appended: Range<Int>, updated: [(index: Int, old: ExchangeRow)] = [], newAnomalies: Int = 0,
                    fidsChanged: Bool = false) {
            self.appended = appended; self.updated = updated; self.newAnomalies = newAnomalies
            self.fidsChanged = fidsChanged
        }
        public var isEmpty: Bool { appended.isEmpty && updated.isEmpty && newAnomalies == 0 && !fidsChanged }
    }

    /// Rows made so far (the next row's index).
    public var count: Int { rows.count }
    /// The first row of the dense part: rows below it were forgotten, but for `keptRows`.
    public var firstHeld: Int { rows.firstHeld }
    /// The start of the piece of 4096 rows holding `index` (what `forget(below: index)` forgets up to).
    public static func pieceStart(_ index: Int) -> Int { ChunkedArray<ExchangeRow>.pieceStart(index) }
    public var isEmpty: Bool { count == 0 }
    /// Rows held now (those not forgotten).
    public var heldCount: Int { count - firstHeld + kept.count }
    /// Whether row `index` is held (made and not forgotten).
    public func isHeld(_ index: Int) -> Bool {
        index >= firstHeld ? index < count : index >= 0 && kept[index] != nil
    }
    /// A row; a forgotten one reads as an empty row.
    public subscript(index: Int) -> ExchangeRow {
        get {
            if index >= firstHeld { return rows[index] }
            return kept[index] ?? ExchangeRow()
        }
        set {
            if index >= firstHeld {
                rows[index] = newValue
            } else if kept[index] != nil {
                kept[index] = newValue
            }
        }
    }

    private mutating func append(_ row: ExchangeRow) { rows.append(row) }

    /// The kinds of anomaly naming row `index` (`AnomalyKind.bit`s; 0 for none).
    public func anomalyKinds(of index: Int) -> UInt32 { anomalyKindsByRow.isEmpty ? 0 : anomalyKindsByRow[index] ?? 0 }

    /// Forgets the rows below `index` (rounded down to a piece of 4096) but those in `keeping` (ids below
    /// the new first row: what the tracker kept, `SessionTracker.Forgotten.kept`); rows kept earlier and
    /// not named again go too. Returns how many rows were dropped.
    @discardableResult
    public mutating func forget(below index: Int, keeping: [Int]) -> Int {
        let before = heldCount
        let end = Self.pieceStart(min(index, count))
        guard end > firstHeld else { return 0 }
        var next: [Int: ExchangeRow] = [:]
        for id in keeping where isHeld(id) && id < end { next[id] = self[id] }
        rows.release(below: end)
        if !anomalyKindsByRow.isEmpty { anomalyKindsByRow = anomalyKindsByRow.filter { $0.key >= end || next[$0.key] != nil } }
        kept = next
        keptRows = next.keys.sorted()
        return before - heldCount
    }

    /// The path text of an interned id.
    public func path(_ id: Int32) -> String? { paths[id] }

    // MARK: - Feeding

    /// Takes in what one tracker event produced.
    @discardableResult
    public mutating func apply(_ output: TrackerOutput) -> Change {
        let before = count
        var updated: [Int: ExchangeRow] = [:]
        var kindsChanged: Set<Int> = []
        func touch(_ i: Int, _ body: (inout ExchangeRow) -> Void) {
            guard isHeld(i) else { return }   // forgotten: its changes go nowhere
            if i < before, updated[i] == nil { updated[i] = self[i] }
            var row = self[i]
            body(&row)
            self[i] = row
        }
        for exchange in output.exchanges {
            let i = exchange.id.rawValue
            while count <= i { append(ExchangeRow()) }
            touch(i) { $0.update(from: exchange) }
        }
        if let message = output.message {
            note(time: message.timestamp)
            if let id = message.exchange?.rawValue, id < count {
                let path = message.fidPath.map { paths.intern($0.description) } ?? ExchangeRow.noPath
                let user = users.id(message.fidPath?.user)
                touch(id) { $0.update(from: message, path: path, user: user) }
            }
        }
        for anomaly in output.anomalies {
            // Every anomaly that names an exchange is findable by its kind (`anomaly:fid-leak` finds the
            // exchanges that made the fids left open); only those that count against it mark the row.
            if let id = anomaly.exchange?.rawValue, id < count, isHeld(id) {
                let kinds = anomalyKindsByRow[id, default: 0]
                if kinds & anomaly.kind.bit == 0 {
                    anomalyKindsByRow[id] = kinds | anomaly.kind.bit
                    if id < before, updated[id] == nil { updated[id] = self[id]; kindsChanged.insert(id) }
                }
            }
            guard anomaly.marksItsExchange else { continue }
            if let fid = anomaly.fid {
                misusedFids[anomaly.conn.rawValue, default: []].insert(fid.rawValue)
            }
            if let id = anomaly.exchange?.rawValue, id < count, isHeld(id), !self[id].flags.contains(.anomaly) {
                touch(id) { $0.flags.insert(.anomaly) }
            }
        }
        // A row whose only change is a new anomaly kind stays in: a filter naming that kind must see it again.
        let changes = updated.sorted { $0.key < $1.key }.filter { self[$0.key] != $0.value || kindsChanged.contains($0.key) }
        return Change(appended: before..<count, updated: changes.map { (index: $0.key, old: $0.value) },
                      newAnomalies: output.anomalies.count, fidsChanged: !output.fids.isEmpty)
    }

    /// Appends or replaces a row directly (tests, synthetic models). Returns the change.
    @discardableResult
    public mutating func set(_ row: ExchangeRow, at index: Int) -> Change {
        let before = count
        note(time: row.time)
        if index < before {
            let old = self[index]
            self[index] = row
            return Change(appended: before..<before, updated: old == row ? [] : [(index, old)])
        }
        while count < index { append(ExchangeRow()) }
        append(row)
        return Change(appended: before..<count)
    }

    /// Interns a path (for rows built with `set`).
    public mutating func internPath(_ path: String) -> Int32 { paths.intern(path) }

    /// Marks rows as "flush requested" by the user.
    public mutating func markFlushRequested(_ index: Int) -> Change {
        guard isHeld(index), !self[index].flags.contains(.flushRequested) else {
            return Change(appended: count..<count)
        }
        let old = self[index]
        self[index].flags.insert(.flushRequested)
        return Change(appended: count..<count, updated: [(index, old)])
    }

    /// Takes the "flush requested" mark off a row again (the flush could not be sent).
    public mutating func clearFlushRequested(_ index: Int) -> Change {
        guard isHeld(index), self[index].flags.contains(.flushRequested) else {
            return Change(appended: count..<count)
        }
        let old = self[index]
        self[index].flags.remove(.flushRequested)
        return Change(appended: count..<count, updated: [(index, old)])
    }

    private mutating func note(time: Int64) {
        guard time != ExchangeRow.noTime else { return }
        if firstTime.map({ time < $0 }) ?? true { firstTime = time }
        if lastTime.map({ time > $0 }) ?? true { lastTime = time }
    }

    // MARK: - Fids

    /// Whether an anomaly named this fid on this connection.
    public func isMisused(conn: UInt32, fid: UInt32) -> Bool {
        misusedFids[conn]?.contains(fid) ?? false
    }
}

extension Anomaly {
    /// Whether the anomaly counts against the exchange (and fid) it names: a fid still open when its
    /// connection ended names the exchange that made the fid, which did nothing wrong; a request still
    /// pending is waiting on the server, and one left unanswered at the close, and their rows say so already.
    var marksItsExchange: Bool { kind != .fidLeakedAtClose && kind != .stillPending && kind != .unansweredAtClose }
}

extension ExchangeRow {
    /// Refreshes the fields the tracker's `Exchange` carries.
    mutating func update(from x: Exchange) {
        conn = x.conn.rawValue
        tag = x.tag.rawValue
        if let code = x.requestCode { requestCode = code; flags.insert(.hasRequest) }
        if let code = x.replyCode { replyCode = code; flags.insert(.hasReply) }
        requestIndex = x.requestIndex.map { Int32(truncatingIfNeeded: $0) } ?? ExchangeRow.noIndex
        replyIndex = x.replyIndex.map { Int32(truncatingIfNeeded: $0) } ?? ExchangeRow.noIndex
        start = x.start ?? ExchangeRow.noTime
        end = x.end ?? ExchangeRow.noTime
        status = x.status
        if let error = x.error {
            errno = error.errno?.rawValue ?? error.ename.flatMap { Errno(message: $0)?.rawValue } ?? 0
        }
        if x.isInjected { flags.insert(.injected) }
        if x.isMalformed { flags.insert(.malformed) }
    }

    /// Takes the message-level facts: sizes, fids named, paths.
    mutating func update(from m: TracedMessage, path: Int32, user: UInt8 = UserTable.none) {
        let size = UInt32(truncatingIfNeeded: m.frameSize)
        if m.isTruncated { flags.insert(.truncated) }
        if Int(m.index) == Int(requestIndex) || (m.isRequest == true && requestIndex == ExchangeRow.noIndex) {
            requestBytes = size
            requestPath = path
            self.user = user
            if !m.marks.isDisjoint(with: [.dropped, .delayed]) { flags.insert(.faulted) }
            if let message = m.decoded?.message {
                let refs = message.fidRefs
                fid = refs.primary?.rawValue ?? ExchangeRow.noFid
                let other = refs.creates ?? refs.uses.first { $0 != refs.primary }
                otherFid = other?.rawValue ?? ExchangeRow.noFid
            }
        } else if Int(m.index) == Int(replyIndex) {
            replyBytes = size
            replyPath = path
            if m.marks.contains(.injected) { flags.insert(.answeredByProxy) }
            if m.marks.contains(.delayed) { flags.insert(.faulted) }
        }
    }
}
