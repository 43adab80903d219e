/// One terminal cell: a grapheme cluster, its style and its display width.
///
/// A wide character (East Asian Wide, emoji) occupies two columns: the left cell holds the
/// character with `width == 2` and the right one is a *continuation* cell (`width == 0`,
/// character `" "`, same style) that backends do not draw.
public struct Cell: Hashable, Sendable {
    public private(set) var character: Character
    public var style: Style
    private var storedWidth: UInt8

    /// Columns taken by this cell's character: 1 or 2, or 0 for a continuation cell.
    public var width: Int { Int(storedWidth) }

    public var isContinuation: Bool { storedWidth == 0 }

    /// A cell showing `character`. Controls become U+FFFD (callers should escape them first);
    /// zero-width characters become U+FFFD too, since a cell must advance the cursor.
    public init(_ character: Character, style: Style = .plain) {
        var shown = character
        var width = displayWidth(of: character)
        if let first = character.unicodeScalars.first, isControl(first) || width == 0 {
            shown = "\u{FFFD}"
            width = 1
        }
        self.character = shown
        self.style = style
        self.storedWidth = UInt8(width)
    }

    private init(continuationWith style: Style) {
        self.character = " "
        self.style = style
        self.storedWidth = 0
    }

    /// A space in the plain style.
    public static let blank = Cell(" ")

    /// A space in `style`.
    public static func blank(_ style: Style) -> Cell { Cell(" ", style: style) }

    /// The right half of a wide character drawn in `style`.
    public static func continuation(_ style: Style) -> Cell { Cell(continuationWith: style) }
}
