import Foundation
import NinePTestSupport
import NinePWire
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 6 end to end: the built `ninescope repl` and `ninescope replay` against `ninescope serve` (every
/// driver) and diod, over real loopback sockets. The example scripts in examples/ are the scripted
/// sessions; their `expect` lines decide, and the exit status is checked.
@Suite(.serialized) struct ReplIntegrationTests {
    /// `ninescope repl ADDRESS --script examples/NAME.9p [--define …]`, run from the repository's top
    /// directory (conveniences.9p `put`s a file by a relative path).
    static func script(_ name: String, at address: String, defines: [String: String] = [:],
                       extra: [String] = []) throws -> Peers.Result {
        var args = ["repl", address, "--script", "examples/\(name).9p", "--no-history", "--timeout", "20"] + extra
        for (k, v) in defines.sorted(by: { $0.key < $1.key }) { args += ["--define", "\(k)=\(v)"] }
        return try inRoot(args)
    }

    /// Runs `ninescope ARGS…` with the repository's top directory as the working directory.
    static func inRoot(_ args: [String], stdin: Data? = nil, timeout: TimeInterval = 120) throws -> Peers.Result {
        let command = "cd \(TmuxPane.shellQuote(Peers.repoRoot)) && exec \"$0\" \"$@\""
        return try Peers.run("/bin/sh", ["-c", command, Peers.ninescope] + args, stdin: stdin, timeout: timeout)
    }

    /// The memory driver's starting tree, as files: the same scripts then run against the local driver.
    static func memoryTreeExport() throws -> String {
        let dir = Peers.tempDir("repl-local")
        let fm = FileManager.default
        for d in ["etc", "tmp", "docs"] { try fm.createDirectory(atPath: "\(dir)/\(d)", withIntermediateDirectories: true) }
        try "served by ninescope serve --driver local\n".write(toFile: "\(dir)/README", atomically: true, encoding: .utf8)
        try "127.0.0.1\tlocalhost\n".write(toFile: "\(dir)/etc/hosts", atomically: true, encoding: .utf8)
        try "Welcome to ninescope's local test export.\n".write(toFile: "\(dir)/etc/motd", atomically: true, encoding: .utf8)
        try (1...100).map { "\($0)\n" }.joined().write(toFile: "\(dir)/docs/numbers.txt", atomically: true, encoding: .utf8)
        try fm.createSymbolicLink(atPath: "\(dir)/docs/hosts", withDestinationPath: "../etc/hosts")
        return dir
    }

    /// diod on loopback exporting `export`; `make test` installs it, so its absence is a failure.
    static func diod(exporting export: String) throws -> Diod {
        guard let diod = try Diod.start(export: export) else {
            throw HarnessError("diod is not installed or did not start; `make test` installs it")
        }
        return diod
    }

    static func expectClean(_ r: Peers.Result, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == 0 && !r.timedOut,
                "\(what): exit \(r.status)\n\(r.err)\n…\(r.out.suffix(3000))", sourceLocation: sourceLocation)
    }

    // MARK: scripted sessions against every driver

    @Test func scriptsAgainstTheMemoryDriver() throws {
        let server = try NinescopeProcess.start(["serve", "--listen", "127.0.0.1:0", "--driver", "memory"])
        defer { server.stop() }
        for name in ["basic", "classic", "errors", "conveniences"] {
            let r = try Self.script(name, at: server.address)
            Self.expectClean(r, "\(name).9p against memory")
            // Every expectation ran and held (the script is not a no-op).
            #expect(r.out.components(separatedBy: "expect: ok").count > 5, "\(name).9p: \(r.out.suffix(500))")
        }
        // Run again: the scripts clean up after themselves.
        Self.expectClean(try Self.script("basic", at: server.address), "basic.9p second run")
        #expect(server.process.isRunning)
    }

    @Test func scriptsAgainstTheLocalDriver() throws {
        let export = try Self.memoryTreeExport()
        let server = try NinescopeProcess.start(["serve", "--listen", "127.0.0.1:0", "--driver", "local:\(export)"])
        defer { server.stop() }
        for name in ["basic", "classic", "errors", "conveniences"] {
            Self.expectClean(try Self.script(name, at: server.address), "\(name).9p against local")
        }
        // The scratch files are really gone from the host directory.
        #expect(try FileManager.default.contentsOfDirectory(atPath: export + "/tmp").isEmpty)
    }

    @Test func scriptAgainstTheSyntheticDriver() throws {
        let server = try NinescopeProcess.start(["serve", "--listen", "unix:\(Peers.tempDir("repl-synth"))/9p.sock",
                                                 "--driver", "synth"])
        defer { server.stop() }
        let r = try Self.script("synth", at: server.address)
        Self.expectClean(r, "synth.9p against synth")
        #expect(r.out.contains("Rwalk tag 0 nwqid 16"))
        #expect(r.out.contains("Tflush tag 0 oldtag 300"))
        // The flushed write never got a reply of its own.
        #expect(!r.out.contains("<- Rwrite tag 300"))
    }

    @Test func scriptAgainstDiod() throws {
        let export = try Self.memoryTreeExport()
        let diod = try Self.diod(exporting: export)
        defer { diod.stop() }
        let r = try Self.script("diod", at: diod.address, defines: ["ANAME": export, "UNAME": "root"])
        Self.expectClean(r, "diod.9p against diod")
        // diod's answers recorded by the script: what it does not implement, and a lost connection survived.
        #expect(r.out.contains("EOPNOTSUPP"))
        #expect((r.out + r.err).contains("connection lost"), "\(r.err)")
        #expect(!FileManager.default.fileExists(atPath: export + "/diodtest"))
    }

    // MARK: expectations and errors decide the exit status

    @Test func aFailedExpectationExitsNonZero() throws {
        let server = try NinescopeProcess.start(["serve", "--listen", "127.0.0.1:0", "--driver", "memory"])
        defer { server.stop() }
        let wrong = try Self.inRoot(["repl", server.address, "--no-history"],
                                    stdin: Data("version\nattach 0 nobody\nwalk 0 1 etc motd\nexpect Rwalk nwqid=1\nclunk 0\n".utf8))
        #expect(wrong.status == 1, "exit \(wrong.status): \(wrong.err)")
        #expect(wrong.err.contains("stdin:4"), "\(wrong.err)")
        #expect(!wrong.out.contains("Tclunk"), "the script went on after the failed expect")

        let unexpected = try Self.inRoot(["repl", server.address, "--no-history"],
                                         stdin: Data("version\nattach 0 nobody\nwalk 0 1 nosuch\nclunk 0\n".utf8))
        #expect(unexpected.status == 1)
        #expect(unexpected.err.contains("unexpected error reply"), "\(unexpected.err)")

        let syntax = try Self.inRoot(["repl", server.address, "--no-history"], stdin: Data("version\nwalk zero\n".utf8))
        #expect(syntax.status == 2)
        #expect(syntax.err.contains("stdin:2:"), "\(syntax.err)")

        let undefined = try Self.inRoot(["repl", server.address, "--no-history"], stdin: Data("attach 0 ${WHO}\n".utf8))
        #expect(undefined.status == 2)
        #expect(undefined.err.contains("${WHO} is not defined"), "\(undefined.err)")
    }

    /// A script file with CRLF line ends (written on Windows, or checked out with autocrlf) runs as its lines
    /// say, each failure at its own line; it was read as one line (in a Swift String "\r\n" is one
    /// Character, which the split at "\n" did not see) and refused at 1:1 as an unknown command spanning the
    /// whole file.
    @Test func aScriptWithCRLFLineEndsRunsLineByLine() throws {
        let server = try NinescopeProcess.start(["serve", "--listen", "127.0.0.1:0", "--driver", "memory"])
        defer { server.stop() }
        let dir = Peers.tempDir("repl-crlf")
        let good = dir + "/good.9p", bad = dir + "/bad.9p"
        try Data("# CRLF\r\nversion\r\nattach 0 nobody\r\nwalk 0 1 etc\r\nexpect Rwalk nwqid=1\r\n".utf8).write(to: URL(fileURLWithPath: good))
        try Data("version\r\nattach 0 nobody\r\nwalk 0 1 etc\r\nexpect Rwalk nwqid=2\r\nclunk 0\r\n".utf8).write(to: URL(fileURLWithPath: bad))
        let ok = try Self.inRoot(["repl", server.address, "--no-history", "--script", good])
        #expect(ok.status == 0, "exit \(ok.status): \(ok.err)")
        #expect(ok.out.contains("<- Rwalk tag 0 nwqid 1"), "\(ok.out)")
        let failed = try Self.inRoot(["repl", server.address, "--no-history", "--script", bad])
        #expect(failed.status == 1, "exit \(failed.status): \(failed.err)")
        #expect(failed.err.contains("bad.9p:4: expect failed: Rwalk nwqid: expected 2, got 1"), "\(failed.err)")
    }

    /// Piped standard input runs line by line as it arrives: a program driving the REPL through a pipe sees
    /// the reply to one line before it writes the next (the REPL read to end of file first, so the writer
    /// below waited 10 s in vain and then wrote `late`); an undefined variable on a later line stops the
    /// script there, after the lines before it ran.
    @Test func pipedLinesRunAsTheyArrive() throws {
        let server = try NinescopeProcess.start(["serve", "--listen", "127.0.0.1:0", "--driver", "memory"])
        defer { server.stop() }
        let out = Peers.tempDir("repl-pipe") + "/out"
        let script = #"""
            out=$1; shift
            ( echo version
              i=0; while ! grep -q Rversion "$out" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
              if grep -q Rversion "$out"; then echo 'attach 0 early'; else echo 'attach 0 late'; fi
              echo 'attach 1 ${NOBODY}'
            ) | "$@" > "$out" 2>&1
            echo "status $?"; cat "$out"
            """#
        let r = try Peers.run("/bin/sh", ["-c", script, "sh", out, Peers.ninescope, "repl", server.address, "--no-history"])
        #expect(r.out.contains("uname 'early'"), "\(r.out)")
        #expect(r.out.contains("status 2") && r.out.contains("stdin:3: column 10: ${NOBODY} is not defined"), "\(r.out)")
    }

    /// A server that is not there is said so in the system's words, by the REPL and by replay, not in the
    /// socket library's (`connection reset (error set): … (errno: 111)`).
    @Test func aServerThatIsNotThereIsSaidPlainly() throws {
        let port = Peers.freePort()
        let repl = try Self.inRoot(["repl", "127.0.0.1:\(port)", "--no-history"], stdin: Data("version\n".utf8))
        #expect(repl.status != 0)
        #expect(repl.err.contains("cannot connect to tcp!127.0.0.1!\(port): Connection refused\n"), "\(repl.err)")
        let unix = try Self.inRoot(["repl", "unix:/nonexistent-ninescope/9p.sock", "--no-history"], stdin: Data())
        #expect(unix.err.contains("cannot connect to unix!/nonexistent-ninescope/9p.sock: No such file or directory\n"),
                "\(unix.err)")
        let replay = try Self.inRoot(["replay", "Captures/diod-ls.pcapng", "--to", "127.0.0.1:\(port)"])
        #expect(replay.status != 0)
        #expect((replay.out + replay.err).contains("connection 0: cannot connect: Connection refused\n"), "\(replay.out)\(replay.err)")
        for r in [repl, unix, replay] {
            #expect(!(r.out + r.err).contains("errno"), "\(r.out)\(r.err)")
        }
    }

    /// In 9P2000.u and 9P2000 a directory's Rread shows its entries: their names on the line, and each
    /// entry's qid, mode, length and owner below it.
    @Test(arguments: ["9P2000.u", "9P2000"])
    func directoryReadsShowTheirEntries(_ version: String) throws {
        let server = try NinescopeProcess.start(["serve", "--listen", "127.0.0.1:0", "--driver", "memory"])
        let input = "version 8192 \(version)\nattach 1 root\nwalk 1 2\nopen 2 0\nread 2 0 8000\n"
        let r = try Self.inRoot(["repl", server.address, "--no-history", "--timeout", "20"], stdin: Data(input.utf8))
        let lines = r.out.split(separator: "\n").map(String.init)
        let read = try #require(lines.first { $0.hasPrefix("<- Rread ") }, "\(r.out)\(r.err)")
        #expect(read.contains(" nentries 4 ") && read.contains(":README") && read.contains(":docs"), "\(read)")
        let entries = lines.filter { $0.hasPrefix("   ") && $0.contains(": (") }
        #expect(entries.count == 4, "\(r.out)")
        #expect(entries.contains { $0.contains(" d) mode 0x800001ed DMDIR|0755 length 0 ") && $0.hasSuffix("'docs'") },
                "\(entries)")
        #expect(!r.out.contains("   data 0x"), "\(r.out)")
    }

    /// `ls` shows each name as the server sent its bytes, escaped as canonical lines escape them: a name
    /// that is not UTF-8 keeps its bytes (`bad\xff\xfe`, not replacement characters), in every dialect;
    /// and such a name typed with the same escapes reaches the file (`cat`, `stat`).
    @Test(arguments: ["9P2000.L", "9P2000.u", "9P2000"])
    func lsShowsNamesAsTheirBytes(_ version: String) throws {
        let export = Peers.tempDir("repl-names")
        for name in [Array("bad".utf8) + [0xFF, 0xFE], Array("new\nline".utf8), Array("plain".utf8)] {
            #expect(Peers.createFile(in: export, name: name, contents: Array("content of \(name.count) bytes\n".utf8)))
        }
        let server = try NinescopeProcess.start(["serve", "--listen", "127.0.0.1:0", "--driver", "local:\(export)"])
        let input = "version 8192 \(version)\nattach 1 root\nls /\ncat /bad\\xff\\xfe\nstat \"new\\nline\"\n"
        let r = try Self.inRoot(["repl", server.address, "--no-history", "--timeout", "20"], stdin: Data(input.utf8))
        let listed = r.out.split(separator: "\n").map(String.init)
            .filter { $0.hasPrefix("   ") && !$0.contains(":") && !$0.dropFirst(3).contains(" ") }
        #expect(listed.sorted() == ["   bad\\xff\\xfe", "   new\\nline", "   plain"], "\(r.out)\(r.err)")
        #expect(r.out.contains("\ncontent of 5 bytes\n"), "\(r.out)\(r.err)")
        #expect(r.status == 0, "\(r.out)\(r.err)")
    }

    /// A server written for a test: accepts one client on `listener` (on a thread of its own) and runs `body`
    /// with the connection's descriptor, closing it after.
    static func serveOneClient(_ listener: LoopbackSocket, _ body: @escaping @Sendable (Int32) -> Void) {
        #expect(listen(listener.descriptor, 1) == 0)
        let served = Thread {
            let c = accept(listener.descriptor, nil, nil)
            guard c >= 0 else { return }
            defer { close(c) }
            body(c)
        }
        served.start()
    }

    /// A server whose reply cannot be framed (its size field says 2 GiB) ends the connection, and the REPL
    /// says why in those terms, not as the server closing it.
    @Test func aServerStreamThatCannotBeFramedIsSaidSo() throws {
        let listener = LoopbackSocket()
        defer { listener.close() }
        Self.serveOneClient(listener) { c in
            var buffer = [UInt8](repeating: 0, count: 4096)
            _ = read(c, &buffer, buffer.count)   // the Tversion
            let reply: [UInt8] = [0xFF, 0xFF, 0xFF, 0x7F, 101, 0xFF, 0xFF]
            _ = write(c, reply, reply.count)
            while read(c, &buffer, buffer.count) > 0 {}   // until the client closes
        }
        let r = try Self.inRoot(["repl", "127.0.0.1:\(listener.port)", "--no-history", "--timeout", "20"],
                               stdin: Data("version\n".utf8))
        let text = r.out + r.err
        #expect(text.contains("connection lost: the server sent a frame size of 2147483647 bytes, above the "
                              + "16777216 this client takes (reconnect to dial again)"), "\(text)")
        #expect(!text.contains("closed by the server"), "\(text)")
        #expect(!r.timedOut)
    }

    /// Replies the manuals forbid, from a server written for the test over a real socket: an Rversion msize
    /// above the client's, an Rwalk with more qids than names, an Rread with more bytes than asked. The REPL's
    /// tracker and the proxy's in front of the server name each.
    @Test func repliesTheManualsForbidAreAnomalies() throws {
        let listener = LoopbackSocket()
        defer { listener.close() }
        Self.serveOneClient(listener) { c in
            var splitter = FrameSplitter()
            var buffer = [UInt8](repeating: 0, count: 65536)
            while case let n = read(c, &buffer, buffer.count), n > 0 {
                splitter.append(buffer[0..<n])
                for case .frame(let frame) in splitter.drain() {
                    guard let t = try? Fcall.decode(frame, dialect: .l) else { continue }
                    let reply: Message = switch t.message {
                    case .tversion(let v): .rversion(Rversion(msize: v.msize * 2, version: v.version))
                    case .tattach: .rattach(Rattach(qid: Qid(type: .dir, path: 1)))
                    case .twalk(let w): .rwalk(Rwalk(wqids: Array(repeating: Qid(path: 2), count: w.wnames.count + 1)))
                    case .tlopen: .rlopen(Rlopen(qid: Qid(path: 2), iounit: 0))
                    case .tread(let r): .rread(Rread(data: Array(repeating: 0x61, count: Int(r.count) + 3)))
                    default: .rlerror(Rlerror(ecode: .EOPNOTSUPP))
                    }
                    let bytes = Fcall(tag: t.tag, reply).encode(dialect: .l)
                    _ = bytes.withUnsafeBufferPointer { write(c, $0.baseAddress, $0.count) }
                }
            }
        }
        let proxy = try ProxyProcess(upstream: "127.0.0.1:\(listener.port)")
        defer { proxy.stop() }
        let lines = "version 8192\nattach 0 nobody\nwalk 0 1 f\nlopen 1 rdonly\nread 1 0 5\n"
        let r = try Self.inRoot(["repl", proxy.listenAddress, "--no-history", "--timeout", "20"], stdin: Data(lines.utf8))
        Self.expectClean(r, "a server that breaks the manuals")
        let said = ["Rversion msize 16384 is more than the Tversion's 8192 (version(5): the server's msize must be "
                    + "less than or equal to the client's)",
                    "Rwalk with 2 qids answers a walk of 1 name", "Rread count 8 is more than the Tread asked for (5)"]
        for (kind, text) in zip(["msize-raised", "bad-rwalk", "reply-over-count"], said) {
            #expect(r.out.contains("   anomaly: " + text), "the REPL: \(r.out)")
            #expect(proxy.waitForOutput { $0.contains("! \(kind): " + text) }, "the proxy: \(proxy.stdout)")
        }
    }

    /// Malformed frames sent with `hex` reach the server byte for byte (a proxy in between records them)
    /// and the REPL survives the server's reaction, whatever it is.
    @Test func hexFramesReachTheServerAndTheReplSurvives() throws {
        let server = try NinescopeProcess.start(["serve", "--listen", "127.0.0.1:0", "--driver", "memory"])
        defer { server.stop() }
        let proxy = try ProxyProcess(upstream: server.address, extra: ["--headless", "--json"])
        defer { proxy.stop() }
        let lines = """
        version 8192
        attach 0 nobody
        -hex 07000000 78 0800
        -hex 0b000000 c8 0a00 01020304
        -hex 0b000000 06 0900 00000000
        clunk 0
        expect Rclunk
        """
        let r = try Self.inRoot(["repl", proxy.listenAddress, "--no-history"], stdin: Data(lines.utf8))
        Self.expectClean(r, "hex frames")
        #expect(proxy.waitForOutput { $0.contains("\"typecode\":121") }, "no Rclunk relayed:\n\(proxy.stdout.suffix(2000))")
        let toServer = try RealTraffic.jsonLines(proxy.stdout).filter {
            ($0["event"] as? String) == "message" && ($0["direction"] as? String) == "c2s"
        }
        // The three raw frames were relayed as sent: the short Tclunk whole, the others field by field.
        let short = toServer.first { ($0["malformed"] as? [String: Any])?["hex"] as? String == "07000000780800" }
        #expect(short != nil, "the short Tclunk was not relayed as sent: \(toServer)")
        func body(_ code: Int) -> String? {
            let m = toServer.first { ($0["typecode"] as? Int) == code && ($0["size"] as? Int) == 11 }
            return ((m?["fields"] as? [String: Any])?["body"] as? [String: Any])?["hex"] as? String
        }
        #expect(body(200) == "01020304", "type 200 frame: \(toServer)")
        #expect(body(6) == "00000000", "Tlerror frame: \(toServer)")
    }

    /// walk(5): `..` in the attach root is the root. diod (exporting a directory, no chroot) answers with the
    /// export's parent, and both the REPL's tracker and the proxy's in front of it say so; our own server,
    /// which keeps walks inside the export, gives the root's qid and nothing is said.
    @Test func aWalkOutOfTheExportIsAnAnomaly() throws {
        let export = Peers.tempDir("dotdot") + "/export"
        try FileManager.default.createDirectory(atPath: export + "/d", withIntermediateDirectories: true)
        let diod = try Self.diod(exporting: export)
        defer { diod.stop() }
        let local = try NinescopeProcess.start(["serve", "--listen", "127.0.0.1:0", "--driver", "local:" + export])
        defer { local.stop() }
        for (upstream, escapes) in [(diod.address, true), (local.address, false)] {
            let proxy = try ProxyProcess(upstream: upstream)
            defer { proxy.stop() }
            let lines = "version\nattach 0 nobody \(export)\nwalk 0 1 d .. ..\nclunk 1\n"
            let r = try Self.inRoot(["repl", proxy.listenAddress, "--no-history"], stdin: Data(lines.utf8))
            Self.expectClean(r, "walking .. at the root")
            #expect(proxy.waitForOutput { $0.contains("Rclunk") }, "\(proxy.stdout.suffix(2000))")
            let said = "'..' at the attach root \(export):/ (name 2 of the walk) gave qid ("
            #expect(r.out.contains("   anomaly: " + said) == escapes, "\(upstream): \(r.out)")
            #expect(proxy.stdout.contains("! walk-left-root: " + said) == escapes, "\(upstream): \(proxy.stdout)")
            #expect(proxy.stdout.contains("walk-left-root") == escapes, "\(proxy.stdout)")
        }
    }

    // MARK: replay

    /// Recreates the export the diod samples were captured from (Captures/README.md), at its own path or
    /// at `export`.
    static func sampleExport(at export: String = "/tmp/ninescope-sample-export") throws -> String {
        let fm = FileManager.default
        try? fm.removeItem(atPath: export)
        try fm.createDirectory(atPath: export + "/sub/deeper", withIntermediateDirectories: true)
        try "hello, 9p\n".write(toFile: export + "/hello.txt", atomically: true, encoding: .utf8)
        try "nested\n".write(toFile: export + "/sub/deeper/n.txt", atomically: true, encoding: .utf8)
        let data = (0..<20000).map { UInt8(truncatingIfNeeded: $0 * 131 + ($0 >> 8)) }
        _ = fm.createFile(atPath: export + "/data.bin", contents: Data(data))
        return export
    }

    @Test func replayAgainstTheServerThatProducedIt() throws {
        let export = try Self.sampleExport()
        let diod = try Self.diod(exporting: export)
        defer { diod.stop() }
        let same = try Self.inRoot(["replay", "Captures/diod-cat.pcapng", "--to", diod.address, "--diff"])
        Self.expectClean(same, "diod-cat replayed to diod")
        #expect(same.out.contains("21 answered, 21 compared, 0 differ"), "\(same.out.suffix(800))\(same.err)")

        let synth = try NinescopeProcess.start(["serve", "--listen", "127.0.0.1:0", "--driver", "synth"])
        defer { synth.stop() }
        let flush = try Self.inRoot(["replay", "Captures/synth-error-flush.pcapng", "--to", synth.address, "--diff"])
        Self.expectClean(flush, "synth-error-flush replayed to synth")
        #expect(flush.out.contains("0 differ"), "\(flush.out.suffix(800))\(flush.err)")
    }

    /// A capture of only what the client sent (tshark keeping the packets to port 564: no reply at all) is
    /// replayed in the order the client kept: each Tversion's reply awaited, each request after the one
    /// whose tag it uses again. Sent as soon as possible instead, the requests reused tags still in flight
    /// and raced their own walks, and diod dropped the connections (once it crashed).
    @Test func aCaptureOfTheClientsSideAloneReplaysInOrder() throws {
        let export = try Self.sampleExport()
        let diod = try Self.diod(exporting: export)
        defer { diod.stop() }
        let clientSide = Peers.tempDir("replay-client-side") + "/client.pcapng"
        let cut = try Peers.run("/usr/bin/tshark", ["-r", Peers.repoRoot + "/Captures/diod-cat.pcapng",
                                                    "-Y", "tcp.dstport == 564", "-w", clientSide])
        #expect(cut.status == 0, "\(cut.err)")
        let decoded = try Self.inRoot(["decode", clientSide])
        #expect(decoded.out.contains("→ Tversion") && !decoded.out.contains("← R"), "\(decoded.out.prefix(600))")
        for _ in 0..<3 {
            let r = try Self.inRoot(["replay", clientSide, "--to", diod.address])
            Self.expectClean(r, "the client's side of diod-cat replayed to diod")
            #expect(r.out.contains("replayed 21 of 21 requests, 21 answered"), "\(r.out.suffix(800))\(r.err)")
            #expect(!(r.out + r.err).contains("problem:"), "\(r.out.suffix(1500))\(r.err)")
        }
        #expect(diod.process.isRunning)
    }

    /// The same files exported at another path: the captured attach names a path diod does not export,
    /// so nothing after it works; with `--aname` the replay is as faithful as to the original export.
    @Test func replayToAnExportAtAnotherPathWithAname() throws {
        let export = try Self.sampleExport(at: Peers.tempDir("replay-aname") + "/copy")
        let diod = try Self.diod(exporting: export)
        defer { diod.stop() }
        let plain = try Self.inRoot(["replay", "Captures/diod-cat.pcapng", "--to", diod.address, "--diff"])
        #expect(plain.status == 1, "exit \(plain.status)\n\(plain.out.suffix(800))")
        #expect(plain.out.contains("replayed: Rlerror"), "\(plain.out.suffix(1500))")
        // The report says why: the attach was refused, and what would mend it.
        #expect(plain.out.contains("note: the server refused an attach that the capture shows accepted"), "\(plain.out.suffix(1500))")
        #expect(plain.out.contains("note: --aname PATH"), "\(plain.out.suffix(1500))")
        let moved = try Self.inRoot(["replay", "Captures/diod-cat.pcapng", "--to", diod.address, "--diff",
                                     "--aname", export, "--verbose"])
        Self.expectClean(moved, "diod-cat replayed to a copy of its export")
        #expect(moved.out.contains("21 answered, 21 compared, 0 differ"), "\(moved.out.suffix(800))\(moved.err)")
        #expect(moved.out.contains("aname '\(export)'"), "\(moved.out.prefix(1500))")
        #expect(diod.process.isRunning)
    }

    @Test func replayAgainstADifferentServerReportsDifferences() throws {
        _ = try Self.sampleExport()
        let memory = try NinescopeProcess.start(["serve", "--listen", "127.0.0.1:0", "--driver", "memory"])
        defer { memory.stop() }
        let r = try Self.inRoot(["replay", "Captures/diod-cat.pcapng", "--to", memory.address, "--diff"])
        #expect(r.status == 1, "exit \(r.status)\n\(r.out.suffix(800))")
        // The walk to hello.txt fails on the memory server: the difference names both replies.
        #expect(r.out.contains("captured: Rwalk"), "\(r.out.suffix(1500))")
        #expect(r.out.contains("replayed: Rlerror"), "\(r.out.suffix(1500))")
        let summary = try #require(r.out.split(separator: "\n").last { $0.hasPrefix("replayed ") })
        #expect(!summary.hasSuffix(" 0 differ"), "\(summary)")
        // The open, reads and clunk of the fid that walk did not make follow from it, one line each.
        #expect(r.out.contains("step 4 (connection 0): Tlopen tag 0 fid 1 flags 0x0 RDONLY\n  follows from step 3, "
                               + "where fid 1 was not made: replayed Rlerror"), "\(r.out.suffix(1500))")
        #expect(summary.hasSuffix("12 differ (10 only follow from an earlier one: a fid it left otherwise)"), "\(summary)")

        // Without --diff the same replay succeeds (every request was answered), and says which replies were
        // errors where the capture has none.
        let plain = try Self.inRoot(["replay", "Captures/diod-cat.pcapng", "--to", memory.address])
        #expect(plain.status == 0, "exit \(plain.status)\n\(plain.err)")
        #expect(plain.out.contains("12 replies are errors where the capture has none (--diff compares every reply); 10 of "
                                   + "them only follow from an earlier one (a fid it left otherwise); the 2 others:"), "\(plain.out)")
        #expect(plain.out.contains("Twalk") && plain.out.contains("→ Rlerror"), "\(plain.out)")
    }

    /// diodload's Tgetattrs of ctl:/null (a QTTMP file on diod, a plain one on our memory server) all differ
    /// alike: the difference is shown once with how many more steps repeat it, and the total still counts
    /// every step (before, over two hundred identical `qid.type: captured 0x4, replayed 0x0` blocks).
    @Test func alikeDifferencesOfABurstAreShownOnce() throws {
        let memory = try NinescopeProcess.start(["serve", "--listen", "127.0.0.1:0", "--driver", "memory"])
        defer { memory.stop() }
        let r = try Self.inRoot(["replay", "Captures/diodload-burst.pcapng", "--to", memory.address, "--diff"])
        #expect(r.status == 1, "exit \(r.status)\n\(r.out.suffix(800))\(r.err)")
        let lines = r.out.split(separator: "\n").map(String.init)
        #expect(lines.count { $0.hasSuffix("qid.type: captured 0x4, replayed 0x0") } == 1, "\(r.out.prefix(3000))")
        // Each step shown, plus the repeats counted under it, make the summary's total.
        let shown = lines.count { $0.hasPrefix("step ") }
        let repeated = lines.compactMap { line -> Int? in
            guard line.hasPrefix("  … and "), line.contains(" the same way (") else { return nil }
            return Int(line.dropFirst("  … and ".count).prefix { $0.isNumber })
        }
        #expect(repeated.contains { $0 > 100 }, "\(r.out.prefix(3000))")
        let summary = try #require(lines.last { $0.hasPrefix("replayed ") })
        #expect(summary.hasSuffix(" compared, \(shown + repeated.reduce(0, +)) differ"), "\(summary)\n\(r.out.prefix(3000))")
    }
}