/// The rows of a store that match a filter, as ascending row indices, kept up to date as rows arrive
/// and change. Evaluation is incremental: `advance(budget:)` checks at most `budget` new rows, so a
/// filter over a million rows never blocks input for long; `isComplete` says whether all rows were seen.
///
/// With the empty filter no index array is kept: position `i` is row `i` — after a bounded history forgot
/// the oldest rows, the rows kept below the store's first held row come first, then row `firstHeld + i`.
public struct FilteredView: Sendable {
    public private(set) var matcher: FilterMatcher
    private var indices: ContiguousArray<Int32> = []
    /// Rows `0..<scanned` have been evaluated.
    public private(set) var scanned = 0
    /// The store's row count when last told (the identity view's length).
    private var known = 0
    /// The store's first held row and the rows kept below it, when last told (the identity view's start).
    private var base = 0
    private var low: [Int] = []

    public init(filter: FilterExpr = .all) {
        matcher = FilterMatcher(filter)
    }

    public var filter: FilterExpr { matcher.expr }
    public var isIdentity: Bool { filter == .all }

    /// Matching rows found so far.
    public var count: Int { isIdentity ? low.count + max(0, known - base) : indices.count }
    public var isEmpty: Bool { count == 0 }

    /// Whether every row of the store has been evaluated.
    public func isComplete(storeCount: Int) -> Bool { scanned >= storeCount }

    /// The row index at a position of the view.
    public subscript(position: Int) -> Int {
        guard isIdentity else { return Int(indices[position]) }
        return position < low.count ? low[position] : base + position - low.count
    }

    /// The position of `row` in the view, or nil when it does not match (or was not scanned yet).
    public func position(of row: Int) -> Int? {
        if isIdentity {
            if row >= base { return row < known ? low.count + row - base : nil }
            let p = Self.lowerBound(row, in: low)
            return p < low.count && low[p] == row ? p : nil
        }
        let p = lowerBound(row)
        return p < indices.count && indices[p] == Int32(row) ? p : nil
    }

    /// The position of the first matching row at or after `row` (or `count` when none).
    public func lowerBound(_ row: Int) -> Int {
        if isIdentity {
            if row <= base { return Self.lowerBound(row, in: low) }
            return low.count + min(row, known) - base
        }
        var lo = 0, hi = indices.count
        let target = Int32(truncatingIfNeeded: row)
        while lo < hi {
            let mid = (lo + hi) / 2
            if indices[mid] < target { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    private static func lowerBound(_ row: Int, in sorted: [Int]) -> Int {
        var lo = 0, hi = sorted.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if sorted[mid] < row { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Takes in that the store forgot its oldest rows: those no longer held leave the view (the positions
    /// of the rest move down).
    public mutating func forgot(store: ExchangeStore, text: (Int) -> String) {
        base = store.firstHeld
        low = store.keptRows
        known = store.count
        if !isIdentity, let first = indices.first, Int(first) < store.firstHeld {
            indices = indices.filter { Int($0) >= store.firstHeld || store.isHeld(Int($0)) }
        }
        if !isIdentity && scanned < store.firstHeld { scanKept(store, text: text) }
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
        base = store.firstHeld
        low = store.keptRows
        if isIdentity {
            scanned = store.count
            return true
        }
        if scanned < store.firstHeld { scanKept(store, text: text) }
        let end = store.count - scanned > budget ? scanned + budget : store.count
        while scanned < end {
            if matcher.matches(scanned, in: store, text: text) { indices.append(Int32(scanned)) }
            scanned += 1
        }
        return scanned >= store.count
    }

    /// Evaluates the rows kept below the store's first held row that were not scanned yet, and moves the
    /// scan on to the first held row (the rows in between are gone).
    private mutating func scanKept(_ store: ExchangeStore, text: (Int) -> String) {
        for row in store.keptRows where row >= scanned {
            if matcher.matches(row, in: store, text: text) { indices.append(Int32(row)) }
        }
        scanned = store.firstHeld
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
