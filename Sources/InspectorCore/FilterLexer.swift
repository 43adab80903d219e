/// Splits filter text into tokens: parentheses, and words. A word runs until whitespace or a
/// parenthesis; double-quoted segments inside it (`"a b"`, `path:"/my dir"`) may contain anything,
/// with `\"` and `\\` as escapes.
struct FilterLexer {
    struct Token: Hashable {
        enum Kind: Hashable {
            case open, close
            /// A word; `quoted` when it began with a quote (`"free text"`, always free text), as opposed
            /// to a word with a quoted part (`path:"/my dir"`).
            case word(String, quoted: Bool)
        }
        var kind: Kind
        /// 1-based column (in characters) of the token's first character.
        var column: Int
        /// The token's text exactly as typed.
        var raw: String
    }

    static func tokens(_ text: String) throws(FilterError) -> [Token] {
        let chars = Array(text)
        var result: [Token] = []
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c.isWhitespace {
                i += 1
                continue
            }
            if c == "(" || c == ")" {
                result.append(Token(kind: c == "(" ? .open : .close, column: i + 1, raw: String(c)))
                i += 1
                continue
            }
            if isSymbolOperator(chars, at: i) {
                // `&&` and `||` need no spaces around them: `error||Twalk` is two terms, not free text.
                result.append(Token(kind: .word(String(chars[i...i + 1]), quoted: false), column: i + 1,
                                    raw: String(chars[i...i + 1])))
                i += 2
                continue
            }
            let start = i
            var word = ""
            var quoted = false
            while i < chars.count, !chars[i].isWhitespace, chars[i] != "(", chars[i] != ")",
                  !isSymbolOperator(chars, at: i) {
                if chars[i] == "\"" {
                    if i == start { quoted = true }
                    let quoteStart = i
                    i += 1
                    var closed = false
                    while i < chars.count {
                        if chars[i] == "\\", i + 1 < chars.count {
                            word.append(chars[i + 1])
                            i += 2
                            continue
                        }
                        if chars[i] == "\"" {
                            closed = true
                            i += 1
                            break
                        }
                        word.append(chars[i])
                        i += 1
                    }
                    if !closed { throw FilterError(column: quoteStart + 1, message: "unterminated quoted string") }
                    continue
                }
                word.append(chars[i])
                i += 1
            }
            result.append(Token(kind: .word(word, quoted: quoted), column: start + 1, raw: String(chars[start..<i])))
        }
        return result
    }

    /// Whether `&&` or `||` starts at `i`.
    private static func isSymbolOperator(_ chars: [Character], at i: Int) -> Bool {
        i + 1 < chars.count && (chars[i] == "&" || chars[i] == "|") && chars[i + 1] == chars[i]
    }
}

/// A filter that did not parse: where (1-based character column; the text's length + 1 for "at the
/// end") and what is wrong.
public struct FilterError: Error, Hashable, Sendable, CustomStringConvertible {
    public var column: Int
    public var message: String
    public init(column: Int, message: String) { self.column = column; self.message = message }
    public var description: String { "column \(column): \(message)" }
}
