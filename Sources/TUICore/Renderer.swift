/// Draws successive frames to a backend, sending only what changed since the previous frame.
public struct Renderer: Sendable {
    /// The last frame sent to the backend (nil before the first one or after `invalidate()`).
    public private(set) var previous: Grid?

    public init() {}

    /// Forgets the previous frame so the next `render` redraws everything (after the screen was
    /// cleared or scribbled on by someone else).
    public mutating func invalidate() {
        previous = nil
    }

    /// Sends the difference between the previous frame and `grid` to `backend`, sets the cursor
    /// and presents. Returns the runs drawn.
    @discardableResult
    public mutating func render(_ grid: Grid, to backend: some TerminalBackend, cursor: Point? = nil) -> [CellRun] {
        let runs = Renderer.diff(old: previous, new: grid)
        if !runs.isEmpty { backend.draw(runs) }
        backend.setCursor(cursor)
        backend.present()
        previous = grid
        return runs
    }

    /// The runs that turn `old` into `new`: one run per maximal stretch of changed cells on a
    /// row, widened so that no run splits a wide character. With no `old` frame, or one of a
    /// different size, every row is one full-width run.
    public static func diff(old: Grid?, new: Grid) -> [CellRun] {
        let width = new.width
        guard let old, old.size == new.size else {
            return (0..<new.height).compactMap { y in
                width > 0 ? CellRun(origin: Point(x: 0, y: y), cells: Array(new.row(y))) : nil
            }
        }
        var runs: [CellRun] = []
        for y in 0..<new.height {
            let before = old.row(y), after = new.row(y)
            let base = after.startIndex, oldBase = before.startIndex
            var x = 0
            while x < width {
                guard before[oldBase + x] != after[base + x] else {
                    x += 1
                    continue
                }
                var start = x
                // Never start on the right half of a wide character.
                if start > 0, after[base + start].isContinuation { start -= 1 }
                var end = x + 1
                while end < width, before[oldBase + end] != after[base + end] { end += 1 }
                // Never end between a wide character and its continuation.
                if end < width, after[base + end].isContinuation { end += 1 }
                // Merge with the previous run if widening made them touch.
                if let last = runs.last, last.origin.y == y, last.origin.x + last.width >= start {
                    let merged = Array(after[(base + last.origin.x)..<(base + end)])
                    runs[runs.count - 1] = CellRun(origin: last.origin, cells: merged)
                } else {
                    runs.append(CellRun(origin: Point(x: start, y: y), cells: Array(after[(base + start)..<(base + end)])))
                }
                x = end
            }
        }
        return runs
    }
}
