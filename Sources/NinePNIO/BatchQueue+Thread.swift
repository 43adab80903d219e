import Synchronization
#if canImport(Glibc)
import Glibc
#endif

// The consumer thread: starting it, naming it, and its scheduling.
extension BatchQueue {
    /// How the consumer thread is scheduled.
    public enum Priority: Sendable {
        /// As the process's main thread (the policy and nice value the user started it with).
        case normal
        /// Linux's SCHED_IDLE: runs only on CPU time nothing else wants, and any ordinary thread that wakes
        /// up takes its CPU at once. When the CPUs are busy the producers' work comes first and the consumer
        /// catches up in the time they leave. For work that must stay out of the producers' way (the proxy's
        /// trace and capture).
        ///
        /// Such a thread gets next to nothing while other work keeps every CPU busy (a build, a guest VM): a
        /// proxy's trace and capture stood still for tens of seconds behind busy loops, and once its queue
        /// was full the relay itself would have crawled. So a second thread, at the process's own priority,
        /// checks every second whether the consumer has handed on what was queued at the previous check;
        /// when it has not, it relieves it (`CatchUp`): it gives the consumer the process's scheduling until
        /// that is done, or, where Linux refuses to let a thread leave SCHED_IDLE, takes over itself (and
        /// the consumer then runs at nice 19, not SCHED_IDLE). The consumer is at most ~2 s behind, plus one
        /// run with `.takeOver`, whatever else the machine is doing.
        ///
        /// Why a second: the trace of a proxy under `diodload -g -n 4` on two saturated CPUs lags more than
        /// 100 ms often (58 take-overs in 40 s of load with a 100 ms check, 12 in 20 s at 300 ms, 6 at
        /// 500 ms, none in 40 s at 1 s), and each take-over competes with the relay: 0.907× socat's rate
        /// with the 100 ms check against 0.955× without a catch-up thread (8 rounds each, a noisy host),
        /// 0.935× against 0.944× with the 1 s check.
        case idle
    }

    /// Runs `body` on a new detached thread.
    static func startThread(_ body: @escaping @Sendable () -> Void) {
        let start = Unmanaged.passRetained(ThreadStart(body)).toOpaque()
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { arg in
            Unmanaged<ThreadStart>.fromOpaque(arg!).takeRetainedValue().body()
            return nil
        }, start)
        precondition(created == 0, "pthread_create failed: \(created)")
        pthread_detach(thread)
    }

    /// Names the calling thread (at most 15 bytes) so that `ps -L`, perf and /proc show which thread is
    /// the consumer: Foundation's `Thread.name` does not reach the kernel here. pthread_setname_np is not in
    /// Swift's Glibc module (it is a GNU extension): looked up with `cFunction`.
    static func nameThread(_ name: String) {
        typealias SetName = @convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32
        guard let setName: SetName = cFunction("pthread_setname_np") else { return }
        _ = setName(pthread_self(), String(decoding: name.utf8.prefix(15), as: UTF8.self))
    }

    /// Linux's SCHED_IDLE policy (not exported by Swift's Glibc module; the value is the kernel ABI's).
    static var schedIdle: Int32 { 5 }

    /// Moves the consumer of an `.idle` queue (the calling thread) to SCHED_IDLE, or with `.takeOver` to
    /// nice 19. (On Linux `setpriority` for pid 0 acts on the calling thread alone.)
    ///
    /// Why the proxy's trace and capture share one SCHED_IDLE thread (two CPUs; A/B rounds in alternating or
    /// balanced order against the same proxy built the other way):
    /// - A consumer thread costs more than its own work: under `diodload -g`, 55–72% of a consumer's
    ///   samples were context switches and returns from reschedule IPIs (every wake-up of an ordinary thread
    ///   on its CPU preempts it), so one thread beats two.
    /// - With capture writes going through the page cache (0.65 s of kernel copying per 256 MiB here) an
    ///   idle-policy capture could not keep up with a saturating transfer: one SCHED_IDLE thread for both
    ///   cut a 256 MiB diodcat with capture by 10–24%, so the capture had its own thread at nice +10. Since
    ///   captures are written with direct I/O (~0.1 s per 256 MiB) that no longer holds: the same diodcat
    ///   with capture ran at 348 and 347 MiB/s on one SCHED_IDLE thread against 352 and 295 on the two
    ///   (two runs, medians of 8 alternating rounds), while `diodload -g` with capture went from 0.76× to
    ///   0.89× socat's rate (0.755× vs 0.885× and 0.771× vs 0.899× in two runs of 8 balanced rounds).
    /// - Those runs had the event loops at nice 0 under `nice -n -15` (see `ProcessScheduling`). Checked
    ///   again with the loops at the process's value: a trace thread at the loops' own priority instead of
    ///   SCHED_IDLE cut `diodload -g -n 4` with capture to 0.676× socat's rate against 0.900× (medians of
    ///   per-round ratios, 10 rotated rounds) and left the p50 where it was (+4.4 vs +5.8 µs over socat's,
    ///   20 rounds).
    func lower() {
        var param = sched_param()
        if catchUp == .raise && pthread_setschedparam(pthread_self(), Self.schedIdle, &param) == 0 { return }
        // Refused (or `.takeOver`): the lowest nice value.
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
    }

    /// The consumer, raised by the catch-up thread: back to its own priority once it has handed on what was
    /// queued when it was raised.
    func lowerOnceCaughtUp() {
        let targets = raiseTargets.withLock { $0 }
        guard targets.allSatisfy({ $0.lane.processed.load(ordering: .acquiring) >= $0.published }) else { return }
        lower()
        raised.store(false, ordering: .releasing)
    }
}

/// What a thread started by `BatchQueue` runs.
private final class ThreadStart: Sendable {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}
