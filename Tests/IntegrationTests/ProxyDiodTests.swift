import Foundation
import Testing
import NinePTestSupport
import NinePWire
#if canImport(Glibc)
import Glibc
#endif

/// Issue 3: `ninescope proxy` between real diod clients and a real diod, over TCP and unix sockets.
/// Transparency is checked against what the same clients get talking to diod directly.
@Suite(.serialized) struct ProxyDiodTests {
    /// An export with a multi-megabyte file of pseudo-random bytes and a few small ones.
    static func export(bigSize: Int = 6 << 20) throws -> String {
        let dir = try RealTraffic.makeExport(bigSize: 1000)
        ProxyTool.makeFile(dir + "/large.bin", size: bigSize, seed: 7)
        return dir
    }

    @Test func diodcatOfALargeFileThroughTheProxyMatchesDirect() throws {
        let export = try Self.export()
        let diod = DiodOnPort(export: export)
        try diod.start()
        let proxy = try ProxyProcess(upstream: diod.address)

        let direct = try ProxyTool.client("diodcat", ["-s", diod.address, "-a", export, "-m", "65536", "large.bin"])
        let proxied = try ProxyTool.client("diodcat", ["-s", proxy.listenAddress, "-a", export, "-m", "65536", "large.bin"])
        #expect(direct.status == 0, "direct diodcat failed: \(direct.err)")
        #expect(proxied.status == 0, "diodcat through the proxy failed: \(proxied.err)")
        let onDisk = try Data(contentsOf: URL(fileURLWithPath: export + "/large.bin"))
        #expect(direct.stdout.count == onDisk.count)
        let directDigest = try ProxyTool.sha256(direct.stdout)
        let proxiedDigest = try ProxyTool.sha256(proxied.stdout)
        #expect(directDigest.count == 64)
        #expect(proxiedDigest == directDigest, "proxied \(proxied.stdout.count) bytes, direct \(direct.stdout.count)")
        #expect(proxied.stdout == onDisk)

        // The trace saw the reads: Rread lines for connection 0, and a clean close.
        #expect(proxy.waitForOutput { $0.contains("c0 - close") })
        let lines = proxy.stdoutLines
        #expect(lines.contains { $0.contains("c0 → Tread") })
        #expect(lines.contains { $0.contains("c0 ← Rread") })
        #expect(lines.contains { $0.contains("c0 - close (eof)") })
        let stop = proxy.stop()
        #expect(stop.exited && stop.status == 0, "exit \(stop)")
        diod.kill()
    }

    @Test func diodlsAndDiodloadThroughTheProxyCompleteWithoutError() throws {
        let export = try Self.export(bigSize: 1000)
        let diod = DiodOnPort(export: export)
        try diod.start()
        let proxy = try ProxyProcess(upstream: diod.address)

        let direct = try ProxyTool.client("diodls", ["-s", diod.address, "-a", export, "-l", "/"])
        let ls = try ProxyTool.client("diodls", ["-s", proxy.listenAddress, "-a", export, "-l", "/"])
        #expect(ls.status == 0, "diodls failed: \(ls.err)")
        #expect(ls.err.isEmpty, "diodls complained: \(ls.err)")
        #expect(ls.out.contains("hello.txt") && ls.out.contains("large.bin") && ls.out.contains("sub"))
        #expect(ls.out.split(separator: "\n").count == direct.out.split(separator: "\n").count)

        let load = try ProxyTool.client("diodload", ["-s", proxy.listenAddress, "-r", "2", "-n", "4"])
        #expect(load.status == 0, "diodload failed: \(load.out) \(load.err)")
        #expect(!load.err.lowercased().contains("error"), "diodload: \(load.err)")
        let gload = try ProxyTool.client("diodload", ["-s", proxy.listenAddress, "-r", "2", "-n", "4", "-g"])
        #expect(gload.status == 0, "diodload -g failed: \(gload.out) \(gload.err)")

        // diodls + two diodload runs of 4 threads: the trace shows 1 + 4 + 4 connections open and close.
        #expect(proxy.waitForOutput { s in s.split(separator: "\n").filter { $0.contains(" - close") }.count >= 9 })
        let lines = proxy.stdoutLines
        #expect(lines.filter { $0.contains(" + open") }.count == 9)
        #expect(lines.contains { $0.contains("→ Tgetattr") })
        // diodls leaves fids unclunked, and walks `..` of the export's root, which diod answers with its
        // parent's qid (`pxUnexpectedAnomaly`).
        #expect(!lines.contains { $0.contains(" ! ") && !$0.contains("fid-leak") && !$0.contains("walk-left-root") },
                "unexpected anomalies")
        let stop = proxy.stop(signal: SIGTERM)
        #expect(stop.exited && stop.status == 0)
        #expect(proxy.stderr.contains("SIGTERM: proxy stopped; 9 connections"), "\(proxy.stderr)")
        diod.kill()
    }

    @Test func unixSocketListenerServesDiodClients() throws {
        let export = try Self.export(bigSize: 3 << 20)
        let diod = DiodOnPort(export: export)
        try diod.start()
        let path = Peers.tempDir("px") + "/9p.sock"
        let proxy = try ProxyProcess(upstream: "tcp!127.0.0.1!\(diod.port)", listen: "unix:" + path)
        #expect(proxy.listenAddress == "unix:" + path)
        #expect(FileManager.default.fileExists(atPath: path))

        let ls = try ProxyTool.client("diodls", ["-s", path, "-a", export, "/"])
        #expect(ls.status == 0, "diodls over the unix socket failed: \(ls.err)")
        #expect(ls.out.contains("hello.txt"))
        let cat = try ProxyTool.client("diodcat", ["-s", path, "-a", export, "-m", "65536", "large.bin"])
        #expect(cat.status == 0, "diodcat over the unix socket failed: \(cat.err)")
        let onDisk = try Data(contentsOf: URL(fileURLWithPath: export + "/large.bin"))
        let catDigest = try ProxyTool.sha256(cat.stdout), diskDigest = try ProxyTool.sha256(onDisk)
        #expect(catDigest == diskDigest)
        let load = try ProxyTool.client("diodload", ["-s", path, "-r", "2", "-n", "2"])
        #expect(load.status == 0, "diodload over the unix socket failed: \(load.err)")

        // A unix socket upstream too: a second proxy on TCP whose upstream is the first one's socket.
        let front = try ProxyProcess(upstream: "unix!" + path)
        let viaBoth = try ProxyTool.client("diodcat", ["-s", front.listenAddress, "-a", export, "-m", "65536", "large.bin"])
        #expect(viaBoth.status == 0, "diodcat through TCP → unix → TCP failed: \(viaBoth.err)")
        #expect(viaBoth.stdout == onDisk)
        #expect(front.waitForOutput { $0.contains("c0 - close (eof)") })
        #expect(front.stdout.contains("upstream unix:\(path)"), "\(front.stdout.prefix(300))")
        front.stop()

        #expect(proxy.waitForOutput { s in s.split(separator: "\n").filter { $0.contains(" - close") }.count >= 5 })
        #expect(proxy.stdout.contains("upstream 127.0.0.1:\(diod.port)"))
        let stop = proxy.stop()
        #expect(stop.exited && stop.status == 0)
        // The socket file is removed when the proxy stops.
        #expect(!FileManager.default.fileExists(atPath: path))
        diod.kill()
    }

    /// IPv6 on both sides: a proxy listening on [::1] (the bound address printed in brackets), dialled by a
    /// second proxy through `tcp![::1]!PORT`, in front of diod (diod's clients take no IPv6 address): the
    /// file comes through both byte for byte, and the inner proxy names its IPv6 client.
    @Test(.enabled(if: ProxyDiodTests.hasIPv6Loopback, "no IPv6 loopback here"))
    func ipv6ListenerAndUpstreamServeDiodClients() throws {
        let export = try Self.export(bigSize: 3 << 20)
        let diod = DiodOnPort(export: export)
        try diod.start()
        let inner = try ProxyProcess(upstream: diod.address, listen: "[::1]:0")
        #expect(inner.listenAddress.hasPrefix("[::1]:"), "\(inner.listenAddress)")
        let port = try #require(inner.port)
        let front = try ProxyProcess(upstream: "tcp![::1]!\(port)")
        let cat = try ProxyTool.client("diodcat", ["-s", front.listenAddress, "-a", export, "-m", "65536", "large.bin"])
        #expect(cat.status == 0, "diodcat through IPv4 → IPv6 → IPv4 failed: \(cat.err)")
        #expect(cat.stdout == (try Data(contentsOf: URL(fileURLWithPath: export + "/large.bin"))))
        #expect(front.waitForOutput { $0.contains("c0 - close (eof)") })
        #expect(front.stdout.contains("upstream [::1]:\(port)"), "\(front.stdout.prefix(300))")
        #expect(inner.waitForOutput { $0.contains("c0 - close (eof)") })
        #expect(inner.stdout.contains("c0 + open client [::1]:"), "\(inner.stdout.prefix(300))")
        front.stop()
        #expect(inner.stop().status == 0)
        diod.kill()
    }

    /// Whether a socket can be bound on ::1 here.
    static var hasIPv6Loopback: Bool {
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var sa = sockaddr_in6()
        sa.sin6_family = sa_family_t(AF_INET6)
        sa.sin6_addr = in6addr_loopback
        return withUnsafePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        } == 0
    }

    @Test func severalClientsAtOnceInterleaved() throws {
        let export = try Self.export(bigSize: 2 << 20)
        let diod = DiodOnPort(export: export)
        try diod.start()
        let proxy = try ProxyProcess(upstream: diod.address, extra: ["--headless", "--json"])

        // Hand-driven clients, one message at a time round-robin: the trace must interleave them.
        let clients = try (0..<3).map { _ in try ProxyRawSocket(proxy.listenAddress) }
        for c in clients {
            let r = try c.rpc(0xFFFF, .tversion(Tversion(msize: 8192, version: "9P2000.L")))
            #expect(r?.message.typeCode == MessageType.rversion.rawValue)
        }
        for (i, c) in clients.enumerated() {
            let r = try c.rpc(1, .tattach(Tattach(fid: Fid(UInt32(10 + i)), uname: "root", aname: P9String(export), nUname: 0)))
            #expect(r?.message.typeCode == MessageType.rattach.rawValue, "attach \(i): \(String(describing: r))")
        }
        // And real clients at the same time, on other threads.
        let group = DispatchGroup()
        let results = ProxyClientResults()
        let proxyAddress = proxy.listenAddress
        for i in 0..<3 {
            group.enter()
            Thread.detachNewThread {
                let r = try? ProxyTool.client("diodcat", ["-s", proxyAddress, "-a", export, "-m", "16384", "large.bin"])
                results.set(i, r)
                group.leave()
            }
        }
        for round in 0..<20 {
            for (i, c) in clients.enumerated() {
                let r = try c.rpc(UInt16(2 + round), .tgetattr(Tgetattr(fid: Fid(UInt32(10 + i)), requestMask: .init(rawValue: 0x7ff))))
                #expect(r?.message.typeCode == MessageType.rgetattr.rawValue)
            }
        }
        #expect(group.wait(timeout: .now() + 120) == .success)
        let onDisk = try Data(contentsOf: URL(fileURLWithPath: export + "/large.bin"))
        for i in 0..<3 {
            let r = results.get(i)
            #expect(r?.status == 0, "diodcat \(i) failed: \(r?.err ?? "did not run")")
            #expect(r?.stdout == onDisk, "diodcat \(i) got \(r?.stdout.count ?? -1) bytes")
        }
        for (i, c) in clients.enumerated() {
            _ = try c.rpc(100, .tclunk(Tclunk(fid: Fid(UInt32(10 + i)))))
            c.close()
        }

        #expect(proxy.waitForOutput { s in s.split(separator: "\n").filter { $0.contains("\"event\":\"close\"") }.count >= 6 })
        let objects = try RealTraffic.jsonLines(proxy.stdout)
        let messages = objects.filter { $0.pxEvent == "message" }
        #expect(Set(objects.filter { $0.pxEvent == "open" }.compactMap(\.pxConn)).count == 6)
        // Round-robin Tgetattrs: the three raw connections' lines alternate.
        // (Lines of different connections come from different event loops; arrival times order them.)
        let getattrConns = messages.filter { $0.pxTypeName == "Tgetattr" && [0, 1, 2].contains($0.pxConn ?? -1) }
            .sorted { ($0["t_ns"] as? Int ?? 0) < ($1["t_ns"] as? Int ?? 0) }.compactMap(\.pxConn)
        #expect(getattrConns.count == 60)
        // Interleaved, not one connection after another: the first six Tgetattrs hold two of each
        // connection. (Exact order is not asserted: taps on different event loops stamp arrival times
        // independently, so neighbours from different connections can swap under load.)
        let firstSix = Array(getattrConns.prefix(6))
        #expect([0, 1, 2].allSatisfy { c in firstSix.filter { $0 == c }.count == 2 }, "\(firstSix)")
        // Every reply on every connection was paired with its request and has a latency.
        let replies = messages.filter { ($0["direction"] as? String) == "s2c" }
        #expect(replies.count * 2 == messages.count)
        #expect(replies.allSatisfy { $0["latency_ns"] is Int && $0["answers"] is Int })
        proxy.stop()
        diod.kill()
    }

    /// A process's threads from /proc: name, nice value and scheduling policy (0 normal, 5 SCHED_IDLE).
    static func threads(of pid: pid_t) -> [(name: String, nice: Int, policy: Int)] {
        let dir = "/proc/\(pid)/task"
        let tids = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return tids.compactMap { tid in
            guard let stat = try? String(contentsOfFile: "\(dir)/\(tid)/stat", encoding: .utf8),
                  let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { return nil }
            // Fields after the name, counted from 3 (state): nice is field 19, policy field 41.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 38, let nice = Int(fields[16]), let policy = Int(fields[38]) else { return nil }
            return (String(stat[stat.index(after: open)..<close]), nice, policy)
        }
    }

    /// `--event-loops N` sets how many threads relay (default: one per CPU): with several, the connections
    /// spread over them and still relay, trace and capture completely; one named thread, under SCHED_IDLE,
    /// traces and writes the capture; zero is refused.
    /// diod speaks only 9P2000.L and refuses a Tversion of 9P2000.u with Rlerror, where version(5) has a server
    /// answer Rversion "unknown": the proxy relays the refusal unchanged and reports it as an anomaly.
    @Test func aVersionRefusedWithAnErrorIsAnAnomaly() throws {
        let export = try Self.export(bigSize: 1000)
        let diod = DiodOnPort(export: export)
        try diod.start()
        let proxy = try ProxyProcess(upstream: diod.address)
        let client = try ProxyRawSocket(proxy.listenAddress)
        try client.send(Fcall(tag: .notag, .tversion(Tversion(msize: 8192, version: "9P2000.u"))).encode(dialect: .u))
        let reply = try #require(client.receiveFrame(), "no reply to Tversion")
        #expect(reply.count > 4 && reply[4] == MessageType.rlerror.rawValue, "diod answered \(reply)")
        client.close()
        #expect(proxy.waitForOutput { $0.contains("c0 - close") })
        let lines = proxy.stdoutLines
        #expect(lines.contains { $0.contains("c0 ← Rlerror tag NOTAG") })
        #expect(lines.contains { $0.contains("c0 ! version-error") && $0.contains("Rversion 'unknown'") }, "\(lines)")
        proxy.stop()
        diod.kill()
    }

    @Test func eventLoopCountIsAnOption() throws {
        let export = try Self.export(bigSize: 1000)
        let diod = DiodOnPort(export: export)
        try diod.start()
        let capture = ProxyCaptureTests.captureDir() + "/loops.pcapng"
        let proxy = try ProxyProcess(upstream: diod.address,
                                     extra: ["--headless", "--event-loops", "3", "--capture", capture])
        // Its threads: three relaying at the process's priority, and the trace thread (which also writes the
        // capture) under SCHED_IDLE (policy 5). It names and lowers itself as it starts: look a few times.
        var threads = Self.threads(of: proxy.process.processIdentifier)
        for _ in 0..<50 where !threads.contains(where: { $0.name == "ninescope-trace" && $0.policy == 5 }) {
            usleep(20_000)
            threads = Self.threads(of: proxy.process.processIdentifier)
        }
        let relays = threads.filter { $0.name.hasPrefix("NIO-SGLTN") }
        #expect(relays.count == 3, "\(threads)")
        #expect(relays.allSatisfy { $0.nice == 0 && $0.policy == 0 }, "\(threads)")
        #expect(threads.filter { $0.policy == 5 }.map(\.name) == ["ninescope-trace"], "\(threads)")
        #expect(!threads.contains { $0.nice > 0 }, "\(threads)")   // nothing lowered by nice: no second consumer
        #expect(!threads.contains { $0.name.hasPrefix("ninescope-capt") }, "\(threads)")
        let load = try ProxyTool.client("diodload", ["-s", proxy.listenAddress, "-r", "1", "-n", "4", "-g"])
        #expect(load.status == 0, "diodload -g failed: \(load.out) \(load.err)")
        #expect(proxy.waitForOutput { s in s.split(separator: "\n").filter { $0.contains(" - close") }.count >= 4 })
        let lines = proxy.stdoutLines
        #expect(lines.filter { $0.contains(" + open") }.count == 4)
        #expect(lines.filter { $0.contains("→ Tgetattr") }.count == lines.filter { $0.contains("← Rgetattr") }.count)
        #expect(lines.contains { $0.contains("→ Tgetattr") })
        #expect(proxy.stop().exited)
        diod.kill()
        // The capture, written by the trace thread, holds what the trace showed.
        let decoded = try Peers.run(Peers.ninescope, ["decode", capture])
        #expect(decoded.status == 0, "\(decoded.err)")
        let decodedLines = decoded.out.split(separator: "\n")
        for kind in ["→ Tgetattr", "← Rgetattr", " + open", " - close"] {
            #expect(decodedLines.filter { $0.contains(kind) }.count == lines.filter { $0.contains(kind) }.count,
                    "\(kind)")
        }

        let zero = try Peers.run(Peers.ninescope, ["proxy", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:1",
                                                   "--headless", "--event-loops", "0"])
        #expect(zero.status != 0)
        #expect(zero.err.contains("--event-loops must be at least 1"), "\(zero.err)")
    }
}

/// Results from client threads.
final class ProxyClientResults: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int: Peers.Result] = [:]
    func set(_ i: Int, _ r: Peers.Result?) { lock.withLock { values[i] = r } }
    func get(_ i: Int) -> Peers.Result? { lock.withLock { values[i] } }
}
