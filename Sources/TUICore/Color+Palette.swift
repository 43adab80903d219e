/// Mapping colours onto what a terminal can show: 8, 16 or 256 palette entries.
extension Color {
    /// The xterm default RGB values of the 16 ANSI colours (index 0…15).
    static let ansiRGB: [(UInt8, UInt8, UInt8)] = [
        (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0),
        (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
        (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0),
        (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
    ]

    /// The six channel levels of the xterm 6×6×6 colour cube (indices 16…231).
    static let cubeLevels: [Int] = [0, 95, 135, 175, 215, 255]

    /// The RGB value xterm shows for a palette index.
    public static func rgb(ofPaletteIndex index: UInt8) -> (UInt8, UInt8, UInt8) {
        let i = Int(index)
        if i < 16 { return ansiRGB[i] }
        if i < 232 {
            let c = i - 16
            return (UInt8(cubeLevels[c / 36]), UInt8(cubeLevels[(c / 6) % 6]), UInt8(cubeLevels[c % 6]))
        }
        let grey = UInt8(8 + (i - 232) * 10)
        return (grey, grey, grey)
    }

    /// The xterm-256 index nearest to an RGB value (cube or grey ramp, whichever is closer).
    public static func nearestPaletteIndex(r: UInt8, g: UInt8, b: UInt8) -> UInt8 {
        func level(_ v: UInt8) -> Int {
            // Index of the nearest cube level.
            var best = 0
            for (k, l) in cubeLevels.enumerated() where abs(l - Int(v)) < abs(cubeLevels[best] - Int(v)) {
                best = k
            }
            return best
        }
        let (lr, lg, lb) = (level(r), level(g), level(b))
        let cube = UInt8(16 + 36 * lr + 6 * lg + lb)
        let average = (Int(r) + Int(g) + Int(b)) / 3
        let greyStep = min(23, max(0, (average - 8 + 5) / 10))
        let grey = UInt8(232 + greyStep)
        return distance(rgb(ofPaletteIndex: grey), (r, g, b)) < distance(rgb(ofPaletteIndex: cube), (r, g, b))
            ? grey : cube
    }

    /// The ANSI index (0…15, or 0…7 when `count` is 8) nearest to an RGB value.
    static func nearestANSIIndex(_ value: (UInt8, UInt8, UInt8), count: Int) -> Int {
        var best = 0
        var bestDistance = Int.max
        for i in 0..<min(count, 16) {
            let d = distance(ansiRGB[i], value)
            if d < bestDistance {
                best = i
                bestDistance = d
            }
        }
        return best
    }

    static func distance(_ a: (UInt8, UInt8, UInt8), _ b: (UInt8, UInt8, UInt8)) -> Int {
        let dr = Int(a.0) - Int(b.0), dg = Int(a.1) - Int(b.1), db = Int(a.2) - Int(b.2)
        return dr * dr + dg * dg + db * db
    }

    /// The palette entry to use on a terminal with `paletteSize` colours (typically 8, 16 or
    /// 256); nil means "the terminal's default colour". A palette of 0 or less (no colour
    /// support) gives nil for everything.
    ///
    /// ANSI colours map to themselves (bright ones fold onto 0…7 on an 8-colour terminal);
    /// palette indices and RGB values map to the nearest colour the terminal has.
    public func paletteIndex(forPaletteSize paletteSize: Int) -> Int? {
        guard paletteSize > 0 else { return nil }
        let basic = paletteSize >= 16 ? 16 : 8
        switch self {
        case .default:
            return nil
        case .indexed(let n):
            if Int(n) < paletteSize { return Int(n) }
            if n < 16 { return Int(n) % 8 }
            return Color.nearestANSIIndex(Color.rgb(ofPaletteIndex: n), count: basic)
        case .rgb(let r, let g, let b):
            if paletteSize >= 256 { return Int(Color.nearestPaletteIndex(r: r, g: g, b: b)) }
            return Color.nearestANSIIndex((r, g, b), count: basic)
        default:
            let i = ansiIndex!
            return i < paletteSize ? i : i % 8
        }
    }
}
