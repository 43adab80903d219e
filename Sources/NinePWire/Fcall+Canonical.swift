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
    ///   the first 16 entries (then `…`); otherwise the data as above. An Rread of a directory in 9P2000/.u
    ///   is shown the same way when the session knows it is one (`canonicalLine(readingDirectory:)`).
    /// - stat (Rstat, Twstat): `stat` then its fields in wire order:
    ///   `stat type 0 dev 0 qid (…) mode 0x800001ed DMDIR|0755 atime 0 mtime 0 length 0 name '/' uid 'u'
    ///   gid 'g' muid 'u'` and, when present, `extension '' n_uid 1000 n_gid 1000 n_muid NONUNAME`. In a
    ///   Twstat a number that is all ones ("don't touch", stat(5)) is `~0`, a qid all of whose fields are
    ///   `qid ~0`: `stat type ~0 dev ~0 qid ~0 mode ~0 atime ~0 mtime ~0 length 3 name '' …`.
    /// - Optional dialect fields (`n_uname`, Rerror `errno`, Tcreate `extension`) appear only when present.
    /// Examples: `Tversion tag NOTAG msize 8192 version '9P2000.L'`, `Rlerror tag 4 ecode 2 ENOENT`,
    /// `Tgetattr tag 9 fid 1 request_mask 0x7ff BASIC`.
    public var canonicalLine: String {
        var l = CanonicalLine(message.name)
        l.tag("tag", tag)
        message.appendCanonical(to: &l)
        return l.text
    }

    /// Appends `canonicalLine`'s UTF-8 bytes to `out` without building a `String` (for writers that emit
    /// bytes: the headless trace, `decode`).
    public func appendCanonicalLine(to out: inout [UInt8]) {
        var l = CanonicalLine(message.name)
        l.tag("tag", tag)
        message.appendCanonical(to: &l)
        l.buf.append(to: &out)
    }

    /// The canonical line of an Rread that answers a read of a directory in 9P2000 or 9P2000.u (which only
    /// the session knows: the data is stat entries, `dialect`'s): like Rreaddir's, `count <n>` then, when
    /// the data parses as stat entries, `nentries <k>` and `<i>:<name>` for the first 16 (then `…`);
    /// otherwise, and for any other message, `canonicalLine`.
    /// `Rread tag 0 count 204 nentries 3 0:f 1:esc 2:d`.
    public func canonicalLine(readingDirectory dialect: Dialect) -> String {
        var out: [UInt8] = []
        appendCanonicalLine(to: &out, readingDirectory: dialect)
        return String(decoding: out, as: UTF8.self)
    }

    /// `canonicalLine(readingDirectory:)`'s UTF-8 bytes appended to `out`.
    public func appendCanonicalLine(to out: inout [UInt8], readingDirectory dialect: Dialect) {
        guard case .rread(let m) = message, let entries = try? Stat.decodeAll(m.payload, dialect: dialect) else {
            return appendCanonicalLine(to: &out)
        }
        var l = CanonicalLine(message.name)
        l.tag("tag", tag)
        l.num("count", m.payload.count)
        l.entries(entries.map(\.name))
        l.buf.append(to: &out)
    }
}

/// Builder for `name value` pairs, writing UTF-8 bytes (see `TextBuffer`).
struct CanonicalLine: ~Copyable {
    var buf: TextBuffer
    init(_ name: String) { buf = TextBuffer(capacity: 512); buf.append(name) }
    var text: String { buf.string }
    mutating func key(_ name: StaticString) { buf.spaced(name) }
    mutating func word(_ w: StaticString) { buf.byte(0x20); buf.append(w) }
    mutating func num<T: BinaryInteger>(_ name: StaticString, _ v: T) { key(name); buf.decimal(v) }
    mutating func fid(_ name: StaticString, _ f: Fid) {
        key(name)
        if f == .nofid { buf.append("NOFID") } else { buf.decimal(f.rawValue) }
    }
    mutating func tag(_ name: StaticString, _ t: Tag) {
        key(name)
        if t == .notag { buf.append("NOTAG") } else { buf.decimal(t.rawValue) }
    }
    mutating func str(_ name: StaticString, _ s: P9String) { key(name); buf.quoted(s) }
    mutating func qid(_ name: StaticString, _ q: Qid) { key(name); buf.qid(q) }
    mutating func mode(_ name: StaticString, _ m: UInt32) { key(name); buf.octal(m) }
    mutating func hex(_ name: StaticString, _ v: UInt64) { key(name); buf.hex(v) }
    mutating func nUname(_ name: StaticString, _ v: UInt32) { key(name); buf.nUname(v) }
    mutating func flags(_ name: StaticString, _ raw: UInt64, _ names: [String]) { key(name); buf.flags(raw, names) }
    mutating func named(_ name: StaticString, _ raw: UInt64, _ n: String?) { key(name); buf.enumerated(raw, n) }
    mutating func data<C: RandomAccessCollection>(_ d: C) where C.Element == UInt8, C.Index == Int { buf.byte(0x20); buf.data(d) }
    mutating func indexedBare(_ i: Int, _ n: P9String) { buf.byte(0x20); buf.decimal(i); buf.byte(0x3A); buf.bare(n) }
    /// A directory's entries: `nentries <k>` and `<i>:<name>` for the first 16 (then `…`): Rreaddir's, and a
    /// 9P2000/.u directory Rread's.
    mutating func entries(_ names: [P9String]) {
        num("nentries", names.count)
        for (i, n) in names.prefix(16).enumerated() { indexedBare(i, n) }
        if names.count > 16 { word("…") }
    }
    mutating func indexedQid(_ i: Int, _ q: Qid) { buf.byte(0x20); buf.decimal(i); buf.byte(0x3A); buf.qid(q) }
}

extension Message {
    func appendCanonical(to l: inout CanonicalLine) {
        switch self {
        case .tversion(let m): l.num("msize", m.msize); l.str("version", m.version)
        case .rversion(let m): l.num("msize", m.msize); l.str("version", m.version)
        case .tauth(let m):
            l.fid("afid", m.afid); l.str("uname", m.uname); l.str("aname", m.aname)
            if let n = m.nUname { l.nUname("n_uname", n) }
        case .rauth(let m): l.qid("aqid", m.aqid)
        case .tattach(let m):
            l.fid("fid", m.fid); l.fid("afid", m.afid); l.str("uname", m.uname); l.str("aname", m.aname)
            if let n = m.nUname { l.nUname("n_uname", n) }
        case .rattach(let m): l.qid("qid", m.qid)
        case .rerror(let m):
            if let e = m.ename { l.str("ename", e) }
            if let e = m.errno { l.named("errno", UInt64(e), Errno(e).name) }
        case .tflush(let m): l.tag("oldtag", m.oldtag)
        case .twalk(let m):
            l.fid("fid", m.fid); l.fid("newfid", m.newfid); l.num("nwname", m.wnames.count)
            for (i, n) in m.wnames.enumerated() { l.indexedBare(i, n) }
        case .rwalk(let m):
            l.num("nwqid", m.wqids.count)
            for (i, q) in m.wqids.enumerated() { l.indexedQid(i, q) }
        case .topen(let m): l.fid("fid", m.fid); l.flags("mode", UInt64(m.mode.rawValue), m.mode.names)
        case .ropen(let m): l.qid("qid", m.qid); l.num("iounit", m.iounit)
        case .tcreate(let m):
            l.fid("fid", m.fid); l.str("name", m.name); l.flags("perm", UInt64(m.perm.rawValue), m.perm.names)
            l.flags("mode", UInt64(m.mode.rawValue), m.mode.names)
            if let e = m.extension { l.str("extension", e) }
        case .rcreate(let m): l.qid("qid", m.qid); l.num("iounit", m.iounit)
        case .tread(let m): l.fid("fid", m.fid); l.num("offset", m.offset); l.num("count", m.count)
        case .rread(let m): l.num("count", m.payload.count); l.data(m.payload)
        case .twrite(let m):
            l.fid("fid", m.fid); l.num("offset", m.offset); l.num("count", m.payload.count); l.data(m.payload)
        case .rwrite(let m): l.num("count", m.count)
        case .tclunk(let m): l.fid("fid", m.fid)
        case .tremove(let m): l.fid("fid", m.fid)
        case .tstat(let m): l.fid("fid", m.fid)
        case .rstat(let m): l.word("stat"); m.stat.appendCanonical(to: &l)
        case .twstat(let m): l.fid("fid", m.fid); l.word("stat"); m.stat.appendCanonical(to: &l, wstat: true)
        case .rflush, .rclunk, .rremove, .rwstat, .rrename, .rsetattr, .rxattrcreate, .rfsync, .rlink,
             .rrenameat, .runlinkat:
            break
        case .rlerror(let m): l.named("ecode", UInt64(m.ecode.rawValue), m.ecode.name)
        case .tstatfs(let m): l.fid("fid", m.fid)
        case .rstatfs(let m):
            l.hex("type", UInt64(m.type)); l.num("bsize", m.bsize); l.num("blocks", m.blocks)
            l.num("bfree", m.bfree); l.num("bavail", m.bavail); l.num("files", m.files); l.num("ffree", m.ffree)
            l.hex("fsid", m.fsid); l.num("namelen", m.namelen)
        case .tlopen(let m): l.fid("fid", m.fid); l.flags("flags", UInt64(m.flags.rawValue), m.flags.names)
        case .rlopen(let m): l.qid("qid", m.qid); l.num("iounit", m.iounit)
        case .tlcreate(let m):
            l.fid("fid", m.fid); l.str("name", m.name); l.flags("flags", UInt64(m.flags.rawValue), m.flags.names)
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
            l.fid("fid", m.fid); l.flags("request_mask", m.requestMask.rawValue, m.requestMask.names)
        case .rgetattr(let m): m.appendCanonical(to: &l)
        case .tsetattr(let m):
            l.fid("fid", m.fid); l.flags("valid", UInt64(m.valid.rawValue), m.valid.names)
            l.mode("mode", m.mode); l.num("uid", m.uid); l.num("gid", m.gid); l.num("size", m.size)
            l.num("atime_sec", m.atimeSec); l.num("atime_nsec", m.atimeNsec)
            l.num("mtime_sec", m.mtimeSec); l.num("mtime_nsec", m.mtimeNsec)
        case .txattrwalk(let m): l.fid("fid", m.fid); l.fid("newfid", m.newfid); l.str("name", m.name)
        case .rxattrwalk(let m): l.num("size", m.size)
        case .txattrcreate(let m):
            l.fid("fid", m.fid); l.str("name", m.name); l.num("attr_size", m.attrSize)
            l.flags("flags", UInt64(m.flags), Txattrcreate.flagNames(m.flags))
        case .treaddir(let m): l.fid("fid", m.fid); l.num("offset", m.offset); l.num("count", m.count)
        case .rreaddir(let m):
            l.num("count", m.payload.count)
            if let entries = try? Dirent.decodeAll(m.payload) {
                l.entries(entries.map(\.name))
            } else {
                l.data(m.payload)
            }
        case .tfsync(let m): l.fid("fid", m.fid); l.num("datasync", m.datasync)
        case .tlock(let m):
            l.fid("fid", m.fid); l.named("type", UInt64(m.type.rawValue), m.type.knownName)
            l.flags("flags", UInt64(m.flags.rawValue), m.flags.names)
            l.num("start", m.start); l.num("length", m.length); l.num("proc_id", m.procId); l.str("client_id", m.clientId)
        case .rlock(let m): l.named("status", UInt64(m.status.rawValue), m.status.knownName)
        case .tgetlock(let m):
            l.fid("fid", m.fid); l.named("type", UInt64(m.type.rawValue), m.type.knownName)
            l.num("start", m.start); l.num("length", m.length); l.num("proc_id", m.procId); l.str("client_id", m.clientId)
        case .rgetlock(let m):
            l.named("type", UInt64(m.type.rawValue), m.type.knownName)
            l.num("start", m.start); l.num("length", m.length); l.num("proc_id", m.procId); l.str("client_id", m.clientId)
        case .tlink(let m): l.fid("dfid", m.dfid); l.fid("fid", m.fid); l.str("name", m.name)
        case .tmkdir(let m): l.fid("dfid", m.dfid); l.str("name", m.name); l.mode("mode", m.mode); l.num("gid", m.gid)
        case .rmkdir(let m): l.qid("qid", m.qid)
        case .trenameat(let m):
            l.fid("olddirfid", m.olddirfid); l.str("oldname", m.oldname)
            l.fid("newdirfid", m.newdirfid); l.str("newname", m.newname)
        case .tunlinkat(let m):
            l.fid("dirfd", m.dirfid); l.str("name", m.name); l.flags("flags", UInt64(m.flags), Tunlinkat.flagNames(m.flags))
        case .unknown(_, let body): l.num("body", body.count); l.data(body)
        }
    }
}

extension Rgetattr {
    func appendCanonical(to l: inout CanonicalLine) {
        l.flags("valid", valid.rawValue, valid.names); l.qid("qid", qid); l.mode("mode", mode)
        l.num("uid", uid); l.num("gid", gid); l.num("nlink", nlink); l.hex("rdev", rdev); l.num("size", size)
        l.num("blksize", blksize); l.num("blocks", blocks)
        l.num("atime_sec", atimeSec); l.num("atime_nsec", atimeNsec); l.num("mtime_sec", mtimeSec); l.num("mtime_nsec", mtimeNsec)
        l.num("ctime_sec", ctimeSec); l.num("ctime_nsec", ctimeNsec); l.num("btime_sec", btimeSec); l.num("btime_nsec", btimeNsec)
        l.num("gen", gen); l.num("data_version", dataVersion)
    }
}

extension Stat {
    /// `wstat`: a Twstat's entry, whose all-ones numbers mean "don't touch" (stat(5)) and are written `~0`
    /// (`mode ~0`, `qid ~0` when all three of its fields are) rather than as values or every mode flag.
    func appendCanonical(to l: inout CanonicalLine, wstat: Bool = false) {
        func keep<T: FixedWidthInteger>(_ name: StaticString, _ v: T, _ write: (inout CanonicalLine) -> Void) {
            if wstat && v == T.max { l.key(name); l.buf.append("~0") } else { write(&l) }
        }
        keep("type", type) { $0.num("type", type) }
        keep("dev", dev) { $0.num("dev", dev) }
        if wstat && qid.type.rawValue == .max && qid.version == .max && qid.path == .max {
            l.key("qid"); l.buf.append("~0")
        } else {
            l.qid("qid", qid)
        }
        keep("mode", mode.rawValue) { $0.flags("mode", UInt64(mode.rawValue), mode.names) }
        keep("atime", atime) { $0.num("atime", atime) }
        keep("mtime", mtime) { $0.num("mtime", mtime) }
        keep("length", length) { $0.num("length", length) }
        l.str("name", name); l.str("uid", uid); l.str("gid", gid); l.str("muid", muid)
        if let u = unix {
            l.str("extension", u.extension); l.nUname("n_uid", u.nUid); l.nUname("n_gid", u.nGid)
            l.nUname("n_muid", u.nMuid)
        }
    }

    /// The entry as canonical text (`type 0 dev 0 qid (…) mode … name 'x' …`), as inside an Rstat line.
    public var canonicalText: String {
        var l = CanonicalLine("")
        appendCanonical(to: &l)
        return String(l.text.dropFirst())
    }
}

extension Qid {
    /// `(0000000000f844d1 0 d)`, as message lines show a qid.
    public var canonicalText: String { Fmt.qid(self) }
}

extension Dirent {
    /// `qid (…) offset 3 type 4 DT_DIR name 'usr'`.
    public var canonicalText: String {
        var l = CanonicalLine("")
        l.qid("qid", qid); l.num("offset", offset); l.named("type", UInt64(type), Dirent.typeName(type))
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
