/// The pure part of tab completion, shared by every `LineEditor` and unit-testable without a
/// terminal. Offsets are `Character` offsets into the line.
public enum LineCompletion {
    /// What pressing tab does to a line.
    public struct Result: Hashable, Sendable {
        public enum Kind: Hashable, Sendable {
            /// No candidate extends the word: nothing changes (an editor beeps).
            case none
            /// One candidate: the word was replaced by it (plus a space, see `complete`).
            case unique
            /// Several candidates sharing a longer prefix: the word was extended to it.
            case commonPrefix
            /// Several candidates and no progress possible: `candidates` should be listed.
            case ambiguous
        }

        public var kind: Kind
        /// The line after completion.
        public var line: String
        /// The cursor after completion.
        public var cursor: Int
        /// The matching candidates (deduplicated, in the completer's order).
        public var candidates: [String]
        /// The word (before the cursor) that was completed.
        public var word: String
        /// The text that replaced `word`.
        public var replacement: String
    }

    /// The offset where the word ending at `cursor` starts: just after the last break character before
    /// the cursor that is neither escaped by a backslash nor inside quotes (`cat /my\ dir/f`, `"/a b`: the
    /// REPL's words), or 0.
    public static func wordStart(in line: String, cursor: Int, breaks: Set<Character> = defaultBreaks) -> Int {
        let chars = Array(line)
        let end = min(max(0, cursor), chars.count)
        var start = 0
        var quote: Character?
        var i = 0
        while i < end {
            let c = chars[i]
            if c == "\\" {
                i += 2   // the next character is escaped (inside quotes too)
                continue
            }
            if let q = quote {
                if c == q { quote = nil }
            } else if breaks.contains(c) {
                start = i + 1
            } else if c == "\"" || c == "'" {
                quote = c
            }
            i += 1
        }
        return start
    }

    /// Whitespace: space, tab, newline.
    public static let defaultBreaks: Set<Character> = [" ", "\t", "\n"]

    /// The longest common prefix of `strings` (by `Character`); "" for no strings.
    public static func commonPrefix<S: Collection>(of strings: S) -> String where S.Element == String {
        guard var prefix = strings.first.map(Array.init) else { return "" }
        for string in strings.dropFirst() {
            var n = 0
            for (a, b) in zip(prefix, string) {
                guard a == b else { break }
                n += 1
            }
            prefix.removeSubrange(n...)
            if prefix.isEmpty { break }
        }
        return String(prefix)
    }

    /// Completes the word before `cursor` from `candidates`.
    ///
    /// Candidates not starting with the word are ignored. One match replaces the word and,
    /// when `appendSpace` is set and the match does not end in a break character, `/` or
    /// `=`, adds a space. Several matches extend the word to their common prefix if that is
    /// longer than the word (`.commonPrefix`), otherwise the result is `.ambiguous` and the
    /// editor should list `candidates`.
    public static func complete(line: String, cursor: Int, candidates: [String],
                                breaks: Set<Character> = defaultBreaks, appendSpace: Bool = true) -> Result {
        let chars = Array(line)
        let cursor = min(max(0, cursor), chars.count)
        let start = wordStart(in: line, cursor: cursor, breaks: breaks)
        let word = String(chars[start..<cursor])
        var seen: Set<String> = []
        let matches = candidates.filter { $0.hasPrefix(word) && seen.insert($0).inserted }

        func replacing(with text: String, kind: Result.Kind) -> Result {
            let newLine = String(chars[..<start]) + text + String(chars[cursor...])
            return Result(kind: kind, line: newLine, cursor: start + text.count,
                          candidates: matches, word: word, replacement: text)
        }

        switch matches.count {
        case 0:
            return Result(kind: .none, line: line, cursor: cursor, candidates: [], word: word, replacement: word)
        case 1:
            var text = matches[0]
            let following = cursor < chars.count ? chars[cursor] : nil
            if appendSpace, let last = text.last, !breaks.contains(last), last != "/", last != "=",
               following.map({ !breaks.contains($0) }) ?? true {
                text += " "
            }
            return replacing(with: text, kind: .unique)
        default:
            let prefix = commonPrefix(of: matches)
            if prefix.count > word.count {
                return replacing(with: prefix, kind: .commonPrefix)
            }
            return Result(kind: .ambiguous, line: line, cursor: cursor, candidates: matches, word: word, replacement: word)
        }
    }

    /// Lays candidates out in columns (filled down, then across) no wider than `width`, each
    /// column padded to its widest entry plus two spaces. One candidate per line when even two
    /// columns do not fit.
    public static func columns(_ candidates: [String], width: Int) -> [String] {
        guard !candidates.isEmpty else { return [] }
        let widest = candidates.map { displayWidth(of: $0) }.max() ?? 0
        let columnWidth = widest + 2
        let columnCount = max(1, min(candidates.count, (max(width, 0) + 2) / columnWidth))
        let rowCount = (candidates.count + columnCount - 1) / columnCount
        return (0..<rowCount).map { row in
            var line = ""
            for column in 0..<columnCount {
                let index = column * rowCount + row
                guard index < candidates.count else { break }
                let entry = candidates[index]
                let isLast = column == columnCount - 1 || (column + 1) * rowCount + row >= candidates.count
                line += isLast ? entry : entry.padded(toDisplayWidth: columnWidth)
            }
            return line
        }
    }
}
