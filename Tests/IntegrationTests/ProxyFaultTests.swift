import Foundation
import Testing
import NinePTestSupport
import NinePWire
#if canImport(Glibc)
import Glibc
#endif

/// `ninescope proxy --fault`: the proxy playing a faulty server in front of a real diod, with diod's own
/// clients, the trace and the capture read back.
@Suite(.serialized) struct ProxyFaultTests {
    static func export() throws -> String {
        let dir = try RealTraffic.makeExport(bigSize: 1000)
        ProxyTool.makeFile(dir + "/large.bin", size: 1 << 20, seed: 11)
        return dir
    }

    /// diod exporting `export()`, and a headless proxy in front of it with `options` (the rules).
    static func proxied(_ options: [String]) throws -> (export: String, diod: DiodOnPort, proxy: ProxyProcess) {
        let export = try Self.export()
        let diod = DiodOnPort(export: export)
        try diod.start()
        return (export, diod, try ProxyProcess(upstream: diod.address, extra: ["--headless"] + options))
    }

    @Test func anErrorRuleFailsTheClientAndTheTraceAndCaptureSayWho() throws {
        let capture = Peers.tempDir("fault") + "/err.pcapng"
        let (export, diod, proxy) = try Self.proxied(["--capture", capture, "--fault", "error=Tlopen:EACCES,error=Tclunk:EIO"])
        #expect(proxy.stderr.contains("faults: error=Tlopen:EACCES,error=Tclunk:EIO (--fault-seed "), "\(proxy.stderr)")

        let direct = try ProxyTool.client("diodcat", ["-s", diod.address, "-a", export, "large.bin"])
        #expect(direct.status == 0, "\(direct.err)")
        let faulted = try ProxyTool.client("diodcat", ["-s", proxy.listenAddress, "-a", export, "large.bin"])
        #expect(faulted.status != 0)
        #expect(faulted.err.contains("Permission denied"), "\(faulted.err)")
        #expect(faulted.stdout.isEmpty)

        #expect(proxy.waitForOutput { $0.contains("c0 - close") })
        let lines = proxy.stdoutLines
        let open = lines.filter { $0.contains("c0 → Tlopen") }
        #expect(open.count == 1 && open.allSatisfy { $0.hasSuffix("<dropped>") }, "\(open)")
        let answer = lines.filter { $0.contains("c0 ← Rlerror") && $0.contains("EACCES") }
        #expect(answer.count == 1 && answer.allSatisfy { $0.hasSuffix("<injected>") }, "\(answer)")
        #expect(!lines.contains { $0.contains("c0 ← Rlopen") })
        // The clunks reach diod (they end the fid whatever the reply); its Rclunk is replaced.
        #expect(lines.filter { $0.contains("c0 → Tclunk") }.count == 2)
        #expect(lines.filter { $0.contains("c0 ← Rclunk") }.allSatisfy { $0.hasSuffix("<dropped>") })
        #expect(lines.filter { $0.contains("c0 ← Rlerror") && $0.contains("EIO") && $0.hasSuffix("<injected>") }.count == 2)
        let unexpected = lines.filter { $0.contains(" ! ") }
        #expect(unexpected.isEmpty, "\(unexpected)")
        #expect(proxy.stop().status == 0)
        #expect(proxy.stderr.contains("; --fault: 1 request kept from the server, 3 replies given by the proxy, "
                                      + "0 replies held back"), "\(proxy.stderr)")

        // The capture keeps what the client saw, marked: `decode` reads the marks back.
        let (objects, result) = try ProxyTool.decodeJSON(capture)
        #expect(result.status == 0, "\(result.err)")
        let messages = objects.filter { $0.pxEvent == "message" }
        let lopen = messages.filter { $0.pxTypeName == "Tlopen" }
        #expect(lopen.count == 1 && lopen.allSatisfy { ($0["marks"] as? String) == "dropped" }, "\(lopen)")
        let lerror = messages.filter { $0.pxTypeName == "Rlerror" && ($0["marks"] as? String) == "injected" }
        #expect(lerror.count == 3)

        // Replayed, the capture is what the server saw: no Tlopen, and diod's own Rclunks to compare with.
        let replay = try Peers.run(Peers.ninescope, ["replay", capture, "--to", diod.address, "--diff"])
        #expect(replay.status == 0, "\(replay.out)\(replay.err)")
        #expect(replay.out.contains(" 0 differ"), "\(replay.out)")
        #expect(!replay.out.contains("answers no pending request"), "\(replay.out)")
        #expect(!replay.out.contains("Tlopen"), "\(replay.out)")
        diod.kill()
    }

    @Test func aDelayedReadGivesTheSameBytesLaterAndIsMarked() throws {
        let (export, diod, proxy) = try Self.proxied(["--fault", "delay=Tread:30ms"])
        let got = try ProxyTool.client("diodcat", ["-s", proxy.listenAddress, "-a", export, "-m", "65536", "large.bin"])
        #expect(got.status == 0, "\(got.err)")
        let onDisk = try Data(contentsOf: URL(fileURLWithPath: export + "/large.bin"))
        #expect(got.stdout == onDisk)
        #expect(proxy.waitForOutput { $0.contains("c0 - close") })
        let reads = proxy.stdoutLines.filter { $0.contains("c0 ← Rread") }
        #expect(reads.count >= 16)
        #expect(reads.allSatisfy { $0.hasSuffix("<delayed>") })
        // Each read request is marked when it passes (its reply will be held), so that while it waits the
        // trace and the inspector say so: a held reply is not a server that has not answered.
        let requests = proxy.stdoutLines.filter { $0.contains("c0 → Tread") }
        #expect(requests.count == reads.count && requests.allSatisfy { $0.hasSuffix("<delayed>") }, "\(requests.prefix(2))")
        #expect(proxy.stdoutLines.filter { $0.contains("c0 → T") && !$0.contains("Tread") }
                    .allSatisfy { !$0.contains("<delayed>") })
        // Each reply was held for the rule's time at least: its latency is printed in ms, 30 or more.
        let latencies = reads.compactMap { line -> Double? in
            guard let ms = line.split(separator: " ").first(where: { $0.hasSuffix("ms") && Double($0.dropLast(2)) != nil })
            else { return nil }
            return Double(ms.dropLast(2))
        }
        #expect(latencies.count == reads.count, "\(reads.prefix(2))")
        #expect(latencies.allSatisfy { $0 >= 30 }, "\(latencies)")
        // Other replies are not held.
        #expect(proxy.stdoutLines.filter { $0.contains("c0 ← R") && !$0.contains("Rread") }
                    .allSatisfy { !$0.contains("<delayed>") })
        #expect(proxy.stop().status == 0)
        #expect(proxy.stderr.contains("; --fault: 0 requests kept from the server, 0 replies given by the proxy, "
                                      + "\(reads.count) replies held back"), "\(proxy.stderr)")
        diod.kill()
    }

    @Test func aCloseRuleEndsOneConnectionAndTheProxyGoesOn() throws {
        let (export, diod, proxy) = try Self.proxied(["--fault", "close=Tread"])
        let cut = try ProxyTool.client("diodcat", ["-s", proxy.listenAddress, "-a", export, "large.bin"])
        #expect(cut.status != 0)
        #expect(proxy.waitForOutput { $0.contains("c0 - close") })
        let close = proxy.stdoutLines.first { $0.contains("c0 - close") }.map(String.init) ?? ""
        #expect(close.contains("closed by --fault close=Tread at Tread tag "), "\(close)")
        #expect(proxy.stdoutLines.contains { $0.contains("c0 ! unanswered: Tread") })
        // A client that reads nothing is untouched.
        let listing = try ProxyTool.client("diodls", ["-s", proxy.listenAddress, "-a", export, "-l", "/"])
        #expect(listing.status == 0, "\(listing.err)")
        #expect(listing.out.contains("large.bin"))
        #expect(proxy.waitForOutput { $0.contains("c1 - close") })
        let stop = proxy.stop()
        #expect(stop.status == 0)
        #expect(proxy.stderr.contains("(1 eof, 1 fault)"), "\(proxy.stderr)")
        diod.kill()
    }

    @Test func aBadRuleIsRefusedAtStart() throws {
        let r = try Peers.run(Peers.ninescope, ["proxy", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:1",
                                                "--headless", "--fault", "error=Tlopen:EWHAT"])
        #expect(r.status != 0)
        #expect(r.err.contains("--fault: bad fault rule \"error=Tlopen:EWHAT\": error needs an errno like EACCES"),
                "\(r.err)")
    }
}
