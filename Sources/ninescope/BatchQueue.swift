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
    /// With `background` that thread runs at a lower priority (see `makeBackground`): when the CPUs are
    /// busy the producers' work comes first, and the consumer catches up in the time they leave (falling
    /// behind by at most what the queue holds).
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

    /// Names the calling thread (at most 15 bytes) so that `ps -L`, perf and /proc show which thread is
    /// the consumer: Foundation's `Thread.name` does not reach the kernel here. pthread_setname_np is not in
    /// Swift's Glibc module (it is a GNU extension): looked up with dlsym.
    private static func nameThread(_ name: String) {
        typealias SetName = @convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32
        guard let symbol = dlsym(nil, "pthread_setname_np") else { return }
        let short = String(decoding: name.utf8.prefix(15), as: UTF8.self)
        _ = unsafeBitCast(symbol, to: SetName.self)(pthread_self(), short)
    }

    /// Makes the calling thread a background thread: its nice value goes up by 10 (on Linux `setpriority`
    /// given a thread id acts on that thread alone; gettid(2) is looked up as `nameThread` looks up
    /// pthread_setname_np).
    ///
    /// Measured against the stronger SCHED_IDLE policy (which runs a thread only on CPU time nothing else
    /// wants), on two CPUs, the proxy with trace and capture on, targets in alternating or balanced order:
    /// SCHED_IDLE raised `diodload -g`'s operation rate by about 8% (0.85× against 0.78× socat's, better in 8
    /// of 8 rounds; two more runs alike) but cut a 256 MiB diodcat's rate by 10–24% (190 against 250 MiB/s,
    /// worse in 7 of 8 rounds): under a saturating transfer the starved consumer lets the queue fill, and
    /// then the relay waits for it. Letting a producer that finds the queue full run the next chunk itself
    /// did not save it: the event loop then did nearly all the capture work alone (~185 MiB/s, every
    /// round). So nice +10 stays.
    private static func makeBackground() {
        typealias GetTid = @convention(c) () -> Int32
        guard let symbol = dlsym(nil, "gettid") else { return }
        let tid = id_t(unsafeBitCast(symbol, to: GetTid.self)())
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
