/// Width-aware fitting of text into columns.
extension StringProtocol {
    /// The columns this text occupies in a `Grid` (see `displayWidth(of:)`).
    public var displayWidth: Int { TUICore.displayWidth(of: self) }

    /// The longest prefix that fits in `width` columns; when the text had to be cut and
    /// `ellipsis` is not empty, the prefix ends with it (still within `width`).
    public func truncated(toDisplayWidth width: Int, ellipsis: String = "…") -> String {
        guard width > 0 else { return "" }
        if TUICore.displayWidth(of: self) <= width { return String(self) }
        let budget = width - TUICore.displayWidth(of: ellipsis)
        guard budget >= 0 else { return String(self).truncated(toDisplayWidth: width, ellipsis: "") }
        var result = ""
        var used = 0
        for character in self {
            let w = TUICore.displayWidth(of: character)
            if used + w > budget { break }
            result.append(character)
            used += w
        }
        return result + ellipsis
    }

    /// The text cut to `width` columns (no ellipsis) and padded with spaces to exactly `width`.
    public func padded(toDisplayWidth width: Int) -> String {
        let cut = truncated(toDisplayWidth: width, ellipsis: "")
        return cut + String(repeating: " ", count: Swift.max(0, width - TUICore.displayWidth(of: cut)))
    }

    /// The text in lines of at most `width` columns, broken at blanks (the blank where a line breaks is
    /// dropped); a word wider than `width` is broken where it must. Always at least one line.
    public func wrapped(toDisplayWidth width: Int) -> [String] {
        guard width > 0 else { return [String(self)] }
        var lines: [String] = []
        var line = "", used = 0
        // Where `line` may break: the index after its last blank, and the columns up to that blank.
        var lastBlank: (index: String.Index, columns: Int)?
        for character in self {
            let w = TUICore.displayWidth(of: character)
            if used + w > width {
                if character == " " {
                    lines.append(line); line = ""; used = 0; lastBlank = nil
                    continue
                }
                if let b = lastBlank {
                    lines.append(String(line[..<line.index(before: b.index)]))
                    line = String(line[b.index...])
                    used -= b.columns + 1
                } else {
                    lines.append(line); line = ""; used = 0
                }
                lastBlank = nil
            }
            line.append(character)
            used += w
            if character == " " { lastBlank = (line.endIndex, used - 1) }
        }
        lines.append(line)
        return lines
    }

    /// Like `padded(toDisplayWidth:)` but pads on the left (right-aligned).
    public func leftPadded(toDisplayWidth width: Int) -> String {
        let cut = truncated(toDisplayWidth: width, ellipsis: "")
        return String(repeating: " ", count: Swift.max(0, width - TUICore.displayWidth(of: cut))) + cut
    }
}
