import Foundation
import Glibc
import NinePDrivers
import NinePServer
import NinePTestSupport
import NinePWire
import Testing

/// Rgetattr from the local driver against the host's own view of each object: every field lstat gives,
/// the birth time coreutils' `stat` reports (statx), and the same qid as the walk that reached it.
@Suite struct LocalAttributesTests {
    /// Host facts about `path`, not followed: lstat, and `stat -c %W/%.9W` for the birth time (0 = unknown).
    struct Host {
        let st: Glibc.stat
        let birth: (sec: UInt64, nsec: UInt64)?
        init(_ path: String) throws {
            var st = Glibc.stat()
            guard lstat(path, &st) == 0 else { throw HostXattr.Failed(call: "lstat", errno: errno) }
            self.st = st
            let out = try Peers.run("/usr/bin/stat", ["-c", "%.9W", path]).out
            let parts = out.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".")
            let sec = try #require(UInt64(parts[0])), nsec = try #require(UInt64(parts.count > 1 ? parts[1] : "0"))
            birth = sec == 0 && nsec == 0 ? nil : (sec, nsec)
        }
    }

    func expectSame(_ r: Rgetattr, _ h: Host, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let st = h.st
        #expect(r.mode == UInt32(st.st_mode), "\(what) mode", sourceLocation: sourceLocation)
        #expect(r.uid == st.st_uid && r.gid == st.st_gid, "\(what) owner", sourceLocation: sourceLocation)
        #expect(r.nlink == UInt64(st.st_nlink), "\(what) nlink", sourceLocation: sourceLocation)
        #expect(r.rdev == UInt64(st.st_rdev), "\(what) rdev", sourceLocation: sourceLocation)
        #expect(r.size == UInt64(st.st_size), "\(what) size", sourceLocation: sourceLocation)
        #expect(r.blocks == UInt64(st.st_blocks) && r.blksize == UInt64(st.st_blksize), "\(what) blocks", sourceLocation: sourceLocation)
        #expect(r.atimeSec == UInt64(st.st_atim.tv_sec) && r.atimeNsec == UInt64(st.st_atim.tv_nsec), "\(what) atime", sourceLocation: sourceLocation)
        #expect(r.mtimeSec == UInt64(st.st_mtim.tv_sec) && r.mtimeNsec == UInt64(st.st_mtim.tv_nsec), "\(what) mtime", sourceLocation: sourceLocation)
        #expect(r.ctimeSec == UInt64(st.st_ctim.tv_sec) && r.ctimeNsec == UInt64(st.st_ctim.tv_nsec), "\(what) ctime", sourceLocation: sourceLocation)
        #expect(r.valid.isSuperset(of: .basic), "\(what) valid", sourceLocation: sourceLocation)
        if let b = h.birth {
            #expect(r.valid.contains(.btime), "\(what): the host knows its birth time", sourceLocation: sourceLocation)
            #expect(r.btimeSec == b.sec && r.btimeNsec == b.nsec, "\(what) btime \(r.btimeSec).\(r.btimeNsec) against \(b)", sourceLocation: sourceLocation)
        } else {
            #expect(!r.valid.contains(.btime) && r.btimeSec == 0, "\(what): no birth time on the host", sourceLocation: sourceLocation)
        }
    }

    @Test func getattrIsTheHostsLstatAndBirthTime() async throws {
        let dir = try TempDirectory("attrs"); defer { dir.remove() }
        try dir.write("f", String(repeating: "x", count: 10_000))
        try FileManager.default.createDirectory(atPath: dir.file("d"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir.file("l"), withDestinationPath: "f")
        #expect(mkfifo(dir.file("p"), 0o640) == 0)
        var times = [timespec(tv_sec: 1_234_567, tv_nsec: 891_011_121), timespec(tv_sec: 2_345_678, tv_nsec: 123_456_789)]
        #expect(utimensat(AT_FDCWD, dir.file("f"), &times, 0) == 0)
        var names = ["f", "d", "l", "p"]
        if geteuid() == 0, mknod(dir.file("c"), S_IFCHR | 0o600, dev_t(DeviceNumber.make(major: 1, minor: 3))) == 0 {
            names.append("c")
        }
        let c = await NinePTestClient.connect(driver: try LocalDriver(root: dir.path))
        _ = try await c.version()
        let root = try await c.attach(0)
        expectSame(try await c.getattr(0), try Host(dir.path), "root")
        #expect(try await c.getattr(0).qid == root)
        var sawBirth = false
        var fids: [String: Fid] = [:]
        for name in names {
            let fid = c.freshFid()
            fids[name] = fid
            let walked = try #require(try await c.walk(0, fid, [name]).last)
            let r = try await c.getattr(fid)
            let host = try Host(dir.file(name))
            expectSame(r, host, name)
            #expect(r.qid == walked, "\(name): the walk's qid and getattr's")
            sawBirth = sawBirth || host.birth != nil
        }
        if let dev = fids["c"] { #expect(try await c.getattr(dev).rdev == UInt64(DeviceNumber.make(major: 1, minor: 3))) }
        // Through an open fid (the open file's descriptor) the same.
        let f = try await c.walkTo(0, "f")
        _ = try await c.lopen(f)
        expectSame(try await c.getattr(f), try Host(dir.file("f")), "open f")
        // This machine's file systems keep birth times (ext4 and tmpfs do); say so if one does not.
        if !sawBirth { print("note: \(dir.path) keeps no birth times; only their absence was checked") }
        await c.close()
    }
}
