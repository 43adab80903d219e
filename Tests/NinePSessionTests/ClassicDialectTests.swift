import NinePSession
import NinePWire
import Testing

/// 9P2000.u and 9P2000 sequences: Topen/Tcreate/Tstat/Tremove and Rerror (with and without errno).
@Suite struct ClassicDialectTests {
    static func stat(_ name: String, dir: Bool) -> Stat {
        Stat(qid: Qid(type: dir ? .dir : .file, path: 9), mode: dir ? [.dir, DirMode(rawValue: 0o755)] : DirMode(rawValue: 0o644),
             atime: 0, mtime: 0, length: 0, name: P9String(name), uid: "u", gid: "g", muid: "u",
             unix: Stat.UnixStat(extension: "", nUid: 1000, nGid: 1000, nMuid: 1000))
    }

    /// .u mount as Linux does it with version=9p2000.u: attach with n_uname, Tstat the root.
    static func mountedU() -> Harness {
        var h = Harness(wire: .u)
        h.version("9P2000.u", msize: 8192)
        h.attach(0, fid: 0, nUname: 1000)
        h.t(0, .tstat(Tstat(fid: 0)))
        h.r(0, .rstat(Rstat(stat: stat("/", dir: true))))
        h.walk(0, 0, 1, ["dir"])
        return h
    }

    @Test func openDirectoryAndRead() {
        var h = Self.mountedU()
        h.walk(0, 1, 2, [])
        h.t(0, .topen(Topen(fid: 2, mode: .read)))
        h.r(0, .ropen(Ropen(qid: Qid(type: .dir, path: 100), iounit: 0)))
        let fid = h.tracker.fid(2, on: h.conn)!
        #expect(fid.state == .open)
        #expect(fid.openMode == .classic(.read))
        #expect(fid.openMode?.description == "OREAD")
        #expect(fid.path?.description == "/dir")
        #expect(fid.nUname == 1000)
        h.t(0, .tread(Tread(fid: 2, offset: 0, count: 8192 - 24)))
        h.r(0, .rread(Rread(data: [])))
        h.clunk(0, 2)
        #expect(h.summary.dialect == .u && h.summary.dialectSource == .negotiated)
        #expect(h.anomalies.isEmpty, "\(h.anomalies)")
    }

    /// An Rread of a directory fid is marked as one (its data is stat entries) and shown as entries; a
    /// file's is not, however its data looks; the mark survives the log (`message(at:)` decodes again).
    @Test(arguments: [Dialect.u, .p9])
    func aDirectoryReadIsShownAsItsEntries(_ dialect: Dialect) throws {
        var h = Harness(wire: dialect)
        h.version(dialect.rawValue, msize: 8192)
        h.attach(0, fid: 0, nUname: dialect == .u ? 1000 : nil)
        h.walk(0, 0, 1, ["dir"])
        h.t(0, .topen(Topen(fid: 1, mode: .read)))
        h.r(0, .ropen(Ropen(qid: Qid(type: .dir, path: 100), iounit: 0)))
        var entries = [Self.stat("a", dir: false), Self.stat("sub", dir: true)]
        if dialect == .p9 { for i in entries.indices { entries[i].unix = nil } }
        let data = Stat.encodeAll(entries, dialect: dialect)
        h.t(0, .tread(Tread(fid: 1, offset: 0, count: 8168)))
        let out = h.r(0, .rread(Rread(data: data)))
        let message = try #require(out.message)
        #expect(message.readsDirectory)
        #expect(message.canonicalLine == "Rread tag 0 count \(data.count) nentries 2 0:a 1:sub")
        var bytes: [UInt8] = []
        message.appendCanonicalLine(to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == message.canonicalLine)
        let logged = try #require(h.tracker.message(at: message.index))
        #expect(logged.readsDirectory && logged.canonicalLine == message.canonicalLine)
        // The end of the directory: no entries.
        h.t(0, .tread(Tread(fid: 1, offset: UInt64(data.count), count: 8168)))
        #expect(h.r(0, .rread(Rread(data: []))).message?.canonicalLine == "Rread tag 0 count 0 nentries 0")

        // A file holding the same bytes is read as data.
        h.walk(0, 0, 2, ["file"], dir: false)
        h.t(0, .topen(Topen(fid: 2, mode: .read)))
        h.r(0, .ropen(Ropen(qid: Qid(path: 101), iounit: 0)))
        h.t(0, .tread(Tread(fid: 2, offset: 0, count: 8168)))
        let file = try #require(h.r(0, .rread(Rread(data: data))).message)
        #expect(!file.readsDirectory)
        #expect(!file.canonicalLine.contains("nentries"))
        #expect(h.anomalies.isEmpty, "\(h.anomalies)")
    }

    /// In 9P2000.L a directory is read with Treaddir: a Tread of one is not taken for a directory read.
    @Test func aReadOfADirectoryIn9P2000LIsData() throws {
        var h = Harness(wire: .l)
        h.version()
        h.attach(0, fid: 0)
        h.t(0, .tread(Tread(fid: 0, offset: 0, count: 100)))
        let data = Stat.encodeAll([Self.stat("a", dir: false)], dialect: .u)
        let out = try #require(h.r(0, .rread(Rread(data: data))).message)
        #expect(!out.readsDirectory)
        #expect(!out.canonicalLine.contains("nentries"))
    }

    @Test func createTurnsTheDirectoryFidIntoTheNewFile() {
        var h = Self.mountedU()
        h.walk(0, 1, 3, [])
        let mode = OpenMode(rawValue: OpenMode.write.rawValue | OpenMode.truncBit)
        h.t(0, .tcreate(Tcreate(fid: 3, name: "new", perm: DirMode(rawValue: 0o644), mode: mode, extension: "")))
        let out = h.r(0, .rcreate(Rcreate(qid: Qid(path: 55), iounit: 4096)))
        #expect(out.message?.fidPath?.description == "/dir/new")
        let fid = h.tracker.fid(3, on: h.conn)!
        #expect(fid.state == .open)
        #expect(fid.path?.elements == ["dir", "new"])
        #expect(fid.qid == Qid(path: 55))
        #expect(fid.iounit == 4096)
        #expect(fid.openMode?.description == "OWRITE|OTRUNC")
        // The directory fid 1 is untouched.
        #expect(h.path(1) == "/dir")
    }

    @Test func rerrorCarriesErrnoAndEname() {
        var h = Self.mountedU()
        h.t(0, .twalk(Twalk(fid: 1, newfid: 4, wnames: ["missing"])))
        let out = h.r(0, .rerror(Rerror(ename: "No such file or directory", errno: 2)))
        let x = out.exchange!
        #expect(x.status == .error)
        #expect(x.error?.errno == .ENOENT)
        #expect(x.error?.ename == "No such file or directory")
        #expect(x.error?.description == "No such file or directory (ENOENT)")
        #expect(h.tracker.fid(4, on: h.conn) == nil, "a failed walk makes no fid")
        #expect(h.summary.errorCount == 1)
    }

    @Test func removeEndsTheFidEvenWhenItFails() {
        var h = Self.mountedU()
        h.walk(0, 1, 5, ["a"], dir: false)
        h.t(0, .tremove(Tremove(fid: 5)))
        h.r(0, .rremove)
        h.walk(0, 1, 6, ["b"], dir: false)
        h.t(0, .tremove(Tremove(fid: 6)))
        h.r(0, .rerror(Rerror(ename: "permission denied", errno: 13)))
        let history = h.tracker.fidTable(on: h.conn, includingHistory: true)
        #expect(history.first { $0.fid == 5 }?.state == .removed)
        #expect(history.first { $0.fid == 6 }?.state == .clunked, "remove(5): the fid is clunked even on error")
        #expect(h.tracker.fid(5, on: h.conn) == nil && h.tracker.fid(6, on: h.conn) == nil)
    }

    @Test func clunkEndsTheFidEvenWhenItFails() {
        var h = Self.mountedU()
        h.t(0, .tclunk(Tclunk(fid: 1)))
        h.r(0, .rerror(Rerror(ename: "unknown fid", errno: 9)))
        #expect(h.tracker.fid(1, on: h.conn) == nil)
        #expect(h.tracker.fidTable(on: h.conn, includingHistory: true).first { $0.fid == 1 }?.state == .clunked)
    }

    @Test func plainNineP2000() {
        var h = Harness(wire: .p9)
        h.version("9P2000", msize: 8192)
        h.attach(0, fid: 0, nUname: nil)
        h.walk(0, 0, 1, ["lib"])
        h.t(0, .topen(Topen(fid: 1, mode: .read)))
        let err = h.r(0, .rerror(Rerror(ename: "file is a directory")))
        #expect(err.message?.dialect == .p9)
        #expect(err.exchange?.error == ExchangeError(errno: nil, ename: "file is a directory"))
        #expect(h.tracker.fid(1, on: h.conn)?.state == .walked)
        h.t(0, .topen(Topen(fid: 1, mode: OpenMode(rawValue: OpenMode.read.rawValue | OpenMode.rcloseBit))))
        h.r(0, .ropen(Ropen(qid: Qid(type: .dir, path: 3), iounit: 0)))
        #expect(h.tracker.fid(1, on: h.conn)?.openMode?.description == "OREAD|ORCLOSE")
        #expect(h.summary.dialect == .p9)
        #expect(h.anomalies.isEmpty, "\(h.anomalies)")
    }

    @Test func authFidThenAttach() {
        var h = Harness(wire: .p9)
        h.version("9P2000", msize: 8192)
        h.t(0, .tauth(Tauth(afid: 9, uname: "glenda", aname: "")))
        h.r(0, .rauth(Rauth(aqid: Qid(type: .auth, path: 1))))
        #expect(h.tracker.fid(9, on: h.conn)?.state == .auth)
        #expect(h.path(9) == "(auth)")
        h.t(0, .twrite(Twrite(fid: 9, offset: 0, data: Array("proof".utf8))))
        h.r(0, .rwrite(Rwrite(count: 5)))
        h.t(0, .tattach(Tattach(fid: 0, afid: 9, uname: "glenda", aname: "")))
        h.r(0, .rattach(Rattach(qid: Qid(type: .dir, path: 2))))
        #expect(h.tracker.fid(9, on: h.conn)?.useCount == 3)
        #expect(h.path(0) == "/")
        #expect(h.anomalies.isEmpty, "\(h.anomalies)")
    }
}
