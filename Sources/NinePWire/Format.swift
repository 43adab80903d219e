/// Text renderings shared by the canonical line, the field tree and the JSON output. Everything is
/// written into a UTF-8 byte buffer (`TextBuffer`) and turned into a `String` (or appended to a byte
/// array) once: String appends one piece at a time are several times slower, and `ninescope decode` and
/// the proxy's trace write a line per message.
///
/// The buffer is raw memory it owns (not an `Array`): a line is dozens of small writes (a key, a space, a
/// few digits), and each `Array.append` pays a uniqueness check and, for a run of bytes, a `memmove`
/// call; here a write is a capacity compare and plain stores. (`decode` of a 412k-message capture, most
/// of it Rgetattr lines of 350 bytes: 1.18 s of CPU instead of 1.32 s.)
struct TextBuffer: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private(set) var count: Int
    private var capacity: Int

    init(capacity: Int = 128) {
        self.capacity = Swift.max(capacity, 16)
        base = .allocate(capacity: self.capacity)
        count = 0
    }
    deinit { base.deallocate() }

    /// The text written so far.
    var string: String { String(decoding: UnsafeBufferPointer(start: base, count: count), as: UTF8.self) }
    /// The bytes written so far, appended to `out`.
    func append(to out: inout [UInt8]) { out.append(contentsOf: UnsafeBufferPointer(start: base, count: count)) }

    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Room for `n` more bytes.
    @inline(__always) private mutating func reserve(_ n: Int) {
        if count &+ n > capacity { grow(n) }
    }
    @inline(never) private mutating func grow(_ n: Int) {
        let newCapacity = Swift.max(capacity &* 2, count &+ n)
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        p.initialize(from: base, count: count)
        base.deallocate()
        base = p
        capacity = newCapacity
    }
    /// Writes at most `max` bytes through a pointer; `body` returns how many it wrote.
    @inline(__always) private mutating func write(max: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        reserve(max)
        count &+= body(base + count)
    }

    @inline(__always) mutating func byte(_ b: UInt8) {
        reserve(1)
        base[count] = b
        count &+= 1
    }
    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        let n = bytes.count
        guard n > 0 else { return }
        reserve(n)
        if n <= 16 {
            TextBuffer.copySmall(base + count, bytes.baseAddress!, n)
        } else {
            (base + count).initialize(from: bytes.baseAddress!, count: n)
        }
        count &+= n
    }

    /// Copies 1…16 bytes with at most two pairs of (overlapping) word loads and stores: keys and short
    /// values are a few bytes long, and a byte loop would be compiled into a `memmove` call costing more
    /// than the copy.
    @inline(__always) static func copySmall(_ dst: UnsafeMutablePointer<UInt8>, _ src: UnsafePointer<UInt8>, _ n: Int) {
        let d = UnsafeMutableRawPointer(dst), s = UnsafeRawPointer(src)
        if n >= 8 {
            d.storeBytes(of: s.loadUnaligned(as: UInt64.self), as: UInt64.self)
            (d + (n &- 8)).storeBytes(of: (s + (n &- 8)).loadUnaligned(as: UInt64.self), as: UInt64.self)
        } else if n >= 4 {
            d.storeBytes(of: s.loadUnaligned(as: UInt32.self), as: UInt32.self)
            (d + (n &- 4)).storeBytes(of: (s + (n &- 4)).loadUnaligned(as: UInt32.self), as: UInt32.self)
        } else if n > 0 {
            dst[0] = src[0]
            if n > 1 { dst[n &- 1] = src[n &- 1] }
            if n > 2 { dst[1] = src[1] }
        }
    }
    mutating func append(_ s: StaticString) { s.withUTF8Buffer { append($0) } }
    /// ` name ` (a field's key between spaces), with one check for room.
    mutating func spaced(_ s: StaticString) {
        s.withUTF8Buffer { name in
            let n = name.count
            write(max: n &+ 2) { p in
                p[0] = 0x20
                if n <= 16 {
                    TextBuffer.copySmall(p + 1, name.baseAddress!, n)
                } else {
                    (p + 1).initialize(from: name.baseAddress!, count: n)
                }
                p[n &+ 1] = 0x20
                return n &+ 2
            }
        }
    }
    mutating func append(_ s: String) {
        var s = s
        s.withUTF8 { append($0) }
    }
    mutating func append(contentsOf bytes: [UInt8]) { bytes.withUnsafeBufferPointer { append($0) } }

    mutating func decimal<T: BinaryInteger>(_ value: T) {
        let v = UInt64(truncatingIfNeeded: value)
        if v < 10 { byte(0x30 &+ UInt8(truncatingIfNeeded: v)); return }
        let digits = DecimalText.count(v)
        write(max: digits) { p in
            DecimalText.write(v, digits: digits, to: p)
            return digits
        }
    }

    /// Lowercase hex without leading zeros (`0` for zero), no prefix.
    mutating func hexDigitsOf(_ value: UInt64) {
        var shift = 60
        while shift > 0 && (value >> UInt64(shift)) & 15 == 0 { shift -= 4 }
        write(max: 16) { p in
            var n = 0
            TextBuffer.hexDigits.withUnsafeBufferPointer { digits in
                while shift >= 0 { p[n] = digits[Int((value >> UInt64(shift)) & 15)]; n &+= 1; shift -= 4 }
            }
            return n
        }
    }
    /// `0x1a4`.
    mutating func hex(_ value: UInt64) { byte(0x30); byte(0x78); hexDigitsOf(value) }

    mutating func hexBytes<C: Collection>(_ data: C) where C.Element == UInt8 {
        let n = data.count * 2
        write(max: n) { p in
            TextBuffer.hexDigits.withUnsafeBufferPointer { digits in
                var i = 0
                for b in data {
                    p[i] = digits[Int(b >> 4)]; p[i + 1] = digits[Int(b & 15)]; i += 2
                }
            }
            return n
        }
    }

    /// C octal with a leading 0 (`0100644`), `0` for zero.
    mutating func octal(_ v: UInt32) {
        byte(0x30)
        guard v != 0 else { return }
        var digits = 0
        var rest = v
        while rest > 0 { digits &+= 1; rest >>= 3 }
        write(max: digits) { p in
            var v = v
            var i = digits
            while i > 0 { i &-= 1; p[i] = 0x30 &+ UInt8(truncatingIfNeeded: v & 7); v >>= 3 }
            return digits
        }
    }

    /// `(0000000000000010 0 d)`: path as 16 hex digits, version in decimal, type letters.
    mutating func qid(_ q: Qid) {
        write(max: 17) { p in
            p[0] = 0x28
            TextBuffer.hexDigits.withUnsafeBufferPointer { digits in
                for i in 0..<16 { p[1 + i] = digits[Int((q.path >> UInt64(60 - 4 * i)) & 15)] }
            }
            return 17
        }
        byte(0x20)
        decimal(q.version)
        byte(0x20)
        var t = q.type.rawValue
        if t != 0 {
            for (bit, c) in QidType.letterBytes where t & bit != 0 { byte(c); t &= ~bit }
        }
        byte(0x29)
    }

    /// `0x8000 RDONLY|LARGEFILE`; `0x0` alone when there are no names.
    mutating func flags(_ raw: UInt64, _ names: [String]) {
        hex(raw)
        for (i, n) in names.enumerated() {
            byte(i == 0 ? 0x20 : 0x7C)
            append(n)
        }
    }

    /// `2 ENOENT`, or `2` when unnamed.
    mutating func enumerated(_ v: UInt64, _ name: String?) {
        decimal(v)
        if let n = name { byte(0x20); append(n) }
    }

    mutating func nUname(_ v: UInt32) {
        if v == NineP.noUname { append("NONUNAME") } else { decimal(v) }
    }

    /// `'escaped'`: the text of `P9String.escaped`, with `'` written `\'` (backslash is already escaped,
    /// so the text stays unambiguous).
    mutating func quoted(_ s: P9String) {
        byte(0x27)
        if TextBuffer.isPlainASCII(s.bytes) {
            append(contentsOf: s.bytes)
        } else {
            for b in s.escaped.utf8 {
                if b == 0x27 { byte(0x5C) }
                byte(b)
            }
        }
        byte(0x27)
    }

    /// Printable ASCII other than backslash and single quote: shown as is.
    static func isPlainASCII(_ b: [UInt8]) -> Bool {
        for c in b where c < 0x20 || c > 0x7E || c == 0x5C || c == 0x27 { return false }
        return true
    }

    /// A walk element: bare when non-empty with nothing that needs escaping or quoting (`usr`, `é`),
    /// otherwise quoted (`''`, `'a b'`, `'\xff'`).
    mutating func bare(_ s: P9String) {
        if s.bytes.isEmpty { byte(0x27); byte(0x27); return }
        var plain = true
        for c in s.bytes where c <= 0x20 || c == 0x27 || c == 0x5C || c == 0x7F { plain = false; break }
        if plain {
            if !s.bytes.contains(where: { $0 >= 0x80 }) { append(contentsOf: s.bytes); return }
            let e = s.escaped
            if !e.utf8.contains(0x5C) { append(e); return }
        }
        quoted(s)
    }

    /// Data: `''` when empty; quoted escaped text when the first 64 bytes are printable UTF-8 text
    /// (tab, newline and carriage return allowed); otherwise lowercase hex; more than 64 bytes: the first
    /// 64 (text cut back to a character boundary) followed by `…`.
    mutating func data<C: RandomAccessCollection>(_ d: C) where C.Element == UInt8, C.Index == Int {
        if d.isEmpty { byte(0x27); byte(0x27); return }
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

/// Bytes as a message line shows data (an Rread's, a Twrite's): `''` when empty, quoted escaped text when
/// the first 64 bytes are printable, otherwise lowercase hex, cut after 64 bytes with `…`. For bytes that
/// are not a message field: a run of unframeable bytes, whose line shows what they were.
public enum DataPreview {
    public static func text(_ bytes: [UInt8]) -> String { Fmt.data(bytes) }
    /// `text` after a space, or nothing for no bytes (a run reported without them).
    public static func spaced(_ bytes: [UInt8]) -> String { bytes.isEmpty ? "" : " " + Fmt.data(bytes) }
}

extension QidType {
    static let letterBytes: [(UInt8, UInt8)] = letterTable.map { ($0.0, $0.1.asciiValue!) }
}

/// Decimal numbers as UTF-8 bytes, for writers that build lines as bytes.
public enum DecimalText {
    /// How many decimal digits `value` has (1 for 0). Four digits per division: a trace line is mostly
    /// numbers (an Rgetattr line has twenty), and the ten-digit times took ten divisions each.
    @inline(__always)
    public static func count(_ value: UInt64) -> Int {
        var digits = 1
        var rest = value
        while rest >= 10_000 { rest /= 10_000; digits &+= 4 }
        if rest >= 100 { digits &+= rest >= 1_000 ? 3 : 2 } else if rest >= 10 { digits &+= 1 }
        return digits
    }

    /// Writes the `digits` (= `count(value)`, or more for leading zeros) decimal digits of `value` at `p`.
    @inline(__always)
    public static func write(_ value: UInt64, digits: Int, to p: UnsafeMutablePointer<UInt8>) {
        // Two digits per 64-bit division (the pair is split with a small multiply).
        var v = value
        var i = digits
        while i >= 2 {
            let r = UInt8(truncatingIfNeeded: v % 100)
            v /= 100
            i &-= 2
            p[i] = 0x30 &+ r / 10
            p[i &+ 1] = 0x30 &+ r % 10
        }
        if i == 1 { p[0] = 0x30 &+ UInt8(truncatingIfNeeded: v % 10) }
    }

    /// The decimal digits of `value`, appended (made in a stack buffer, then one append).
    public static func append(_ value: UInt64, to out: inout [UInt8]) {
        if value < 10 { out.append(0x30 + UInt8(value)); return }
        let n = count(value)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: n) { buffer in
            write(value, digits: n, to: buffer.baseAddress!)
            out.append(contentsOf: UnsafeBufferPointer(buffer))
        }
    }
}
