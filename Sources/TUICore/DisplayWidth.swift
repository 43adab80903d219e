/// Terminal column widths of Unicode text (a compact, table-based `wcwidth`).
///
/// Rules for one scalar, in order:
/// - NUL is 0; other C0 controls, DEL and C1 controls are -1 (not printable);
/// - combining and enclosing marks (Mn, Me), format characters (Cf, except the soft hyphen),
///   and Hangul medial vowels / final consonants are 0;
/// - East Asian Wide and Fullwidth characters and emoji with emoji presentation are 2;
/// - everything else is 1.
///
/// A `Character` (grapheme cluster) takes the width of its first non-zero-width scalar, except
/// that an emoji presentation selector (U+FE0F) or a regional-indicator pair (a flag) makes it 2.
/// Controls count as 1 column for a `Character` because `Grid` shows them as U+FFFD; callers
/// that want readable output escape them first.
public func displayWidth(of scalar: Unicode.Scalar) -> Int {
    DisplayWidthTable.width(of: scalar)
}

/// The number of columns a grapheme cluster occupies: 0, 1 or 2 (see `displayWidth(of:)` for
/// scalars for the rules).
public func displayWidth(of character: Character) -> Int {
    DisplayWidthTable.width(of: character)
}

/// The number of columns `text` occupies when written into a `Grid`: the sum of its characters'
/// widths.
public func displayWidth<S: StringProtocol>(of text: S) -> Int {
    var total = 0
    for character in text {
        total += DisplayWidthTable.width(of: character)
    }
    return total
}

/// True for C0 controls, DEL and C1 controls: characters a terminal must never receive raw.
public func isControl(_ scalar: Unicode.Scalar) -> Bool {
    scalar.value < 0x20 || (scalar.value >= 0x7F && scalar.value < 0xA0)
}

enum DisplayWidthTable {
    static func width(of scalar: Unicode.Scalar) -> Int {
        let v = scalar.value
        if v < 0x7F {
            if v >= 0x20 { return 1 }
            return v == 0 ? 0 : -1
        }
        if v < 0xA0 { return -1 }
        if isZeroWidth(scalar) { return 0 }
        if isWide(v) { return 2 }
        return 1
    }

    static func width(of character: Character) -> Int {
        let scalars = character.unicodeScalars
        guard let first = scalars.first else { return 0 }
        if first.value < 0x80, scalars.count == 1 {
            return first.value >= 0x20 && first.value < 0x7F ? 1 : (first.value == 0 ? 0 : 1)
        }
        if isControl(first) { return 1 }
        var base = 0
        var regionalIndicators = 0
        for scalar in scalars {
            if scalar.value == 0xFE0F { return 2 }
            if (0x1F1E6...0x1F1FF).contains(scalar.value) { regionalIndicators += 1 }
            if base == 0 {
                let w = width(of: scalar)
                if w > 0 { base = w }
            }
        }
        if regionalIndicators >= 2 { return 2 }
        return base
    }

    static func isZeroWidth(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        if v == 0x00AD { return false }  // soft hyphen is shown
        if (0x1160...0x11FF).contains(v) || (0xD7B0...0xD7FF).contains(v) { return true }
        if v == 0x200B { return true }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format:
            return true
        default:
            return false
        }
    }

    static func isWide(_ v: UInt32) -> Bool {
        if v < 0x1100 { return false }
        var low = 0, high = wideRanges.count - 1
        while low <= high {
            let mid = (low + high) / 2
            let range = wideRanges[mid]
            if v < range.lower {
                high = mid - 1
            } else if v > range.upper {
                low = mid + 1
            } else {
                return true
            }
        }
        return false
    }
}
