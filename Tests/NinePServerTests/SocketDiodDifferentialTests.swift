import Foundation
import Glibc
import NinePDrivers
import NinePNIO
import NinePServer
import NinePTestSupport
import NinePWire
import Testing

/// The same requests sent to `ninescope serve`'s local driver and to diod, each over a host directory of its
/// own made alike: where ninescope differed and diod (with QEMU's 9pfs and Linux) had it right. Each test
/// states what the answer must be; with diod installed it also checks diod gives the same.
@Suite struct SocketDiodDifferentialTests {
    /// Runs `body` against the local driver over TCP and, when diod is installed, against diod; each gets a
    /// fresh export made by `setup`. Returns (ours, diod's or nil).
    func both<T: Sendable>(setup: (TempDirectory) throws -> Void,
                           _ body: (NinePTestClient, TempDirectory) async throws -> T) async throws -> (T, T?) {
        let mine = try TempDirectory("differ-ours"); defer { mine.remove() }
        try setup(mine)
        let server = try await SocketServer.start(LocalDriver(root: mine.path))
        let c = try await server.client()
        _ = try await c.version(msize: 8192)
        _ = try await c.attach(0, uname: "root")
        let ours = try await body(c, mine)
        await c.close()
        await server.stop()

        let theirsDir = try TempDirectory("differ-diod"); defer { theirsDir.remove() }
        try setup(theirsDir)
        guard let diod = try Diod.start(export: theirsDir.path) else { return (ours, nil) }
        defer { diod.stop() }
        let d = try await SocketTransport.client(try Address(parsing: diod.address))
        _ = try await d.version(msize: 8192)
        _ = try await d.attach(0, uname: "root", aname: theirsDir.path)
        let theirs = try await body(d, theirsDir)
        await d.close()
        return (ours, theirs)
    }

    /// `both` with two connections to each server, each attached as root.
    func bothOverTwoConnections<T: Sendable>(setup: (TempDirectory) throws -> Void,
                                             _ body: (NinePTestClient, NinePTestClient) async throws -> T) async throws -> (T, T?) {
        let mine = try TempDirectory("differ-ours"); defer { mine.remove() }
        try setup(mine)
        let server = try await SocketServer.start(LocalDriver(root: mine.path))
        var clients: [NinePTestClient] = []
        for _ in 0..<2 {
            let c = try await server.client()
            _ = try await c.version(msize: 8192)
            _ = try await c.attach(0, uname: "root")
            clients.append(c)
        }
        let ours = try await body(clients[0], clients[1])
        for c in clients { await c.close() }
        await server.stop()

        let theirsDir = try TempDirectory("differ-diod"); defer { theirsDir.remove() }
        try setup(theirsDir)
        guard let diod = try Diod.start(export: theirsDir.path) else { return (ours, nil) }
        defer { diod.stop() }
        var theirClients: [NinePTestClient] = []
        for _ in 0..<2 {
            let d = try await SocketTransport.client(try Address(parsing: diod.address))
            _ = try await d.version(msize: 8192)
            _ = try await d.attach(0, uname: "root", aname: theirsDir.path)
            theirClients.append(d)
        }
        let theirs = try await body(theirClients[0], theirClients[1])
        for d in theirClients { await d.close() }
        return (ours, theirs)
    }

    /// Two connections whose Tlocks name the same client_id and proc_id are two owners: the second's write lock
    /// on a file the first holds is BLOCKED. The Linux client's client_id is its host name, which guests booted
    /// alike share (`(none)` in an initramfs guest) with the same pids; ninescope granted both locks, diod
    /// blocks the second.
    @Test func locksOfTwoConnectionsAreTwoOwnersWhateverTheirNames() async throws {
        let (ours, theirs) = try await bothOverTwoConnections(setup: { dir in try dir.write("f", "x") }) { a, b in
            var out: [String] = []
            for c in [a, b] {
                let f = try await c.walkTo(0, "f")
                _ = try await c.lopen(f, .rdwr)
                let lock = Tlock(fid: f, type: .wrlck, flags: [], start: 0, length: 0, procId: 108, clientId: "(none)")
                guard case .rlock(let r) = try await c.call(.tlock(lock)) else { return out + ["no Rlock"] }
                out.append(r.status.name)
                if c === b, case .rgetlock(let g) = try await c.call(.tgetlock(Tgetlock(fid: f, type: .wrlck, start: 0, length: 0,
                                                                                         procId: 108, clientId: "(none)"))) {
                    out.append("getlock \(g.type.name)")
                }
            }
            return out
        }
        #expect(ours == ["SUCCESS", "BLOCKED", "getlock WRLCK"])
        if let theirs { #expect(theirs.prefix(2) == ours.prefix(2), "ours: \(ours), diod: \(theirs)") }
    }

    /// The Linux client asks an open fid for xattrs: fgetxattr, and any getxattr while the file is open
    /// (it prefers the inode's open fids). ninescope answered EBADF ("fid is open"), so a guest's
    /// `cp --preserve=xattr` or getfattr of an open file failed; the new fid is the xattr's, the open fid
    /// goes on reading.
    @Test func anOpenFidIsAskedForXattrs() async throws {
        let (ours, theirs) = try await both(setup: { dir in
            try dir.write("f", "contents")
            try HostXattr.set(dir.file("f"), "user.colour", "red")
        }) { c, _ in
            let f = try await c.walkTo(0, "f")
            _ = try await c.lopen(f, .rdonly)
            var out: [String] = []
            guard case .rxattrwalk(let x) = try await c.rpc(.txattrwalk(Txattrwalk(fid: f, newfid: 20, name: "user.colour"))) else {
                return ["no Rxattrwalk for user.colour"]
            }
            out.append("size \(x.size) value \(String(decoding: try await c.read(20, count: 100), as: UTF8.self))")
            try await c.clunk(20)
            guard case .rxattrwalk(let l) = try await c.rpc(.txattrwalk(Txattrwalk(fid: f, newfid: 21, name: ""))) else {
                return out + ["no Rxattrwalk for the list"]
            }
            out.append("list \(l.size) \(try await c.read(21, count: 100).split(separator: 0).map { String(decoding: $0, as: UTF8.self) })")
            try await c.clunk(21)
            out.append("still open: \(String(decoding: try await c.read(f, count: 100), as: UTF8.self))")
            // In place, the open fid would be lost: refused.
            switch try await c.rpc(.txattrwalk(Txattrwalk(fid: f, newfid: f, name: "user.colour"))) {
            case .rlerror(let e): out.append("in place: \(e.ecode)")
            case let r: out.append("in place: \(r.type?.name ?? "?")")   // diod answers (and loses the open fid)
            }
            return out
        }
        #expect(ours == ["size 3 value red", "list 12 [\"user.colour\"]", "still open: contents", "in place: EBADF"])
        if let theirs { #expect(Array(ours.prefix(3)) == Array(theirs.prefix(3)), "ours: \(ours), diod: \(theirs)") }
    }

    /// Tlcreate is open(2) with O_CREAT: without O_EXCL a name another client (or the host) made since the
    /// Linux client last looked is opened, not refused. ninescope answered EEXIST, so a guest's
    /// `echo x >> f` failed with "File exists" when its cache was behind.
    @Test func createWithoutExclusiveOpensAFileThere() async throws {
        let (ours, theirs) = try await both(setup: { dir in try dir.write("f", "was here") }) { c, _ in
            var out: [String] = []
            let d = try await c.walkTo(0, "")
            switch try await c.rpc(.tlcreate(Tlcreate(fid: d, name: "f", flags: [.rdwr, .excl], mode: 0o644, gid: 0))) {
            case .rlerror(let e): out.append("excl: \(e.ecode)")
            case let r: out.append("excl: \(r.type?.name ?? "?")")
            }
            switch try await c.rpc(.tlcreate(Tlcreate(fid: d, name: "f", flags: [.rdwr, .append], mode: 0o600, gid: 0))) {
            case .rlcreate: out.append("opened: \(String(decoding: try await c.read(d, count: 100), as: UTF8.self))")
            case .rlerror(let e): out.append("opened: \(e.ecode)")
            case let r: out.append("opened: \(r.type?.name ?? "?")")
            }
            return out
        }
        #expect(ours == ["excl: EEXIST", "opened: was here"])
        if let theirs { #expect(ours == theirs, "ours: \(ours), diod: \(theirs)") }
    }

    /// A size or offset of 2^63 or more is a negative loff_t to Linux: truncate, pread and pwrite say EINVAL
    /// (diod's answer). ninescope said EFBIG to the size and the write, and read nothing (an Rread of 0).
    @Test func offsetsPastTheLargestFileOffsetAreInvalid() async throws {
        let (ours, theirs) = try await both(setup: { dir in try dir.write("f", "data") }) { c, _ in
            func answer(_ m: Message) async throws -> String {
                switch try await c.rpc(m) {
                case .rlerror(let e): return "\(e.ecode)"
                case .rread(let r): return "Rread \(r.data.count)"
                case let r: return r.type?.name ?? "?"
                }
            }
            let f = try await c.walkTo(0, "f")
            _ = try await c.lopen(f, .rdwr)
            return [
                try await answer(.tsetattr(Tsetattr(fid: f, valid: SetattrValid(rawValue: 0x8), size: UInt64.max))),
                try await answer(.twrite(Twrite(fid: f, offset: UInt64.max, data: [1]))),
                try await answer(.tread(Tread(fid: f, offset: UInt64.max, count: 10))),
                try await answer(.tread(Tread(fid: f, offset: 1 << 62, count: 10))),
            ]
        }
        #expect(ours == ["EINVAL", "EINVAL", "EINVAL", "Rread 0"])
        if let theirs { #expect(ours == theirs, "ours: \(ours), diod: \(theirs)") }
    }

    /// mknod(2) and symlink(2) as Linux answers them (diod's answers): a Tmknod with no file type makes a
    /// regular file, one of a directory is EPERM; an empty symlink target is ENOENT. ninescope said EINVAL
    /// to all three.
    @Test func mknodAndSymlinkAnswerAsLinux() async throws {
        let (ours, theirs) = try await both(setup: { _ in }) { c, dir in
            func answer(_ m: Message) async throws -> String {
                switch try await c.rpc(m) {
                case .rlerror(let e): return "\(e.ecode)"
                case let r: return r.type?.name ?? "?"
                }
            }
            var st = Glibc.stat()
            let plain = try await answer(.tmknod(Tmknod(dfid: 0, name: "plain", mode: 0o644, major: 0, minor: 0, gid: getgid())))
            let kind = lstat(dir.file("plain"), &st) == 0 ? String(UInt32(st.st_mode) & 0o170000, radix: 8) : "none"
            return [
                plain, kind,
                try await answer(.tmknod(Tmknod(dfid: 0, name: "d", mode: 0o40755, major: 0, minor: 0, gid: getgid()))),
                try await answer(.tsymlink(Tsymlink(fid: 0, name: "l", symtgt: "", gid: getgid()))),
            ]
        }
        #expect(ours == ["Rmknod", "100000", "EPERM", "ENOENT"])
        if let theirs { #expect(ours == theirs, "ours: \(ours), diod: \(theirs)") }
    }

    /// `.` and `..` named as what a rename or unlinkat acts on, answered as rename(2) and unlinkat(2) answer
    /// on Linux (and diod's Trename, which passes them to the host): a rename of or onto either is EBUSY; an unlinkat
    /// of either without AT_REMOVEDIR EISDIR, with it EINVAL for `.` and ENOTEMPTY for `..`. ninescope
    /// answered EEXIST to all of them (a creation's answer: mkdir(".") is EEXIST). The directory and the
    /// file are still there after.
    @Test func dotAndDotDotAreRenamedAndUnlinkedAsLinuxAnswers() async throws {
        let (ours, theirs) = try await both(setup: { dir in
            try dir.write("f", "x")
            try FileManager.default.createDirectory(atPath: dir.file("sub"), withIntermediateDirectories: false)
        }) { c, dir in
            func answer(_ m: Message) async throws -> String {
                switch try await c.rpc(m) {
                case .rlerror(let e): return "\(e.ecode)"
                case let r: return r.type?.name ?? "?"
                }
            }
            let sub = try await c.walkTo(0, "sub")
            let f = try await c.walkTo(0, "f")
            var out: [String] = []
            for (old, new) in [(".", "g"), ("..", "g"), ("f", "."), ("f", "..")] {
                out.append("renameat \(old) \(new): " + (try await answer(.trenameat(Trenameat(olddirfid: sub, oldname: P9String(old), newdirfid: 0, newname: P9String(new))))))
            }
            for name in [".", ".."] {
                out.append("rename to \(name): " + (try await answer(.trename(Trename(fid: f, dfid: sub, name: P9String(name))))))
                for flags: UInt32 in [0, Tunlinkat.removeDir] {
                    out.append("unlinkat \(name) \(flags): " + (try await answer(.tunlinkat(Tunlinkat(dirfid: sub, name: P9String(name), flags: flags)))))
                }
            }
            var st = Glibc.stat()
            out.append("left: \(lstat(dir.file("sub"), &st) == 0 && lstat(dir.file("f"), &st) == 0)")
            return out
        }
        #expect(ours == ["renameat . g: EBUSY", "renameat .. g: EBUSY", "renameat f .: EBUSY", "renameat f ..: EBUSY",
                         "rename to .: EBUSY", "unlinkat . 0: EISDIR", "unlinkat . 512: EINVAL",
                         "rename to ..: EBUSY", "unlinkat .. 0: EISDIR", "unlinkat .. 512: ENOTEMPTY", "left: true"])
        // Debian's diod answers Trenameat and Tunlinkat EOPNOTSUPP (the Linux client then falls back to Trename
        // and Tremove): only the rest is compared with it.
        if let theirs {
            #expect(ours.count == theirs.count)
            for (o, t) in zip(ours, theirs) where !t.hasSuffix("EOPNOTSUPP") { #expect(o == t, "ours: \(o), diod: \(t)") }
            #expect(theirs.count { !$0.hasSuffix("EOPNOTSUPP") } >= 3, "\(theirs)")
        }
    }

    /// Tlcreate, Tmkdir and Tmknod carry the mode the client wants (its own umask applied). ninescope let the
    /// host narrow it by the server's umask (0644 asked with umask 022 in effect: fine; 0777 asked: 0755)
    /// and dropped setuid/setgid when it gave the file the requested group. diod and QEMU give the mode asked.
    @Test func newObjectsGetTheModeTheClientAsked() async throws {
        // Read, not set: the umask is the whole test process's.
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let umaskLine = status.split(separator: "\n").first { $0.hasPrefix("Umask:") }.map(String.init) ?? "Umask: ?"
        // A group other than ours when root (the change of group is what dropped setuid/setgid); our own otherwise.
        let gid: UInt32 = getuid() == 0 ? 4321 : getgid()
        let (ours, theirs) = try await both(setup: { _ in }) { c, dir in
            let f = c.freshFid()
            _ = try await c.walk(0, f, [])
            guard case .rlcreate = try await c.call(.tlcreate(Tlcreate(fid: f, name: "file", flags: .rdwr, mode: 0o6777, gid: gid))) else {
                return ["no Rlcreate"]
            }
            try await c.clunk(f)
            guard case .rmkdir = try await c.call(.tmkdir(Tmkdir(dfid: 0, name: "dir", mode: 0o1777, gid: gid))) else { return ["no Rmkdir"] }
            guard case .rmknod = try await c.call(.tmknod(Tmknod(dfid: 0, name: "fifo", mode: 0o10777 | 0o4000, major: 0, minor: 0, gid: gid))) else {
                return ["no Rmknod"]
            }
            return try ["file", "dir", "fifo"].map { name in
                var st = Glibc.stat()
                guard lstat(dir.file(name), &st) == 0 else { throw HostXattr.Failed(call: "lstat", errno: errno) }
                return "\(name) \(String(UInt32(st.st_mode) & 0o7777, radix: 8)) gid \(st.st_gid)"
            }
        }
        #expect(ours == ["file 6777 gid \(gid)", "dir 1777 gid \(gid)", "fifo 4777 gid \(gid)"], "\(umaskLine)")
        if let theirs { #expect(ours == theirs, "ours: \(ours), diod: \(theirs)") }
    }

    /// fcntl(F_GETLK) tests a read or a write lock; a type that is none of RDLCK, WRLCK, UNLCK is EINVAL
    /// (diod's answer). UNLCK is what the Linux client sends for every F_GETLK (a guest's trace shows it,
    /// whatever type the program asked about): ninescope answered it EINVAL, as diod does, so that every
    /// fcntl(F_GETLK) on a Linux mount failed. It is now the question about a write lock: another owner's
    /// lock on the range, or UNLCK.
    @Test func getlockOfAnUnknownTypeIsRefusedAndUnlckIsAskedAsAWriteLock() async throws {
        let (ours, theirs) = try await both(setup: { dir in try dir.write("f", "x") }) { c, _ in
            let f = try await c.walkTo(0, "f")
            _ = try await c.lopen(f, .rdwr)
            var out: [String] = []
            for type in [LockType(rawValue: 7), LockType.unlck] {
                switch try await c.rpc(.tgetlock(Tgetlock(fid: f, type: type, start: 0, length: 0, procId: 1, clientId: "c"))) {
                case .rgetlock(let g): out.append("\(type.name): \(g.type.name)")
                case .rlerror(let e): out.append("\(type.name): \(e.ecode)")
                case let other: out.append("\(type.name): \(other)")
                }
            }
            guard case .rgetlock(let g) = try await c.call(.tgetlock(Tgetlock(fid: f, type: .wrlck, start: 0, length: 0, procId: 1, clientId: "c"))) else {
                return out + ["no Rgetlock"]
            }
            out.append("WRLCK: \(g.type.name)")
            // Another owner (proc 2) holds a read lock on bytes 0-9: the UNLCK question finds it.
            guard case .rlock(let l) = try await c.call(.tlock(Tlock(fid: f, type: .rdlck, flags: [], start: 0, length: 10, procId: 2, clientId: "c"))),
                  l.status == .success else { return out + ["no read lock"] }
            switch try await c.rpc(.tgetlock(Tgetlock(fid: f, type: .unlck, start: 5, length: 0, procId: 1, clientId: "c"))) {
            case .rgetlock(let g): out.append("UNLCK held: \(g.type.name) \(g.start)+\(g.length) proc \(g.procId)")
            case .rlerror(let e): out.append("UNLCK held: \(e.ecode)")
            case let other: out.append("UNLCK held: \(other)")
            }
            return out
        }
        #expect(ours == ["7: EINVAL", "UNLCK: UNLCK", "WRLCK: UNLCK", "UNLCK held: RDLCK 0+10 proc 2"])
        if let theirs {
            #expect(theirs[0] == ours[0] && theirs[2] == ours[2], "ours: \(ours), diod: \(theirs)")
            #expect(theirs[1] == "UNLCK: EINVAL", "diod: \(theirs)")
        }
    }
}
