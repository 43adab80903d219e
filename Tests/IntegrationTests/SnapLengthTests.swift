import Foundation
import Testing
import NinePTestSupport
import NinePWire
#if canImport(Glibc)
import Glibc
#endif

/// Captures cut by a snap length (`tcpdump -s`, `dumpcap -s`, here `editcap -s` of a real capture): every
/// message still decodes as far as its captured bytes go, pairs with its request, and agrees with tshark;
/// replay keeps the capture's order and compares what can be compared.
@Suite(.serialized) struct SnapLengthTests {
    @Test func aCaptureCutBySnapLengthReadsMessageByMessage() throws {
        guard let editcap = Peers.which("editcap") else {
            Issue.record("editcap is not installed (it comes with tshark; `make test` installs it)")
            return
        }
        let dir = Peers.tempDir("snaplen")
        let file = dir + "/whole.pcapng"
        let (export, diod, proxy) = try ProxyCaptureTests.diodAndProxy(bigSize: 300_000,
                                                                     extra: ["--headless", "--json", "--capture", file])
        defer { diod.kill() }
        // A file six directories down: its walk's reply (7 qids, 100 bytes) is cut too.
        let deep = "a/bb/ccc/dddd/eeeee/ffffff"
        try FileManager.default.createDirectory(atPath: export + "/" + deep, withIntermediateDirectories: true)
        try "deep\n".write(toFile: export + "/" + deep + "/deep.txt", atomically: true, encoding: .utf8)
        let ls = try ProxyTool.client("diodls", ["-s", proxy.listenAddress, "-a", export, "-l", "/", "/sub"])
        #expect(ls.status == 0, "diodls: \(ls.err)")
        let cat = try ProxyTool.client("diodcat", ["-s", proxy.listenAddress, "-a", export, "-m", "8192", "hello.txt", "big.bin",
                                                   deep + "/deep.txt"])
        #expect(cat.status == 0 && cat.out.hasSuffix("deep\n"), "diodcat: \(cat.err)")
        #expect(proxy.waitForOutput { s in s.split(separator: "\n").filter { $0.contains("\"event\":\"close\"") }.count == 2 })
        #expect(proxy.stop(signal: SIGINT).status == 0)
        let live = try RealTraffic.jsonLines(proxy.stdout).filter { $0.pxEvent == "message" }
        #expect(live.count > 80, "\(live.count) messages")

        // 128 bytes of each packet: 54 of headers, 74 of 9P. As ninescope wrote it (its packet comments
        // kept), and as plain pcap (no comments: TCP reassembly).
        let cut = dir + "/cut.pcapng", plain = dir + "/cut.pcap"
        #expect(try Peers.run(editcap, ["-s", "128", file, cut]).status == 0)
        #expect(try Peers.run(editcap, ["-F", "pcap", "-s", "128", file, plain]).status == 0)
        for path in [cut, plain] {
            let (objects, result) = try ProxyTool.decodeJSON(path)
            #expect(result.status == 0, "\(path): \(result.err)")
            let messages = objects.filter { $0.pxEvent == "message" }
            #expect(messages.count == live.count, "\(path): \(messages.count) messages, \(live.count) live")
            #expect(!objects.contains { $0.pxUnexpectedAnomaly || $0.pxEvent == "garbage" },
                    "\(path): \(objects.filter(\.pxUnexpectedAnomaly).prefix(3))")
            #expect(!messages.contains { $0["malformed"] != nil }, "\(path)")
            var cutCount = 0
            var conns: [Int: Int] = [:]   // live connection → decoded (a plain pcap numbers them from 1)
            for (m, l) in zip(messages, live) {
                #expect(m.pxTypecode == l.pxTypecode && (m["tag"] as? Int) == (l["tag"] as? Int)
                        && (m["size"] as? Int) == (l["size"] as? Int), "\(path): \(m) vs \(l)")
                if let lc = l.pxConn, let mc = m.pxConn {
                    #expect(conns[lc, default: mc] == mc, "\(path): one connection as one")
                    conns[lc] = mc
                }
                #expect((m["answers"] as? Int) == (l["answers"] as? Int), "\(path): pairs as live")
                guard (m["marks"] as? String) == "truncated" else {
                    #expect((m["line"] as? String) == (l["line"] as? String), "\(path): an uncut message as live")
                    continue
                }
                cutCount += 1
                let line = m["line"] as? String ?? ""
                #expect(line.hasSuffix("(cut: 74 of \(m["size"] as? Int ?? 0) bytes captured)"), "\(line)")
                if (m["type"] as? String) == "Rread" {
                    // Its count and first data bytes as the live line shows them.
                    let liveLine = l["line"] as? String ?? ""
                    #expect(line.prefix(40) == liveLine.prefix(40), "\(line) vs \(liveLine)")
                    // Its fields as far as captured whole, as the live message's: the count.
                    let cutFields = m["fields"] as? [String: Any], liveFields = l["fields"] as? [String: Any]
                    #expect(cutFields?["count"] as? Int != nil && cutFields?["count"] as? Int == liveFields?["count"] as? Int,
                            "\(m)")
                }
            }
            #expect(cutCount >= 37, "\(path): the 8 KiB reads are cut (\(cutCount))")
            // The deep walk's reply is cut, and what it walked to is still known: its fid's path shows on the
            // reads that follow it (and no unknown-fid anomaly, above).
            let walks = messages.filter { ($0["type"] as? String) == "Rwalk" && ($0["marks"] as? String) == "truncated" }
            #expect(walks.count == 1 && (walks.first?["line"] as? String ?? "").hasPrefix("Rwalk tag 0 nwqid 7 0:"),
                    "\(path): \(walks.map { $0["line"] ?? "" })")
            #expect(messages.contains { ($0["type"] as? String) == "Rread" && ($0["path"] as? String)?.hasSuffix(deep + "/deep.txt") == true },
                    "\(path): the deep file's reads show its path")
            // The filter keyword `cut`: those exchanges (both messages of each), and `not cut` the others.
            let (onlyCut, _) = try ProxyTool.decodeJSON(path, extra: ["--filter", "cut"])
            let cutMessages = onlyCut.filter { $0.pxEvent == "message" }
            #expect(cutMessages.count == 2 * cutCount, "\(path): \(cutMessages.count) messages for \(cutCount) cut")
            #expect(cutMessages.filter { ($0["marks"] as? String) == "truncated" }.count == cutCount
                    && cutMessages.allSatisfy { ($0["marks"] as? String) == "truncated" || ($0.pxTypecode ?? 1) % 2 == 0 },
                    "\(path): each cut reply with its request")
            let (uncut, _) = try ProxyTool.decodeJSON(path, extra: ["--filter", "not cut"])
            #expect(uncut.filter { $0.pxEvent == "message" }.count == messages.count - 2 * cutCount)
            // tshark: the same messages, types and tags.
            let theirs = try #require(try RealTraffic.tsharkMessages(file: path, port: 564), "tshark is not installed")
            #expect(theirs.count == messages.count, "\(path): tshark \(theirs.count) vs \(messages.count)")
            for (m, t) in zip(messages, theirs) {
                #expect(m.pxTypecode == t.type && (m["tag"] as? Int) == t.tag, "\(path)")
            }
        }

        // Replayed to diod: every request sent in the capture's order, each cut Rread compared by its type.
        let replay = try Peers.run(Peers.ninescope, ["replay", "--to", diod.address, "--diff", cut], timeout: 120)
        let said = replay.out + replay.err
        let requests = live.filter { ($0.pxTypecode ?? 1) % 2 == 0 }.count
        #expect(replay.status == 0 && said.contains("replayed \(requests) of \(requests) requests")
                && said.contains(" 0 differ"), "\(replay.status): \(said.suffix(800))")
        #expect(!said.contains("has no reply in the capture"), "cut replies still answer: \(said.prefix(800))")
    }

    /// A snap length that cuts the Tauth and Tattach among their names (a long export path): `replay` sends
    /// them with the names given (`--aname`, `--n-uname`) and the session replays whole against diod;
    /// without the names it leaves them out and says which options would send them.
    @Test func aCutAttachIsReplayedWithTheNamesGiven() throws {
        guard let editcap = Peers.which("editcap") else {
            Issue.record("editcap is not installed (it comes with tshark; `make test` installs it)")
            return
        }
        let export = try RealTraffic.makeExport(bigSize: 1000) + "/" + String(repeating: "a-long-export-name-", count: 8)
        try FileManager.default.createDirectory(atPath: export, withIntermediateDirectories: true)
        try "hello, 9p\n".write(toFile: export + "/hello.txt", atomically: true, encoding: .utf8)
        let diod = DiodOnPort(export: export)
        try diod.start()
        defer { diod.kill() }
        let dir = Peers.tempDir("snaplen-attach")
        let file = dir + "/whole.pcapng", cut = dir + "/cut.pcapng"
        let proxy = try ProxyProcess(upstream: diod.address, extra: ["--headless", "--json", "--capture", file])
        let cat = try ProxyTool.client("diodcat", ["-s", proxy.listenAddress, "-a", export, "hello.txt"])
        #expect(cat.status == 0 && cat.out == "hello, 9p\n", "diodcat: \(cat.err)")
        #expect(proxy.waitForOutput { $0.contains("\"event\":\"close\"") })
        #expect(proxy.stop(signal: SIGINT).status == 0)
        let whole = try Peers.run(Peers.ninescope, ["decode", file])
        let requests = whole.out.split(separator: "\n").filter { $0.contains(" → T") }
        let attach = try #require(requests.first { $0.contains(" Tattach ") }, "\(whole.out)")
        let nUname = try #require(attach.split(separator: " ").split(separator: "n_uname").last?.first.map(String.init))

        // 54 bytes of headers and 60 of 9P: the Tattach (7 + 8 + 2 + uname + 2 + 171 + 4 bytes) is cut in its aname.
        #expect(try Peers.run(editcap, ["-s", "114", file, cut]).status == 0)
        let decoded = try Peers.run(Peers.ninescope, ["decode", cut])
        #expect(decoded.out.split(separator: "\n").contains { $0.contains(" Tattach ") && $0.contains(" bytes captured)") },
                "\(decoded.out)")

        let without = try Peers.run(Peers.ninescope, ["replay", "--to", diod.address, "--diff", cut], timeout: 120)
        let saidWithout = without.out + without.err
        #expect(without.status != 0 && saidWithout.contains(
            "a request the capture cut, not replayed (--uname, --aname and --n-uname give the names it lacks)"),
                "\(without.status): \(saidWithout.suffix(1200))")

        let with = try Peers.run(Peers.ninescope, ["replay", "--to", diod.address, "--diff", "--aname", export,
                                                   "--n-uname", nUname, cut], timeout: 120)
        let said = with.out + with.err
        #expect(with.status == 0 && said.contains("replayed \(requests.count) of \(requests.count) requests")
                && said.contains(" 0 differ"), "\(with.status): \(said.suffix(1200))")
        #expect(said.contains(": cut by the capture; sent as Tattach tag ") && said.contains("aname '\(export)'"),
                "\(said.prefix(1500))")
        #expect(said.contains(": cut by the capture; sent as Tauth tag "), "\(said.prefix(1500))")
    }

    /// `decode --hex` of a frame's first bytes (copied from a dump) shows what they hold, marked cut; whole
    /// frames before it decode as usual; bytes too few for a header stay garbage.
    @Test func hexEndingInsideAFrameIsShownCut() throws {
        let r = try Peers.run(Peers.ninescope, ["decode", "--json", "--hex",
                                                "0b00000078050001000000" + "f31f0000750500e81f0000d461c9f76f"], timeout: 30)
        #expect(r.status == 0, "\(r.err)")
        let messages = try RealTraffic.jsonLines(r.out).filter { $0.pxEvent == "message" }
        #expect(messages.map { $0["line"] as? String ?? "" } == [
            "Tclunk tag 5 fid 1",
            "Rread tag 5 count 8168 d461c9f76f… (cut: 16 of 8179 bytes captured)",
        ])
        #expect((messages.last?["size"] as? Int) == 8179 && (messages.last?["marks"] as? String) == "truncated")
        let short = try Peers.run(Peers.ninescope, ["decode", "--hex", "150000"], timeout: 30)
        #expect(short.out.contains("garbage 3 bytes 150000: stream ended inside a frame"), "\(short.out)")
    }

    /// `proxy --capture-data 32`: each Rread's and Twrite's data kept up to 32 bytes, everything else whole.
    /// The capture is a fraction of the traffic; read back it is the live trace message by message (the
    /// reads and writes cut, with their data's first bytes), tshark agrees, and a replay to diod finds no
    /// difference. The bytes relayed are untouched.
    @Test func aCaptureKeepingLittleDataIsTheTraceWithReadsAndWritesCut() throws {
        let dir = Peers.tempDir("capdata")
        let file = dir + "/meta.pcapng"
        let (export, diod, proxy) = try ProxyCaptureTests.diodAndProxy(
            bigSize: 300_000, extra: ["--headless", "--json", "--capture", file, "--capture-data", "32"])
        defer { diod.kill() }
        #expect(proxy.waitForOutput { _ in proxy.stderr.contains("data of reads and writes cut to 32 bytes") },
                "\(proxy.stderr)")
        let ls = try ProxyTool.client("diodls", ["-s", proxy.listenAddress, "-a", export, "-l", "/", "/sub"])
        #expect(ls.status == 0, "diodls: \(ls.err)")
        let cat = try ProxyTool.client("diodcat", ["-s", proxy.listenAddress, "-a", export, "-m", "8192", "big.bin"])
        #expect(cat.status == 0, "diodcat: \(cat.err)")
        let direct = try #require(FileManager.default.contents(atPath: export + "/big.bin"))
        #expect(cat.stdout == direct, "the relayed bytes are the file's")
        #expect(proxy.waitForOutput { s in s.split(separator: "\n").filter { $0.contains("\"event\":\"close\"") }.count == 2 })
        #expect(proxy.stop(signal: SIGINT).status == 0)
        let live = try RealTraffic.jsonLines(proxy.stdout).filter { $0.pxEvent == "message" }
        let size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
        #expect(size > 0 && size < 60_000, "\(size) bytes for a 300 kB read")

        let (objects, result) = try ProxyTool.decodeJSON(file)
        #expect(result.status == 0, "\(result.err)")
        let messages = objects.filter { $0.pxEvent == "message" }
        #expect(messages.count == live.count && live.count > 40)
        #expect(!objects.contains { $0.pxUnexpectedAnomaly || $0.pxEvent == "garbage" })
        var cut = 0
        for (m, l) in zip(messages, live) {
            #expect(m.pxTypecode == l.pxTypecode && (m["tag"] as? Int) == (l["tag"] as? Int)
                    && (m["size"] as? Int) == (l["size"] as? Int) && m.pxConn == l.pxConn
                    && (m["answers"] as? Int) == (l["answers"] as? Int), "\(m) vs \(l)")
            let line = m["line"] as? String ?? "", liveLine = l["line"] as? String ?? ""
            if (m["marks"] as? String) == "truncated" {
                cut += 1
                #expect(m.pxTypecode == 117 && (l["size"] as? Int ?? 0) > 11 + 32, "only long reads are cut: \(liveLine)")
                #expect(line.hasSuffix("(cut: 43 of \(l["size"] as? Int ?? 0) bytes captured)"), "\(line)")
                #expect(line.prefix(40) == liveLine.prefix(40), "\(line) vs \(liveLine)")
            } else {
                #expect(line == liveLine, "whole messages as live")
            }
        }
        #expect(cut >= 37, "\(cut) cut")
        let theirs = try #require(try RealTraffic.tsharkMessages(file: file, port: 564), "tshark is not installed")
        #expect(theirs.count == messages.count)
        for (m, t) in zip(messages, theirs) { #expect(m.pxTypecode == t.type && (m["tag"] as? Int) == t.tag) }

        let replay = try Peers.run(Peers.ninescope, ["replay", "--to", diod.address, "--diff", file], timeout: 120)
        let said = replay.out + replay.err
        #expect(replay.status == 0 && said.contains(" 0 differ"), "\(replay.status): \(said.suffix(600))")

        for (args, message) in [(["--capture-data", "8"], "--capture-data needs --capture FILE"),
                                (["--capture", dir + "/x.pcapng", "--capture-data=-1"], "must be 0 or more")] {
            let r = try Peers.run(Peers.ninescope, ["proxy", "--listen", "127.0.0.1:0", "--upstream", diod.address,
                                                    "--headless"] + args, timeout: 20)
            #expect(r.status == 64 && r.err.contains(message), "\(args): \(r.status) \(r.err)")
        }
    }
}
