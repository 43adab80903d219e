import Foundation
import Testing
import NinePTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The calls the other guest workloads leave out (`KernelGuest.Workload.calls`), made by the Linux guest's
/// programs through the proxy: locks that another process waits for, xattrs, mmap, fsync, O_DIRECT, a file
/// used after its unlink, a directory of more than one Rreaddir, a walk split at 16 names, long and UTF-8
/// names, special files, times, truncation, links and renames across directories.
extension KernelClientTests {
    /// Through the proxy to `ninescope serve --driver local`. Where diod differs (see the diod test), ours
    /// answers as a local Linux file system: F_GETLK finds the other mount's lock (the kernel asks it as
    /// Tgetlock type UNLCK, which diod answered EINVAL, and so did ours), O_DIRECT works, and an unlinked
    /// file's fstat gives its size and no link. The capture replays to a fresh export with no difference.
    @Test func linuxGuestsOtherCallsOnOurServerThroughTheProxy() throws {
        let r = try Self.run(workload: .calls, connections: 2, upstream: Self.serveLocal)
        try Self.checkCalls(r)
        let c = r.console
        #expect(c.output("locks").contains("getlk: write-locked"), "\(c.output("locks"))")
        #expect(c.output("direct") == ["pwrite: 8192", "pread: 8192 same"], "\(c.output("direct"))")
        #expect(c.output("unlinked").contains("fstat: size 11 links 0"), "\(c.output("unlinked"))")
        let getlock = try #require(r.trace.first { $0.contains("→ Tgetlock tag ") }, "no Tgetlock")
        #expect(getlock.contains(" type 2 UNLCK "), "\(getlock)")
        #expect(r.trace.contains { $0.contains("← Rgetlock tag ") && $0.contains(" type 1 WRLCK ") },
                "\(r.trace.filter { $0.contains("getlock") })")

        // Replayed to a second server on a fresh export: every reply the same (the file used after its unlink
        // frees its inode number at its clunk, for ext4 to give to a later file).
        let fresh = try Self.freshExport()
        let server = try Self.serveLocal(fresh)
        defer { server.stop() }
        try Self.replayWithoutDifferences(r.capture, to: server.address, aname: fresh)
    }

    /// Through the proxy to diod: the same, but for three answers where diod is the odd one (noted, not
    /// ours to fix): F_GETLK is EINVAL (diod refuses the kernel's Tgetlock of type UNLCK), an O_DIRECT open
    /// is EINVAL (diod refuses the flag), and fstat of an unlinked open file is ENOENT (diod answers
    /// Tgetattr from the file's name).
    @Test func linuxGuestsOtherCallsOnDiodThroughTheProxy() throws {
        let r = try Self.run(workload: .calls, connections: 2, upstream: Self.diod)
        try Self.checkCalls(r)
    }

    /// What the `calls` workload must show, whichever the server.
    static func checkCalls(_ r: Run) throws {
        let c = r.console
        #expect(!c.timedOut, "the guest did not power off in time")
        try #require(c.has("mounted"), "the guest could not mount: \(c.text.suffix(3000))")
        try #require(c.has("second"), "the second mount failed: \(c.text.suffix(3000))")
        func out(_ step: String) -> [String] { c.output(step).map { $0.trimmingCharacters(in: .whitespaces) } }

        // What the guest's programs got.
        let locks = out("locks")
        for line in ["setlk: ok", "other setlk: Resource temporarily unavailable", "unlock: ok", "other setlkw: ok",
                     "flock: ok", "other flock nb: Resource temporarily unavailable", "funlock: ok", "other flock: ok"] {
            #expect(locks.contains(line), "locks: no '\(line)' in \(locks)")
        }
        #expect(out("xattr") == ["set: ok", "get: value-1", "create again: File exists", "replace: ok", "get: value-2",
                                 "list: user.ninescope", "remove: ok", "get: No data available",
                                 "remove again: No data available"], "xattr: \(out("xattr"))")
        #expect(out("mmap") == ["ftruncate: ok", "msync: ok", "munmap: ok"], "mmap: \(out("mmap"))")
        #expect(out("mapped") == ["mapped-head", "mapped-tail"], "mapped: \(out("mapped"))")
        #expect(out("fsync") == ["write: ok", "fsync: ok", "write: ok", "fdatasync: ok", "synced-1", "synced-2"])
        let unlinked = out("unlinked")
        #expect(unlinked.prefix(3) == ["unlink: ok", "write: ok", "read: still-here"], "unlinked: \(unlinked)")
        #expect(unlinked.last == "ls: /mnt/gone: No such file or directory", "unlinked: \(unlinked)")
        #expect(out("bigdir") == ["600", "600"], "bigdir: \(out("bigdir"))")
        // rm -r reads the directory while it unlinks: no entry may be skipped for the offsets moving.
        #expect(out("rmbig") == ["0"], "rmbig: \(out("rmbig"))")
        #expect(out("deep") == ["deep", "f"], "deep: \(out("deep"))")
        #expect(out("long") == ["long", "1"], "long: \(out("long"))")
        #expect(out("toolong").joined().hasSuffix("File name too long"), "toolong: \(out("toolong"))")
        #expect(out("utf8") == ["/mnt/ünï-名前-🙂", "utf"], "utf8: \(out("utf8"))")
        #expect(out("special") == ["fifo 0,0", "character special file 1,3"], "special: \(out("special"))")
        #expect(out("times") == ["981173106"], "times: \(out("times"))")
        #expect(out("truncate") == ["abc", "100000", "00 00 00 00 00"], "truncate: \(out("truncate"))")
        #expect(out("links") == ["2", "linked"], "links: \(out("links"))")
        #expect(out("rename") == ["linked", "2", "in-sub", "0"], "rename: \(out("rename"))")
        #expect(out("df").first?.hasSuffix("/mnt") == true, "df: \(out("df"))")
        #expect(c.has("unmounted-second") && c.has("unmounted") && c.has("end"), "\(c.text.suffix(2000))")

        // What reached the host's disk.
        let e = r.export
        let mapped = try Data(contentsOf: URL(fileURLWithPath: e + "/mapped"))
        #expect(mapped.count == 8192 && mapped.prefix(11) == Data("mapped-head".utf8)
                && mapped[5000..<5011] == Data("mapped-tail".utf8), "mapped: \(mapped.count) bytes")
        let t = try Data(contentsOf: URL(fileURLWithPath: e + "/t"))
        #expect(t.count == 100_000 && t.prefix(3) == Data("abc".utf8) && t.dropFirst(3).allSatisfy { $0 == 0 })
        #expect(!FileManager.default.fileExists(atPath: e + "/many"))
        #expect(FileManager.default.fileExists(atPath: e + "/" + String(repeating: "a", count: 255)))
        #expect((try? String(contentsOfFile: e + "/ünï-名前-🙂", encoding: .utf8)) == "utf\n")
        var st = stat()
        #expect(lstat(e + "/fifo", &st) == 0 && st.st_mode & S_IFMT == S_IFIFO)
        #expect(lstat(e + "/null", &st) == 0 && st.st_mode & S_IFMT == S_IFCHR && st.st_rdev == 1 << 8 | 3)  // makedev(1, 3)
        #expect(lstat(e + "/hello.txt", &st) == 0 && st.st_mtim.tv_sec == 981_173_106)
        var over = stat(), g = stat()
        #expect(lstat(e + "/b/over", &over) == 0 && lstat(e + "/b/g", &g) == 0 && over.st_ino == g.st_ino && g.st_nlink == 2)
        #expect(!FileManager.default.fileExists(atPath: e + "/a/f") && !FileManager.default.fileExists(atPath: e + "/gone"))
        #expect((try? String(contentsOfFile: e + "/b/sub/x", encoding: .utf8)) == "in-sub\n")

        // The trace: the requests each call made, both connections, no anomaly.
        let lines = r.trace
        for type in ["Tlock", "Tgetlock", "Txattrwalk", "Txattrcreate", "Tfsync", "Tmknod", "Treaddir", "Tstatfs", "Tlink"] {
            #expect(lines.contains { $0.contains("→ \(type) tag ") }, "no \(type) in the trace")
        }
        #expect(lines.contains { $0.contains("← Rlock tag ") && $0.contains("BLOCKED") }, "no lock was refused")
        #expect(lines.contains { $0.contains("→ Tlock tag ") && $0.contains("flags 0x1 BLOCK ") }, "no blocking Tlock")
        #expect(lines.contains { $0.contains("→ Tfsync tag ") && $0.hasSuffix("datasync 0  [\(e):/synced]") })
        #expect(lines.contains { $0.contains("→ Tfsync tag ") && $0.hasSuffix("datasync 1  [\(e):/synced]") })
        // The big directory took more than one Rreaddir, the second from the first's last offset.
        let listing = lines.filter { $0.contains("← Rreaddir tag ") && $0.hasSuffix("[\(e):/many]") && !$0.contains(" count 0 ") }
        #expect(listing.count >= 2, "\(listing.count) Rreaddirs with entries for /many")
        // nobody's first walk from its own attach to the deep directory: 16 names, then the other 4.
        let deep = (1...20).map { String(format: "/d%02d", $0) }.joined()
        let sixteen = try #require(lines.first { $0.contains("→ Twalk tag ") && $0.contains(" nwname 16 0:d01 ") },
                                   "no walk of 16 names")
        #expect(sixteen.hasSuffix("[\(e):/]"))
        #expect(lines.contains { $0.contains("← Rwalk tag ") && $0.contains(" nwqid 4 ") && $0.hasSuffix("[\(e):\(deep)]") },
                "no walk of the last 4 names to \(deep)")
        #expect(lines.contains { $0.contains("→ Tattach tag ") && $0.contains("n_uname 65534") })
        #expect(lines.contains { $0.contains("→ Tlcreate tag ") && $0.contains("name 'ünï-名前-🙂'") })
        let anomalies = lines.filter { $0.contains(" ! ") }
        #expect(anomalies.isEmpty, "anomalies: \(anomalies.prefix(5))")
        #expect(lines.filter { $0.contains(" - close (eof)") }.count == 2)
        #expect(r.stderr.contains("proxy stopped; 2 connections (2 eof)"), "\(r.stderr)")

        // The capture, decoded, agrees with tshark message by message.
        try Self.expectDecodeAgreesWithTshark(r.capture, atLeast: 20_000)
    }
}
