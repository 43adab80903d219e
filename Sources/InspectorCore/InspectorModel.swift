import NinePSession
import NinePWire

/// The inspector's data: the session tracker (which owns the message log, fid tables, anomalies and
/// connection summaries), the exchange store, statistics, the filtered exchange list and its cursor.
/// A value type fed with `SessionEvent`s; views read it, commands change it.
public struct InspectorModel: Sendable {
    public private(set) var tracker: SessionTracker
    public private(set) var store = ExchangeStore()
    /// The statistics view's figures. The newest `connectionRows` connections have rows of their own, the
    /// older ones count together, so that a session of many short connections keeps its memory bounded
    /// (each row's latency histogram takes 10–100 KB).
    public private(set) var statistics = Statistics(connectionLimit: InspectorModel.connectionRows, overflow: .older)
    public static let connectionRows = 256
    public private(set) var view = FilteredView()
    public private(set) var cursor = ListCursor()
    /// The search expression (`search.edit`), used by `search.next`/`search.previous`.
    public private(set) var search: FilterExpr?
    /// Rows to evaluate per step when a filter runs over many rows (see `continueScan`).
    public var scanBudget: Int
    /// A row to select once the filter reaches it (set when the filter changes mid-scan).
    private var anchor: Int?
    /// The live view's bounded history: once what the model holds passes this many bytes (frames, plus
    /// `bytesPerExchange` for each exchange held), the oldest exchanges are forgotten down to three
    /// quarters of it, but those still pending (see `SessionTracker.forgetHistory`). Nil: keep everything.
    public var historyLimit: Int?
    /// Exchanges forgotten so far (to keep within `historyLimit`).
    public private(set) var forgottenExchanges = 0
    /// What the model holds per exchange besides its frames: the row, the tracker's record and two message
    /// records, the view's index, and what the allocator adds (measured: ~210 bytes for a Tgetattr and its
    /// Rgetattr, of 388 with their frames).
    public static let bytesPerExchange = 224

    public init(tracker: SessionTracker = SessionTracker(), scanBudget: Int = 20_000) {
        self.tracker = tracker
        self.scanBudget = max(1, scanBudget)
    }

    // MARK: - Feeding

    /// Feeds one event to the tracker and takes its output in.
    @discardableResult
    public mutating func handle(_ event: SessionEvent) -> ExchangeStore.Change {
        let output = tracker.handle(event)
        return take(output)
    }

    /// Feeds many events (one view update at the end: much faster for loading captures).
    public mutating func handle<S: Sequence>(_ events: S) where S.Element == SessionEvent {
        let selected = selectedRow
        var updated: [(index: Int, old: ExchangeRow)] = []
        let before = store.count
        for event in events {
            let change = store.apply(tracker.handle(event))
            statistics.apply(change, store: store)
            updated += change.updated.filter { $0.index < before }
        }
        refresh(ExchangeStore.Change(appended: before..<store.count, updated: updated), keeping: selected)
        keepHistoryLimit()
    }

    private mutating func take(_ output: TrackerOutput) -> ExchangeStore.Change {
        let selected = selectedRow
        let change = store.apply(output)
        statistics.apply(change, store: store)
        refresh(change, keeping: selected)
        keepHistoryLimit()
        return change
    }

    /// What the history holds, as `historyLimit` counts it.
    public var heldBytes: Int { tracker.heldFrameBytes + store.heldCount * Self.bytesPerExchange }

    /// Forgets the oldest exchanges when `historyLimit` is passed (statistics keep counting them).
    private mutating func keepHistoryLimit() {
        guard let limit = historyLimit else { return }
        let held = store.heldCount, bytes = heldBytes
        guard bytes > limit, held > 0 else { return }
        let keep = (limit / 4 * 3) / max(1, bytes / held)
        forgetHistory(before: store.count - keep)
    }

    /// Forgets the exchanges below `row` (rounded down to a piece of 4096 rows), but those still pending;
    /// the selection stays on its row if that is kept, else moves to the first one held. Returns how many
    /// exchanges were forgotten.
    @discardableResult
    public mutating func forgetHistory(before row: Int) -> Int {
        guard ExchangeStore.pieceStart(min(row, store.count)) > store.firstHeld else { return 0 }   // nothing to drop
        let selected = selectedRow
        let forgotten = tracker.forgetHistory(before: row)
        let dropped = store.forget(below: forgotten.firstExchange, keeping: forgotten.kept.map(\.rawValue))
        if forgotten.connections > 0 {
            statistics.forgetConnections(keeping: Set(tracker.connections.map(\.id.rawValue)))
        }
        guard dropped > 0 else { return 0 }
        forgottenExchanges += dropped
        view.forgot(store: store, text: textFunction)
        cursor.setCount(view.count)
        if let row = selected, !cursor.isFollowing {
            cursor.select(view.position(of: row) ?? min(view.lowerBound(row), max(0, view.count - 1)))
        }
        return dropped
    }

    private mutating func refresh(_ change: ExchangeStore.Change, keeping selected: Int?) {
        let text = textFunction
        view.apply(change, store: store, budget: scanBudget, text: text)
        syncCursor(keeping: selected)
    }

    /// Continues evaluating the filter over rows not yet scanned; returns true when done.
    @discardableResult
    public mutating func continueScan() -> Bool {
        let selected = selectedRow
        let done = view.advance(store: store, budget: scanBudget, text: textFunction)
        syncCursor(keeping: selected)
        return done
    }

    /// Whether the filter has seen every row.
    public var isScanComplete: Bool { view.isComplete(storeCount: store.count) }

    private mutating func syncCursor(keeping selected: Int?) {
        cursor.setCount(view.count)
        guard !cursor.isFollowing else { return }
        let target = anchor ?? selected
        guard let row = target else { return }
        if let p = view.position(of: row) {
            cursor.select(p)
            if anchor == row { anchor = nil }
        } else if view.count > 0 {
            cursor.select(min(view.lowerBound(row), view.count - 1))
            if isScanComplete { anchor = nil }
        }
    }

    // MARK: - Reading

    /// The store row selected in the list.
    public var selectedRow: Int? { cursor.selected.map { view[$0] } }

    /// The request and reply of a row, decoded (nil when absent).
    public func messages(ofRow row: Int) -> (request: TracedMessage?, reply: TracedMessage?) {
        let r = store[row]
        return (r.requestIndex >= 0 ? tracker.message(at: Int(r.requestIndex)) : nil,
                r.replyIndex >= 0 ? tracker.message(at: Int(r.replyIndex)) : nil)
    }

    /// The list columns of a row; `now` counts a pending request's age (see `ExchangeFormatter.columns`).
    public func columns(ofRow row: Int, time: TimeFormat, now: Int64? = nil) -> ExchangeColumns {
        let (request, reply) = messages(ofRow: row)
        return ExchangeFormatter.columns(store[row], requestLine: request?.canonicalLine,
                                         replyLine: reply?.canonicalLine, time: time, now: now)
    }

    /// The searchable text of a row: its request's and reply's canonical lines.
    public func text(ofRow row: Int) -> String {
        let (request, reply) = messages(ofRow: row)
        return (request?.canonicalLine ?? "") + "\n" + (reply?.canonicalLine ?? "")
    }

    private var textFunction: (Int) -> String {
        let tracker = self.tracker
        let store = self.store
        return { row in
            let r = store[row]
            let request = r.requestIndex >= 0 ? tracker.message(at: Int(r.requestIndex))?.canonicalLine : nil
            let reply = r.replyIndex >= 0 ? tracker.message(at: Int(r.replyIndex))?.canonicalLine : nil
            return (request ?? "") + "\n" + (reply ?? "")
        }
    }

    /// The connection of the selected row, or else the most recent connection.
    public var selectedConnection: ConnectionID? {
        if let row = selectedRow { return ConnectionID(store[row].conn) }
        return tracker.connections.last?.id
    }

    // MARK: - The list

    public mutating func setPageSize(_ rows: Int) { cursor.setPageSize(rows) }
    public mutating func moveSelection(by delta: Int) { cursor.move(by: delta) }
    public mutating func pageDown() { cursor.pageDown() }
    public mutating func pageUp() { cursor.pageUp() }
    public mutating func halfPageDown() { cursor.halfPageDown() }
    public mutating func halfPageUp() { cursor.halfPageUp() }
    public mutating func toTop() { cursor.toTop() }
    public mutating func toBottom() { cursor.toBottom() }
    /// Whether the selection follows new exchanges (live views) or stays put (captures start at the top).
    public mutating func setFollowing(_ on: Bool) { cursor.setFollowing(on) }

    /// Selects a store row, if the filter shows it; returns whether it could.
    @discardableResult
    public mutating func select(row: Int) -> Bool {
        guard let p = view.position(of: row) else { return false }
        cursor.select(p)
        return true
    }

    /// Replaces the filter, keeping the selected exchange selected when it still matches (else the
    /// nearest one after it).
    public mutating func setFilter(_ filter: FilterExpr) {
        let selected = selectedRow
        let following = cursor.isFollowing
        view.setFilter(filter, storeCount: store.count)
        view.advance(store: store, budget: scanBudget, text: textFunction)
        cursor.setCount(view.count)
        if following {
            cursor.toBottom()
        } else {
            anchor = selected
            syncCursor(keeping: selected)
        }
    }

    /// Shows only the exchanges naming `fid` on `conn`.
    public mutating func filterToFid(_ fid: Fid, conn: ConnectionID) {
        setFilter(.and(.term(.conn(conn.rawValue)), .term(.fid(fid.rawValue))))
    }

    // MARK: - Search

    public mutating func setSearch(_ expr: FilterExpr?) { search = expr }

    /// Moves to the next (or previous) exchange in the list matching the search, wrapping around.
    /// Returns false when nothing matches.
    @discardableResult
    public mutating func searchNext(forward: Bool = true) -> Bool {
        guard let search, view.count > 0 else { return false }
        var matcher = FilterMatcher(search)
        let text = textFunction
        let n = view.count
        let start = cursor.selected ?? (forward ? -1 : n)
        for step in 1...n {
            let p = ((start + (forward ? step : -step)) % n + n) % n
            if matcher.matches(view[p], in: store, text: text) {
                cursor.select(p)
                return true
            }
        }
        return false
    }

    // MARK: - Marks

    /// Notes that the user asked to flush a row (shown until the flush completes).
    public mutating func markFlushRequested(row: Int) {
        let change = store.markFlushRequested(row)
        refresh(change, keeping: selectedRow)
    }

    /// Undoes `markFlushRequested`: the flush failed, so the row is pending as before.
    public mutating func clearFlushRequested(row: Int) {
        let change = store.clearFlushRequested(row)
        refresh(change, keeping: selectedRow)
    }
}
