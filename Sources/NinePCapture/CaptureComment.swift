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

    /// The pairs of a ninescope comment, or nil when `text` is not one.
    public static func parse(_ text: String) -> [String: String]? {
        let words = text.split(separator: " ", omittingEmptySubsequences: true)
        guard let first = words.first, first == prefix else { return nil }
        var fields: [String: String] = [:]
        for word in words.dropFirst() {
            guard let equals = word.firstIndex(of: "=") else { continue }
            let key = String(word[..<equals])
            guard let value = unescape(word[word.index(after: equals)...]) else { continue }
            fields[key] = value
        }
        return fields
    }

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
    static func unescapedBytes(_ text: Substring) -> [UInt8]? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
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
