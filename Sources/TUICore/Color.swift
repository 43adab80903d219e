/// A terminal colour: the terminal's default, one of the 16 ANSI colours, an xterm-256 palette
/// index, or a 24-bit RGB value. Backends map what the terminal cannot show to the nearest colour
/// it can (see `paletteIndex(forPaletteSize:)`).
public enum Color: Hashable, Sendable {
    case `default`
    case black, red, green, yellow, blue, magenta, cyan, white
    case brightBlack, brightRed, brightGreen, brightYellow
    case brightBlue, brightMagenta, brightCyan, brightWhite
    /// An xterm-256 palette index (0–15 are the ANSI colours, 16–231 the 6×6×6 cube,
    /// 232–255 the grey ramp).
    case indexed(UInt8)
    case rgb(UInt8, UInt8, UInt8)

    /// The 16 ANSI colours in palette order (index 0 … 15).
    public static let ansi: [Color] = [
        .black, .red, .green, .yellow, .blue, .magenta, .cyan, .white,
        .brightBlack, .brightRed, .brightGreen, .brightYellow,
        .brightBlue, .brightMagenta, .brightCyan, .brightWhite,
    ]

    /// Names used by `description` and `init?(_:)`, in palette order.
    static let ansiNames: [String] = [
        "black", "red", "green", "yellow", "blue", "magenta", "cyan", "white",
        "bright-black", "bright-red", "bright-green", "bright-yellow",
        "bright-blue", "bright-magenta", "bright-cyan", "bright-white",
    ]

    /// The ANSI colour with palette index `index` (0…15); nil outside that range.
    public init?(ansi index: Int) {
        guard Color.ansi.indices.contains(index) else { return nil }
        self = Color.ansi[index]
    }

    /// The palette index 0…15 when this is one of the 16 named ANSI colours, else nil.
    public var ansiIndex: Int? {
        switch self {
        case .default, .indexed, .rgb: return nil
        case .black: return 0
        case .red: return 1
        case .green: return 2
        case .yellow: return 3
        case .blue: return 4
        case .magenta: return 5
        case .cyan: return 6
        case .white: return 7
        case .brightBlack: return 8
        case .brightRed: return 9
        case .brightGreen: return 10
        case .brightYellow: return 11
        case .brightBlue: return 12
        case .brightMagenta: return 13
        case .brightCyan: return 14
        case .brightWhite: return 15
        }
    }
}

extension Color: LosslessStringConvertible {
    /// Parses a colour as written in themes: `default`, an ANSI name (`red`, `bright-red`,
    /// `brightred`, `bright_red`, `grey`/`gray` = bright-black), `colorN`/`colourN`/`N` for a
    /// palette index 0…255, or `#rrggbb` / `#rgb`. Case-insensitive.
    public init?(_ description: String) {
        let text = description.lowercased().filter { $0 != " " }
        if text == "default" || text == "none" {
            self = .default
            return
        }
        if text == "grey" || text == "gray" {
            self = .brightBlack
            return
        }
        let folded = text.replacing("_", with: "-")
        if let index = Color.ansiNames.firstIndex(of: folded)
            ?? Color.ansiNames.firstIndex(of: folded.replacing("bright", with: "bright-")) {
            self = Color.ansi[index]
            return
        }
        if text.hasPrefix("#") {
            guard let rgb = Color.parseHex(text.dropFirst()) else { return nil }
            self = rgb
            return
        }
        var digits = Substring(text)
        for prefix in ["colour", "color"] where digits.hasPrefix(prefix) {
            digits = digits.dropFirst(prefix.count)
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let n = Int(digits), (0...255).contains(n) else {
            return nil
        }
        self = .indexed(UInt8(n))
    }

    private static func parseHex(_ hex: Substring) -> Color? {
        guard hex.allSatisfy(\.isHexDigit), hex.allSatisfy(\.isASCII) else { return nil }
        let values = hex.compactMap { $0.hexDigitValue }
        switch values.count {
        case 3:
            let c = values.map { UInt8($0 * 17) }
            return .rgb(c[0], c[1], c[2])
        case 6:
            return .rgb(UInt8(values[0] * 16 + values[1]), UInt8(values[2] * 16 + values[3]),
                        UInt8(values[4] * 16 + values[5]))
        default:
            return nil
        }
    }

    /// The canonical spelling accepted by `init?(_:)`: `default`, `bright-red`, `color123`, `#ff8800`.
    public var description: String {
        switch self {
        case .default: return "default"
        case .indexed(let n): return "color\(n)"
        case .rgb(let r, let g, let b): return "#" + [r, g, b].map(Color.hexByte).joined()
        default: return Color.ansiNames[ansiIndex!]
        }
    }

    private static func hexByte(_ v: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(v >> 4)], digits[Int(v & 15)]])
    }
}
