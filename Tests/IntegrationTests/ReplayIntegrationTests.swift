import Foundation
import NinePTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `ninescope replay` of captures made here: REPL sessions recorded by `ninescope proxy --capture` in front of
/// `ninescope serve`, replayed to a fresh server over real loopback sockets.
@Suite(.serialized) struct ReplayIntegrationTests {
    static func memoryServer(_ extra: [String] = []) throws -> NinescopeProcess {
        try NinescopeProcess.start(["serve", "--listen", "127.0.0.1:0", "--driver", "memory"] + extra)
    }

    /// `replay --diff` of `capture` to the local driver over a fresh copy of the memory driver's tree (ext4 here,
    /// which gives a removed file's inode number to the next file made).
    static func replayToTheLocalDriver(_ capture: String) throws -> Peers.Result {
        let local = try NinescopeProcess.start(["serve", "--listen", "127.0.0.1:0", "--driver",
                                                "local:" + ReplIntegrationTests.memoryTreeExport()])
        defer { local.stop() }
        return try Peers.run(Peers.ninescope, ["replay", capture, "--to", local.address, "--diff"])
    }

    /// Records `sessions` (each one connection's REPL lines, piped: each runs as it arrives) through a proxy
    /// in front of `upstream`, and returns the capture's path.
    static func capture(_ name: String, upstream: String, _ sessions: [[String]]) throws -> String {
        let capture = Peers.tempDir(name) + "/capture.pcapng"
        let proxy = try ProxyProcess(upstream: upstream, extra: ["--headless", "--capture", capture])
        for lines in sessions {
            let r = try Peers.run(Peers.ninescope, ["repl", proxy.listenAddress, "--no-history", "--timeout", "20"],
                                  stdin: Data((lines.joined(separator: "\n") + "\n").utf8))
            #expect(r.status == 0 && !r.timedOut, "\(lines): exit \(r.status)\n\(r.out.suffix(2000))\n\(r.err)")
        }
        let stopped = proxy.stop()
        #expect(stopped.exited && stopped.status == 0, "\(proxy.stderr)")
        return capture
    }

    /// A Tflush of a tag with nothing pending (errors.9p's `flush 77`) on the second of two connections: the
    /// replay sends it where the capture has it, after that connection's Tversion and Tattach. Before, it waited
    /// for nothing and went out first of all, before its connection's Tversion (which waited for the first
    /// connection), and the memory server answered `Rerror 'Protocol error'`: a difference of the replay's own.
    @Test func aFlushOfNothingPendingIsSentInItsPlace() throws {
        let server = try Self.memoryServer()
        defer { server.stop() }
        let capture = try Self.capture("replay-flush-nothing", upstream: server.address, [
            ["version", "attach 0 nobody", "walk 0 1 etc motd", "clunk 1"],
            ["version", "attach 0 nobody", "flush 77", "expect Rflush", "clunk 0"],
        ])
        let fresh = try Self.memoryServer()
        defer { fresh.stop() }
        let r = try Peers.run(Peers.ninescope, ["replay", capture, "--to", fresh.address, "--diff", "--verbose"])
        #expect(r.status == 0, "exit \(r.status)\n\(r.out)\n\(r.err)")
        #expect(r.out.contains("replayed 8 of 8 requests, 8 answered, 8 compared, 0 differ"), "\(r.out)\n\(r.err)")
        let lines = r.out.split(separator: "\n").map(String.init)
        let flush = try #require(lines.firstIndex { $0.hasPrefix("-> [1] Tflush") }, "\(r.out)")
        let attached = try #require(lines.firstIndex { $0.hasPrefix("<- [1] Rattach") }, "\(r.out)")
        #expect(attached < flush, "\(r.out)")
        #expect(!r.out.contains("Rerror"), "\(r.out)")
    }

    /// A Tflush whose target this server answered sooner than the capture's did, so that the target's tag went
    /// to another request before the Tflush's time came (`--timing original`): the Tflush names a tag nothing is
    /// in flight under, and flushes nothing, as in the capture. Before, it named the target's tag, and so
    /// flushed the request that had taken it: that one never got its reply and the replay waited out its
    /// idle timeout ("nothing arrived for 5000 ms; 1 request unanswered").
    @Test func aFlushWhoseTargetWasAnsweredFlushesNothingElse() throws {
        // The capture's server holds reads back; the replay's holds getattrs back instead.
        let slowReads = try Self.memoryServer(["--fault", "delay=Tread:2s"])
        defer { slowReads.stop() }
        let capture = Peers.tempDir("replay-flush-answered") + "/capture.pcapng"
        let proxy = try ProxyProcess(upstream: slowReads.address, extra: ["--headless", "--capture", capture])
        // The read (tag 10) is pending when the Tflush for it goes; the getattr between them is answered at once.
        // The getattr comes 0.5 s after the read, so that the replayed read (answered at once) is answered by then
        // even on a busy machine (at 0.1 s, under a load of 8 on 2 CPUs, it once was not).
        let script = """
            printf 'version\nattach 0 nobody\nwalk 0 1 etc motd\nlopen 1 rdonly\nwalk 0 2 etc hosts\nread 1 0 10 tag=10 &\n'
            sleep 0.5; printf 'getattr 2 tag=11 &\n'; sleep 0.2; printf 'flush 10\nexpect Rflush\n'
            sleep 0.3; printf 'clunk 2\nclunk 1\n'
            """
        let session = try Peers.run("/bin/sh", ["-c", "(\(script)) | \"$0\" repl \"$1\" --no-history --timeout 20",
                                                Peers.ninescope, proxy.listenAddress])
        #expect(session.status == 0, "exit \(session.status)\n\(session.out)\n\(session.err)")
        proxy.stop()
        let decoded = try Peers.run(Peers.ninescope, ["decode", capture])
        let lines = decoded.out.split(separator: "\n")
        let flush = try #require(lines.firstIndex { $0.contains("→ Tflush tag 0 oldtag 10") }, "\(decoded.out)")
        #expect(lines.firstIndex { $0.contains("← Rgetattr tag 11") }.map { $0 < flush } == true, "\(decoded.out)")
        #expect(!decoded.out.contains("← Rread tag 10"), "\(decoded.out)")

        let slowGetattrs = try Self.memoryServer(["--fault", "delay=Tgetattr:2s"])
        defer { slowGetattrs.stop() }
        let r = try Peers.run(Peers.ninescope, ["replay", capture, "--to", slowGetattrs.address, "--diff",
                                                "--timing", "original", "--timeout", "5", "--verbose"])
        #expect(r.status == 0, "exit \(r.status)\n\(r.out)\n\(r.err)")
        #expect(r.out.contains("replayed 10 of 10 requests, 10 answered, 9 compared, 0 differ"), "\(r.out)\n\(r.err)")
        #expect(!r.out.contains("problem:"), "\(r.out)")
        // The getattr went out under the read's tag (answered by then), and the Tflush names another.
        let sent = r.out.split(separator: "\n").filter { $0.hasPrefix("-> [0] ") }
        let getattr = try #require(sent.first { $0.contains("Tgetattr") }, "\(r.out)")
        let read = try #require(sent.first { $0.contains("Tread") }, "\(r.out)")
        let tflush = try #require(sent.first { $0.contains("Tflush") }, "\(r.out)")
        let tagOf = { (line: Substring) in line.split(separator: " ")[4] }
        #expect(tagOf(getattr) == tagOf(read), "\(r.out)")
        #expect(!tflush.hasSuffix("oldtag \(tagOf(getattr))"), "\(r.out)")
    }

    /// A session that removes a file and then makes a directory, captured from the memory driver (which never
    /// gives a qid path twice) and replayed to the local driver over ext4 (which gives the directory the removed
    /// file's inode number): the directory's qid path is paired anew, not reported. Before, the mkdir, the walk
    /// to it and its getattr each differed: `replayed 0xfc02cd was already the reply for captured 0x12`.
    @Test func aQidPathFreedByARemovalIsNoDifference() throws {
        let server = try Self.memoryServer()
        defer { server.stop() }
        let capture = try Self.capture("replay-qid-reuse", upstream: server.address, [
            ["version", "attach 0 nobody", "walk 0 1 tmp", "walk 1 2", "lcreate 2 f1 rdwr|create 0644", "clunk 2",
             "walk 1 2 f1", "getattr 2", "remove 2", "mkdir 1 d1 0755", "walk 1 3 d1", "getattr 3", "remove 3", "clunk 1"],
        ])
        let r = try Self.replayToTheLocalDriver(capture)
        #expect(r.status == 0, "exit \(r.status)\n\(r.out)\n\(r.err)")
        #expect(r.out.contains("replayed 14 of 14 requests, 14 answered, 14 compared, 0 differ"), "\(r.out)\n\(r.err)")
    }

    /// A file unlinked while open lives on until its fid is clunked, and its qid path is seen after the
    /// removal (a Linux guest's fstat of an unlinked file); the clunk frees it, and the local driver over ext4
    /// gives the inode number to the next file made. Captured from the memory driver (which never gives a path
    /// twice) and replayed to the local driver: no difference. Before, the new file's create, walk and getattr
    /// each differed (`replayed 0xf8a572 was already the reply for captured 0x…`), as they did replaying a
    /// guest's session to a fresh export.
    @Test func aQidPathFreedByTheClunkOfAnUnlinkedOpenFileIsNoDifference() throws {
        let server = try Self.memoryServer()
        defer { server.stop() }
        let capture = try Self.capture("replay-unlinked-open", upstream: server.address, [
            ["version", "attach 0 nobody", "walk 0 1 tmp", "walk 1 2", "lcreate 2 f1 rdwr|create 0644",
             "unlinkat 1 f1 0", "getattr 2", "clunk 2",
             "walk 1 3", "lcreate 3 f2 rdwr|create 0644", "walk 1 4 f2", "getattr 4", "clunk 4", "clunk 3",
             "unlinkat 1 f2 0", "clunk 1"],
        ])
        let r = try Self.replayToTheLocalDriver(capture)
        #expect(r.status == 0, "exit \(r.status)\n\(r.out)\n\(r.err)")
        #expect(r.out.contains("replayed 16 of 16 requests, 16 answered, 16 compared, 0 differ"), "\(r.out)\n\(r.err)")
    }

    /// One file of a capture cut into files (`--capture-size`) begins mid-session: the fids its requests use
    /// were made in an earlier file, and diod has none such. The replay says so before it starts, and each
    /// difference on those fids follows from that, in one line. Before, the replay only showed EIO after EIO.
    @Test func aCaptureThatBeginsMidSessionSaysWhyItsFidsFail() throws {
        let export = Peers.tempDir("replay-mid-session")
        ProxyTool.makeFile(export + "/big", size: 100_000, seed: 7)
        let diod = try ReplIntegrationTests.diod(exporting: export)
        defer { diod.stop() }
        let dir = Peers.tempDir("replay-mid-session-capture")
        let proxy = try ProxyProcess(upstream: diod.address, extra: ["--headless", "--capture", dir + "/cut.pcapng",
                                                                      "--capture-size", "64K"])
        let cat = try DiodClients.cat(proxy.listenAddress, aname: export, msize: 8192, ["big"])
        #expect(cat.status == 0, "\(cat.err)")
        proxy.stop()
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".pcapng") }.sorted()
        #expect(files.count >= 2, "\(files)")
        let second = dir + "/" + files[1]
        let r = try Peers.run(Peers.ninescope, ["replay", second, "--to", diod.address, "--diff"])
        #expect(r.status == 1, "exit \(r.status)\n\(r.out)\n\(r.err)")
        #expect(r.err.contains("note: connection 0: the capture begins mid-session (no Tversion): fids 0, 1 were made "
                               + "before it began"), "\(r.err)")
        let lines = r.out.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("  follows from step 0, where fid 1 was made before the capture began: "
                                              + "replayed Rlerror") }, "\(r.out)")
        #expect(!lines.contains { $0.hasPrefix("  captured:") }, "\(r.out)")
        // Every difference follows from it: `…, 13 compared, 13 differ (13 only follow from an earlier one: …)`.
        let summary = try #require(lines.last.map(String.init))
        let differ = try #require(summary.split(separator: ",").last?.split(separator: " ").first, "\(summary)")
        #expect(summary.hasSuffix(" \(differ) differ (\(differ) only follow from an earlier one: a fid it left otherwise)"),
                "\(summary)")
    }

    /// A capture cut short (copied while the proxy wrote it, a partial download) is replayed up to where it
    /// ends, and the replay says so, as `decode` and `view` do. Before, it said nothing of it.
    @Test func aCaptureCutShortIsSaidSo() throws {
        let export = try ReplIntegrationTests.sampleExport()
        let diod = try ReplIntegrationTests.diod(exporting: export)
        defer { diod.stop() }
        let whole = try Data(contentsOf: URL(fileURLWithPath: Peers.repoRoot + "/Captures/diod-cat.pcapng"))
        let cut = Peers.tempDir("replay-cut-short") + "/cut.pcapng"
        try whole.prefix(whole.count * 2 / 3).write(to: URL(fileURLWithPath: cut))
        let r = try Peers.run(Peers.ninescope, ["replay", cut, "--to", diod.address, "--diff"])
        #expect(r.err.contains("ninescope: \(cut): the capture ends mid-record (cut short or still being written); "
                               + "replaying everything before it"), "\(r.err)")
        #expect(r.out.contains(" 0 differ"), "\(r.out)\n\(r.err)")
    }

    /// diod over a copy of the sample export whose data.bin has its byte 10000 changed (to 0xee): replaying
    /// Captures/diod-cat.pcapng to it makes one read differ.
    static func diodWithDataChanged(_ name: String) throws -> (Diod, String) {
        let export = try ReplIntegrationTests.sampleExport(at: Peers.tempDir(name) + "/copy")
        let handle = try #require(FileHandle(forUpdatingAtPath: export + "/data.bin"))
        try handle.seek(toOffset: 10_000)
        try handle.write(contentsOf: Data([0xEE]))
        try handle.close()
        return (try ReplIntegrationTests.diod(exporting: export), export)
    }

    /// A file changed in its middle: the read that differs says where its data part, with the bytes from there.
    /// Before, `data: captured 0x0083…, replayed 0x0083…`: the same first 64 bytes twice.
    @Test func aReadThatDiffersInItsMiddleSaysWhere() throws {
        let (diod, export) = try Self.diodWithDataChanged("replay-data-part")
        defer { diod.stop() }
        let r = try Peers.run(Peers.ninescope, ["replay", Peers.repoRoot + "/Captures/diod-cat.pcapng", "--to", diod.address,
                                                "--diff", "--aname", export])
        #expect(r.status == 1, "exit \(r.status)\n\(r.out)\n\(r.err)")
        // The second read of 8168 bytes starts at 8168: byte 10000 of the file is its byte 1832.
        #expect(r.out.contains("    data: 8168 bytes each; alike up to byte 1832, then captured 0x"), "\(r.out)")
        #expect(r.out.contains(", replayed 0xee"), "\(r.out)")
        #expect(r.out.hasSuffix("21 compared, 1 differ\n"), "\(r.out)")
    }

    /// `--json`: the same replay as JSON lines, for a script or CI job that replays captures as a regression
    /// test: every line parses, the differing read comes with its field, the summary's counts are the text's
    /// and the exit status is still 1.
    @Test func theReportAsJSONLines() throws {
        let (diod, export) = try Self.diodWithDataChanged("replay-json")
        defer { diod.stop() }
        let args = ["replay", Peers.repoRoot + "/Captures/diod-cat.pcapng", "--to", diod.address, "--diff", "--aname", export]
        let r = try Peers.run(Peers.ninescope, args + ["--json", "--verbose"])
        #expect(r.status == 1, "exit \(r.status)\n\(r.out)\n\(r.err)")
        let objects = try RealTraffic.jsonLines(r.out)
        #expect(objects.count == r.out.split(separator: "\n").count, "a line that is not JSON: \(r.out)")
        let events = objects.compactMap { $0["event"] as? String }
        #expect(events.count == objects.count)
        #expect(events.filter { $0 == "trace" }.count >= 42, "\(events)")   // 21 requests sent, 21 replies
        let differences = objects.filter { ($0["event"] as? String) == "difference" }
        #expect(differences.count == 1, "\(r.out)")
        let fields = differences.first?["fields"] as? [[String: Any]] ?? []
        #expect(fields.first?["field"] as? String == "data", "\(r.out)")
        #expect((fields.first?["explanation"] as? String)?.hasPrefix("8168 bytes each; alike up to byte 1832") == true, "\(r.out)")
        let summary = try #require(objects.last)
        #expect(summary["event"] as? String == "summary")
        #expect(summary["compared"] as? Int == 21 && summary["differ"] as? Int == 1 && summary["exit_status"] as? Int == 1,
                "\(summary)")
        // The text form's last line is the summary's text.
        let text = try Peers.run(Peers.ninescope, args)
        #expect(text.out.hasSuffix((summary["text"] as? String ?? "?") + "\n"), "\(text.out)")
    }

    /// A directory the memory driver lists in the order its files were made, replayed to the local driver over
    /// ext4, which lists them in its hash order: the difference says it is only the order, and names the rule
    /// that compares entries as a set; with that rule there is none.
    @Test func aDirectoryListedInAnotherOrderSaysSo() throws {
        let server = try Self.memoryServer()
        defer { server.stop() }
        let names = ["kilo", "alpha", "echo", "zulu", "bravo", "mike", "delta", "golf"]
        var lines = ["version", "attach 0 nobody", "walk 0 1 tmp"]
        for n in names { lines += ["walk 1 2", "lcreate 2 \(n) rdwr|create 0644", "clunk 2"] }
        lines += ["walk 1 3", "lopen 3 rdonly", "readdir 3 0 8192", "clunk 3", "clunk 1"]
        let capture = try Self.capture("replay-dir-order", upstream: server.address, [lines])
        let local = try NinescopeProcess.start(["serve", "--listen", "127.0.0.1:0", "--driver",
                                                "local:" + ReplIntegrationTests.memoryTreeExport()])
        defer { local.stop() }
        let r = try Peers.run(Peers.ninescope, ["replay", capture, "--to", local.address, "--diff"])
        #expect(r.status == 1, "exit \(r.status)\n\(r.out)\n\(r.err)")
        #expect(r.out.contains("    names: the same 10 names in another order (--ignore dirent.order compares them as a set): "
                               + "captured ['.', '..', 'kilo', 'alpha', "), "\(r.out)")
        let again = try NinescopeProcess.start(["serve", "--listen", "127.0.0.1:0", "--driver",
                                                "local:" + ReplIntegrationTests.memoryTreeExport()])
        defer { again.stop() }
        let set = try Peers.run(Peers.ninescope, ["replay", capture, "--to", again.address, "--diff", "--ignore", "dirent.order"])
        #expect(set.status == 0, "exit \(set.status)\n\(set.out)\n\(set.err)")
        #expect(set.out.hasSuffix(" 0 differ\n"), "\(set.out)")
    }

    /// `--timing original` over a capture's quiet spell longer than `--timeout`: the replay waits for the
    /// captured time, as it should, and awaits no reply meanwhile, so it does not give up. Before, the idle
    /// timeout counted that wait and ended the replay: "nothing arrived for 1000 ms; 2 requests not sent".
    @Test func aQuietSpellLongerThanTheTimeoutIsWaitedOut() throws {
        let server = try Self.memoryServer()
        defer { server.stop() }
        let capture = Peers.tempDir("replay-quiet-spell") + "/capture.pcapng"
        let proxy = try ProxyProcess(upstream: server.address, extra: ["--headless", "--capture", capture])
        let script = "printf 'version\\nattach 0 nobody\\nwalk 0 1 etc motd\\n'; sleep 3; printf 'clunk 1\\nclunk 0\\n'"
        let session = try Peers.run("/bin/sh", ["-c", "(\(script)) | \"$0\" repl \"$1\" --no-history --timeout 20",
                                                Peers.ninescope, proxy.listenAddress])
        #expect(session.status == 0, "exit \(session.status)\n\(session.out)\n\(session.err)")
        proxy.stop()
        let fresh = try Self.memoryServer()
        defer { fresh.stop() }
        let r = try Peers.run(Peers.ninescope, ["replay", capture, "--to", fresh.address, "--diff", "--timing", "original",
                                                "--timeout", "1"])
        #expect(r.status == 0, "exit \(r.status)\n\(r.out)\n\(r.err)")
        #expect(r.out.contains("replayed 5 of 5 requests, 5 answered, 5 compared, 0 differ"), "\(r.out)\n\(r.err)")
        #expect(!r.out.contains("nothing arrived"), "\(r.out)")
    }

    /// A file of a cut capture continues a 9P2000.u session: the Tversion the replay sends first for it asks for
    /// the version and msize the continuation record says were negotiated, so that its requests go in the
    /// dialect they were captured in. Before, it asked for 9P2000.L and msize 131096, and sent the 9P2000.u
    /// requests to a 9P2000.L session.
    @Test func aContinuedConnectionIsReplayedInItsOwnVersion() throws {
        let server = try Self.memoryServer()
        defer { server.stop() }
        let dir = Peers.tempDir("replay-continued-version")
        let proxy = try ProxyProcess(upstream: server.address, extra: ["--quiet", "--capture", dir + "/u.pcapng",
                                                                        "--capture-size", "64K"])
        let lines = ["version 8192 9P2000.u", "attach 0 nobody", "walk 0 1 docs numbers.txt", "open 1 oread"]
            + Array(repeating: "read 1 0 1000", count: 400) + ["clunk 1", "clunk 0"]
        let session = try Peers.run(Peers.ninescope, ["repl", proxy.listenAddress, "--no-history", "--timeout", "20"],
                                    stdin: Data((lines.joined(separator: "\n") + "\n").utf8))
        #expect(session.status == 0, "exit \(session.status)\n\(session.err)")
        proxy.stop()
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".pcapng") }.sorted()
        #expect(files.count >= 2, "\(files)")
        let second = dir + "/" + files[1]
        let decoded = try Peers.run(Peers.ninescope, ["decode", second])
        #expect(decoded.out.contains("(continued: 9P2000.u msize 8192)"), "\(decoded.out.prefix(600))")
        let r = try Peers.run(Peers.ninescope, ["replay", second, "--to", server.address, "--verbose"])
        let first = r.out.split(separator: "\n").first { $0.hasPrefix("-> [0] ") }
        #expect(first?.hasPrefix("-> [0] Tversion tag NOTAG msize 8192 version '9P2000.u' (not in the capture") == true,
                "\(r.out.prefix(1000))")
        #expect(r.out.contains("<- [0] Rversion tag NOTAG msize 8192 version '9P2000.u'"), "\(r.out.prefix(1000))")
        // Its reads name a fid made before the file began: refused in 9P2000.u's own form, Rerror with an errno.
        #expect(r.out.contains("<- [0] Rerror tag 0 ename "), "\(r.out.prefix(1000))")
    }
}
