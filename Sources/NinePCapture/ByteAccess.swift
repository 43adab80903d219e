// Bounds-checked integer access to byte arrays. Every read returns nil when it would run past the end,
// so callers never trap on short or corrupt input.

extension Array where Element == UInt8 {
    /// True when `count` bytes starting at `offset` lie inside the array.
    @inline(__always)
    func has(_ offset: Int, _ length: Int) -> Bool {
        offset >= 0 && length >= 0 && offset <= self.count && length <= self.count - offset
    }

    func u8(_ offset: Int) -> UInt8? {
        has(offset, 1) ? self[offset] : nil
    }

    func u16(_ offset: Int, bigEndian: Bool) -> UInt16? {
        guard has(offset, 2) else { return nil }
        let a = UInt16(self[offset]), b = UInt16(self[offset + 1])
        return bigEndian ? (a << 8 | b) : (b << 8 | a)
    }

    func u32(_ offset: Int, bigEndian: Bool) -> UInt32? {
        guard has(offset, 4) else { return nil }
        var value: UInt32 = 0
        for i in 0..<4 {
            let byte = UInt32(self[offset + (bigEndian ? i : 3 - i)])
            value = value << 8 | byte
        }
        return value
    }

    func u64(_ offset: Int, bigEndian: Bool) -> UInt64? {
        guard has(offset, 8) else { return nil }
        var value: UInt64 = 0
        for i in 0..<8 {
            let byte = UInt64(self[offset + (bigEndian ? i : 7 - i)])
            value = value << 8 | byte
        }
        return value
    }

    /// A copy of `length` bytes at `offset`, or nil when out of range.
    func bytes(_ offset: Int, _ length: Int) -> [UInt8]? {
        has(offset, length) ? Array(self[offset..<(offset + length)]) : nil
    }

    mutating func appendU16(_ value: UInt16, bigEndian: Bool) {
        if bigEndian {
            append(UInt8(value >> 8)); append(UInt8(value & 0xFF))
        } else {
            append(UInt8(value & 0xFF)); append(UInt8(value >> 8))
        }
    }

    mutating func appendU32(_ value: UInt32, bigEndian: Bool) {
        for i in 0..<4 {
            let shift = UInt32(bigEndian ? (3 - i) * 8 : i * 8)
            append(UInt8(truncatingIfNeeded: value >> shift))
        }
    }

    mutating func appendU64(_ value: UInt64, bigEndian: Bool) {
        for i in 0..<8 {
            let shift = UInt64(bigEndian ? (7 - i) * 8 : i * 8)
            append(UInt8(truncatingIfNeeded: value >> shift))
        }
    }

    /// Appends zero bytes until the count is a multiple of four.
    mutating func padToFour() {
        while count % 4 != 0 { append(0) }
    }
}

/// The Internet checksum (RFC 1071) over `parts`, treated as one concatenated byte sequence.
func internetChecksum(_ parts: [ArraySlice<UInt8>]) -> UInt16 {
    var sum: UInt64 = 0
    var odd: UInt8? = nil
    for part in parts {
        var index = part.startIndex
        if let high = odd, index < part.endIndex {
            sum += UInt64(high) << 8 | UInt64(part[index])
            index += 1
            odd = nil
        }
        while index + 1 < part.endIndex {
            sum += UInt64(part[index]) << 8 | UInt64(part[index + 1])
            index += 2
        }
        if index < part.endIndex { odd = part[index] }
    }
    if let high = odd { sum += UInt64(high) << 8 }
    while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
    return ~UInt16(sum)
}
