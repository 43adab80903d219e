import CNCursesW
import TUICore

/// Curses attributes and colour pairs for `Style`s: pairs are allocated on first use and
/// cached by (foreground, background) palette entry.
struct ColorPairs {
    let paletteSize: Int
    let maxPairs: Int
    let defaultColors: Bool
    private var pairs: [PairKey: Int32] = [:]
    private var nextPair: Int32 = 1

    struct PairKey: Hashable {
        let fg: Int32
        let bg: Int32
    }

    init(paletteSize: Int, maxPairs: Int, defaultColors: Bool) {
        self.paletteSize = paletteSize
        self.maxPairs = maxPairs
        self.defaultColors = defaultColors
    }

    /// The curses attributes and pair number for a style. With no colours (or no pair left),
    /// the pair is 0: the terminal's default colours.
    mutating func resolve(_ style: Style) -> (attr_t, Int32) {
        var attributes = ns_a_normal()
        let attrs = style.attrs
        if attrs.contains(.bold) { attributes |= ns_a_bold() }
        if attrs.contains(.dim) { attributes |= ns_a_dim() }
        if attrs.contains(.underline) { attributes |= ns_a_underline() }
        if attrs.contains(.reverse) { attributes |= ns_a_reverse() }
        if attrs.contains(.italic) { attributes |= ns_a_italic() }
        if attrs.contains(.blink) { attributes |= ns_a_blink() }
        guard paletteSize > 0 else { return (attributes, 0) }
        var fg = Int32(style.fg.paletteIndex(forPaletteSize: paletteSize) ?? -1)
        var bg = Int32(style.bg.paletteIndex(forPaletteSize: paletteSize) ?? -1)
        if fg == -1 && bg == -1 { return (attributes, 0) }
        if !defaultColors {
            // Without use_default_colors, -1 is not allowed: assume white on black.
            if fg == -1 { fg = 7 }
            if bg == -1 { bg = 0 }
        }
        let key = PairKey(fg: fg, bg: bg)
        if let pair = pairs[key] { return (attributes, pair) }
        guard Int(nextPair) < maxPairs, init_extended_pair(nextPair, fg, bg) == OK else {
            return (attributes, 0)
        }
        pairs[key] = nextPair
        nextPair += 1
        return (attributes, pairs[key]!)
    }
}
