/// A size in cells: `width` columns by `height` rows.
public struct Size: Hashable, Sendable, CustomStringConvertible {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    public static let zero = Size(width: 0, height: 0)

    /// True when either dimension is zero or negative.
    public var isEmpty: Bool { width <= 0 || height <= 0 }

    public var area: Int { isEmpty ? 0 : width * height }

    public var description: String { "\(width)x\(height)" }
}
