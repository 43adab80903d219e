import Testing
import NinePWire
@testable import NinePREPL

// Expected messages are written from the field lists in MESSAGES.md, not from the parser.

private let L = RequestParser(dialect: .l, msize: 8192)
private let U = RequestParser(dialect: .u, msize: 8192)
private let P9 = RequestParser(dialect: .p9, msize: 8192)

private func request(_ line: String, _ parser: RequestParser = L) throws -> Request {
    try parser.parseRequest(line)
}

struct FriendlyCase: CustomTestStringConvertible, Sendable {
    var line: String
    var dialect: Dialect
    var expected: Message
    var testDescription: String { line }
    init(_ line: String, _ expected: Message, _ dialect: Dialect = .l) {
        self.line = line; self.expected = expected; self.dialect = dialect
    }
}

private let none = Fid(0xFFFF_FFFF)

let friendlyCases: [FriendlyCase] = [
    FriendlyCase("version", .tversion(Tversion(msize: 8192, version: "9P2000.L"))),
    FriendlyCase("version 65536", .tversion(Tversion(msize: 65536, version: "9P2000.L"))),
    FriendlyCase("version 4096 9P2000.u", .tversion(Tversion(msize: 4096, version: "9P2000.u"))),
    FriendlyCase("version", .tversion(Tversion(msize: 8192, version: "9P2000")), .p9),
    FriendlyCase("auth 5 glenda", .tauth(Tauth(afid: 5, uname: "glenda", aname: "", nUname: 0xFFFF_FFFF))),
    FriendlyCase("auth 5 glenda main", .tauth(Tauth(afid: 5, uname: "glenda", aname: "main")), .p9),
    FriendlyCase("attach 0 root /srv", .tattach(Tattach(fid: 0, afid: none, uname: "root", aname: "/srv", nUname: 0xFFFF_FFFF))),
    FriendlyCase("attach 0 root /srv 1000", .tattach(Tattach(fid: 0, afid: none, uname: "root", aname: "/srv", nUname: 1000))),
    FriendlyCase("attach 0 root '' 0 7", .tattach(Tattach(fid: 0, afid: 7, uname: "root", aname: "", nUname: 0))),
    FriendlyCase("attach 1 glenda", .tattach(Tattach(fid: 1, afid: none, uname: "glenda", aname: "")), .p9),
    FriendlyCase("flush 3", .tflush(Tflush(oldtag: 3))),
    FriendlyCase("walk 0 1", .twalk(Twalk(fid: 0, newfid: 1, wnames: []))),
    FriendlyCase("walk 0 1 usr bin", .twalk(Twalk(fid: 0, newfid: 1, wnames: ["usr", "bin"]))),
    FriendlyCase("walk 0 1 .. 'a b'", .twalk(Twalk(fid: 0, newfid: 1, wnames: ["..", "a b"]))),
    FriendlyCase("open 1", .topen(Topen(fid: 1, mode: OpenMode(rawValue: 0))), .u),
    FriendlyCase("open 1 rdwr|trunc", .topen(Topen(fid: 1, mode: OpenMode(rawValue: 0x12))), .u),
    FriendlyCase("open 1 OWRITE|ORCLOSE", .topen(Topen(fid: 1, mode: OpenMode(rawValue: 0x41))), .p9),
    FriendlyCase("create 1 f", .tcreate(Tcreate(fid: 1, name: "f", perm: DirMode(rawValue: 0o644), mode: OpenMode(rawValue: 2), extension: "")), .u),
    FriendlyCase("create 1 d dir|0755 read", .tcreate(Tcreate(fid: 1, name: "d", perm: DirMode(rawValue: 0x8000_01ED), mode: OpenMode(rawValue: 0))), .p9),
    FriendlyCase("create 1 l symlink|0777 0 /tgt", .tcreate(Tcreate(fid: 1, name: "l", perm: DirMode(rawValue: 0x0200_01FF), mode: OpenMode(rawValue: 0), extension: "/tgt")), .u),
    FriendlyCase("read 3 0 100", .tread(Tread(fid: 3, offset: 0, count: 100))),
    FriendlyCase("read 3", .tread(Tread(fid: 3, offset: 0, count: 8192 - 24))),
    FriendlyCase("read 3 0x10 1", .tread(Tread(fid: 3, offset: 16, count: 1))),
    FriendlyCase("write 3 0 hello world", .twrite(Twrite(fid: 3, offset: 0, data: Array("hello world".utf8)))),
    FriendlyCase("write 3 5 0x00ff41", .twrite(Twrite(fid: 3, offset: 5, data: [0x00, 0xFF, 0x41]))),
    FriendlyCase("write 3 0 \"0x00\"", .twrite(Twrite(fid: 3, offset: 0, data: Array("0x00".utf8)))),
    FriendlyCase("write 3 0 'line\\n'", .twrite(Twrite(fid: 3, offset: 0, data: Array("line\n".utf8)))),
    FriendlyCase("clunk 3", .tclunk(Tclunk(fid: 3))),
    FriendlyCase("remove 4", .tremove(Tremove(fid: 4))),
    FriendlyCase("stat 4", .tstat(Tstat(fid: 4)), .u),
    FriendlyCase("statfs 0", .tstatfs(Tstatfs(fid: 0))),
    FriendlyCase("lopen 2 rdonly", .tlopen(Tlopen(fid: 2, flags: LOpenFlags(rawValue: 0)))),
    FriendlyCase("lopen 2", .tlopen(Tlopen(fid: 2, flags: LOpenFlags(rawValue: 0)))),
    FriendlyCase("lopen 2 rdwr|create", .tlopen(Tlopen(fid: 2, flags: LOpenFlags(rawValue: 0o102)))),
    FriendlyCase("lopen 2 O_WRONLY|P9_DOTL_TRUNC|largefile", .tlopen(Tlopen(fid: 2, flags: LOpenFlags(rawValue: 0o1 | 0o1000 | 0o100000)))),
    FriendlyCase("lopen 2 0x8000", .tlopen(Tlopen(fid: 2, flags: LOpenFlags(rawValue: 0x8000)))),
    FriendlyCase("lcreate 1 f", .tlcreate(Tlcreate(fid: 1, name: "f", flags: LOpenFlags(rawValue: 0o102), mode: 0o644, gid: 0))),
    FriendlyCase("lcreate 1 f wronly|create|excl 0600 100", .tlcreate(Tlcreate(fid: 1, name: "f", flags: LOpenFlags(rawValue: 0o301), mode: 0o600, gid: 100))),
    FriendlyCase("symlink 1 l /etc/passwd", .tsymlink(Tsymlink(fid: 1, name: "l", symtgt: "/etc/passwd", gid: 0))),
    FriendlyCase("mknod 1 pipe 010644", .tmknod(Tmknod(dfid: 1, name: "pipe", mode: 0o10644, major: 0, minor: 0, gid: 0))),
    FriendlyCase("mknod 1 null 020666 1 3 5", .tmknod(Tmknod(dfid: 1, name: "null", mode: 0o20666, major: 1, minor: 3, gid: 5))),
    FriendlyCase("rename 2 1 new", .trename(Trename(fid: 2, dfid: 1, name: "new"))),
    FriendlyCase("readlink 3", .treadlink(Treadlink(fid: 3))),
    FriendlyCase("getattr 1", .tgetattr(Tgetattr(fid: 1, requestMask: GetattrMask(rawValue: 0x7FF)))),
    FriendlyCase("getattr 1 all", .tgetattr(Tgetattr(fid: 1, requestMask: GetattrMask(rawValue: 0x3FFF)))),
    FriendlyCase("getattr 1 mode|size", .tgetattr(Tgetattr(fid: 1, requestMask: GetattrMask(rawValue: 0x201)))),
    FriendlyCase("getattr 1 0x17ff", .tgetattr(Tgetattr(fid: 1, requestMask: GetattrMask(rawValue: 0x17FF)))),
    FriendlyCase("setattr 2 size=0 mode=0644", .tsetattr(Tsetattr(fid: 2, valid: SetattrValid(rawValue: 0x9), mode: 0o644, size: 0))),
    FriendlyCase("setattr 2 uid=1 gid=2", .tsetattr(Tsetattr(fid: 2, valid: SetattrValid(rawValue: 0x6), uid: 1, gid: 2))),
    FriendlyCase("setattr 2 mtime=100.5", .tsetattr(Tsetattr(fid: 2, valid: SetattrValid(rawValue: 0x120), mtimeSec: 100, mtimeNsec: 500_000_000))),
    FriendlyCase("setattr 2 atime=now ctime=now", .tsetattr(Tsetattr(fid: 2, valid: SetattrValid(rawValue: 0x50)))),
    FriendlyCase("setattr 2 valid=size size=7", .tsetattr(Tsetattr(fid: 2, valid: SetattrValid(rawValue: 0x8), size: 7))),
    FriendlyCase("xattrwalk 1 5", .txattrwalk(Txattrwalk(fid: 1, newfid: 5, name: ""))),
    FriendlyCase("xattrwalk 1 5 user.foo", .txattrwalk(Txattrwalk(fid: 1, newfid: 5, name: "user.foo"))),
    FriendlyCase("xattrcreate 1 user.x 5 create", .txattrcreate(Txattrcreate(fid: 1, name: "user.x", attrSize: 5, flags: 1))),
    FriendlyCase("xattrcreate 1 user.x 5", .txattrcreate(Txattrcreate(fid: 1, name: "user.x", attrSize: 5, flags: 0))),
    FriendlyCase("readdir 3", .treaddir(Treaddir(fid: 3, offset: 0, count: 8192 - 24))),
    FriendlyCase("readdir 3 42 1000", .treaddir(Treaddir(fid: 3, offset: 42, count: 1000))),
    FriendlyCase("fsync 3", .tfsync(Tfsync(fid: 3, datasync: 0))),
    FriendlyCase("fsync 3 1", .tfsync(Tfsync(fid: 3, datasync: 1))),
    FriendlyCase("lock 3 wrlck", .tlock(Tlock(fid: 3, type: LockType(rawValue: 1), flags: LockFlags(rawValue: 0), start: 0, length: 0, procId: 0, clientId: ""))),
    FriendlyCase("lock 3 wrlck 0 10 block 42 me", .tlock(Tlock(fid: 3, type: LockType(rawValue: 1), flags: LockFlags(rawValue: 1), start: 0, length: 10, procId: 42, clientId: "me"))),
    FriendlyCase("getlock 3 rdlck 5 6 7 host", .tgetlock(Tgetlock(fid: 3, type: LockType(rawValue: 0), start: 5, length: 6, procId: 7, clientId: "host"))),
    FriendlyCase("link 1 2 hard", .tlink(Tlink(dfid: 1, fid: 2, name: "hard"))),
    FriendlyCase("mkdir 1 d", .tmkdir(Tmkdir(dfid: 1, name: "d", mode: 0o755, gid: 0))),
    FriendlyCase("mkdir 1 d 0700 5", .tmkdir(Tmkdir(dfid: 1, name: "d", mode: 0o700, gid: 5))),
    FriendlyCase("renameat 1 a 2 b", .trenameat(Trenameat(olddirfid: 1, oldname: "a", newdirfid: 2, newname: "b"))),
    FriendlyCase("unlinkat 1 f", .tunlinkat(Tunlinkat(dirfid: 1, name: "f", flags: 0))),
    FriendlyCase("unlinkat 1 d removedir", .tunlinkat(Tunlinkat(dirfid: 1, name: "d", flags: 0x200))),
    FriendlyCase("wstat 3 name=new", .twstat(Twstat(fid: 3, stat: Stat(type: 0xFFFF, dev: 0xFFFF_FFFF,
        qid: Qid(type: QidType(rawValue: 0xFF), version: 0xFFFF_FFFF, path: .max), mode: DirMode(rawValue: 0xFFFF_FFFF),
        atime: 0xFFFF_FFFF, mtime: 0xFFFF_FFFF, length: .max, name: "new", uid: "", gid: "", muid: ""))), .p9),
    FriendlyCase("wstat 3 length=0 mode=0600", .twstat(Twstat(fid: 3, stat: Stat(type: 0xFFFF, dev: 0xFFFF_FFFF,
        qid: Qid(type: QidType(rawValue: 0xFF), version: 0xFFFF_FFFF, path: .max), mode: DirMode(rawValue: 0o600),
        atime: 0xFFFF_FFFF, mtime: 0xFFFF_FFFF, length: 0, name: "", uid: "", gid: "", muid: "",
        unix: Stat.UnixStat(extension: "", nUid: 0xFFFF_FFFF, nGid: 0xFFFF_FFFF, nMuid: 0xFFFF_FFFF)))), .u),
]

@Test(arguments: friendlyCases)
func friendlyForm(_ c: FriendlyCase) throws {
    let r = try RequestParser(dialect: c.dialect, msize: 8192).parseRequest(c.line)
    #expect(r.message == c.expected)
    #expect(r.tag == nil)
}

@Test func everyFriendlyRequestCommandHasACase() {
    let covered = Set(friendlyCases.compactMap { c in c.line.split(separator: " ").first.map(String.init) })
    let requestCommands = CommandSpec.all.filter { $0.messageType != nil }.map(\.name)
    for name in requestCommands {
        #expect(covered.contains(name), "no friendly-form case for \(name)")
    }
}

@Test func tagMayBeGivenAnywhere() throws {
    let r = try request("walk tag=9 0 1 usr")
    #expect(r.tag == NinePWire.Tag(9))
    #expect(r.message == .twalk(Twalk(fid: 0, newfid: 1, wnames: ["usr"])))
    #expect(try request("clunk 3 tag=0xFFFF").tag == NinePWire.Tag.notag)
}

@Test func fieldAssignmentsMixWithPositionals() throws {
    let r = try request("lcreate 1 f mode=0600")
    #expect(r.message == .tlcreate(Tlcreate(fid: 1, name: "f", flags: LOpenFlags(rawValue: 0o102), mode: 0o600, gid: 0)))
    // A word with = that is not a field name stays data.
    let w = try request("write 1 0 a=b")
    #expect(w.message == .twrite(Twrite(fid: 1, offset: 0, data: Array("a=b".utf8))))
}

@Test func markersBackgroundAndAllowFailure() throws {
    let a = try L.parse("read 1 0 10 &")
    #expect(a.background && !a.allowFailure)
    #expect(a.command == .request(Request(.tread(Tread(fid: 1, offset: 0, count: 10)))))
    let b = try L.parse("-walk 0 1 nosuch&")
    #expect(b.background && b.allowFailure)
    #expect(b.command == .request(Request(.twalk(Twalk(fid: 0, newfid: 1, wnames: ["nosuch"])))))
    let c = try L.parse("write 1 0 'a&'")
    #expect(!c.background)
}

@Test func blankAndCommentLines() throws {
    #expect(try L.parse("").command == nil)
    #expect(try L.parse("   # a comment").command == nil)
    #expect(try L.parse("clunk 1 # trailing").command == .request(Request(.tclunk(Tclunk(fid: 1)))))
}

@Test func metaAndConvenienceCommands() throws {
    #expect(try L.parse("stat /usr/bin").command == .stat(path: "/usr/bin"))
    #expect(try L.parse("stat a").command == .stat(path: "a"))
    #expect(try L.parse("ls").command == .ls(path: "/"))
    // Paths keep the bytes typed, UTF-8 or not.
    #expect(try L.parse("cat /a\\xffb").command == .cat(path: P9String(bytes: Array("/a".utf8) + [0xFF, 0x62])))
    #expect(try L.parse("put x 'n\\x00'").command == .put(local: "x", remote: P9String(bytes: [0x6E, 0])))
    #expect(try L.parse("ls /tmp").command == .ls(path: "/tmp"))
    #expect(try L.parse("cat /etc/motd").command == .cat(path: "/etc/motd"))
    #expect(try L.parse("put ./local.txt /remote.txt").command == .put(local: "./local.txt", remote: "/remote.txt"))
    #expect(try L.parse("set datalimit 16").command == .set(name: "datalimit", value: "16"))
    #expect(try L.parse("fids").command == .fids)
    #expect(try L.parse("pending").command == .pending)
    #expect(try L.parse("wait").command == .wait(nil))
    #expect(try L.parse("wait 7").command == .wait(NinePWire.Tag(7)))
    #expect(try L.parse("reconnect").command == .reconnect)
    #expect(try L.parse("quit").command == .quit)
    #expect(try L.parse("help walk").command == .help(topic: "walk"))
    #expect(try L.parse("echo hi there").command == .echo("hi there"))
    #expect(try L.parse("hex 0b000000 78 0100 01000000").command == .hex([0x0B, 0, 0, 0, 0x78, 0x01, 0x00, 0x01, 0, 0, 0]))
    #expect(try L.parse("hex 0x0b:00:00:00").command == .hex([0x0B, 0, 0, 0]))
}
