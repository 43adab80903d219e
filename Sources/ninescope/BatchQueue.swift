import Foundation
import InspectorCore
#if canImport(Glibc)
import Glibc
#endif

/// A bounded hand-off of batches from producers to one consumer thread, which sees them in push order.
/// The proxy hands its event batches from the NIO event loops to its trace thread (which also writes the
/// capture) through one, so decoding, formatting and capture writing never run on an event loop (the relay
/// only copies each frame once and appends it here); `decode` hands tracker output to the thread that
/// formats and writes it.
///
/// Bounded: when more than `maxBytes` (as `bytes` counts them) or `maxEvents` items wait, `push` blocks
/// its caller until the consumer catches up — a proxy event loop then reads no more from its sockets, so
/// a proxy whose trace or capture cannot keep up slows its clients down instead of growing without bound.
///
/// The consumer takes everything queued at once and hands it on merged: consecutive batches are joined
/// into runs of up to `runItems` items and `runBytes` bytes, so its per-call costs (locks, an output
/// buffer, a capture write) are paid per run, not per producer batch. A proxy relaying small requests
/// pushes one event per batch; merging ~50 of them (1 ms of `diodload -g` traffic) cut the trace and
/// capture work per message from 1.58 to 1.11 µs (`ninescope bench-trace --batch 1` vs `--batch 50`).
final class BatchQueue<Item: Sendable>: @unchecked Sendable {
    // @unchecked: every mutable field is accessed with `mutex` held.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let work = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let space = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let idle = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Queued batches with their weights (as `bytes` counts them).
    private var batches: [(items: [Item], bytes: Int)] = []
    private var queuedBytes = 0
    private var queuedEvents = 0
    private var consumerWaiting = false
    private var producersWaiting = 0
    private var busy = false
    private var finishing = false
    private var exited = false
    let maxBytes: Int
    let maxEvents: Int
    let runItems: Int
    let runBytes: Int
    private let bytes: @Sendable (Item) -> Int

    /// How the consumer thread is scheduled.
    enum Priority {
        /// As the process's other threads.
        case normal
        /// Linux's SCHED_IDLE (where it is refused, a nice value raised by 10): runs only on CPU time
        /// nothing else wants, and any ordinary thread that wakes up takes its CPU at once. When the CPUs are
        /// busy the producers' work comes first and the consumer catches up in the time they leave (falling
        /// behind by at most what the queue holds). For work that must stay out of the producers' way (the
        /// proxy's trace and capture).
        case idle
    }

    /// Starts the consumer thread (named `name`, at `priority`), which calls `body` with every item in
    /// push order, in runs of up to `runItems` items and `runBytes` bytes (a single larger batch is
    /// handed on whole).
    init(name: String, priority: Priority = .normal, maxBytes: Int = 64 << 20, maxEvents: Int = 256 * 1024,
         runItems: Int = 4096, runBytes: Int = 4 << 20,
         bytes: @escaping @Sendable (Item) -> Int, body: @escaping @Sendable ([Item]) -> Void) {
        self.maxBytes = maxBytes
        self.maxEvents = maxEvents
        self.runItems = max(1, runItems)
        self.runBytes = max(1, runBytes)
        self.bytes = bytes
        pthread_mutex_init(mutex, nil)
        for c in [work, space, idle] { pthread_cond_init(c, nil) }
        let thread = Thread { [self] in
            Self.nameThread(name)
            Self.schedule(priority)
            run(body)
        }
        thread.start()
    }

    deinit {
        pthread_mutex_destroy(mutex)
        for c in [work, space, idle] { pthread_cond_destroy(c); c.deallocate() }
        mutex.deallocate()
    }

    /// Queues a batch (any thread). Blocks while the queue is full.
    func push(_ batch: [Item]) {
        guard !batch.isEmpty else { return }
        var bytes = 0
        for item in batch { bytes += self.bytes(item) }
        pthread_mutex_lock(mutex)
        while (queuedBytes >= maxBytes || queuedEvents >= maxEvents) && !exited {
            producersWaiting += 1
            pthread_cond_wait(space, mutex)
            producersWaiting -= 1
        }
        batches.append((batch, bytes))
        queuedBytes += bytes
        queuedEvents += batch.count
        if consumerWaiting { pthread_cond_signal(work) }
        pthread_mutex_unlock(mutex)
    }

    /// Items pushed and not yet taken by the consumer (a hint: it changes as soon as the lock is let go).
    var backlog: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return queuedEvents
    }

    /// Waits until everything pushed so far has been consumed.
    func drain() {
        pthread_mutex_lock(mutex)
        while (!batches.isEmpty || busy) && !exited { pthread_cond_wait(idle, mutex) }
        pthread_mutex_unlock(mutex)
    }

    /// Consumes what is queued, then stops the thread (later pushes are dropped). Waits for it; calling it
    /// again returns at once.
    func finish() {
        pthread_mutex_lock(mutex)
        finishing = true
        pthread_cond_signal(work)
        while !exited { pthread_cond_wait(idle, mutex) }
        pthread_mutex_unlock(mutex)
    }

    /// Names the calling thread (at most 15 bytes) so that `ps -L`, perf and /proc show which thread is
    /// the consumer: Foundation's `Thread.name` does not reach the kernel here. pthread_setname_np is not in
    /// Swift's Glibc module (it is a GNU extension): looked up with `cFunction`.
    private static func nameThread(_ name: String) {
        typealias SetName = @convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32
        guard let setName: SetName = cFunction("pthread_setname_np") else { return }
        _ = setName(pthread_self(), String(decoding: name.utf8.prefix(15), as: UTF8.self))
    }

    /// Linux's SCHED_IDLE policy (not exported by Swift's Glibc module; the value is the kernel ABI's).
    private static var schedIdle: Int32 { 5 }

    /// Applies `priority` to the calling thread. (On Linux `setpriority` given a thread id acts on that
    /// thread alone; gettid(2), not in Swift's Glibc module either, is looked up with `cFunction`.)
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
    private static func schedule(_ priority: Priority) {
        if priority == .normal { return }
        var param = sched_param()
        if pthread_setschedparam(pthread_self(), schedIdle, &param) == 0 { return }
        // Refused: the next best, nice +10 for this thread.
        typealias GetTid = @convention(c) () -> Int32
        guard let gettid: GetTid = cFunction("gettid") else { return }
        let tid = id_t(gettid())
        let which = __priority_which_t(PRIO_PROCESS.rawValue)
        errno = 0
        let current = getpriority(which, tid)
        if current == -1 && errno != 0 { return }
        _ = setpriority(which, tid, min(19, current + 10))
    }

    /// How long the consumer naps, after a round of work, before asking producers to wake it: while traffic
    /// flows it picks up whatever arrived every `nap` instead of being woken (a futex call) per batch.
    static var napNanos: Int { 1_000_000 }

    private func run(_ body: ([Item]) -> Void) {
        pthread_mutex_lock(mutex)
        var busyPeriod = false
        while true {
            while batches.isEmpty && !finishing {
                if busyPeriod {
                    busyPeriod = false
                    var deadline = timespec()
                    clock_gettime(CLOCK_REALTIME, &deadline)
                    let ns = Int(deadline.tv_nsec) + Self.napNanos
                    deadline.tv_sec += ns / 1_000_000_000
                    deadline.tv_nsec = ns % 1_000_000_000
                    pthread_cond_timedwait(work, mutex, &deadline)
                    continue
                }
                consumerWaiting = true
                pthread_cond_wait(work, mutex)
                consumerWaiting = false
            }
            busyPeriod = true
            if batches.isEmpty {
                exited = true
                pthread_cond_broadcast(idle)
                pthread_cond_broadcast(space)
                pthread_mutex_unlock(mutex)
                return
            }
            let taken = batches
            batches = []
            queuedBytes = 0
            queuedEvents = 0
            busy = true
            if producersWaiting > 0 { pthread_cond_broadcast(space) }
            pthread_mutex_unlock(mutex)
            BatchRuns.forEach(taken, maxItems: runItems, maxBytes: runBytes, body)
            pthread_mutex_lock(mutex)
            busy = false
            if batches.isEmpty { pthread_cond_broadcast(idle) }
        }
    }
}
