import Foundation
import Testing
import NinePTestSupport

/// Issue: real traffic. diod on loopback, tcpdump capturing while diodls/diodcat run, then
/// `ninescope decode --json` must agree with tshark's own 9P dissector on every message's type, tag and fid.
@Suite(.serialized) struct DecodeVsTsharkTests {
    @Test func decodeAgreesWithTsharkOnRealDiodTraffic() throws {
        let export = try RealTraffic.makeExport()
        guard let diod = try Diod.start(export: export) else {
            Issue.record("diod is not installed; `make test` installs it"); return
        }
        defer { diod.stop() }
        let pcap = Peers.tempDir("cap") + "/diod.pcap"
        guard let dump = try RealTraffic.startTcpdump(port: diod.port, file: pcap) else {
            Issue.record("tcpdump is not installed"); return
        }
        let diodls = try #require(Peers.which("diodls"))
        let diodcat = try #require(Peers.which("diodcat"))
        let ls = try Peers.run(diodls, ["-s", diod.address, "-a", export, "/"])
        #expect(ls.status == 0, "diodls failed: \(ls.err)")
        #expect(ls.out.contains("hello.txt"))
        let cat = try Peers.run(diodcat, ["-s", diod.address, "-a", export, "-m", "8192", "hello.txt", "big.bin"])
        #expect(cat.status == 0, "diodcat failed: \(cat.err)")
        usleep(300_000)
        Peers.stop(dump, signal: SIGINT)

        let ours = try Peers.run(Peers.ninescope, ["decode", pcap, "--port", String(diod.port), "--json"])
        #expect(ours.status == 0, "ninescope decode failed: \(ours.err)")
        let mine = try RealTraffic.jsonLines(ours.out).filter { ($0["event"] as? String) == "message" }
        let theirs = try #require(try TsharkFields.shown(file: pcap, port: diod.port))

        // diodcat of 300 KB at msize 8192 alone is ~40 reads: insist on a substantial capture.
        #expect(theirs.count > 60, "tshark saw only \(theirs.count) messages")
        let report = TsharkFields.compare(ours: mine, theirs: theirs)
        #expect(report.mismatches.isEmpty, "\(report.mismatches.prefix(10).joined(separator: "\n"))")
        #expect(report.compared == theirs.count)

        // tshark and editcap rewrite tcpdump's pcap as pcapng (and back): decode reads the same messages.
        if let editcap = Peers.which("editcap") {
            let ng = pcap + ".pcapng", back = pcap + ".back.pcap"
            #expect(try Peers.run(editcap, ["-F", "pcapng", pcap, ng]).status == 0)
            #expect(try Peers.run(editcap, ["-F", "pcap", ng, back]).status == 0)
            for file in [ng, back] {
                let again = try Peers.run(Peers.ninescope, ["decode", file, "--port", String(diod.port), "--json"])
                #expect(again.out == ours.out, "decode of \(file) differs from decode of tcpdump's pcap")
            }
        }
        // Every request is paired with its reply, and replies carry a latency.
        let replies = mine.filter { ($0["direction"] as? String) == "s2c" }
        #expect(!replies.isEmpty)
        for r in replies {
            #expect(r["answers"] is Int, "reply without its request: \(r)")
            #expect(r["latency_ns"] is Int, "reply without latency: \(r)")
        }
    }

    /// 9P2000.L: every request of the REPL (examples/basic.9p, then a session of uncommon values: an odd
    /// msize, n_uname, Tlcreate's gid, a lock held and reported by Tgetlock, every Tsetattr field, a
    /// nine-name walk, readdir from an offset, names that are not UTF-8, a flushed read) against `serve --driver memory`, recorded by
    /// the proxy's own capture: ours and tshark's decodes agree on every field tshark shows.
    @Test func everyFieldAgreesWithTsharkIn9P2000L() throws {
        let serve = try NinescopeProcess.start(["serve", "--listen", "127.0.0.1:0", "--driver", "memory"])
        defer { serve.stop() }
        let capture = Peers.tempDir("fields") + "/l.pcapng"
        let proxy = try NinescopeProcess.start(["proxy", "--listen", "127.0.0.1:0", "--upstream", serve.address,
                                                "--headless", "--capture", capture])
        try Self.repl(proxy.address, Peers.repoRoot + "/examples/basic.9p")
        try Self.repl(proxy.address, try Self.script(Self.uncommonL))
        #expect(proxy.stop(signal: SIGINT) == 0, "\(proxy.output)")

        let report = try Self.compareWithTshark(capture, port: 564)
        let want = ["Tversion", "Tauth", "Tattach", "Rlerror", "Tstatfs", "Rstatfs", "Tgetattr", "Rgetattr",
                    "Twalk", "Rwalk", "Tlopen", "Rlopen", "Tread", "Rread", "Tclunk", "Tmkdir", "Rmkdir", "Tlcreate",
                    "Rlcreate", "Twrite", "Rwrite", "Tfsync", "Tlock", "Rlock", "Tgetlock", "Rgetlock", "Tsetattr",
                    "Txattrcreate", "Txattrwalk", "Rxattrwalk", "Tsymlink", "Rsymlink", "Treadlink", "Rreadlink",
                    "Tlink", "Tmknod", "Rmknod", "Treaddir", "Rreaddir", "Trename", "Trenameat", "Tflush", "Rflush",
                    "Tunlinkat", "Tremove"]
        #expect(Set(want).subtracting(report.types.keys).isEmpty,
                "not in the capture: \(Set(want).subtracting(report.types.keys).sorted())")
        // Every exception that 9P2000.L traffic can show was met (and so checked as stated).
        let met: Set<TsharkFields.Exception> = [.rlerrorUndecoded, .tflushOldtagTwice, .tauthNUname, .tfsyncDatasync,
                                                .getlockAsTlock, .dataNotShown]
        #expect(met.isSubset(of: report.exceptions.keys), "\(report.exceptions)")

        // tshark reads the comments our capture puts on its packets.
        let tshark = try #require(Peers.which("tshark"))
        let comments = try Peers.run(tshark, ["-n", "-r", capture, "-T", "fields", "-e", "frame.comment"])
        #expect(comments.out.contains("ninescope conn=0 dir=c2s ev=open client=127.0.0.1:"), "\(comments.out.prefix(300))")
        #expect(comments.out.contains("ninescope conn=0 dir=s2c ev=data"))
    }

    /// 9P2000 and 9P2000.u: examples/classic.9p (in 9P2000.u as written, and in 9P2000), then a session of
    /// Tauth with n_uname, a symlink made by Tcreate's extension, Twstat, a directory read, a flushed read,
    /// in each, against `serve --driver memory`, recorded by tcpdump: ours and tshark's decodes agree.
    @Test func everyFieldAgreesWithTsharkIn9P2000And9P2000u() throws {
        let serve = try NinescopeProcess.start(["serve", "--listen", "127.0.0.1:0", "--driver", "memory"])
        defer { serve.stop() }
        let port = try #require(serve.address.split(separator: ":").last.flatMap { UInt16($0) })
        let pcap = Peers.tempDir("fields") + "/classic.pcap"
        guard let dump = try RealTraffic.startTcpdump(port: port, file: pcap) else {
            Issue.record("tcpdump is not installed"); return
        }
        let classic = try String(contentsOfFile: Peers.repoRoot + "/examples/classic.9p", encoding: .utf8)
        try Self.repl(serve.address, try Self.script(classic))
        let plain = classic.replacingOccurrences(of: "9P2000.u", with: "9P2000")
            .replacingOccurrences(of: "expect Rerror errno=ENOENT", with: "expect error")
        try Self.repl(serve.address, try Self.script(plain))
        try Self.repl(serve.address, try Self.script(Self.uncommonClassic), define: "DIALECT=9P2000.u")
        let uncommonPlain = Self.uncommonClassic.replacingOccurrences(of: " n_uname=1000", with: "")
            .replacingOccurrences(of: " extension=hosts", with: "").replacingOccurrences(of: "'' 1000", with: "''")
        try Self.repl(serve.address, try Self.script(uncommonPlain), define: "DIALECT=9P2000")
        usleep(300_000)
        Peers.stop(dump, signal: SIGINT)

        let report = try Self.compareWithTshark(pcap, port: port)
        let want = ["Tversion", "Tauth", "Rerror", "Tattach", "Rattach", "Twalk", "Rwalk", "Topen", "Ropen", "Tread",
                    "Rread", "Tstat", "Rstat", "Tcreate", "Rcreate", "Twrite", "Rwrite", "Twstat", "Rwstat", "Tremove",
                    "Rremove", "Tclunk", "Tflush", "Rflush"]
        #expect(Set(want).subtracting(report.types.keys).isEmpty,
                "not in the capture: \(Set(want).subtracting(report.types.keys).sorted())")
        let met: Set<TsharkFields.Exception> = [.tauthNUname, .rerrorErrno, .statUnixTail, .tcreateExtension,
                                                .tflushOldtagTwice, .dataNotShown]
        #expect(met.isSubset(of: report.exceptions.keys), "\(report.exceptions)")
    }

    /// The sample captures (ours, written by the proxy) agree with tshark field by field.
    @Test func sampleCapturesAgreeWithTsharkOnEveryField() throws {
        let dir = Peers.repoRoot + "/Captures"
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".pcapng") }.sorted()
        #expect(files.count >= 7)
        for file in files {
            let report = try Self.compareWithTshark(dir + "/" + file, port: 564)
            #expect(report.compared > 20, "\(file): \(report.compared) messages")
        }
    }

    /// A capture of ours that tshark rewrote (`tshark -w`, as Wireshark's Save As, and a filtered subset of
    /// it) decodes as the original: its comments (connections, addresses, closes) are kept. It lacks the end
    /// record, and decode says that a rewrite is one reason (it said only that the proxy had not finished it).
    @Test func decodeReadsOurCaptureAsTsharkRewroteIt() throws {
        let tshark = try #require(Peers.which("tshark"))
        let dir = Peers.tempDir("rewrite")
        let original = dir + "/original.pcapng"
        let serve = try NinescopeProcess.start(["serve", "--listen", "127.0.0.1:0", "--driver", "memory"])
        defer { serve.stop() }
        let proxy = try NinescopeProcess.start(["proxy", "--listen", "127.0.0.1:0", "--upstream", serve.address,
                                                "--headless", "--capture", original])
        let session = try Self.script("version\nattach 0 nobody ''\nwalk 0 1 etc motd\nlopen 1 rdonly\nread 1 0 100\n")
        try Self.repl(proxy.address, session)
        try Self.repl(proxy.address, session)
        #expect(proxy.stop(signal: SIGINT) == 0, "\(proxy.output)")
        let copy = dir + "/copy.pcapng", second = dir + "/second.pcapng"
        #expect(try Peers.run(tshark, ["-n", "-r", original, "-w", copy]).status == 0)
        #expect(try Peers.run(tshark, ["-n", "-r", original, "-Y", "tcp.stream == 1", "-w", second]).status == 0)

        let theirs = try Peers.run(Peers.ninescope, ["decode", "--json", original])  // the proxy's own file
        #expect(theirs.status == 0 && theirs.err.isEmpty, "\(theirs.err)")
        let rewritten = try Peers.run(Peers.ninescope, ["decode", "--json", copy])
        #expect(rewritten.status == 0)
        #expect(rewritten.out == theirs.out)
        #expect(rewritten.err.contains("the capture has no end record: the proxy writing it did not finish it"))
        #expect(rewritten.err.contains("or a program that leaves that record out rewrote it (tshark -w, editcap, "
                                       + "Wireshark's Save As)"), "\(rewritten.err)")

        // The second connection alone: its messages, and its open line with the addresses its comment holds.
        let subset = try Peers.run(Peers.ninescope, ["decode", "--json", second])
        #expect(subset.status == 0)
        let ofSecond = { (r: Peers.Result) in
            try RealTraffic.jsonLines(r.out).filter { $0["conn"] as? Int == 1 && $0["event"] as? String == "message" }
                .compactMap { $0["line"] as? String }
        }
        #expect(try ofSecond(subset) == ofSecond(theirs))
        #expect(try !ofSecond(subset).isEmpty)
        #expect(subset.out.contains("\"event\":\"open\"") && subset.out.contains("\"client\":\"127.0.0.1:"), "\(subset.out.prefix(400))")
    }

    // MARK: helpers

    /// `decode --json` of `file` against tshark, every field; records the mismatches. Returns the report.
    @discardableResult
    static func compareWithTshark(_ file: String, port: UInt16) throws -> TsharkFields.Report {
        let ours = try Peers.run(Peers.ninescope, ["decode", file, "--port", String(port), "--json"])
        #expect(ours.status == 0, "ninescope decode \(file) failed: \(ours.err)")
        let mine = try RealTraffic.jsonLines(ours.out).filter { ($0["event"] as? String) == "message" }
        #expect(!mine.contains { $0["malformed"] != nil }, "\(file): malformed messages")
        let theirs = try #require(try TsharkFields.shown(file: file, port: port), "tshark is not installed")
        let report = TsharkFields.compare(ours: mine, theirs: theirs)
        #expect(report.mismatches.isEmpty,
                "\(file): \(report.mismatches.count) messages differ:\n\(report.mismatches.prefix(12).joined(separator: "\n"))")
        return report
    }

    static func script(_ text: String) throws -> String {
        let path = Peers.tempDir("fields") + "/session.9p"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func repl(_ address: String, _ script: String, define: String? = nil) throws {
        let r = try Peers.run(Peers.ninescope, ["repl", address, "--script", script] + (define.map { ["--define", $0] } ?? []),
                              timeout: 60)
        #expect(r.status == 0, "repl \(script) failed: \(r.out.suffix(800)) \(r.err)")
    }

    /// 9P2000.L requests with values the examples leave at zero or default.
    static let uncommonL = """
        version 12345
        attach 0 nobody '' 1000
        walk 0 1 tmp
        Tlcreate fid=1 name=x flags=rdwr|create|excl|append mode=0640 gid=1234
        write 1 5 some bytes
        read 1 4294967296 10
        Tlock fid=1 type=wrlck flags=block start=100 length=50 proc_id=4242 client_id=me
        Tgetlock fid=1 type=rdlck start=0 length=1000 proc_id=7 client_id=other
        Tsetattr fid=1 valid=mode|uid|gid|size|atime|mtime|ctime|atime_set|mtime_set mode=0600 uid=1 gid=2 size=3 atime_sec=1700000001 atime_nsec=123456789 mtime_sec=1600000000 mtime_nsec=987654321
        getattr 1 all
        walk 0 4 tmp x
        -Txattrcreate fid=4 name=user.a attr_size=0 flags=replace
        walk 0 2 tmp .. tmp .. tmp .. etc .. etc
        walk 0 3 etc
        lopen 3 rdonly|directory
        readdir 3 0 60
        readdir 3 2 8192
        -Tunlinkat dirfd=0 name=tmp flags=removedir
        walk 0 5 tmp
        lcreate 5 caf\\xe9\\xff rdwr|create 0644
        walk 0 6 tmp caf\\xe9\\xff
        -walk 0 7 caf\\xc3\\xa9
        read 1 0 100 tag=300 &
        flush 300
        wait

        """

    /// 9P2000.u (and, without its extensions, 9P2000) requests beyond examples/classic.9p.
    static let uncommonClassic = """
        version 8000 ${DIALECT}
        -Tauth afid=5 uname=glenda aname=/srv n_uname=1000
        attach 0 glenda '' 1000
        walk 0 1 tmp
        -Tcreate fid=1 name=ln-${DIALECT} perm=0777|symlink mode=read extension=hosts
        walk 0 2 tmp
        Tcreate fid=2 name=f-${DIALECT} perm=0640 mode=rdwr|trunc
        write 2 3 abc
        Twstat fid=2 mode=0600 mtime=1600000000 length=2
        stat 2
        walk 0 3 etc
        open 3 read
        read 3 0 8000
        read 3 0 8000 tag=77 &
        flush 77
        wait
        -walk 0 4 etc hosts nosuch
        clunk 2

        """
}

