import NinePWire

// The 9P2000.L messages (9p2000.L-protocol.md; MESSAGES.md's table).
extension MessageSchema {
    static func qidOnly(_ type: MessageType, _ get: @escaping @Sendable (Message) -> Qid?) -> MessageSchema {
        MessageSchema(type, [FieldSpec("qid", .qid)], read: { m in get(m).map { [.qid($0)] } })
    }

    static let zeroGid = FieldSpec("gid", .u32, default: .zero)

    static let linux: [MessageSchema] = [
        MessageSchema(.rlerror, [FieldSpec("ecode", .errno, aliases: ["errno"])],
                      read: { if case .rlerror(let m) = $0 { [.u(m.ecode.rawValue)] } else { nil } }),
        fidOnly(.tstatfs, { .tstatfs(Tstatfs(fid: $0)) }, { if case .tstatfs(let m) = $0 { m.fid } else { nil } }),
        MessageSchema(.rstatfs, [
            FieldSpec("type", .u32), FieldSpec("bsize", .u32), FieldSpec("blocks", .u64), FieldSpec("bfree", .u64),
            FieldSpec("bavail", .u64), FieldSpec("files", .u64), FieldSpec("ffree", .u64), FieldSpec("fsid", .u64),
            FieldSpec("namelen", .u32),
        ], read: { if case .rstatfs(let m) = $0 {
            [.u(m.type), .u(m.bsize), .u(m.blocks), .u(m.bfree), .u(m.bavail), .u(m.files), .u(m.ffree), .u(m.fsid), .u(m.namelen)]
        } else { nil } }),
        MessageSchema(.tlopen, [FieldSpec("fid", .fid), FieldSpec("flags", .lopenFlags, default: .zero)],
                      build: { f, _ in .tlopen(Tlopen(fid: f.fid("fid"), flags: LOpenFlags(rawValue: f.u32("flags")))) },
                      read: { if case .tlopen(let m) = $0 { [.fid(m.fid), .u(m.flags.rawValue)] } else { nil } }),
        MessageSchema(.rlopen, [FieldSpec("qid", .qid), FieldSpec("iounit", .u32)],
                      read: { if case .rlopen(let m) = $0 { [.qid(m.qid), .u(m.iounit)] } else { nil } }),
        MessageSchema(.tlcreate, [
            FieldSpec("fid", .fid, aliases: ["dfid"]), FieldSpec("name", .string, default: .empty),
            FieldSpec("flags", .lopenFlags, default: .u(0o102), note: "default rdwr|create"),
            FieldSpec("mode", .posixMode, default: .u(0o644)), zeroGid,
        ], build: { f, _ in .tlcreate(Tlcreate(fid: f.fid("fid"), name: f.string("name"), flags: LOpenFlags(rawValue: f.u32("flags")),
                                               mode: f.u32("mode"), gid: f.u32("gid"))) },
           read: { if case .tlcreate(let m) = $0 { [.fid(m.fid), .s(m.name), .u(m.flags.rawValue), .u(m.mode), .u(m.gid)] } else { nil } }),
        MessageSchema(.rlcreate, [FieldSpec("qid", .qid), FieldSpec("iounit", .u32)],
                      read: { if case .rlcreate(let m) = $0 { [.qid(m.qid), .u(m.iounit)] } else { nil } }),
        MessageSchema(.tsymlink, [
            FieldSpec("fid", .fid, aliases: ["dfid"]), FieldSpec("name", .string, default: .empty),
            FieldSpec("symtgt", .string, aliases: ["target"], default: .empty), zeroGid,
        ], build: { f, _ in .tsymlink(Tsymlink(fid: f.fid("fid"), name: f.string("name"), symtgt: f.string("symtgt"), gid: f.u32("gid"))) },
           read: { if case .tsymlink(let m) = $0 { [.fid(m.fid), .s(m.name), .s(m.symtgt), .u(m.gid)] } else { nil } }),
        qidOnly(.rsymlink) { if case .rsymlink(let m) = $0 { m.qid } else { nil } },
        MessageSchema(.tmknod, [
            FieldSpec("dfid", .fid), FieldSpec("name", .string, default: .empty),
            FieldSpec("mode", .posixMode, default: .u(0o10644), note: "st_mode incl. S_IF* type bits; default a fifo 010644"),
            FieldSpec("major", .u32, default: .zero), FieldSpec("minor", .u32, default: .zero), zeroGid,
        ], build: { f, _ in .tmknod(Tmknod(dfid: f.fid("dfid"), name: f.string("name"), mode: f.u32("mode"),
                                           major: f.u32("major"), minor: f.u32("minor"), gid: f.u32("gid"))) },
           read: { if case .tmknod(let m) = $0 {
               [.fid(m.dfid), .s(m.name), .u(m.mode), .u(m.major), .u(m.minor), .u(m.gid)] } else { nil } }),
        qidOnly(.rmknod) { if case .rmknod(let m) = $0 { m.qid } else { nil } },
        MessageSchema(.trename, [
            FieldSpec("fid", .fid), FieldSpec("dfid", .fid, aliases: ["newdirfid"]), FieldSpec("name", .string, default: .empty),
        ], build: { f, _ in .trename(Trename(fid: f.fid("fid"), dfid: f.fid("dfid"), name: f.string("name"))) },
           read: { if case .trename(let m) = $0 { [.fid(m.fid), .fid(m.dfid), .s(m.name)] } else { nil } }),
        empty(.rrename, .rrename),
        fidOnly(.treadlink, { .treadlink(Treadlink(fid: $0)) }, { if case .treadlink(let m) = $0 { m.fid } else { nil } }),
        MessageSchema(.rreadlink, [FieldSpec("target", .string)],
                      read: { if case .rreadlink(let m) = $0 { [.s(m.target)] } else { nil } }),
        MessageSchema(.tgetattr, [
            FieldSpec("fid", .fid),
            FieldSpec("request_mask", .getattrMask, aliases: ["requestMask", "mask"], default: .u(GetattrMask.basic.rawValue),
                      note: "default basic (0x7ff)"),
        ], build: { f, _ in .tgetattr(Tgetattr(fid: f.fid("fid"), requestMask: GetattrMask(rawValue: f.u64("request_mask")))) },
           read: { if case .tgetattr(let m) = $0 { [.fid(m.fid), .u(m.requestMask.rawValue)] } else { nil } }),
        MessageSchema(.rgetattr, [
            FieldSpec("valid", .getattrMask), FieldSpec("qid", .qid), FieldSpec("mode", .posixMode), FieldSpec("uid", .u32),
            FieldSpec("gid", .u32), FieldSpec("nlink", .u64), FieldSpec("rdev", .u64), FieldSpec("size", .u64),
            FieldSpec("blksize", .u64), FieldSpec("blocks", .u64),
            FieldSpec("atime_sec", .u64, aliases: ["atimeSec"]), FieldSpec("atime_nsec", .u64, aliases: ["atimeNsec"]),
            FieldSpec("mtime_sec", .u64, aliases: ["mtimeSec"]), FieldSpec("mtime_nsec", .u64, aliases: ["mtimeNsec"]),
            FieldSpec("ctime_sec", .u64, aliases: ["ctimeSec"]), FieldSpec("ctime_nsec", .u64, aliases: ["ctimeNsec"]),
            FieldSpec("btime_sec", .u64, aliases: ["btimeSec"]), FieldSpec("btime_nsec", .u64, aliases: ["btimeNsec"]),
            FieldSpec("gen", .u64), FieldSpec("data_version", .u64, aliases: ["dataVersion"]),
        ], read: { if case .rgetattr(let m) = $0 {
            [.u(m.valid.rawValue), .qid(m.qid), .u(m.mode), .u(m.uid), .u(m.gid), .u(m.nlink), .u(m.rdev), .u(m.size),
             .u(m.blksize), .u(m.blocks), .u(m.atimeSec), .u(m.atimeNsec), .u(m.mtimeSec), .u(m.mtimeNsec),
             .u(m.ctimeSec), .u(m.ctimeNsec), .u(m.btimeSec), .u(m.btimeNsec), .u(m.gen), .u(m.dataVersion)]
        } else { nil } }),
        MessageSchema(.tsetattr, [
            FieldSpec("fid", .fid), FieldSpec("valid", .setattrValid, default: .zero, note: "friendly form: from the fields given"),
            FieldSpec("mode", .posixMode, default: .zero), FieldSpec("uid", .u32, default: .zero), FieldSpec("gid", .u32, default: .zero),
            FieldSpec("size", .u64, default: .zero),
            FieldSpec("atime_sec", .u64, aliases: ["atimeSec"], default: .zero), FieldSpec("atime_nsec", .u64, aliases: ["atimeNsec"], default: .zero),
            FieldSpec("mtime_sec", .u64, aliases: ["mtimeSec"], default: .zero), FieldSpec("mtime_nsec", .u64, aliases: ["mtimeNsec"], default: .zero),
        ], build: { f, _ in .tsetattr(Tsetattr(fid: f.fid("fid"), valid: SetattrValid(rawValue: f.u32("valid")), mode: f.u32("mode"),
                                               uid: f.u32("uid"), gid: f.u32("gid"), size: f.u64("size"),
                                               atimeSec: f.u64("atime_sec"), atimeNsec: f.u64("atime_nsec"),
                                               mtimeSec: f.u64("mtime_sec"), mtimeNsec: f.u64("mtime_nsec"))) },
           read: { if case .tsetattr(let m) = $0 {
               [.fid(m.fid), .u(m.valid.rawValue), .u(m.mode), .u(m.uid), .u(m.gid), .u(m.size),
                .u(m.atimeSec), .u(m.atimeNsec), .u(m.mtimeSec), .u(m.mtimeNsec)] } else { nil } }),
        empty(.rsetattr, .rsetattr),
        MessageSchema(.txattrwalk, [FieldSpec("fid", .fid), FieldSpec("newfid", .fid), FieldSpec("name", .string, default: .empty, note: "empty: list names")],
                      build: { f, _ in .txattrwalk(Txattrwalk(fid: f.fid("fid"), newfid: f.fid("newfid"), name: f.string("name"))) },
                      read: { if case .txattrwalk(let m) = $0 { [.fid(m.fid), .fid(m.newfid), .s(m.name)] } else { nil } }),
        MessageSchema(.rxattrwalk, [FieldSpec("size", .u64)],
                      read: { if case .rxattrwalk(let m) = $0 { [.u(m.size)] } else { nil } }),
        MessageSchema(.txattrcreate, [
            FieldSpec("fid", .fid), FieldSpec("name", .string, default: .empty),
            FieldSpec("attr_size", .u64, aliases: ["attrSize", "size"], default: .zero), FieldSpec("flags", .xattrFlags, default: .zero),
        ], build: { f, _ in .txattrcreate(Txattrcreate(fid: f.fid("fid"), name: f.string("name"), attrSize: f.u64("attr_size"), flags: f.u32("flags"))) },
           read: { if case .txattrcreate(let m) = $0 { [.fid(m.fid), .s(m.name), .u(m.attrSize), .u(m.flags)] } else { nil } }),
        empty(.rxattrcreate, .rxattrcreate),
        MessageSchema(.treaddir, [FieldSpec("fid", .fid), FieldSpec("offset", .u64, default: .zero), FieldSpec("count", .u32, default: .zero)],
                      build: { f, _ in .treaddir(Treaddir(fid: f.fid("fid"), offset: f.u64("offset"), count: f.u32("count"))) },
                      read: { if case .treaddir(let m) = $0 { [.fid(m.fid), .u(m.offset), .u(m.count)] } else { nil } }),
        MessageSchema(.rreaddir, [
            FieldSpec("count", .u32, derived: true), FieldSpec("data", .data),
            FieldSpec("entries", .dirents, derived: true, note: "decoded dirents"),
            FieldSpec("names", .strings, derived: true, note: "the entries' names"),
        ], read: { if case .rreaddir(let m) = $0 {
            let entries = try? Dirent.decodeAll(m.payload)
            return [.u(m.payload.count), .bytes(m.data), entries.map { .dirents($0) }, entries.map { .strings($0.map(\.name)) }]
        } else { return nil } }),
        MessageSchema(.tfsync, [FieldSpec("fid", .fid), FieldSpec("datasync", .u32, default: .zero)],
                      build: { f, _ in .tfsync(Tfsync(fid: f.fid("fid"), datasync: f.u32("datasync"))) },
                      read: { if case .tfsync(let m) = $0 { [.fid(m.fid), .u(m.datasync)] } else { nil } }),
        empty(.rfsync, .rfsync),
        MessageSchema(.tlock, [
            FieldSpec("fid", .fid), FieldSpec("type", .lockType, default: .zero), FieldSpec("flags", .lockFlags, default: .zero),
            FieldSpec("start", .u64, default: .zero), FieldSpec("length", .u64, default: .zero),
            FieldSpec("proc_id", .u32, aliases: ["procId"], default: .zero), FieldSpec("client_id", .string, aliases: ["clientId"], default: .empty),
        ], build: { f, _ in .tlock(Tlock(fid: f.fid("fid"), type: LockType(rawValue: f.u8("type")), flags: LockFlags(rawValue: f.u32("flags")),
                                         start: f.u64("start"), length: f.u64("length"), procId: f.u32("proc_id"), clientId: f.string("client_id"))) },
           read: { if case .tlock(let m) = $0 {
               [.fid(m.fid), .u(m.type.rawValue), .u(m.flags.rawValue), .u(m.start), .u(m.length), .u(m.procId), .s(m.clientId)] } else { nil } }),
        MessageSchema(.rlock, [FieldSpec("status", .lockStatus)],
                      read: { if case .rlock(let m) = $0 { [.u(m.status.rawValue)] } else { nil } }),
        MessageSchema(.tgetlock, [
            FieldSpec("fid", .fid), FieldSpec("type", .lockType, default: .zero),
            FieldSpec("start", .u64, default: .zero), FieldSpec("length", .u64, default: .zero),
            FieldSpec("proc_id", .u32, aliases: ["procId"], default: .zero), FieldSpec("client_id", .string, aliases: ["clientId"], default: .empty),
        ], build: { f, _ in .tgetlock(Tgetlock(fid: f.fid("fid"), type: LockType(rawValue: f.u8("type")), start: f.u64("start"),
                                               length: f.u64("length"), procId: f.u32("proc_id"), clientId: f.string("client_id"))) },
           read: { if case .tgetlock(let m) = $0 {
               [.fid(m.fid), .u(m.type.rawValue), .u(m.start), .u(m.length), .u(m.procId), .s(m.clientId)] } else { nil } }),
        MessageSchema(.rgetlock, [
            FieldSpec("type", .lockType), FieldSpec("start", .u64), FieldSpec("length", .u64),
            FieldSpec("proc_id", .u32, aliases: ["procId"]), FieldSpec("client_id", .string, aliases: ["clientId"]),
        ], read: { if case .rgetlock(let m) = $0 { [.u(m.type.rawValue), .u(m.start), .u(m.length), .u(m.procId), .s(m.clientId)] } else { nil } }),
        MessageSchema(.tlink, [FieldSpec("dfid", .fid), FieldSpec("fid", .fid), FieldSpec("name", .string, default: .empty)],
                      build: { f, _ in .tlink(Tlink(dfid: f.fid("dfid"), fid: f.fid("fid"), name: f.string("name"))) },
                      read: { if case .tlink(let m) = $0 { [.fid(m.dfid), .fid(m.fid), .s(m.name)] } else { nil } }),
        empty(.rlink, .rlink),
        MessageSchema(.tmkdir, [FieldSpec("dfid", .fid), FieldSpec("name", .string, default: .empty),
                                FieldSpec("mode", .posixMode, default: .u(0o755)), zeroGid],
                      build: { f, _ in .tmkdir(Tmkdir(dfid: f.fid("dfid"), name: f.string("name"), mode: f.u32("mode"), gid: f.u32("gid"))) },
                      read: { if case .tmkdir(let m) = $0 { [.fid(m.dfid), .s(m.name), .u(m.mode), .u(m.gid)] } else { nil } }),
        qidOnly(.rmkdir) { if case .rmkdir(let m) = $0 { m.qid } else { nil } },
        MessageSchema(.trenameat, [
            FieldSpec("olddirfid", .fid), FieldSpec("oldname", .string, default: .empty),
            FieldSpec("newdirfid", .fid), FieldSpec("newname", .string, default: .empty),
        ], build: { f, _ in .trenameat(Trenameat(olddirfid: f.fid("olddirfid"), oldname: f.string("oldname"),
                                                 newdirfid: f.fid("newdirfid"), newname: f.string("newname"))) },
           read: { if case .trenameat(let m) = $0 { [.fid(m.olddirfid), .s(m.oldname), .fid(m.newdirfid), .s(m.newname)] } else { nil } }),
        empty(.rrenameat, .rrenameat),
        MessageSchema(.tunlinkat, [FieldSpec("dirfd", .fid, aliases: ["dirfid"]), FieldSpec("name", .string, default: .empty),
                                   FieldSpec("flags", .unlinkFlags, default: .zero)],
                      build: { f, _ in .tunlinkat(Tunlinkat(dirfid: f.fid("dirfd"), name: f.string("name"), flags: f.u32("flags"))) },
                      read: { if case .tunlinkat(let m) = $0 { [.fid(m.dirfid), .s(m.name), .u(m.flags)] } else { nil } }),
        empty(.runlinkat, .runlinkat),
    ]
}
