import NinePWire
/// The compact `key=value` text ninescope writes into pcapng comments, and its parser.
///
/// Format: the word `ninescope`, then space-separated `key=value` pairs. Values are percent-encoded:
/// every byte outside `!`…`~` and the bytes `%` and `=` become `%XX` (upper-case hex), so values never
/// contain spaces. Unknown keys are ignored by the reader; a repeated key keeps its last value.
public enum CaptureComment {
    public static let prefix = "ninescope"

    /// `ninescope k1=v1 k2=v2`, pairs in the given order.
    public static func encode(_ fields: [(key: String, value: String)]) -> String {
        ([prefix] + fields.map { "\($0.key)=\(escape($0.value))" }).joined(separator: " ")
    }

    /// The pairs of a ninescope comment, or nil when `text` is not one. Read as bytes, a value without
    /// `%` taken as it is: every packet of a ninescope capture carries one (`ninescope conn=0 dir=c2s
    /// ev=data seg=1/1`), and splitting it as a String was a third of the time a replay took to read a
    /// capture.
    public static func parse(_ text: String) -> [String: String]? {
        var text = text
        return text.withUTF8 { b -> [String: String]? in
            let space = UInt8(ascii: " "), equals = UInt8(ascii: "="), percent = UInt8(ascii: "%")
            var i = 0
            while i < b.count && b[i] == space { i += 1 }
            let word = prefixBytes
            guard b.count - i >= word.count, b[i..<(i + word.count)].elementsEqual(word),
                  i + word.count == b.count || b[i + word.count] == space else { return nil }
            i += word.count
            var fields: [String: String] = Dictionary(minimumCapacity: 8)
            while i < b.count {
                while i < b.count && b[i] == space { i += 1 }
                let start = i
                var eq = -1
                var escaped = false
                while i < b.count && b[i] != space {
                    if eq < 0 { if b[i] == equals { eq = i } } else if b[i] == percent { escaped = true }
                    i += 1
                }
                guard eq >= 0 else { continue }
                let key = String(decoding: UnsafeBufferPointer(rebasing: b[start..<eq]), as: UTF8.self)
                let value = b[(eq + 1)..<i]
                if !escaped {
                    fields[key] = String(decoding: UnsafeBufferPointer(rebasing: value), as: UTF8.self)
                } else if let bytes = unescapedBytes(value) {
                    fields[key] = String(decoding: bytes, as: UTF8.self)
                }
            }
            return fields
        }
    }

    private static let prefixBytes = Array(prefix.utf8)

    static func escape(_ value: String) -> String {
        var out = ""
        for byte in value.utf8 {
            if byte >= 0x21, byte <= 0x7E, byte != UInt8(ascii: "%"), byte != UInt8(ascii: "=") {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count < 2 ? "0" + hex : hex)
            }
        }
        return out
    }

    static func unescape(_ text: Substring) -> String? {
        unescapedBytes(text).map { String(decoding: $0, as: UTF8.self) }
    }

    /// `%XX` sequences decoded (every other byte as it is); nil for a `%` not followed by two hex digits.
    static func unescapedBytes(_ text: Substring) -> [UInt8]? { unescapedBytes(text.utf8) }

    /// `unescapedBytes` of UTF-8 bytes.
    static func unescapedBytes<C: Collection<UInt8>>(_ text: C) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count)
        var iterator = text.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next(), let low = iterator.next(),
                      let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) else {
                    return nil
                }
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return bytes
    }

    /// `c2s` / `s2c`, the `dir` values (`Direction.token`).
    public static func code(for direction: Direction) -> String {
        direction.token
    }

    public static func direction(from code: String) -> Direction? {
        switch code {
        case "c2s": return .toServer
        case "s2c": return .toClient
        default: return nil
        }
    }

    /// Parses a `marks` value (`injected,intercepted`); unknown names are ignored.
    public static func marks(from text: String) -> FrameMarks {
        FrameMarks(names: text)
    }
}
