import Foundation
import InspectorCore
import NinePCapture
import NinePSession
import NinePTestSupport
import NinePWire
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `ninescope decode FILE` runs on two threads (the reader packs frames into batches and decodes and
/// renders ahead; a worker runs the tracker and writes). Its output must be byte for byte what one thread
/// running the capture reader, a full tracker and `TraceLine` prints — over several batches, frames larger
/// than a batch, several dialects, a trace that starts mid-session (where the guess made ahead is wrong),
/// malformed frames and garbage.
@Suite struct DecodePipelineTests {
    /// A pcapng capture (ninescope's own format) of five connections and about 9,000 messages.
    static func capture() -> [UInt8] {
        var w = PcapngWriter(options: PcapngWriterOptions(toolVersion: "test"))
        var file = w.header()
        var t: Int64 = 1_700_000_000_000_000_000
        func send(_ conn: ConnectionID, _ wire: Dialect, _ tag: NinePWire.Tag, _ m: Message) {
            t += 1_500
            let dir: Direction = (m.typeCode & 1) == 0 ? .toServer : .toClient
            file += w.frame(conn: conn, direction: dir, t: t, bytes: Fcall(tag: tag, m).encode(dialect: wire), marks: [])
        }
        func raw(_ conn: ConnectionID, _ dir: Direction, _ bytes: [UInt8]) {
            t += 1_500
            file += w.frame(conn: conn, direction: dir, t: t, bytes: bytes, marks: [])
        }
        // 9P2000.L, with a long run of exchanges and a read larger than one hand-off batch.
        file += w.open(conn: 1, clientAddress: "127.0.0.1:40001", upstreamAddress: "tcp!127.0.0.1!564", t: t)
        send(1, .l, .notag, .tversion(Tversion(msize: 1 << 20, version: "9P2000.L")))
        send(1, .l, .notag, .rversion(Rversion(msize: 1 << 20, version: "9P2000.L")))
        send(1, .l, 1, .tattach(Tattach(fid: 0, uname: "root", aname: "/srv", nUname: 0)))
        send(1, .l, 1, .rattach(Rattach(qid: Qid(type: .dir, path: 1))))
        for i in 0..<1_500 {
            let fid = Fid(UInt32(100 + i % 40))
            send(1, .l, 2, .twalk(Twalk(fid: 0, newfid: fid, wnames: ["dir", P9String("file-\(i)")])))
            send(1, .l, 2, .rwalk(Rwalk(wqids: [Qid(type: .dir, path: 2), Qid(path: UInt64(1_000 + i))])))
            send(1, .l, 3, .tgetattr(Tgetattr(fid: fid, requestMask: i % 3 == 0 ? .all : .basic)))
            send(1, .l, 3, .rgetattr(Rgetattr(valid: .basic, qid: Qid(path: UInt64(1_000 + i)), mode: 0o100644,
                                              uid: UInt32(i), size: UInt64(i) * 4096, mtimeSec: UInt64(1_700_000_000 + i))))
            send(1, .l, 4, .tclunk(Tclunk(fid: fid)))
            send(1, .l, 4, .rclunk)
        }
        send(1, .l, 5, .twalk(Twalk(fid: 0, newfid: 7, wnames: ["big"])))
        send(1, .l, 5, .rwalk(Rwalk(wqids: [Qid(path: 9)])))
        send(1, .l, 6, .tlopen(Tlopen(fid: 7, flags: LOpenFlags(rawValue: 0))))
        send(1, .l, 6, .rlopen(Rlopen(qid: Qid(path: 9), iounit: 0)))
        send(1, .l, 7, .tread(Tread(fid: 7, offset: 0, count: 400_000)))
        send(1, .l, 7, .rread(Rread(data: (0..<400_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })))
        var bad = Fcall(tag: 8, .tclunk(Tclunk(fid: 7))).encode(dialect: .l)
        bad.append(0xEE)                                  // trailing byte: malformed
        bad[0] = UInt8(bad.count)
        raw(1, .toServer, bad)
        file += w.close(conn: 1, t: t + 1)               // fid 7 leaks

        // 9P2000.u.
        file += w.open(conn: 2, clientAddress: "127.0.0.1:40002", upstreamAddress: "tcp!127.0.0.1!564", t: t)
        send(2, .u, .notag, .tversion(Tversion(msize: 8192, version: "9P2000.u")))
        send(2, .u, .notag, .rversion(Rversion(msize: 8192, version: "9P2000.u")))
        send(2, .u, 1, .tattach(Tattach(fid: 0, uname: "glenda", aname: "", nUname: 1000)))
        send(2, .u, 1, .rattach(Rattach(qid: Qid(type: .dir, path: 1))))
        for i in 0..<300 {
            send(2, .u, 2, .topen(Topen(fid: 0, mode: OpenMode(rawValue: 0))))
            send(2, .u, 2, i % 2 == 0 ? .rerror(Rerror(ename: "is a directory", errno: 21))
                                      : .ropen(Ropen(qid: Qid(type: .dir, path: 1), iounit: 0)))
        }
        file += w.close(conn: 2, reset: true, t: t + 1)

        // Classic 9P2000 picked up mid-session: the reader's guess (9P2000.L) is wrong at first.
        for i in 0..<200 {
            send(3, .p9, 9, .tstat(Tstat(fid: 5)))
            send(3, .p9, 9, .rerror(Rerror(ename: P9String("no stat \(i)"))))
        }
        // 9P2000 negotiated, with an unknown message type.
        send(4, .p9, .notag, .tversion(Tversion(msize: 8192, version: "9P2000")))
        send(4, .p9, .notag, .rversion(Rversion(msize: 8192, version: "9P2000")))
        raw(4, .toServer, [9, 0, 0, 0, 250, 1, 0, 0xAB, 0xCD])
        // Bytes that never frame.
        raw(5, .toServer, [3, 0, 0, 0, 1, 2, 3])
        return file
    }

    /// What one thread prints for `bytes` (the semantics `decode` must keep).
    static func reference(_ bytes: [UInt8], style: TraceLine.Style) throws -> String {
        var reader = try CaptureReader(bytes: bytes)
        var decoder = CaptureDecoder()
        var ingest = CaptureIngest()
        var tracker = SessionTracker()
        let format = TraceLine(style: style)
        var out: [UInt8] = []
        func take(_ e: SessionEvent) {
            switch e {
            case let .connectionOpened(conn, at, info):
                _ = tracker.handle(e)
                out += Array(format.opened(conn: conn, at: at, info: info).utf8) + [0x0A]
            case let .connectionClosed(conn, at, reason):
                format.appendLines(for: tracker.handle(e), to: &out)
                out += Array(format.closed(conn: conn, at: at, reason: reason).utf8) + [0x0A]
            case .frame, .garbage:
                format.appendLines(for: tracker.handle(e), to: &out)
            }
        }
        while let packet = reader.next() {
            for ce in decoder.process(packet) { for se in ingest.ingest(ce) { take(se) } }
        }
        for ce in decoder.finish() { for se in ingest.ingest(ce) { take(se) } }
        for se in ingest.finish() { take(se) }
        return String(decoding: out, as: UTF8.self)
    }

    @Test func decodeMatchesOneThreadByteForByte() throws {
        let bytes = Self.capture()
        let path = Peers.tempDir("decode-pipeline") + "/mixed.pcapng"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))

        let text = try Peers.run(Peers.ninescope, ["decode", path])
        #expect(text.status == 0, "\(text.err)")
        let expected = try Self.reference(bytes, style: .text)
        let lines = expected.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count > 9_000, "the capture should span several batches (\(lines.count) lines)")
        // The scenario has what it is meant to have.
        #expect(expected.contains("Rread tag 7 count 400000"))
        #expect(expected.contains("malformed"))
        #expect(expected.contains("garbage"))
        #expect(expected.contains("Tstat tag 9 fid 5"))
        #expect(expected.contains(" c2 ← Rerror tag 2 ename 'is a directory' errno 21"))
        if text.out != expected {
            let ours = text.out.split(separator: "\n", omittingEmptySubsequences: false)
            let first = Array(zip(ours, lines)).firstIndex { $0 != $1 } ?? min(ours.count, lines.count)
            Issue.record("first difference at line \(first): decode \(first < ours.count ? String(ours[first]) : "<end>") | expected \(first < lines.count ? String(lines[first]) : "<end>")")
        }

        let json = try Peers.run(Peers.ninescope, ["decode", path, "--json"])
        #expect(json.status == 0, "\(json.err)")
        #expect(json.out == (try Self.reference(bytes, style: .json)))

        // The file is read in pieces (1 MiB; here also 997 and 65537 bytes, so that pcapng blocks and
        // frames straddle them): the output does not depend on where the pieces end.
        #expect(bytes.count > 1 << 20, "the capture should span several 1 MiB pieces (\(bytes.count) bytes)")
        for chunk in ["997", "65537"] {
            let r = try Peers.run(Peers.ninescope, ["decode", path], 
                                 environment: ProcessInfo.processInfo.environment.merging(["NINESCOPE_READ_CHUNK": chunk]) { $1 })
            #expect(r.status == 0, "\(r.err)")
            #expect(r.out == expected, "read in pieces of \(chunk) bytes, the output differs")
        }
    }

    /// An input that cannot be read, or is not a capture, is the input's fault, not the command line's: one
    /// error line, no usage text, exit status 1 (a usage error is 64).
    @Test func unreadableOrNonCaptureInputIsAnInputErrorNotAUsageError() throws {
        let missing = Peers.tempDir("decode-input") + "/missing.pcapng"
        let notCapture = Peers.repoRoot + "/README.md"
        for (args, says) in [(["decode", missing], "cannot read '\(missing)': No such file or directory"),
                             (["decode", notCapture], "'\(notCapture)' is not a pcap or pcapng capture"),
                             (["bench-trace", notCapture], "is not a pcap or pcapng capture"),
                             (["replay", missing, "--to", "127.0.0.1:1"], "cannot read")] {
            let r = try Peers.run(Peers.ninescope, args, timeout: 30)
            #expect(r.status == 1, "\(args): status \(r.status), stderr \(r.err)")
            #expect(r.err.contains(says), "\(args): \(r.err)")
            #expect(!r.err.contains("Usage:"), "\(args): \(r.err)")
        }
        let usage = try Peers.run(Peers.ninescope, ["decode", "--dialect", "bogus", notCapture], timeout: 30)
        #expect(usage.status == 64 && usage.err.contains("unknown dialect 'bogus'"), "\(usage.err)")
    }
}

/// A capture of the loopback interface taken with dumpcap while diod served diodls on a port of its own and
/// an HTTP-like exchange ran beside it: `decode` shows the 9P connection alone, as tshark does when told
/// the port, and names the other one on standard error.
@Suite(.serialized) struct MixedCaptureTests {
    /// `decode --check` as a test suite's gate: diodls through the proxy, captured, against diod (which
    /// lets `..` out of the export: walk-left-root) fails the check, exit 1, naming the anomaly; with
    /// `--allow walk-left-root` it passes; the same listing against our own server passes as it is.
    @Test func checkFailsOnAnomaliesAndAllowsNamedKinds() throws {
        let export = Peers.tempDir("check-export")
        try FileManager.default.createDirectory(atPath: export + "/sub", withIntermediateDirectories: true)
        try "hello\n".write(toFile: export + "/hello.txt", atomically: true, encoding: .utf8)
        let diod = try #require(try Diod.start(export: export))
        defer { diod.stop() }
        let ours = try NinescopeProcess.start(["serve", "--listen", "127.0.0.1:0", "--driver", "local:" + export])
        defer { ours.stop() }
        var captures: [String] = []
        for (i, upstream) in [diod.address, ours.address].enumerated() {
            let file = Peers.tempDir("check") + "/ls\(i).pcapng"
            let proxy = try ProxyProcess(upstream: upstream, extra: ["--quiet", "--capture", file])
            let ls = try DiodClients.ls(proxy.listenAddress, aname: export, ["/"], long: true)
            #expect(ls.status == 0, "diodls: \(ls.err)")
            #expect(proxy.stop().status == 0)
            captures.append(file)
        }
        let failed = try Peers.run(Peers.ninescope, ["decode", "--check", captures[0]])
        #expect(failed.status == 1, "\(failed.out)\(failed.err)")
        let lines = failed.out.split(separator: "\n").map(String.init)
        #expect(lines.dropLast().allSatisfy { $0.contains(" ! walk-left-root: '..' at the attach root \(export):/") },
                "\(lines)")
        #expect(lines.count >= 2 && lines.last?.hasPrefix("check: \(lines.count - 1) anomal") == true, "\(lines)")
        #expect(lines.last?.hasSuffix(" walk-left-root; failed") == true, "\(lines)")
        let allowed = try Peers.run(Peers.ninescope, ["decode", "--check", "--allow", "walk-left-root", captures[0]])
        #expect(allowed.status == 0 && allowed.out.split(separator: "\n").count == 1, "\(allowed.out)")
        #expect(allowed.out.hasSuffix(" walk-left-root allowed); passed\n"), "\(allowed.out)")
        let clean = try Peers.run(Peers.ninescope, ["decode", "--check", "--json", captures[1]])
        #expect(clean.status == 0, "\(clean.out)\(clean.err)")
        let summary = try #require(try RealTraffic.jsonLines(clean.out).last)
        #expect(summary.pxEvent == "check" && summary["passed"] as? Bool == true, "\(clean.out)")
        #expect((summary["anomalies"] as? [String: Any])?.isEmpty == true && (summary["messages"] as? Int ?? 0) > 20,
                "\(clean.out)")
    }

    @Test func aCaptureWithOtherTrafficDecodesAsItsNinePAlone() throws {
        guard let dumpcap = Peers.which("dumpcap"), let tshark = Peers.which("tshark") else {
            Issue.record("dumpcap and tshark are not installed (`make test` installs them)")
            return
        }
        let export = Peers.tempDir("mixed-export")
        try "hello\n".write(toFile: export + "/hello.txt", atomically: true, encoding: .utf8)
        let diod = try #require(try Diod.start(export: export))
        defer { diod.stop() }
        let other = try LoopbackExchange()
        let file = Peers.tempDir("mixed") + "/mixed.pcapng"
        let capture = try Peers.spawn(dumpcap, ["-q", "-i", "lo", "-f", "tcp port \(diod.port) or tcp port \(other.port)",
                                                "-w", file], log: file + ".log")
        #expect(Peers.waitForPath(file))
        Thread.sleep(forTimeInterval: 1.0)   // dumpcap writes its header before the capture is running
        let ls = try DiodClients.ls(diod.address, aname: export, ["/"])
        #expect(ls.status == 0, "diodls: \(ls.err)")
        try other.run(request: "GET / HTTP/1.1\r\nHost: test\r\n\r\n", reply: "HTTP/1.0 200 OK\r\n\r\nnot 9P\n")
        Thread.sleep(forTimeInterval: 1.0)
        Peers.stop(capture, signal: SIGINT)

        let decoded = try Peers.run(Peers.ninescope, ["decode", file])
        #expect(decoded.status == 0, "\(decoded.err)")
        let lines = decoded.out.split(separator: "\n").map(String.init)
        let opens = lines.filter { $0.contains(" + open ") }
        #expect(opens.count == 1 && opens.first?.contains("upstream 127.0.0.1:\(diod.port)") == true, "\(opens)")
        #expect(!decoded.out.contains("garbage"), "\(decoded.out)")
        #expect(decoded.err.contains(":\(other.port) does not look like 9P (it begins 'GET / HTTP/1.1\\r\\n'); skipped"),
                "\(decoded.err)")
        #expect(decoded.err.contains("`--port \(other.port)` decodes it as 9P"), "\(decoded.err)")
        // As many 9P messages as tshark finds on diod's port.
        let messages = lines.filter { $0.contains(" → T") || $0.contains(" ← R") }.count
        let t = try Peers.run(tshark, ["-r", file, "-d", "tcp.port==\(diod.port),9p", "-Y", "9p", "-T", "fields",
                                       "-e", "9p.msgtype"])
        let theirs = t.out.split(separator: "\n").flatMap { $0.split(separator: ",") }.count
        #expect(messages > 0 && messages == theirs, "ours \(messages), tshark \(theirs)")
        // Named with --port, the other connection is decoded as 9P (and is garbage).
        let forced = try Peers.run(Peers.ninescope, ["decode", "--port", "\(other.port)", file])
        #expect(forced.out.contains("garbage"), "\(forced.out)")
        // The inspector lists the 9P connection's exchanges and says on its message line what it skipped.
        guard let pane = try TmuxPane.start([Peers.ninescope, "view", file], width: 200, height: 30,
                                            env: InspectorTmuxTests.env) else { return }
        defer { pane.kill() }
        let shown = pane.wait { $0.contains("does not look like 9P") }
        #expect(shown.ok, "\(shown.screen)")
        #expect(shown.screen.contains(":\(other.port) does not look like 9P") && shown.screen.contains("Tversion"),
                "\(shown.screen)")
    }
}

/// A TCP listener on a free loopback port that answers one connection's request with a fixed reply.
final class LoopbackExchange {
    let port: UInt16
    private let listener: Int32

    init() throws {
        guard let (fd, bound) = Peers.listenOnLoopback(backlog: 1) else { throw POSIXError(.EADDRNOTAVAIL) }
        listener = fd
        port = bound
    }

    deinit { close(listener) }

    /// Connects, sends `request`, answers it from the accepted side with `reply`, and closes both.
    func run(request: String, reply: String) throws {
        guard let client = Peers.connectToLoopback(port) else { throw POSIXError(.ECONNREFUSED) }
        defer { close(client) }
        let server = accept(listener, nil, nil)
        guard server >= 0 else { throw POSIXError(.ECONNABORTED) }
        defer { close(server) }
        _ = Array(request.utf8).withUnsafeBytes { send(client, $0.baseAddress, $0.count, 0) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        _ = buffer.withUnsafeMutableBytes { recv(server, $0.baseAddress, $0.count, 0) }
        _ = Array(reply.utf8).withUnsafeBytes { send(server, $0.baseAddress, $0.count, 0) }
        _ = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
    }
}

/// `decode -` reads a capture from standard input: piped whole, it prints what the file gives; fed in two
/// parts with a pause between (as `tcpdump -U -w -` writes), the first part's lines come out before the
/// second is written.
@Suite struct DecodeFromStandardInputTests {
    @Test func aCapturePipedInDecodesAsTheFileAndALiveOneAsItComes() throws {
        let file = Peers.repoRoot + "/Captures/diod-ls.pcapng"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        let whole = try Peers.run(Peers.ninescope, ["decode", file])
        #expect(whole.status == 0 && !whole.out.isEmpty)
        let piped = try Peers.run(Peers.ninescope, ["decode", "-"], stdin: bytes)
        #expect(piped.status == 0 && piped.out == whole.out, "\(piped.err)")
        let stats = try Peers.run(Peers.ninescope, ["decode", "--stats", "-"], stdin: bytes)
        #expect(stats.status == 0 && stats.out.contains("Twalk"), "\(stats.out)\(stats.err)")

        let outPath = Peers.tempDir("decode-stdin") + "/out.txt"
        #expect(FileManager.default.createFile(atPath: outPath, contents: nil))
        let output = try #require(FileHandle(forWritingAtPath: outPath))
        let input = Pipe()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Peers.ninescope)
        process.arguments = ["decode", "-"]
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let half = bytes.count / 2
        input.fileHandleForWriting.write(bytes.prefix(half))
        var early = ""
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            early = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
            if early.hasSuffix("\n") { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let earlyLines = early.split(separator: "\n").count
        #expect(earlyLines > 0 && earlyLines < whole.out.split(separator: "\n").count,
                "\(earlyLines) lines while the input paused")
        #expect(whole.out.hasPrefix(early), "the early lines are the capture's first ones")
        input.fileHandleForWriting.write(bytes.suffix(from: half))
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        try output.close()
        #expect(process.terminationStatus == 0)
        #expect((try? String(contentsOfFile: outPath, encoding: .utf8)) == whole.out)
        // view reads its keys from standard input: it refuses `-`.
        let view = try Peers.run(Peers.ninescope, ["view", "-"])
        #expect(view.status != 0 && view.err.contains("`ninescope decode -` reads one from standard input"),
                "\(view.err)")
    }
}
