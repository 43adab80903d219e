import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A bounded hand-off of batches from producers to one consumer thread, which sees them in push order.
/// The proxy hands its event batches from the NIO event loops to the trace thread through one, so
/// decoding, formatting and capture writing never run on an event loop (the relay only copies each frame
/// once and appends it here); `decode` hands tracker output to the thread that formats and writes it.
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

    /// Starts the consumer thread (named `name`), which calls `body` with every batch in push order.
    /// With `background` that thread only runs on CPU time nothing else wants (see `makeBackground`): the
    /// producers' work comes first, and the consumer catches up in the time they leave (falling behind by
    /// at most what the queue holds).
    init(name: String, background: Bool = false, maxBytes: Int = 64 << 20, maxEvents: Int = 256 * 1024,
         bytes: @escaping @Sendable (Item) -> Int, body: @escaping @Sendable ([Item]) -> Void) {
        self.maxBytes = maxBytes
        self.maxEvents = maxEvents
        self.bytes = bytes
        pthread_mutex_init(mutex, nil)
        for c in [work, space, idle] { pthread_cond_init(c, nil) }
        let thread = Thread { [self] in
            Self.nameThread(name)
            if background { Self.makeBackground() }
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

    /// Linux's SCHED_IDLE policy (not exported by Swift's Glibc module; the value is the kernel ABI's).
    private static var schedIdle: Int32 { 5 }

    /// Names the calling thread (at most 15 bytes) so that `ps -L`, perf and /proc show which thread is
    /// the consumer: Foundation's `Thread.name` does not reach the kernel here. pthread_setname_np is not in
    /// Swift's Glibc module (it is a GNU extension): looked up as `makeBackground` looks up gettid.
    private static func nameThread(_ name: String) {
        typealias SetName = @convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32
        guard let symbol = dlsym(nil, "pthread_setname_np") else { return }
        let short = String(decoding: name.utf8.prefix(15), as: UTF8.self)
        _ = unsafeBitCast(symbol, to: SetName.self)(pthread_self(), short)
    }

    /// Makes the calling thread a background thread. On Linux that is the SCHED_IDLE policy (allowed
    /// without privileges): the thread runs when a CPU would otherwise idle, and any ordinary thread that
    /// wakes up takes its CPU at once. A raised nice value is not enough: such a thread still gets its
    /// share of a busy CPU and delays the relay threads' wake-ups (README, benchmarks: the proxy's
    /// operation rate under `diodload -g`, nice +10 against SCHED_IDLE). Where SCHED_IDLE is refused, the
    /// nice value is raised to 19 instead (on Linux `setpriority` given a thread id acts on that thread
    /// alone; gettid(2) is looked up as `Allocator.tune` looks up mallopt).
    private static func makeBackground() {
        var param = sched_param()
        if pthread_setschedparam(pthread_self(), schedIdle, &param) == 0 { return }
        typealias GetTid = @convention(c) () -> Int32
        guard let symbol = dlsym(nil, "gettid") else { return }
        let tid = id_t(unsafeBitCast(symbol, to: GetTid.self)())
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), tid, 19)
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
