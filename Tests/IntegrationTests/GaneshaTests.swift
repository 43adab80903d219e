import Foundation
import NinePTestSupport
import NinePWire
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// nfs-ganesha's 9P2000.L server as a second real peer beside diod: the REPL, the proxy with its capture,
/// decode against tshark, and replay of a diod capture to it. ganesha answers every error with an Rerror
/// (107) of errno[4] alone, which diod's clients cannot read and which ninescope decodes as the Linux client
/// does (`MalformedInputTests.errnoAloneRerrorUnderL`).
@Suite(.serialized, .enabled(if: Ganesha.canRun, "nfs-ganesha's FSAL VFS opens files by handle, which needs root"))
struct GaneshaTests {
    /// An export with etc/motd and hello.txt, made before ganesha starts (it caches attributes: what is changed
    /// behind its back shows late).
    static func export() throws -> String {
        let dir = Peers.tempDir("ganesha-export")
        try FileManager.default.createDirectory(atPath: dir + "/etc", withIntermediateDirectories: true)
        try "Welcome\n".write(toFile: dir + "/etc/motd", atomically: true, encoding: .utf8)
        try "hello\n".write(toFile: dir + "/hello.txt", atomically: true, encoding: .utf8)
        return dir
    }

    /// ganesha on loopback exporting `export`; `make test` installs it, so its absence is a failure.
    static func ganesha(exporting export: String) throws -> Ganesha {
        if let why = Ganesha.unavailable { throw HarnessError(why) }
        guard let g = try Ganesha.start(export: export) else { throw HarnessError("ganesha.nfsd did not start listening") }
        return g
    }

    /// `ninescope repl ADDRESS` running `lines` as a script.
    static func repl(_ address: String, _ lines: String) throws -> Peers.Result {
        let path = Peers.tempDir("ganesha-script") + "/session.9p"
        try lines.write(toFile: path, atomically: true, encoding: .utf8)
        return try ReplIntegrationTests.inRoot(["repl", address, "--script", path, "--no-history", "--timeout", "20"])
    }

    /// The whole file `name` read directly from the server at `address` (Tversion, Tattach, Twalk, Tlopen,
    /// Treads of msize − 24 to the end), nil on any error reply.
    static func readWhole(_ name: String, at address: String, aname: String) throws -> Data? {
        let s = try ProxyRawSocket(address)
        defer { s.close() }
        guard case .rversion(let v)? = try s.rpc(0xFFFF, .tversion(Tversion(msize: 65536, version: "9P2000.L")))?.message,
              case .rattach? = try s.rpc(0, .tattach(Tattach(fid: 0, uname: "root", aname: P9String(aname))))?.message,
              case .rwalk? = try s.rpc(0, .twalk(Twalk(fid: 0, newfid: 1, wnames: [P9String(name)])))?.message,
              case .rlopen? = try s.rpc(0, .tlopen(Tlopen(fid: 1, flags: .rdonly)))?.message else { return nil }
        var data = Data()
        while true {
            guard case .rread(let r)? = try s.rpc(0, .tread(Tread(fid: 1, offset: UInt64(data.count), count: v.msize - 24)))?.message else {
                return nil
            }
            if r.data.isEmpty { break }
            data.append(contentsOf: r.data)
        }
        return data
    }

    /// examples/ganesha.9p: ganesha's answers where diod and ours differ, each checked by an `expect` line.
    @Test func scriptAgainstGanesha() throws {
        let export = try Self.export()
        let g = try Self.ganesha(exporting: export)
        defer { g.stop() }
        let r = try ReplIntegrationTests.script("ganesha", at: g.address, defines: ["ANAME": export])
        ReplIntegrationTests.expectClean(r, "ganesha.9p against ganesha")
        // Its error replies read as errnos (they were "malformed at byte 7 (ename)").
        #expect(r.out.contains("<- Rerror tag 0 errno 95 EOPNOTSUPP"), "\(r.out.prefix(1500))")
        #expect(r.out.contains("<- Rerror tag 0 errno 2 ENOENT"))
        #expect(r.out.contains("<- Rerror tag NOTAG errno 2 ENOENT"), "\(r.out.suffix(800))")   // Tversion 9P2000.u
        #expect(!r.out.contains("malformed"), "\(r.out)")
        #expect(r.out.contains("anomaly: Rerror is not a 9P2000.L message"))
        // Every wqid is the last name's: the first of `walk 0 1 etc motd` is motd's, a file's.
        #expect(r.out.contains("anomaly: Rwalk's qid 0 for 'etc', ("), "\(r.out.prefix(2500))")
        #expect(r.out.contains("is not a directory's, yet the walk went on to 'motd'"))
        #expect(!FileManager.default.fileExists(atPath: export + "/ganeshatest"))
        #expect(g.isRunning, "ganesha died: \(g.log.suffix(800))")
    }

    /// A 4 MiB file put through the proxy by the REPL reads back identical straight from ganesha and on its
    /// disk; the proxy's capture decodes as tshark dissects it, message by message and field by field.
    @Test func aLargeFileWrittenThroughTheProxyReadsBackDirectly() throws {
        let export = try Self.export()
        let g = try Self.ganesha(exporting: export)
        defer { g.stop() }
        let capture = Peers.tempDir("ganesha-cap") + "/ganesha.pcapng"
        let proxy = try ProxyProcess(upstream: g.address, extra: ["--headless", "--capture", capture])
        let local = Peers.tempDir("ganesha-local") + "/big.bin"
        ProxyTool.makeFile(local, size: 4 << 20, seed: 11)

        let r = try Self.repl(proxy.listenAddress, """
            version 65536
            attach 0 root \(export)
            put \(local) /big.bin
            -walk 0 1 nosuch
            expect Rerror errno=ENOENT
            ls /
            """)
        #expect(r.status == 0 && !r.timedOut, "repl: \(r.err)\n\(r.out.suffix(1500))")
        #expect(r.out.contains("big.bin") && r.out.contains("hello.txt"), "\(r.out.suffix(800))")

        let want = try ProxyTool.sha256(try Data(contentsOf: URL(fileURLWithPath: local)))
        let direct = try #require(try Self.readWhole("big.bin", at: g.address, aname: export), "direct read failed")
        #expect(direct.count == 4 << 20)
        #expect(try ProxyTool.sha256(direct) == want)
        #expect(try ProxyTool.sha256(try Data(contentsOf: URL(fileURLWithPath: export + "/big.bin"))) == want)

        #expect(proxy.waitForOutput { $0.contains("c0 - close") })
        #expect(proxy.stdoutLines.contains { $0.contains("c0 ← Rerror tag 0 errno 2 ENOENT") }, "\(proxy.stdout.suffix(1500))")
        #expect(!proxy.stdout.contains("malformed"))
        let stop = proxy.stop()
        #expect(stop.exited && stop.status == 0, "exit \(stop)")

        let report = try DecodeVsTsharkTests.compareWithTshark(capture, port: 564)
        #expect(report.types["Twrite", default: 0] >= 64, "\(report.types)")
        #expect(report.types["Rerror", default: 0] >= 1, "\(report.types)")
        #expect(report.compared > 150)
        #expect(g.isRunning, "ganesha died: \(g.log.suffix(800))")
    }

    /// diod's clients begin with a Tauth, which ganesha refuses with its errno-only Rerror: diodls stops there
    /// ("Protocol error"), and the proxy between them shows why.
    @Test func diodClientsStopAtGaneshasTauthRefusal() throws {
        let export = try Self.export()
        let g = try Self.ganesha(exporting: export)
        defer { g.stop() }
        let proxy = try ProxyProcess(upstream: g.address)
        let ls = try ProxyTool.client("diodls", ["-s", proxy.listenAddress, "-a", export, "/"])
        #expect(ls.status != 0 && ls.err.contains("Protocol error"), "diodls: \(ls.status) \(ls.err)")
        #expect(proxy.waitForOutput { $0.contains("c0 - close") })
        let lines = proxy.stdoutLines
        #expect(lines.contains { $0.contains("c0 → Tauth tag 0 afid 0") }, "\(proxy.stdout)")
        #expect(lines.contains { $0.contains("c0 ← Rerror tag 0 errno 95 EOPNOTSUPP") }, "\(proxy.stdout)")
        #expect(!proxy.stdout.contains("malformed"), "\(proxy.stdout)")
        #expect(proxy.stop().exited)
    }

    /// A REPL session against diod, captured by the proxy, replayed to ganesha exporting the same files: every
    /// reply is answered, and the differences are ganesha's own (each kind checked here).
    @Test func replayOfADiodCaptureToGaneshaShowsItsDifferences() throws {
        let diodExport = try Self.export(), ganeshaExport = try Self.export()
        let diod = try ReplIntegrationTests.diod(exporting: diodExport)
        defer { diod.stop() }
        let g = try Self.ganesha(exporting: ganeshaExport)
        defer { g.stop() }
        let capture = Peers.tempDir("ganesha-replay") + "/diod.pcapng"
        let proxy = try ProxyProcess(upstream: diod.address, extra: ["--headless", "--capture", capture])
        // No Tremove: ganesha 4.3 dies of it (examples/ganesha.9p).
        let r = try Self.repl(proxy.listenAddress, """
            version 65536
            attach 0 root \(diodExport)
            walk 0 1 etc motd
            lopen 1 rdonly
            read 1 0 100
            clunk 1
            -walk 0 1 nosuch
            -walk 0 2 etc nosuch
            walk 0 3
            lopen 3 rdonly|directory
            readdir 3 0 8192
            clunk 3
            mkdir 0 d1 0755
            walk 0 1 d1
            lcreate 1 f rdwr|create 0644
            write 1 0 some data
            clunk 1
            -walk 0 2 d1
            -unlinkat 2 f
            """)
        #expect(r.status == 0, "repl: \(r.err)\n\(r.out.suffix(1500))")
        #expect(proxy.stop().exited)

        let replay = try ReplIntegrationTests.inRoot(["replay", capture, "--to", g.address, "--aname", ganeshaExport, "--diff"])
        #expect(replay.status == 1, "exit \(replay.status)\n\(replay.err)\n\(replay.out)")
        let out = replay.out
        let summary = try #require(out.split(separator: "\n").last { $0.hasPrefix("replayed ") }, "\(out)")
        #expect(summary.hasPrefix("replayed 19 of 19 requests, 19 answered, 19 compared"), "\(summary)")
        // ganesha gives each wqid the last name's qid: etc's is motd's, a file.
        #expect(out.contains("wqid[0].type: captured 0x80, replayed 0x0"), "\(out)")
        // Its errors are Rerror, with the errno diod's Rlerror carries.
        #expect(out.contains("captured: Rlerror tag 0 ecode 2 ENOENT\n  replayed: Rerror tag 0 errno 2 ENOENT\n"
                             + "    type: captured Rlerror, replayed Rerror (the same errno, ENOENT; Rerror is not a 9P2000.L message)"),
                "\(out)")
        // A walk that fails after its first name: diod answers Rwalk with the qids walked, ganesha an error.
        #expect(out.contains("captured: Rwalk tag 0 nwqid 1 0:("), "\(out)")
        #expect(out.contains("replayed: Rerror tag 0 errno 2 ENOENT\n    type: captured Rwalk, replayed Rerror"), "\(out)")
        // diod has no Tunlinkat; ganesha does.
        #expect(out.contains("captured: Rlerror tag 0 ecode 95 EOPNOTSUPP\n  replayed: Runlinkat tag 0"), "\(out)")
        #expect(!out.contains("malformed"))
        #expect(g.isRunning, "ganesha died: \(g.log.suffix(800))")
    }
}
