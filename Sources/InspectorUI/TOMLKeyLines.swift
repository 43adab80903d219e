import Foundation

/// Finds the line of a TOML document on which a key is written, for error messages about values that the
/// parser accepted but a reader rejects (TOMLKit's tables keep no source positions). Understands what theme
/// files use: `[table]` headers, `key = value` lines, dotted and quoted keys, inline tables (a key inside
/// one is found at its enclosing key's line) and `#` comments.
enum TOMLKeyLines {
    /// The 1-based line defining the dotted key `path` (`roles.list.pending`, `roles.normal.fg`): the line
    /// that names it whole, else the line naming its longest enclosing key (the role whose inline table
    /// holds a bad `fg`). `last`: the last such line rather than the first (a key given twice). Nil when no
    /// line names it or any key enclosing it.
    static func line(of path: String, in text: String, last: Bool = false) -> Int? {
        var header = ""
        var exact: Int?
        var enclosing: (line: Int, length: Int)?
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = index + 1
            let body = raw.drop(while: { $0 == " " || $0 == "\t" })
            let key: String
            if body.hasPrefix("[") {
                guard let parts = keyParts(body.drop(while: { $0 == "[" }), until: "]") else { continue }
                header = parts
                key = parts
            } else {
                guard let parts = keyParts(body, until: "="), !parts.isEmpty else { continue }
                key = header.isEmpty ? parts : header + "." + parts
            }
            if key == path {
                if exact == nil || last { exact = line }
            } else if path.hasPrefix(key + "."), enclosing.map({ key.count > $0.length || (last && key.count == $0.length) }) ?? true {
                enclosing = (line, key.count)
            }
        }
        return exact ?? enclosing?.line
    }

    /// The dotted key at the start of `text`, up to `end` outside quotes, its parts unquoted and trimmed and
    /// joined by dots; nil for a comment, a blank line or a line without `end`.
    private static func keyParts(_ text: Substring, until end: Character) -> String? {
        var parts: [String] = []
        var current = ""
        var quote: Character?
        for c in text {
            if let q = quote {
                if c == q { quote = nil } else { current.append(c) }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if c == "." || c == end {
                parts.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
                if c == end { return parts.joined(separator: ".") }
            } else if c == "#" {
                return nil
            } else {
                current.append(c)
            }
        }
        return nil
    }
}
