import NinePWire

/// One field that differs between a captured reply and its replayed counterpart.
public struct FieldDifference: Hashable, Sendable, CustomStringConvertible {
    /// Field name (`size`, `qid.path`, `wqid[1].type`, `entries[2].name`), or `type` for a different reply type.
    public var field: String
    public var captured: String
    public var replayed: String
    /// What the difference is, when the two values alone do not say it (a qid path that breaks the map of
    /// captured paths to replayed ones): shown instead of them.
    public var explanation: String?
    public init(field: String, captured: String, replayed: String, explanation: String? = nil) {
        self.field = field; self.captured = captured; self.replayed = replayed; self.explanation = explanation
    }
    public var description: String { "\(field): " + (explanation ?? "captured \(captured), replayed \(replayed)") }
}

/// Compares replies field by field through `MessageSchema`, applying `IgnoreRule`s. Keeps the qid.path
/// mapping between calls (one comparator per replayed connection).
public struct ReplyComparator: Sendable {
    public var ignore: Set<IgnoreRule>
    /// captured qid.path → replayed qid.path, and the reverse.
    var pathMap: [UInt64: UInt64] = [:]
    var reversePathMap: [UInt64: UInt64] = [:]
    /// How many removals (`noteRemoval`) there had been when each pair of `pathMap` (by its captured path) was
    /// last seen in a reply.
    var pathSeen: [UInt64: Int] = [:]
    /// Removals so far: a file removed frees its qid path, which a server may give the next file it makes (a
    /// local file system reuses inode numbers), while the other server gives a new one.
    var removals = 0

    public init(ignore: Set<IgnoreRule> = IgnoreRule.defaults) { self.ignore = ignore }

    /// Differences between `captured` and `replayed` (tags are not compared). `directory`: the replies answer
    /// a Tread of a directory, whose data in 9P2000 and 9P2000.u is stat entries, compared entry by entry as
    /// Rstat's fields are (with the same rules) when both decode.
    public mutating func compare(captured: Fcall, replayed: Fcall, dialect: Dialect = .l,
                                 directory: Bool = false) -> [FieldDifference] {
        let ct = captured.message.type, rt = replayed.message.type
        guard ct == rt, let schema = MessageSchema.schema(of: captured.message),
              let cv = schema.values(of: captured.message), let rv = schema.values(of: replayed.message) else {
            if ct == nil && rt == nil, captured.message != replayed.message {
                return [FieldDifference(field: "body", captured: "unknown type \(captured.message.typeCode)",
                                        replayed: "unknown type \(replayed.message.typeCode)")]
            }
            let name = { (f: Fcall) in f.message.type?.name ?? "type \(f.message.typeCode)" }
            guard ct != rt else { return [] }
            var d = FieldDifference(field: "type", captured: name(captured), replayed: name(replayed))
            if let a = Self.errno(ofErrorReply: captured.message), let b = Self.errno(ofErrorReply: replayed.message) {
                // An Rlerror on one side and an Rerror on the other (nfs-ganesha's errors in 9P2000.L): say
                // whether they carry the same errno, which is what a client acts on.
                let illegal = [captured.message, replayed.message].contains { if case .rerror = $0 { true } else { false } }
                    && dialect == .l ? "; Rerror is not a 9P2000.L message" : ""
                let n = { (e: Errno) in e.name ?? String(e.rawValue) }
                d.explanation = "captured \(d.captured), replayed \(d.replayed) "
                    + (a == b ? "(the same errno, \(n(a))\(illegal))" : "(errno \(n(a)) and \(n(b))\(illegal))")
            }
            return [d]
        }
        var out: [FieldDifference] = []
        let type = schema.type
        if directory, dialect != .l, case .rread(let a) = captured.message, case .rread(let b) = replayed.message,
           let stats = try? Stat.decodeAll(a.data, dialect: dialect), let replayedStats = try? Stat.decodeAll(b.data, dialect: dialect) {
            compareStats(stats, replayedStats, dialect: dialect, &out)
            return out
        }
        if type == .rerror, ignore.contains(.ename), case .rerror(let a) = captured.message,
           case .rerror(let b) = replayed.message, let errno = Self.errno(of: a), errno == Self.errno(of: b) {
            return out
        }
        if type == .rreaddir {
            // Entries (fields 2) when both decode; the raw data otherwise.
            if cv[2] != nil && rv[2] != nil { compareEntries(cv[2], rv[2], &out) }
            else { compareValue(schema.fields[1], cv[1], rv[1], type, &out) }
            return out
        }
        for (i, field) in schema.fields.enumerated() {
            if field.derived { continue }
            if isIgnored(field.name, in: type) { continue }
            if type == .rgetattr && field.name == "valid", case .number(let a)? = cv[i], case .number(let b)? = rv[i] {
                // Whether a server declares a field it fills with nothing (btime, gen, data_version) matters no
                // more than the field's value, which the rule leaves out.
                let masked = ~ignoredGetattrBits
                compareValue(field, .number(a & masked), .number(b & masked), type, &out)
                continue
            }
            compareValue(field, cv[i], rv[i], type, &out)
        }
        return out
    }

    /// Rgetattr `valid` bits of the fields the rules leave out: BTIME with `times`, GEN and DATA_VERSION with
    /// `gen`.
    var ignoredGetattrBits: UInt64 {
        var bits: UInt64 = 0
        if ignore.contains(.times) { bits |= UInt64(GetattrMask.btime.rawValue) }
        if ignore.contains(.gen) { bits |= UInt64(GetattrMask.gen.rawValue | GetattrMask.dataVersion.rawValue) }
        return bits
    }

    func isIgnored(_ name: String, in type: MessageType) -> Bool {
        switch type {
        case .rgetattr:
            if ignore.contains(.times) && ["atime_sec", "atime_nsec", "mtime_sec", "mtime_nsec", "ctime_sec", "ctime_nsec",
                                           "btime_sec", "btime_nsec"].contains(name) { return true }
            if ignore.contains(.gen) && (name == "gen" || name == "data_version") { return true }
            if ignore.contains(.blocks) && (name == "blksize" || name == "blocks") { return true }
            if ignore.contains(.owner) && (name == "uid" || name == "gid") { return true }
        case .rstat:
            if ignore.contains(.times) && (name == "atime" || name == "mtime") { return true }
            if ignore.contains(.dev) && (name == "type" || name == "dev") { return true }
            if ignore.contains(.owner) && ["uid", "gid", "muid", "n_uid", "n_gid", "n_muid"].contains(name) { return true }
        case .rstatfs:
            return ignore.contains(.statfs)
        case .ropen, .rcreate, .rlopen, .rlcreate:
            return ignore.contains(.iounit) && name == "iounit"
        case .rversion:
            return ignore.contains(.msize) && name == "msize"
        default: break
        }
        return false
    }

    mutating func compareValue(_ field: FieldSpec, _ c: FieldValue?, _ r: FieldValue?, _ type: MessageType, _ out: inout [FieldDifference]) {
        switch (c, r) {
        case (.qid(let a)?, .qid(let b)?):
            compareQid(field.name, a, b, &out)
        case (.qids(let a)?, .qids(let b)?):
            if a.count != b.count {
                out.append(FieldDifference(field: field.name, captured: "\(a.count) qids", replayed: "\(b.count) qids"))
            }
            for (i, (x, y)) in zip(a, b).enumerated() { compareQid("\(field.name)[\(i)]", x, y, &out) }
        default:
            guard c != r else { return }
            let show = { (v: FieldValue?) in v.map { ValueFormatter.format($0, as: field.type, dataLimit: 64) } ?? "absent" }
            var difference = FieldDifference(field: field.name, captured: show(c), replayed: show(r))
            if field.type == .data, case .bytes(let a)? = c, case .bytes(let b)? = r {
                difference.explanation = Self.dataDifference(a, b)
            }
            out.append(difference)
        }
    }

    mutating func compareQid(_ name: String, _ a: Qid, _ b: Qid, _ out: inout [FieldDifference]) {
        if a.type != b.type {
            out.append(FieldDifference(field: name + ".type", captured: "0x" + String(a.type.rawValue, radix: 16),
                                       replayed: "0x" + String(b.type.rawValue, radix: 16)))
        }
        if !ignore.contains(.qidVersion) && a.version != b.version {
            out.append(FieldDifference(field: name + ".version", captured: String(a.version), replayed: String(b.version)))
        }
        if ignore.contains(.qidPath) {
            let known = pathMap[a.path], knownBack = reversePathMap[b.path]
            // The pairs this one would break, by their captured paths: each may be of a file removed since it
            // was last seen, whose path either server then gave another file.
            let broken = (known != nil && known != b.path ? [a.path] : []) + (knownBack.map { $0 != a.path ? [$0] : [] } ?? [])
            if known == b.path || (known == nil && knownBack == nil)
                || (!broken.isEmpty && broken.allSatisfy { (pathSeen[$0] ?? 0) < removals }) {
                if let old = known, old != b.path { reversePathMap[old] = nil }
                if let old = knownBack, old != a.path { pathMap[old] = nil; pathSeen[old] = nil }
                pathMap[a.path] = b.path; reversePathMap[b.path] = a.path; pathSeen[a.path] = removals
            } else {
                out.append(FieldDifference(field: name + ".path", captured: Self.hex(a.path), replayed: Self.hex(b.path),
                                           explanation: Self.brokenMap(captured: a.path, replayed: b.path,
                                                                       replayedBefore: known, capturedBefore: knownBack)))
            }
        } else if a.path != b.path {
            out.append(FieldDifference(field: name + ".path", captured: Self.hex(a.path), replayed: Self.hex(b.path)))
        }
    }

    static func hex(_ n: UInt64) -> String { "0x" + String(n, radix: 16) }

    /// Two payloads too long to show whole (more than the 64 bytes a value shows), where they part: their sizes,
    /// and 32 bytes of each from the first byte that differs (which their first 64 bytes may not reach):
    /// `65512 bytes each; alike up to byte 30000, then captured 0x…, replayed 0x…`. Nil for short ones, which
    /// show whole.
    static func dataDifference(_ a: [UInt8], _ b: [UInt8]) -> String? {
        guard max(a.count, b.count) > 64 else { return nil }
        var at = 0
        while at < a.count && at < b.count && a[at] == b[at] { at += 1 }
        let sizes = a.count == b.count ? "\(a.count) bytes each" : "captured \(a.count) bytes, replayed \(b.count)"
        let from = { (d: [UInt8]) in at < d.count ? ValueFormatter.payload(Array(d[at...]), limit: 32) : "nothing (it ends there)" }
        return "\(sizes); alike up to byte \(at), then captured \(from(a)), replayed \(from(b))"
    }

    /// A file or directory was removed (or renamed over) on either server: a qid path seen before this may be
    /// given to a new file by one server and not the other, which is no difference.
    public mutating func noteRemoval() { removals += 1 }

    /// Whether `request`, answered by `reply` (of either server) without an error, may have removed a file.
    public static func mayRemove(_ request: Message, answeredBy reply: Fcall?) -> Bool {
        guard let reply, reply.message.type?.isError != true else { return false }
        switch request {
        case .tremove, .tunlinkat, .trename, .trenameat, .twstat: return true
        default: return false
        }
    }

    /// A qid path that breaks the one-to-one map of captured paths to replayed ones, in words: the captured
    /// path was replayed before as another (`replayedBefore`), or the replayed one already answered another
    /// captured path (`capturedBefore`), or both.
    /// `replayed 0xf824a4 was already the reply for captured 0xf7a1bf; captured 0x3df9d had no replayed path yet`.
    static func brokenMap(captured a: UInt64, replayed b: UInt64, replayedBefore: UInt64?, capturedBefore: UInt64?) -> String {
        let taken = capturedBefore.map { "replayed \(hex(b)) was already the reply for captured \(hex($0))" }
        switch (replayedBefore, taken) {
        case (nil, let taken?):
            return taken + "; captured \(hex(a)) had no replayed path yet"
        case (let before?, nil):
            return "captured \(hex(a)) was replayed before as \(hex(before)), now as \(hex(b)), a replayed path not seen before"
        case (let before?, let taken?):
            return "captured \(hex(a)) was replayed before as \(hex(before)), now as \(hex(b)); " + taken
        case (nil, nil):
            return "captured \(hex(a)), replayed \(hex(b))"
        }
    }

    /// The errno an error reply carries (Rlerror's ecode, Rerror's errno or the one its ename names), nil for
    /// any other reply or an Rerror whose text names none.
    static func errno(ofErrorReply m: Message) -> Errno? {
        switch m {
        case .rlerror(let e): e.ecode
        case .rerror(let e): errno(of: e).map { Errno($0) }
        default: nil
        }
    }

    /// The errno an Rerror names: its 9P2000.u errno field, or what its text stands for (`Errno(message:)`).
    static func errno(of e: Rerror) -> UInt32? {
        if let n = e.errno, n != 0 { return n }
        return e.ename.flatMap { Errno(message: $0.string) }?.rawValue
    }

    /// A 9P2000/.u directory read's entries: the same names (in order, or as sets with `dirent.order`), then
    /// each entry's fields as an Rstat's, named `entries[i].field`.
    mutating func compareStats(_ a: [Stat], _ b: [Stat], dialect: Dialect, _ out: inout [FieldDifference]) {
        guard let pairs = matchedByName(a, b, name: \.name, &out) else { return }
        for (i, (x, y)) in pairs.enumerated() {
            let fields = compare(captured: Fcall(tag: 0, .rstat(Rstat(stat: x))), replayed: Fcall(tag: 0, .rstat(Rstat(stat: y))),
                                 dialect: dialect)
            out += fields.map { FieldDifference(field: "entries[\(i)].\($0.field)", captured: $0.captured, replayed: $0.replayed,
                                               explanation: $0.explanation) }
        }
    }

    /// Two directory reads' entries paired up: in order, or sorted by name with `dirent.order`; nil (and a
    /// `names` difference) when their names differ.
    func matchedByName<Entry>(_ a: [Entry], _ b: [Entry], name: (Entry) -> P9String,
                              _ out: inout [FieldDifference]) -> [(Entry, Entry)]? {
        var a = a, b = b
        if ignore.contains(.direntOrder) {
            a.sort { name($0) < name($1) }; b.sort { name($0) < name($1) }
        }
        guard a.map(name) == b.map(name) else {
            let captured = ValueFormatter.format(.strings(a.map(name)), as: .strings)
            let replayed = ValueFormatter.format(.strings(b.map(name)), as: .strings)
            // Servers list a directory in their own order (a local file system's is its hash order): say when
            // that is all, and which rule compares the entries as a set.
            let reordered = a.map(name).sorted() == b.map(name).sorted()
            out.append(FieldDifference(field: "names", captured: captured, replayed: replayed,
                                       explanation: reordered ? "the same \(a.count) names in another order (--ignore "
                                           + "dirent.order compares them as a set): captured \(captured), replayed \(replayed)" : nil))
            return nil
        }
        return Array(zip(a, b))
    }

    mutating func compareEntries(_ c: FieldValue?, _ r: FieldValue?, _ out: inout [FieldDifference]) {
        guard case .dirents(let a)? = c, case .dirents(let b)? = r else {
            if c != r { out.append(FieldDifference(field: "entries", captured: c == nil ? "undecodable" : "entries",
                                                   replayed: r == nil ? "undecodable" : "entries")) }
            return
        }
        guard let pairs = matchedByName(a, b, name: \.name, &out) else { return }
        for (i, (x, y)) in pairs.enumerated() {
            if x.type != y.type {
                out.append(FieldDifference(field: "entries[\(i)].type", captured: String(x.type), replayed: String(y.type)))
            }
            if !ignore.contains(.direntOffset) && x.offset != y.offset {
                out.append(FieldDifference(field: "entries[\(i)].offset", captured: String(x.offset), replayed: String(y.offset)))
            }
            compareQid("entries[\(i)].qid", x.qid, y.qid, &out)
        }
    }
}
