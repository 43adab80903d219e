/// Little-endian byte writer used by the encoders.
struct WireWriter {
    var bytes: [UInt8]

    init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: v)); bytes.append(UInt8(truncatingIfNeeded: v >> 8))
    }
    mutating func u32(_ v: UInt32) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }
    mutating func u64(_ v: UInt64) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }
    mutating func fid(_ f: Fid) { u32(f.rawValue) }
    mutating func tag(_ t: Tag) { u16(t.rawValue) }
    /// `len[2]` + bytes. A string longer than 65535 bytes cannot be represented: it is truncated to
    /// 65535 bytes so the frame stays well-formed (callers should validate lengths beforehand).
    mutating func string(_ s: P9String) {
        let n = Swift.min(s.bytes.count, Int(UInt16.max))
        u16(UInt16(n))
        if n == s.bytes.count { bytes.append(contentsOf: s.bytes) } else { bytes.append(contentsOf: s.bytes[0..<n]) }
    }
    mutating func qid(_ q: Qid) {
        u8(q.type.rawValue); u32(q.version); u64(q.path)
    }
    /// `count[4]` + data.
    mutating func data(_ d: DataBytes) {
        u32(UInt32(truncatingIfNeeded: d.count))
        d.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }
    /// Overwrites a previously written `u16` at `at`.
    mutating func patch16(_ v: UInt16, at: Int) {
        bytes[at] = UInt8(truncatingIfNeeded: v); bytes[at + 1] = UInt8(truncatingIfNeeded: v >> 8)
    }
    mutating func patch32(_ v: UInt32, at: Int) {
        for i in 0..<4 { bytes[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
    }
}
