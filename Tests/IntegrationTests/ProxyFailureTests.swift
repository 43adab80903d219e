import Foundation
import Testing
import NinePTestSupport
import NinePWire
#if canImport(Glibc)
import Glibc
#endif

/// Issue 3: the proxy under misbehaving peers — clients that die mid-frame, an upstream that dies or is
/// not there, malformed bytes — reports what happened and keeps serving everyone else, never altering a
/// byte.
@Suite(.serialized) struct ProxyFailureTests {
    static func attach(_ s: ProxyRawSocket, fid: UInt32, export: String) throws {
        let v = try s.rpc(0xFFFF, .tversion(Tversion(msize: 8192, version: "9P2000.L")))
        #expect(v?.message.typeCode == MessageType.rversion.rawValue)
        let a = try s.rpc(1, .tattach(Tattach(fid: Fid(fid), uname: "root", aname: P9String(export), nUname: 0)))
        #expect(a?.message.typeCode == MessageType.rattach.rawValue, "attach: \(String(describing: a))")
    }

    @Test func clientKilledMidFrameIsReportedAndOthersAreServed() throws {
        let export = try RealTraffic.makeExport(bigSize: 1000)
        let diod = DiodOnPort(export: export)
        try diod.start()
        let proxy = try ProxyProcess(upstream: diod.address)

        let steady = try ProxyRawSocket(proxy.listenAddress)          // c0: stays up throughout
        try Self.attach(steady, fid: 1, export: export)
        let victim = try ProxyRawSocket(proxy.listenAddress)          // c1: dies inside a frame
        try Self.attach(victim, fid: 1, export: export)
        let walk = Fcall(tag: 2, .twalk(Twalk(fid: 1, newfid: 2, wnames: ["sub", "deeper"]))).encode(dialect: .l)
        try victim.send(Array(walk.prefix(walk.count / 2)))
        #expect(proxy.waitForOutput { $0.contains("c1 → Tattach") })
        victim.close()

        #expect(proxy.waitForOutput { $0.contains("c1 - close") })
        let out = proxy.stdout
        #expect(out.contains("c1 - close (error: eof mid-frame (client→server))"), "\(out)")
        #expect(out.contains("stream ended inside a frame (\(walk.count / 2) of \(walk.count) bytes)"), "\(out)")
        #expect(out.contains("c1 ! fid-leak"), "the attached fid was never clunked: \(out)")
        #expect(proxy.process.isRunning)

        // The other connection still works, and new clients are served.
        let r = try steady.rpc(3, .tgetattr(Tgetattr(fid: 1, requestMask: .init(rawValue: 0x7ff))))
        #expect(r?.message.typeCode == MessageType.rgetattr.rawValue)
        let ls = try ProxyTool.client("diodls", ["-s", proxy.listenAddress, "-a", export, "/"])
        #expect(ls.status == 0 && ls.out.contains("hello.txt"), "diodls after the kill: \(ls.err)")
        steady.close()
        let stop = proxy.stop()
        #expect(stop.exited && stop.status == 0)
        #expect(proxy.stderr.contains("1 mid-frame"), "\(proxy.stderr)")
        diod.kill()
    }

    /// Requests still pending when a connection ends are said then, one line each, in the order sent (here the
    /// server never answers).
    @Test func requestsLeftUnansweredAtTheCloseAreSaid() throws {
        let server = try ProxyRecordingServer()
        let proxy = try ProxyProcess(upstream: server.address)
        let client = try ProxyRawSocket(proxy.listenAddress)
        try client.send(Fcall(tag: .notag, .tversion(Tversion(msize: 8192, version: "9P2000.L"))).encode(dialect: .l))
        try client.send(Fcall(tag: 3, .tclunk(Tclunk(fid: 1))).encode(dialect: .l))
        #expect(proxy.waitForOutput { $0.contains("c0 → Tclunk tag 3") })
        client.close()
        #expect(proxy.waitForOutput { $0.contains("c0 - close") })
        let lines = proxy.stdoutLines.filter { $0.contains(" ! unanswered: ") }
        #expect(lines.count == 2, "\(proxy.stdout)")
        #expect(lines.first?.contains("c0 ! unanswered: Tversion tag NOTAG (#0) got no reply before the connection "
                                      + "ended (eof), ") == true, "with how long it waited: \(lines)")
        #expect(lines.last?.contains("c0 ! unanswered: Tclunk tag 3 (#1) got no reply") == true, "\(lines)")
        let close = proxy.stdoutLines.firstIndex { $0.contains("c0 - close") } ?? -1
        let last = proxy.stdoutLines.lastIndex { $0.contains(" ! unanswered: ") } ?? Int.max
        #expect(last < close, "said before the close line")
        #expect(proxy.stop().status == 0)
        #expect(proxy.stderr.contains("3 anomalies (2 unanswered, 1 unknown-fid)"),
                "two unanswered and the clunk's unknown fid, by kind: \(proxy.stderr)")
    }

    @Test func upstreamKilledMidSessionIsReportedAndServedAgainAfterRestart() throws {
        let export = try RealTraffic.makeExport(bigSize: 1000)
        let diod = DiodOnPort(export: export)
        try diod.start()
        let file = Peers.tempDir("pxfail") + "/failures.pcapng"
        let proxy = try ProxyProcess(upstream: diod.address, extra: ["--headless", "--capture", file])

        let client = try ProxyRawSocket(proxy.listenAddress)
        try Self.attach(client, fid: 1, export: export)
        // A walk in flight: its fid is live, and the request may go unanswered.
        _ = try client.rpc(2, .twalk(Twalk(fid: 1, newfid: 2, wnames: ["sub"])))
        diod.kill(SIGKILL)

        // The client sees its connection end and closes too (as real clients do: the proxy relays the
        // server's EOF as a half-close and reports the connection once both directions have ended); the
        // proxy reports the close and the leaked fids.
        #expect(client.receiveSome() == nil)
        client.close()
        #expect(proxy.waitForOutput { $0.contains("c0 - close") })
        let out = proxy.stdout
        #expect(out.contains("c0 ! fid-leak"), "\(out)")
        #expect(proxy.process.isRunning)

        // With the upstream down, a client is refused (dial failure reported) and the proxy stays up.
        let refused = try ProxyRawSocket(proxy.listenAddress)
        #expect(refused.receiveSome() == nil)
        #expect(proxy.waitForOutput { $0.contains("c1 - close (error: upstream dial failed: Connection refused)") },
                "\(proxy.stdout)")
        #expect(ProxyProcess.poll(timeout: 30) { proxy.stderr.contains("c1: upstream dial failed") })
        #expect(proxy.process.isRunning)

        // diod back on the same port: new clients go through.
        try diod.start()
        let ls = try ProxyTool.client("diodls", ["-s", proxy.listenAddress, "-a", export, "/"])
        #expect(ls.status == 0 && ls.out.contains("hello.txt"), "diodls after the restart: \(ls.err)")
        #expect(proxy.waitForOutput { $0.contains("c2 - close (eof)") })
        // c3 is still connected when the proxy stops.
        let last = try ProxyRawSocket(proxy.listenAddress)
        try Self.attach(last, fid: 1, export: export)
        #expect(proxy.waitForOutput { $0.contains("c3 ← Rattach") })
        let stop = proxy.stop(signal: SIGTERM)
        #expect(stop.exited && stop.status == 0)
        #expect(proxy.stderr.contains("4 connections"), "\(proxy.stderr)")
        diod.kill()

        // The capture says why each connection ended, as the live trace did: `decode` shows the same
        // reasons (upstream gone, dial failed, eof, proxy stopped).
        var live: [Int: String] = [:]
        for line in proxy.stdoutLines {
            guard let close = line.range(of: " - close ("), let c = line.range(of: " c") else { continue }
            let conn = Int(line[c.upperBound..<close.lowerBound])
            live[conn ?? -1] = String(line[close.upperBound...].dropLast())
        }
        let (objects, r) = try ProxyTool.decodeJSON(file)
        #expect(r.status == 0, "decode: \(r.err)")
        var decoded: [Int: String] = [:]
        for o in objects where o.pxEvent == "close" { decoded[o.pxConn ?? -1] = o["reason"] as? String }
        #expect(live.count == 4, "\(live)")
        #expect(decoded == live)
        // The text lines of opens and closes are the same, addresses included.
        let text = try Peers.run(Peers.ninescope, ["decode", file])
        #expect(text.status == 0, "decode: \(text.err)")
        func ends(_ lines: [Substring]) -> [Substring] { lines.filter { $0.contains(" + open ") || $0.contains(" - close (") } }
        #expect(ends(text.out.split(separator: "\n")) == ends(proxy.stdoutLines))
        #expect(ends(proxy.stdoutLines).count == 8)
        #expect(live[1]?.hasPrefix("error: upstream dial failed") == true, "\(live)")
        #expect(live[2] == "eof" && live[3] == "error: proxy stopped", "\(live)")
    }

    @Test func malformedBytesReachTheServerByteForByte() throws {
        let upstream = try ProxyRecordingServer()
        let proxy = try ProxyProcess(upstream: upstream.address)

        var sent: [UInt8] = []
        sent += [0x47, 0x45, 0x54, 0x20]                                     // bytes before any Tversion
        sent += Fcall(tag: .notag, .tversion(Tversion(msize: 8192, version: "9P2000.L"))).encode(dialect: .l)
        // A Twalk whose nwname promises three names but carries one: well framed, malformed body.
        var walk = Fcall(tag: 1, .twalk(Twalk(fid: 1, newfid: 2, wnames: ["a"]))).encode(dialect: .l)
        walk[15] = 3
        sent += walk
        sent += [9, 0, 0, 0, 250, 7, 0, 0xAB, 0xCD]                          // unknown message type 250
        sent += [3, 0, 0, 0]                                                  // a size below the minimum
        sent += (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }  // noise
        sent += Fcall(tag: 5, .tclunk(Tclunk(fid: 1))).encode(dialect: .l)
        let client = try ProxyRawSocket(proxy.listenAddress)
        // In pieces of awkward sizes, so frames straddle reads.
        var offset = 0
        for size in [3, 1, 17, 2, 40, 5, 200, 1000] where offset < sent.count {
            let end = min(sent.count, offset + size)
            try client.send(Array(sent[offset..<end]))
            offset = end
            usleep(5_000)
        }
        client.shutdownWrite()

        #expect(ProxyProcess.poll(timeout: 30) { upstream.finishedConnections == 1 })
        let got = upstream.connections.first ?? []
        #expect(got.count == sent.count)
        #expect(got == sent, "the server got different bytes")
        client.close()

        #expect(proxy.waitForOutput { $0.contains("c0 - close") })
        let out = proxy.stdout
        #expect(out.contains("c0 ! garbage"), "\(out)")
        // The bytes before Tversion shown as they came (text), and the size field below the minimum (hex).
        #expect(out.contains("c0 → garbage 4 bytes 'GET ': frame size 542393671 exceeds the limit"), "\(out)")
        // (The size field opens a run with what follows it in the same read: how much depends on the reads.)
        #expect(out.split(separator: "\n").contains {
            $0.contains("c0 → garbage ") && $0.contains(" bytes 03000000") && $0.contains(": frame size 3 is below the 7-byte minimum")
        }, "\(out)")
        #expect(out.contains("c0 ! malformed"), "\(out)")
        #expect(out.contains("c0 → Tversion"))
        #expect(out.contains("c0 → Tclunk"), "the frame after the noise is found again: \(out)")
        proxy.stop()
    }

    @Test func deadUpstreamAtStartEndsEachConnectionNotTheProxy() throws {
        let port = Peers.freePort()   // nothing listens here
        let proxy = try ProxyProcess(upstream: "127.0.0.1:\(port)", extra: ["--json"])
        for _ in 0..<2 {
            let c = try ProxyRawSocket(proxy.listenAddress)
            #expect(c.receiveSome() == nil)
        }
        #expect(proxy.waitForOutput { s in s.split(separator: "\n").filter { $0.contains("\"event\":\"close\"") }.count == 2 })
        let closes = try RealTraffic.jsonLines(proxy.stdout).filter { $0.pxEvent == "close" }
        #expect(closes.allSatisfy { ($0["reason"] as? String)?.contains("upstream dial failed") == true }, "\(closes)")
        #expect(proxy.process.isRunning)
        let stop = proxy.stop()
        #expect(stop.exited && stop.status == 0)
        #expect(proxy.stderr.contains("2 connections (2 dial failed)"), "\(proxy.stderr)")
    }

    /// SIGHUP (the terminal went away) stops the headless proxy in good order, as SIGTERM does: the capture
    /// is completed, every connection's end recorded. Started with SIGHUP ignored (`nohup`), it goes on.
    @Test func aHangupStopsTheProxyInGoodOrderUnlessIgnored() throws {
        let export = try RealTraffic.makeExport(bigSize: 1000)
        let diod = DiodOnPort(export: export)
        try diod.start()
        let file = Peers.tempDir("pxhup") + "/hup.pcapng"
        let proxy = try ProxyProcess(upstream: diod.address, extra: ["--headless", "--capture", file])
        let steady = try ProxyRawSocket(proxy.listenAddress)          // open when the hangup comes
        try Self.attach(steady, fid: 1, export: export)
        let ls = try ProxyTool.client("diodls", ["-s", proxy.listenAddress, "-a", export, "/"])
        #expect(ls.status == 0, "\(ls.err)")
        // diodls's connection over (both sides closed) before the hangup: else it ends as "proxy stopped".
        #expect(proxy.waitForOutput { $0.contains("c1 - close") }, "\(proxy.stdout.suffix(600))")
        let stop = proxy.stop(signal: SIGHUP)
        #expect(stop.exited && stop.status == 0, "\(proxy.stderr)")
        #expect(proxy.stderr.contains("SIGHUP: proxy stopped; 2 connections"), "\(proxy.stderr)")
        let decoded = try Peers.run(Peers.ninescope, ["decode", file], timeout: 30)
        #expect(decoded.status == 0 && !decoded.err.contains("truncat"), "\(decoded.err)")
        #expect(decoded.out.contains("c1 - close (eof)"), "diodls's end is in the capture:\n\(decoded.out.suffix(600))")
        #expect(decoded.out.contains("c0 - close (error: proxy stopped)"),
                "the open connection's end is in the capture:\n\(decoded.out.suffix(600))")
        #expect(!decoded.out.contains("end of capture"), "\(decoded.out.suffix(600))")
        steady.close()

        let ignoring = try ProxyProcess(upstream: diod.address,
                                        launcher: ["/bin/sh", "-c", "trap '' HUP && exec \"$0\" \"$@\""])
        ignoring.process.signal(SIGHUP)
        usleep(300_000)
        #expect(ignoring.process.isRunning, "a proxy started under nohup ignores SIGHUP: \(ignoring.stderr)")
        let again = try ProxyTool.client("diodls", ["-s", ignoring.listenAddress, "-a", export, "/"])
        #expect(again.status == 0, "\(again.err)")
        #expect(ignoring.stop(signal: SIGTERM).status == 0)
        #expect(ignoring.stderr.contains("SIGTERM: proxy stopped; 1 connection"), "\(ignoring.stderr)")
        diod.kill()
    }

    /// A proxy started with a small soft descriptor limit under a far higher hard one (a login shell's
    /// 1,024 under a higher hard limit, scaled down to 32) raises its own: 200 clients at once are all
    /// relayed (each takes two descriptors). Started with the hard limit itself at 32, it relays those it
    /// can, refuses the rest with a line that names the limit, and serves new clients once they are gone.
    @Test func manyClientsAtOnceBeyondASmallSoftLimit() throws {
        var limit = rlimit()
        #expect(getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0)
        let clients = min(200, (Int(clamping: limit.rlim_max) - 64) / 2)
        try #require(clients >= 50, "this machine's hard descriptor limit is \(limit.rlim_max)")
        let export = try RealTraffic.makeExport(bigSize: 1000)
        let diod = DiodOnPort(export: export)
        try diod.start()
        func launcher(_ ulimit: String) -> [String] { ["/bin/sh", "-c", "ulimit \(ulimit) 32 && exec \"$0\" \"$@\""] }
        func version(_ s: ProxyRawSocket) -> Bool {
            (try? s.rpc(0xFFFF, .tversion(Tversion(msize: 8192, version: "9P2000.L"))))?.message.typeCode
                == MessageType.rversion.rawValue
        }

        let raised = try ProxyProcess(upstream: diod.address, launcher: launcher("-Sn"))
        let open = try (0..<clients).map { _ in try ProxyRawSocket(raised.listenAddress) }
        let answered = open.filter(version).count
        #expect(answered == clients, "\(raised.stderr)")
        open.forEach { $0.close() }
        #expect(raised.stop().status == 0)
        #expect(raised.stderr.contains("\(clients) connections"), "\(raised.stderr)")
        #expect(!raised.stderr.contains("Too many open files"), "\(raised.stderr)")

        let capped = try ProxyProcess(upstream: diod.address, launcher: launcher("-n"))
        let many = try (0..<40).map { _ in try ProxyRawSocket(capped.listenAddress) }
        let served = many.filter(version).count
        #expect(served > 0 && served < 40, "served \(served) of 40 under a hard limit of 32")
        #expect(capped.waitForOutput { $0.contains("dial failed") })
        let refusal = "upstream dial failed: Too many open files (this process may hold 32 at once, `ulimit -n`; "
            + "hard limit 32, `ulimit -Hn`)"
        #expect(ProxyProcess.poll(timeout: 20) { capped.stderr.contains(refusal) }, "\(capped.stderr)")
        // Clients it cannot accept wait in the listen queue, and it says so.
        let notice = "cannot accept a connection: Too many open files (this process may hold 32 at once"
        #expect(ProxyProcess.poll(timeout: 20) { capped.stderr.contains(notice) }, "\(capped.stderr)")
        many.forEach { $0.close() }
        #expect(capped.waitForOutput { $0.split(separator: "\n").filter { $0.contains(" - close") }.count == 40 })
        let again = try ProxyRawSocket(capped.listenAddress)
        #expect(version(again), "a new client once the others are gone")
        again.close()
        #expect(capped.process.isRunning)
        #expect(capped.stop().status == 0)
        diod.kill()
    }

    /// At its descriptor limit with every descriptor in use, a proxy cannot accept the clients still queued: it
    /// waits, accepting again ten times a second, instead of spinning (it took a whole CPU, accepting again
    /// 4,000 times a second, for as long as it was at its limit). Whether the relayed pairs fill the limit
    /// exactly depends on how many descriptors the process holds besides: so two limits, one odd, one even.
    @Test func atItsDescriptorLimitItWaitsToAcceptWithoutSpinning() throws {
        let export = try RealTraffic.makeExport(bigSize: 1000)
        let diod = DiodOnPort(export: export)
        try diod.start()
        defer { diod.kill() }
        for limit in [32, 33] {
            let proxy = try ProxyProcess(upstream: diod.address,
                                         launcher: ["/bin/sh", "-c", "ulimit -n \(limit) && exec \"$0\" \"$@\""])
            let clients = try (0..<40).map { _ in try ProxyRawSocket(proxy.listenAddress) }
            #expect(ProxyProcess.poll(timeout: 20) {
                proxy.stderr.contains("cannot accept a connection") || proxy.stderr.contains("dial failed")
            }, "\(proxy.stderr)")
            usleep(500_000)
            let cpu = Self.cpuSeconds(of: proxy.process.processIdentifier, over: 1.0)
            #expect(cpu < 0.5, "limit \(limit): the proxy used \(cpu) s of CPU in 1 s at its descriptor limit")
            clients.forEach { $0.close() }
            // Every one of them accepted and closed (those still queued are accepted once descriptors are
            // free, and end at once), then a new client is served.
            #expect(proxy.waitForOutput { $0.split(separator: "\n").filter { $0.contains(" - close") }.count == 40 },
                    "limit \(limit): \(proxy.stderr)")
            let again = try ProxyRawSocket(proxy.listenAddress)
            let answer = try? again.rpc(0xFFFF, .tversion(Tversion(msize: 8192, version: "9P2000.L")))
            #expect(answer?.message.typeCode == MessageType.rversion.rawValue, "limit \(limit): \(proxy.stderr)")
            again.close()
            #expect(proxy.stop().status == 0)
        }
    }

    /// An idle client costs the proxy little memory: SwiftNIO keeps each channel's receive buffer for its next
    /// read, and the first read's was 64 KiB, so each idle client (two channels) held 136 KB — 138 MB for
    /// 1,000 clients that had only said Tversion; with a 2 KiB first read, 14 MB.
    @Test func idleClientsHoldLittleMemory() throws {
        let export = try RealTraffic.makeExport(bigSize: 1000)
        let diod = DiodOnPort(export: export)
        try diod.start()
        defer { diod.kill() }
        let proxy = try ProxyProcess(upstream: diod.address)
        func anonymousKiB() -> Int {
            let status = (try? String(contentsOfFile: "/proc/\(proxy.process.processIdentifier)/status", encoding: .utf8)) ?? ""
            let line = status.split(separator: "\n").first { $0.hasPrefix("RssAnon:") } ?? ""
            return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
        }
        let before = anonymousKiB()
        let clients = try (0..<300).map { _ in try ProxyRawSocket(proxy.listenAddress) }
        let answered = clients.filter {
            (try? $0.rpc(0xFFFF, .tversion(Tversion(msize: 65536, version: "9P2000.L"))))?.message.typeCode
                == MessageType.rversion.rawValue
        }.count
        #expect(answered == 300, "\(proxy.stderr)")
        let perClient = Double(anonymousKiB() - before) / 300
        #expect(perClient < 40, "\(perClient) KiB of anonymous memory per idle client")
        clients.forEach { $0.close() }
        #expect(proxy.stop().status == 0)
    }

    /// The CPU time (user and system) process `pid` uses over the next `seconds`.
    static func cpuSeconds(of pid: pid_t, over seconds: Double) -> Double {
        func ticks() -> Double {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.range(of: ") ", options: .backwards) else { return 0 }
            let fields = stat[close.upperBound...].split(separator: " ")
            // Fields 14 and 15 of the line (utime, stime); the split starts at field 3 (state).
            return fields.count > 12 ? (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0) : 0
        }
        let before = ticks()
        usleep(UInt32(seconds * 1_000_000))
        return (ticks() - before) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// A stop while a dial is still under way (an upstream whose listen queue is full answers a SYN only after
    /// retries, seconds later) ends the dial, rather than waiting for it: a SIGTERM during a burst of clients
    /// to diod (whose listen queue holds 5) was not acted on until the connect timeout, 10 s later.
    @Test func aStopDoesNotWaitForADialUnderWay() throws {
        // An upstream that never accepts, its queue full: a further dial waits on SYN retries.
        let listener = LoopbackSocket()
        defer { listener.close() }
        #expect(listen(listener.descriptor, 0) == 0)
        let port = Int(listener.port)
        let queued = (0..<4).map { _ in LoopbackSocket.connectWithoutWaiting(to: listener.port) }
        defer { queued.forEach { _ = close($0) } }
        usleep(200_000)

        let proxy = try ProxyProcess(upstream: "127.0.0.1:\(port)")
        let client = try ProxyRawSocket(proxy.listenAddress)
        defer { client.close() }
        #expect(proxy.waitForOutput { $0.contains("c0 + open") })
        usleep(300_000)
        let started = Date()
        let stopped = proxy.stop()
        let took = Date().timeIntervalSince(started)
        #expect(stopped.status == 0)
        #expect(took < 5, "the stop took \(took) s: it waited for the dial (the connect timeout is 10 s)")
        #expect(proxy.stderr.contains("1 connection (1 stopped)"), "\(proxy.stderr)")
    }

    /// A lines' reader that stops reading (a pager left on one page, a terminal stopped with Ctrl-S) stops
    /// neither the relay nor the capture: past `--lines-held` the lines are dropped and counted, standard
    /// error says so, and once the reader reads again a line says where lines are missing and how many.
    /// Before, the trace's thread waited in its write: the capture stopped with it, and once the trace's
    /// queue was full, the relay, so a paused `| less` froze a guest's mount.
    @Test func aReaderThatStopsReadingStopsNeitherTheRelayNorTheCapture() throws {
        let export = try RealTraffic.makeExport(bigSize: 4 << 20)
        let diod = DiodOnPort(export: export)
        try diod.start()
        defer { diod.kill() }
        let dir = Peers.tempDir("pxstall")
        let capture = dir + "/stall.pcapng"
        // The reader: has the pipe open and reads nothing, for now.
        let reader = try StalledReader(dir + "/lines")
        let proxy = try ProxyProcess(upstream: diod.address, extra: ["--headless", "--capture", capture,
                                                                     "--lines-held", "64K"], stdout: reader.path)
        // Lines enough to fill the pipe (1 MiB) and what is held: each client still completes.
        let load = try ProxyTool.client("diodload", ["-s", proxy.listenAddress, "-r", "3", "-n", "2", "-g"])
        #expect(load.status == 0, "diodload: \(load.out) \(load.err)")
        #expect(ProxyProcess.poll(timeout: 20) { proxy.stderr.contains("standard output is not read as fast as the lines come: past ") },
                "\(proxy.stderr)")
        let want = try ProxyTool.sha256(Data(contentsOf: URL(fileURLWithPath: export + "/big.bin")))
        let catBytes = try Peers.run("/bin/sh", ["-c", "diodcat -s \(proxy.listenAddress) -a \(export) big.bin | sha256sum"])
        #expect(catBytes.out.hasPrefix(want), "diodcat through a proxy whose lines nobody reads: \(catBytes.out)")
        // The capture went on meanwhile (flushed within a second): the reads of big.bin are in it, while
        // the lines of them wait or are dropped.
        #expect(ProxyProcess.poll(timeout: 10) {
            let lines = (try? Peers.run(Peers.ninescope, ["decode", capture, "--filter", "Tread and path:/big.bin"]))?.out ?? ""
            return lines.split(separator: "\n").filter { $0.contains(" Rread ") }.count >= 2 * (4 << 20) / (1 << 20)
        }, "the capture did not go on while the lines waited")
        #expect(proxy.process.isRunning)

        // The reader reads again: everything held comes, then a line saying how many lines are missing
        // there, then the new lines.
        reader.startReading()
        #expect(ProxyProcess.poll(timeout: 20) {
            let ls = try? ProxyTool.client("diodls", ["-s", proxy.listenAddress, "-a", export, "/"])
            return ls?.status == 0 && reader.text.contains(" dropped here, over ")
        })
        let stop = proxy.stop()
        _ = ProxyProcess.poll(timeout: 10) { reader.finished }
        let text = reader.text
        // Lines were lost, so the run says so and fails, as for lines that could not be written.
        #expect(stop.exited && stop.status == 1, "exit status \(stop.status)")
        // While the reader did not read, lines were dropped (a few times, maybe: the pipe took some as
        // it filled); each gap is said where it is.
        let gap = text.split(separator: "\n").filter { $0.hasPrefix("ninescope: ") }
        #expect(!gap.isEmpty, "\(text.suffix(2000))")
        let dropped = gap.compactMap { $0.dropFirst("ninescope: ".count).split(separator: " ").first.flatMap { Int($0) } }
            .reduce(0, +)
        #expect(dropped > 0 && gap.allSatisfy { $0.contains(" dropped here, over ")
            && $0.hasSuffix(" s: standard output was not read as fast as they came") }, "\(gap)")
        #expect(proxy.stderr.contains("ninescope: lines lost: standard output was not read as fast as they came: \(dropped) lines ("),
                "\(proxy.stderr)")
        // What was written and what was dropped make the whole trace: the capture decoded has as many lines.
        let all = try Peers.run(Peers.ninescope, ["decode", capture])
        let written = text.split(separator: "\n").count - gap.count
        #expect(written + dropped == all.out.split(separator: "\n").count,
                "\(written) written + \(dropped) dropped against \(all.out.split(separator: "\n").count) decoded")
    }

    /// A stop while the lines' reader reads nothing at all (a pager left open) ends the proxy within a few
    /// seconds, saying how many lines were not written, instead of waiting for the reader for ever.
    @Test func aStopWhileNoOneReadsTheLinesDoesNotWaitForThem() throws {
        let export = try RealTraffic.makeExport(bigSize: 1000)
        let diod = DiodOnPort(export: export)
        try diod.start()
        defer { diod.kill() }
        let reader = try StalledReader(Peers.tempDir("pxstall2") + "/lines")
        let proxy = try ProxyProcess(upstream: diod.address, extra: ["--headless", "--lines-held", "64K"],
                                     stdout: reader.path)
        let load = try ProxyTool.client("diodload", ["-s", proxy.listenAddress, "-r", "2", "-n", "2", "-g"])
        #expect(load.status == 0, "diodload: \(load.out) \(load.err)")
        #expect(ProxyProcess.poll(timeout: 20) { proxy.stderr.contains("standard output is not read as fast as the lines come: past ") },
                "\(proxy.stderr)")
        let started = Date()
        let stop = proxy.stop(signal: SIGTERM)
        let took = Date().timeIntervalSince(started)
        #expect(stop.exited && stop.status == 1, "exit status \(stop.status)")
        #expect(took < 10, "the stop took \(took) s")
        #expect(proxy.stderr.contains("ninescope: SIGTERM: proxy stopped; "), "\(proxy.stderr)")
        #expect(proxy.stderr.contains("ninescope: lines lost: standard output was not read as fast as they came: "),
                "\(proxy.stderr)")
        // Said once, however often lines were dropped.
        #expect(proxy.stderr.components(separatedBy: "standard output is not read as fast").count == 2, "\(proxy.stderr)")
    }

    /// The lines' reader goes away (`proxy … | head`): the proxy says so once and goes on relaying, so a
    /// guest's mount does not die with the pager.
    @Test func aClosedOutputPipeEndsTheLinesNotTheProxy() throws {
        let export = try RealTraffic.makeExport(bigSize: 1000)
        let diod = DiodOnPort(export: export)
        try diod.start()
        let fifo = Peers.tempDir("pxpipe") + "/lines"
        #expect(mkfifo(fifo, 0o600) == 0)
        // The reader: takes the first line and goes.
        let reader = try Peers.spawn("/usr/bin/head", ["-n", "1", fifo], log: Peers.tempDir("pxpipe") + "/head.out")
        let proxy = try ProxyProcess(upstream: diod.address, stdout: fifo)
        for k in 0..<3 {
            if k == 1 { #expect(ProxyProcess.poll(timeout: 20) { !reader.isRunning }, "head did not take its line") }
            let ls = try ProxyTool.client("diodls", ["-s", proxy.listenAddress, "-a", export, "/"])
            #expect(ls.status == 0 && ls.out.contains("hello.txt"), "\(ls.err)")
        }
        let notice = "ninescope: the lines' reader went away (a closed pipe): no more lines; the proxy goes on relaying until stopped"
        #expect(ProxyProcess.poll(timeout: 20) { proxy.stderr.contains(notice) }, "\(proxy.stderr)")
        #expect(proxy.stderr.components(separatedBy: notice).count == 2, "said once: \(proxy.stderr)")
        #expect(proxy.process.isRunning)
        let stop = proxy.stop()
        #expect(stop.exited && stop.status == 0)
        #expect(proxy.stderr.contains("proxy stopped; 3 connections"), "\(proxy.stderr)")
        diod.kill()
    }

    /// Lines that cannot be written (a full disk: here /dev/full) are said at once and at the end, the proxy
    /// goes on relaying, and it exits with status 1: the trace is not whole. Before, they were lost without a
    /// word and the proxy exited 0. `decode` and `serve --trace` likewise (`decode > /dev/full` exited 0).
    @Test func linesThatCannotBeWrittenAreSaidAndFailTheRun() throws {
        let export = try RealTraffic.makeExport(bigSize: 1000)
        let diod = DiodOnPort(export: export)
        try diod.start()
        defer { diod.kill() }
        let proxy = try ProxyProcess(upstream: diod.address, stdout: "/dev/full")
        for _ in 0..<2 {
            let ls = try ProxyTool.client("diodls", ["-s", proxy.listenAddress, "-a", export, "/"])
            #expect(ls.status == 0 && ls.out.contains("hello.txt"), "\(ls.err)")
        }
        let notice = "ninescope: the lines cannot be written (No space left on device): they are lost until they can be; "
            + "the proxy goes on relaying"
        #expect(ProxyProcess.poll(timeout: 20) { proxy.stderr.contains(notice) }, "\(proxy.stderr)")
        #expect(proxy.stderr.components(separatedBy: notice).count == 2, "said once: \(proxy.stderr)")
        let stop = proxy.stop()
        #expect(stop.exited && stop.status == 1, "exit status \(stop.status)")
        #expect(proxy.stderr.contains("proxy stopped; 2 connections"), "\(proxy.stderr)")
        #expect(proxy.stderr.contains("ninescope: lines lost: No space left on device ("), "\(proxy.stderr)")

        let capture = Peers.repoRoot + "/Captures/diod-ls.pcapng"
        for args in [["decode", capture], ["decode", "--json", capture], ["decode", "--stats", capture]] {
            let full = try Peers.run("/bin/sh", ["-c", "exec \"$0\" \"$@\" > /dev/full", Peers.ninescope] + args, timeout: 30)
            #expect(full.status == 1 && full.err.contains("ninescope: cannot write the output: No space left on device ("),
                    "\(args): \(full.status) \(full.err)")
            let fine = try Peers.run("/bin/sh", ["-c", "exec \"$0\" \"$@\" > /dev/null", Peers.ninescope] + args, timeout: 30)
            #expect(fine.status == 0 && fine.err.isEmpty, "\(args): \(fine.status) \(fine.err)")
        }
    }

    /// Started with standard input, output and error closed (`>&- 2>&-`, as some service managers start
    /// programs), the proxy has /dev/null there, not its own event loops' descriptors (its epoll and
    /// eventfd took 0 and 1, and the trace's lines were written into the eventfd), and relays as usual.
    @Test func startedWithItsStandardDescriptorsClosed() throws {
        let export = try RealTraffic.makeExport(bigSize: 1000)
        let diod = DiodOnPort(export: export)
        try diod.start()
        defer { diod.kill() }
        let port = Peers.freePort()
        let log = Peers.tempDir("closed-std") + "/sh.log"
        let proxy = try Peers.spawn("/bin/sh", ["-c", "exec \"$0\" \"$@\" <&- >&- 2>&-", Peers.ninescope, "proxy",
                                                "--headless", "--listen", "127.0.0.1:\(port)", "--upstream", diod.address],
                                    log: log)
        defer { Peers.stop(proxy) }
        #expect(Peers.waitForPort(port, timeout: 20))
        for fd in 0...2 {
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(proxy.processIdentifier)/fd/\(fd)")) ?? "closed"
            #expect(target == "/dev/null", "descriptor \(fd): \(target)")
        }
        for _ in 0..<2 {
            let ls = try ProxyTool.client("diodls", ["-s", "127.0.0.1:\(port)", "-a", export, "/"])
            #expect(ls.status == 0 && ls.out.contains("hello.txt"), "\(ls.err)")
        }
        #expect(proxy.isRunning)
    }

    /// An upstream name that does not resolve is said at start (a typo shows before any client comes) and
    /// in each client's close, in getaddrinfo's words; the proxy runs on.
    @Test func anUnresolvableUpstreamIsSaidAtStartAndPerClient() throws {
        let proxy = try ProxyProcess(upstream: "no-such-host.invalid:564")
        let warning = "ninescope: warning: upstream no-such-host.invalid:564: cannot resolve host \"no-such-host.invalid\": "
        // Said right after the listening line (which the harness waits for): wait for it too.
        #expect(ProxyProcess.poll(timeout: 20) { proxy.stderr.contains(warning) }, "\(proxy.stderr)")
        let c = try ProxyRawSocket(proxy.listenAddress)
        #expect(c.receiveSome() == nil)
        #expect(proxy.waitForOutput { $0.contains(" - close (") })
        let close = proxy.stdoutLines.first { $0.contains(" - close (") } ?? ""
        #expect(close.contains("upstream dial failed: bad address \"tcp!no-such-host.invalid!564\": cannot resolve host"),
                "\(close)")
        #expect(!close.contains("SocketAddressError"), "SwiftNIO's wording: \(close)")
        #expect(proxy.process.isRunning)
        #expect(proxy.stop().status == 0)
    }

    /// A capture whose writes fail (here /dev/full: "no space left") is said at once and at the end, the
    /// relaying goes on unharmed, and the exit status says the capture is incomplete.
    @Test func aFailingCaptureIsReportedAndTheProxyGoesOn() throws {
        let export = try RealTraffic.makeExport(bigSize: 200_000)
        let diod = DiodOnPort(export: export)
        try diod.start()
        let proxy = try ProxyProcess(upstream: diod.address, extra: ["--headless", "--capture", "/dev/full"])
        let cat = try ProxyTool.client("diodcat", ["-s", proxy.listenAddress, "-a", export, "-m", "8192", "big.bin"])
        #expect(cat.status == 0, "diodcat: \(cat.err)")
        let onDisk = try Data(contentsOf: URL(fileURLWithPath: export + "/big.bin"))
        #expect(cat.stdout.count == 200_000 && cat.stdout == onDisk, "the bytes relayed whole")
        // The periodic write meets the full device within about a second.
        #expect(ProxyProcess.poll(timeout: 10) { proxy.stderr.contains("capture stopped:") }, "\(proxy.stderr)")
        #expect(proxy.stderr.contains("capture stopped: write /dev/full: No space left on device"), "\(proxy.stderr)")
        // A second client after the failure is served too, and the failure is said only once.
        let ls = try ProxyTool.client("diodls", ["-s", proxy.listenAddress, "-a", export, "/"])
        #expect(ls.status == 0)
        #expect(proxy.waitForOutput { $0.contains("c1 - close") })
        #expect(proxy.process.isRunning)
        let stop = proxy.stop()
        #expect(stop.exited && stop.status == 1, "exit status \(stop.status)")
        #expect(proxy.stderr.components(separatedBy: "capture stopped:").count == 2, "\(proxy.stderr)")
        #expect(proxy.stderr.contains("capture /dev/full incomplete"), "\(proxy.stderr)")
        #expect(proxy.stderr.contains("2 connections"), "\(proxy.stderr)")
        diod.kill()
    }

    /// A request the server never answers: the headless proxy says so once, `--still-pending` after it was
    /// sent, with no traffic to prompt it; in JSON as an anomaly; with a filter only when the request
    /// matches it as it stands; never with `--still-pending 0`.
    @Test func aRequestLeftUnansweredIsReportedOnce() throws {
        let server = try NinescopeProcess.start(["serve", "--listen", "127.0.0.1:0", "--driver", "memory",
                                                 "--fault", "hang=Tread"])
        defer { server.stop() }
        let options: [(extra: [String], reported: Bool)] = [
            (["--headless", "--still-pending", "1s"], true),
            (["--json", "--still-pending", "1s"], true),
            (["--headless", "--still-pending", "1s", "--filter", "Tread and pending"], true),
            (["--headless", "--still-pending", "1s", "--filter", "Twalk"], false),
            (["--headless", "--still-pending", "0"], false),
        ]
        var proxies: [ProxyProcess] = []
        var clients: [ProxyRawSocket] = []
        for o in options {
            let proxy = try ProxyProcess(upstream: server.address, extra: o.extra)
            proxies.append(proxy)
            let c = try ProxyRawSocket(proxy.listenAddress)
            clients.append(c)
            try Self.attach(c, fid: 0, export: "/")
            let w = try c.rpc(2, .twalk(Twalk(fid: 0, newfid: 1, wnames: ["README"])))
            #expect(w?.message.typeCode == MessageType.rwalk.rawValue, "\(String(describing: w))")
            let o = try c.rpc(3, .tlopen(Tlopen(fid: 1, flags: .rdonly)))
            #expect(o?.message.typeCode == MessageType.rlopen.rawValue, "\(String(describing: o))")
            try c.send(7, .tread(Tread(fid: 1, offset: 0, count: 100)))
        }
        #expect(proxies[0].waitForOutput(timeout: 20) { $0.contains("! still-pending: Tread tag 7 (#") })
        #expect(proxies[1].waitForOutput(timeout: 20) { $0.contains("\"kind\":\"still-pending\"") })
        #expect(proxies[2].waitForOutput(timeout: 20) { $0.contains("! still-pending: Tread tag 7 (#") })
        usleep(2_500_000)   // more checks go by: nothing more is said
        for (proxy, o) in zip(proxies, options) {
            let lines = proxy.stdoutLines.filter { $0.contains("still-pending") }
            #expect(lines.count == (o.reported ? 1 : 0), "\(o.extra): \(proxy.stdout)")
        }
        // The line: when it was noticed, the connection, the request and how long it had waited.
        let line = String(proxies[0].stdoutLines.first { $0.contains("still-pending") } ?? "")
        #expect(line.range(of: #"^\d\d:\d\d:\d\d\.\d{6} c\d+ ! still-pending: Tread tag 7 \(#\d+\) unanswered after 1\.\ds$"#,
                           options: .regularExpression) != nil, "\(line)")
        let json = try RealTraffic.jsonLines(proxies[1].stdout).first { ($0["kind"] as? String) == "still-pending" }
        #expect(json?["event"] as? String == "anomaly" && json?["tag"] as? Int == 7 && json?["index"] is Int, "\(String(describing: json))")
        for c in clients { c.close() }
        for p in proxies { p.stop() }
        // A duration that does not parse is refused.
        let bad = try Peers.run(Peers.ninescope, ["proxy", "--listen", "127.0.0.1:0", "--upstream", server.address,
                                                  "--headless", "--still-pending", "soon"], timeout: 20)
        #expect(bad.status == 64 && bad.err.contains("--still-pending takes a duration (e.g. 10s, 2m) or 0, not 'soon'"),
                "\(bad.status) \(bad.err)")
    }

    /// An upstream that is the proxy's own listener is refused at start, before any client is relayed back
    /// into the proxy (which then dialled itself thousands of times a second); the live UI refuses it too.
    @Test func anUpstreamThatIsTheProxyItselfIsRefused() throws {
        let port = Peers.freePort()
        for (listen, upstream) in [("127.0.0.1:\(port)", "localhost:\(port)"), ("0.0.0.0:\(port)", "127.0.0.1:\(port)")] {
            let r = try Peers.run(Peers.ninescope, ["proxy", "--listen", listen, "--upstream", upstream, "--headless"],
                                  timeout: 20)
            #expect(r.status == 1, "\(r.status) \(r.err)")
            #expect(r.err.contains("Error: the upstream \(upstream) is this proxy's own listener (\(listen)): each client "
                                   + "would be relayed back into the proxy, without end"), "\(r.err)")
            #expect(!r.err.contains("listening on"), "\(r.err)")
        }
        // The port is free again: a proxy on it with a real upstream starts.
        let server = try ProxyRecordingServer()
        let fine = try ProxyProcess(upstream: server.address, listen: "127.0.0.1:\(port)")
        #expect(fine.process.isRunning)
        #expect(fine.stop().status == 0)
    }

    /// A loop through another process (here a second proxy whose upstream is the first, as a forward
    /// typed the wrong way round would be) cannot be refused at start; it is found while it runs: the
    /// client is answered by a closed connection at once instead of after thousands of connections, both
    /// proxies stay up, and once the second one's port is diod's, diodls through the first works.
    @Test func aLoopThroughAnotherProcessIsFoundAndEnded() throws {
        let export = try RealTraffic.makeExport(bigSize: 1000)
        let diod = DiodOnPort(export: export)
        let first = try ProxyProcess(upstream: diod.address)
        let second = try ProxyProcess(upstream: first.listenAddress, listen: diod.address)
        // A client that waits for its answer (diodls gives up by itself, and whether its hang-up or the loop's
        // end reaches c0 first is a race): its connection is ended by the loop's closing, not by it.
        let waiting = try ProxyRawSocket(first.listenAddress)
        try waiting.send(0xFFFF, .tversion(Tversion(msize: 8192, version: "9P2000.L")))
        #expect(waiting.receiveSome() == nil)
        waiting.close()
        let warning = "the Tversion came back in through the upstream 16 times in "
        #expect(ProxyProcess.poll(timeout: 30) { first.stderr.contains(warning) || second.stderr.contains(warning) },
                "\(first.stderr)\n\(second.stderr)")
        #expect(first.stderr.contains("ninescope: warning: the upstream \(diod.address) leads back to this proxy through "
                                      + "another process (c0 → c1 → … → c16: " + warning)
                || second.stderr.contains("ninescope: warning: the upstream \(first.listenAddress) leads back to this "
                                          + "proxy through another process ("), "\(first.stderr)\n\(second.stderr)")
        // The client's connection ends at once: closed by this proxy as part of the loop (the chain its probe
        // tested, or a longer one found while the loop was certain, if that reached c0 first), or by the
        // second one's closing of it (each tests the chain it sees; either may be certain first).
        #expect(first.waitForOutput { $0.contains("c0 - close (error: upstream loop (c0 → c1 → … → c")
                                      || $0.contains("c0 - close (error: closed by upstream)") }, "\(first.stdout)")
        #expect(first.waitForOutput { $0.contains("c0 ! unanswered: Tversion") })
        #expect(first.process.isRunning && second.process.isRunning)
        let opened = first.stdoutLines.filter { $0.contains(" + open ") }.count
        #expect(opened > 16 && opened < 60, "\(opened) connections")
        // diodls through the loop fails at once too.
        usleep(1_100_000)   // after the second the loop holds new dials for
        let ls = try ProxyTool.client("diodls", ["-s", first.listenAddress, "-a", export, "/"])
        #expect(ls.status != 0, "diodls through a loop: \(ls.out)")

        // A client that connects and hangs up without a word (`nc -z`) has no Tversion to tell the loop by;
        // its silent chain is held and tested the same way, and said.
        usleep(1_100_000)
        ProxyRawSocket.connectAndHangUp(first.listenAddress)
        let silent = "none of them saying a word, and ninescope's own Tversion came back in as c"
        #expect(ProxyProcess.poll(timeout: 30) { first.stderr.contains(silent) || second.stderr.contains(silent) },
                "\(first.stderr)\n\(second.stderr)")
        usleep(500_000)   // the lines are written out within 200 ms
        let storm = first.stdoutLines.filter { $0.contains(" + open ") }.count
        usleep(500_000)
        #expect(first.stdoutLines.filter { $0.contains(" + open ") }.count == storm, "the connections go on")
        #expect(storm < opened + 400, "\(storm) connections")

        #expect(second.stop(signal: SIGTERM).status == 0)
        try diod.start()
        let fixed = try ProxyTool.client("diodls", ["-s", first.listenAddress, "-a", export, "/"])
        #expect(fixed.status == 0 && fixed.out.contains("hello.txt"), "diodls to diod: \(fixed.err)")
        let stop = first.stop(signal: SIGTERM)
        #expect(stop.exited && stop.status == 0)
        #expect(first.stderr.contains(" upstream loop)") || first.stderr.contains(" upstream loop,"), "\(first.stderr)")
        diod.kill()
    }

    @Test func badArgumentsAreRefusedWithAMessage() throws {
        let bad = try Peers.run(Peers.ninescope, ["proxy", "--listen", "127.0.0.1", "--upstream", "127.0.0.1:564"])
        #expect(bad.status != 0)
        #expect(bad.err.contains("--listen") && bad.err.contains("bad address"), "\(bad.err)")
        // A port already in use.
        let holder = try ProxyRecordingServer()
        let busy = try Peers.run(Peers.ninescope, ["proxy", "--listen", holder.address, "--upstream", "127.0.0.1:564",
                                                   "--headless"])
        #expect(busy.status != 0)
        #expect(busy.err.contains("cannot listen on \(holder.address): Address already in use\n"), "\(busy.err)")
        #expect(!busy.err.contains("errno") && !busy.err.contains("bind("), "the system's words, not the library's: \(busy.err)")
        // A unix socket in a directory that does not exist.
        let missing = try Peers.run(Peers.ninescope, ["proxy", "--listen", "unix:/nonexistent-ninescope/9p.sock",
                                                      "--upstream", "127.0.0.1:564", "--headless"])
        #expect(missing.status != 0)
        #expect(missing.err.contains("cannot listen on unix:/nonexistent-ninescope/9p.sock: No such file or directory\n"),
                "\(missing.err)")
    }
}
