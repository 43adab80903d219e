import Foundation
import Testing
import NinePTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The first use of ninescope: a guest's kernel mounting 9P over TCP through `ninescope proxy`. A Linux
/// guest (Debian's kernel under qemu, see `KernelGuest`) mounts with `trans=tcp,version=9p2000.L`
/// through the proxy, to diod and to `ninescope serve`, and works on the export: listing, reading a
/// multi-megabyte file, creating, writing, renaming, linking, chmod, removing, statfs, unmounting.
/// Checked: what the guest saw (file contents and digests), what reached the host's disk, the proxy's
/// live trace (the kernel's requests and no anomalies), and its capture decoded message by message
/// as tshark decodes it.
@Suite(.serialized) struct KernelClientTests {
    struct Run {
        let export: String
        let console: KernelGuest.Console
        let trace: [Substring]
        let stderr: String
        let capture: String
    }

    /// An export with hello.txt and a 3 MiB big.bin; the guest is booted against `upstream` through a
    /// proxy that captures.
    static func run(workload: KernelGuest.Workload = .files, proxyOptions: [String] = [], mountOptions: String? = nil,
                    connections: Int = 1, upstream: (String) throws -> (address: String, stop: () -> Void)) throws -> Run {
        let export = Peers.tempDir("guest-export")
        try "hello-from-host\n".write(toFile: export + "/hello.txt", atomically: true, encoding: .utf8)
        ProxyTool.makeFile(export + "/big.bin", size: 3 << 20, seed: 11)
        // Others may write (nobody creates a file there in the `users` workload).
        if workload == .users { chmod(export, 0o777) }
        let server = try upstream(export)
        defer { server.stop() }
        let capture = Peers.tempDir("guest-capture") + "/guest.pcapng"
        let proxy = try ProxyProcess(upstream: server.address, extra: ["--headless", "--capture", capture] + proxyOptions)
        guard let port = proxy.port else { throw ProxyHarnessError("the proxy has no TCP port: \(proxy.listenAddress)") }
        let console = try KernelGuest.boot(port: port, aname: export, workload: workload, mountOptions: mountOptions)
        #expect(proxy.waitForOutput { $0.components(separatedBy: " - close").count > connections },
                "the guest's connections did not close")
        let stop = proxy.stop()
        #expect(stop.exited && stop.status == 0, "proxy exit \(stop)")
        return Run(export: export, console: console, trace: proxy.stdoutLines, stderr: proxy.stderr, capture: capture)
    }

    /// diod exporting `export`, as `run`'s upstream.
    static func diod(_ export: String) throws -> (address: String, stop: () -> Void) {
        let diod = DiodOnPort(export: export)
        try diod.start()
        return (diod.address, { diod.kill() })
    }

    /// `ninescope serve --driver DRIVER` on a free port, as `run`'s upstream.
    static func serve(driver: String) throws -> (address: String, stop: () -> Void) {
        let server = try NinescopeProcess.start(["serve", "--listen", "127.0.0.1:0", "--driver", driver])
        return (server.address, { server.stop() })
    }

    /// `ninescope serve` exporting `export` with the local driver, as `run`'s upstream.
    static func serveLocal(_ export: String) throws -> (address: String, stop: () -> Void) {
        try serve(driver: "local:\(export)")
    }

    /// What every run must show, whichever server the proxy relays to. `expectedAnomaly`: a trace line of an
    /// anomaly the server is known to cause (nfs-ganesha's Rerror in 9P2000.L), left out of the check.
    static func checkCommon(_ r: Run, messagesAtLeast minimum: Int = 800,
                            expectedAnomaly: (Substring) -> Bool = { _ in false }) throws {
        let c = r.console
        #expect(!c.timedOut, "the guest did not power off in time")
        try #require(c.has("mounted"), "the guest could not mount: \(c.output("mount")) \(c.output("mount-failed"))\n\(c.text.suffix(3000))")
        #expect(c.has("unmounted"), "umount failed: \(c.text.suffix(2000))")
        #expect(c.has("end"))

        // What the guest saw.
        let listed = Set(c.output("ls").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        #expect(listed == ["big.bin", "hello.txt"], "ls: \(listed)")
        #expect(c.output("cat").first == "hello-from-host")
        let hostDigest = try ProxyTool.sha256(try Data(contentsOf: URL(fileURLWithPath: r.export + "/big.bin")))
        #expect(hostDigest.count == 64)
        #expect(c.output("sha").first?.hasPrefix(hostDigest + " ") == true, "guest sha256: \(c.output("sha")), host \(hostDigest)")
        #expect(c.output("readlink").first == "new.txt")
        #expect(c.output("stat").first == "600 17 2", "stat: \(c.output("stat"))")
        #expect(c.output("df").first?.contains("/mnt") == true, "df: \(c.output("df"))")

        // What reached the host's disk.
        let fm = FileManager.default
        #expect((try? String(contentsOfFile: r.export + "/new.txt", encoding: .utf8)) == "written-by-guest\n")
        #expect((try? String(contentsOfFile: r.export + "/hard", encoding: .utf8)) == "written-by-guest\n")
        #expect((try? fm.destinationOfSymbolicLink(atPath: r.export + "/link")) == "new.txt")
        let perms = (try? fm.attributesOfItem(atPath: r.export + "/new.txt"))?[.posixPermissions] as? Int
        #expect(perms == 0o600)
        var isDir: ObjCBool = false
        #expect(fm.fileExists(atPath: r.export + "/dir", isDirectory: &isDir) && isDir.boolValue)
        #expect(((try? fm.contentsOfDirectory(atPath: r.export + "/dir")) ?? ["?"]).isEmpty)

        // The live trace: one connection, the kernel's requests, no anomalies, a clean end.
        let lines = r.trace
        #expect(lines.filter { $0.contains(" + open client 127.0.0.1:") }.count == 1)
        #expect(lines.contains { $0.contains("→ Tversion tag NOTAG msize 131072 version '9P2000.L'") })
        for type in ["Tattach", "Twalk", "Tgetattr", "Tlopen", "Treaddir", "Tread", "Tlcreate", "Twrite", "Tmkdir",
                     "Tsymlink", "Tlink", "Treadlink", "Tsetattr", "Tstatfs", "Tclunk"] {
            #expect(lines.contains { $0.contains("→ \(type) tag ") }, "no \(type) in the trace")
            let reply = "R" + type.dropFirst()
            #expect(lines.contains { $0.contains("← \(reply) tag ") }, "no \(reply) in the trace")
        }
        let anomalies = lines.filter { $0.contains(" ! ") && !expectedAnomaly($0) }
        #expect(anomalies.isEmpty, "anomalies: \(anomalies.prefix(5))")
        #expect(lines.contains { $0.contains(" - close (eof)") })
        #expect(r.stderr.contains("proxy stopped; 1 connection (1 eof)"), "\(r.stderr)")

        // The capture, decoded, agrees with tshark message by message.
        try Self.expectDecodeAgreesWithTshark(r.capture, atLeast: minimum)
    }

    /// `ninescope decode` of a capture and tshark's 9P dissector see the same messages: as many, none
    /// malformed, each with the same value in every field tshark shows (`TsharkFields`, which names what
    /// tshark decodes otherwise than the protocol).
    static func expectDecodeAgreesWithTshark(_ capture: String, atLeast minimum: Int) throws {
        let (objects, result) = try ProxyTool.decodeJSON(capture)
        #expect(result.status == 0, "decode failed: \(result.err)")
        let ours = objects.filter { $0["event"] as? String == "message" }
        #expect(ours.count > minimum, "only \(ours.count) messages")
        #expect(!ours.contains { $0["malformed"] != nil }, "malformed messages in the capture")
        let theirs = try #require(try TsharkFields.shown(file: capture, port: 564), "tshark is not installed")
        let report = TsharkFields.compare(ours: ours, theirs: theirs)
        #expect(report.mismatches.isEmpty,
                "\(report.mismatches.count) messages differ from tshark's:\n\(report.mismatches.prefix(10).joined(separator: "\n"))")
    }

    /// nfs-ganesha's 9P server: the same workload and checks; its errors come as Rerror (errno[4] alone), which
    /// the kernel reads as it reads Rlerror, and which are the only anomalies.
    @Test(.enabled(if: Ganesha.canRun, "nfs-ganesha's FSAL VFS needs root"))
    func linuxGuestMountsGaneshaThroughTheProxy() throws {
        let r = try Self.run { export in
            if let why = Ganesha.unavailable { throw HarnessError(why) }
            guard let g = try Ganesha.start(export: export) else { throw HarnessError("ganesha.nfsd did not start") }
            return (g.address, { g.stop() })
        }
        try Self.checkCommon(r) { $0.contains(" ! type-not-in-dialect: Rerror is not a 9P2000.L message") }
        #expect(r.trace.contains { $0.contains("← Rerror tag ") && $0.contains(" errno 2 ENOENT") }, "no errno-only Rerror")
        #expect(!r.trace.contains { $0.contains("malformed") })
    }

    @Test func linuxGuestMountsDiodThroughTheProxy() throws {
        let r = try Self.run(upstream: Self.diod)
        try Self.checkCommon(r)
        #expect(r.trace.contains { $0.contains("→ Tattach tag 0 fid 0 afid NOFID uname 'nobody' aname '\(r.export)'") })
    }

    /// With the kernel's page cache (`cache=loose`) the guest keeps fids open for writing back and reads
    /// big.bin in its own readahead sizes: the same files, the same trace checks, no anomaly, in about a
    /// third of the messages (280 against over 800 without the cache, measured).
    @Test func linuxGuestWithThePageCacheMountsDiodThroughTheProxy() throws {
        let r = try Self.run(mountOptions: "cache=loose", upstream: Self.diod)
        #expect(r.console.text.contains("@@ mount 10.0.2.2:") && r.console.text.contains(" files cache=loose"),
                "the guest did not mount with cache=loose: \(r.console.text.prefix(2000))")
        try Self.checkCommon(r, messagesAtLeast: 150)
    }

    @Test func linuxGuestMountsOurServerThroughTheProxy() throws {
        let r = try Self.run(upstream: Self.serveLocal)
        try Self.checkCommon(r)
        // Our server implements the *at requests that the kernel tries first (diod answers EOPNOTSUPP and
        // the kernel falls back to Trename/Tremove).
        #expect(r.trace.contains { $0.contains("← Rrenameat tag ") }, "no Rrenameat")
        #expect(r.trace.contains { $0.contains("← Runlinkat tag ") }, "no Runlinkat")
        #expect(!r.trace.contains { $0.contains("EOPNOTSUPP") })
    }

    /// A process blocked in a write is killed: the kernel sends Tflush for the pending Twrite, our server
    /// cancels it (no Rwrite) and answers Rflush, and the tracker pairs the two; the mount goes on working.
    @Test func linuxGuestFlushesAnInterruptedWrite() throws {
        let r = try Self.run(workload: .flush) { _ in try Self.serve(driver: "synth") }
        let c = r.console
        #expect(!c.timedOut, "the guest did not power off in time")
        try #require(c.has("mounted"), "the guest could not mount: \(c.text.suffix(3000))")
        #expect(c.output("after").first?.trimmingCharacters(in: .whitespaces) == "100", "\(c.output("after"))")
        #expect(c.has("unmounted"))

        let lines = r.trace
        let write = try #require(lines.first { $0.contains("→ Twrite tag ") && $0.contains("count 1") },
                                 "no Twrite in the trace")
        let tag = try #require(Self.field(write, "tag"))
        let flush = try #require(lines.first { $0.contains("→ Tflush tag ") && $0.contains("oldtag \(tag)") },
                                 "no Tflush of tag \(tag)")
        let flushTag = try #require(Self.field(flush, "tag"))
        #expect(lines.contains { $0.contains("← Rflush tag \(flushTag) ") || $0.hasSuffix("← Rflush tag \(flushTag)") })
        #expect(!lines.contains { $0.contains("← Rwrite tag \(tag) ") }, "the flushed write was answered")
        let anomalies = lines.filter { $0.contains(" ! ") }
        #expect(anomalies.isEmpty, "anomalies: \(anomalies.prefix(5))")

        // Decoded from the capture: the Twrite's exchange is flushed by the Tflush's.
        let (objects, _) = try ProxyTool.decodeJSON(r.capture)
        let messages = objects.filter { $0["event"] as? String == "message" }
        let t = try #require(messages.first { $0["type"] as? String == "Twrite" && "\($0["tag"] ?? "")" == tag })
        let f = try #require(messages.first { $0["type"] as? String == "Tflush" })
        #expect((f["fields"] as? [String: Any])?["oldtag"] as? Int == Int(tag))
        #expect(t["exchange"] != nil && f["exchange"] != nil)
    }

    /// A mount with `access=user`: each user of the guest attaches on its own, with its uid as n_uname,
    /// and diod (as root) acts as that user. The trace shows root's and nobody's attaches and their fids;
    /// what nobody creates is nobody's on the host, root's file of mode 0600 is refused to nobody; no
    /// anomaly. The capture replays to a fresh export with every reply the same, so replay keeps each
    /// attach's user.
    @Test func linuxGuestsUsersEachAttachThroughTheProxy() throws {
        let r = try Self.run(workload: .users, upstream: Self.diod)
        let c = r.console
        #expect(!c.timedOut, "the guest did not power off in time")
        try #require(c.has("mounted"), "the guest could not mount: \(c.text.suffix(3000))")
        #expect(c.output("root") == ["0", "-rw------- 0"], "root: \(c.output("root"))")
        #expect(c.output("nobody") == ["65534", "hello-from-host", "65534"], "nobody: \(c.output("nobody"))")
        #expect(c.output("denied").first?.contains("Permission denied") == true, "denied: \(c.output("denied"))")
        #expect(c.output("owner").first == "by-root")
        #expect(c.has("unmounted"))

        // The host's disk: each file its writer's.
        let fm = FileManager.default
        let owner = { (name: String) in (try? fm.attributesOfItem(atPath: r.export + "/" + name))?[.ownerAccountID] as? Int }
        #expect(owner("nobody.txt") == 65534)
        #expect(owner("root.txt") == 0)
        #expect((try? String(contentsOfFile: r.export + "/nobody.txt", encoding: .utf8)) == "by-nobody\n")

        // The trace: the mount's attach, then one per user, each on a fid of its own; no anomaly.
        let attaches = r.trace.filter { $0.contains("→ Tattach tag ") }
        let forUser = { (uid: Int) in attaches.filter { $0.contains("n_uname \(uid) ") || $0.hasSuffix("n_uname \(uid)") } }
        #expect(!forUser(0).isEmpty && !forUser(65534).isEmpty, "attaches: \(attaches)")
        let fids = Set((forUser(0) + forUser(65534)).compactMap { Self.field($0, "fid") })
        #expect(fids.count == 2, "root's and nobody's attaches share a fid: \(attaches)")
        let anomalies = r.trace.filter { $0.contains(" ! ") }
        #expect(anomalies.isEmpty, "anomalies: \(anomalies.prefix(5))")
        try Self.expectDecodeAgreesWithTshark(r.capture, atLeast: 60)

        // The capture filtered by user: nobody's exchanges are those of fids from nobody's attach; of root's
        // file nobody walked to it and got its attributes, but never opened it (the kernel refused the read
        // itself, from the mode it was given).
        let nobody = try Peers.run(Peers.ninescope, ["decode", "--json", "--filter", "user:65534", r.capture])
        #expect(nobody.status == 0, "\(nobody.err)")
        let objects = nobody.out.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let messages = objects.filter { $0["event"] as? String == "message" }
        #expect(messages.count > 10, "\(messages.count) of nobody's messages")
        let requests = messages.filter { ($0["type"] as? String)?.hasPrefix("T") == true }
        #expect(requests.allSatisfy { $0["user"] as? String == "65534" }, "\(requests.prefix(3))")
        #expect(requests.contains { ($0["path"] as? String)?.hasSuffix(":/nobody.txt") == true })
        let onRoots = try Peers.run(Peers.ninescope, ["decode", "--filter", "user:65534 and path:/root.txt", r.capture])
        let sent = onRoots.out.split(separator: "\n").filter { $0.contains(" → ") }
        #expect(sent.contains { $0.contains("Tgetattr") } && !sent.contains { $0.contains("Tlopen") }, "\(sent)")
        let roots = try Peers.run(Peers.ninescope, ["decode", "--filter", "user:0 and Tlcreate", r.capture])
        #expect(roots.out.contains("root.txt") && !roots.out.contains("nobody.txt"), "\(roots.out)")

        // Replayed to a fresh export (as open to others as the first): every reply the same.
        let fresh = Peers.tempDir("guest-users-replay") + "/export"
        try fm.createDirectory(atPath: fresh, withIntermediateDirectories: true)
        chmod(fresh, 0o777)
        try "hello-from-host\n".write(toFile: fresh + "/hello.txt", atomically: true, encoding: .utf8)
        ProxyTool.makeFile(fresh + "/big.bin", size: 3 << 20, seed: 11)
        let diod = DiodOnPort(export: fresh)
        try diod.start()
        defer { diod.kill() }
        let replay = try Peers.run(Peers.ninescope, ["replay", r.capture, "--to", diod.address, "--aname", fresh, "--diff"],
                                   timeout: 120)
        let summary = replay.out.split(separator: "\n").last { $0.hasPrefix("replayed ") } ?? ""
        #expect(replay.status == 0, "exit \(replay.status): \(replay.out.suffix(1500))\(replay.err.suffix(500))")
        #expect(summary.hasSuffix(" compared, 0 differ"), "\(summary)")
        #expect((try? fm.attributesOfItem(atPath: fresh + "/nobody.txt"))?[.ownerAccountID] as? Int == 65534)
    }

    /// The first two uses together, at the scale of a real session: a Linux guest copies, writes in parallel,
    /// archives and removes through the proxy to diod (~60,000 messages, several requests at once), and the
    /// capture of it replays to a second diod exporting a fresh copy elsewhere with every reply the same.
    @Test func aLinuxGuestsBusySessionReplaysToAFreshExport() throws {
        let r = try Self.run(workload: .stress, upstream: Self.diod)
        try Self.checkBusySession(r)

        // The capture replayed: a fresh export like the first, at another path, behind a diod of its own.
        let fresh = try Self.freshExport()
        let diod = DiodOnPort(export: fresh)
        try diod.start()
        defer { diod.kill() }
        try Self.replayWithoutDifferences(r.capture, to: diod.address, aname: fresh)
    }

    /// The same busy session with `ninescope serve --driver local` as the server, where a Tread or Twrite of a
    /// regular file is answered at once from the frame as it arrived: the parallel writers' checksums, the
    /// copies and the archive come out right, a symlink's xattrs answer as diod's (ENODATA, never
    /// EOPNOTSUPP), and the capture replays to a second server on a fresh export with every reply the same.
    @Test func aLinuxGuestsBusySessionOnOurServerReplaysToAFreshOne() throws {
        let r = try Self.run(workload: .stress, upstream: Self.serveLocal)
        try Self.checkBusySession(r)
        #expect(!r.trace.contains { $0.contains("EOPNOTSUPP") }, "\(r.trace.filter { $0.contains("EOPNOTSUPP") }.prefix(3))")
        #expect(r.trace.contains { $0.contains("← Rlerror") && $0.contains("ENODATA") }, "no symlink xattr answered ENODATA")

        let fresh = try Self.freshExport()
        let server = try Self.serveLocal(fresh)
        defer { server.stop() }
        try Self.replayWithoutDifferences(r.capture, to: server.address, aname: fresh)
    }

    /// What the stress workload must show on the guest's console and in the trace, whichever the server.
    static func checkBusySession(_ r: Run) throws {
        let c = r.console
        #expect(!c.timedOut, "the guest did not power off in time")
        try #require(c.has("mounted"), "the guest could not mount: \(c.text.suffix(3000))")
        let copied = c.output("copied").first ?? ""
        let counts = copied.components(separatedBy: " of ").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        #expect(counts.count == 2 && counts[0] == counts[1] && counts[0] > 100, "copied: \(copied)")
        #expect(c.output("parallel").filter { $0.hasSuffix(": OK") }.count == 4, "\(c.output("parallel"))")
        #expect(c.output("untar").first.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } == counts.first)
        #expect(c.output("trunc").first == "1000")
        #expect(c.output("rename").first?.contains("m1 m2 m3 m4") == true, "\(c.output("rename"))")
        #expect(c.output("rm").first?.trimmingCharacters(in: .whitespaces) == "big.bin hello.txt", "\(c.output("rm"))")
        #expect(c.has("unmounted"))
        let lines = r.trace
        #expect(!lines.contains { $0.contains(" ! ") }, "anomalies: \(lines.filter { $0.contains(" ! ") }.prefix(5))")
        #expect(lines.count > 20_000, "only \(lines.count) lines")
    }

    /// An export like `run`'s, at another path.
    static func freshExport() throws -> String {
        let fresh = Peers.tempDir("guest-replay") + "/export"
        try FileManager.default.createDirectory(atPath: fresh, withIntermediateDirectories: true)
        try "hello-from-host\n".write(toFile: fresh + "/hello.txt", atomically: true, encoding: .utf8)
        ProxyTool.makeFile(fresh + "/big.bin", size: 3 << 20, seed: 11)
        return fresh
    }

    /// `ninescope replay CAPTURE --to ADDRESS --diff`: every request answered and compared, none different.
    static func replayWithoutDifferences(_ capture: String, to address: String, aname: String) throws {
        // Files made by writers running at once may be listed in another order.
        let replay = try Peers.run(Peers.ninescope, ["replay", capture, "--to", address, "--aname", aname, "--diff",
                                                     "--ignore", "default,dirent.order"], timeout: 300)
        let summary = replay.out.split(separator: "\n").last { $0.hasPrefix("replayed ") } ?? ""
        #expect(replay.status == 0, "exit \(replay.status): \(replay.out.suffix(1500))\(replay.err.suffix(500))")
        #expect(summary.hasSuffix(" compared, 0 differ"), "\(summary)")
        let numbers = summary.split(separator: " ").compactMap { Int($0) }
        #expect(numbers.count >= 3 && numbers[0] == numbers[1] && numbers[0] > 10_000, "\(summary)")
    }

    /// The kernel's client in each dialect, mounting `ninescope serve` through the proxy: every error reaches
    /// the program as its errno. In 9P2000 the Rerror's text is all the client gets, and it knows only the C
    /// library's texts (and Plan 9's), letter for letter; any other text was "Unknown error 526".
    @Test func linuxGuestGetsEachErrorInEveryDialect() throws {
        let r = try Self.run(workload: .dialects, upstream: Self.serveLocal)
        let c = r.console
        #expect(!c.timedOut, "the guest did not power off in time")
        #expect(!c.text.contains("Unknown error"), "\(c.text.suffix(3000))")
        for v in ["9p2000", "9p2000.u", "9p2000.L"] {
            try #require(c.has("\(v):mounted"), "\(v) did not mount: \(c.text.suffix(3000))")
            func said(_ step: String) -> String { c.output("\(v):\(step)").joined(separator: " | ") }
            #expect(said("enoent").hasSuffix("No such file or directory"), "\(v): \(said("enoent"))")
            #expect(said("mkdir") == "made", "\(v): \(said("mkdir"))")
            #expect(said("eexist").hasSuffix("File exists"), "\(v): \(said("eexist"))")
            #expect(said("enotempty").hasSuffix("Directory not empty"), "\(v): \(said("enotempty"))")
            #expect(said("enotdir").hasSuffix("Not a directory"), "\(v): \(said("enotdir"))")
            #expect(said("cat") == "in-\(v)")
            // Linux renames in 9P2000 and 9P2000.u with a Twstat whose muid is the mount's uname.
            #expect(said("mv") == "in-\(v)", "\(v): \(said("mv"))")
            #expect(Set(c.output("\(v):ls").filter { !$0.isEmpty }) == ["big.bin", "hello.txt"], "\(v): \(said("ls"))")
            #expect(c.has("\(v):unmounted"))
        }
        let lines = r.trace
        for version in ["9P2000", "9P2000.u", "9P2000.L"] {
            #expect(lines.contains { $0.contains("← Rversion tag NOTAG msize 65536 version '\(version)'") }, "\(version)")
        }
        #expect(lines.contains { $0.contains("← Rerror tag ") && $0.contains("ename 'No such file or directory'") })
        #expect(lines.contains { $0.contains("← Rlerror tag ") && $0.contains("ENOTEMPTY") })
        let anomalies = lines.filter { $0.contains(" ! ") }
        #expect(anomalies.isEmpty, "anomalies: \(anomalies.prefix(5))")
        #expect(lines.filter { $0.contains(" - close (eof)") }.count == 3)
        // tshark, which learns each connection's dialect from its Tversion as we do, reads the same messages
        // in the capture of all three (9P2000's Rerror and 9P2000.u's longer Rstat and Tcreate among them).
        try Self.expectDecodeAgreesWithTshark(r.capture, atLeast: 100)
    }

    /// `proxy --fault` in front of diod, with a real kernel as the client: the errors the proxy makes are
    /// what the guest's programs get, held-back reads still give the file, and a write the proxy hangs is
    /// flushed by the kernel when its process is killed — with the server never seeing what the proxy kept
    /// from it.
    @Test func linuxGuestMeetsTheProxysFaultsInFrontOfDiod() throws {
        let r = try Self.run(workload: .faults, proxyOptions: ["--fault", "error=Tmkdir:ENOSPC,delay=Tread:300ms,hang=Twrite"],
                             upstream: Self.diod)
        let c = r.console
        #expect(!c.timedOut, "the guest did not power off in time")
        try #require(c.has("mounted"), "the guest could not mount: \(c.text.suffix(3000))")
        #expect(c.output("mkdir").joined().hasSuffix("No space left on device"), "\(c.output("mkdir"))")
        #expect(c.output("cat").first == "hello-from-host")
        #expect(c.has("killed"))
        let after = c.output("after").first?.split(separator: " ").map(String.init) ?? []
        #expect(after == ["big.bin", "hello.txt", "hung.txt"], "\(after)")
        #expect(c.has("unmounted"))
        // The server never got the mkdir nor the write.
        #expect(!FileManager.default.fileExists(atPath: r.export + "/made"))
        let hung = try FileManager.default.attributesOfItem(atPath: r.export + "/hung.txt")
        #expect((hung[.size] as? Int) == 0)

        let lines = r.trace
        let mkdir = lines.filter { $0.contains("→ Tmkdir ") }
        #expect(!mkdir.isEmpty && mkdir.allSatisfy { $0.hasSuffix("<dropped>") }, "\(mkdir)")
        #expect(lines.contains { $0.contains("← Rlerror ") && $0.contains("ENOSPC") && $0.hasSuffix("<injected>") })
        let reads = lines.filter { $0.contains("← Rread ") }
        #expect(!reads.isEmpty && reads.allSatisfy { $0.hasSuffix("<delayed>") }, "\(reads)")
        let write = try #require(lines.first { $0.contains("→ Twrite tag ") }, "no Twrite in the trace")
        #expect(write.hasSuffix("<dropped>"))
        let tag = try #require(Self.field(write, "tag"))
        let flush = try #require(lines.first { $0.contains("→ Tflush tag ") && $0.contains("oldtag \(tag)") },
                                 "the kernel did not flush the hung write")
        let flushTag = try #require(Self.field(flush, "tag"))
        #expect(lines.contains { $0.contains("← Rflush tag \(flushTag)") })
        #expect(!lines.contains { $0.contains("← Rwrite tag \(tag) ") })
        let anomalies = lines.filter { $0.contains(" ! ") }
        #expect(anomalies.isEmpty, "anomalies: \(anomalies.prefix(5))")
        #expect(r.stderr.contains("faults: error=Tmkdir:ENOSPC,delay=Tread:300ms,hang=Twrite"), "\(r.stderr)")
    }

    /// The value after `name ` in a trace line.
    static func field(_ line: Substring, _ name: String) -> String? {
        let words = line.split(separator: " ")
        guard let i = words.firstIndex(of: Substring(name)), i + 1 < words.count else { return nil }
        return String(words[i + 1])
    }
}
