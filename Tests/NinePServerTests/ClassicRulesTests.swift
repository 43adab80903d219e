import NinePDrivers
import NinePServer
import NinePTestSupport
import NinePWire
import Testing

/// The rules open(5), create(5) and stat(5) set for 9P2000 and 9P2000.u servers, request by request.
@Suite struct ClassicRulesTests {
    func client<D: FileSystemDriver>(_ version: String, driver: D) async throws -> NinePTestClient {
        let c = await NinePTestClient.connect(driver: driver, dialect: Dialect(version: version) ?? .p9)
        #expect(try await c.version(msize: 8192, version).version.string == version)
        try await c.attach(0)
        return c
    }

    static let dirPerm = DirMode(rawValue: DirMode.dir.rawValue | 0o755)

    /// A stat of "don't touch" values only (stat(5)), the .u tail included in 9P2000.u.
    static func dontTouch(_ version: String) -> Stat {
        Stat(type: .max, dev: .max, qid: Qid(type: QidType(rawValue: 0xFF), version: .max, path: .max),
             mode: DirMode(rawValue: .max), atime: .max, mtime: .max, length: .max, name: "", uid: "", gid: "", muid: "",
             unix: version == "9P2000.u" ? Stat.UnixStat(extension: "", nUid: .max, nGid: .max, nMuid: .max) : nil)
    }

    func stat(_ c: NinePTestClient, _ fid: Fid) async throws -> Stat {
        guard case .rstat(let r) = try await c.call(.tstat(Tstat(fid: fid))) else { throw ConformanceFailure("expected Rstat") }
        return r.stat
    }

    /// open(5): "It is illegal to write a directory, truncate it, or attempt to remove it on close." A
    /// Tcreate of a directory with such a mode fails before anything is made (create(5): fid becomes the new
    /// file only when the create succeeds): no directory appears and fid still names the parent.
    @Test(arguments: ["9P2000", "9P2000.u"])
    func directoryCreateInAModeADirectoryRefusesMakesNothing(version: String) async throws {
        let c = try await client(version, driver: MemoryDriver())
        let ext: P9String? = version == "9P2000.u" ? "" : nil
        let modes: [OpenMode] = [.write, .readWrite, OpenMode(rawValue: OpenMode.truncBit),
                                 OpenMode(rawValue: OpenMode.rcloseBit)]
        for mode in modes {
            let fid = try await c.walkTo(0, "")
            #expect(try await c.expectError(.tcreate(Tcreate(fid: fid, name: "d", perm: Self.dirPerm, mode: mode, extension: ext)))
                    == .EISDIR, "mode \(mode.rawValue)")
            #expect(try await c.expectError(.twalk(Twalk(fid: 0, newfid: c.freshFid(), wnames: ["d"]))) == .ENOENT,
                    "mode \(mode.rawValue) made the directory")
            #expect(try await stat(c, fid).name.string == "/", "mode \(mode.rawValue) moved the fid")
            // The fid is still the unopened parent: the same create in OREAD works.
            guard case .rcreate(let r) = try await c.call(.tcreate(Tcreate(fid: fid, name: "d", perm: Self.dirPerm, mode: .read,
                                                                           extension: ext))) else {
                Issue.record("expected Rcreate"); return
            }
            #expect(r.qid.type.contains(.dir))
            try await c.clunk(fid)
            #expect(try await c.call(.tremove(Tremove(fid: try await c.walkTo(0, "d")))) == .rremove)
        }
    }

    /// create(5): in 9P2000 a new file's permissions are `perm & (~0666 | (dir.perm & 0666))`, a new
    /// directory's `perm & (~0777 | (dir.perm & 0777))`; 9P2000.u takes them as given (a Unix mode, the
    /// client's umask applied), as the Linux client expects.
    @Test(arguments: ["9P2000", "9P2000.u"])
    func createNarrowsPermissionsByTheDirectorysIn9P2000(version: String) async throws {
        let c = try await client(version, driver: MemoryDriver())
        let ext: P9String? = version == "9P2000.u" ? "" : nil
        let classic = version == "9P2000"
        let parent = try await c.walkTo(0, "")
        _ = try await c.call(.tcreate(Tcreate(fid: parent, name: "p", perm: DirMode(rawValue: DirMode.dir.rawValue | 0o750),
                                              mode: .read, extension: ext)))
        #expect(try await stat(c, parent).mode.permissions == 0o750)
        let file = try await c.walkTo(0, "p")
        _ = try await c.call(.tcreate(Tcreate(fid: file, name: "f", perm: DirMode(rawValue: 0o666), mode: .write, extension: ext)))
        #expect(try await stat(c, file).mode.permissions == (classic ? 0o640 : 0o666))
        let dir = try await c.walkTo(0, "p")
        _ = try await c.call(.tcreate(Tcreate(fid: dir, name: "d", perm: DirMode(rawValue: DirMode.dir.rawValue | 0o777),
                                              mode: .read, extension: ext)))
        let made = try await stat(c, dir)
        #expect(made.mode.contains(.dir) && made.mode.permissions == (classic ? 0o750 : 0o777))
        // Execute bits of a file are not narrowed (only 0666 is).
        let exe = try await c.walkTo(0, "p")
        _ = try await c.call(.tcreate(Tcreate(fid: exe, name: "x", perm: DirMode(rawValue: 0o777), mode: .write, extension: ext)))
        #expect(try await stat(c, exe).mode.permissions == (classic ? 0o751 : 0o777))
    }

    /// The synthetic tree's read-only files refuse a truncating open whatever its access mode (it is a
    /// write; they took it and truncated nothing), and /WRITE is emptied by one.
    @Test func synthTruncatesOnlyWhatItCanWrite() async throws {
        let c = await NinePTestClient.connect(driver: SyntheticDriver(), dialect: .l)
        _ = try await c.version(msize: 8192, "9P2000.L")
        try await c.attach(0)
        for name in ["LOPEN", "SPARSE", "SLOW"] {
            let fid = try await c.walkTo(0, name)
            #expect(try await c.expectError(.tlopen(Tlopen(fid: fid, flags: [.rdonly, .trunc]))) == .EACCES, "\(name)")
        }
        let w = try await c.walkTo(0, "WRITE")
        _ = try await c.lopen(w, .rdwr)
        #expect(try await c.write(w, Array("abc".utf8)) == 3)
        try await c.clunk(w)
        let again = try await c.walkTo(0, "WRITE")
        _ = try await c.lopen(again, [.rdonly, .trunc])
        #expect(try await c.read(again).isEmpty)
    }

    /// DMAPPEND, DMEXCL and DMTMP cannot be kept by the drivers' POSIX files: a Tcreate or Twstat asking
    /// for one is refused (EINVAL) and changes nothing, rather than made as an ordinary file.
    @Test(arguments: ["9P2000", "9P2000.u"])
    func appendExclusiveAndTemporaryAreRefused(version: String) async throws {
        let c = try await client(version, driver: MemoryDriver())
        let ext: P9String? = version == "9P2000.u" ? "" : nil
        for bit in [DirMode.append, .excl, .tmp] {
            let fid = try await c.walkTo(0, "")
            let perm = DirMode(rawValue: bit.rawValue | 0o644)
            #expect(try await c.expectError(.tcreate(Tcreate(fid: fid, name: "log", perm: perm, mode: .write, extension: ext)))
                    == .EINVAL, "\(bit.rawValue)")
            #expect(try await c.expectError(.twalk(Twalk(fid: 0, newfid: c.freshFid(), wnames: ["log"]))) == .ENOENT)
            try await c.clunk(fid)
        }
        let file = try await c.walkTo(0, "")
        _ = try await c.call(.tcreate(Tcreate(fid: file, name: "plain", perm: DirMode(rawValue: 0o644), mode: .write,
                                              extension: ext)))
        var change = Self.dontTouch(version)
        change.mode = DirMode(rawValue: DirMode.excl.rawValue | 0o600)
        #expect(try await c.expectError(.twstat(Twstat(fid: file, stat: change))) == .EINVAL)
        #expect(try await stat(c, file).mode.rawValue == 0o644)
    }

    /// open(5): a directory may not be removed on close, so Topen with ORCLOSE on one is refused (and a
    /// later clunk removes nothing).
    @Test(arguments: ["9P2000", "9P2000.u"])
    func directoryOpenWithORCLOSEIsRefused(version: String) async throws {
        let mem = MemoryDriver()
        try await mem.makeFile("sub/f", contents: [1])
        let c = try await client(version, driver: mem)
        for path in ["sub", ""] {
            let fid = try await c.walkTo(0, path)
            #expect(try await c.expectError(.topen(Topen(fid: fid, mode: OpenMode(rawValue: OpenMode.rcloseBit)))) != nil)
            try await c.clunk(fid)
        }
        let sub = try await c.walkTo(0, "sub")
        #expect(try await c.expectError(.topen(Topen(fid: sub, mode: OpenMode(rawValue: OpenMode.rcloseBit)))) == .EISDIR)
        // Still a walked fid: it opens for reading.
        guard case .ropen = try await c.call(.topen(Topen(fid: sub, mode: .read))) else { Issue.record("expected Ropen"); return }
        try await c.clunk(sub)
        #expect(try await mem.contents(of: "sub/f") == [1])
        // ORCLOSE on a file still removes it at clunk.
        let f = try await c.walkTo(0, "sub/f")
        guard case .ropen = try await c.call(.topen(Topen(fid: f, mode: OpenMode(rawValue: OpenMode.rcloseBit)))) else {
            Issue.record("expected Ropen"); return
        }
        try await c.clunk(f)
        await #expect(throws: Errno.ENOENT) { try await mem.contents(of: "sub/f") }
    }

    /// open(5): "if mode has the OTRUNC (0x10) bit set, the file is to be truncated" — whatever the access
    /// mode, OREAD and OEXEC included, in every driver.
    @Test(arguments: ["memory", "local"], [OpenMode.read, .exec])
    func otruncTruncatesWhateverTheAccessMode(driverName: String, access: OpenMode) async throws {
        let dir = try TempDirectory("otrunc")
        defer { dir.remove() }
        let c: NinePTestClient
        if driverName == "memory" {
            let mem = MemoryDriver()
            try await mem.makeFile("f", contents: Array("hello".utf8))
            c = try await client("9P2000", driver: mem)
        } else {
            try dir.write("f", "hello")
            c = try await client("9P2000", driver: try LocalDriver(root: dir.path))
        }
        let f = try await c.walkTo(0, "f")
        let mode = OpenMode(rawValue: access.rawValue | OpenMode.truncBit)
        guard case .ropen = try await c.call(.topen(Topen(fid: f, mode: mode))) else { Issue.record("expected Ropen"); return }
        #expect(try await c.read(f, count: 100) == [])
        #expect(try await stat(c, f).length == 0)
    }

    /// stat(5): "It is an error to attempt to set the length of a directory to a non-zero value": zero is a
    /// value a directory already has, and the wstat succeeds.
    @Test(arguments: ["9P2000", "9P2000.u"])
    func directoryLengthMayBeSetToZeroOnly(version: String) async throws {
        let mem = MemoryDriver()
        try await mem.makeFile("sub/f", contents: [1])
        let c = try await client(version, driver: mem)
        let sub = try await c.walkTo(0, "sub")
        var zero = Self.dontTouch(version)
        zero.length = 0
        #expect(try await c.call(.twstat(Twstat(fid: sub, stat: zero))) == .rwstat)
        var five = zero
        five.length = 5
        #expect(try await c.expectError(.twstat(Twstat(fid: sub, stat: five))) != nil)
        #expect(try await stat(c, sub).length == 0)
    }

    /// stat(5): only name, length, mode, mtime and gid can be changed; "None of the other data can be altered
    /// by a wstat and attempts to change them will trigger an error. In particular, it is illegal to attempt
    /// to change the owner of a file." (9P2000.u changes the owner through n_uid, Linux's chown.) A value
    /// equal to the current one is no change, and "all the changes happen, or none": the refused wstat
    /// leaves the mode it also asked for untouched.
    @Test(arguments: ["9P2000", "9P2000.u"])
    func wstatRefusesChangesToFixedFields(version: String) async throws {
        let mem = MemoryDriver()
        try await mem.makeFile("f", contents: [1, 2, 3], mode: 0o644)
        let c = try await client(version, driver: mem)
        let f = try await c.walkTo(0, "f")
        let current = try await stat(c, f)
        var attempts: [(String, (inout Stat) -> Void)] = [
            ("type", { $0.type = current.type &+ 1 }),
            ("dev", { $0.dev = current.dev &+ 1 }),
            ("qid.path", { $0.qid = Qid(type: QidType(rawValue: 0xFF), version: .max, path: current.qid.path &+ 1) }),
            ("qid.type", { $0.qid = Qid(type: [.dir], version: .max, path: .max) }),
            ("muid", { $0.muid = "somebody" }),
        ]
        if version == "9P2000" { attempts.append(("uid", { $0.uid = P9String(current.uid.string + "1") })) }
        for (field, change) in attempts {
            var st = Self.dontTouch(version)
            st.mode = DirMode(rawValue: 0o600)
            change(&st)
            #expect(try await c.expectError(.twstat(Twstat(fid: f, stat: st))) != nil, "a change of \(field) was accepted")
            #expect(try await stat(c, f).mode.permissions == 0o644, "the refused wstat of \(field) changed the mode")
        }
        // The values the file already has are no change: this wstat (a stat read back, the mode changed) works.
        var same = current
        same.mode = DirMode(rawValue: 0o600)
        same.atime = .max
        same.mtime = .max
        #expect(try await c.call(.twstat(Twstat(fid: f, stat: same))) == .rwstat)
        #expect(try await stat(c, f).mode.permissions == 0o600)
    }

    /// Linux's client renames (`mv` on a mount with version=9p2000 or 9p2000.u) with a Twstat of the new name
    /// whose muid is its mount's uname, the uname of its first attach ('nobody' by default), though the fid
    /// descends from a user's own attach (uname '', n_uname 0). Such a muid names who modifies the file: no
    /// change of a fixed field, so the rename is done (it was refused, "wstat cannot change muid", and every
    /// mv failed with EINVAL). A muid naming nobody attached here is still refused.
    @Test(arguments: ["9P2000", "9P2000.u"])
    func wstatRenameWithTheMountsUnameAsMuid(version: String) async throws {
        let mem = MemoryDriver()
        try await mem.makeFile("f", contents: [1], mode: 0o644)
        let c = await NinePTestClient.connect(driver: mem, dialect: Dialect(version: version) ?? .p9)
        #expect(try await c.version(msize: 8192, version).version.string == version)
        _ = try await c.attach(0, uname: "nobody")
        _ = try await c.attach(1, uname: "")
        let f = try await c.walkTo(1, "f")
        var stranger = Self.dontTouch(version)
        stranger.name = "h"
        stranger.muid = "somebody"
        #expect(try await c.expectError(.twstat(Twstat(fid: f, stat: stranger))) != nil)
        var rename = Self.dontTouch(version)
        rename.name = "g"
        rename.muid = "nobody"
        #expect(try await c.call(.twstat(Twstat(fid: f, stat: rename))) == .rwstat)
        #expect(try await c.walk(1, 20, ["g"]).count == 1, "g is not there")
        #expect(try await c.expectError(.twalk(Twalk(fid: 1, newfid: 21, wnames: ["f"]))) == .ENOENT, "f is still there")
        #expect(try await c.expectError(.twalk(Twalk(fid: 1, newfid: 22, wnames: ["h"]))) == .ENOENT,
                "the refused wstat renamed f to h")
    }

    /// stat(5): "Either all the changes in wstat request happen, or none of them does." A wstat whose new name
    /// is not a valid file name (or that renames the attach root) changes neither the name nor the mode.
    @Test(arguments: ["9P2000", "9P2000.u"])
    func wstatWithAnImpossibleRenameChangesNothing(version: String) async throws {
        let mem = MemoryDriver()
        try await mem.makeFile("f", contents: [1], mode: 0o644)
        let c = try await client(version, driver: mem)
        let f = try await c.walkTo(0, "f")
        // A name with a slash is no file name; `.` and `..` are EBUSY, as a Trename to them and rename(2).
        for (name, errno): (P9String, Errno) in [("a/b", .EINVAL), ("..", .EBUSY), (".", .EBUSY)] {
            var st = Self.dontTouch(version)
            st.mode = DirMode(rawValue: 0o600)
            st.name = name
            #expect(try await c.expectError(.twstat(Twstat(fid: f, stat: st))) == errno, "rename to \(name.string)")
            #expect(try await stat(c, f).mode.permissions == 0o644, "the refused rename to \(name.string) changed the mode")
        }
        let rootMode = try await stat(c, 0).mode
        var root = Self.dontTouch(version)
        root.mode = DirMode(rawValue: DirMode.dir.rawValue | 0o700)
        root.name = "elsewhere"
        #expect(try await c.expectError(.twstat(Twstat(fid: 0, stat: root))) == .EBUSY)
        #expect(try await stat(c, 0).mode == rootMode)
    }
}
