import ArgumentParser
import NinePCapture
import NinePNIO
import NinePSession
import NinePWire
#if canImport(Glibc)
import Glibc
#endif

/// `ninescope bench-trace CAPTURE`: a hidden probe for bench/proxy.sh (not in the help). Replays a
/// capture's messages through the work `ninescope proxy --headless` does for each one on its trace thread
/// (tracking, the text line, and with `--capture` the pcapng records), in runs of `--batch` events as that
/// thread takes them from its queue, output to /dev/null, and prints the thread CPU time that took per
/// message:
/// `messages=109448 reps=5 ns_per_message=1113 (trace 792, capture 321)` (a diodload -g run, 2026-12-03).
/// CPU time of this thread only (CLOCK_THREAD_CPUTIME_ID), best of `--reps`: what other processes do on
/// the machine barely moves it. Runs with and without capture alternate, so that a slower spell of the
/// machine (steal time on a shared VM) falls on both; capture's share is the difference of the two bests,
/// and when that is below zero (the noise is larger than the capture's cost) it says so.
struct BenchTraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-trace",
        abstract: "Measure the headless proxy's per-message trace and capture cost.",
        shouldDisplay: false
    )

    @Argument(help: "A capture whose messages are replayed (pcap or pcapng).") var capture: String
    @Option(help: "Repetitions; the best is reported.") var reps: Int = 5
    @Option(help: "Events per run handed to the trace (its thread merges what queued while it napped: ~50 under diodload -g).")
    var batch: Int = 50

    func run() throws {
        var events: [ProxyEvent] = []
        var messages = 0
        let client = Address.tcp(host: "127.0.0.1", port: 50000)
        let upstream = Address.tcp(host: "127.0.0.1", port: 564)
        try CaptureInput.forEachEvent(file: capture, ports: []) { e in
            switch e {
            case .connectionOpened(let c, let t, _):
                events.append(.opened(conn: c, client: client, upstream: upstream, at: t))
            case .frame(let c, let d, let t, let bytes, let marks):
                events.append(.frame(conn: c, direction: d, at: t, bytes: bytes, marks: marks))
                messages += 1
            case .garbage(let c, let d, let t, let bytes, let reason):
                events.append(.garbage(conn: c, direction: d, at: t, bytes: bytes, reason: reason))
            case .connectionClosed(let c, let t, _):
                events.append(.closed(conn: c, reason: .eof, at: t))
            }
        }
        guard messages > 0 else { throw ProxyCommandError("'\(capture)' holds no 9P messages") }
        let null = open("/dev/null", O_WRONLY | O_CLOEXEC)
        guard null >= 0 else { throw ProxyCommandError("cannot open /dev/null") }
        defer { close(null) }
        let scratch = "/tmp/ninescope-bench-trace-\(getpid()).pcapng"
        defer { unlink(scratch) }

        /// One replay of every event; the thread CPU time it took.
        func run(withCapture: Bool) throws -> Int64 {
            var recorder: CaptureRecorder?
            var sink: CaptureFileSink?
            if withCapture {
                let s = try CaptureFileSink(path: scratch)
                sink = s
                recorder = CaptureRecorder(file: s, options: PcapngWriterOptions(toolVersion: NinescopeVersion.string))
            }
            let trace = ProxyTrace(style: .text, output: LineOutput(fd: null), recorder: recorder)
            let start = Self.threadCPU()
            var i = 0
            while i < events.count {
                let j = min(events.count, i + max(1, batch))
                trace.consume(Array(events[i..<j]))
                i = j
            }
            let took = Self.threadCPU() - start
            try sink?.close()
            return took
        }
        var traceOnly = Int64.max, both = Int64.max
        for _ in 0..<max(1, reps) {
            traceOnly = min(traceOnly, try run(withCapture: false))
            both = min(both, try run(withCapture: true))
        }
        let per = { (ns: Int64) in ns / Int64(messages) }
        let capture = both >= traceOnly ? "\(per(both - traceOnly))"
            : "below the noise: the best run with it took \(per(traceOnly - both)) less"
        print("messages=\(messages) reps=\(reps) ns_per_message=\(per(both)) "
              + "(trace \(per(traceOnly)), capture \(capture))")
    }

    static func threadCPU() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}
