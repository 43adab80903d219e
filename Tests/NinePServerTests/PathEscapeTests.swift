import Foundation
import Glibc
import NinePDrivers
import NinePServer
import NinePTestSupport
import NinePWire
import Testing

/// LocalDriver must stay inside its root whatever the client tries: `..`, slashes, symlinks (relative,
/// absolute, swapped in between requests), hard links and renames. Each test keeps a "secret" file
/// outside the export and checks it is neither reachable nor changed.
@Suite struct PathEscapeTests {
    /// sandbox/outside/secret and sandbox/export/ (the served root).
    struct Sandbox {
        let dir: TempDirectory
        var export: String { dir.file("export") }
        var secret: String { dir.file("outside/secret") }
        init() throws {
            dir = try TempDirectory("escape")
            try FileManager.default.createDirectory(atPath: dir.file("outside"), withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: dir.file("export"), withIntermediateDirectories: true)
            try dir.write("outside/secret", "top secret")
        }
        func secretUnchanged() throws -> Bool {
            try dir.read("outside/secret") == "top secret" && FileManager.default.fileExists(atPath: secret)
        }
        func symlink(_ name: String, to target: String) throws {
            try FileManager.default.createSymbolicLink(atPath: dir.file("export/" + name), withDestinationPath: target)
        }
        func client() async throws -> NinePTestClient {
            let c = await NinePTestClient.connect(driver: try LocalDriver(root: export))
            try await c.version()
            try await c.attach(0)
            return c
        }
    }

    @Test func dotdotAtTheRootStaysThere() async throws {
        let s = try Sandbox(); defer { s.dir.remove() }
        let c = try await s.client()
        let root = try await c.getattr(0).qid
        let qids = try await c.walk(0, 1, ["..", "..", ".."])
        #expect(qids.map(\.path) == [root.path, root.path, root.path])
        // `..` then "outside": a partial walk that stops at the root; newfid is not created.
        #expect(try await c.walk(0, 2, ["..", "outside"]).map(\.path) == [root.path])
        #expect(try await c.expectError(.tclunk(Tclunk(fid: 2))) == .EBADF)
        // Listing the root: `..` is the root itself, not the host parent.
        let list = try await c.listDirectory(0)
        #expect(list.first { $0.name == ".." }?.qid.path == root.path)
    }

    @Test func namesWithSlashesAreRefused() async throws {
        let s = try Sandbox(); defer { s.dir.remove() }
        let c = try await s.client()
        #expect(try await c.expectError(.twalk(Twalk(fid: 0, newfid: 1, wnames: ["../outside"]))) == .ENOENT)
        #expect(try await c.expectError(.twalk(Twalk(fid: 0, newfid: 1, wnames: [P9String(s.secret)]))) == .ENOENT)
        #expect(try await c.expectError(.tlcreate(Tlcreate(fid: 0, name: "../outside/x", flags: .rdwr, mode: 0o644, gid: 0))) == .EINVAL)
        #expect(try await c.expectError(.tmkdir(Tmkdir(dfid: 0, name: "..", mode: 0o755, gid: 0))) == .EEXIST)
        #expect(try await c.expectError(.tsymlink(Tsymlink(fid: 0, name: "a/b", symtgt: "x", gid: 0))) == .EINVAL)
        #expect(!s.dir.exists("outside/x"))
    }

    @Test(arguments: ["/", "..", "../outside", "../outside/secret", "../../../../..", "/etc/passwd"])
    func symlinksAreServedNotFollowed(target: String) async throws {
        let s = try Sandbox(); defer { s.dir.remove() }
        try s.symlink("link", to: target == "../outside/secret" ? s.secret : target)
        let c = try await s.client()
        let q = try await c.walk(0, 1, ["link"])
        #expect(q.first?.type.contains(.symlink) == true)
        #expect(try await c.readlink(1) == (target == "../outside/secret" ? s.secret : target))
        // Walking through it stops at the symlink (partial walk): it is not a directory here.
        #expect(try await c.walk(0, 2, ["link", "secret"]).count == 1)
        #expect(try await c.expectError(.twalk(Twalk(fid: 1, newfid: 2, wnames: ["secret"]))) == .ENOTDIR)
        // Opening it is refused, so nothing outside can be read or written through it.
        #expect(try await c.expectError(.tlopen(Tlopen(fid: 1, flags: .rdwr))) == .ELOOP)
        // Attribute and xattr changes through the symlink node do not reach its target.
        _ = try await c.expectError(.tsetattr(Tsetattr(fid: 1, valid: [.size], size: 0)))
        _ = try await c.expectError(.tsetattr(Tsetattr(fid: 1, valid: [.mode], mode: 0o777)))
        let x = c.freshFid()
        _ = try await c.walk(1, x, [])
        _ = try await c.call(.txattrcreate(Txattrcreate(fid: x, name: "user.evil", attrSize: 1, flags: 0)))
        try await c.write(x, [1])
        _ = try await c.expectError(.tclunk(Tclunk(fid: x)))
        #expect(try s.secretUnchanged())
        let attrs = try FileManager.default.attributesOfItem(atPath: s.secret)
        #expect((attrs[.posixPermissions] as? Int) != 0o777)
    }

    /// A symlink's own xattrs and times are its own, reached through its directory with calls that never
    /// follow it: its target's xattrs stay unseen and its target's times unchanged, inside the tree or
    /// out; once its name holds something else, they are refused rather than reached by name.
    @Test(arguments: [false, true])
    func aSymlinksOwnXattrsAndTimes(targetOutside: Bool) async throws {
        let s = try Sandbox(); defer { s.dir.remove() }
        try s.dir.write("export/t", "target")
        let target = targetOutside ? s.secret : s.dir.file("export/t")
        try HostXattr.set(target, "user.colour", "red")
        try s.symlink("link", to: target)
        let targetBefore = try HostXattr.stat(target, follow: true)
        let c = try await s.client()
        _ = try await c.walk(0, 1, ["link"])
        // The target's user.colour is not the symlink's.
        #expect(try await c.expectError(.txattrwalk(Txattrwalk(fid: 1, newfid: 2, name: "user.colour"))) == .ENODATA)
        let names = try await xattrNames(c, 1)
        #expect(names == HostXattr.list(s.dir.file("export/link")), "the symlink's own names: \(names)")
        #expect(!names.contains("user.colour"))
        // Writing: user.* is not allowed on a symlink (EPERM, the host's answer); trusted.* is, for root.
        let x = c.freshFid()
        _ = try await c.walk(1, x, [])
        _ = try await c.call(.txattrcreate(Txattrcreate(fid: x, name: "user.evil", attrSize: 1, flags: 0)))
        try await c.write(x, [1])
        #expect(try await c.expectError(.tclunk(Tclunk(fid: x))) == .EPERM)
        if geteuid() == 0 {
            let y = c.freshFid()
            _ = try await c.walk(1, y, [])
            _ = try await c.call(.txattrcreate(Txattrcreate(fid: y, name: "trusted.note", attrSize: 2, flags: 0)))
            try await c.write(y, Array("hi".utf8))
            try await c.clunk(y)
            #expect(HostXattr.get(s.dir.file("export/link"), "trusted.note", follow: false) == "hi")
            #expect(HostXattr.get(target, "trusted.note", follow: true) == nil)
            guard case .rxattrwalk(let r) = try await c.call(.txattrwalk(Txattrwalk(fid: 1, newfid: 3, name: "trusted.note"))) else {
                Issue.record("expected Rxattrwalk"); return
            }
            #expect(r.size == 2)
            #expect(try await c.read(3, count: 10) == Array("hi".utf8))
            try await c.clunk(3)
            #expect(try await xattrNames(c, 1).contains("trusted.note"))
        }
        // Times: the symlink's own (lstat), not its target's.
        _ = try await c.call(.tsetattr(Tsetattr(fid: 1, valid: [.atime, .atimeSet, .mtime, .mtimeSet],
                                                atimeSec: 1_000_000, mtimeSec: 2_000_000, mtimeNsec: 5)))
        let linkNow = try HostXattr.stat(s.dir.file("export/link"), follow: false)
        #expect(linkNow.mtime == 2_000_000 && linkNow.mtimeNsec == 5 && linkNow.atime == 1_000_000)
        #expect(try HostXattr.stat(target, follow: true).mtime == targetBefore.mtime)
        // Renamed on the host and another file put at its name: the old fid's xattrs are refused, not the
        // new file's read.
        try FileManager.default.moveItem(atPath: s.dir.file("export/link"), toPath: s.dir.file("export/link2"))
        try s.dir.write("export/link", "someone else")
        try HostXattr.set(s.dir.file("export/link"), "user.colour", "blue")
        #expect(try await c.expectError(.txattrwalk(Txattrwalk(fid: 1, newfid: 4, name: "user.colour"))) == .EOPNOTSUPP)
        #expect(try s.secretUnchanged())
        #expect(HostXattr.get(target, "user.colour", follow: true) == "red")
    }

    func xattrNames(_ c: NinePTestClient, _ fid: Fid) async throws -> [String] {
        let l = c.freshFid()
        guard case .rxattrwalk(let r) = try await c.call(.txattrwalk(Txattrwalk(fid: fid, newfid: l, name: ""))) else {
            throw ConformanceFailure("expected Rxattrwalk")
        }
        let bytes = r.size == 0 ? [] : try await c.read(l, count: UInt32(r.size))
        try await c.clunk(l)
        return bytes.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func hardLinkOfASymlinkLinksTheSymlink() async throws {
        let s = try Sandbox(); defer { s.dir.remove() }
        try s.symlink("link", to: s.secret)
        let c = try await s.client()
        _ = try await c.walk(0, 1, ["link"])
        if (try? await c.link(0, 1, "hard")) != nil {
            // Either refused, or the new name is a symlink too — never a hard link to the outside file.
            let dest = try FileManager.default.destinationOfSymbolicLink(atPath: s.dir.file("export/hard"))
            #expect(dest == s.secret)
        }
        let st = try FileManager.default.attributesOfItem(atPath: s.secret)
        #expect((st[.referenceCount] as? Int) == 1)
        #expect(try s.secretUnchanged())
    }

    @Test func renamesStayInside() async throws {
        let s = try Sandbox(); defer { s.dir.remove() }
        try s.dir.write("export/f", "mine")
        let c = try await s.client()
        #expect(try await c.expectError(.trenameat(Trenameat(olddirfid: 0, oldname: "f", newdirfid: 0, newname: "../outside/f"))) == .EINVAL)
        #expect(try await c.expectError(.trenameat(Trenameat(olddirfid: 0, oldname: "..", newdirfid: 0, newname: "g"))) == .EBUSY)   // rename(2) of ..
        _ = try await c.walk(0, 1, ["f"])
        #expect(try await c.expectError(.trename(Trename(fid: 1, dfid: 0, name: "../../escaped"))) == .EINVAL)
        #expect(try await c.expectError(.tunlinkat(Tunlinkat(dirfid: 0, name: "../outside/secret", flags: 0))) == .EINVAL)
        #expect(try await c.expectError(.tremove(Tremove(fid: 0))) == .EBUSY)
        #expect(s.dir.exists("export/f"))
        #expect(try s.secretUnchanged())
    }

    /// A directory replaced by a symlink between requests: new walks see the symlink (and stop), and a fid
    /// walked before the swap keeps referring to the original directory, which is still inside.
    @Test func symlinkSwappedInBetweenRequests() async throws {
        let s = try Sandbox(); defer { s.dir.remove() }
        try FileManager.default.createDirectory(atPath: s.dir.file("export/d"), withIntermediateDirectories: true)
        let c = try await s.client()
        _ = try await c.walk(0, 1, ["d"])
        try FileManager.default.moveItem(atPath: s.dir.file("export/d"), toPath: s.dir.file("export/d.old"))
        try s.symlink("d", to: s.dir.file("outside"))
        #expect(try await c.walk(0, 2, ["d", "secret"]).count == 1)
        _ = try await c.walk(0, 3, ["d"])
        #expect(try await c.expectError(.twalk(Twalk(fid: 3, newfid: 4, wnames: ["secret"]))) == .ENOTDIR)
        #expect(try await c.expectError(.tmkdir(Tmkdir(dfid: 0, name: "d", mode: 0o755, gid: 0))) == .EEXIST)
        let f = c.freshFid()
        _ = try await c.walk(1, f, [])
        try await c.lcreate(f, "secret", flags: .rdwr)
        try await c.write(f, Array("overwritten?".utf8))
        try await c.clunk(f)
        #expect(s.dir.exists("export/d.old/secret"))
        #expect(try s.secretUnchanged())
    }
}

/// The host's own xattr and stat calls on a path, for checking what the driver did (Glibc's Swift module
/// has no xattr calls; they are looked up by name).
enum HostXattr {
    typealias GetX = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeMutableRawPointer?, Int) -> Int
    typealias ListX = @convention(c) (UnsafePointer<CChar>, UnsafeMutablePointer<CChar>?, Int) -> Int
    typealias SetX = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeRawPointer?, Int, Int32) -> Int32
    static func symbol<T>(_ name: String) -> T { unsafeBitCast(dlsym(UnsafeMutableRawPointer(bitPattern: 0), name)!, to: T.self) }

    struct Failed: Error { let call: String; let errno: Int32 }

    static func set(_ path: String, _ name: String, _ value: String) throws {
        let f: SetX = symbol("setxattr")
        let v = Array(value.utf8)
        if v.withUnsafeBytes({ f(path, name, $0.baseAddress, v.count, 0) }) != 0 { throw Failed(call: "setxattr", errno: errno) }
    }
    static func get(_ path: String, _ name: String, follow: Bool) -> String? {
        let f: GetX = symbol(follow ? "getxattr" : "lgetxattr")
        var buf = [UInt8](repeating: 0, count: 256)
        let n = buf.withUnsafeMutableBytes { f(path, name, $0.baseAddress, 256) }
        return n < 0 ? nil : String(decoding: buf.prefix(n), as: UTF8.self)
    }
    /// A symlink's own names (llistxattr).
    static func list(_ path: String) -> [String] {
        let f: ListX = symbol("llistxattr")
        var buf = [CChar](repeating: 0, count: 4096)
        let n = f(path, &buf, 4096)
        return n <= 0 ? [] : buf.prefix(n).split(separator: 0).map { String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
    }
    static func stat(_ path: String, follow: Bool) throws -> (atime: Int, mtime: Int, mtimeNsec: Int) {
        var st = Glibc.stat()
        if fstatat(AT_FDCWD, path, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) != 0 { throw Failed(call: "stat", errno: errno) }
        return (st.st_atim.tv_sec, st.st_mtim.tv_sec, st.st_mtim.tv_nsec)
    }
}
