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

    /// The curses colour number for a colour; -1 for the default colour. Direct-colour
    /// terminals (more than 256 colours, e.g. `xterm-direct`) number colours 0…7 as the ANSI
    /// ones and everything else as packed 0xRRGGBB.
    func colorNumber(_ color: Color) -> Int32 {
        guard paletteSize > 256 else { return Int32(color.paletteIndex(forPaletteSize: paletteSize) ?? -1) }
        let rgb: (UInt8, UInt8, UInt8)
        switch color {
        case .default:
            return -1
        case .rgb(let r, let g, let b):
            rgb = (r, g, b)
        case .indexed(let n):
            if n < 8 { return Int32(n) }
            rgb = Color.rgb(ofPaletteIndex: n)
        default:
            let index = color.ansiIndex!
            if index < 8 { return Int32(index) }
            rgb = Color.rgb(ofPaletteIndex: UInt8(index))
        }
        let packed = Int32(rgb.0) << 16 | Int32(rgb.1) << 8 | Int32(rgb.2)
        return packed < 8 ? 8 : packed  // 0…7 would mean ANSI colours
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
        var fg = colorNumber(style.fg)
        var bg = colorNumber(style.bg)
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
