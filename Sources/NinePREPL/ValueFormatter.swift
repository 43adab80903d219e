import NinePWire

/// Renders field values and payloads for the REPL, `expect` failures and replay diffs.
public enum ValueFormatter {
    /// One value as text: numbers in decimal (bit sets in hex with names), strings quoted and
    /// escaped, data as text or hex up to `dataLimit` bytes, qids as `(type version path)`.
    public static func format(_ value: FieldValue, as type: FieldType, dataLimit: Int = 64) -> String {
        switch value {
        case .number(let n):
            switch type {
            case .fid: return Fid(UInt32(truncatingIfNeeded: n)).description
            case .tag: return Tag(UInt16(truncatingIfNeeded: n)).description
            case .posixMode: return "0" + String(n, radix: 8)
            case .errno:
                let e = Errno(UInt32(truncatingIfNeeded: n))
                return e.name.map { "\($0) (\(n))" } ?? String(n)
            default:
                let names = bitNames(n, type)
                if type.isBitSet || !type.symbols.isEmpty {
                    return names.isEmpty ? hexString(n) : "\(hexString(n)) (\(names))"
                }
                return String(n)
            }
        case .bytes(let b):
            return type == .data ? payload(b, limit: dataLimit) : quoted(b)
        case .qid(let q): return qid(q)
        case .qids(let qs): return "[" + qs.map(qid).joined(separator: " ") + "]"
        case .strings(let s): return "[" + s.map { quoted($0.bytes) }.joined(separator: ", ") + "]"
        case .dirents(let d):
            return "[" + d.map { "\(qid($0.qid)) \($0.offset) \($0.type) \(quoted($0.name.bytes))" }.joined(separator: ", ") + "]"
        }
    }

    /// `(<path, 16 hex digits> <version> <type letters>)`, as in canonical lines.
    public static func qid(_ q: Qid) -> String {
        let letters: [(UInt8, Character)] = [(0x80, "d"), (0x40, "a"), (0x20, "l"), (0x10, "m"), (0x08, "A"),
                                             (0x04, "t"), (0x02, "L"), (0x01, "H")]
        let t = String(letters.filter { q.type.rawValue & $0.0 != 0 }.map(\.1))
        let hex = String(q.path, radix: 16)
        return "(" + String(repeating: "0", count: max(0, 16 - hex.count)) + hex + " \(q.version) \(t))"
    }

    public static func quoted(_ b: [UInt8]) -> String { "'" + P9String(bytes: b).escaped.replacing("'", with: "\\'") + "'" }

    static func hexString(_ n: UInt64) -> String { "0x" + String(n, radix: 16) }

    static func bitNames(_ n: UInt64, _ type: FieldType) -> String {
        let symbols = type.symbols
        guard !symbols.isEmpty else { return "" }
        if !type.isBitSet { return symbols.first { $0.1 == n }.map { $0.0.uppercased() } ?? "" }
        var names: [String] = []
        var rest = n
        // Access modes are values in the low bits, not flags.
        if type == .lopenFlags {
            names.append(LOpenFlags.accessNames[Int(n & 3)]); rest &= ~3
        } else if type == .openMode {
            names.append(["OREAD", "OWRITE", "ORDWR", "OEXEC"][Int(n & 3)]); rest &= ~3
        }
        for (name, bit) in symbols where bit != 0 && bit.nonzeroBitCount == 1 && rest & bit == bit {
            if type == .openMode && !name.hasPrefix("o") { continue }
            names.append(name.uppercased()); rest &= ~bit
        }
        if type == .dirMode {
            let perm = rest & 0o777
            rest &= ~0o777
            if perm != 0 || names.isEmpty { names.append("0" + String(perm, radix: 8)) }
        }
        if rest != 0 { names.append(hexString(rest)) }
        return names.joined(separator: "|")
    }

    /// A payload as escaped text when it is valid UTF-8 without control characters other than
    /// newline/tab, else as hex; at most `limit` bytes shown, then `… (+N bytes)`.
    public static func payload(_ b: [UInt8], limit: Int) -> String {
        let shown = limit >= 0 && b.count > limit ? Array(b[..<limit]) : b
        let more = b.count - shown.count
        let suffix = more > 0 ? " … (+\(more) bytes)" : ""
        if isText(b) {
            return quoted(shown) + suffix
        }
        return "0x" + shown.map { P9StringHex.hex2($0) }.joined() + suffix
    }

    static func isText(_ b: [UInt8]) -> Bool {
        guard let s = String(validating: b, as: UTF8.self) else { return false }
        return s.unicodeScalars.allSatisfy { $0 == "\n" || $0 == "\t" || $0 == "\r" || $0.value >= 0x20 && $0.value != 0x7F }
    }
}

enum P9StringHex {
    static let digits: [Character] = Array("0123456789abcdef")
    static func hex2(_ b: UInt8) -> String { String([digits[Int(b >> 4)], digits[Int(b & 15)]]) }
}
