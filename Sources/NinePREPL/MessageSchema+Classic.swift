import NinePWire

// The classic messages (version(5) … stat(5)), with the .u additions.
extension MessageSchema {
    static let uL: Set<Dialect> = [.u, .l]
    static let uOnly: Set<Dialect> = [.u]

    /// The fields of a stat entry (stat(5)), flattened into the message; `dontTouch` gives the
    /// Twstat defaults (all-ones integers, empty strings).
    static func statFields(dontTouch: Bool) -> [FieldSpec] {
        func d(_ v: FieldValue) -> FieldValue? { dontTouch ? v : nil }
        let ones = FieldValue.number(.max)
        return [
            FieldSpec("type", .u16, default: d(.u(UInt16.max)), note: "for kernel use"),
            FieldSpec("dev", .u32, default: d(.u(UInt32.max)), note: "for kernel use"),
            FieldSpec("qid", .qid, default: d(.qid(Qid(type: QidType(rawValue: 0xFF), version: .max, path: .max)))),
            FieldSpec("mode", .dirMode, aliases: ["perm"], default: d(.u(UInt32.max))),
            FieldSpec("atime", .u32, default: d(.u(UInt32.max))),
            FieldSpec("mtime", .u32, default: d(.u(UInt32.max))),
            FieldSpec("length", .u64, default: d(ones)),
            FieldSpec("name", .string, default: d(.empty)),
            FieldSpec("uid", .string, default: d(.empty)),
            FieldSpec("gid", .string, default: d(.empty)),
            FieldSpec("muid", .string, default: d(.empty)),
            FieldSpec("extension", .string, dialects: uOnly, default: d(.empty)),
            FieldSpec("n_uid", .u32, aliases: ["nUid"], dialects: uOnly, default: d(.u(UInt32.max))),
            FieldSpec("n_gid", .u32, aliases: ["nGid"], dialects: uOnly, default: d(.u(UInt32.max))),
            FieldSpec("n_muid", .u32, aliases: ["nMuid"], dialects: uOnly, default: d(.u(UInt32.max))),
        ]
    }

    static func statValues(_ s: Stat) -> [FieldValue?] {
        [.u(s.type), .u(s.dev), .qid(s.qid), .u(s.mode.rawValue), .u(s.atime), .u(s.mtime), .u(s.length),
         .s(s.name), .s(s.uid), .s(s.gid), .s(s.muid),
         s.unix.map { .s($0.extension) }, s.unix.map { .u($0.nUid) }, s.unix.map { .u($0.nGid) },
         s.unix.map { .u($0.nMuid) }]
    }

    static func stat(from f: FieldBag, dialect: Dialect) -> Stat {
        Stat(type: f.u16("type"), dev: f.u32("dev"), qid: f.qid("qid"), mode: DirMode(rawValue: f.u32("mode")),
             atime: f.u32("atime"), mtime: f.u32("mtime"), length: f.u64("length"), name: f.string("name"),
             uid: f.string("uid"), gid: f.string("gid"), muid: f.string("muid"),
             unix: dialect == .u ? Stat.UnixStat(extension: f.string("extension"), nUid: f.u32("n_uid"),
                                                 nGid: f.u32("n_gid"), nMuid: f.u32("n_muid")) : nil)
    }

    static func fidOnly(_ type: MessageType, _ make: @escaping @Sendable (Fid) -> Message,
                        _ get: @escaping @Sendable (Message) -> Fid?) -> MessageSchema {
        MessageSchema(type, [FieldSpec("fid", .fid)], build: { f, _ in make(f.fid("fid")) },
                      read: { m in get(m).map { [.fid($0)] } })
    }

    static func empty(_ type: MessageType, _ value: Message) -> MessageSchema {
        MessageSchema(type, [], read: { $0 == value ? [] : nil })
    }

    static let classic: [MessageSchema] = [
        MessageSchema(.tversion, [
            FieldSpec("msize", .u32, note: "default: the REPL's msize"),
            FieldSpec("version", .string, note: "default: the REPL's dialect"),
        ], build: { f, _ in .tversion(Tversion(msize: f.u32("msize"), version: f.string("version"))) },
           read: { if case .tversion(let m) = $0 { [.u(m.msize), .s(m.version)] } else { nil } }),
        MessageSchema(.rversion, [FieldSpec("msize", .u32), FieldSpec("version", .string)],
                      read: { if case .rversion(let m) = $0 { [.u(m.msize), .s(m.version)] } else { nil } }),
        MessageSchema(.tauth, [
            FieldSpec("afid", .fid), FieldSpec("uname", .string, default: .empty),
            FieldSpec("aname", .string, default: .empty),
            FieldSpec("n_uname", .u32, aliases: ["nUname"], dialects: uL, default: .nonuname, note: "default NONUNAME"),
        ], build: { f, d in .tauth(Tauth(afid: f.fid("afid"), uname: f.string("uname"), aname: f.string("aname"),
                                         nUname: d == .p9 ? nil : f.u32("n_uname"))) },
           read: { if case .tauth(let m) = $0 { [.fid(m.afid), .s(m.uname), .s(m.aname), m.nUname.map { .u($0) }] } else { nil } }),
        MessageSchema(.rauth, [FieldSpec("aqid", .qid)],
                      read: { if case .rauth(let m) = $0 { [.qid(m.aqid)] } else { nil } }),
        MessageSchema(.tattach, [
            FieldSpec("fid", .fid), FieldSpec("afid", .fid, default: .nofid, note: "default NOFID"),
            FieldSpec("uname", .string, default: .empty), FieldSpec("aname", .string, default: .empty),
            FieldSpec("n_uname", .u32, aliases: ["nUname"], dialects: uL, default: .nonuname, note: "default NONUNAME"),
        ], build: { f, d in .tattach(Tattach(fid: f.fid("fid"), afid: f.fid("afid"), uname: f.string("uname"),
                                             aname: f.string("aname"), nUname: d == .p9 ? nil : f.u32("n_uname"))) },
           read: { if case .tattach(let m) = $0 {
               [.fid(m.fid), .fid(m.afid), .s(m.uname), .s(m.aname), m.nUname.map { .u($0) }] } else { nil } }),
        MessageSchema(.rattach, [FieldSpec("qid", .qid)],
                      read: { if case .rattach(let m) = $0 { [.qid(m.qid)] } else { nil } }),
        MessageSchema(.rerror, [FieldSpec("ename", .string), FieldSpec("errno", .errno, dialects: uOnly)],
                      read: { if case .rerror(let m) = $0 { [m.ename.map { .s($0) }, m.errno.map { .u($0) }] } else { nil } }),
        MessageSchema(.tflush, [FieldSpec("oldtag", .tag)],
                      build: { f, _ in .tflush(Tflush(oldtag: f.tag("oldtag"))) },
                      read: { if case .tflush(let m) = $0 { [.tag(m.oldtag)] } else { nil } }),
        empty(.rflush, .rflush),
        MessageSchema(.twalk, [
            FieldSpec("fid", .fid), FieldSpec("newfid", .fid),
            FieldSpec("nwname", .u16, derived: true, note: "number of wname"),
            FieldSpec("wname", .strings, aliases: ["wnames"], default: .strings([])),
        ], build: { f, _ in .twalk(Twalk(fid: f.fid("fid"), newfid: f.fid("newfid"), wnames: f.strings("wname"))) },
           read: { if case .twalk(let m) = $0 {
               [.fid(m.fid), .fid(m.newfid), .u(m.wnames.count), .strings(m.wnames)] } else { nil } }),
        MessageSchema(.rwalk, [FieldSpec("nwqid", .u16, derived: true), FieldSpec("wqid", .qids, aliases: ["wqids"])],
                      read: { if case .rwalk(let m) = $0 { [.u(m.wqids.count), .qids(m.wqids)] } else { nil } }),
        MessageSchema(.topen, [FieldSpec("fid", .fid), FieldSpec("mode", .openMode, default: .zero)],
                      build: { f, _ in .topen(Topen(fid: f.fid("fid"), mode: OpenMode(rawValue: f.u8("mode")))) },
                      read: { if case .topen(let m) = $0 { [.fid(m.fid), .u(m.mode.rawValue)] } else { nil } }),
        MessageSchema(.ropen, [FieldSpec("qid", .qid), FieldSpec("iounit", .u32)],
                      read: { if case .ropen(let m) = $0 { [.qid(m.qid), .u(m.iounit)] } else { nil } }),
        MessageSchema(.tcreate, [
            FieldSpec("fid", .fid), FieldSpec("name", .string, default: .empty),
            FieldSpec("perm", .dirMode, default: .u(0o644)), FieldSpec("mode", .openMode, default: .u(2)),
            FieldSpec("extension", .string, dialects: uOnly, default: .empty),
        ], build: { f, d in .tcreate(Tcreate(fid: f.fid("fid"), name: f.string("name"), perm: DirMode(rawValue: f.u32("perm")),
                                             mode: OpenMode(rawValue: f.u8("mode")),
                                             extension: d == .u ? f.string("extension") : nil)) },
           read: { if case .tcreate(let m) = $0 {
               [.fid(m.fid), .s(m.name), .u(m.perm.rawValue), .u(m.mode.rawValue), m.extension.map { .s($0) }] } else { nil } }),
        MessageSchema(.rcreate, [FieldSpec("qid", .qid), FieldSpec("iounit", .u32)],
                      read: { if case .rcreate(let m) = $0 { [.qid(m.qid), .u(m.iounit)] } else { nil } }),
        MessageSchema(.tread, [FieldSpec("fid", .fid), FieldSpec("offset", .u64, default: .zero), FieldSpec("count", .u32, default: .zero)],
                      build: { f, _ in .tread(Tread(fid: f.fid("fid"), offset: f.u64("offset"), count: f.u32("count"))) },
                      read: { if case .tread(let m) = $0 { [.fid(m.fid), .u(m.offset), .u(m.count)] } else { nil } }),
        MessageSchema(.rread, [FieldSpec("count", .u32, derived: true), FieldSpec("data", .data)],
                      read: { if case .rread(let m) = $0 { [.u(m.payload.count), .bytes(m.data)] } else { nil } }),
        MessageSchema(.twrite, [
            FieldSpec("fid", .fid), FieldSpec("offset", .u64, default: .zero),
            FieldSpec("count", .u32, derived: true), FieldSpec("data", .data, default: .empty),
        ], build: { f, _ in .twrite(Twrite(fid: f.fid("fid"), offset: f.u64("offset"), data: f.data("data"))) },
           read: { if case .twrite(let m) = $0 { [.fid(m.fid), .u(m.offset), .u(m.payload.count), .bytes(m.data)] } else { nil } }),
        MessageSchema(.rwrite, [FieldSpec("count", .u32)],
                      read: { if case .rwrite(let m) = $0 { [.u(m.count)] } else { nil } }),
        fidOnly(.tclunk, { .tclunk(Tclunk(fid: $0)) }, { if case .tclunk(let m) = $0 { m.fid } else { nil } }),
        empty(.rclunk, .rclunk),
        fidOnly(.tremove, { .tremove(Tremove(fid: $0)) }, { if case .tremove(let m) = $0 { m.fid } else { nil } }),
        empty(.rremove, .rremove),
        fidOnly(.tstat, { .tstat(Tstat(fid: $0)) }, { if case .tstat(let m) = $0 { m.fid } else { nil } }),
        MessageSchema(.rstat, statFields(dontTouch: false),
                      read: { if case .rstat(let m) = $0 { statValues(m.stat) } else { nil } }),
        MessageSchema(.twstat, [FieldSpec("fid", .fid)] + statFields(dontTouch: true),
                      build: { f, d in .twstat(Twstat(fid: f.fid("fid"), stat: stat(from: f, dialect: d))) },
                      read: { if case .twstat(let m) = $0 { [.fid(m.fid)] + statValues(m.stat) } else { nil } }),
        empty(.rwstat, .rwstat),
    ]
}
