import Foundation
import NIOCore
import Testing
import NinePTestSupport
import NinePNIO
#if canImport(Glibc)
import Glibc
#endif

/// ninescope's working threads run with the scheduling the user started it with: under `nice -n 7` the
/// proxy's and the server's event loops and the capture writer's pool have nice 7 (they used to keep the
/// nice value of the Swift concurrency thread that created them), the proxy's trace thread is
/// SCHED_IDLE where the proxy may raise it back, else at nice 19 (and its catch-up thread keeps it from
/// falling behind when other work fills the CPUs), and `decode` reads its input on a thread with nice 7 too.
@Suite(.serialized) struct SchedulingTests {
    /// One thread's name, nice value and scheduling policy, from /proc/PID/task/TID/stat.
    struct ThreadInfo {
        let name: String
        let nice: Int
        let policy: Int
        /// The system call the thread is in (its number, as /proc/…/syscall gives it), or "running".
        let syscall: String
    }

    static func threads(of pid: Int32) -> [ThreadInfo] {
        let dir = "/proc/\(pid)/task"
        let tids = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return tids.compactMap { tid in
            guard let stat = try? String(contentsOfFile: "\(dir)/\(tid)/stat", encoding: .utf8),
                  let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { return nil }
            let name = String(stat[stat.index(after: open)..<close])
            // Fields after the name, from field 3 (state): nice is field 19, policy field 41.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 38, let nice = Int(fields[16]), let policy = Int(fields[38]) else { return nil }
            let call = (try? String(contentsOfFile: "\(dir)/\(tid)/syscall", encoding: .utf8))?
                .split(separator: " ").first.map(String.init) ?? ""
            return ThreadInfo(name: name, nice: nice, policy: policy, syscall: call)
        }
    }

    static let nice = ["/usr/bin/nice", "-n", "7"]
    static let schedIdle = 5

    /// The proxy as run by whoever runs these tests, and (as root) without CAP_SYS_NICE, as an ordinary
    /// user runs it: a SCHED_IDLE thread could not be raised again, so the trace thread runs at nice 19.
    static let withoutCapSysNice = ["/usr/bin/setpriv", "--bounding-set=-sys_nice"]
    /// Root with setpriv (util-linux) at hand: only then can a proxy be started without CAP_SYS_NICE here.
    static var canDropCapSysNice: Bool { getuid() == 0 && FileManager.default.isExecutableFile(atPath: withoutCapSysNice[0]) }

    @Test func proxyThreadsKeepTheNiceValueTheProxyWasStartedWith() throws {
        try checkProxyThreads(launcher: Self.nice, mayRaise: ProcessScheduling.mayReturnFromIdle)
    }

    @Test(.enabled(if: SchedulingTests.canDropCapSysNice, "dropping CAP_SYS_NICE needs root and setpriv"))
    func proxyThreadsWithoutCapSysNice() throws {
        try checkProxyThreads(launcher: Self.withoutCapSysNice + Self.nice, mayRaise: false)
    }

    func checkProxyThreads(launcher: [String], mayRaise: Bool) throws {
        let export = try RealTraffic.makeExport(bigSize: 1000)
        let diod = DiodOnPort(export: export)
        try diod.start()
        let capture = Peers.tempDir("sched-capture") + "/c.pcapng"
        let proxy = try ProxyProcess(upstream: diod.address, extra: ["--headless", "--capture", capture],
                                     launcher: launcher)
        let ls = try ProxyTool.client("diodls", ["-s", proxy.listenAddress, "-a", export, "-l", "/"])
        #expect(ls.status == 0, "diodls failed: \(ls.err)")
        // The capture is flushed every second on NIO's thread pool: wait until its threads exist.
        let pid = proxy.process.processIdentifier
        let sawPool = ProxyProcess.poll(timeout: 10) { Self.threads(of: pid).contains { $0.name.contains("TP-#") } }
        #expect(sawPool, "no thread-pool thread: \(Self.threads(of: pid).map(\.name))")

        let threads = Self.threads(of: pid)
        let loops = threads.filter { $0.name.hasPrefix("NIO-") }
        #expect(!loops.isEmpty, "no event loop threads: \(threads.map(\.name))")
        for t in loops + threads.filter({ $0.name.contains("TP-#") }) {
            #expect(t.nice == 7, "\(t.name) has nice \(t.nice), the proxy was started with 7")
        }
        let trace = threads.filter { $0.name == "ninescope-trace" }
        #expect(trace.count == 1, "\(threads.map(\.name))")
        if mayRaise {
            #expect(trace.allSatisfy { $0.policy == Self.schedIdle }, "the trace thread is not SCHED_IDLE: \(trace)")
        } else {
            #expect(trace.allSatisfy { $0.policy == 0 && $0.nice == 19 }, "the trace thread is not at nice 19: \(trace)")
        }
        // Its catch-up thread runs as the proxy does.
        let catchUp = threads.filter { $0.name == "ninescope-catch" }
        #expect(catchUp.count == 1, "\(threads.map(\.name))")
        #expect(catchUp.allSatisfy { $0.policy == 0 && $0.nice == 7 }, "\(catchUp)")
        proxy.stop()
    }

    /// Threads that keep every CPU busy at the proxy's own priority (a build, a guest VM), until stopped.
    final class BusyLoops: @unchecked Sendable {
        // @unchecked: `stopped` is only touched under `lock`.
        private let lock = NSLock()
        private var stopped = false
        private let done = DispatchGroup()

        init(count: Int) {
            for _ in 0..<count {
                done.enter()
                Thread.detachNewThread { [self] in
                    var x: UInt64 = 1
                    while !isStopped {
                        for _ in 0..<100_000 { x = x &* 6364136223846793005 &+ 1442695040888963407 }
                    }
                    if x == 0 { print("") }   // keep the loop
                    done.leave()
                }
            }
        }

        private var isStopped: Bool { lock.lock(); defer { lock.unlock() }; return stopped }

        func stop() {
            lock.lock()
            stopped = true
            lock.unlock()
            done.wait()
        }
    }

    /// With every CPU kept busy by other work, the low-priority trace thread gets next to nothing: its
    /// catch-up thread must raise it or take over, so that the trace and the capture keep up with the
    /// traffic (they used to stand still until the machine went quiet, and the relay with them once the
    /// queue was full).
    @Test func traceAndCaptureKeepUpWhileOtherWorkKeepsEveryCPUBusy() throws {
        try checkTraceKeepsUpWithBusyCPUs(launcher: [], mustCatchUp: ProcessScheduling.mayReturnFromIdle)
    }

    /// The same where the trace thread cannot be raised (no CAP_SYS_NICE): the catch-up thread does the
    /// work itself when needed. A nice-19 thread gets five times SCHED_IDLE's share and may keep up on its
    /// own (it did behind four other busy processes), so a take-over is not required here; that it happens
    /// and hands on everything in order is `BatchQueueTests.theCatchUpThreadTakesOverFromAConsumerThatFellBehind`.
    @Test(.enabled(if: SchedulingTests.canDropCapSysNice, "dropping CAP_SYS_NICE needs root and setpriv"))
    func traceAndCaptureKeepUpWithBusyCPUsWithoutCapSysNice() throws {
        try checkTraceKeepsUpWithBusyCPUs(launcher: Self.withoutCapSysNice, mustCatchUp: false)
    }

    /// `mustCatchUp`: the trace thread is SCHED_IDLE, which behind nproc + 1 busy loops gets ~0.1% of a CPU
    /// (far too little for this workload without help), so the proxy must report a catch-up — when the
    /// workload is heavy enough for that share to fall behind (a few thousand messages: on a slow spell the
    /// busy loops can hold diodload itself to ~1,400 in its two seconds, which that share keeps up with).
    func checkTraceKeepsUpWithBusyCPUs(launcher: [String], mustCatchUp: Bool) throws {
        let export = try RealTraffic.makeExport(bigSize: 1000)
        let diod = DiodOnPort(export: export)
        try diod.start()
        defer { diod.kill() }
        let capture = Peers.tempDir("sched-busy") + "/c.pcapng"
        let proxy = try ProxyProcess(upstream: diod.address, extra: ["--headless", "--capture", capture],
                                     launcher: launcher)
        let hogs = BusyLoops(count: ProcessInfo.processInfo.activeProcessorCount + 1)
        defer { hogs.stop() }

        let load = try ProxyTool.client("diodload", ["-s", proxy.listenAddress, "-r", "2", "-n", "2", "-g"])
        #expect(load.status == 0, "diodload -g failed: \(load.out) \(load.err)")
        // Still busy: the whole session reaches the trace...
        let traced = proxy.waitForOutput { s in s.split(separator: "\n").filter { $0.contains(" - close") }.count >= 2 }
        let lines = proxy.stdoutLines
        #expect(traced, "the trace stood still: \(lines.count) lines")
        let requests = lines.filter { $0.contains("→ Tgetattr") }.count
        #expect(requests > 100, "\(lines.suffix(5))")
        #expect(requests == lines.filter { $0.contains("← Rgetattr") }.count)
        let messages = lines.filter { $0.contains(" → ") || $0.contains(" ← ") }.count
        // ...and the capture file, within its flush interval.
        var seen = 0
        let flushed = ProxyProcess.poll(timeout: 30, interval: 200_000) {
            guard let (objects, r) = try? ProxyTool.decodeJSON(capture), r.status == 0 else { return false }
            seen = objects.filter { $0.pxEvent == "message" }.count
            return seen == messages
        }
        #expect(flushed, "the capture holds \(seen) of \(messages) messages")
        hogs.stop()
        #expect(proxy.stop().exited)
        #expect(proxy.stderr.contains("SIGINT: proxy stopped"), "\(proxy.stderr)")
        if mustCatchUp && messages >= 4000 {
            // The proxy says that its trace fell behind and was caught up.
            #expect(proxy.stderr.contains("caught up at the proxy's priority"), "\(proxy.stderr)")
        }
    }

    @Test func serverEventLoopsKeepTheNiceValueTheServerWasStartedWith() throws {
        let server = try NinescopeProcess.start(["serve", "--listen", "127.0.0.1:0", "--driver", "synth"],
                                                launcher: Self.nice)
        defer { Peers.stop(server.process) }
        let ls = try ProxyTool.client("diodls", ["-s", server.diodAddress, "-l", "/"])
        #expect(ls.status == 0, "diodls failed: \(ls.err)")
        let threads = Self.threads(of: server.process.processIdentifier)
        let loops = threads.filter { $0.name.hasPrefix("NIO-") }
        #expect(!loops.isEmpty, "no event loop threads: \(threads.map(\.name))")
        for t in loops {
            #expect(t.nice == 7, "\(t.name) has nice \(t.nice), the server was started with 7")
        }
    }

    /// Started on one CPU (`taskset -c 0`), the server and the proxy run one event loop each, not one per
    /// CPU of the machine taking turns on that one; started freely, one per CPU it may run on.
    @Test(.enabled(if: Peers.which("taskset") != nil, "needs taskset (util-linux)"))
    func anAffinityMaskSetsTheEventLoopCount() throws {
        for args in [["serve", "--listen", "127.0.0.1:0", "--driver", "synth"],
                     ["proxy", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:9", "--headless"]] {
            // Started freely: NIO's count of CPUs, or fewer where this process's own mask (a container's
            // cpuset) allows fewer.
            let free = min(System.coreCount, ProcessScheduling.allowedCPUs ?? System.coreCount)
            for (launcher, expected) in [(["/usr/bin/taskset", "-c", "0"], 1), ([], free)] {
                let p = try NinescopeProcess.start(args, launcher: launcher)
                defer { Peers.stop(p.process) }
                let loops = Self.threads(of: p.process.processIdentifier).filter { $0.name.hasPrefix("NIO-SGLTN") }
                #expect(loops.count == expected, "\(launcher) ninescope \(args[0]): \(loops.map(\.name))")
            }
        }
    }

    /// read(2)'s system call number.
    static var readSyscall: String {
        #if arch(x86_64)
        return "0"
        #else
        return "63"   // arm64, riscv64 (the generic table)
        #endif
    }

    @Test func decodeReadsItsInputOnAThreadWithTheNiceValueItWasStartedWith() throws {
        let dir = Peers.tempDir("sched-decode")
        let fifo = dir + "/capture"
        try #require(mkfifo(fifo, 0o600) == 0)
        let p = try Peers.spawn(Self.nice[0], Array(Self.nice.dropFirst()) + [Peers.ninescope, "decode", fifo],
                                log: dir + "/out")
        defer { Peers.stop(p, signal: SIGKILL) }
        // Open the writing end once decode has opened the reading end; then it waits in read(2) for the
        // capture's first bytes.
        var writer: Int32 = -1
        let opened = ProxyProcess.poll(timeout: 30) {
            writer = open(fifo, O_WRONLY | O_NONBLOCK)
            return writer >= 0
        }
        try #require(opened, "decode never opened its input")
        defer { close(writer) }
        var readers: [ThreadInfo] = []
        let found = ProxyProcess.poll(timeout: 10) {
            readers = Self.threads(of: p.processIdentifier).filter { $0.syscall == Self.readSyscall }
            return !readers.isEmpty
        }
        #expect(found, "no thread of decode waits in read(2): \(Self.threads(of: p.processIdentifier))")
        for t in readers {
            #expect(t.nice == 7, "decode reads on \(t.name) with nice \(t.nice); it was started with 7")
        }
    }
}
