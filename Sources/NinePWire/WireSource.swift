/// Internal decoding machinery: one description of every wire layout (the `decodeBody` functions), read
/// through a `WireSource`. Two sources exist: `FastReader` (the hot path, no bookkeeping) and `TreeReader`
/// (records a `FieldNode` per field for `Fcall.fieldTree`). The layout code is generic and specialised
/// for each, so the fast path pays nothing for the field tree.

/// How a field's value is rendered in a field tree (and which names its bits carry).
enum FieldFormat: Sendable {
    case dec, hex, size, fid, tag, msgType, openMode, dirMode, posixMode, lopenFlags, getattrMask
    case setattrValid, errno, lockType, lockFlags, lockStatus, direntType, unlinkFlags, xattrFlags, nUname, count
    /// A time in seconds since the epoch (stat's `atime`, getattr's `atime_sec`); shown as its number, with
    /// the date as the node's note. `nanoseconds`: the fraction that follows a `seconds` field, which then
    /// gets it in its note.
    case seconds, nanoseconds
}

/// A field descriptor: the manual's name, an optional element index (`wname[3]`), and a display format.
struct WireField: Sendable {
    let name: StaticString
    let index: Int
    let format: FieldFormat
    init(_ name: StaticString, _ format: FieldFormat = .dec, index: Int = -1) {
        self.name = name; self.format = format; self.index = index
    }
    var label: String {
        let n = name.description
        return index < 0 ? n : n + "[" + String(index) + "]"
    }
}

/// What a byte run holds, so the tree reader can show its entries as children.
enum DataContent: Sendable {
    case raw
    case dirents
    case stats(Dialect)
}

protocol WireSource {
    /// Absolute offset in the frame of the next byte.
    var offset: Int { get }
    /// Bytes left in the body.
    var remaining: Int { get }
    mutating func u8(_ f: WireField) throws(DecodeError) -> UInt8
    mutating func u16(_ f: WireField) throws(DecodeError) -> UInt16
    mutating func u32(_ f: WireField) throws(DecodeError) -> UInt32
    mutating func u64(_ f: WireField) throws(DecodeError) -> UInt64
    mutating func string(_ f: WireField) throws(DecodeError) -> P9String
    mutating func qid(_ f: WireField) throws(DecodeError) -> Qid
    /// `count` raw bytes; fails (before allocating) if fewer remain.
    mutating func bytes(_ count: Int, _ f: WireField, content: DataContent) throws(DecodeError) -> [UInt8]
    /// The same, as a message's data field: shared with the frame where the source can (see `DataBytes`).
    mutating func payload(_ count: Int, _ f: WireField, content: DataContent) throws(DecodeError) -> DataBytes
    mutating func beginGroup(_ f: WireField)
    mutating func endGroup()
    /// An error located at `offset` whose field name is qualified by the open groups.
    func error(at offset: Int, _ f: WireField, _ reason: String) -> DecodeError
}

extension WireSource {
    @inline(never)
    func truncated(_ f: WireField, need: Int) -> DecodeError {
        error(at: offset, f, "needs \(need) bytes, only \(remaining) left")
    }
    mutating func payload(_ count: Int, _ f: WireField, content: DataContent) throws(DecodeError) -> DataBytes {
        DataBytes(try bytes(count, f, content: content))
    }
    @inline(__always)
    mutating func fid(_ f: WireField) throws(DecodeError) -> Fid { Fid(try u32(f)) }
    @inline(__always)
    mutating func tag(_ f: WireField) throws(DecodeError) -> Tag { Tag(try u16(f)) }
}

/// The hot-path reader over a borrowed buffer. Offsets reported in errors are `origin + position`.
struct FastReader: WireSource {
    let base: UnsafeRawBufferPointer
    var pos: Int
    let end: Int
    let origin: Int
    /// One level of group naming is enough for the messages (only `stat` nests fields).
    var group: WireField?
    /// The array `base` is the whole of (from index 0, origin 0), when there is one: data fields are then
    /// shared with it rather than copied (`payload`).
    var owner: [UInt8]?

    init(_ base: UnsafeRawBufferPointer, from start: Int = 0, origin: Int = 0) {
        self.base = base; self.pos = start; self.end = base.count; self.origin = origin
    }

    var offset: Int { origin + pos }
    var remaining: Int { end - pos }

    @inline(never)
    func error(at offset: Int, _ f: WireField, _ reason: String) -> DecodeError {
        let name = group.map { $0.label + "." + f.label } ?? f.label
        return DecodeError(offset: offset, field: name, reason: reason)
    }

    @inline(__always)
    mutating func u8(_ f: WireField) throws(DecodeError) -> UInt8 {
        guard pos < end else { throw truncated(f, need: 1) }
        let v = base[pos]; pos += 1; return v
    }
    @inline(__always)
    mutating func u16(_ f: WireField) throws(DecodeError) -> UInt16 {
        guard end - pos >= 2 else { throw truncated(f, need: 2) }
        let v = UInt16(littleEndian: base.loadUnaligned(fromByteOffset: pos, as: UInt16.self)); pos += 2; return v
    }
    @inline(__always)
    mutating func u32(_ f: WireField) throws(DecodeError) -> UInt32 {
        guard end - pos >= 4 else { throw truncated(f, need: 4) }
        let v = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: pos, as: UInt32.self)); pos += 4; return v
    }
    @inline(__always)
    mutating func u64(_ f: WireField) throws(DecodeError) -> UInt64 {
        guard end - pos >= 8 else { throw truncated(f, need: 8) }
        let v = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: pos, as: UInt64.self)); pos += 8; return v
    }
    mutating func string(_ f: WireField) throws(DecodeError) -> P9String {
        guard end - pos >= 2 else { throw truncated(f, need: 2) }
        let n = Int(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: pos, as: UInt16.self)))
        guard end - pos - 2 >= n else {
            throw error(at: offset, f, "string length \(n) exceeds the \(end - pos - 2) bytes left")
        }
        pos += 2
        let s = P9String(bytes: Array(UnsafeRawBufferPointer(rebasing: base[pos..<(pos + n)])))
        pos += n
        return s
    }
    @inline(__always)
    mutating func qid(_ f: WireField) throws(DecodeError) -> Qid {
        guard end - pos >= 13 else { throw truncated(f, need: 13) }
        let t = base[pos]
        let v = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: pos + 1, as: UInt32.self))
        let p = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: pos + 5, as: UInt64.self))
        pos += 13
        return Qid(type: QidType(rawValue: t), version: v, path: p)
    }
    /// The range of the next `count` bytes, consumed; fails (before anything is allocated) if fewer remain.
    @inline(__always)
    private mutating func take(_ count: Int, _ f: WireField) throws(DecodeError) -> Range<Int> {
        guard count >= 0, end - pos >= count else {
            throw error(at: offset, f, "count \(count) exceeds the \(end - pos) bytes left")
        }
        defer { pos += count }
        return pos..<(pos + count)
    }
    mutating func bytes(_ count: Int, _ f: WireField, content: DataContent) throws(DecodeError) -> [UInt8] {
        Array(UnsafeRawBufferPointer(rebasing: base[try take(count, f)]))
    }
    mutating func payload(_ count: Int, _ f: WireField, content: DataContent) throws(DecodeError) -> DataBytes {
        guard let owner else { return DataBytes(try bytes(count, f, content: content)) }
        return DataBytes(sharing: owner, range: try take(count, f))
    }
    mutating func beginGroup(_ f: WireField) { group = f }
    mutating func endGroup() { group = nil }
}
