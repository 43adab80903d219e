/// A tiny JSON value with ordered object members and a compact serializer (no Foundation).
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case string(String)
    case array([JSONValue])
    /// Members in insertion order (serialized in that order).
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.uint(x), .uint(y)): return x == y
        case let (.int(x), .uint(y)), let (.uint(y), .int(x)): return x >= 0 && UInt64(x) == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The member with this key of an object, nil otherwise.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members.first { $0.0 == key }?.1 }
        return nil
    }

    /// Compact JSON text (no spaces, no newline), UTF-8, keys in order.
    public var serialized: String {
        var t = TextBuffer(capacity: 256)
        write(into: &t)
        return t.string
    }

    /// Appends `serialized` to `out`.
    public func write(into out: inout String) { out += serialized }

    func write(into out: inout TextBuffer) {
        switch self {
        case .null: out.append("null")
        case .bool(let b): out.append(b ? "true" : "false")
        case .int(let i):
            if i < 0 { out.byte(0x2D); out.decimal(UInt64(bitPattern: 0 &- i)) } else { out.decimal(UInt64(i)) }
        case .uint(let u): out.decimal(u)
        case .string(let s): JSONValue.writeString(s, into: &out)
        case .array(let a):
            out.byte(0x5B)
            for (i, v) in a.enumerated() {
                if i > 0 { out.byte(0x2C) }
                v.write(into: &out)
            }
            out.byte(0x5D)
        case .object(let members):
            out.byte(0x7B)
            for (i, (k, v)) in members.enumerated() {
                if i > 0 { out.byte(0x2C) }
                JSONValue.writeString(k, into: &out)
                out.byte(0x3A)
                v.write(into: &out)
            }
            out.byte(0x7D)
        }
    }

    /// RFC 8259 string escaping: `"` `\` and control characters escaped (`\n`, `\u001b`); U+2028/U+2029
    /// escaped too so the text is also valid JavaScript; everything else as UTF-8.
    public static func writeString(_ s: String, into out: inout String) {
        var t = TextBuffer(capacity: s.utf8.count + 2)
        writeString(s, into: &t)
        out += t.string
    }

    static func writeString(_ s: String, into out: inout TextBuffer) {
        var s = s
        s.withUTF8 { writeString(utf8: $0, into: &out) }
    }

    /// `writeString` for text already in UTF-8 bytes.
    static func writeString(utf8 u: UnsafeBufferPointer<UInt8>, into out: inout TextBuffer) {
        out.byte(0x22)
        var clean = 0          // start of the run not yet copied
        var i = 0
        let n = u.count
        while i < n {
            let b = u[i]
            if b >= 0x20 && b != 0x22 && b != 0x5C && b != 0xE2 { i += 1; continue }
            // U+2028/U+2029 are E2 80 A8 / E2 80 A9; other E2 sequences pass through.
            if b == 0xE2 && !(i + 2 < n && u[i + 1] == 0x80 && (u[i + 2] == 0xA8 || u[i + 2] == 0xA9)) { i += 1; continue }
            out.append(UnsafeBufferPointer(rebasing: u[clean..<i]))
            switch b {
            case 0x22: out.append("\\\"")
            case 0x5C: out.append("\\\\")
            case 0x0A: out.append("\\n")
            case 0x0D: out.append("\\r")
            case 0x09: out.append("\\t")
            case 0x08: out.append("\\b")
            case 0x0C: out.append("\\f")
            case 0xE2:
                out.append(u[i + 2] == 0xA8 ? "\\u2028" : "\\u2029")
                i += 2
            default:
                out.append("\\u00")
                out.byte(TextBuffer.hexDigits[Int(b >> 4)]); out.byte(TextBuffer.hexDigits[Int(b & 15)])
            }
            i += 1
            clean = i
        }
        out.append(UnsafeBufferPointer(rebasing: u[clean..<n]))
        out.byte(0x22)
    }
}
