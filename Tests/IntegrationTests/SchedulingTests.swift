import Foundation
import Testing
import NinePTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// ninescope's working threads run with the scheduling the user started it with: under `nice -n 7` the
/// proxy's and the server's event loops and the capture writer's pool have nice 7 (they used to keep the
/// nice value of the Swift concurrency thread that created them), the proxy's trace thread is
/// SCHED_IDLE, and `decode` reads its input on a thread with nice 7 too.
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

    @Test func proxyThreadsKeepTheNiceValueTheProxyWasStartedWith() throws {
        let export = try RealTraffic.makeExport(bigSize: 1000)
        let diod = DiodOnPort(export: export)
        try diod.start()
        let capture = Peers.tempDir("sched-capture") + "/c.pcapng"
        let proxy = try ProxyProcess(upstream: diod.address, extra: ["--headless", "--capture", capture],
                                     launcher: Self.nice)
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
        #expect(trace.allSatisfy { $0.policy == Self.schedIdle }, "the trace thread is not SCHED_IDLE")
        proxy.stop()
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
