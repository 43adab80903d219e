/// Body layouts of the 9P2000.L messages (codes 7…77), per MESSAGES.md "The table" (Linux/diod wire format:
/// Tfsync carries `datasync[4]`, Tgetlock/Rgetlock have no `flags`). They are decoded in every dialect:
/// the codes do not overlap the classic ones, so a capture decoded with the wrong dialect still shows them.
extension Message {
    static func decodeLinux<R: WireSource>(_ type: UInt8, _ r: inout R) throws(DecodeError) -> Message? {
        switch type {
        case 7:
            return .rlerror(Rlerror(ecode: Errno(try r.u32(WireField("ecode", .errno)))))
        case 8:
            return .tstatfs(Tstatfs(fid: try r.fid(WireField("fid", .fid))))
        case 9:
            let type = try r.u32(WireField("type", .hex))
            let bsize = try r.u32(WireField("bsize"))
            let blocks = try r.u64(WireField("blocks"))
            let bfree = try r.u64(WireField("bfree"))
            let bavail = try r.u64(WireField("bavail"))
            let files = try r.u64(WireField("files"))
            let ffree = try r.u64(WireField("ffree"))
            let fsid = try r.u64(WireField("fsid", .hex))
            let namelen = try r.u32(WireField("namelen"))
            return .rstatfs(Rstatfs(type: type, bsize: bsize, blocks: blocks, bfree: bfree, bavail: bavail,
                                    files: files, ffree: ffree, fsid: fsid, namelen: namelen))
        case 12:
            let fid = try r.fid(WireField("fid", .fid))
            return .tlopen(Tlopen(fid: fid, flags: LOpenFlags(rawValue: try r.u32(WireField("flags", .lopenFlags)))))
        case 13:
            let qid = try r.qid(WireField("qid"))
            return .rlopen(Rlopen(qid: qid, iounit: try r.u32(WireField("iounit"))))
        case 14:
            let fid = try r.fid(WireField("fid", .fid))
            let name = try r.string(WireField("name"))
            let flags = LOpenFlags(rawValue: try r.u32(WireField("flags", .lopenFlags)))
            let mode = try r.u32(WireField("mode", .posixMode))
            let gid = try r.u32(WireField("gid"))
            return .tlcreate(Tlcreate(fid: fid, name: name, flags: flags, mode: mode, gid: gid))
        case 15:
            let qid = try r.qid(WireField("qid"))
            return .rlcreate(Rlcreate(qid: qid, iounit: try r.u32(WireField("iounit"))))
        case 16:
            let fid = try r.fid(WireField("fid", .fid))
            let name = try r.string(WireField("name"))
            let symtgt = try r.string(WireField("symtgt"))
            return .tsymlink(Tsymlink(fid: fid, name: name, symtgt: symtgt, gid: try r.u32(WireField("gid"))))
        case 17:
            return .rsymlink(Rsymlink(qid: try r.qid(WireField("qid"))))
        case 18:
            let dfid = try r.fid(WireField("dfid", .fid))
            let name = try r.string(WireField("name"))
            let mode = try r.u32(WireField("mode", .posixMode))
            let major = try r.u32(WireField("major"))
            let minor = try r.u32(WireField("minor"))
            let gid = try r.u32(WireField("gid"))
            return .tmknod(Tmknod(dfid: dfid, name: name, mode: mode, major: major, minor: minor, gid: gid))
        case 19:
            return .rmknod(Rmknod(qid: try r.qid(WireField("qid"))))
        case 20:
            let fid = try r.fid(WireField("fid", .fid))
            let dfid = try r.fid(WireField("dfid", .fid))
            return .trename(Trename(fid: fid, dfid: dfid, name: try r.string(WireField("name"))))
        case 21:
            return .rrename
        case 22:
            return .treadlink(Treadlink(fid: try r.fid(WireField("fid", .fid))))
        case 23:
            return .rreadlink(Rreadlink(target: try r.string(WireField("target"))))
        case 24:
            let fid = try r.fid(WireField("fid", .fid))
            let mask = GetattrMask(rawValue: try r.u64(WireField("request_mask", .getattrMask)))
            return .tgetattr(Tgetattr(fid: fid, requestMask: mask))
        case 25:
            return .rgetattr(try decodeRgetattr(&r))
        case 26:
            let fid = try r.fid(WireField("fid", .fid))
            let valid = SetattrValid(rawValue: try r.u32(WireField("valid", .setattrValid)))
            let mode = try r.u32(WireField("mode", .posixMode))
            let uid = try r.u32(WireField("uid"))
            let gid = try r.u32(WireField("gid"))
            let size = try r.u64(WireField("size"))
            let atimeSec = try r.u64(WireField("atime_sec", .seconds))
            let atimeNsec = try r.u64(WireField("atime_nsec", .nanoseconds))
            let mtimeSec = try r.u64(WireField("mtime_sec", .seconds))
            let mtimeNsec = try r.u64(WireField("mtime_nsec", .nanoseconds))
            return .tsetattr(Tsetattr(fid: fid, valid: valid, mode: mode, uid: uid, gid: gid, size: size,
                                      atimeSec: atimeSec, atimeNsec: atimeNsec, mtimeSec: mtimeSec, mtimeNsec: mtimeNsec))
        case 27:
            return .rsetattr
        case 30:
            let fid = try r.fid(WireField("fid", .fid))
            let newfid = try r.fid(WireField("newfid", .fid))
            return .txattrwalk(Txattrwalk(fid: fid, newfid: newfid, name: try r.string(WireField("name"))))
        case 31:
            return .rxattrwalk(Rxattrwalk(size: try r.u64(WireField("size"))))
        case 32:
            let fid = try r.fid(WireField("fid", .fid))
            let name = try r.string(WireField("name"))
            let attrSize = try r.u64(WireField("attr_size"))
            let flags = try r.u32(WireField("flags", .xattrFlags))
            return .txattrcreate(Txattrcreate(fid: fid, name: name, attrSize: attrSize, flags: flags))
        case 33:
            return .rxattrcreate
        case 40:
            let fid = try r.fid(WireField("fid", .fid))
            let offset = try r.u64(WireField("offset"))
            return .treaddir(Treaddir(fid: fid, offset: offset, count: try r.u32(WireField("count"))))
        case 41:
            let count = Int(try r.u32(WireField("count")))
            return .rreaddir(Rreaddir(payload: try r.payload(count, WireField("data"), content: .dirents)))
        case 50:
            let fid = try r.fid(WireField("fid", .fid))
            return .tfsync(Tfsync(fid: fid, datasync: try r.u32(WireField("datasync"))))
        case 51:
            return .rfsync
        case 52:
            let fid = try r.fid(WireField("fid", .fid))
            let type = LockType(rawValue: try r.u8(WireField("type", .lockType)))
            let flags = LockFlags(rawValue: try r.u32(WireField("flags", .lockFlags)))
            let start = try r.u64(WireField("start"))
            let length = try r.u64(WireField("length"))
            let procId = try r.u32(WireField("proc_id"))
            let clientId = try r.string(WireField("client_id"))
            return .tlock(Tlock(fid: fid, type: type, flags: flags, start: start, length: length,
                                procId: procId, clientId: clientId))
        case 53:
            return .rlock(Rlock(status: LockStatus(rawValue: try r.u8(WireField("status", .lockStatus)))))
        case 54:
            let fid = try r.fid(WireField("fid", .fid))
            let type = LockType(rawValue: try r.u8(WireField("type", .lockType)))
            let start = try r.u64(WireField("start"))
            let length = try r.u64(WireField("length"))
            let procId = try r.u32(WireField("proc_id"))
            let clientId = try r.string(WireField("client_id"))
            return .tgetlock(Tgetlock(fid: fid, type: type, start: start, length: length, procId: procId, clientId: clientId))
        case 55:
            let type = LockType(rawValue: try r.u8(WireField("type", .lockType)))
            let start = try r.u64(WireField("start"))
            let length = try r.u64(WireField("length"))
            let procId = try r.u32(WireField("proc_id"))
            let clientId = try r.string(WireField("client_id"))
            return .rgetlock(Rgetlock(type: type, start: start, length: length, procId: procId, clientId: clientId))
        case 70:
            let dfid = try r.fid(WireField("dfid", .fid))
            let fid = try r.fid(WireField("fid", .fid))
            return .tlink(Tlink(dfid: dfid, fid: fid, name: try r.string(WireField("name"))))
        case 71:
            return .rlink
        case 72:
            let dfid = try r.fid(WireField("dfid", .fid))
            let name = try r.string(WireField("name"))
            let mode = try r.u32(WireField("mode", .posixMode))
            return .tmkdir(Tmkdir(dfid: dfid, name: name, mode: mode, gid: try r.u32(WireField("gid"))))
        case 73:
            return .rmkdir(Rmkdir(qid: try r.qid(WireField("qid"))))
        case 74:
            let olddirfid = try r.fid(WireField("olddirfid", .fid))
            let oldname = try r.string(WireField("oldname"))
            let newdirfid = try r.fid(WireField("newdirfid", .fid))
            let newname = try r.string(WireField("newname"))
            return .trenameat(Trenameat(olddirfid: olddirfid, oldname: oldname, newdirfid: newdirfid, newname: newname))
        case 75:
            return .rrenameat
        case 76:
            let dirfid = try r.fid(WireField("dirfd", .fid))
            let name = try r.string(WireField("name"))
            return .tunlinkat(Tunlinkat(dirfid: dirfid, name: name, flags: try r.u32(WireField("flags", .unlinkFlags))))
        case 77:
            return .runlinkat
        default:
            return nil
        }
    }

    static func decodeRgetattr<R: WireSource>(_ r: inout R) throws(DecodeError) -> Rgetattr {
        let valid = GetattrMask(rawValue: try r.u64(WireField("valid", .getattrMask)))
        let qid = try r.qid(WireField("qid"))
        var a = Rgetattr(valid: valid, qid: qid)
        a.mode = try r.u32(WireField("mode", .posixMode))
        a.uid = try r.u32(WireField("uid"))
        a.gid = try r.u32(WireField("gid"))
        a.nlink = try r.u64(WireField("nlink"))
        a.rdev = try r.u64(WireField("rdev", .hex))
        a.size = try r.u64(WireField("size"))
        a.blksize = try r.u64(WireField("blksize"))
        a.blocks = try r.u64(WireField("blocks"))
        a.atimeSec = try r.u64(WireField("atime_sec", .seconds))
        a.atimeNsec = try r.u64(WireField("atime_nsec", .nanoseconds))
        a.mtimeSec = try r.u64(WireField("mtime_sec", .seconds))
        a.mtimeNsec = try r.u64(WireField("mtime_nsec", .nanoseconds))
        a.ctimeSec = try r.u64(WireField("ctime_sec", .seconds))
        a.ctimeNsec = try r.u64(WireField("ctime_nsec", .nanoseconds))
        a.btimeSec = try r.u64(WireField("btime_sec", .seconds))
        a.btimeNsec = try r.u64(WireField("btime_nsec", .nanoseconds))
        a.gen = try r.u64(WireField("gen"))
        a.dataVersion = try r.u64(WireField("data_version"))
        return a
    }
}
