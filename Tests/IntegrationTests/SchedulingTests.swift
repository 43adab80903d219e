import Foundation
import Testing
import NinePTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// ninescope's working threads run with the scheduling the user started it with: under `nice -n 7` the
/// proxy's and the server's event loops and the capture writer's pool have nice 7 (they used to keep the
/// nice value of the Swift concurrency thread that created them), and the proxy's trace thread is
/// SCHED_IDLE.
@Suite(.serialized) struct SchedulingTests {
    /// One thread's name, nice value and scheduling policy, from /proc/PID/task/TID/stat.
    struct ThreadInfo {
        let name: String
        let nice: Int
        let policy: Int
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
            return ThreadInfo(name: name, nice: nice, policy: policy)
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
        #expect(threads.first { $0.name != "ninescope-trace" && $0.nice == 7 } != nil)
        proxy.stop()
    }

    @Test func serverEventLoopsKeepTheNiceValueTheServerWasStartedWith() throws {
        let server = try NinescopeProcess.start(["serve", "--listen", "127.0.0.1:0", "--driver", "synth"], launcher: Self.nice)
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
}
