/// Text renderings shared by the canonical line, the field tree and the JSON output. Everything is
/// written into a UTF-8 byte buffer (`TextBuffer`) and turned into a `String` once: String appends one
/// piece at a time are several times slower, and `ninescope decode` prints a line per message.
struct TextBuffer {
    var bytes: [UInt8]
    init(capacity: Int = 128) { bytes = []; bytes.reserveCapacity(capacity) }
    var string: String { String(decoding: bytes, as: UTF8.self) }

    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    mutating func append(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }
    mutating func append(_ s: String) { bytes.append(contentsOf: s.utf8) }
    mutating func byte(_ b: UInt8) { bytes.append(b) }

    mutating func decimal<T: BinaryInteger>(_ value: T) {
        DecimalText.append(UInt64(truncatingIfNeeded: value), to: &bytes)
    }

    /// Lowercase hex without leading zeros (`0` for zero), no prefix.
    mutating func hexDigitsOf(_ value: UInt64) {
        var shift = 60
        while shift > 0 && (value >> UInt64(shift)) & 15 == 0 { shift -= 4 }
        while shift >= 0 { bytes.append(TextBuffer.hexDigits[Int((value >> UInt64(shift)) & 15)]); shift -= 4 }
    }
    /// `0x1a4`.
    mutating func hex(_ value: UInt64) { bytes.append(0x30); bytes.append(0x78); hexDigitsOf(value) }

    mutating func hexBytes<C: Collection>(_ data: C) where C.Element == UInt8 {
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: data.count * 2))
        bytes.withUnsafeMutableBufferPointer { out in
            var i = start
            for b in data {
                out[i] = TextBuffer.hexDigits[Int(b >> 4)]; out[i + 1] = TextBuffer.hexDigits[Int(b & 15)]; i += 2
            }
        }
    }

    /// C octal with a leading 0 (`0100644`), `0` for zero.
    mutating func octal(_ v: UInt32) {
        bytes.append(0x30)
        if v != 0 { append(String(v, radix: 8)) }
    }

    /// `(0000000000000010 0 d)`: path as 16 hex digits, version in decimal, type letters.
    mutating func qid(_ q: Qid) {
        bytes.append(0x28)
        for shift in stride(from: 60, through: 0, by: -4) {
            bytes.append(TextBuffer.hexDigits[Int((q.path >> UInt64(shift)) & 15)])
        }
        bytes.append(0x20)
        decimal(q.version)
        bytes.append(0x20)
        var t = q.type.rawValue
        if t != 0 {
            for (bit, c) in QidType.letterBytes where t & bit != 0 { bytes.append(c); t &= ~bit }
        }
        bytes.append(0x29)
    }

    /// `0x8000 RDONLY|LARGEFILE`; `0x0` alone when there are no names.
    mutating func flags(_ raw: UInt64, _ names: [String]) {
        hex(raw)
        for (i, n) in names.enumerated() {
            bytes.append(i == 0 ? 0x20 : 0x7C)
            append(n)
        }
    }

    /// `2 ENOENT`, or `2` when unnamed.
    mutating func enumerated(_ v: UInt64, _ name: String?) {
        decimal(v)
        if let n = name { bytes.append(0x20); append(n) }
    }

    mutating func nUname(_ v: UInt32) {
        if v == NineP.noUname { append("NONUNAME") } else { decimal(v) }
    }

    /// `'escaped'`: the text of `P9String.escaped`, with `'` written `\'` (backslash is already escaped,
    /// so the text stays unambiguous).
    mutating func quoted(_ s: P9String) {
        bytes.append(0x27)
        if TextBuffer.isPlainASCII(s.bytes) {
            bytes.append(contentsOf: s.bytes)
        } else {
            for b in s.escaped.utf8 {
                if b == 0x27 { bytes.append(0x5C) }
                bytes.append(b)
            }
        }
        bytes.append(0x27)
    }

    /// Printable ASCII other than backslash and single quote: shown as is.
    static func isPlainASCII(_ b: [UInt8]) -> Bool {
        for c in b where c < 0x20 || c > 0x7E || c == 0x5C || c == 0x27 { return false }
        return true
    }

    /// A walk element: bare when non-empty with nothing that needs escaping or quoting (`usr`, `é`),
    /// otherwise quoted (`''`, `'a b'`, `'\xff'`).
    mutating func bare(_ s: P9String) {
        if s.bytes.isEmpty { bytes.append(0x27); bytes.append(0x27); return }
        var plain = true
        for c in s.bytes where c <= 0x20 || c == 0x27 || c == 0x5C || c == 0x7F { plain = false; break }
        if plain {
            if !s.bytes.contains(where: { $0 >= 0x80 }) { bytes.append(contentsOf: s.bytes); return }
            let e = s.escaped
            if !e.utf8.contains(0x5C) { append(e); return }
        }
        quoted(s)
    }

    /// Data: `''` when empty; quoted escaped text when the first 64 bytes are printable UTF-8 text
    /// (tab, newline and carriage return allowed); otherwise lowercase hex; more than 64 bytes: the first
    /// 64 (text cut back to a character boundary) followed by `…`.
    mutating func data<C: RandomAccessCollection>(_ d: C) where C.Element == UInt8, C.Index == Int {
        if d.isEmpty { bytes.append(0x27); bytes.append(0x27); return }
        let truncated = d.count > Fmt.dataLimit
        let head = Array(d.prefix(Fmt.dataLimit))
        if let text = Fmt.printableText(head, truncated: truncated) {
            quoted(P9String(bytes: text))
        } else {
            hexBytes(head)
        }
        if truncated { append("…") }
    }
}

enum Fmt {
    /// Data is shown up to this many bytes, then `…`.
    static let dataLimit = 64

    static func render(_ body: (inout TextBuffer) -> Void) -> String {
        var t = TextBuffer(capacity: 32)
        body(&t)
        return t.string
    }
    static func quoted(_ s: P9String) -> String { render { $0.quoted(s) } }
    static func bare(_ s: P9String) -> String { render { $0.bare(s) } }
    static func qid(_ q: Qid) -> String { render { $0.qid(q) } }
    static func hex(_ v: UInt64) -> String { render { $0.hex(v) } }
    static func flags(_ raw: UInt64, _ names: [String]) -> String { render { $0.flags(raw, names) } }
    static func enumerated(_ v: UInt64, _ name: String?) -> String { render { $0.enumerated(v, name) } }
    static func octal(_ v: UInt32) -> String { render { $0.octal(v) } }
    static func nUname(_ v: UInt32) -> String { render { $0.nUname(v) } }
    static func data<C: RandomAccessCollection>(_ d: C) -> String where C.Element == UInt8, C.Index == Int {
        render { $0.data(d) }
    }
    static func hexString<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var t = TextBuffer(capacity: bytes.count * 2)
        t.hexBytes(bytes)
        return t.string
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

extension QidType {
    static let letterBytes: [(UInt8, UInt8)] = letterTable.map { ($0.0, $0.1.asciiValue!) }
}

/// Decimal numbers as UTF-8 bytes, for writers that build lines as bytes.
public enum DecimalText {
    /// The decimal digits of `value`, appended (made in a stack buffer, then one append).
    public static func append(_ value: UInt64, to out: inout [UInt8]) {
        if value < 10 { out.append(0x30 + UInt8(value)); return }
        var v = value
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)   // 24 bytes ≥ the 20 digits of UInt64.max
        withUnsafeMutableBytes(of: &digits) { raw in
            var i = raw.count
            while v > 0 {
                i -= 1
                raw[i] = 0x30 + UInt8(truncatingIfNeeded: v % 10)
                v /= 10
            }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[i...]))
        }
    }
}
