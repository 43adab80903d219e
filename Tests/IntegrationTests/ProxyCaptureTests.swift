import Foundation
import Testing
import NinePTestSupport
import NinePWire
#if canImport(Glibc)
import Glibc
#endif

/// Issue 3: `ninescope proxy --capture FILE` writes pcapng that `ninescope decode` and tshark read back the
/// same way; it reaches the disk while the proxy runs and survives `kill -9`.
@Suite(.serialized) struct ProxyCaptureTests {
    static func captureDir() -> String { Peers.tempDir("pxcap") }

    /// The number of a file named as Wireshark's file sets are, `PREFIX_NNNNN_YYYYMMDDHHMMSS.EXT`, whose
    /// time is within a day of now; nil for any other name.
    static func fileSetNumber(_ name: String, prefix: String, ext: String) -> Int? {
        guard name.hasPrefix(prefix + "_"), name.hasSuffix(ext) else { return nil }
        let middle = name.dropFirst(prefix.count + 1).dropLast(ext.count)
        guard let m = middle.wholeMatch(of: #/([0-9]{5})_([0-9]{14})/#) else { return nil }
        let now = Date()
        let stamp = DateFormatter()
        stamp.dateFormat = "yyyyMMddHHmmss"
        stamp.timeZone = TimeZone(identifier: "UTC")
        guard let time = stamp.date(from: String(m.2)), abs(time.timeIntervalSince(now)) < 86400 else { return nil }
        return Int(m.1)
    }

    /// An export (`hello.txt`, `sub/`, a `big.bin` of `bigSize` bytes), diod serving it on a port of its own,
    /// and `ninescope proxy` in front of diod with `extra` arguments. The caller kills diod at the end.
    static func diodAndProxy(bigSize: Int, extra: [String] = []) throws
        -> (export: String, diod: DiodOnPort, proxy: ProxyProcess) {
        let export = try RealTraffic.makeExport(bigSize: bigSize)
        let diod = DiodOnPort(export: export)
        try diod.start()
        return (export, diod, try ProxyProcess(upstream: diod.address, extra: extra))
    }

    @Test func captureReadsBackLikeTheLiveTraceAndLikeTshark() throws {
        let file = Self.captureDir() + "/trace.pcapng"
        let (export, diod, proxy) = try Self.diodAndProxy(bigSize: 300_000, extra: ["--headless", "--json", "--capture", file])
        let ls = try ProxyTool.client("diodls", ["-s", proxy.listenAddress, "-a", export, "-l", "/", "/sub"])
        #expect(ls.status == 0, "diodls: \(ls.err)")
        // msize 8192: the 300 kB file takes ~40 reads; one missing file gives an error reply.
        let cat = try ProxyTool.client("diodcat", ["-s", proxy.listenAddress, "-a", export, "-m", "8192", "hello.txt", "big.bin"])
        #expect(cat.status == 0, "diodcat: \(cat.err)")
        let missing = try ProxyTool.client("diodcat", ["-s", proxy.listenAddress, "-a", export, "no-such-file"])
        #expect(missing.status != 0)
        #expect(proxy.waitForOutput { s in s.split(separator: "\n").filter { $0.contains("\"event\":\"close\"") }.count == 3 })
        let stop = proxy.stop(signal: SIGINT)
        #expect(stop.exited && stop.status == 0)
        #expect(proxy.stderr.contains("capture \(file)"), "\(proxy.stderr)")

        let live = try RealTraffic.jsonLines(proxy.stdout).filter { $0.pxEvent == "message" }
        let (objects, result) = try ProxyTool.decodeJSON(file)
        #expect(result.status == 0, "decode: \(result.err)")
        #expect(result.err.isEmpty, "a cleanly stopped capture is complete: \(result.err)")
        let decoded = objects.filter { $0.pxEvent == "message" }
        #expect(decoded.count > 60, "only \(decoded.count) messages")
        // Same messages, connections, directions and timestamps as the live trace.
        #expect(decoded.count == live.count)
        for (i, (d, l)) in zip(decoded, live).enumerated() {
            #expect(d.pxConn == l.pxConn && d.pxTypecode == l.pxTypecode && (d["tag"] as? Int) == (l["tag"] as? Int),
                    "message \(i): \(d["line"] ?? "") vs live \(l["line"] ?? "")")
            #expect((d["direction"] as? String) == (l["direction"] as? String))
            #expect((d["t_ns"] as? Int) == (l["t_ns"] as? Int), "message \(i) time")
        }
        #expect(Set(objects.filter { $0.pxEvent == "open" }.compactMap(\.pxConn)) == [0, 1, 2])
        #expect(objects.filter { $0.pxEvent == "close" }.count == 3)
        #expect(decoded.contains { $0.pxTypeName == "Rlerror" }, "the missing file's error reply")

        // tshark's own 9P dissector agrees on every message's type, tag and fid (port 564 in our captures).
        let theirs = try #require(try RealTraffic.tsharkMessages(file: file, port: 564), "tshark is not installed")
        #expect(theirs.count == decoded.count, "tshark \(theirs.count) vs decode \(decoded.count)")
        for (i, (m, t)) in zip(decoded, theirs).enumerated() {
            #expect(m.pxTypecode == t.type, "message \(i): type \(m.pxTypecode ?? -1) vs tshark \(t.type)")
            #expect((m["tag"] as? Int) == t.tag, "message \(i): tag vs tshark \(t.tag)")
            if let tfid = t.fid {
                let fid = (m.pxFields["fid"] as? Int) ?? (m.pxFields["dfid"] as? Int)
                #expect(fid == tfid, "message \(i) (\(t.type)): fid \(String(describing: fid)) vs tshark \(tfid)")
            }
        }
        diod.kill()
    }

    /// Garbage and what ends inside a frame read back from the capture exactly as the live trace showed
    /// them: the same runs (the proxy scans a bad size with what follows it in the same read, and `decode`
    /// must not split such a run again), the same reasons, the same message numbers after them, and the same
    /// reason for the end in the unanswered reports.
    @Test func garbageReadsBackAsTheLiveTraceShowedIt() throws {
        let file = Self.captureDir() + "/garbage.pcapng"
        let server = try ProxyRecordingServer()
        let proxy = try ProxyProcess(upstream: server.address, extra: ["--headless", "--capture", file])
        let client = try ProxyRawSocket(proxy.listenAddress)
        try client.send(Fcall(tag: .notag, .tversion(Tversion(msize: 8192, version: "9P2000.L"))).encode(dialect: .l))
        #expect(proxy.waitForOutput { $0.contains("c0 → Tversion") })
        // A size of 3 and three more bytes, then a whole Tclunk, in one write.
        try client.send([3, 0, 0, 0, 0x78, 1, 0] + Fcall(tag: 1, .tclunk(Tclunk(fid: 5))).encode(dialect: .l))
        #expect(proxy.waitForOutput { $0.contains("c0 → Tclunk tag 1") })
        var state: UInt32 = 0x9e3779b9
        try client.send((0..<3000).map { _ in
            state ^= state << 13; state ^= state >> 17; state ^= state << 5
            return UInt8(truncatingIfNeeded: state >> 11)
        })
        usleep(200_000)
        try client.send(Array(Fcall(tag: 2, .tclunk(Tclunk(fid: 6))).encode(dialect: .l).prefix(9)))
        usleep(200_000)
        client.close()
        #expect(proxy.waitForOutput { $0.contains("c0 - close") })
        #expect(proxy.stop(signal: SIGINT).status == 0)
        func messages(_ text: String) -> [String] {
            text.split(separator: "\n").map(String.init).filter { $0.contains(" c0 ") }
        }
        let live = messages(proxy.stdout)
        #expect(live.contains { $0.contains("c0 → garbage 7 bytes 03000000780100: frame size 3 is below the 7-byte "
                                            + "minimum, and no frame header in the 3 bytes after it") }, "\(live)")
        #expect(live.contains { $0.contains("stream ended inside a frame") }, "\(live)")
        #expect(live.contains { $0.contains("! unanswered: Tclunk tag 1 (#2)") }, "\(live)")
        let decoded = try Peers.run(Peers.ninescope, ["decode", file])
        #expect(decoded.status == 0, "\(decoded.err)")
        #expect(messages(decoded.out) == live, "decode:\n\(decoded.out)\nlive:\n\(proxy.stdout)")
    }

    @Test func captureIsOnDiskWhileRunningAndReadableAfterKill9() throws {
        let file = Self.captureDir() + "/live.pcapng"
        let (export, diod, proxy) = try Self.diodAndProxy(bigSize: 1000, extra: ["--headless", "--capture", file])
        let ls = try ProxyTool.client("diodls", ["-s", proxy.listenAddress, "-a", export, "/"])
        #expect(ls.status == 0)
        #expect(proxy.waitForOutput { $0.contains("c0 - close") })
        let liveCount = proxy.stdoutLines.filter { $0.contains(" → ") || $0.contains(" ← ") }.count
        #expect(liveCount > 6)

        // The proxy keeps running; within about a second the whole session is on disk.
        var seen = 0
        let flushed = ProxyProcess.poll(timeout: 10, interval: 100_000) {
            guard let (objects, r) = try? ProxyTool.decodeJSON(file), r.status == 0 else { return false }
            seen = objects.filter { $0.pxEvent == "message" }.count
            return seen == liveCount && objects.contains { $0.pxEvent == "close" }
        }
        #expect(flushed, "decode saw \(seen) of \(liveCount) messages while the proxy ran")
        #expect(proxy.process.isRunning)

        // A second session, then kill -9 once it is flushed: everything flushed stays readable.
        let ls2 = try ProxyTool.client("diodls", ["-s", proxy.listenAddress, "-a", export, "/sub"])
        #expect(ls2.status == 0)
        #expect(proxy.waitForOutput { $0.contains("c1 - close") })
        let total = proxy.stdoutLines.filter { $0.contains(" → ") || $0.contains(" ← ") }.count
        #expect(ProxyProcess.poll(timeout: 10, interval: 100_000) {
            ((try? ProxyTool.decodeJSON(file))?.objects.filter { $0.pxEvent == "message" }.count ?? 0) == total
        })
        let killed = proxy.stop(signal: SIGKILL)
        #expect(!killed.exited)
        let (after, r) = try ProxyTool.decodeJSON(file)
        #expect(r.status == 0, "decode after kill -9: \(r.err)")
        // The file ends at a whole record, but without the end record a stop writes: decode says so.
        #expect(r.err.contains("the capture has no end record: the proxy writing it did not finish it"), "\(r.err)")
        #expect(after.filter { $0.pxEvent == "message" }.count == total)
        #expect(Set(after.filter { $0.pxEvent == "message" }.compactMap(\.pxConn)) == [0, 1])

        // Cut inside the last record (a kill during a write): decode reads what is whole and says so.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        let cut = Self.captureDir() + "/cut.pcapng"
        try bytes.prefix(bytes.count - 30).write(to: URL(fileURLWithPath: cut))
        let (partial, rc) = try ProxyTool.decodeJSON(cut)
        #expect(rc.status == 0)
        #expect(rc.err.contains("ends mid-record"), "\(rc.err)")
        #expect(!rc.err.contains("mid-block"), "said once: \(rc.err)")
        let partialCount = partial.filter { $0.pxEvent == "message" }.count
        #expect(partialCount > 0 && partialCount <= total)
        diod.kill()
    }

    @Test func textTraceShowsTimesConnectionsDirectionsAndLatency() throws {
        let (export, diod, proxy) = try Self.diodAndProxy(bigSize: 1000)
        let ls = try ProxyTool.client("diodls", ["-s", proxy.listenAddress, "-a", export, "/"])
        #expect(ls.status == 0)
        #expect(proxy.waitForOutput { $0.contains("c0 - close") })
        let lines = proxy.stdoutLines.map(String.init)
        // `HH:MM:SS.uuuuuu c0 + open client 127.0.0.1:PORT upstream 127.0.0.1:PORT`
        let open = try #require(lines.first)
        #expect(open.contains(" c0 + open client 127.0.0.1:") && open.hasSuffix("upstream \(diod.address)"), "\(open)")
        let clock = open.prefix(15)
        #expect(clock.count == 15 && clock.dropFirst(8).first == "." && clock.filter { $0 == ":" }.count == 2, "\(open)")
        let tversion = try #require(lines.first { $0.contains(" c0 → Tversion") })
        #expect(tversion.contains("9P2000.L"))
        let rversion = try #require(lines.first { $0.contains(" c0 ← Rversion") })
        // Replies name their request's message index (Tversion is message 0) after the latency.
        #expect(rversion.range(of: #"\d(\.\d+)?(ns|µs|ms|s) #0"#, options: .regularExpression) != nil, "latency: \(rversion)")
        let rattach = try #require(lines.first { $0.contains(" c0 ← Rattach") })
        let tattachIndex = try #require(lines.filter { $0.contains(" c0 → ") || $0.contains(" c0 ← ") }
            .firstIndex { $0.contains(" c0 → Tattach") })
        #expect(rattach.contains(" #\(tattachIndex) "), "\(rattach)")
        #expect(lines.contains { $0.contains(" c0 → Tattach") })
        #expect(lines.contains { $0.contains(" c0 ← Rreaddir") })
        #expect(lines.last?.contains(" c0 - close (eof)") == true)
        proxy.stop()
        diod.kill()
    }

    /// `--quiet` records without decoding: the bytes still pass unchanged, the capture holds every message
    /// (as `decode` and tshark read it), and the output is only the connections' open and close lines.
    @Test func quietRecordsEveryMessageAndPrintsNoMessageLines() throws {
        let file = Self.captureDir() + "/quiet.pcapng"
        let (export, diod, proxy) = try Self.diodAndProxy(bigSize: 300_000, extra: ["--quiet", "--capture", file])
        let cat = try ProxyTool.client("diodcat", ["-s", proxy.listenAddress, "-a", export, "-m", "8192", "big.bin"])
        #expect(cat.status == 0, "diodcat: \(cat.err)")
        let onDisk = try Data(contentsOf: URL(fileURLWithPath: export + "/big.bin"))
        #expect(cat.stdout == onDisk, "diodcat through the quiet proxy: \(cat.stdout.count) of \(onDisk.count) bytes")
        let ls = try ProxyTool.client("diodls", ["-s", proxy.listenAddress, "-a", export, "-l", "/"])
        #expect(ls.status == 0, "diodls: \(ls.err)")
        #expect(proxy.waitForOutput { s in s.split(separator: "\n").filter { $0.contains(" - close") }.count == 2 })
        let stop = proxy.stop(signal: SIGINT)
        #expect(stop.exited && stop.status == 0, "exit \(stop)")

        let lines = proxy.stdoutLines
        #expect(lines.count == 4, "two opens and two closes: \(lines)")
        #expect(lines.filter { $0.contains(" c0 + open ") || $0.contains(" c1 + open ") }.count == 2)
        #expect(lines.filter { $0.contains(" - close (eof)") }.count == 2)
        #expect(!lines.contains { $0.contains(" → ") || $0.contains(" ← ") || $0.contains(" ! ") })

        // The summary counts the frames it recorded; the capture decodes to that many messages.
        let summary = try #require(proxy.stderr.split(separator: "\n").first { $0.contains("proxy stopped;") })
        #expect(summary.contains("2 connections (2 eof)"), "\(summary)")
        #expect(summary.contains("not decoded (--quiet)"), "\(summary)")
        #expect(!summary.contains("anomal"), "nothing was decoded to find anomalies in: \(summary)")
        let counted = try #require(summary.firstMatch(of: /, (\d+) messages,/).flatMap { Int($0.1) })
        let (objects, result) = try ProxyTool.decodeJSON(file)
        #expect(result.status == 0, "decode: \(result.err)")
        let decoded = objects.filter { $0.pxEvent == "message" }
        #expect(decoded.count > 50, "only \(decoded.count) messages")
        #expect(decoded.count == counted, "decode \(decoded.count) vs the summary's \(counted)")
        #expect(decoded.contains { $0.pxTypeName == "Rread" } && decoded.contains { $0.pxTypeName == "Rreaddir" })
        #expect(Set(objects.filter { $0.pxEvent == "open" }.compactMap(\.pxConn)) == [0, 1])
        let theirs = try #require(try RealTraffic.tsharkMessages(file: file, port: 564), "tshark is not installed")
        #expect(theirs.count == counted, "tshark \(theirs.count) vs the summary's \(counted)")
        diod.kill()
    }

    /// `--filter` prints, of the live trace, the exchanges that match, each once it is complete: the same
    /// message lines as `decode --filter` finds in the capture of the same session, plus the connections'
    /// open and close lines. `--quiet` cannot filter, and a bad filter is refused before anything starts.
    @Test func filterPrintsWhatDecodeFilterFindsInTheCapture() throws {
        let file = Self.captureDir() + "/filtered.pcapng"
        let filter = "Tclunk or error"
        let (export, diod, proxy) = try Self.diodAndProxy(bigSize: 100_000, extra: ["--filter", filter, "--capture", file])
        let ls = try ProxyTool.client("diodls", ["-s", proxy.listenAddress, "-a", export, "-l", "/"])
        #expect(ls.status == 0, "diodls: \(ls.err)")
        let missing = try ProxyTool.client("diodcat", ["-s", proxy.listenAddress, "-a", export, "no-such-file"])
        #expect(missing.status != 0, "diodcat of a missing file through the proxy")
        let cat = try ProxyTool.client("diodcat", ["-s", proxy.listenAddress, "-a", export, "big.bin"])
        #expect(cat.status == 0, "diodcat: \(cat.err)")
        #expect(proxy.waitForOutput { s in s.split(separator: "\n").filter { $0.contains(" - close") }.count == 3 })
        let stop = proxy.stop(signal: SIGINT)
        #expect(stop.exited && stop.status == 0, "exit \(stop)")

        let lines = proxy.stdoutLines.map(String.init)
        let messages = lines.filter { !$0.contains(" + open ") && !$0.contains(" - close ") }
        #expect(lines.count - messages.count == 6, "three opens and three closes: \(lines)")
        #expect(messages.contains { $0.contains(" → Tclunk ") } && messages.contains { $0.contains(" ← Rclunk ") })
        #expect(messages.contains { $0.contains(" ← Rlerror ") && $0.contains("ENOENT") })
        #expect(!messages.contains { $0.contains(" Tread ") || $0.contains(" Rread ") || $0.contains(" Rreaddir ") })
        let decoded = try Peers.run(Peers.ninescope, ["decode", "--filter", filter, file])
        #expect(decoded.status == 0, "decode: \(decoded.err)")
        let expected = decoded.out.split(separator: "\n").map(String.init)
        #expect(!expected.isEmpty && messages.sorted() == expected.sorted(),
                "live \(messages.count) lines, decode --filter \(expected.count)")
        // The summary says how many exchanges matched: one request line each.
        let summary = try #require(proxy.stderr.split(separator: "\n").first { $0.contains("proxy stopped;") })
        let requests = messages.filter { $0.contains(" → ") }.count
        let counts = try #require(summary.firstMatch(of: /; (\d+) of (\d+) exchanges matched --filter/))
        #expect(Int(counts.1) == requests, "\(summary)")
        let (objects, _) = try ProxyTool.decodeJSON(file)
        let requestsInCapture = objects.filter { $0.pxEvent == "message" && ($0.pxTypeName?.hasPrefix("T") ?? false) }
        #expect(Int(counts.2) == requestsInCapture.count, "every request judged: \(summary)")

        let quiet = try Peers.run(Peers.ninescope, ["proxy", "--listen", "127.0.0.1:0", "--upstream", diod.address,
                                                    "--quiet", "--filter", "error"], timeout: 20)
        #expect(quiet.status != 0 && quiet.err.contains("--filter needs the decoding that --quiet turns off"),
                "\(quiet.status): \(quiet.err)")
        let bad = try Peers.run(Peers.ninescope, ["proxy", "--listen", "127.0.0.1:0", "--upstream", diod.address,
                                                  "--filter", "latency>"], timeout: 20)
        #expect(bad.status != 0 && bad.err.contains("--filter:"), "\(bad.status): \(bad.err)")
        diod.kill()
    }

    /// `--capture-size`: real traffic through the proxy to diod lands in numbered files of about that size,
    /// and files an earlier capture left in the series are gone. Each file is a capture of its own: tshark
    /// and `decode` agree on it message by message, and `decode` finds no anomaly in it although most
    /// begin mid-session (a connection open at a cut comes back with its version). Read together, the
    /// files give exactly the live trace. With `--capture-files`, only the newest files stay.
    @Test func aCaptureCutIntoFilesReadsAloneAndTogetherAsTheLiveTrace() throws {
        let dir = Self.captureDir()
        let base = dir + "/ring.pcapng"
        let stale = (1...40).map { dir + "/ring_" + String(format: "%05d", $0) + "_20250101000000.pcapng" }
        for path in stale { _ = FileManager.default.createFile(atPath: path, contents: Data("stale".utf8)) }
        let (export, diod, proxy) = try Self.diodAndProxy(
            bigSize: 600_000, extra: ["--headless", "--json", "--capture", base, "--capture-size", "64K"])
        let ls = try ProxyTool.client("diodls", ["-s", proxy.listenAddress, "-a", export, "-l", "/", "/sub"])
        #expect(ls.status == 0, "diodls: \(ls.err)")
        let cat = try ProxyTool.client("diodcat", ["-s", proxy.listenAddress, "-a", export, "-m", "8192", "hello.txt", "big.bin"])
        #expect(cat.status == 0, "diodcat: \(cat.err)")
        #expect(proxy.waitForOutput { s in s.split(separator: "\n").filter { $0.contains("\"event\":\"close\"") }.count == 2 })
        let stop = proxy.stop(signal: SIGINT)
        #expect(stop.exited && stop.status == 0)
        #expect(proxy.stderr.contains("deleted 40 files of an earlier capture"), "\(proxy.stderr)")
        let summary = try #require(proxy.stderr.split(separator: "\n").first { $0.contains("proxy stopped;") })
        let counted = try #require(summary.firstMatch(of: #/capture \S+ … (\S+) \((\d+) files, /#), "\(summary)")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted().map { dir + "/" + $0 }
        #expect(files.count == Int(counted.2) && files.last == String(counted.1), "\(files) vs \(summary)")
        #expect(files.count >= 8, "600 kB in files of 64 KiB: \(files.count) files")
        // Named as Wireshark's file sets are (File › File Set lists them): PREFIX_NNNNN_YYYYMMDDHHMMSS.EXT.
        #expect(files.map { Self.fileSetNumber($0, prefix: dir + "/ring", ext: ".pcapng") } == Array(1...files.count),
                "\(files)")

        let live = try RealTraffic.jsonLines(proxy.stdout).filter { $0.pxEvent == "message" }
        var perFile = 0
        for (n, file) in files.enumerated() {
            let (objects, result) = try ProxyTool.decodeJSON(file)
            #expect(result.status == 0 && result.err.isEmpty, "file \(n + 1): \(result.err)")
            #expect(!objects.contains { $0.pxUnexpectedAnomaly }, "file \(n + 1) alone: \(objects.filter(\.pxUnexpectedAnomaly))")
            // Every fid's path is known, though most were walked in an earlier file.
            let unknown = objects.filter { ($0["path"] as? String)?.hasPrefix("?") == true }
            #expect(unknown.isEmpty, "file \(n + 1) alone: \(unknown.prefix(2))")
            let decoded = objects.filter { $0.pxEvent == "message" }
            perFile += decoded.count
            if n > 0 {
                #expect(objects.contains { $0.pxEvent == "open" && ($0["continued_version"] as? String) == "9P2000.L" },
                        "file \(n + 1) carries the open connection's version")
            }
            let theirs = try #require(try RealTraffic.tsharkMessages(file: file, port: 564), "tshark is not installed")
            #expect(theirs.count == decoded.count, "file \(n + 1): tshark \(theirs.count) vs decode \(decoded.count)")
            for (m, t) in zip(decoded, theirs) {
                #expect(m.pxTypecode == t.type && (m["tag"] as? Int) == t.tag, "file \(n + 1)")
            }
        }
        #expect(perFile == live.count, "the files hold every message once: \(perFile) vs \(live.count)")
        let together = try Peers.run(Peers.ninescope, ["decode", "--json"] + files)
        #expect(together.status == 0, "\(together.err)")
        let decoded = try RealTraffic.jsonLines(together.out).filter { $0.pxEvent == "message" }
        #expect(decoded.count == live.count)
        for (i, (d, l)) in zip(decoded, live).enumerated() {
            #expect(d.pxConn == l.pxConn && (d["line"] as? String) == (l["line"] as? String)
                    && (d["t_ns"] as? Int) == (l["t_ns"] as? Int) && (d["path"] as? String) == (l["path"] as? String),
                    "message \(i): \(d["line"] ?? "") vs live \(l["line"] ?? "")")
        }

        // Replayed to diod as one capture: every request, every reply as captured. (Only diodcat's connection:
        // the long listing stats the export's parent, /tmp, whose link count other tests change.)
        let requests = live.filter { $0.pxConn == 1 && ($0.pxTypeName ?? "").hasPrefix("T") }.count
        let replay = try Peers.run(Peers.ninescope, ["replay", "--to", diod.address, "--diff", "--conn", "1"] + files,
                                   timeout: 60)
        let said = replay.out + replay.err
        #expect(replay.status == 0 && said.contains("replayed \(requests) of \(requests) requests")
                && said.contains(" 0 differ"), "\(replay.status): \(said.suffix(600))")

        // A ring of two files.
        let ringDir = Self.captureDir()
        let ring = try ProxyProcess(upstream: diod.address, extra: ["--headless", "--capture", ringDir + "/r",
                                                                    "--capture-size", "64K", "--capture-files", "2"])
        let again = try ProxyTool.client("diodcat", ["-s", ring.listenAddress, "-a", export, "-m", "8192", "big.bin"])
        #expect(again.status == 0, "diodcat: \(again.err)")
        #expect(ring.waitForOutput { $0.contains(" - close") })
        _ = ring.stop(signal: SIGINT)
        let kept = try FileManager.default.contentsOfDirectory(atPath: ringDir).sorted()
        let ringSummary = try #require(ring.stderr.split(separator: "\n").first { $0.contains("proxy stopped;") })
        let begun = try #require(ringSummary.firstMatch(of: /\(the last 2 of (\d+) files/), "\(ringSummary)")
        let last = try #require(Int(begun.1))
        #expect(last >= 8 && kept.map { Self.fileSetNumber($0, prefix: "r", ext: "") } == [last - 1, last], "\(kept)")
        for name in kept {
            let (_, result) = try ProxyTool.decodeJSON(ringDir + "/" + name)
            #expect(result.status == 0 && result.err.isEmpty, "\(name): \(result.err)")
        }

        // What cannot work is refused before anything starts.
        for (args, message) in [(["--capture-size", "1M"], "--capture-size needs --capture FILE"),
                                (["--capture", base, "--capture-size", "1X"], "is not a size"),
                                (["--capture", base, "--capture-size", "4K"], "at least 64K"),
                                (["--capture", base, "--capture-files", "3"], "--capture-files needs --capture-size"),
                                (["--capture-duration", "1h"], "--capture-duration needs --capture FILE"),
                                (["--capture", base, "--capture-duration", "soon"], "is not a time span"),
                                (["--capture", base, "--capture-duration", "0.5s"], "at least 1s")] {
            let r = try Peers.run(Peers.ninescope, ["proxy", "--listen", "127.0.0.1:0", "--upstream", diod.address,
                                                    "--headless"] + args, timeout: 20)
            #expect(r.status == 64 && r.err.contains(message), "\(args): \(r.status) \(r.err)")
        }
        diod.kill()
    }

    /// `--capture-duration`: two listings through a proxy that begins a file every 2 s, the second starting
    /// more than 2 s after the first ended, land in two files, each a whole capture, together the live
    /// trace. (The only timing this needs: one listing takes less than 2 s.)
    @Test func aCaptureCutByTimeBeginsAFileForLaterTraffic() throws {
        let dir = Self.captureDir()
        let (export, diod, proxy) = try Self.diodAndProxy(
            bigSize: 1000, extra: ["--headless", "--capture", dir + "/t.pcapng", "--capture-duration", "2s"])
        #expect(proxy.stderr.contains("(a new file every 2s)"), "\(proxy.stderr)")
        for round in 0..<2 {
            if round > 0 { usleep(2_100_000) }
            let ls = try ProxyTool.client("diodls", ["-s", proxy.listenAddress, "-a", export, "/"])
            #expect(ls.status == 0, "diodls: \(ls.err)")
        }
        #expect(proxy.waitForOutput { s in s.split(separator: "\n").filter { $0.contains(" - close") }.count == 2 })
        _ = proxy.stop(signal: SIGINT)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(files.map { Self.fileSetNumber($0, prefix: "t", ext: ".pcapng") } == [1, 2], "\(files)")
        let live = proxy.stdoutLines.filter { $0.contains(" → ") || $0.contains(" ← ") }.map(String.init)
        func messageLines(_ files: [String]) throws -> [String] {
            let r = try Peers.run(Peers.ninescope, ["decode"] + files.map { dir + "/" + $0 })
            #expect(r.status == 0 && r.err.isEmpty, "\(files): \(r.err)")
            return r.out.split(separator: "\n").filter { $0.contains(" → ") || $0.contains(" ← ") }.map(String.init)
        }
        let counts = try files.map { try messageLines([$0]).count }
        #expect(counts.count == 2 && counts[0] == counts[1] && counts[0] > 0, "one listing per file: \(counts)")
        #expect(try messageLines(files) == live)
        diod.kill()
    }

    /// `--capture -`: the capture goes to standard output, a pipe that tshark reads live, and the lines to
    /// standard error; tshark decodes every message the lines show, in order, while the proxy still runs.
    /// Cutting such a capture into files is refused.
    @Test func captureToStandardOutputFeedsALiveReader() throws {
        let tshark = try #require(Peers.which("tshark"), "tshark is not installed; `make test` installs it")
        let dir = Self.captureDir()
        let fifo = dir + "/live"
        #expect(mkfifo(fifo, 0o600) == 0)
        let reader = try Peers.spawn(tshark, ["-l", "-n", "-r", fifo, "-Y", "9p", "-T", "fields", "-e", "9p.msgtype", "-e", "9p.tag"],
                                     stdout: dir + "/tshark.out", stderr: dir + "/tshark.err")
        defer { if reader.isRunning { Peers.stop(reader, signal: SIGKILL) } }
        let export = try RealTraffic.makeExport(bigSize: 1000)
        let diod = DiodOnPort(export: export)
        try diod.start()
        defer { diod.kill() }
        let proxy = try ProxyProcess(upstream: diod.address, extra: ["--headless", "--capture", "-"], stdout: fifo)
        #expect(proxy.stderr.contains("capturing to standard output"), "\(proxy.stderr)")
        let ls = try ProxyTool.client("diodls", ["-s", proxy.listenAddress, "-a", export, "/"])
        #expect(ls.status == 0, "diodls: \(ls.err)")
        func messageLines() -> [Substring] {
            proxy.stderr.split(separator: "\n").filter { $0.firstMatch(of: #/^[0-9:.]+ c[0-9]+ [→←] /#) != nil }
        }
        #expect(ProxyProcess.poll(timeout: 30) { proxy.stderr.contains(" - close") }, "\(proxy.stderr)")
        #expect(messageLines().count >= 20, "\(proxy.stderr)")
        let shown = { (try? String(contentsOfFile: dir + "/tshark.out", encoding: .utf8)) ?? "" }
        #expect(ProxyProcess.poll(timeout: 30) { shown().split(separator: "\n").count == messageLines().count },
                "tshark read \(shown().split(separator: "\n").count) of \(messageLines().count) messages while the proxy ran")
        #expect(proxy.process.isRunning)
        let stop = proxy.stop(signal: SIGINT)
        #expect(stop.exited && stop.status == 0)
        #expect(ProxyProcess.poll(timeout: 30) { !reader.isRunning }, "tshark did not see the end of the stream")
        // Type and tag of each message, as the lines show them.
        let fromLines = messageLines().map { line -> String in
            let words = line.split(separator: " ")
            let name = words.first { $0.first == "T" || $0.first == "R" } ?? ""
            let tag = words.firstIndex(of: "tag").map { words[$0 + 1] } ?? ""
            return "\(name) \(tag == "NOTAG" ? "65535" : String(tag))"
        }
        let names: [Int: String] = [100: "Tversion", 101: "Rversion", 102: "Tauth", 7: "Rlerror", 104: "Tattach",
                                    105: "Rattach", 110: "Twalk", 111: "Rwalk", 12: "Tlopen", 13: "Rlopen",
                                    40: "Treaddir", 41: "Rreaddir", 120: "Tclunk", 121: "Rclunk", 24: "Tgetattr",
                                    25: "Rgetattr"]
        let fromTshark = shown().split(separator: "\n").map { row -> String in
            let cols = row.split(separator: "\t")
            return "\(cols.first.flatMap { Int($0) }.flatMap { names[$0] } ?? String(cols.first ?? "")) \(cols.count > 1 ? cols[1] : "")"
        }
        #expect(fromTshark == fromLines)

        let cut = try Peers.run(Peers.ninescope, ["proxy", "--listen", "127.0.0.1:0", "--upstream", diod.address,
                                                  "--capture", "-", "--capture-size", "1M"], timeout: 20)
        #expect(cut.status == 64 && cut.err.contains("cannot be cut into files"), "\(cut.status): \(cut.err)")
    }
}

