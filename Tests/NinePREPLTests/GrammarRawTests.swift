import Testing
import NinePWire
@testable import NinePREPL

private let L = RequestParser(dialect: .l, msize: 8192)

struct RawCase: CustomTestStringConvertible, Sendable {
    var line: String
    var dialect: Dialect
    var expected: Message
    var tag: NinePWire.Tag?
    var testDescription: String { line }
    init(_ line: String, _ expected: Message, tag: NinePWire.Tag? = nil, _ dialect: Dialect = .l) {
        self.line = line; self.expected = expected; self.tag = tag; self.dialect = dialect
    }
}

let rawCases: [RawCase] = [
    RawCase("Tversion msize=4096 version=9P2000 tag=65535", .tversion(Tversion(msize: 4096, version: "9P2000")), tag: .notag),
    RawCase("Tversion", .tversion(Tversion(msize: 8192, version: "9P2000.L"))),
    RawCase("Tauth afid=3 uname=u aname=a n_uname=5", .tauth(Tauth(afid: 3, uname: "u", aname: "a", nUname: 5))),
    RawCase("Tattach fid=0 afid=NOFID uname=root aname=/srv n_uname=0", .tattach(Tattach(fid: 0, afid: Fid(0xFFFF_FFFF), uname: "root", aname: "/srv", nUname: 0))),
    RawCase("Tattach fid=0 uname=glenda", .tattach(Tattach(fid: 0, afid: Fid(0xFFFF_FFFF), uname: "glenda", aname: "")), .p9),
    RawCase("Tflush oldtag=4 tag=5", .tflush(Tflush(oldtag: 4)), tag: 5),
    RawCase("Twalk fid=0 newfid=1 wname=usr,bin", .twalk(Twalk(fid: 0, newfid: 1, wnames: ["usr", "bin"]))),
    RawCase("Twalk fid=0 newfid=1 wnames=\"a,b\",c", .twalk(Twalk(fid: 0, newfid: 1, wnames: ["a,b", "c"]))),
    RawCase("Twalk fid=0 newfid=1", .twalk(Twalk(fid: 0, newfid: 1, wnames: []))),
    RawCase("Topen fid=1 mode=ORDWR", .topen(Topen(fid: 1, mode: OpenMode(rawValue: 2))), .u),
    RawCase("Tcreate fid=1 name=x perm=0644 mode=1 extension=", .tcreate(Tcreate(fid: 1, name: "x", perm: DirMode(rawValue: 0o644), mode: OpenMode(rawValue: 1), extension: "")), .u),
    RawCase("Tread fid=1 offset=2 count=3", .tread(Tread(fid: 1, offset: 2, count: 3))),
    RawCase("Tread fid=1", .tread(Tread(fid: 1, offset: 0, count: 0))),
    RawCase("Twrite fid=1 offset=0 data=0x414243", .twrite(Twrite(fid: 1, offset: 0, data: [0x41, 0x42, 0x43]))),
    RawCase("Tclunk fid=9", .tclunk(Tclunk(fid: 9))),
    RawCase("Tremove fid=9", .tremove(Tremove(fid: 9))),
    RawCase("Tstat fid=9", .tstat(Tstat(fid: 9)), .p9),
    RawCase("Twstat fid=9 name=n qid.path=7", .twstat(Twstat(fid: 9, stat: Stat(type: 0xFFFF, dev: 0xFFFF_FFFF,
        qid: Qid(type: QidType(rawValue: 0xFF), version: 0xFFFF_FFFF, path: 7), mode: DirMode(rawValue: 0xFFFF_FFFF),
        atime: 0xFFFF_FFFF, mtime: 0xFFFF_FFFF, length: .max, name: "n", uid: "", gid: "", muid: ""))), .p9),
    RawCase("Tstatfs fid=1", .tstatfs(Tstatfs(fid: 1))),
    RawCase("Tlopen fid=1 flags=rdwr", .tlopen(Tlopen(fid: 1, flags: LOpenFlags(rawValue: 2)))),
    RawCase("Tlcreate fid=1 name=f flags=0 mode=0 gid=0", .tlcreate(Tlcreate(fid: 1, name: "f", flags: LOpenFlags(rawValue: 0), mode: 0, gid: 0))),
    RawCase("Tsymlink fid=1 name=l symtgt=t gid=3", .tsymlink(Tsymlink(fid: 1, name: "l", symtgt: "t", gid: 3))),
    RawCase("Tmknod dfid=1 name=n mode=020600 major=4 minor=5 gid=6", .tmknod(Tmknod(dfid: 1, name: "n", mode: 0o20600, major: 4, minor: 5, gid: 6))),
    RawCase("Trename fid=1 dfid=2 name=n", .trename(Trename(fid: 1, dfid: 2, name: "n"))),
    RawCase("Treadlink fid=1", .treadlink(Treadlink(fid: 1))),
    RawCase("Tgetattr fid=100 mask=basic", .tgetattr(Tgetattr(fid: 100, requestMask: GetattrMask(rawValue: 0x7FF)))),
    RawCase("Tgetattr fid=100 request_mask=0x3fff", .tgetattr(Tgetattr(fid: 100, requestMask: GetattrMask(rawValue: 0x3FFF)))),
    RawCase("Tsetattr fid=1 valid=size|mode size=1 mode=0755 atime_sec=2 atime_nsec=3 mtime_sec=4 mtime_nsec=5 uid=6 gid=7",
            .tsetattr(Tsetattr(fid: 1, valid: SetattrValid(rawValue: 0x9), mode: 0o755, uid: 6, gid: 7, size: 1, atimeSec: 2, atimeNsec: 3, mtimeSec: 4, mtimeNsec: 5))),
    RawCase("Txattrwalk fid=1 newfid=2 name=user.a", .txattrwalk(Txattrwalk(fid: 1, newfid: 2, name: "user.a"))),
    RawCase("Txattrcreate fid=1 name=user.a attr_size=10 flags=replace", .txattrcreate(Txattrcreate(fid: 1, name: "user.a", attrSize: 10, flags: 2))),
    RawCase("Treaddir fid=1 offset=0 count=100", .treaddir(Treaddir(fid: 1, offset: 0, count: 100))),
    RawCase("Tfsync fid=1 datasync=1", .tfsync(Tfsync(fid: 1, datasync: 1))),
    RawCase("Tlock fid=1 type=unlck flags=0 start=1 length=2 proc_id=3 client_id=c", .tlock(Tlock(fid: 1, type: LockType(rawValue: 2), flags: LockFlags(rawValue: 0), start: 1, length: 2, procId: 3, clientId: "c"))),
    RawCase("Tgetlock fid=1 type=wrlck start=1 length=2 procId=3 clientId=c", .tgetlock(Tgetlock(fid: 1, type: LockType(rawValue: 1), start: 1, length: 2, procId: 3, clientId: "c"))),
    RawCase("Tlink dfid=1 fid=2 name=h", .tlink(Tlink(dfid: 1, fid: 2, name: "h"))),
    RawCase("Tmkdir dfid=1 name=d mode=0700 gid=0", .tmkdir(Tmkdir(dfid: 1, name: "d", mode: 0o700, gid: 0))),
    RawCase("Trenameat olddirfid=1 oldname=a newdirfid=2 newname=b", .trenameat(Trenameat(olddirfid: 1, oldname: "a", newdirfid: 2, newname: "b"))),
    RawCase("Tunlinkat dirfd=1 name=d flags=AT_REMOVEDIR", .tunlinkat(Tunlinkat(dirfid: 1, name: "d", flags: 0x200))),
    RawCase("tunlinkat dirfid=1 name=d", .tunlinkat(Tunlinkat(dirfid: 1, name: "d", flags: 0))),
]

@Test(arguments: rawCases)
func rawForm(_ c: RawCase) throws {
    let r = try RequestParser(dialect: c.dialect, msize: 8192).parseRequest(c.line)
    #expect(r.message == c.expected)
    #expect(r.tag == c.tag)
}

@Test func everyTMessageHasARawCase() {
    let covered = Set(rawCases.compactMap { $0.line.split(separator: " ").first.map { $0.lowercased() } })
    for t in MessageType.allCases where t.isRequest && t != .terror && t != .tlerror {
        #expect(covered.contains(t.name.lowercased()), "no raw-form case for \(t.name)")
    }
}

@Test func numbersAndSpecialValues() {
    #expect(ValueParser.integer("10") == 10)
    #expect(ValueParser.integer("0x1f") == 31)
    #expect(ValueParser.integer("0755") == 0o755)
    #expect(ValueParser.integer("0o17") == 15)
    #expect(ValueParser.integer("0b101") == 5)
    #expect(ValueParser.integer("1_000") == 1000)
    #expect(ValueParser.integer("-1", width: 32) == 0xFFFF_FFFF)
    #expect(ValueParser.integer("~0", width: 16) == 0xFFFF)
    #expect(ValueParser.integer("max", width: 8) == 0xFF)
    #expect(ValueParser.integer("0") == 0)
    #expect(ValueParser.integer("abc") == nil)
    #expect(ValueParser.integer("08") == nil)
}

@Test func escapesProduceRawBytes() throws {
    let r = try L.parseRequest("walk 0 1 \"\\xff\\x00x\" a\\ b")
    #expect(r.message == .twalk(Twalk(fid: 0, newfid: 1, wnames: [P9String(bytes: [0xFF, 0x00, 0x78]), "a b"])))
}
