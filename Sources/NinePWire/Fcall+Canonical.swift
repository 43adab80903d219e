extension Fcall {
    /// The canonical one-line text of a message, in the spirit of Plan 9's fcallfmt. Used by logs, the
    /// exchange list, the REPL echo, `ninescope decode` and test failure messages; snapshot-tested.
    ///
    /// Format: `<Name> tag <tag>` followed by ` <field> <value>` for every field in wire order, with the
    /// manual's field names (`request_mask`, `n_uname`, `proc_id`). Length fields that only repeat what
    /// follows (string lengths, Rstat/Twstat `n`, stat `size`) are not shown; counts are (`nwname`,
    /// `nwqid`, `count`). Values:
    /// - Name: `Twalk`, `Rlerror`; codes outside the table: `type98`.
    /// - tag: decimal, `NOTAG` for 0xFFFF. Fids: decimal, `NOFID` for ~0. `n_uname`/`n_uid`/`n_gid`/
    ///   `n_muid`: decimal, `NONUNAME` for ~0. Other integers: decimal; Rstatfs `type`/`fsid` and
    ///   Rgetattr `rdev` in hex (`0x1021994`).
    /// - Strings: `'…'`, via `P9String.escaped`, with `'` written `\'`. Walk names: `<i>:<name>`, the name
    ///   bare when it is non-empty and has no space, quote, backslash or control/invalid byte, else quoted:
    ///   `nwname 2 0:usr 1:bin`.
    /// - qid: `(<path, 16 hex digits> <version> <type letters>)`, letters d a l m A t L H for QTDIR,
    ///   QTAPPEND, QTEXCL, QTMOUNT, QTAUTH, QTTMP, QTSYMLINK, QTLINK: `(0000000000000010 0 d)`. Rwalk:
    ///   `nwqid 2 0:(…) 1:(…)`.
    /// - Flag words: hex then names joined by `|`: `flags 0x8000 RDONLY|LARGEFILE`,
    ///   `request_mask 0x7ff BASIC`, `mode 0x10 OREAD|OTRUNC` (Topen), `perm 0x800001ed DMDIR|0755`,
    ///   `valid 0x8 SIZE`, `flags 0x200 REMOVEDIR`; unknown bits as one trailing hex name; `0x0` alone when
    ///   no name applies.
    /// - Enumerations: decimal then name: `ecode 2 ENOENT`, `errno 2 ENOENT`, `type 1 WRLCK`,
    ///   `status 0 SUCCESS`; decimal alone when unnamed.
    /// - .L POSIX modes (Tlcreate, Tmknod, Tmkdir, Tsetattr, Rgetattr): C octal, `mode 0100644`.
    /// - Data (Rread, Twrite, unknown bodies): `count <n>` (`body <n>` for unknown) then `''` when empty, the
    ///   quoted escaped text when the first 64 bytes are printable UTF-8 (tab/newline/CR allowed), else
    ///   lowercase hex; longer data shows the first 64 bytes followed by `…`: `count 12 'hello world\n'`.
    /// - Rreaddir: `count <n>` then, when the data parses as dirents, `nentries <k>` and `<i>:<name>` for
    ///   the first 16 entries (then `…`); otherwise the data as above.
    /// - stat (Rstat, Twstat): `stat` then its fields in wire order:
    ///   `stat type 0 dev 0 qid (…) mode 0x800001ed DMDIR|0755 atime 0 mtime 0 length 0 name '/' uid 'u'
    ///   gid 'g' muid 'u'` and, when present, `extension '' n_uid 1000 n_gid 1000 n_muid NONUNAME`.
    /// - Optional dialect fields (`n_uname`, Rerror `errno`, Tcreate `extension`) appear only when present.
    /// Examples: `Tversion tag NOTAG msize 8192 version '9P2000.L'`, `Rlerror tag 4 ecode 2 ENOENT`,
    /// `Tgetattr tag 9 fid 1 request_mask 0x7ff BASIC`.
    public var canonicalLine: String {
        var l = CanonicalLine(message.name)
        l.add("tag", tag.description)
        message.appendCanonical(to: &l)
        return l.text
    }
}

/// Builder for `name value` pairs.
struct CanonicalLine {
    var text: String
    init(_ name: String) { text = name; text.reserveCapacity(96) }
    mutating func add(_ name: String, _ value: String) {
        text += " "; text += name; text += " "; text += value
    }
    mutating func word(_ w: String) { text += " "; text += w }
    mutating func num<T: BinaryInteger>(_ name: String, _ v: T) { add(name, String(v)) }
    mutating func fid(_ name: String, _ f: Fid) { add(name, f.description) }
    mutating func str(_ name: String, _ s: P9String) { add(name, Fmt.quoted(s)) }
    mutating func qid(_ name: String, _ q: Qid) { add(name, Fmt.qid(q)) }
    mutating func mode(_ name: String, _ m: UInt32) { add(name, Fmt.octal(m)) }
}

extension Message {
    func appendCanonical(to l: inout CanonicalLine) {
        switch self {
        case .tversion(let m): l.num("msize", m.msize); l.str("version", m.version)
        case .rversion(let m): l.num("msize", m.msize); l.str("version", m.version)
        case .tauth(let m):
            l.fid("afid", m.afid); l.str("uname", m.uname); l.str("aname", m.aname)
            if let n = m.nUname { l.add("n_uname", Fmt.nUname(n)) }
        case .rauth(let m): l.qid("aqid", m.aqid)
        case .tattach(let m):
            l.fid("fid", m.fid); l.fid("afid", m.afid); l.str("uname", m.uname); l.str("aname", m.aname)
            if let n = m.nUname { l.add("n_uname", Fmt.nUname(n)) }
        case .rattach(let m): l.qid("qid", m.qid)
        case .rerror(let m):
            l.str("ename", m.ename)
            if let e = m.errno { l.add("errno", Fmt.enumerated(UInt64(e), Errno(e).name)) }
        case .tflush(let m): l.add("oldtag", m.oldtag.description)
        case .twalk(let m):
            l.fid("fid", m.fid); l.fid("newfid", m.newfid); l.num("nwname", m.wnames.count)
            for (i, n) in m.wnames.enumerated() { l.word(String(i) + ":" + Fmt.bare(n)) }
        case .rwalk(let m):
            l.num("nwqid", m.wqids.count)
            for (i, q) in m.wqids.enumerated() { l.word(String(i) + ":" + Fmt.qid(q)) }
        case .topen(let m): l.fid("fid", m.fid); l.add("mode", Fmt.flags(UInt64(m.mode.rawValue), m.mode.names))
        case .ropen(let m): l.qid("qid", m.qid); l.num("iounit", m.iounit)
        case .tcreate(let m):
            l.fid("fid", m.fid); l.str("name", m.name); l.add("perm", Fmt.flags(UInt64(m.perm.rawValue), m.perm.names))
            l.add("mode", Fmt.flags(UInt64(m.mode.rawValue), m.mode.names))
            if let e = m.extension { l.str("extension", e) }
        case .rcreate(let m): l.qid("qid", m.qid); l.num("iounit", m.iounit)
        case .tread(let m): l.fid("fid", m.fid); l.num("offset", m.offset); l.num("count", m.count)
        case .rread(let m): l.num("count", m.data.count); l.word(Fmt.data(m.data))
        case .twrite(let m):
            l.fid("fid", m.fid); l.num("offset", m.offset); l.num("count", m.data.count); l.word(Fmt.data(m.data))
        case .rwrite(let m): l.num("count", m.count)
        case .tclunk(let m): l.fid("fid", m.fid)
        case .tremove(let m): l.fid("fid", m.fid)
        case .tstat(let m): l.fid("fid", m.fid)
        case .rstat(let m): l.word("stat"); m.stat.appendCanonical(to: &l)
        case .twstat(let m): l.fid("fid", m.fid); l.word("stat"); m.stat.appendCanonical(to: &l)
        case .rflush, .rclunk, .rremove, .rwstat, .rrename, .rsetattr, .rxattrcreate, .rfsync, .rlink,
             .rrenameat, .runlinkat:
            break
        case .rlerror(let m): l.add("ecode", Fmt.enumerated(UInt64(m.ecode.rawValue), m.ecode.name))
        case .tstatfs(let m): l.fid("fid", m.fid)
        case .rstatfs(let m):
            l.add("type", Fmt.hex(UInt64(m.type))); l.num("bsize", m.bsize); l.num("blocks", m.blocks)
            l.num("bfree", m.bfree); l.num("bavail", m.bavail); l.num("files", m.files); l.num("ffree", m.ffree)
            l.add("fsid", Fmt.hex(m.fsid)); l.num("namelen", m.namelen)
        case .tlopen(let m): l.fid("fid", m.fid); l.add("flags", Fmt.flags(UInt64(m.flags.rawValue), m.flags.names))
        case .rlopen(let m): l.qid("qid", m.qid); l.num("iounit", m.iounit)
        case .tlcreate(let m):
            l.fid("fid", m.fid); l.str("name", m.name); l.add("flags", Fmt.flags(UInt64(m.flags.rawValue), m.flags.names))
            l.mode("mode", m.mode); l.num("gid", m.gid)
        case .rlcreate(let m): l.qid("qid", m.qid); l.num("iounit", m.iounit)
        case .tsymlink(let m): l.fid("fid", m.fid); l.str("name", m.name); l.str("symtgt", m.symtgt); l.num("gid", m.gid)
        case .rsymlink(let m): l.qid("qid", m.qid)
        case .tmknod(let m):
            l.fid("dfid", m.dfid); l.str("name", m.name); l.mode("mode", m.mode); l.num("major", m.major)
            l.num("minor", m.minor); l.num("gid", m.gid)
        case .rmknod(let m): l.qid("qid", m.qid)
        case .trename(let m): l.fid("fid", m.fid); l.fid("dfid", m.dfid); l.str("name", m.name)
        case .treadlink(let m): l.fid("fid", m.fid)
        case .rreadlink(let m): l.str("target", m.target)
        case .tgetattr(let m):
            l.fid("fid", m.fid); l.add("request_mask", Fmt.flags(m.requestMask.rawValue, m.requestMask.names))
        case .rgetattr(let m): m.appendCanonical(to: &l)
        case .tsetattr(let m):
            l.fid("fid", m.fid); l.add("valid", Fmt.flags(UInt64(m.valid.rawValue), m.valid.names))
            l.mode("mode", m.mode); l.num("uid", m.uid); l.num("gid", m.gid); l.num("size", m.size)
            l.num("atime_sec", m.atimeSec); l.num("atime_nsec", m.atimeNsec)
            l.num("mtime_sec", m.mtimeSec); l.num("mtime_nsec", m.mtimeNsec)
        case .txattrwalk(let m): l.fid("fid", m.fid); l.fid("newfid", m.newfid); l.str("name", m.name)
        case .rxattrwalk(let m): l.num("size", m.size)
        case .txattrcreate(let m):
            l.fid("fid", m.fid); l.str("name", m.name); l.num("attr_size", m.attrSize)
            l.add("flags", Fmt.flags(UInt64(m.flags), Txattrcreate.flagNames(m.flags)))
        case .treaddir(let m): l.fid("fid", m.fid); l.num("offset", m.offset); l.num("count", m.count)
        case .rreaddir(let m):
            l.num("count", m.data.count)
            if let entries = try? Dirent.decodeAll(m.data) {
                l.num("nentries", entries.count)
                for (i, e) in entries.prefix(16).enumerated() { l.word(String(i) + ":" + Fmt.bare(e.name)) }
                if entries.count > 16 { l.word("…") }
            } else {
                l.word(Fmt.data(m.data))
            }
        case .tfsync(let m): l.fid("fid", m.fid); l.num("datasync", m.datasync)
        case .tlock(let m):
            l.fid("fid", m.fid); l.add("type", Fmt.enumerated(UInt64(m.type.rawValue), m.type.knownName))
            l.add("flags", Fmt.flags(UInt64(m.flags.rawValue), m.flags.names))
            l.num("start", m.start); l.num("length", m.length); l.num("proc_id", m.procId); l.str("client_id", m.clientId)
        case .rlock(let m): l.add("status", Fmt.enumerated(UInt64(m.status.rawValue), m.status.knownName))
        case .tgetlock(let m):
            l.fid("fid", m.fid); l.add("type", Fmt.enumerated(UInt64(m.type.rawValue), m.type.knownName))
            l.num("start", m.start); l.num("length", m.length); l.num("proc_id", m.procId); l.str("client_id", m.clientId)
        case .rgetlock(let m):
            l.add("type", Fmt.enumerated(UInt64(m.type.rawValue), m.type.knownName))
            l.num("start", m.start); l.num("length", m.length); l.num("proc_id", m.procId); l.str("client_id", m.clientId)
        case .tlink(let m): l.fid("dfid", m.dfid); l.fid("fid", m.fid); l.str("name", m.name)
        case .tmkdir(let m): l.fid("dfid", m.dfid); l.str("name", m.name); l.mode("mode", m.mode); l.num("gid", m.gid)
        case .rmkdir(let m): l.qid("qid", m.qid)
        case .trenameat(let m):
            l.fid("olddirfid", m.olddirfid); l.str("oldname", m.oldname)
            l.fid("newdirfid", m.newdirfid); l.str("newname", m.newname)
        case .tunlinkat(let m):
            l.fid("dirfd", m.dirfid); l.str("name", m.name); l.add("flags", Fmt.flags(UInt64(m.flags), Tunlinkat.flagNames(m.flags)))
        case .unknown(_, let body): l.num("body", body.count); l.word(Fmt.data(body))
        }
    }
}

extension Rgetattr {
    func appendCanonical(to l: inout CanonicalLine) {
        l.add("valid", Fmt.flags(valid.rawValue, valid.names)); l.qid("qid", qid); l.mode("mode", mode)
        l.num("uid", uid); l.num("gid", gid); l.num("nlink", nlink); l.add("rdev", Fmt.hex(rdev)); l.num("size", size)
        l.num("blksize", blksize); l.num("blocks", blocks)
        l.num("atime_sec", atimeSec); l.num("atime_nsec", atimeNsec); l.num("mtime_sec", mtimeSec); l.num("mtime_nsec", mtimeNsec)
        l.num("ctime_sec", ctimeSec); l.num("ctime_nsec", ctimeNsec); l.num("btime_sec", btimeSec); l.num("btime_nsec", btimeNsec)
        l.num("gen", gen); l.num("data_version", dataVersion)
    }
}

extension Stat {
    func appendCanonical(to l: inout CanonicalLine) {
        l.num("type", type); l.num("dev", dev); l.qid("qid", qid); l.add("mode", Fmt.flags(UInt64(mode.rawValue), mode.names))
        l.num("atime", atime); l.num("mtime", mtime); l.num("length", length)
        l.str("name", name); l.str("uid", uid); l.str("gid", gid); l.str("muid", muid)
        if let u = unix {
            l.str("extension", u.extension); l.add("n_uid", Fmt.nUname(u.nUid)); l.add("n_gid", Fmt.nUname(u.nGid))
            l.add("n_muid", Fmt.nUname(u.nMuid))
        }
    }

    /// The entry as canonical text (`type 0 dev 0 qid (…) mode … name 'x' …`), as inside an Rstat line.
    public var canonicalText: String {
        var l = CanonicalLine("")
        appendCanonical(to: &l)
        return String(l.text.dropFirst())
    }
}

extension Dirent {
    /// `qid (…) offset 3 type 4 DT_DIR name 'usr'`.
    public var canonicalText: String {
        var l = CanonicalLine("")
        l.qid("qid", qid); l.num("offset", offset); l.add("type", Fmt.enumerated(UInt64(type), Dirent.typeName(type)))
        l.str("name", name)
        return String(l.text.dropFirst())
    }
}

extension LockType {
    /// "RDLCK"/"WRLCK"/"UNLCK", nil for other values.
    public var knownName: String? { rawValue < 3 ? ["RDLCK", "WRLCK", "UNLCK"][Int(rawValue)] : nil }
}
extension LockStatus {
    /// "SUCCESS"/"BLOCKED"/"ERROR"/"GRACE", nil for other values.
    public var knownName: String? { rawValue < 4 ? ["SUCCESS", "BLOCKED", "ERROR", "GRACE"][Int(rawValue)] : nil }
}
