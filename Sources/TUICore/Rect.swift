/// A rectangle of cells: `origin` is the top-left cell, `size` the extent. A rect with a zero
/// or negative dimension is empty and contains nothing.
public struct Rect: Hashable, Sendable, CustomStringConvertible {
    public var origin: Point
    public var size: Size

    public init(origin: Point, size: Size) {
        self.origin = origin
        self.size = size
    }

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.init(origin: Point(x: x, y: y), size: Size(width: width, height: height))
    }

    public init(size: Size) {
        self.init(origin: .zero, size: size)
    }

    public static let zero = Rect(x: 0, y: 0, width: 0, height: 0)

    public var x: Int { origin.x }
    public var y: Int { origin.y }
    public var width: Int { size.width }
    public var height: Int { size.height }
    public var minX: Int { origin.x }
    public var minY: Int { origin.y }
    /// One past the last column.
    public var maxX: Int { origin.x + max(0, size.width) }
    /// One past the last row.
    public var maxY: Int { origin.y + max(0, size.height) }
    public var isEmpty: Bool { size.isEmpty }

    public func contains(_ p: Point) -> Bool {
        p.x >= minX && p.x < maxX && p.y >= minY && p.y < maxY
    }

    public func contains(_ other: Rect) -> Bool {
        other.isEmpty || (other.minX >= minX && other.maxX <= maxX && other.minY >= minY && other.maxY <= maxY)
    }

    /// The overlap of two rects; empty (with a zero size) when they do not overlap.
    public func intersection(_ other: Rect) -> Rect {
        let x0 = max(minX, other.minX), y0 = max(minY, other.minY)
        let x1 = min(maxX, other.maxX), y1 = min(maxY, other.maxY)
        guard x1 > x0, y1 > y0 else { return Rect(x: x0, y: y0, width: 0, height: 0) }
        return Rect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
    }

    public func intersects(_ other: Rect) -> Bool { !intersection(other).isEmpty }

    /// Shrinks every side by the given amounts (never below an empty size).
    public func inset(top: Int = 0, left: Int = 0, bottom: Int = 0, right: Int = 0) -> Rect {
        Rect(x: x + left, y: y + top,
             width: max(0, width - left - right), height: max(0, height - top - bottom))
    }

    public func inset(by n: Int) -> Rect { inset(top: n, left: n, bottom: n, right: n) }

    public func offset(dx: Int = 0, dy: Int = 0) -> Rect {
        Rect(origin: origin.offset(dx: dx, dy: dy), size: size)
    }

    /// Splits off the top `rows` rows (clamped): returns (top, rest).
    public func splitTop(_ rows: Int) -> (top: Rect, rest: Rect) {
        let n = min(max(0, rows), max(0, height))
        return (Rect(x: x, y: y, width: width, height: n), Rect(x: x, y: y + n, width: width, height: max(0, height) - n))
    }

    /// Splits off the bottom `rows` rows (clamped): returns (rest, bottom).
    public func splitBottom(_ rows: Int) -> (rest: Rect, bottom: Rect) {
        let n = min(max(0, rows), max(0, height))
        let restHeight = max(0, height) - n
        return (Rect(x: x, y: y, width: width, height: restHeight), Rect(x: x, y: y + restHeight, width: width, height: n))
    }

    /// Splits off the left `columns` columns (clamped): returns (left, rest).
    public func splitLeft(_ columns: Int) -> (left: Rect, rest: Rect) {
        let n = min(max(0, columns), max(0, width))
        return (Rect(x: x, y: y, width: n, height: height), Rect(x: x + n, y: y, width: max(0, width) - n, height: height))
    }

    /// Splits off the right `columns` columns (clamped): returns (rest, right).
    public func splitRight(_ columns: Int) -> (rest: Rect, right: Rect) {
        let n = min(max(0, columns), max(0, width))
        let restWidth = max(0, width) - n
        return (Rect(x: x, y: y, width: restWidth, height: height), Rect(x: x + restWidth, y: y, width: n, height: height))
    }

    public var description: String { "\(origin)+\(size)" }
}
