import NinePWire

/// Little-endian byte building for the payloads the server packs itself (Rreaddir data, directory reads).
struct ByteSink {
    var bytes: [UInt8] = []
    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { bytes.append(UInt8(v & 0xFF)); bytes.append(UInt8(v >> 8)) }
    mutating func u32(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
    mutating func u64(_ v: UInt64) { for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
    mutating func string(_ s: P9String) {
        let b = s.bytes.prefix(Int(UInt16.max))
        u16(UInt16(b.count))
        bytes += b
    }
    mutating func qid(_ q: Qid) { u8(q.type.rawValue); u32(q.version); u64(q.path) }
}

/// Rreaddir dirents: `qid[13] offset[8] type[1] name[s]`.
enum DirentPacking {
    static func append(_ e: DirectoryEntry, to data: inout [UInt8]) {
        var s = ByteSink()
        s.qid(e.qid)
        s.u64(e.cookie)
        s.u8(e.type.dirent)
        s.string(e.name)
        data += s.bytes
    }
}

/// Classic stat entries as packed in directory reads (stat(5)); `.u` adds extension and numeric ids.
enum StatPacking {
    static func encode(_ st: Stat, dialect: Dialect) -> [UInt8] {
        var body = ByteSink()
        body.u16(st.type)
        body.u32(st.dev)
        body.qid(st.qid)
        body.u32(st.mode.rawValue)
        body.u32(st.atime)
        body.u32(st.mtime)
        body.u64(st.length)
        body.string(st.name)
        body.string(st.uid)
        body.string(st.gid)
        body.string(st.muid)
        if dialect == .u {
            let u = st.unix ?? Stat.UnixStat(extension: "", nUid: NineP.noUname, nGid: NineP.noUname, nMuid: NineP.noUname)
            body.string(u.extension)
            body.u32(u.nUid)
            body.u32(u.nGid)
            body.u32(u.nMuid)
        }
        var out = ByteSink()
        out.u16(UInt16(body.bytes.count))
        return out.bytes + body.bytes
    }
}
