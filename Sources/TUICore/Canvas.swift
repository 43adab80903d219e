/// A clipped, translated view of a `Grid` for drawing one view: coordinates are relative to
/// `frame`'s origin and nothing lands outside `frame`. Obtain one with `Grid.withCanvas(_:_:)`.
public struct Canvas {
    /// The grid being drawn into (the whole grid, not just the frame).
    public fileprivate(set) var grid: Grid
    /// The area of `grid` this canvas draws into, already clipped to the grid.
    public let frame: Rect

    public init(grid: Grid, frame: Rect) {
        self.grid = grid
        self.frame = frame.intersection(grid.bounds)
    }

    public var size: Size { frame.size }
    public var width: Int { frame.width }
    public var height: Int { frame.height }
    /// The canvas's own coordinate space: origin (0,0), size `size`.
    public var bounds: Rect { Rect(size: frame.size) }

    /// Writes text at a canvas-relative point; returns the canvas-relative column after it.
    @discardableResult
    public mutating func put<S: StringProtocol>(text: S, at point: Point, style: Style = .plain, clip: Rect? = nil) -> Int {
        let limit = clip.map { $0.offset(dx: frame.x, dy: frame.y).intersection(frame) } ?? frame
        return grid.put(text: text, at: point + frame.origin, style: style, clip: limit) - frame.x
    }

    /// Fills a canvas-relative rect (clipped to the canvas).
    public mutating func fill(_ rect: Rect, with cell: Cell = .blank) {
        grid.fill(rect.offset(dx: frame.x, dy: frame.y).intersection(frame), with: cell)
    }

    public mutating func fill(_ rect: Rect, style: Style) {
        fill(rect, with: .blank(style))
    }

    /// Fills the whole canvas with spaces in `style`.
    public mutating func clear(_ style: Style = .plain) {
        fill(bounds, style: style)
    }

    /// Restyles a canvas-relative rect (clipped to the canvas).
    public mutating func restyle(_ rect: Rect, _ transform: (Style) -> Style) {
        grid.restyle(rect.offset(dx: frame.x, dy: frame.y).intersection(frame), transform)
    }

    /// The cell at a canvas-relative point (blank outside the canvas).
    public subscript(point: Point) -> Cell {
        bounds.contains(point) ? grid[point + frame.origin] : .blank
    }

    /// Draws into a canvas-relative sub-rect of this canvas.
    public mutating func withCanvas<R>(_ rect: Rect, _ body: (inout Canvas) throws -> R) rethrows -> R {
        var inner = Canvas(grid: grid, frame: rect.offset(dx: frame.x, dy: frame.y).intersection(frame))
        grid = Grid(size: .zero)  // hand the buffer over so the inner canvas owns it uniquely
        defer { grid = inner.grid }
        return try body(&inner)
    }
}

extension Grid {
    /// Runs `body` with a canvas limited to `rect` (grid coordinates) and keeps what it drew.
    /// The grid's storage is moved into the canvas and back, so nothing is copied.
    public mutating func withCanvas<R>(_ rect: Rect, _ body: (inout Canvas) throws -> R) rethrows -> R {
        var canvas = Canvas(grid: self, frame: rect)
        self = Grid(size: .zero)
        defer { self = canvas.grid }
        return try body(&canvas)
    }
}
