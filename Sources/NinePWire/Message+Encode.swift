/// Body encoders, in wire order (MESSAGES.md "The table").
///
/// Dialect-dependent optionals: a field that is present is always written (a value built for .u encodes
/// its .u fields in any dialect). A field that is nil but required by the dialect gets its "none" value so
/// the frame stays well-formed: `n_uname` NONUNAME (~0) in .u/.L, Rerror `errno` 0 in .u, Rerror `ename` ""
/// unless it is .L's errno[4] alone, Tcreate `extension` "" in .u, and a stat's .u tail `extension ""`,
/// `n_uid/n_gid/n_muid` ~0 in .u.
extension Message {
    func encodeBody(into w: inout WireWriter, dialect d: Dialect) {
        switch self {
        case .tversion(let m): w.u32(m.msize); w.string(m.version)
        case .rversion(let m): w.u32(m.msize); w.string(m.version)
        case .tauth(let m):
            w.fid(m.afid); w.string(m.uname); w.string(m.aname)
            if let n = m.nUname ?? (d == .p9 ? nil : NineP.noUname) { w.u32(n) }
        case .rauth(let m): w.qid(m.aqid)
        case .tattach(let m):
            w.fid(m.fid); w.fid(m.afid); w.string(m.uname); w.string(m.aname)
            if let n = m.nUname ?? (d == .p9 ? nil : NineP.noUname) { w.u32(n) }
        case .rattach(let m): w.qid(m.qid)
        case .rerror(let m):
            if let e = m.ename ?? (d == .l && m.errno != nil ? nil : P9String("")) { w.string(e) }
            if let e = m.errno ?? (d == .u ? 0 : nil) { w.u32(e) }
        case .tflush(let m): w.tag(m.oldtag)
        case .twalk(let m):
            w.fid(m.fid); w.fid(m.newfid); w.u16(UInt16(truncatingIfNeeded: m.wnames.count))
            for n in m.wnames { w.string(n) }
        case .rwalk(let m):
            w.u16(UInt16(truncatingIfNeeded: m.wqids.count))
            for q in m.wqids { w.qid(q) }
        case .topen(let m): w.fid(m.fid); w.u8(m.mode.rawValue)
        case .ropen(let m): w.qid(m.qid); w.u32(m.iounit)
        case .tcreate(let m):
            w.fid(m.fid); w.string(m.name); w.u32(m.perm.rawValue); w.u8(m.mode.rawValue)
            if let e = m.extension ?? (d == .u ? P9String(bytes: []) : nil) { w.string(e) }
        case .rcreate(let m): w.qid(m.qid); w.u32(m.iounit)
        case .tread(let m): w.fid(m.fid); w.u64(m.offset); w.u32(m.count)
        case .rread(let m): w.data(m.payload)
        case .twrite(let m): w.fid(m.fid); w.u64(m.offset); w.data(m.payload)
        case .rwrite(let m): w.u32(m.count)
        case .tclunk(let m): w.fid(m.fid)
        case .tremove(let m): w.fid(m.fid)
        case .tstat(let m): w.fid(m.fid)
        case .rstat(let m): Message.encodeSizedStat(m.stat, into: &w, dialect: d)
        case .twstat(let m): w.fid(m.fid); Message.encodeSizedStat(m.stat, into: &w, dialect: d)
        case .rflush, .rclunk, .rremove, .rwstat, .rrename, .rsetattr, .rxattrcreate, .rfsync, .rlink,
             .rrenameat, .runlinkat:
            break
        case .rlerror(let m): w.u32(m.ecode.rawValue)
        case .tstatfs(let m): w.fid(m.fid)
        case .rstatfs(let m):
            w.u32(m.type); w.u32(m.bsize); w.u64(m.blocks); w.u64(m.bfree); w.u64(m.bavail)
            w.u64(m.files); w.u64(m.ffree); w.u64(m.fsid); w.u32(m.namelen)
        case .tlopen(let m): w.fid(m.fid); w.u32(m.flags.rawValue)
        case .rlopen(let m): w.qid(m.qid); w.u32(m.iounit)
        case .tlcreate(let m):
            w.fid(m.fid); w.string(m.name); w.u32(m.flags.rawValue); w.u32(m.mode); w.u32(m.gid)
        case .rlcreate(let m): w.qid(m.qid); w.u32(m.iounit)
        case .tsymlink(let m): w.fid(m.fid); w.string(m.name); w.string(m.symtgt); w.u32(m.gid)
        case .rsymlink(let m): w.qid(m.qid)
        case .tmknod(let m):
            w.fid(m.dfid); w.string(m.name); w.u32(m.mode); w.u32(m.major); w.u32(m.minor); w.u32(m.gid)
        case .rmknod(let m): w.qid(m.qid)
        case .trename(let m): w.fid(m.fid); w.fid(m.dfid); w.string(m.name)
        case .treadlink(let m): w.fid(m.fid)
        case .rreadlink(let m): w.string(m.target)
        case .tgetattr(let m): w.fid(m.fid); w.u64(m.requestMask.rawValue)
        case .rgetattr(let m):
            w.u64(m.valid.rawValue); w.qid(m.qid); w.u32(m.mode); w.u32(m.uid); w.u32(m.gid)
            w.u64(m.nlink); w.u64(m.rdev); w.u64(m.size); w.u64(m.blksize); w.u64(m.blocks)
            w.u64(m.atimeSec); w.u64(m.atimeNsec); w.u64(m.mtimeSec); w.u64(m.mtimeNsec)
            w.u64(m.ctimeSec); w.u64(m.ctimeNsec); w.u64(m.btimeSec); w.u64(m.btimeNsec)
            w.u64(m.gen); w.u64(m.dataVersion)
        case .tsetattr(let m):
            w.fid(m.fid); w.u32(m.valid.rawValue); w.u32(m.mode); w.u32(m.uid); w.u32(m.gid); w.u64(m.size)
            w.u64(m.atimeSec); w.u64(m.atimeNsec); w.u64(m.mtimeSec); w.u64(m.mtimeNsec)
        case .txattrwalk(let m): w.fid(m.fid); w.fid(m.newfid); w.string(m.name)
        case .rxattrwalk(let m): w.u64(m.size)
        case .txattrcreate(let m): w.fid(m.fid); w.string(m.name); w.u64(m.attrSize); w.u32(m.flags)
        case .treaddir(let m): w.fid(m.fid); w.u64(m.offset); w.u32(m.count)
        case .rreaddir(let m): w.data(m.payload)
        case .tfsync(let m): w.fid(m.fid); w.u32(m.datasync)
        case .tlock(let m):
            w.fid(m.fid); w.u8(m.type.rawValue); w.u32(m.flags.rawValue); w.u64(m.start); w.u64(m.length)
            w.u32(m.procId); w.string(m.clientId)
        case .rlock(let m): w.u8(m.status.rawValue)
        case .tgetlock(let m):
            w.fid(m.fid); w.u8(m.type.rawValue); w.u64(m.start); w.u64(m.length); w.u32(m.procId); w.string(m.clientId)
        case .rgetlock(let m):
            w.u8(m.type.rawValue); w.u64(m.start); w.u64(m.length); w.u32(m.procId); w.string(m.clientId)
        case .tlink(let m): w.fid(m.dfid); w.fid(m.fid); w.string(m.name)
        case .tmkdir(let m): w.fid(m.dfid); w.string(m.name); w.u32(m.mode); w.u32(m.gid)
        case .rmkdir(let m): w.qid(m.qid)
        case .trenameat(let m): w.fid(m.olddirfid); w.string(m.oldname); w.fid(m.newdirfid); w.string(m.newname)
        case .tunlinkat(let m): w.fid(m.dirfid); w.string(m.name); w.u32(m.flags)
        case .unknown(_, let body): w.bytes.append(contentsOf: body)
        }
    }

    /// `n[2] stat[n]` (stat(5): "the size appears twice").
    static func encodeSizedStat(_ s: Stat, into w: inout WireWriter, dialect: Dialect) {
        let at = w.bytes.count
        w.u16(0)
        s.encode(into: &w, dialect: dialect)
        w.patch16(UInt16(truncatingIfNeeded: w.bytes.count - at - 2), at: at)
    }

    /// A size estimate so the writer allocates once for typical messages.
    var encodedSizeHint: Int {
        switch self {
        case .rread(let m): return 11 + m.payload.count
        case .twrite(let m): return 23 + m.payload.count
        case .rreaddir(let m): return 11 + m.payload.count
        case .unknown(_, let body): return 7 + body.count
        default: return 256
        }
    }
}

extension Stat {
    /// Writes `size[2]` and the entry (with the .u tail when present, or in .u when absent: see
    /// `Message.encodeBody`).
    func encode(into w: inout WireWriter, dialect: Dialect) {
        let at = w.bytes.count
        w.u16(0)
        w.u16(type); w.u32(dev); w.qid(qid); w.u32(mode.rawValue); w.u32(atime); w.u32(mtime); w.u64(length)
        w.string(name); w.string(uid); w.string(gid); w.string(muid)
        let tail = unix ?? (dialect == .u ? UnixStat(extension: P9String(bytes: []), nUid: ~0, nGid: ~0, nMuid: ~0) : nil)
        if let t = tail {
            w.string(t.extension); w.u32(t.nUid); w.u32(t.nGid); w.u32(t.nMuid)
        }
        w.patch16(UInt16(truncatingIfNeeded: w.bytes.count - at - 2), at: at)
    }

    /// One stat entry as on the wire, `size[2]` included (the form directory reads carry).
    public func encode(dialect: Dialect) -> [UInt8] {
        var w = WireWriter(capacity: 64 + name.bytes.count + uid.bytes.count + gid.bytes.count + muid.bytes.count)
        encode(into: &w, dialect: dialect)
        return w.bytes
    }

    /// Concatenated entries, as in the data of a 9P2000/.u directory Rread.
    public static func encodeAll(_ stats: [Stat], dialect: Dialect) -> [UInt8] {
        var w = WireWriter(capacity: stats.count * 80)
        for s in stats { s.encode(into: &w, dialect: dialect) }
        return w.bytes
    }
}

extension Dirent {
    /// The entry as on the wire: `qid[13] offset[8] type[1] name[s]`.
    public func encode() -> [UInt8] {
        var w = WireWriter(capacity: 24 + name.bytes.count)
        encode(into: &w)
        return w.bytes
    }
    func encode(into w: inout WireWriter) {
        w.qid(qid); w.u64(offset); w.u8(type); w.string(name)
    }
    /// Packed entries, as in Rreaddir data.
    public static func encodeAll(_ entries: [Dirent]) -> [UInt8] {
        var w = WireWriter(capacity: entries.reduce(0) { $0 + 24 + $1.name.bytes.count })
        for e in entries { e.encode(into: &w) }
        return w.bytes
    }
    /// Bytes this entry occupies on the wire (for readdir packing).
    public var wireSize: Int { 24 + name.bytes.count }
}
