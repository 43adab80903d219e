import NinePWire

/// Reads field values from tokens.
///
/// Numbers: decimal, `0x…` hex, `0o…` or a leading `0` octal (`0755`), `0b…` binary, `_` separators
/// allowed; `-N` is the two's complement in the field's width (`-1` = all ones), `~0` and `max` are all
/// ones ("don't touch" in Twstat). Bit sets combine symbols and numbers with `|` (`rdwr|create`,
/// `dir|0755`); symbols are case-insensitive and may carry their C prefix (`O_CREAT` is not a
/// symbol, but `O_CREATE`/`P9_DOTL_CREATE` are).
public enum ValueParser {
    public static func parse(_ token: Token, as type: FieldType) throws(ParseError) -> FieldValue {
        switch type {
        case .string:
            return .bytes(token.bytes)
        case .data:
            return .bytes(try data(token))
        case .strings:
            if token.units.isEmpty { return .strings([]) }
            return .strings(token.split(onUnquoted: UInt8(ascii: ",")).map { P9String(bytes: $0.bytes) })
        case .qid:
            return .qid(try qid(token))
        case .qids:
            if token.units.isEmpty { return .qids([]) }
            var out: [Qid] = []
            for piece in token.split(onUnquoted: UInt8(ascii: ",")) { out.append(try qid(piece)) }
            return .qids(out)
        case .dirents:
            throw ParseError(column: token.column, expected: "no value", found: token.text,
                             message: "directory entries cannot be written by hand; compare `names` instead")
        default:
            return .number(try number(token, as: type))
        }
    }

    /// A number or bit set for a numeric field type.
    public static func number(_ token: Token, as type: FieldType) throws(ParseError) -> UInt64 {
        let width = type.bitWidth ?? 64
        let maxValue: UInt64 = width == 64 ? .max : (1 << UInt64(width)) - 1
        let pieces = type.isBitSet ? token.split(onUnquoted: UInt8(ascii: "|")) : [token]
        var result: UInt64 = 0
        for piece in pieces {
            let text = piece.text
            if text.isEmpty {
                throw ParseError(column: piece.column, expected: type.expectation, found: token.text.isEmpty ? nil : token.text)
            }
            let v: UInt64
            if let n = integer(text, width: width) {
                v = n
            } else if let s = symbol(text, type: type) {
                v = s
            } else {
                throw ParseError(column: piece.column, expected: type.expectation, found: text)
            }
            guard v <= maxValue else {
                throw ParseError(column: piece.column, expected: type.expectation, found: text,
                                 message: "\(text) does not fit in \(width) bits")
            }
            result |= v
        }
        return result
    }

    /// Parses an integer literal (see the type's documentation); nil when `text` is not one.
    public static func integer(_ text: String, width: Int = 64) -> UInt64? {
        let lower = String(text.lowercased().filter { $0 != "_" })
        let allOnes: UInt64 = width >= 64 ? .max : (1 << UInt64(width)) - 1
        if lower == "~0" || lower == "max" { return allOnes }
        if lower.hasPrefix("-") {
            guard let n = integer(String(lower.dropFirst()), width: 64), n > 0, n <= allOnes else { return nil }
            return (allOnes - n + 1) & allOnes
        }
        if lower.hasPrefix("0x") { return UInt64(lower.dropFirst(2), radix: 16) }
        if lower.hasPrefix("0o") { return UInt64(lower.dropFirst(2), radix: 8) }
        if lower.hasPrefix("0b") { return UInt64(lower.dropFirst(2), radix: 2) }
        if lower.count > 1 && lower.hasPrefix("0") { return UInt64(lower.dropFirst(), radix: 8) }
        return UInt64(lower, radix: 10)
    }

    static func symbol(_ text: String, type: FieldType) -> UInt64? {
        var lower = text.lowercased()
        let table = type.symbols
        if let hit = table.first(where: { $0.0 == lower }) { return hit.1 }
        for p in type.symbolPrefixes where lower.hasPrefix(p) {
            lower.removeFirst(p.count)
            if let hit = table.first(where: { $0.0 == lower }) { return hit.1 }
        }
        return nil
    }

    /// Data: an unquoted word `0x…` with an even number of hex digits is bytes; anything else is its text.
    static func data(_ token: Token) throws(ParseError) -> [UInt8] {
        let text = token.text
        guard !token.hasQuoting, text.count >= 2, text.lowercased().hasPrefix("0x") else { return token.bytes }
        return try hex(Token(units: Array(token.units.dropFirst(2)), column: token.column + 2, endColumn: token.endColumn))
    }

    /// Hex digits (pairs), ignoring `:`, `-`, `_` and `.` separators.
    public static func hex(_ token: Token) throws(ParseError) -> [UInt8] {
        var out: [UInt8] = []
        var high: UInt8?
        for u in token.units {
            let c = Character(Unicode.Scalar(u.byte))
            if ":-_.".contains(c) && !u.quoted { continue }
            guard let d = c.hexDigitValue else {
                throw ParseError(column: u.column, expected: "a hex digit", found: String(c))
            }
            if let h = high { out.append(h << 4 | UInt8(d)); high = nil } else { high = UInt8(d) }
        }
        if high != nil {
            throw ParseError(column: token.endColumn, expected: "an even number of hex digits", found: nil)
        }
        return out
    }

    /// `TYPE:VERSION:PATH`; TYPE a number or `dir|append|…|file`.
    static func qid(_ token: Token) throws(ParseError) -> Qid {
        let parts = token.split(onUnquoted: UInt8(ascii: ":"))
        guard parts.count == 3 else {
            throw ParseError(column: token.column, expected: FieldType.qid.expectation, found: token.text)
        }
        var type: UInt64 = 0
        for piece in parts[0].split(onUnquoted: UInt8(ascii: "|")) {
            let t = piece.text.lowercased()
            if let n = integer(t, width: 8), n <= 0xFF { type |= n; continue }
            guard let bit = qidTypeNames.first(where: { $0.0 == t || "qt" + $0.0 == t }) else {
                throw ParseError(column: piece.column, expected: "a qid type (dir, append, excl, mount, auth, tmp, symlink, link, file or a number)", found: piece.text)
            }
            type |= UInt64(bit.1)
        }
        guard let version = integer(parts[1].text, width: 32), version <= UInt64(UInt32.max) else {
            throw ParseError(column: parts[1].column, expected: "a qid version (32-bit number)", found: parts[1].text)
        }
        guard let path = integer(parts[2].text, width: 64) else {
            throw ParseError(column: parts[2].column, expected: "a qid path (64-bit number)", found: parts[2].text)
        }
        return Qid(type: QidType(rawValue: UInt8(type)), version: UInt32(version), path: path)
    }

    static let qidTypeNames: [(String, UInt8)] = [
        ("dir", 0x80), ("append", 0x40), ("excl", 0x20), ("mount", 0x10), ("auth", 0x08), ("tmp", 0x04),
        ("symlink", 0x02), ("link", 0x01), ("file", 0x00),
    ]
}
