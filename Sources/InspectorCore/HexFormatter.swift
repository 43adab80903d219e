/// Hex dumps with a highlighted byte range:
/// `0000  13 00 00 00 6e 03 00 01  00 00 00 02 00 00 00 02  ....n...........`
public enum HexFormatter {
    /// The widest dump that fits: 16, 8 or 4 bytes per line.
    public static func bytesPerLine(forWidth width: Int, count: Int = 0xFFFF) -> Int {
        for n in [16, 8, 4] where lineWidth(bytesPerLine: n, count: count) <= width { return n }
        return 4
    }

    /// Columns a dump line takes.
    public static func lineWidth(bytesPerLine n: Int, count: Int) -> Int {
        offsetDigits(count) + 2 + n * 3 + (n > 4 ? 1 : 0) + 1 + n
    }

    static func offsetDigits(_ count: Int) -> Int {
        var digits = 4
        var limit = 0x10000
        while count > limit {
            digits += 1
            limit *= 16
        }
        return digits
    }

    /// The line showing byte `offset`.
    public static func line(containing offset: Int, bytesPerLine n: Int) -> Int { max(0, offset) / max(1, n) }

    /// Number of lines of a dump.
    public static func lineCount(_ count: Int, bytesPerLine n: Int) -> Int { (count + n - 1) / max(1, n) }

    /// One dump line (`index` counts lines from 0).
    public static func line(_ index: Int, of bytes: [UInt8], bytesPerLine n: Int,
                            highlight: Range<Int>?) -> StyledLine {
        var out = StyledLine()
        let start = index * n
        let digits = offsetDigits(bytes.count)
        out.append(hex(start, digits: digits), .hexOffset)
        out.append("  ", .normal)
        func lit(_ i: Int) -> Bool { highlight?.contains(i) ?? false }
        for k in 0..<n {
            let i = start + k
            if k > 0 {
                let gap = k == n / 2 && n > 4 ? "  " : " "
                out.append(gap, lit(i - 1) && lit(i) && i < bytes.count ? .hexHighlight : .normal)
            }
            if i < bytes.count {
                out.append(hex(Int(bytes[i]), digits: 2), lit(i) ? .hexHighlight : .hexByte)
            } else {
                out.append("  ", .normal)
            }
        }
        out.append("  ", .normal)
        for k in 0..<n {
            let i = start + k
            guard i < bytes.count else { break }
            out.append(String(printable(bytes[i])), lit(i) ? .hexHighlight : .hexAscii)
        }
        return out
    }

    /// The whole dump.
    public static func lines(_ bytes: [UInt8], bytesPerLine n: Int = 16, highlight: Range<Int>? = nil) -> [StyledLine] {
        (0..<lineCount(bytes.count, bytesPerLine: n)).map { line($0, of: bytes, bytesPerLine: n, highlight: highlight) }
    }

    /// A byte as the dump's text column shows it: printable ASCII as itself, anything else as `.`.
    static func printable(_ b: UInt8) -> Character { b >= 0x20 && b < 0x7F ? Character(UnicodeScalar(b)) : "." }

    static func hex(_ v: Int, digits: Int) -> String {
        let s = String(v, radix: 16)
        return s.count >= digits ? s : String(repeating: "0", count: digits - s.count) + s
    }
}
