import NinePDrivers
import NinePServer
import NinePTestSupport
import NinePWire
import Testing

/// Version negotiation and the classic dialects: Topen, Tcreate, directory reads as stats, Tstat/Twstat,
/// and each dialect's error form.
@Suite struct DialectTests {
    func client(_ version: String, driver: MemoryDriver = MemoryDriver(),
                config: ServerConfig = ServerConfig()) async throws -> NinePTestClient {
        let c = await NinePTestClient.connect(driver: driver, config: config, dialect: Dialect(version: version) ?? .p9)
        let v = try await c.version(msize: 8192, version)
        #expect(v.version.string == version)
        try await c.attach(0)
        return c
    }

    @Test(arguments: [("9P2000.L", "9P2000.L"), ("9P2000.u", "9P2000.u"), ("9P2000", "9P2000"),
                      ("9P2000.extension", "9P2000"), ("9P1999", "unknown"), ("", "unknown")])
    func versionNegotiation(offered: String, answered: String) async throws {
        let c = await NinePTestClient.connect(driver: MemoryDriver(), config: ServerConfig(maxMsize: 65536))
        let v = try await c.version(msize: 1 << 20, offered)
        #expect(v.version.string == answered)
        #expect(v.msize == 65536)
        let small = try await c.version(msize: 4096, offered)
        #expect(small.msize == 4096)
    }

    @Test func dialectNotOfferedFallsBackTo9P2000() async throws {
        let c = await NinePTestClient.connect(driver: MemoryDriver(), config: ServerConfig(dialects: [.p9]))
        #expect(try await c.version(msize: 8192, "9P2000.L").version.string == "9P2000")
        let none = await NinePTestClient.connect(driver: MemoryDriver(), config: ServerConfig(dialects: [.l]))
        #expect(try await none.version(msize: 8192, "9P2000.u").version.string == "unknown")
    }

    @Test func errorForms() async throws {
        let l = try await client("9P2000.L")
        #expect(try await l.rpc(.twalk(Twalk(fid: 0, newfid: 1, wnames: ["nope"]))) == .rlerror(Rlerror(ecode: .ENOENT)))
        let u = try await client("9P2000.u")
        guard case .rerror(let ue) = try await u.rpc(.twalk(Twalk(fid: 0, newfid: 1, wnames: ["nope"]))) else {
            Issue.record("expected Rerror"); return
        }
        #expect(ue.errno == Errno.ENOENT.rawValue)
        // The C library's text, letter for letter: the Linux client maps a classic Rerror back to an errno by
        // comparing the whole text (any other text is "unknown error", ESERVERFAULT to its callers).
        #expect(ue.ename?.string == "No such file or directory")
        let p = try await client("9P2000")
        guard case .rerror(let pe) = try await p.rpc(.twalk(Twalk(fid: 0, newfid: 1, wnames: ["nope"]))) else {
            Issue.record("expected Rerror"); return
        }
        #expect(pe.errno == nil)
        #expect(pe.ename?.string == "No such file or directory")
        // .L-only requests are refused in the classic dialects, and classic ones in .L.
        guard case .rerror(let notClassic) = try await p.rpc(.tgetattr(Tgetattr(fid: 0, requestMask: .basic))) else {
            Issue.record("expected Rerror"); return
        }
        // Whatever the server's own reason, a 9P2000 Rerror holds the errno's C text (Linux maps only those).
        #expect(notClassic.ename?.string == "Operation not supported")
        // 9P2000.u carries the errno beside the text, so the text says what was refused.
        guard case .rerror(let uRefused) = try await u.rpc(.tgetattr(Tgetattr(fid: 0, requestMask: .basic))) else {
            Issue.record("expected Rerror"); return
        }
        #expect(uRefused.errno == Errno.EOPNOTSUPP.rawValue)
        #expect(uRefused.text.contains("Tgetattr"))
        #expect(try await l.expectError(.tstat(Tstat(fid: 0))) == .EOPNOTSUPP)
        // Before Tversion everything but Tversion fails (classic Rerror).
        let fresh = await NinePTestClient.connect(driver: MemoryDriver(), dialect: .p9)
        guard case .rerror = try await fresh.rpc(.tattach(Tattach(fid: 0, uname: "u", aname: ""))) else {
            Issue.record("expected Rerror before Tversion"); return
        }
    }

    /// A Tversion refused for its msize is answered in the error form of the dialect it offered (a 9P2000.L
    /// client reads every error reply as Rlerror), and until a dialect is agreed every other request is
    /// refused as such, whatever its layout would be in some dialect.
    @Test func refusalsBeforeADialectIsAgreed() async throws {
        let l = await NinePTestClient.connect(driver: MemoryDriver(), dialect: .l)
        let tiny = try await l.rpc(.tversion(Tversion(msize: 0, version: "9P2000.L")))
        #expect(tiny == .rlerror(Rlerror(ecode: .EINVAL)))
        let u = await NinePTestClient.connect(driver: MemoryDriver(), dialect: .u)
        guard case .rerror(let ue) = try await u.rpc(.tversion(Tversion(msize: 10, version: "9P2000.u"))) else {
            Issue.record("expected Rerror"); return
        }
        #expect(ue.errno == Errno.EINVAL.rawValue)
        #expect(ue.text.contains("below the minimum"))
        // Refused dialect: Rversion "unknown", then a classic Tattach is refused for coming before a
        // Tversion, not decoded in some layout and called malformed.
        let p = await NinePTestClient.connect(driver: MemoryDriver(), dialect: .p9)
        #expect(try await p.rpc(.tversion(Tversion(msize: 8192, version: "9P3000"))) ==
                .rversion(Rversion(msize: 8192, version: "unknown")))
        guard case .rerror(let pe) = try await p.rpc(.tattach(Tattach(fid: 0, uname: "u", aname: ""))) else {
            Issue.record("expected Rerror"); return
        }
        #expect(pe.ename?.string == "Protocol error")
    }

    /// A classic client learns what failed from `ename` alone: filesystem errors carry the C library's text
    /// for their errno, which `Errno(message:)` (and the Linux client) reads back as that errno.
    @Test func classicErrorTextsNameTheirErrno() async throws {
        let mem = MemoryDriver()
        let p = try await client("9P2000", driver: mem)
        func failure(_ m: Message) async throws -> String? {
            guard case .rerror(let e) = try await p.rpc(m) else { return nil }
            return e.ename?.string
        }
        _ = try await p.walk(0, 1, [])
        _ = try await p.call(.tcreate(Tcreate(fid: 1, name: "d", perm: DirMode(rawValue: 0o755 | DirMode.dir.rawValue),
                                              mode: .read)))
        _ = try await p.walk(0, 2, [])
        let exists = try await failure(.tcreate(Tcreate(fid: 2, name: "d", perm: DirMode(rawValue: 0o755), mode: .read)))
        #expect(exists == "File exists")
        _ = try await p.walk(0, 3, ["d"])
        _ = try await p.walk(0, 4, [])
        _ = try await p.call(.tcreate(Tcreate(fid: 4, name: "f", perm: DirMode(rawValue: 0o644), mode: .write)))
        _ = try await p.walk(0, 5, ["f"])
        let notDir = try await failure(.twalk(Twalk(fid: 5, newfid: 6, wnames: ["x"])))
        #expect(notDir == "Not a directory", "\(notDir ?? "no error")")
        for text in [exists, notDir].compactMap({ $0 }) {
            #expect(Errno(message: text) != nil, "\(text) names no errno")
        }
        let ro = try await client("9P2000", driver: mem, config: ServerConfig(readOnly: true))
        _ = try await ro.walk(0, 1, [])
        guard case .rerror(let e) = try await ro.rpc(.tcreate(Tcreate(fid: 1, name: "g", perm: DirMode(rawValue: 0o644),
                                                                       mode: .write))) else {
            Issue.record("a create on a read-only server succeeded"); return
        }
        #expect(e.ename?.string == "Read-only file system")
        #expect(Errno(message: e.text) == .EROFS)
    }

    @Test(arguments: ["9P2000", "9P2000.u"])
    func createOpenReadWriteStat(version: String) async throws {
        let mem = MemoryDriver()
        let c = try await client(version, driver: mem)
        _ = try await c.walk(0, 1, [])
        guard case .rcreate(let r) = try await c.call(.tcreate(Tcreate(fid: 1, name: "notes", perm: DirMode(rawValue: 0o640),
                                                                       mode: .readWrite, extension: version == "9P2000.u" ? "" : nil)))
        else { Issue.record("expected Rcreate"); return }
        #expect(!r.qid.type.contains(.dir))
        #expect(try await c.write(1, Array("hello".utf8)) == 5)
        try await c.clunk(1)
        #expect(try await mem.contents(of: "notes") == Array("hello".utf8))
        _ = try await c.walk(0, 2, ["notes"])
        guard case .ropen(let o) = try await c.call(.topen(Topen(fid: 2, mode: .read))) else { Issue.record("expected Ropen"); return }
        #expect(o.iounit > 0)
        #expect(try await c.read(2, count: 100) == Array("hello".utf8))
        guard case .rstat(let st) = try await c.call(.tstat(Tstat(fid: 2))) else { Issue.record("expected Rstat"); return }
        #expect(st.stat.name.string == "notes")
        #expect(st.stat.length == 5)
        #expect(st.stat.mode.permissions == 0o640)
        #expect(st.stat.qid.path == r.qid.path)
        #expect((st.stat.unix != nil) == (version == "9P2000.u"))
        // OTRUNC empties the file.
        _ = try await c.walk(0, 3, ["notes"])
        _ = try await c.call(.topen(Topen(fid: 3, mode: OpenMode(rawValue: OpenMode.write.rawValue | OpenMode.truncBit))))
        #expect(try await mem.contents(of: "notes") == [])
    }

    @Test(arguments: ["9P2000", "9P2000.u"])
    func directoryReadsAreStats(version: String) async throws {
        let mem = MemoryDriver()
        for i in 0..<30 { try await mem.makeFile("dir/file\(i)", contents: [UInt8](repeating: 1, count: i)) }
        let c = try await client(version, driver: mem)
        _ = try await c.walk(0, 1, ["dir"])
        _ = try await c.call(.topen(Topen(fid: 1, mode: .read)))
        var stats: [Stat] = []
        var offset: UInt64 = 0
        var reads = 0
        while reads < 100 {
            let data = try await c.read(1, offset: offset, count: 300)
            if data.isEmpty { break }
            #expect(data.count <= 300)
            stats += try Stat.decodeAll(data, dialect: await c.dialect)   // whole entries only, or this throws
            offset += UInt64(data.count)
            reads += 1
        }
        #expect(reads > 1)
        #expect(Set(stats.map(\.name.string)) == Set((0..<30).map { "file\($0)" }))
        #expect(stats.first { $0.name.string == "file7" }?.length == 7)
        // A read at an offset that is neither 0 nor where the last read ended is refused.
        #expect(try await c.rpc(.tread(Tread(fid: 1, offset: 5, count: 300))).type == .rerror)
        // Offset 0 starts over.
        #expect(!(try await c.read(1, offset: 0, count: 300)).isEmpty)
    }

    @Test func uCreatesSpecialFilesFromExtensions() async throws {
        let mem = MemoryDriver()
        try await mem.makeFile("target", contents: [9])
        let c = try await client("9P2000.u", driver: mem)
        func create(_ name: String, _ perm: DirMode, _ ext: String) async throws -> Message {
            let f = c.freshFid()
            _ = try await c.walk(0, f, [])
            return try await c.call(.tcreate(Tcreate(fid: f, name: P9String(name), perm: perm, mode: .read, extension: P9String(ext))))
        }
        _ = try await create("sym", DirMode(rawValue: DirMode.symlink.rawValue | 0o777), "target")
        _ = try await c.walk(0, 5, ["target"])
        _ = try await create("hard", DirMode(rawValue: DirMode.link.rawValue), "5\n")
        _ = try await create("dev", DirMode(rawValue: DirMode.device.rawValue | 0o600), "c 1 3")
        _ = try await create("sub", DirMode(rawValue: DirMode.dir.rawValue | 0o755), "")
        _ = try await c.walk(0, 6, ["sym"])
        guard case .rstat(let s) = try await c.call(.tstat(Tstat(fid: 6))) else { Issue.record("expected Rstat"); return }
        #expect(s.stat.mode.contains(.symlink))
        #expect(s.stat.unix?.extension.string == "target")
        _ = try await c.walk(0, 7, ["dev"])
        guard case .rstat(let d) = try await c.call(.tstat(Tstat(fid: 7))) else { Issue.record("expected Rstat"); return }
        #expect(d.stat.mode.contains(.device))
        #expect(d.stat.unix?.extension.string == "c 1 3")
        _ = try await c.walk(0, 8, ["hard"])
        #expect(try await c.call(.tstat(Tstat(fid: 8))) == .rstat(Rstat(stat: try await {
            guard case .rstat(let t) = try await c.call(.tstat(Tstat(fid: 5))) else { throw ConformanceFailure("no stat") }
            var st = t.stat; st.name = "hard"; return st
        }())))
        _ = try await c.walk(0, 9, ["sub"])
        guard case .rstat(let sub) = try await c.call(.tstat(Tstat(fid: 9))) else { Issue.record("expected Rstat"); return }
        #expect(sub.stat.mode.contains(.dir))
    }

    @Test func wstatRenamesChmodsTruncatesAndSyncs() async throws {
        let mem = MemoryDriver()
        try await mem.makeFile("old", contents: Array("0123456789".utf8), mode: 0o644)
        let c = try await client("9P2000.u", driver: mem)
        _ = try await c.walk(0, 1, ["old"])
        let dontTouch = Stat(type: .max, dev: .max, qid: Qid(type: QidType(rawValue: 0xFF), version: .max, path: .max),
                             mode: DirMode(rawValue: .max), atime: .max, mtime: .max, length: .max, name: "", uid: "", gid: "", muid: "",
                             unix: Stat.UnixStat(extension: "", nUid: .max, nGid: .max, nMuid: .max))
        #expect(try await c.call(.twstat(Twstat(fid: 1, stat: dontTouch))) == .rwstat)   // sync only
        var change = dontTouch
        change.name = "new"
        change.mode = DirMode(rawValue: 0o600)
        change.length = 4
        change.mtime = 1_234_567
        #expect(try await c.call(.twstat(Twstat(fid: 1, stat: change))) == .rwstat)
        #expect(try await mem.contents(of: "new") == Array("0123".utf8))
        guard case .rstat(let s) = try await c.call(.tstat(Tstat(fid: 1))) else { Issue.record("expected Rstat"); return }
        #expect(s.stat.name.string == "new")
        #expect(s.stat.mode.permissions == 0o600)
        #expect(s.stat.mtime == 1_234_567)
        var dir = dontTouch
        dir.mode = DirMode(rawValue: DirMode.dir.rawValue | 0o755)
        #expect(try await c.expectError(.twstat(Twstat(fid: 1, stat: dir))) == .EINVAL)
    }
}
