/// A 9P string (`name[s]` = `len[2]` + bytes). The wire carries bytes that are supposed to be UTF-8 but
/// may not be; `P9String` keeps the exact bytes so decode(encode(m)) == m holds for any input, and offers
/// a lossless escaped rendering for display.
public struct P9String: Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible, Comparable {
    public var bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }
    public init(_ string: String) { self.bytes = Array(string.utf8) }
    public init(stringLiteral value: String) { self.bytes = Array(value.utf8) }

    /// The string if the bytes are valid UTF-8, else nil.
    public var validUTF8: String? {
        String(validating: bytes, as: UTF8.self)
    }
    /// The string, with invalid sequences replaced by U+FFFD (lossy; use `escaped` for display).
    public var string: String { String(decoding: bytes, as: UTF8.self) }
    public var isEmpty: Bool { bytes.isEmpty }
    public var description: String { escaped }
    public static func < (a: P9String, b: P9String) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }

    /// Safe for a terminal: valid UTF-8 printable text is kept; control characters, backslash,
    /// and invalid bytes are escaped (`\n`, `\t`, `\\`, `\x1b`, `\xff`, `\u{200b}` for format chars).
    public var escaped: String {
        var out = ""
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b < 0x80 {
                switch b {
                case 0x5C: out += "\\\\"
                case 0x0A: out += "\\n"
                case 0x09: out += "\\t"
                case 0x0D: out += "\\r"
                case 0x20...0x7E: out.unicodeScalars.append(Unicode.Scalar(b))
                default: out += "\\x" + P9String.hex2(b)
                }
                i += 1
                continue
            }
            // Multi-byte: validate one scalar.
            let len: Int
            if b & 0xE0 == 0xC0 { len = 2 } else if b & 0xF0 == 0xE0 { len = 3 } else if b & 0xF8 == 0xF0 { len = 4 } else { len = 0 }
            if len > 0, i + len <= bytes.count,
               let s = String(validating: bytes[i..<(i + len)], as: UTF8.self), let scalar = s.unicodeScalars.first,
               s.unicodeScalars.count == 1 {
                let p = scalar.properties
                if p.generalCategory == .control || p.generalCategory == .format
                    || p.generalCategory == .lineSeparator || p.generalCategory == .paragraphSeparator
                    || p.generalCategory == .unassigned || p.generalCategory == .privateUse {
                    out += "\\u{" + String(scalar.value, radix: 16) + "}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
                i += len
            } else {
                out += "\\x" + P9String.hex2(b)
                i += 1
            }
        }
        return out
    }

    /// `escaped` as UTF-8, appended to `out` (names of plain printable ASCII, the usual case, are copied
    /// as they are without building a `String`).
    public func appendEscaped(to out: inout [UInt8]) {
        for c in bytes where c < 0x20 || c > 0x7E || c == 0x5C {
            out.append(contentsOf: escaped.utf8)
            return
        }
        out.append(contentsOf: bytes)
    }

    static func hex2(_ b: UInt8) -> String {
        let d: [Character] = ["0","1","2","3","4","5","6","7","8","9","a","b","c","d","e","f"]
        return String([d[Int(b >> 4)], d[Int(b & 15)]])
    }
}
