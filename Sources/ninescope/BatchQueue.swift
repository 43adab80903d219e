import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A bounded hand-off of batches from producers to one consumer thread, which sees them in push order.
/// The proxy hands its event batches from the NIO event loops to the trace thread through one (and to the
/// capture thread through another), so decoding, formatting and capture writing never run on an event loop
/// (the relay only copies each frame once and appends it here); `decode` hands tracker output to the thread that formats and writes it.
///
/// Bounded: when more than `maxBytes` (as `bytes` counts them) or `maxEvents` items wait, `push` blocks
/// its caller until the consumer catches up — a proxy event loop then reads no more from its sockets, so
/// a proxy whose trace or capture cannot keep up slows its clients down instead of growing without bound.
final class BatchQueue<Item: Sendable>: @unchecked Sendable {
    // @unchecked: every mutable field is accessed with `mutex` held.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let work = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let space = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let idle = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var batches: [[Item]] = []
    private var queuedBytes = 0
    private var queuedEvents = 0
    private var consumerWaiting = false
    private var producersWaiting = 0
    private var busy = false
    private var finishing = false
    private var exited = false
    let maxBytes: Int
    let maxEvents: Int
    private let bytes: @Sendable (Item) -> Int

    /// How the consumer thread is scheduled. With either lowered priority, when the CPUs are busy the
    /// producers' work comes first and the consumer catches up in the time they leave (falling behind by at
    /// most what the queue holds).
    enum Priority {
        /// As the process's other threads.
        case normal
        /// Nice value raised by 10: still a share of a busy CPU, so it keeps up, in parallel with the
        /// producers, with work that a saturating load brings in bulk (a capture file's writes).
        case lowered
        /// Linux's SCHED_IDLE (`lowered` where it is refused): runs only on CPU time nothing else wants, and
        /// any ordinary thread that wakes up takes its CPU at once. For work that must stay out of the
        /// producers' way (the proxy's text trace).
        case idle
    }

    /// Starts the consumer thread (named `name`, at `priority`), which calls `body` with every batch in
    /// push order.
    init(name: String, priority: Priority = .normal, maxBytes: Int = 64 << 20, maxEvents: Int = 256 * 1024,
         bytes: @escaping @Sendable (Item) -> Int, body: @escaping @Sendable ([Item]) -> Void) {
        self.maxBytes = maxBytes
        self.maxEvents = maxEvents
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
        push(batch, weight: weight(of: batch))
    }

    /// What `bytes` sums to over `batch`.
    func weight(of batch: [Item]) -> Int {
        var total = 0
        for item in batch { total += bytes(item) }
        return total
    }

    /// `push(_:)` with the batch's `weight(of:)` already known: a producer that hands one batch to several
    /// queues with the same `bytes` weighs it once.
    func push(_ batch: [Item], weight bytes: Int) {
        guard !batch.isEmpty else { return }
        pthread_mutex_lock(mutex)
        while (queuedBytes >= maxBytes || queuedEvents >= maxEvents) && !exited {
            producersWaiting += 1
            pthread_cond_wait(space, mutex)
            producersWaiting -= 1
        }
        batches.append(batch)
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
    /// Why the proxy uses both lowered kinds (two CPUs, the proxy's trace and capture consumers, alternating
    /// or balanced A/B rounds against the same proxy with both on one thread at nice +10): one SCHED_IDLE
    /// thread for both raised `diodload -g`'s operation rate by ~8% but cut a 256 MiB diodcat with capture
    /// by 10–24% (under a saturating transfer an idle-policy consumer gets no CPU, its queue fills, and the
    /// relay waits). The trace under SCHED_IDLE and the capture on its own thread at nice +10: operation
    /// rate 0.90× against 0.82× socat's without capture and 0.86× against 0.83× with it; bulk with capture
    /// 353 against 337 MiB/s, without it 404 against 407 (medians).
    private static func schedule(_ priority: Priority) {
        if priority == .normal { return }
        if priority == .idle {
            var param = sched_param()
            if pthread_setschedparam(pthread_self(), schedIdle, &param) == 0 { return }
        }
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
            for batch in taken { body(batch) }
            pthread_mutex_lock(mutex)
            busy = false
            if batches.isEmpty { pthread_cond_broadcast(idle) }
        }
    }
}
