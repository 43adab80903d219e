extension Fcall {
    /// Ordered fields for `--json`: `message` (manual name), `code` (type code), `tag`, then every field in
    /// wire order under its manual name. Encodings:
    /// - integers, fids, tags, counts: numbers (NOFID/NOTAG as their numeric values);
    /// - strings: JSON strings; bytes that are not valid UTF-8 become U+FFFD and a twin `<name>_hex` member
    ///   holds the exact bytes as hex (for walk names, `wname_hex` is an array parallel to `wname`);
    /// - flag words: `{"value": n, "names": ["RDONLY", "LARGEFILE"]}`;
    /// - enumerations (errno, lock type/status, dirent type): `{"value": 2, "name": "ENOENT"}` (name null
    ///   when unknown);
    /// - qids: `{"type": 128, "type_names": ["QTDIR"], "version": 0, "path": 16}`;
    /// - data: `{"length": n, "hex": "…"}` (all bytes); Rreaddir adds `entries` (dirent objects); an
    ///   Rread of a directory in 9P2000/.u adds `entries` (stat objects) when the session knows it is one
    ///   (`jsonObject(readingDirectory:)`: the data alone cannot tell);
    /// - stat: an object of its fields (with `extension`, `n_uid`, `n_gid`, `n_muid` when present);
    /// - unknown messages: `body` as data.
    public var jsonObject: [(String, JSONValue)] {
        var j = JSONFields()
        j.members.append(("message", .string(message.name)))
        j.num("code", message.typeCode)
        j.num("tag", tag.rawValue)
        message.appendJSON(to: &j)
        return j.members
    }

    /// `jsonObject`, and for an Rread of a directory whose data parses as `dialect`'s stat entries, those
    /// entries as `entries` (stat objects).
    public func jsonObject(readingDirectory dialect: Dialect) -> [(String, JSONValue)] {
        var members = jsonObject
        if let entries = directoryEntries(dialect) { members.append(("entries", entries)) }
        return members
    }

    /// An Rread's data as `dialect`'s stat entries (a JSON array), when it parses as such.
    func directoryEntries(_ dialect: Dialect) -> JSONValue? {
        guard case .rread(let m) = message, let stats = try? Stat.decodeAll(m.payload, dialect: dialect) else {
            return nil
        }
        return .array(stats.map(JSONFields.stat))
    }

    /// `jsonObject` as a value.
    public var json: JSONValue { .object(jsonObject) }

    /// One line of compact JSON (no trailing newline).
    public var jsonLine: String { json.serialized }
}

/// Where `Message.appendJSON` puts a message's members, in order: a tree (`JSONFields`) or JSON text
/// written as it goes (`JSONStreamFields`). Both give the same JSON.
protocol JSONMemberSink: ~Copyable {
    mutating func member(_ k: String, _ v: JSONValue)
    mutating func num<T: BinaryInteger>(_ k: String, _ v: T)
    mutating func str(_ k: String, _ s: P9String)
    mutating func qid(_ k: String, _ q: Qid)
    mutating func flags(_ k: String, _ raw: UInt64, _ names: [String])
    mutating func named(_ k: String, _ raw: UInt64, _ name: String?)
    mutating func data(_ k: String, _ d: DataBytes)
}

extension JSONMemberSink where Self: ~Copyable {
    mutating func fid(_ k: String, _ f: Fid) { num(k, f.rawValue) }
}

struct JSONFields: JSONMemberSink {
    var members: [(String, JSONValue)] = []

    mutating func member(_ k: String, _ v: JSONValue) { members.append((k, v)) }
    mutating func num<T: BinaryInteger>(_ k: String, _ v: T) { members.append((k, .uint(UInt64(v)))) }
    mutating func str(_ k: String, _ s: P9String) {
        if let v = s.validUTF8 {
            members.append((k, .string(v)))
        } else {
            members.append((k, .string(s.string)))
            members.append((k + "_hex", .string(Fmt.hexString(s.bytes))))
        }
    }
    mutating func qid(_ k: String, _ q: Qid) { members.append((k, JSONFields.qid(q))) }
    mutating func flags(_ k: String, _ raw: UInt64, _ names: [String]) {
        members.append((k, .object([("value", .uint(raw)), ("names", .array(names.map { .string($0) }))])))
    }
    mutating func named(_ k: String, _ raw: UInt64, _ name: String?) {
        members.append((k, .object([("value", .uint(raw)), ("name", name.map { .string($0) } ?? .null)])))
    }
    mutating func data(_ k: String, _ d: DataBytes) {
        let hex = d.withUnsafeBytes { Fmt.hexString($0) }
        members.append((k, .object([("length", .uint(UInt64(d.count))), ("hex", .string(hex))])))
    }

    static func qid(_ q: Qid) -> JSONValue {
        .object([("type", .uint(UInt64(q.type.rawValue))), ("type_names", .array(q.type.names.map { .string($0) })),
                 ("version", .uint(UInt64(q.version))), ("path", .uint(q.path))])
    }

    static func stat(_ s: Stat) -> JSONValue {
        var j = JSONFields()
        j.num("type", s.type); j.num("dev", s.dev); j.qid("qid", s.qid)
        j.flags("mode", UInt64(s.mode.rawValue), s.mode.names)
        j.num("atime", s.atime); j.num("mtime", s.mtime); j.num("length", s.length)
        j.str("name", s.name); j.str("uid", s.uid); j.str("gid", s.gid); j.str("muid", s.muid)
        if let u = s.unix {
            j.str("extension", u.extension); j.num("n_uid", u.nUid); j.num("n_gid", u.nGid); j.num("n_muid", u.nMuid)
        }
        return .object(j.members)
    }

    static func dirent(_ e: Dirent) -> JSONValue {
        var j = JSONFields()
        j.qid("qid", e.qid); j.num("offset", e.offset); j.named("type", UInt64(e.type), Dirent.typeName(e.type))
        j.str("name", e.name)
        return .object(j.members)
    }
}

extension Message {
    func appendJSON<Sink: JSONMemberSink & ~Copyable>(to j: inout Sink) {
        switch self {
        case .tversion(let m): j.num("msize", m.msize); j.str("version", m.version)
        case .rversion(let m): j.num("msize", m.msize); j.str("version", m.version)
        case .tauth(let m):
            j.fid("afid", m.afid); j.str("uname", m.uname); j.str("aname", m.aname)
            if let n = m.nUname { j.num("n_uname", n) }
        case .rauth(let m): j.qid("aqid", m.aqid)
        case .tattach(let m):
            j.fid("fid", m.fid); j.fid("afid", m.afid); j.str("uname", m.uname); j.str("aname", m.aname)
            if let n = m.nUname { j.num("n_uname", n) }
        case .rattach(let m): j.qid("qid", m.qid)
        case .rerror(let m):
            if let e = m.ename { j.str("ename", e) }
            if let e = m.errno { j.named("errno", UInt64(e), Errno(e).name) }
        case .tflush(let m): j.num("oldtag", m.oldtag.rawValue)
        case .twalk(let m):
            j.fid("fid", m.fid); j.fid("newfid", m.newfid); j.num("nwname", m.wnames.count)
            j.member("wname", .array(m.wnames.map { .string($0.string) }))
            if m.wnames.contains(where: { $0.validUTF8 == nil }) {
                j.member("wname_hex", .array(m.wnames.map { .string(Fmt.hexString($0.bytes)) }))
            }
        case .rwalk(let m):
            j.num("nwqid", m.wqids.count)
            j.member("wqid", .array(m.wqids.map(JSONFields.qid)))
        case .topen(let m): j.fid("fid", m.fid); j.flags("mode", UInt64(m.mode.rawValue), m.mode.names)
        case .ropen(let m): j.qid("qid", m.qid); j.num("iounit", m.iounit)
        case .tcreate(let m):
            j.fid("fid", m.fid); j.str("name", m.name); j.flags("perm", UInt64(m.perm.rawValue), m.perm.names)
            j.flags("mode", UInt64(m.mode.rawValue), m.mode.names)
            if let e = m.extension { j.str("extension", e) }
        case .rcreate(let m): j.qid("qid", m.qid); j.num("iounit", m.iounit)
        case .tread(let m): j.fid("fid", m.fid); j.num("offset", m.offset); j.num("count", m.count)
        case .rread(let m): j.num("count", m.payload.count); j.data("data", m.payload)
        case .twrite(let m): j.fid("fid", m.fid); j.num("offset", m.offset); j.num("count", m.payload.count); j.data("data", m.payload)
        case .rwrite(let m): j.num("count", m.count)
        case .tclunk(let m): j.fid("fid", m.fid)
        case .tremove(let m): j.fid("fid", m.fid)
        case .tstat(let m): j.fid("fid", m.fid)
        case .rstat(let m): j.member("stat", JSONFields.stat(m.stat))
        case .twstat(let m): j.fid("fid", m.fid); j.member("stat", JSONFields.stat(m.stat))
        case .rflush, .rclunk, .rremove, .rwstat, .rrename, .rsetattr, .rxattrcreate, .rfsync, .rlink,
             .rrenameat, .runlinkat:
            break
        case .rlerror(let m): j.named("ecode", UInt64(m.ecode.rawValue), m.ecode.name)
        case .tstatfs(let m): j.fid("fid", m.fid)
        case .rstatfs(let m):
            j.num("type", m.type); j.num("bsize", m.bsize); j.num("blocks", m.blocks); j.num("bfree", m.bfree)
            j.num("bavail", m.bavail); j.num("files", m.files); j.num("ffree", m.ffree); j.num("fsid", m.fsid)
            j.num("namelen", m.namelen)
        case .tlopen(let m): j.fid("fid", m.fid); j.flags("flags", UInt64(m.flags.rawValue), m.flags.names)
        case .rlopen(let m): j.qid("qid", m.qid); j.num("iounit", m.iounit)
        case .tlcreate(let m):
            j.fid("fid", m.fid); j.str("name", m.name); j.flags("flags", UInt64(m.flags.rawValue), m.flags.names)
            j.num("mode", m.mode); j.num("gid", m.gid)
        case .rlcreate(let m): j.qid("qid", m.qid); j.num("iounit", m.iounit)
        case .tsymlink(let m): j.fid("fid", m.fid); j.str("name", m.name); j.str("symtgt", m.symtgt); j.num("gid", m.gid)
        case .rsymlink(let m): j.qid("qid", m.qid)
        case .tmknod(let m):
            j.fid("dfid", m.dfid); j.str("name", m.name); j.num("mode", m.mode); j.num("major", m.major)
            j.num("minor", m.minor); j.num("gid", m.gid)
        case .rmknod(let m): j.qid("qid", m.qid)
        case .trename(let m): j.fid("fid", m.fid); j.fid("dfid", m.dfid); j.str("name", m.name)
        case .treadlink(let m): j.fid("fid", m.fid)
        case .rreadlink(let m): j.str("target", m.target)
        case .tgetattr(let m): j.fid("fid", m.fid); j.flags("request_mask", m.requestMask.rawValue, m.requestMask.names)
        case .rgetattr(let m):
            j.flags("valid", m.valid.rawValue, m.valid.names); j.qid("qid", m.qid); j.num("mode", m.mode)
            j.num("uid", m.uid); j.num("gid", m.gid); j.num("nlink", m.nlink); j.num("rdev", m.rdev)
            j.num("size", m.size); j.num("blksize", m.blksize); j.num("blocks", m.blocks)
            j.num("atime_sec", m.atimeSec); j.num("atime_nsec", m.atimeNsec)
            j.num("mtime_sec", m.mtimeSec); j.num("mtime_nsec", m.mtimeNsec)
            j.num("ctime_sec", m.ctimeSec); j.num("ctime_nsec", m.ctimeNsec)
            j.num("btime_sec", m.btimeSec); j.num("btime_nsec", m.btimeNsec)
            j.num("gen", m.gen); j.num("data_version", m.dataVersion)
        case .tsetattr(let m):
            j.fid("fid", m.fid); j.flags("valid", UInt64(m.valid.rawValue), m.valid.names); j.num("mode", m.mode)
            j.num("uid", m.uid); j.num("gid", m.gid); j.num("size", m.size)
            j.num("atime_sec", m.atimeSec); j.num("atime_nsec", m.atimeNsec)
            j.num("mtime_sec", m.mtimeSec); j.num("mtime_nsec", m.mtimeNsec)
        case .txattrwalk(let m): j.fid("fid", m.fid); j.fid("newfid", m.newfid); j.str("name", m.name)
        case .rxattrwalk(let m): j.num("size", m.size)
        case .txattrcreate(let m):
            j.fid("fid", m.fid); j.str("name", m.name); j.num("attr_size", m.attrSize)
            j.flags("flags", UInt64(m.flags), Txattrcreate.flagNames(m.flags))
        case .treaddir(let m): j.fid("fid", m.fid); j.num("offset", m.offset); j.num("count", m.count)
        case .rreaddir(let m):
            j.num("count", m.payload.count); j.data("data", m.payload)
            if let entries = try? Dirent.decodeAll(m.payload) { j.member("entries", .array(entries.map(JSONFields.dirent))) }
        case .tfsync(let m): j.fid("fid", m.fid); j.num("datasync", m.datasync)
        case .tlock(let m):
            j.fid("fid", m.fid); j.named("type", UInt64(m.type.rawValue), m.type.knownName)
            j.flags("flags", UInt64(m.flags.rawValue), m.flags.names); j.num("start", m.start); j.num("length", m.length)
            j.num("proc_id", m.procId); j.str("client_id", m.clientId)
        case .rlock(let m): j.named("status", UInt64(m.status.rawValue), m.status.knownName)
        case .tgetlock(let m):
            j.fid("fid", m.fid); j.named("type", UInt64(m.type.rawValue), m.type.knownName)
            j.num("start", m.start); j.num("length", m.length); j.num("proc_id", m.procId); j.str("client_id", m.clientId)
        case .rgetlock(let m):
            j.named("type", UInt64(m.type.rawValue), m.type.knownName)
            j.num("start", m.start); j.num("length", m.length); j.num("proc_id", m.procId); j.str("client_id", m.clientId)
        case .tlink(let m): j.fid("dfid", m.dfid); j.fid("fid", m.fid); j.str("name", m.name)
        case .tmkdir(let m): j.fid("dfid", m.dfid); j.str("name", m.name); j.num("mode", m.mode); j.num("gid", m.gid)
        case .rmkdir(let m): j.qid("qid", m.qid)
        case .trenameat(let m):
            j.fid("olddirfid", m.olddirfid); j.str("oldname", m.oldname)
            j.fid("newdirfid", m.newdirfid); j.str("newname", m.newname)
        case .tunlinkat(let m):
            j.fid("dirfd", m.dirfid); j.str("name", m.name); j.flags("flags", UInt64(m.flags), Tunlinkat.flagNames(m.flags))
        case .unknown(_, let body): j.data("body", DataBytes(body))
        }
    }
}

/// `JSONMemberSink` writing JSON text as it goes: the members of one object, without its braces.
struct JSONStreamFields: JSONMemberSink, ~Copyable {
    var buf: TextBuffer
    var count = 0

    init(buf: consuming TextBuffer) { self.buf = buf }

    mutating func key(_ k: String) {
        if count > 0 { buf.byte(0x2C) }
        count += 1
        JSONValue.writeString(k, into: &buf)
        buf.byte(0x3A)
    }
    mutating func member(_ k: String, _ v: JSONValue) { key(k); v.write(into: &buf) }
    mutating func num<T: BinaryInteger>(_ k: String, _ v: T) { key(k); buf.decimal(UInt64(v)) }
    mutating func str(_ k: String, _ s: P9String) {
        if let v = s.validUTF8 {
            key(k); JSONValue.writeString(v, into: &buf)
        } else {
            key(k); JSONValue.writeString(s.string, into: &buf)
            key(k + "_hex"); buf.byte(0x22); buf.hexBytes(s.bytes); buf.byte(0x22)
        }
    }
    mutating func qid(_ k: String, _ q: Qid) {
        key(k)
        buf.append("{\"type\":"); buf.decimal(q.type.rawValue)
        buf.append(",\"type_names\":"); stringArray(q.type.names)
        buf.append(",\"version\":"); buf.decimal(q.version)
        buf.append(",\"path\":"); buf.decimal(q.path)
        buf.byte(0x7D)
    }
    mutating func flags(_ k: String, _ raw: UInt64, _ names: [String]) {
        key(k)
        buf.append("{\"value\":"); buf.decimal(raw)
        buf.append(",\"names\":"); stringArray(names)
        buf.byte(0x7D)
    }
    mutating func named(_ k: String, _ raw: UInt64, _ name: String?) {
        key(k)
        buf.append("{\"value\":"); buf.decimal(raw)
        buf.append(",\"name\":")
        if let name { JSONValue.writeString(name, into: &buf) } else { buf.append("null") }
        buf.byte(0x7D)
    }
    mutating func data(_ k: String, _ d: DataBytes) {
        key(k)
        buf.append("{\"length\":"); buf.decimal(d.count)
        buf.append(",\"hex\":\""); d.withUnsafeBytes { buf.hexBytes($0) }; buf.append("\"}")
    }
    private mutating func stringArray(_ a: [String]) {
        buf.byte(0x5B)
        for (i, s) in a.enumerated() {
            if i > 0 { buf.byte(0x2C) }
            JSONValue.writeString(s, into: &buf)
        }
        buf.byte(0x5D)
    }
}

/// One JSON object written member by member straight into UTF-8 bytes, with no `JSONValue` tree: for
/// writers that emit a JSON line per message (`ninescope decode --json`, the proxy's `--json`). The text is
/// the same as building the object as a `JSONValue` and serializing it.
/// ```swift
/// var o = JSONObjectWriter()
/// o.string("event", "message"); o.int("t_ns", t); o.fields("fields", of: fcall)
/// o.finish(appendingTo: &line)     // {"event":"message","t_ns":…,"fields":{…}}
/// ```
public struct JSONObjectWriter: ~Copyable {
    private var fields: JSONStreamFields

    public init() {
        var buf = TextBuffer(capacity: 1024)
        buf.byte(0x7B)
        fields = JSONStreamFields(buf: buf)
    }

    public mutating func int(_ k: String, _ v: Int64) {
        fields.key(k)
        if v < 0 { fields.buf.byte(0x2D); fields.buf.decimal(UInt64(bitPattern: 0 &- v)) } else { fields.buf.decimal(UInt64(v)) }
    }
    public mutating func uint(_ k: String, _ v: UInt64) { fields.key(k); fields.buf.decimal(v) }
    public mutating func string(_ k: String, _ s: String) { fields.key(k); JSONValue.writeString(s, into: &fields.buf) }
    /// A string member whose text is given as UTF-8 bytes (escaped as `JSONValue.string` would be).
    public mutating func string<C: Collection>(_ k: String, utf8 bytes: C) where C.Element == UInt8 {
        fields.key(k)
        if let done = bytes.withContiguousStorageIfAvailable({ JSONValue.writeString(utf8: $0, into: &fields.buf) }) {
            return done
        }
        Array(bytes).withUnsafeBufferPointer { JSONValue.writeString(utf8: $0, into: &fields.buf) }
    }
    public mutating func value(_ k: String, _ v: JSONValue) { fields.member(k, v) }
    /// `fcall.jsonObject` without its header members (`message`, `code`, `tag`), as an object member.
    /// With `readingDirectory`, an Rread's data that parses as that dialect's stat entries adds `entries`
    /// (`Fcall.jsonObject(readingDirectory:)`).
    public mutating func fields(_ k: String, of fcall: Fcall, readingDirectory dialect: Dialect? = nil) {
        fields.key(k)
        fields.buf.byte(0x7B)
        // The inner object's members go into the same buffer, counted from zero for their commas.
        let outer = fields.count
        fields.count = 0
        fcall.message.appendJSON(to: &fields)
        if let dialect, let entries = fcall.directoryEntries(dialect) { fields.member("entries", entries) }
        fields.count = outer
        fields.buf.byte(0x7D)
    }
    /// Closes the object and appends its text to `out`.
    public consuming func finish(appendingTo out: inout [UInt8]) {
        fields.buf.byte(0x7D)
        fields.buf.append(to: &out)
    }
}

extension FieldTree {
    /// A cut frame's fields as `--json` gives a whole frame's (`Fcall.jsonObject`), as far as its captured
    /// bytes hold them whole (read from `Fcall.fieldTree(_:dialect:cut: true)`): the header (`size`, type,
    /// `tag`) left out, as for a whole frame; the field the cut fell in and what follows it left out too. A
    /// field with an index (`wname[1]`) joins an array under its name; data captured whole is its length.
    public var capturedFieldsJSON: [(String, JSONValue)] {
        var j = JSONFields()
        var arrays: [(name: String, values: [JSONValue])] = []
        for node in wholeBodyFields {
            if let bracket = node.label.firstIndex(of: "[") {
                let name = String(node.label[..<bracket])
                var one = JSONFields()
                Self.append(node, as: "v", to: &one)
                guard let value = one.members.first?.1 else { continue }
                if arrays.last?.name == name { arrays[arrays.count - 1].values.append(value) } else {
                    arrays.append((name, [value]))
                    j.members.append((name, .null))   // its place, filled below
                }
            } else {
                Self.append(node, as: node.label, to: &j)
            }
        }
        for (name, values) in arrays {
            if let i = j.members.firstIndex(where: { $0.0 == name }) { j.members[i].1 = .array(values) }
        }
        return j.members
    }

    private static func append(_ node: FieldNode, as key: String, to j: inout JSONFields) {
        switch node.value {
        case .unsigned(let v): j.num(key, v)
        case .fid(let f): j.fid(key, f)
        case .tag(let t): j.num(key, t.rawValue)
        case .string(let s): j.str(key, s)
        case .bytes(let count, _): j.member(key, .object([("length", .uint(UInt64(count)))]))
        case .flags(let raw, let names): j.flags(key, raw, names)
        case .enumerated(let raw, let name): j.named(key, raw, name)
        case .qid(let q): j.qid(key, q)
        case .group:
            var inner = JSONFields()
            for child in node.children where !child.label.hasSuffix(" (cut)") { append(child, as: child.label, to: &inner) }
            j.member(key, .object(inner.members))
        }
    }
}
