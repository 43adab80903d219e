/// One word of a REPL line after quoting and escapes are resolved.
///
/// The grammar is shell-like: words are separated by blanks; `"…"` and `'…'` quote (both accept the
/// escapes below); a backslash escapes outside quotes too. Escapes: `\\ \" \' \n \t \r \0 \xHH \ ` (space).
/// `\xHH` yields one raw byte, so strings need not be valid UTF-8. A `#` at the start of a word
/// begins a comment that runs to the end of the line.
///
/// Every byte remembers whether it was quoted and the 1-based column (in `Character`s) it came
/// from, so the grammar can split on unquoted `=`, `,` and `|` and report errors at a column.
public struct Token: Hashable, Sendable {
    public struct Unit: Hashable, Sendable {
        public var byte: UInt8
        public var quoted: Bool
        public var column: Int
    }

    public var units: [Unit]
    /// 1-based column of the word's first character.
    public var column: Int
    /// 1-based column just past the word's last character.
    public var endColumn: Int

    public init(units: [Unit], column: Int, endColumn: Int) {
        self.units = units; self.column = column; self.endColumn = endColumn
    }

    public var bytes: [UInt8] { units.map(\.byte) }
    /// The word as text (invalid UTF-8 is replaced; use `bytes` for exact contents).
    public var text: String { String(decoding: bytes, as: UTF8.self) }
    /// Whether any part of the word was quoted or escaped.
    public var hasQuoting: Bool { units.contains { $0.quoted } }

    /// Index of the first unquoted occurrence of `byte`.
    func firstUnquoted(_ byte: UInt8) -> Int? { units.firstIndex { !$0.quoted && $0.byte == byte } }

    /// Splits at every unquoted `separator`; each piece keeps its columns.
    func split(onUnquoted separator: UInt8) -> [Token] {
        var pieces: [Token] = []
        var current: [Unit] = []
        var startColumn = column
        for u in units {
            if !u.quoted && u.byte == separator {
                pieces.append(Token(units: current, column: startColumn, endColumn: u.column))
                current = []
                startColumn = u.column + 1
            } else {
                current.append(u)
            }
        }
        pieces.append(Token(units: current, column: startColumn, endColumn: endColumn))
        return pieces
    }

    /// The part after index `i` (exclusive), with its columns.
    func suffix(after i: Int) -> Token {
        let rest = Array(units[(i + 1)...])
        return Token(units: rest, column: rest.first?.column ?? (units[i].column + 1), endColumn: endColumn)
    }
    func prefix(upTo i: Int) -> Token {
        Token(units: Array(units[..<i]), column: column, endColumn: units[i].column)
    }
}

/// Splits a line into tokens.
public enum Tokenizer {
    public static func tokenize(_ line: String) throws(ParseError) -> [Token] {
        var tokens: [Token] = []
        let chars = Array(line)
        var i = 0
        var units: [Token.Unit] = []
        var inToken = false
        var start = 1
        func flush(at column: Int) {
            if inToken { tokens.append(Token(units: units, column: start, endColumn: column)) }
            units = []; inToken = false
        }
        func append(_ c: Character, quoted: Bool, column: Int) {
            for b in String(c).utf8 { units.append(.init(byte: b, quoted: quoted, column: column)) }
        }
        while i < chars.count {
            let c = chars[i]
            let column = i + 1
            if c == " " || c == "\t" || c == "\n" || c == "\r" {
                flush(at: column); i += 1; continue
            }
            if !inToken && c == "#" { break }
            if !inToken { inToken = true; start = column }
            if c == "\"" || c == "'" {
                let quote = c
                i += 1
                var closed = false
                while i < chars.count {
                    let q = chars[i]
                    if q == quote { closed = true; i += 1; break }
                    if q == "\\" {
                        let (consumed, bytes) = try escape(chars, at: i)
                        for b in bytes { units.append(.init(byte: b, quoted: true, column: i + 1)) }
                        i += consumed
                        continue
                    }
                    append(q, quoted: true, column: i + 1)
                    i += 1
                }
                if !closed {
                    throw ParseError(column: column, expected: "closing \(quote)", found: "end of line",
                                     message: "unterminated quoted string")
                }
                // An empty quoted string still makes a (possibly empty) token.
                continue
            }
            if c == "\\" {
                let (consumed, bytes) = try escape(chars, at: i)
                for b in bytes { units.append(.init(byte: b, quoted: true, column: column)) }
                i += consumed
                continue
            }
            append(c, quoted: false, column: column)
            i += 1
        }
        flush(at: chars.count + 1)
        return tokens
    }

    /// `bytes` written as one word that `tokenize` reads back as exactly those bytes: blanks, quotes,
    /// backslashes and the grammar's separators (`=` `,` `|` `#`) escaped with a backslash, control bytes as
    /// `\n` `\t` `\r` `\0` or `\xHH`, bytes that are not UTF-8 as `\xHH`; other text as it is. Tab completion
    /// offers remote names this way (`sp\ ace`, `bad\xff\xfe`).
    public static func escapedWord(_ bytes: [UInt8]) -> String {
        var out = ""
        var i = 0
        // The line is read by characters, so what would join its neighbour into one character is written as
        // bytes: after `\n` `\t` `\r` `\0` `\xHH`, a combining mark (it would join the escape's letter or
        // digit); anywhere, a prepended mark such as U+0600 (it would join what follows, a backslash too).
        var afterLetterEscape = false
        func hex(_ b: UInt8) { out += "\\x" + (b < 16 ? "0" : "") + String(b, radix: 16); afterLetterEscape = true }
        while i < bytes.count {
            let b = bytes[i]
            if b < 0x80 {
                afterLetterEscape = false
                switch b {
                case 0x0A: out += "\\n"; afterLetterEscape = true
                case 0x09: out += "\\t"; afterLetterEscape = true
                case 0x0D: out += "\\r"; afterLetterEscape = true
                case 0x00: out += "\\0"; afterLetterEscape = true
                case 0x20, 0x22, 0x27, 0x5C, 0x3D, 0x2C, 0x7C, 0x23: out += "\\" + String(UnicodeScalar(b))
                case 0x01..<0x20, 0x7F: hex(b)
                default: out.unicodeScalars.append(UnicodeScalar(b))
                }
                i += 1
                continue
            }
            let length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
            if length > 1, i + length <= bytes.count,
               let s = String(validating: bytes[i..<(i + length)], as: UTF8.self),
               !s.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }),
               !(afterLetterEscape && ("x" + s).count == 1), (s + "x").count == 2 {
                out += s
                afterLetterEscape = false
                i += length
            } else {
                hex(b)
                i += 1
            }
        }
        return out
    }

    /// The words of a partly typed line as typed (quotes and escapes kept), split where `tokenize` splits:
    /// at blanks outside quotes and not escaped. The last word is empty when the line ends in a blank.
    public static func typedWords(_ line: String) -> [String] {
        var words: [String] = []
        var current = ""
        var quote: Character?
        var escaped = false
        var inWord = false
        for c in line {
            if escaped { current.append(c); escaped = false; continue }
            if c == "\\" { current.append(c); escaped = true; inWord = true; continue }
            if let q = quote {
                current.append(c)
                if c == q { quote = nil }
                continue
            }
            if c == " " || c == "\t" {
                if inWord { words.append(current); current = ""; inWord = false }
                continue
            }
            if c == "\"" || c == "'" { quote = c }
            current.append(c)
            inWord = true
        }
        words.append(current)
        return words
    }

    /// The bytes a word typed in part means (`sp\ ace` → `sp ace`, `"/my dir` → `/my dir`): its quotes and
    /// escapes resolved, an open quote or a dangling backslash at its end left out.
    public static func typedBytes(_ word: String) -> [UInt8] {
        let dangling = word.reversed().prefix(while: { $0 == "\\" }).count % 2 == 1
        for candidate in dangling ? [String(word.dropLast())] : [word, word + "\"", word + "'"] {
            if let tokens = try? tokenize(candidate), tokens.count <= 1 { return tokens.first?.bytes ?? [] }
        }
        return Array(word.utf8)
    }

    /// Decodes the escape at `chars[i]` (a backslash): returns how many characters it used and its bytes.
    static func escape(_ chars: [Character], at i: Int) throws(ParseError) -> (Int, [UInt8]) {
        guard i + 1 < chars.count else {
            throw ParseError(column: i + 1, expected: "an escaped character", found: "end of line",
                             message: "dangling backslash")
        }
        switch chars[i + 1] {
        case "n": return (2, [0x0A])
        case "t": return (2, [0x09])
        case "r": return (2, [0x0D])
        case "0": return (2, [0x00])
        case "x":
            guard i + 3 < chars.count, let hi = chars[i + 2].hexDigitValue, let lo = chars[i + 3].hexDigitValue else {
                throw ParseError(column: i + 1, expected: "two hex digits after \\x",
                                 found: String(chars[(i + 1)..<min(chars.count, i + 4)]), message: "bad \\x escape")
            }
            return (4, [UInt8(hi * 16 + lo)])
        default:
            return (2, Array(String(chars[i + 1]).utf8))
        }
    }
}

/// A line that does not parse: where (1-based column), what was expected and what was found.
public struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
    public var column: Int
    public var expected: String
    public var found: String?
    public var message: String
    /// Said after the rest: `did you mean walk?`.
    public var hint: String

    public init(column: Int, expected: String, found: String? = nil, message: String = "", hint: String = "") {
        self.column = column; self.expected = expected; self.found = found; self.message = message; self.hint = hint
    }

    public var description: String { "column \(column): " + detail }

    /// The error without its column: `unknown command: expected …, found '…'; did you mean …?`.
    public var detail: String {
        var s = message.isEmpty ? "" : message + ": "
        s += "expected \(expected)"
        if let found { s += ", found '\(found)'" }
        if !hint.isEmpty { s += "; " + hint }
        return s
    }

    /// The line with a caret under the offending column, for interactive display.
    public func caret(under line: String) -> String {
        String(repeating: " ", count: max(0, column - 1)) + "^"
    }
}
