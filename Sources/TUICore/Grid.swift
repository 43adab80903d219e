/// A 2-D buffer of cells that views draw into and the `Renderer` diffs.
///
/// Invariants kept by every mutating method: a wide character's left cell (width 2) is always
/// followed by its continuation cell on the same row, and a continuation cell always follows a
/// wide character. Overwriting either half of a wide character blanks the other half (keeping
/// its style). A wide character that would straddle the right edge of the grid or of a clip
/// rect is drawn as a single space instead, so clipping never leaves half a character.
///
/// Reads outside the grid return `Cell.blank`; writes outside it (or outside `clip`) are ignored.
public struct Grid: Hashable, Sendable {
    public private(set) var size: Size
    public private(set) var cells: [Cell]

    public init(size: Size, filling cell: Cell = .blank) {
        let clamped = Size(width: max(0, size.width), height: max(0, size.height))
        let fill = cell.isContinuation || cell.width == 2 ? Cell.blank(cell.style) : cell
        self.size = clamped
        self.cells = Array(repeating: fill, count: clamped.width * clamped.height)
    }

    public init(width: Int, height: Int, filling cell: Cell = .blank) {
        self.init(size: Size(width: width, height: height), filling: cell)
    }

    public var width: Int { size.width }
    public var height: Int { size.height }
    public var bounds: Rect { Rect(size: size) }

    // MARK: reading

    public subscript(x: Int, y: Int) -> Cell {
        guard x >= 0, y >= 0, x < size.width, y < size.height else { return .blank }
        return cells[y * size.width + x]
    }

    public subscript(point: Point) -> Cell { self[point.x, point.y] }

    /// The cells of row `y` (empty outside the grid).
    public func row(_ y: Int) -> ArraySlice<Cell> {
        guard y >= 0, y < size.height else { return [] }
        return cells[(y * size.width)..<((y + 1) * size.width)]
    }

    // MARK: writing

    /// Writes `text` left to right starting at `at`, on that row only, and returns the column
    /// just after the text (as if nothing were clipped), so runs can be laid out one after
    /// another. Characters outside `clip` (and outside the grid) are dropped; a wide
    /// character cut by the clip edge becomes a space. Newlines and other controls are not
    /// interpreted: each shows as one U+FFFD cell; zero-width characters are dropped.
    @discardableResult
    public mutating func put<S: StringProtocol>(text: S, at start: Point, style: Style = .plain, clip: Rect? = nil) -> Int {
        let limit = clip.map { $0.intersection(bounds) } ?? bounds
        var x = start.x
        let y = start.y
        let rowVisible = y >= limit.minY && y < limit.maxY
        for character in text {
            let width = displayWidth(of: character)
            if width == 0 { continue }
            if rowVisible && x < limit.maxX && x + width > limit.minX {
                write(Cell(character, style: style), x: x, y: y, limit: limit)
            }
            x += width
        }
        return x
    }

    /// Writes one character (see `put(text:at:style:clip:)`); returns the column after it.
    @discardableResult
    public mutating func put(_ character: Character, at point: Point, style: Style = .plain, clip: Rect? = nil) -> Int {
        put(text: String(character), at: point, style: style, clip: clip)
    }

    /// Sets one cell (a continuation cell cannot be set directly; wide cells get their
    /// continuation). Ignored outside the grid and `clip`.
    public mutating func set(_ cell: Cell, at point: Point, clip: Rect? = nil) {
        guard !cell.isContinuation else { return }
        let limit = clip.map { $0.intersection(bounds) } ?? bounds
        guard limit.contains(point) || (cell.width == 2 && limit.contains(point.offset(dx: 1))) else { return }
        write(cell, x: point.x, y: point.y, limit: limit)
    }

    /// Fills `rect` (clipped to the grid) with `cell`; a wide `cell` is replaced by a space in
    /// its style.
    public mutating func fill(_ rect: Rect, with cell: Cell = .blank) {
        let area = rect.intersection(bounds)
        guard !area.isEmpty else { return }
        let fill = cell.width == 1 ? cell : Cell.blank(cell.style)
        for y in area.minY..<area.maxY {
            breakWide(x: area.minX, y: y)
            breakWide(x: area.maxX - 1, y: y)
            for x in area.minX..<area.maxX {
                cells[y * size.width + x] = fill
            }
        }
    }

    /// Fills `rect` with spaces in `style`.
    public mutating func fill(_ rect: Rect, style: Style) {
        fill(rect, with: .blank(style))
    }

    /// Replaces every cell with a plain space.
    public mutating func clear(_ style: Style = .plain) {
        fill(bounds, style: style)
    }

    /// Restyles every cell in `rect` (e.g. to highlight a selection) without changing text.
    /// Both halves of a wide character get the new style, even if only one lies in `rect`.
    public mutating func restyle(_ rect: Rect, _ transform: (Style) -> Style) {
        let area = rect.intersection(bounds)
        guard !area.isEmpty else { return }
        for y in area.minY..<area.maxY {
            for x in area.minX..<area.maxX {
                let i = y * size.width + x
                cells[i].style = transform(cells[i].style)
            }
            // Keep both halves of a wide character styled alike at the rect's edges.
            let left = y * size.width + area.minX
            if cells[left].isContinuation, area.minX > 0 { cells[left - 1].style = cells[left].style }
            let right = y * size.width + area.maxX - 1
            if cells[right].width == 2, area.maxX < size.width { cells[right + 1].style = cells[right].style }
        }
    }

    /// A copy of the cells inside `rect` (clipped to the grid) as a new grid of that size.
    /// Wide characters cut by the rect's edges become spaces.
    public func subgrid(_ rect: Rect) -> Grid {
        let area = rect.intersection(bounds)
        var result = Grid(size: area.size)
        guard !area.isEmpty else { return result }
        for y in 0..<area.height {
            for x in 0..<area.width {
                let cell = self[area.minX + x, area.minY + y]
                if cell.isContinuation {
                    if x == 0 { result.cells[y * area.width] = .blank(cell.style) }
                    continue
                }
                result.write(cell, x: x, y: y, limit: result.bounds)
            }
        }
        return result
    }

    /// Copies `other` into this grid with its top-left at `at`, clipped to `clip` and the grid.
    public mutating func draw(_ other: Grid, at origin: Point, clip: Rect? = nil) {
        let limit = (clip ?? bounds).intersection(bounds).intersection(Rect(origin: origin, size: other.size))
        guard !limit.isEmpty else { return }
        for y in limit.minY..<limit.maxY {
            for x in limit.minX..<limit.maxX {
                let cell = other[x - origin.x, y - origin.y]
                if cell.isContinuation {
                    if x == limit.minX { write(.blank(cell.style), x: x, y: y, limit: limit) }
                    continue
                }
                write(cell, x: x, y: y, limit: limit)
            }
        }
    }

    /// Changes the size, keeping the overlapping top-left content; new cells are blank.
    public mutating func resize(to newSize: Size) {
        var result = Grid(size: newSize)
        result.draw(self, at: .zero)
        self = result
    }

    // MARK: internals

    /// Stores `cell` at (x, y) inside `limit` (already intersected with the grid), keeping the
    /// wide-character invariants.
    mutating func write(_ cell: Cell, x: Int, y: Int, limit: Rect) {
        if cell.width == 2 {
            guard x >= limit.minX, x + 1 < limit.maxX else {
                // Cut by the clip edge: show a space in whichever column is visible.
                let visible = x >= limit.minX ? x : x + 1
                if visible >= limit.minX && visible < limit.maxX {
                    store(.blank(cell.style), x: visible, y: y)
                }
                return
            }
            store(cell, x: x, y: y)
            breakWide(x: x + 1, y: y)
            cells[y * size.width + x + 1] = .continuation(cell.style)
        } else {
            store(cell, x: x, y: y)
        }
    }

    /// Stores a width-1 or wide-lead cell at (x, y), first blanking any wide character it
    /// partly overwrites.
    private mutating func store(_ cell: Cell, x: Int, y: Int) {
        breakWide(x: x, y: y)
        cells[y * size.width + x] = cell
    }

    /// If (x, y) is half of a wide character, turns both halves into spaces of its style.
    private mutating func breakWide(x: Int, y: Int) {
        guard x >= 0, x < size.width, y >= 0, y < size.height else { return }
        let i = y * size.width + x
        let cell = cells[i]
        if cell.isContinuation {
            cells[i] = .blank(cell.style)
            if x > 0 { cells[i - 1] = .blank(cells[i - 1].style) }
        } else if cell.width == 2 {
            cells[i] = .blank(cell.style)
            if x + 1 < size.width { cells[i + 1] = .blank(cells[i + 1].style) }
        }
    }
}
