/// Body layouts of the classic messages (codes 100…127), per MESSAGES.md "The table".
///
/// Dialect rules for the optional fields (documented on `Fcall.decode`):
/// - Tauth/Tattach `n_uname[4]`: read in 9P2000.u and 9P2000.L.
/// - Rerror `errno[4]`: read in 9P2000.u; in 9P2000.L (where Rerror is not legal) a body of exactly 4 bytes
///   is `errno[4]` alone, no `ename` (nfs-ganesha's error reply, which the Linux client and Wireshark read so),
///   and otherwise errno is read when exactly 4 bytes follow `ename` (the .u layout); never in 9P2000.
/// - Tcreate `extension[s]` and the stat `.u` tail: read in 9P2000.u; in 9P2000.L (where these messages
///   are not legal) read when bytes remain for them; never in 9P2000.
extension Message {
    static func decodeClassic<R: WireSource>(_ type: UInt8, _ r: inout R, _ d: Dialect) throws(DecodeError) -> Message? {
        switch type {
        case 100:
            let msize = try r.u32(WireField("msize"))
            return .tversion(Tversion(msize: msize, version: try r.string(WireField("version"))))
        case 101:
            let msize = try r.u32(WireField("msize"))
            return .rversion(Rversion(msize: msize, version: try r.string(WireField("version"))))
        case 102:
            let afid = try r.fid(WireField("afid", .fid))
            let uname = try r.string(WireField("uname"))
            let aname = try r.string(WireField("aname"))
            let n: UInt32? = d == .p9 ? nil : try r.u32(WireField("n_uname", .nUname))
            return .tauth(Tauth(afid: afid, uname: uname, aname: aname, nUname: n))
        case 103:
            return .rauth(Rauth(aqid: try r.qid(WireField("aqid"))))
        case 104:
            let fid = try r.fid(WireField("fid", .fid))
            let afid = try r.fid(WireField("afid", .fid))
            let uname = try r.string(WireField("uname"))
            let aname = try r.string(WireField("aname"))
            let n: UInt32? = d == .p9 ? nil : try r.u32(WireField("n_uname", .nUname))
            return .tattach(Tattach(fid: fid, afid: afid, uname: uname, aname: aname, nUname: n))
        case 105:
            return .rattach(Rattach(qid: try r.qid(WireField("qid"))))
        case 107:
            if d == .l && r.remaining == 4 { return .rerror(Rerror(ename: nil, errno: try r.u32(WireField("errno", .errno)))) }
            let ename = try r.string(WireField("ename"))
            let hasErrno = d == .u || (d == .l && r.remaining == 4)
            let errno: UInt32? = hasErrno ? try r.u32(WireField("errno", .errno)) : nil
            return .rerror(Rerror(ename: ename, errno: errno))
        case 108:
            return .tflush(Tflush(oldtag: try r.tag(WireField("oldtag", .tag))))
        case 109:
            return .rflush
        case 110:
            let fid = try r.fid(WireField("fid", .fid))
            let newfid = try r.fid(WireField("newfid", .fid))
            let n = Int(try r.u16(WireField("nwname", .count)))
            var names: [P9String] = []
            names.reserveCapacity(Swift.min(n, r.remaining / 2))   // bounded by the bytes present
            for i in 0..<n { names.append(try r.string(WireField("wname", index: i))) }
            return .twalk(Twalk(fid: fid, newfid: newfid, wnames: names))
        case 111:
            let n = Int(try r.u16(WireField("nwqid", .count)))
            var qids: [Qid] = []
            qids.reserveCapacity(Swift.min(n, r.remaining / Qid.wireSize))
            for i in 0..<n { qids.append(try r.qid(WireField("wqid", index: i))) }
            return .rwalk(Rwalk(wqids: qids))
        case 112:
            let fid = try r.fid(WireField("fid", .fid))
            return .topen(Topen(fid: fid, mode: OpenMode(rawValue: try r.u8(WireField("mode", .openMode)))))
        case 113:
            let qid = try r.qid(WireField("qid"))
            return .ropen(Ropen(qid: qid, iounit: try r.u32(WireField("iounit"))))
        case 114:
            let fid = try r.fid(WireField("fid", .fid))
            let name = try r.string(WireField("name"))
            let perm = DirMode(rawValue: try r.u32(WireField("perm", .dirMode)))
            let mode = OpenMode(rawValue: try r.u8(WireField("mode", .openMode)))
            let hasExt = d == .u || (d == .l && r.remaining > 0)
            let ext: P9String? = hasExt ? try r.string(WireField("extension")) : nil
            return .tcreate(Tcreate(fid: fid, name: name, perm: perm, mode: mode, extension: ext))
        case 115:
            let qid = try r.qid(WireField("qid"))
            return .rcreate(Rcreate(qid: qid, iounit: try r.u32(WireField("iounit"))))
        case 116:
            let fid = try r.fid(WireField("fid", .fid))
            let offset = try r.u64(WireField("offset"))
            return .tread(Tread(fid: fid, offset: offset, count: try r.u32(WireField("count"))))
        case 117:
            let count = Int(try r.u32(WireField("count")))
            let content: DataContent = d == .l ? .raw : .stats(d)
            return .rread(Rread(payload: try r.payload(count, WireField("data"), content: content)))
        case 118:
            let fid = try r.fid(WireField("fid", .fid))
            let offset = try r.u64(WireField("offset"))
            let count = Int(try r.u32(WireField("count")))
            return .twrite(Twrite(fid: fid, offset: offset, payload: try r.payload(count, WireField("data"), content: .raw)))
        case 119:
            return .rwrite(Rwrite(count: try r.u32(WireField("count"))))
        case 120:
            return .tclunk(Tclunk(fid: try r.fid(WireField("fid", .fid))))
        case 121:
            return .rclunk
        case 122:
            return .tremove(Tremove(fid: try r.fid(WireField("fid", .fid))))
        case 123:
            return .rremove
        case 124:
            return .tstat(Tstat(fid: try r.fid(WireField("fid", .fid))))
        case 125:
            return .rstat(Rstat(stat: try decodeSizedStat(&r, d)))
        case 126:
            let fid = try r.fid(WireField("fid", .fid))
            return .twstat(Twstat(fid: fid, stat: try decodeSizedStat(&r, d)))
        case 127:
            return .rwstat
        default:
            return nil
        }
    }

    /// `n[2] stat[n]`: the outer size must match the stat's own size + 2.
    static func decodeSizedStat<R: WireSource>(_ r: inout R, _ d: Dialect) throws(DecodeError) -> Stat {
        let nField = WireField("n", .size)
        let at = r.offset
        let n = Int(try r.u16(nField))
        guard n <= r.remaining else { throw r.error(at: at, nField, "stat length \(n) exceeds the \(r.remaining) bytes left") }
        let start = r.offset
        let stat = try Stat.decode(&r, d, WireField("stat"))
        guard r.offset - start == n else {
            throw r.error(at: at, nField, "n is \(n) but the stat occupies \(r.offset - start) bytes")
        }
        return stat
    }
}

extension Stat {
    /// One stat entry (stat(5), plus the 9P2000.u tail); see `Message.decodeClassic` for the dialect rules.
    static func decode<R: WireSource>(_ r: inout R, _ d: Dialect, _ group: WireField) throws(DecodeError) -> Stat {
        r.beginGroup(group)
        let sizeField = WireField("size", .size)
        let at = r.offset
        let size = Int(try r.u16(sizeField))
        guard size <= r.remaining else {
            throw r.error(at: at, sizeField, "stat size \(size) exceeds the \(r.remaining) bytes left")
        }
        let end = r.offset + size
        let type = try r.u16(WireField("type"))
        let dev = try r.u32(WireField("dev"))
        let qid = try r.qid(WireField("qid"))
        let mode = DirMode(rawValue: try r.u32(WireField("mode", .dirMode)))
        let atime = try r.u32(WireField("atime", .seconds))
        let mtime = try r.u32(WireField("mtime", .seconds))
        let length = try r.u64(WireField("length"))
        let name = try r.string(WireField("name"))
        let uid = try r.string(WireField("uid"))
        let gid = try r.string(WireField("gid"))
        let muid = try r.string(WireField("muid"))
        var unix: UnixStat?
        if d == .u || (d == .l && r.offset < end) {
            let ext = try r.string(WireField("extension"))
            let nUid = try r.u32(WireField("n_uid", .nUname))
            let nGid = try r.u32(WireField("n_gid", .nUname))
            let nMuid = try r.u32(WireField("n_muid", .nUname))
            unix = UnixStat(extension: ext, nUid: nUid, nGid: nGid, nMuid: nMuid)
        }
        guard r.offset == end else {
            throw r.error(at: at, sizeField, "stat size is \(size) but its fields occupy \(r.offset - at - 2) bytes")
        }
        r.endGroup()
        return Stat(type: type, dev: dev, qid: qid, mode: mode, atime: atime, mtime: mtime, length: length,
                    name: name, uid: uid, gid: gid, muid: muid, unix: unix)
    }
}
