/// The rows of a store that match a filter, as ascending row indices, kept up to date as rows arrive
/// and change. Evaluation is incremental: `advance(budget:)` checks at most `budget` new rows, so a
/// filter over a million rows never blocks input for long; `isComplete` says whether all rows were seen.
///
/// With the empty filter no index array is kept: position `i` is row `i`.
public struct FilteredView: Sendable {
    public private(set) var matcher: FilterMatcher
    private var indices: ContiguousArray<Int32> = []
    /// Rows `0..<scanned` have been evaluated.
    public private(set) var scanned = 0
    /// The store's row count when last told (the identity view's length).
    private var known = 0

    public init(filter: FilterExpr = .all) {
        matcher = FilterMatcher(filter)
    }

    public var filter: FilterExpr { matcher.expr }
    public var isIdentity: Bool { filter == .all }

    /// Matching rows found so far.
    public var count: Int { isIdentity ? known : indices.count }
    public var isEmpty: Bool { count == 0 }

    /// Whether every row of the store has been evaluated.
    public func isComplete(storeCount: Int) -> Bool { scanned >= storeCount }

    /// The row index at a position of the view.
    public subscript(position: Int) -> Int { isIdentity ? position : Int(indices[position]) }

    /// The position of `row` in the view, or nil when it does not match (or was not scanned yet).
    public func position(of row: Int) -> Int? {
        if isIdentity { return row < known ? row : nil }
        let p = lowerBound(row)
        return p < indices.count && indices[p] == Int32(row) ? p : nil
    }

    /// The position of the first matching row at or after `row` (or `count` when none).
    public func lowerBound(_ row: Int) -> Int {
        if isIdentity { return min(row, known) }
        var lo = 0, hi = indices.count
        let target = Int32(truncatingIfNeeded: row)
        while lo < hi {
            let mid = (lo + hi) / 2
            if indices[mid] < target { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Starts over with a new filter (nothing scanned yet, except for the empty filter).
    public mutating func setFilter(_ filter: FilterExpr, storeCount: Int) {
        matcher = FilterMatcher(filter)
        indices = []
        scanned = isIdentity ? storeCount : 0
        known = storeCount
    }

    /// Evaluates up to `budget` unscanned rows; returns true when the view is complete.
    @discardableResult
    public mutating func advance(store: ExchangeStore, budget: Int = .max, text: (Int) -> String) -> Bool {
        known = store.count
        if isIdentity {
            scanned = store.count
            return true
        }
        let end = store.count - scanned > budget ? scanned + budget : store.count
        while scanned < end {
            if matcher.matches(scanned, in: store, text: text) { indices.append(Int32(scanned)) }
            scanned += 1
        }
        return scanned >= store.count
    }

    /// Re-checks a row that changed (only rows already scanned matter; later ones are checked when
    /// reached). Returns +1 when it entered the view, −1 when it left, 0 otherwise.
    @discardableResult
    public mutating func rowChanged(_ row: Int, store: ExchangeStore, text: (Int) -> String) -> Int {
        guard !isIdentity, row < scanned else { return 0 }
        let now = matcher.matches(row, in: store, text: text)
        let p = lowerBound(row)
        let was = p < indices.count && indices[p] == Int32(row)
        if now && !was {
            indices.insert(Int32(row), at: p)
            return 1
        }
        if !now && was {
            indices.remove(at: p)
            return -1
        }
        return 0
    }

    /// Applies a store change: new rows are scanned (within `budget`), changed rows re-checked when the
    /// filter can depend on what changed.
    public mutating func apply(_ change: ExchangeStore.Change, store: ExchangeStore, budget: Int = .max,
                               text: (Int) -> String) {
        if !isIdentity {
            let recheckAll = filter.dependsOnCompletion
            for (row, old) in change.updated {
                let new = store[row]
                // Rows whose request-side facts are unchanged keep their result under request-only filters.
                if recheckAll || new.flags != old.flags || new.fid != old.fid || new.otherFid != old.otherFid
                    || new.requestCode != old.requestCode || new.conn != old.conn || new.tag != old.tag {
                    rowChanged(row, store: store, text: text)
                }
            }
        }
        advance(store: store, budget: budget, text: text)
    }
}
