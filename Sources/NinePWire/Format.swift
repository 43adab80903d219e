/// Text renderings shared by the canonical line, the field tree and the JSON output.
enum Fmt {
    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
    /// Data is shown up to this many bytes, then `…`.
    static let dataLimit = 64

    /// `'escaped'`: P9String.escaped with `'` written as `\'` (backslash is already escaped, so the text
    /// is unambiguous).
    static func quoted(_ s: P9String) -> String {
        var out = "'"
        out += quoteEscaped(s.escaped)
        out += "'"
        return out
    }
    static func quoteEscaped(_ e: String) -> String {
        e.utf8.contains(0x27) ? e.replacingAll("'", with: "\\'") : e
    }

    /// A walk element: bare when it is non-empty printable ASCII/UTF-8 with no space, quote or backslash
    /// (`usr`), otherwise quoted like any string (`''`, `'a b'`, `'\xff'`).
    static func bare(_ s: P9String) -> String {
        guard !s.bytes.isEmpty else { return "''" }
        var plain = true
        for b in s.bytes where b <= 0x20 || b == 0x27 || b == 0x5C || b >= 0x7F { plain = false; break }
        if plain { return String(decoding: s.bytes, as: UTF8.self) }
        let e = s.escaped
        if !e.utf8.contains(where: { $0 <= 0x20 || $0 == 0x27 || $0 == 0x5C }) { return e }
        return quoted(s)
    }

    /// `(0000000000000010 0 d)`: path as 16 hex digits, version in decimal, type letters (QidType.letters).
    static func qid(_ q: Qid) -> String {
        var out = "("
        var digits = [UInt8](repeating: 0x30, count: 16)
        var p = q.path
        var i = 15
        while p != 0 { digits[i] = hexDigits[Int(p & 15)]; p >>= 4; i -= 1 }
        out += String(decoding: digits, as: UTF8.self)
        out += " "
        out += String(q.version)
        out += " "
        out += q.type.letters
        out += ")"
        return out
    }

    static func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

    /// `0x8000 RDONLY|LARGEFILE`; just `0x0` when there are no names.
    static func flags(_ raw: UInt64, _ names: [String]) -> String {
        names.isEmpty ? hex(raw) : hex(raw) + " " + names.joined(separator: "|")
    }

    /// `2 ENOENT`; just `2` when the value has no name.
    static func enumerated(_ v: UInt64, _ name: String?) -> String {
        if let n = name { return String(v) + " " + n }
        return String(v)
    }

    /// C-style octal with a leading 0 (`0100644`), `0` for zero.
    static func octal(_ v: UInt32) -> String { v == 0 ? "0" : "0" + String(v, radix: 8) }

    static func nUname(_ v: UInt32) -> String { v == NineP.noUname ? "NONUNAME" : String(v) }

    static func hexString<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(hexDigits[Int(b >> 4)]); out.append(hexDigits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Data: `''` when empty; quoted escaped text when the first 64 bytes are printable UTF-8 text
    /// (tab, newline and carriage return allowed); otherwise lowercase hex. More than 64 bytes: the first
    /// 64 (text cut back to a character boundary) followed by `…`.
    static func data<C: RandomAccessCollection>(_ d: C) -> String where C.Element == UInt8, C.Index == Int {
        if d.isEmpty { return "''" }
        let truncated = d.count > dataLimit
        let head = d.prefix(dataLimit)
        let suffix = truncated ? "…" : ""
        if let text = printableText(Array(head), truncated: truncated) {
            return quoted(P9String(bytes: text)) + suffix
        }
        return hexString(head) + suffix
    }

    /// The bytes if they are printable text (possibly minus an incomplete final character when the data
    /// was cut), else nil.
    static func printableText(_ b: [UInt8], truncated: Bool) -> [UInt8]? {
        var ascii = true
        for c in b {
            if c >= 0x80 { ascii = false; continue }
            if c < 0x20 && c != 0x09 && c != 0x0A && c != 0x0D { return nil }
            if c == 0x7F { return nil }
        }
        if ascii { return b }
        var bytes = b
        var s = String(validating: bytes, as: UTF8.self)
        if s == nil && truncated {
            for _ in 0..<3 where s == nil && !bytes.isEmpty {
                bytes.removeLast()
                s = String(validating: bytes, as: UTF8.self)
            }
        }
        guard let str = s else { return nil }
        for scalar in str.unicodeScalars where scalar.value >= 0x80 {
            switch scalar.properties.generalCategory {
            case .control, .format, .unassigned, .privateUse, .lineSeparator, .paragraphSeparator, .surrogate:
                return nil
            default: continue
            }
        }
        return bytes
    }
}

extension String {
    /// Replaces every occurrence of `target` (stdlib only, no Foundation).
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        out.reserveCapacity(utf8.count + 4)
        for c in self {
            if c == target { out += replacement } else { out.append(c) }
        }
        return out
    }
}
