import NinePSession
import NinePWire

/// Parses the filter language.
///
/// ```
/// expr    := or
/// or      := and (("or" | "||") and)*
/// and     := unary (("and" | "&&")? unary)*       -- juxtaposition means "and"
/// unary   := ("not" | "!") unary | "(" expr ")" | term
/// term    := TYPE                                   Twalk, Rlerror (any case)
///          | STATE                                  error pending flushed injected anomaly ok malformed cut fault
///          | KEY ":" VALUE                          fid:3 tag:5 conn:2 path:/usr errno:ENOENT anomaly:fid-leak
///                                                   type:Twalk text:"some words"
///                                                   x:114-130 x:114- x:114 (exchange numbers)
///          | "latency" OP DURATION                  latency>10ms  latency <= 1.5s  (ns us µs ms s)
///          | "size" OP BYTES                        size>=64k  size=4096  (k m g: binary multiples)
///          | WORD | "quoted words"                   free text in either message's line
/// OP      := "<" | "<=" | ">" | ">=" | "="
/// ```
/// Keywords are case-insensitive. A quoted word is always free text.
public enum FilterParser {
    /// Parses `text`; empty (or all-blank) text is `.all`.
    public static func parse(_ text: String) throws(FilterError) -> FilterExpr {
        var notes: [String] = []
        return try parse(text, notes: &notes)
    }

    /// Parses `text`, adding to `notes` what the user may not have meant: an unquoted word that reads like
    /// a message type but is none (`Tfoo`, `Twalk|Tclunk`), which is searched for as text and most likely
    /// matches nothing.
    public static func parse(_ text: String, notes: inout [String]) throws(FilterError) -> FilterExpr {
        var parser = Parser(tokens: try FilterLexer.tokens(text), endColumn: text.count + 1)
        let expr = try parser.parseAll()
        notes += parser.notes
        return expr
    }

    /// `Tfoo`, `Rwalk2`, `Twalk|Tclunk`: T or R, then a lowercase letter (as every message type's name
    /// begins).
    static func readsLikeAType(_ word: String) -> Bool {
        let chars = Array(word.unicodeScalars.prefix(2))
        return chars.count == 2 && (chars[0] == "T" || chars[0] == "R") && ("a"..."z").contains(chars[1])
    }

    /// The keys accepted before `:`.
    public static let keys = ["fid", "tag", "conn", "path", "user", "errno", "type", "text", "latency", "size", "anomaly", "x"]
}

private struct Parser {
    typealias Token = FilterLexer.Token
    var tokens: [Token]
    var position = 0
    let endColumn: Int

    init(tokens: [Token], endColumn: Int) {
        self.tokens = tokens
        self.endColumn = endColumn
    }

    /// See `FilterParser.parse(_:notes:)`.
    var notes: [String] = []

    var current: Token? { position < tokens.count ? tokens[position] : nil }
    var currentColumn: Int { current?.column ?? endColumn }

    mutating func parseAll() throws(FilterError) -> FilterExpr {
        guard !tokens.isEmpty else { return .all }
        let expr = try parseOr()
        if let extra = current {
            if extra.kind == .close { throw FilterError(column: extra.column, message: "unbalanced ')'") }
            throw FilterError(column: extra.column, message: "unexpected '\(extra.raw)'")
        }
        return expr
    }

    func isOperator(_ token: Token?, _ names: Set<String>) -> Bool {
        guard let token, case .word(let w, quoted: false) = token.kind else { return false }
        return names.contains(w.lowercased())
    }

    mutating func parseOr() throws(FilterError) -> FilterExpr {
        var lhs = try parseAnd()
        while isOperator(current, ["or", "||"]) {
            position += 1
            lhs = .or(lhs, try parseAnd())
        }
        return lhs
    }

    mutating func parseAnd() throws(FilterError) -> FilterExpr {
        var lhs = try parseUnary()
        while let token = current, token.kind != .close, !isOperator(token, ["or", "||"]) {
            if isOperator(token, ["and", "&&"]) { position += 1 }
            lhs = .and(lhs, try parseUnary())
        }
        return lhs
    }

    mutating func parseUnary() throws(FilterError) -> FilterExpr {
        guard let token = current else {
            throw FilterError(column: endColumn, message: "expected a term at the end of the filter")
        }
        switch token.kind {
        case .open:
            position += 1
            if current?.kind == .close {
                throw FilterError(column: currentColumn, message: "empty parentheses")
            }
            let inner = try parseOr()
            guard current?.kind == .close else {
                throw FilterError(column: currentColumn, message: "expected ')' to close '(' at column \(token.column)")
            }
            position += 1
            return inner
        case .close:
            throw FilterError(column: token.column, message: "unexpected ')'")
        case .word(let word, let quoted):
            position += 1
            if quoted {
                // Empty quotes would match every exchange, which is no search: most likely a slip.
                guard !word.isEmpty else {
                    throw FilterError(column: token.column, message: "empty quotes: put the text to look for between them")
                }
                return .term(.text(word))
            }
            let lower = word.lowercased()
            if lower == "not" || lower == "!" { return .not(try parseUnary()) }
            if ["and", "or", "&&", "||"].contains(lower) {
                throw FilterError(column: token.column, message: "'\(word)' needs a term before it")
            }
            if word.hasPrefix("!") {
                // `!error`: negation glued to its term.
                let rest = String(word.dropFirst())
                let inner = Token(kind: .word(rest, quoted: false), column: token.column + 1, raw: rest)
                tokens.insert(inner, at: position)
                return .not(try parseUnary())
            }
            return .term(try parseTerm(word, column: token.column))
        }
    }

    /// One unquoted word (plus, for `latency > 10ms` typed with spaces, the following words).
    mutating func parseTerm(_ word: String, column: Int) throws(FilterError) -> FilterTerm {
        let lower = word.lowercased()
        if let comparison = try comparisonTerm(lower, column: column) { return comparison }
        if let state = StateKeyword(rawValue: lower) { return .state(state) }
        if let type = MessageType(name: word) { return .messageType(type) }
        if let colon = word.firstIndex(of: ":") {
            let key = word[..<colon].lowercased()
            let value = String(word[word.index(after: colon)...])
            let valueColumn = column + word.distance(from: word.startIndex, to: colon) + 1
            return try keyed(key: key, value: value, keyColumn: column, valueColumn: valueColumn)
        }
        if FilterParser.readsLikeAType(word) {
            notes.append("column \(column): \(word) is no message type, so it is searched for as text (quote it "
                         + "to mean that; types are joined with or: Twalk or Tclunk)")
        }
        return .text(word)
    }

    mutating func keyed(key: String, value: String, keyColumn: Int, valueColumn: Int) throws(FilterError) -> FilterTerm {
        var value = value
        var valueColumn = valueColumn
        if value.isEmpty, let next = current, case .word(let w, _) = next.kind {
            // `fid: 3`
            value = w
            valueColumn = next.column
            position += 1
        }
        guard !value.isEmpty else { throw FilterError(column: valueColumn, message: "'\(key):' needs a value") }
        switch key {
        case "fid":
            if value.uppercased() == "NOFID" { return .fid(Fid.nofid.rawValue) }
            guard let n = UInt32(value) else {
                throw FilterError(column: valueColumn, message: "fid must be a number from 0 to 4294967295, not '\(value)'")
            }
            return .fid(n)
        case "tag":
            if value.uppercased() == "NOTAG" { return .tag(Tag.notag.rawValue) }
            guard let n = UInt16(value) else {
                throw FilterError(column: valueColumn, message: "tag must be a number from 0 to 65535, not '\(value)'")
            }
            return .tag(n)
        case "conn":
            let digits = value.lowercased().hasPrefix("c") ? String(value.dropFirst()) : value
            guard let n = UInt32(digits) else {
                throw FilterError(column: valueColumn, message: "conn must be a connection number, not '\(value)'")
            }
            return .conn(n)
        case "path":
            return .path(value)
        case "user":
            return .user(value)
        case "errno":
            guard let e = Errno(name: value) else {
                throw FilterError(column: valueColumn, message: "unknown errno '\(value)' (use a name like ENOENT or a number)")
            }
            return .errno(e.rawValue)
        case "type":
            guard let t = MessageType(name: value) else {
                throw FilterError(column: valueColumn, message: "unknown message type '\(value)'")
            }
            return .messageType(t)
        case "text":
            return .text(value)
        case "x":
            return try exchanges(value, column: valueColumn)
        case "anomaly":
            guard let kind = AnomalyKind(rawValue: value.lowercased()) else {
                throw FilterError(column: valueColumn, message: "unknown anomaly kind '\(value)' (known: "
                                  + AnomalyKind.allCases.map(\.rawValue).joined(separator: ", ") + ")")
            }
            return .anomalyKind(kind)
        case "latency", "size":
            guard let term = try comparisonTerm(key + value, column: keyColumn) else {
                let example = key == "size" ? "size>=64k" : "latency>10ms"
                throw FilterError(column: valueColumn, message: "\(key) needs a comparison, e.g. \(example)")
            }
            return term
        default:
            throw FilterError(column: keyColumn,
                              message: "unknown field '\(key)' (known: \(FilterParser.keys.joined(separator: ", ")))")
        }
    }

    /// `114`, `114-130`, `114-` (an `x` before a number is allowed: `x114-x130`).
    func exchanges(_ value: String, column: Int) throws(FilterError) -> FilterTerm {
        func number(_ s: Substring) -> Int? {
            let digits = s.first == "x" || s.first == "X" ? s.dropFirst() : s
            return digits.allSatisfy(\.isASCII) ? Int(digits) : nil
        }
        let parts = value.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        let message = "x needs an exchange number or range, e.g. x:114, x:114-130, x:114-; not '\(value)'"
        guard let from = number(parts[0]), from >= 0 else { throw FilterError(column: column, message: message) }
        guard parts.count == 2 else { return .exchanges(from: from, through: from) }
        if parts[1].isEmpty { return .exchanges(from: from, through: nil) }
        guard let through = number(parts[1]) else { throw FilterError(column: column, message: message) }
        guard through >= from else {
            throw FilterError(column: column, message: "x:\(value) runs backwards: x:\(through)-\(from)")
        }
        return .exchanges(from: from, through: through)
    }

    /// `latency>10ms`, `lat>=1s`, `size>=64k`, or `latency`/`size` followed by `> 10ms` / `>10ms` in later
    /// words. Any other name followed by an operator (`count>100`) is an error, not free text: a comparison
    /// that silently matched nothing would look like an answer.
    mutating func comparisonTerm(_ lower: String, column: Int) throws(FilterError) -> FilterTerm? {
        guard let name = ["latency", "lat", "size"].first(where: { lower.hasPrefix($0) }) else {
            try refuseUnknownComparison(lower, column: column)
            return nil
        }
        let isSize = name == "size"
        var rest = String(lower.dropFirst(name.count))
        var restColumn = column + name.count
        if rest.first == ":" {
            return nil  // `latency:…` goes through `keyed`
        }
        if rest.isEmpty {
            // `latency > 10ms` / `latency >10ms`: only when the next word starts with an operator.
            guard let next = current, case .word(let w, quoted: false) = next.kind,
                  let first = w.first, "<>=".contains(first) else {
                if name == "latency" {
                    throw FilterError(column: restColumn, message: "latency needs a comparison, e.g. latency>10ms")
                }
                return nil
            }
            rest = w
            restColumn = next.column
            position += 1
        } else if let first = rest.first, !"<>=".contains(first) {
            try refuseUnknownComparison(lower, column: column)
            return nil  // a word like `latest` or `sized`: free text
        }
        let op: Comparison
        if rest.hasPrefix("<=") { op = .lessOrEqual } else if rest.hasPrefix(">=") { op = .greaterOrEqual }
        else if rest.hasPrefix("<") { op = .less } else if rest.hasPrefix(">") { op = .greater }
        else if rest.hasPrefix("==") { op = .equal; rest.removeFirst() } else { op = .equal }
        var literal = Substring(rest.dropFirst(op.rawValue.count))
        var literalColumn = restColumn + rest.count - literal.count
        if literal.isEmpty, let next = current, case .word(let w, quoted: false) = next.kind {
            literal = Substring(w.lowercased())
            literalColumn = next.column
            position += 1
        }
        if isSize {
            guard let bytes = Self.byteCount(literal) else {
                throw FilterError(column: literalColumn,
                                  message: "expected a size in bytes after '\(op.rawValue)', e.g. 4096, 64k or 1m")
            }
            return .size(op, bytes)
        }
        do {
            return .latency(op, try DurationFormat.parse(literal))
        } catch {
            let message: String
            switch error {
            case .missingNumber: message = "expected a duration after '\(op.rawValue)', e.g. 10ms"
            case .missingUnit: message = "'\(literal)' needs a unit: ns, us, ms, s, m or h"
            case .unknownUnit(let u): message = "unknown unit '\(u)' (use ns, us, ms, s, m or h, or 1m30s)"
            case .outOfRange: message = "duration '\(literal)' is too large"
            }
            let offset = error == .missingUnit || error.isUnknownUnit
                ? literal.prefix(while: { $0.isNumber || $0 == "." }).count : 0
            throw FilterError(column: literalColumn + offset, message: message)
        }
    }

    /// A word made of a name and an operator (`count>100`, `tag<=5`) that is not a comparison the language
    /// has: refused, naming the ones it has.
    func refuseUnknownComparison(_ lower: String, column: Int) throws(FilterError) {
        let name = lower.prefix(while: { $0.isLetter || $0 == "_" })
        guard !name.isEmpty, let next = lower.dropFirst(name.count).first, "<>=".contains(next) else { return }
        let hint = FilterParser.keys.contains(String(name))
            ? "; \(name) is matched with '\(name):VALUE'" : ""
        throw FilterError(column: column, message: "no comparison on '\(name)' (compare latency or size, e.g. "
                          + "latency>10ms, size>=64k\(hint); quote free text: \"\(lower)\")")
    }

    /// `4096`, `64k`, `64kib`, `1m`, `1mib`, `2g` (binary multiples) as bytes.
    static func byteCount(_ text: Substring) -> Int64? {
        let digits = text.prefix(while: { $0.isASCII && $0.isNumber })
        guard !digits.isEmpty, let n = Int64(digits) else { return nil }
        // A fraction of a k, m or g, as the statistics show sizes (`1.22K`), down to a whole byte.
        var fraction = Substring()
        if text.dropFirst(digits.count).first == "." {
            fraction = text.dropFirst(digits.count + 1).prefix(while: { $0.isASCII && $0.isNumber })
            guard !fraction.isEmpty, fraction.count <= 9 else { return nil }
        }
        let multiplier: Int64
        switch text.dropFirst(digits.count + (fraction.isEmpty ? 0 : fraction.count + 1)).lowercased() {
        case "", "b": multiplier = 1
        case "k", "kb", "kib": multiplier = 1 << 10
        case "m", "mb", "mib": multiplier = 1 << 20
        case "g", "gb", "gib": multiplier = 1 << 30
        default: return nil
        }
        if !fraction.isEmpty && multiplier == 1 { return nil }   // no fraction of a byte
        let (bytes, overflow) = n.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { return nil }
        var scale: Int64 = 1
        for _ in fraction { scale *= 10 }
        let part = (Int64(fraction) ?? 0) * multiplier / scale
        let (sum, overflow2) = bytes.addingReportingOverflow(part)
        return overflow2 ? nil : sum
    }
}

extension DurationFormat.ParseError {
    fileprivate var isUnknownUnit: Bool {
        if case .unknownUnit = self { return true }
        return false
    }
}
