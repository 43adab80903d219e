import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A bounded hand-off of batches from producer threads to one consumer thread. The proxy hands its event
/// batches from the NIO event loops to its trace thread (which also writes the capture) through one, so
/// decoding, formatting and capture writing never run on an event loop; `decode` hands tracker output to
/// the thread that formats and writes it.
///
/// Each producer thread has a lane of its own, a single-producer single-consumer ring: a push takes no
/// lock and never waits for another producer or for the consumer (only for room, below). The consumer sees
/// each lane's batches in push order; batches from different lanes are merged by `order` (the proxy's
/// event times) when one is given. Why not one queue behind a mutex, as before: under `diodload -g` with
/// two event loops the loops met each other and the consumer on that mutex ~100 times in 4 s, and each
/// time the loser slept 40–170 µs (up to 470), often because the holder was the consumer, which runs
/// under SCHED_IDLE and can be preempted while holding it.
///
/// A batch's memory goes back to the thread that made it: the consumer reads batches where they lie and
/// the producer empties the slots the consumer is done with at its next push, so the producer frees what
/// it allocated. (Freed on the consumer's thread, glibc returned each block to the producer's arena under
/// that arena's lock: the same run had ~70 more sleeps of an event loop in malloc, waiting for the
/// consumer's frees.) When traffic stops, the consumer empties the lanes itself before it sleeps.
///
/// Bounded per lane: while `maxBytes` (as `bytes` counts them) or `maxEvents` items of a lane wait to be
/// taken, or its ring of `slots` batches is full, `push` blocks its caller until the consumer catches up
/// (what the consumer has taken and is handling, up to as much again, does not count) — a proxy event loop
/// then reads no more from its sockets, so a proxy whose trace or capture cannot keep up slows its clients
/// down instead of growing without bound.
///
/// The consumer takes everything queued at once and hands it on merged: consecutive batches are joined
/// into runs of up to `runItems` items and `runBytes` bytes, so its per-call costs (locks, an output
/// buffer, a capture write) are paid per run, not per producer batch. A proxy relaying small requests
/// pushes one event per batch; merging ~50 of them (1 ms of `diodload -g` traffic) cut the trace and
/// capture work per message from 1.58 to 1.11 µs (`ninescope bench-trace --batch 1` vs `--batch 50`).
public final class BatchQueue<Item: Sendable>: @unchecked Sendable {
    // @unchecked: lanes are shared by one producer and the consumer under the protocol described on
    // `Lane`; `mutex` guards only the sleeping consumer's and waiting producers' condition variables.
    public typealias Batch = (items: [Item], bytes: Int)

    public let maxBytes: Int
    public let maxEvents: Int
    public let runItems: Int
    public let runBytes: Int
    private let slotCount: Int
    private let bytes: @Sendable (Item) -> Int
    private let order: (@Sendable (Item) -> Int64)?

    private var laneKey = pthread_key_t()
    private let lanes = Locked<[Lane]>([])
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let work = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let room = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let progress = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let sleeping = Atomic<Bool>(false)
    private let finishing = Atomic<Bool>(false)
    private let exited = Atomic<Bool>(false)
    private let producersWaiting = Atomic<Int>(0)
    private let drainersWaiting = Atomic<Int>(0)

    // The consumer's side. Whoever holds `consumerLock` (the consumer thread, or under `.idle` its catch-up
    // thread) takes rounds and hands them on; a round in progress is kept here so that the other thread can
    // finish it.
    private let consumerLock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var round: [Batch] = []
    private var roundNext = 0
    private var roundTaken: [(lane: Lane, end: Int)] = []
    /// The catch-up thread waits for `consumerLock`: the consumer stops after the run it is handing on.
    let catchUpWanted = Atomic<Bool>(false)
    private let catchUps = Atomic<Int>(0)
    private let catchUpCheckNanos: Int
    /// How an `.idle` queue's catch-up thread relieves a consumer that fell behind.
    enum CatchUp: Sendable {
        /// Gives the consumer thread the process's scheduling until it has handed on what was queued then;
        /// the consumer goes back to SCHED_IDLE itself. Needs the right to leave SCHED_IDLE
        /// (`ProcessScheduling.mayReturnFromIdle`).
        case raise
        /// Takes the consumer lock after the run in hand and does the work itself. The consumer runs at
        /// nice 19 rather than under SCHED_IDLE: the catch-up thread waits for it to finish that run, and a
        /// SCHED_IDLE thread among busy ones gets too little CPU for that (~1 ms in 5 s behind six busy
        /// loops on two CPUs: a debug build's trace stood still for a minute).
        case takeOver
    }
    let catchUp: CatchUp
    /// The consumer thread's kernel id, for `.raise`.
    private let consumerTID = Atomic<Int32>(0)
    var consumerThreadID: Int32 { consumerTID.load(ordering: .relaxed) }
    /// Set (after the raise) while the consumer runs at the process's priority; `raiseTargets` says what
    /// it has to hand on before it goes back.
    let raised = Atomic<Bool>(false)
    let raiseTargets = Locked<[(lane: Lane, published: Int)]>([])

    /// Starts the consumer thread (named `name`, at `priority`), which calls `body` with every item, each
    /// lane's in push order, in runs of up to `runItems` items and `runBytes` bytes (a single larger batch
    /// is handed on whole). With `order`, batches of different lanes taken together are handed on in the
    /// order of their first items' keys.
    public convenience init(name: String, priority: Priority = .normal, maxBytes: Int = 64 << 20,
                            maxEvents: Int = 256 * 1024, slots: Int = 16384, runItems: Int = 4096,
                            runBytes: Int = 4 << 20, bytes: @escaping @Sendable (Item) -> Int,
                            order: (@Sendable (Item) -> Int64)? = nil, body: @escaping @Sendable ([Item]) -> Void) {
        self.init(name: name, priority: priority, maxBytes: maxBytes, maxEvents: maxEvents, slots: slots,
                  runItems: runItems, runBytes: runBytes, catchUpCheckNanos: 1_000_000_000, bytes: bytes,
                  order: order, body: body)
    }

    /// `catchUpCheckNanos`: how often the catch-up thread of an `.idle` queue checks the consumer;
    /// `catchUp`: how it helps (by default `.raise` where the process may, else `.takeOver`).
    init(name: String, priority: Priority, maxBytes: Int, maxEvents: Int, slots: Int, runItems: Int, runBytes: Int,
         catchUpCheckNanos: Int, catchUp: CatchUp? = nil, bytes: @escaping @Sendable (Item) -> Int,
         order: (@Sendable (Item) -> Int64)?, body: @escaping @Sendable ([Item]) -> Void) {
        self.catchUpCheckNanos = catchUpCheckNanos
        self.catchUp = catchUp ?? (ProcessScheduling.mayReturnFromIdle ? .raise : .takeOver)
        self.maxBytes = maxBytes
        self.maxEvents = maxEvents
        self.runItems = max(1, runItems)
        self.runBytes = max(1, runBytes)
        var n = 2
        while n < min(max(slots, 2), 1 << 20) { n <<= 1 }
        slotCount = n
        self.bytes = bytes
        self.order = order
        pthread_key_create(&laneKey, nil)
        pthread_mutex_init(mutex, nil)
        pthread_mutex_init(consumerLock, nil)
        for c in [work, room, progress] { pthread_cond_init(c, nil) }
        let ready = Atomic<Bool>(false)
        Self.startThread { [self] in
            Self.nameThread(name)
            consumerTID.store(ProcessScheduling.threadID, ordering: .relaxed)
            // Whichever thread started this one, begin from the process's own scheduling.
            ProcessScheduling.adoptMain()
            if priority == .idle { lower() }
            ready.store(true, ordering: .releasing)
            run(body)
        }
        // The consumer's scheduling is set before the first push (tests read it, and the catch-up thread
        // raises from it).
        while !ready.load(ordering: .acquiring) {
            var pause = timespec(tv_sec: 0, tv_nsec: 50_000)
            nanosleep(&pause, nil)
        }
        if priority == .idle {
            Self.startThread { [self] in
                Self.nameThread(String(name.prefix(9)) + "-catch")
                ProcessScheduling.adoptMain()
                watch(body)
            }
        }
    }

    deinit {
        pthread_key_delete(laneKey)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        pthread_mutex_destroy(consumerLock)
        consumerLock.deallocate()
        for c in [work, room, progress] { pthread_cond_destroy(c); c.deallocate() }
    }

    // MARK: - Producers

    /// Queues a batch (any thread). Blocks while the calling thread's lane is full; dropped once the
    /// consumer has finished.
    public func push(_ batch: [Item]) {
        guard !batch.isEmpty else { return }
        let lane = currentLane()
        var weight = 0
        for item in batch { weight += bytes(item) }
        lane.clear()
        while !hasRoom(lane) {
            if exited.load(ordering: .acquiring) { return }
            waitForRoom(lane)
        }
        lane.slots[lane.tail & lane.mask] = (batch, weight)
        lane.tail += 1
        lane.pushedBytes += weight
        lane.pushedItems += batch.count
        // Sequentially consistent with the consumer's `sleeping` store and its check of the lanes: either
        // it sees this batch before it sleeps or this thread sees it sleeping and wakes it.
        lane.published.store(lane.tail, ordering: .sequentiallyConsistent)
        if sleeping.load(ordering: .sequentiallyConsistent) { wakeConsumer() }
    }

    /// Items the calling thread pushed that the consumer has not taken yet (a hint: it changes as soon as
    /// it is read).
    public var backlog: Int {
        guard let p = pthread_getspecific(laneKey) else { return 0 }
        let lane = Unmanaged<Lane>.fromOpaque(p).takeUnretainedValue()
        return lane.pushedItems - lane.takenItems.load(ordering: .acquiring)
    }

    private func currentLane() -> Lane {
        if let p = pthread_getspecific(laneKey) { return Unmanaged<Lane>.fromOpaque(p).takeUnretainedValue() }
        let lane = Lane(capacity: slotCount)
        lanes.withLock { $0.append(lane) }   // the queue keeps it alive
        pthread_setspecific(laneKey, Unmanaged.passUnretained(lane).toOpaque())
        return lane
    }

    private func hasRoom(_ lane: Lane) -> Bool {
        lane.tail - lane.cleared.load(ordering: .acquiring) < lane.capacity
            && lane.pushedBytes - lane.takenBytes.load(ordering: .acquiring) < maxBytes
            && lane.pushedItems - lane.takenItems.load(ordering: .acquiring) < maxEvents
    }

    private func waitForRoom(_ lane: Lane) {
        pthread_mutex_lock(mutex)
        producersWaiting.add(1, ordering: .sequentiallyConsistent)
        wakeConsumerLocked()
        // Timed: a consumer that made room just before this thread started waiting may not signal again.
        var deadline = Self.deadline(afterNanos: 1_000_000)
        pthread_cond_timedwait(room, mutex, &deadline)
        producersWaiting.subtract(1, ordering: .relaxed)
        pthread_mutex_unlock(mutex)
        lane.clear()
    }

    private func wakeConsumer() {
        pthread_mutex_lock(mutex)
        wakeConsumerLocked()
        pthread_mutex_unlock(mutex)
    }

    /// Wakes the consumer if it sleeps waiting for work. Call with `mutex` held.
    private func wakeConsumerLocked() {
        if sleeping.load(ordering: .relaxed) {
            sleeping.store(false, ordering: .relaxed)
            pthread_cond_signal(work)
        }
    }

    // MARK: - Waiting for the consumer

    /// Whether everything pushed so far has been consumed (a moment's answer: producers may push meanwhile).
    public var isCaughtUp: Bool {
        lanes.withLock { $0 }.allSatisfy { $0.processed.load(ordering: .acquiring) >= $0.published.load(ordering: .acquiring) }
    }

    /// Waits until everything pushed so far (by any thread) has been consumed.
    public func drain() {
        let targets = lanes.withLock { $0 }.map { ($0, $0.published.load(ordering: .acquiring)) }
        drainersWaiting.add(1, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(mutex)
        while !exited.load(ordering: .acquiring)
                && targets.contains(where: { $0.0.processed.load(ordering: .acquiring) < $0.1 }) {
            var deadline = Self.deadline(afterNanos: 1_000_000)
            pthread_cond_timedwait(progress, mutex, &deadline)
        }
        pthread_mutex_unlock(mutex)
        drainersWaiting.subtract(1, ordering: .relaxed)
    }

    /// Consumes what is queued, then stops the thread (later pushes are dropped). Waits for it; calling it
    /// again returns at once.
    public func finish() {
        finishing.store(true, ordering: .sequentiallyConsistent)
        drainersWaiting.add(1, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(mutex)
        while !exited.load(ordering: .acquiring) {
            wakeConsumerLocked()
            var deadline = Self.deadline(afterNanos: 1_000_000)
            pthread_cond_timedwait(progress, mutex, &deadline)
        }
        pthread_mutex_unlock(mutex)
        drainersWaiting.subtract(1, ordering: .relaxed)
    }

    // MARK: - The consumer

    /// How long the consumer naps, after a round of work, before asking producers to wake it: while traffic
    /// flows it picks up whatever arrived every `nap` instead of being woken (a futex call) per batch.
    /// 4 ms rather than 1: every nap ends in a timer interrupt and a wake-up on a vCPU that the relay's
    /// chain of wake-ups may need. A proxy with capture, in two runs each of alternating targets (one
    /// binary, the nap read from the environment; ratios of medians to socat): bulk reads 0.87 and 0.90
    /// against 0.85 and 0.88 with 1 ms (20 reads each), `diodload -g -n 4` 0.91 and 0.99 against 0.80 and
    /// 0.92 (5 and 6 rounds); 10 ms was no better than 4. The trace then lags the traffic by up to 4 ms and
    /// the lanes hold that much more (~1.6 MB of a bulk read).
    static var napNanos: Int { 4_000_000 }

    private func run(_ body: ([Item]) -> Void) {
        var busyPeriod = false
        while true {
            if raised.load(ordering: .acquiring) { lowerOnceCaughtUp() }
            // The catch-up thread wants the consumer lock: let it have it. Without this wait this thread,
            // unlocking and locking again at once, kept it from the catch-up thread (which had been woken
            // but was not running yet) for as long as there was work: a proxy's trace stood still for a
            // minute behind busy loops while the catch-up thread slept on the lock.
            while catchUpWanted.load(ordering: .acquiring) {
                var pause = timespec(tv_sec: 0, tv_nsec: 200_000)
                nanosleep(&pause, nil)
            }
            pthread_mutex_lock(consumerLock)
            let worked = step(body, yieldingToCatchUp: true)
            pthread_mutex_unlock(consumerLock)
            if worked {
                busyPeriod = true
                continue
            }
            if finishing.load(ordering: .sequentiallyConsistent) {
                // Under the consumer lock: a catch-up in progress finishes first.
                pthread_mutex_lock(consumerLock)
                let done = roundNext >= round.count && !hasWork(lanes.withLock { $0 })
                if done {
                    for lane in lanes.withLock({ $0 }) { lane.clear() }
                    pthread_mutex_lock(mutex)
                    exited.store(true, ordering: .releasing)
                    pthread_cond_broadcast(room)
                    pthread_cond_broadcast(progress)
                    pthread_mutex_unlock(mutex)
                }
                pthread_mutex_unlock(consumerLock)
                if done { return }
                continue
            }
            if busyPeriod {
                busyPeriod = false
                var nap = timespec(tv_sec: 0, tv_nsec: Self.napNanos)
                nanosleep(&nap, nil)
                continue
            }
            sleepUntilWork()
        }
    }

    /// One step of consuming, with `consumerLock` held: takes a round when none is in progress and hands
    /// its runs on; once the round is done, lets the producers empty its slots. False when there was
    /// nothing to do. `yieldingToCatchUp`: stop after a run when the catch-up thread wants the lock (the
    /// round stays in progress for it).
    private func step(_ body: ([Item]) -> Void, yieldingToCatchUp: Bool) -> Bool {
        if roundNext >= round.count {
            takeRound()
            if round.isEmpty { return false }
        }
        while roundNext < round.count {
            roundNext = BatchRuns.handOnRun(round, from: roundNext, maxItems: runItems, maxBytes: runBytes, body)
            if yieldingToCatchUp && roundNext < round.count && catchUpWanted.load(ordering: .acquiring) {
                return true
            }
        }
        // Only now, with every reference the round made dropped: the producers may empty these slots.
        round = []
        roundNext = 0
        for t in roundTaken {
            t.lane.next.store(t.end, ordering: .relaxed)
            t.lane.processed.store(t.end, ordering: .releasing)
        }
        roundTaken.removeAll(keepingCapacity: true)
        if producersWaiting.load(ordering: .sequentiallyConsistent) > 0
            || drainersWaiting.load(ordering: .sequentiallyConsistent) > 0 {
            // Slots to reuse (a full ring of small batches), and progress for `drain`.
            pthread_mutex_lock(mutex)
            pthread_cond_broadcast(room)
            pthread_cond_broadcast(progress)
            pthread_mutex_unlock(mutex)
        }
        return true
    }

    /// Takes every lane's published batches as the next round (merged) and notes what was taken.
    private func takeRound() {
        var perLane: [[Batch]] = []
        for lane in lanes.withLock({ $0 }) {
            let end = lane.published.load(ordering: .acquiring)
            let first = lane.next.load(ordering: .relaxed)
            guard end > first else { continue }
            var batches: [Batch] = []
            batches.reserveCapacity(end - first)
            var bytes = 0, items = 0
            for i in first..<end {
                let b = lane.slots[i & lane.mask]!
                bytes += b.bytes
                items += b.items.count
                batches.append(b)
            }
            lane.takenBytes.add(bytes, ordering: .releasing)
            lane.takenItems.add(items, ordering: .releasing)
            roundTaken.append((lane, end))
            perLane.append(batches)
        }
        guard !perLane.isEmpty else { return }
        // Taken batches no longer count against the bound: producers held back may go on while this round
        // is handled (which, for a big backlog of large frames, takes a while).
        if producersWaiting.load(ordering: .sequentiallyConsistent) > 0 {
            pthread_mutex_lock(mutex)
            pthread_cond_broadcast(room)
            pthread_mutex_unlock(mutex)
        }
        round = perLane.count == 1 || order == nil ? perLane.flatMap { $0 } : merge(perLane, by: order!)
        roundNext = 0
    }

    /// The catch-up thread of an `.idle` queue: every `catchUpCheckNanos`, if batches published by the
    /// previous check are still not handed on, takes the consumer lock and consumes what is published by
    /// then.
    private func watch(_ body: ([Item]) -> Void) {
        var marks: [(lane: Lane, published: Int)] = []
        while !exited.load(ordering: .acquiring) {
            var pause = timespec(tv_sec: catchUpCheckNanos / 1_000_000_000, tv_nsec: catchUpCheckNanos % 1_000_000_000)
            nanosleep(&pause, nil)
            if !raised.load(ordering: .acquiring)
                && marks.contains(where: { $0.lane.processed.load(ordering: .acquiring) < $0.published }) {
                // Catch up with what is queued now, then go back: while the machine stays busy, the trace
                // advances in such steps instead of competing with the producers for as long as traffic
                // flows.
                let targets = lanes.withLock { $0 }.map { ($0, $0.published.load(ordering: .acquiring)) }
                if catchUp == .raise {
                    raiseTargets.withLock { $0 = targets }
                    // Raised first, flagged second: the consumer, which lowers itself once it sees the flag
                    // and the targets reached, cannot be raised again after it did.
                    if ProcessScheduling.adoptMain(thread: consumerTID.load(ordering: .relaxed)) {
                        catchUps.add(1, ordering: .relaxed)
                        raised.store(true, ordering: .releasing)
                        marks = targets
                        continue
                    }
                    // Refused after all: take over instead.
                }
                catchUpWanted.store(true, ordering: .releasing)
                pthread_mutex_lock(consumerLock)
                catchUpWanted.store(false, ordering: .relaxed)
                var counted = false
                // (Once the consumer has exited, batches pushed later are dropped, not handed on.)
                while !exited.load(ordering: .acquiring)
                        && (roundNext < round.count
                            || targets.contains(where: { $0.0.processed.load(ordering: .acquiring) < $0.1 })) {
                    // Counted before the work it counts, so that whoever sees the work done sees the count.
                    if !counted {
                        catchUps.add(1, ordering: .releasing)
                        counted = true
                    }
                    if !step(body, yieldingToCatchUp: false) { break }
                }
                pthread_mutex_unlock(consumerLock)
            }
            marks = lanes.withLock { $0 }.map { ($0, $0.published.load(ordering: .acquiring)) }
        }
    }

    /// How many times the catch-up thread of an `.idle` queue found the consumer behind and took over.
    public var catchUpCount: Int { catchUps.load(ordering: .acquiring) }

    /// The lanes' batches in the order of their first items' keys (each lane's order kept).
    private func merge(_ lanes: [[Batch]], by key: (Item) -> Int64) -> [Batch] {
        var heads = [Int](repeating: 0, count: lanes.count)
        var out: [Batch] = []
        out.reserveCapacity(lanes.reduce(0) { $0 + $1.count })
        while true {
            var best = -1
            var bestKey = Int64.max
            for l in lanes.indices where heads[l] < lanes[l].count {
                let k = key(lanes[l][heads[l]].items[0])
                if best < 0 || k < bestKey { best = l; bestKey = k }
            }
            guard best >= 0 else { return out }
            out.append(lanes[best][heads[best]])
            heads[best] += 1
        }
    }

    private func hasWork(_ lanes: [Lane]) -> Bool {
        lanes.contains { $0.published.load(ordering: .sequentiallyConsistent) > $0.next.load(ordering: .relaxed) }
    }

    /// No traffic for a nap: empty the lanes (their producers may not push again for a while), then sleep
    /// until a producer wakes this thread.
    private func sleepUntilWork() {
        for lane in lanes.withLock({ $0 }) { lane.clear() }
        pthread_mutex_lock(mutex)
        sleeping.store(true, ordering: .sequentiallyConsistent)
        // After the store: a lane registered or a batch published from here on sees `sleeping` and wakes us.
        if hasWork(lanes.withLock { $0 }) || finishing.load(ordering: .sequentiallyConsistent) {
            sleeping.store(false, ordering: .relaxed)
        }
        while sleeping.load(ordering: .relaxed) { pthread_cond_wait(work, mutex) }
        pthread_mutex_unlock(mutex)
    }

    private static func deadline(afterNanos nanos: Int) -> timespec {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        let ns = Int(t.tv_nsec) + nanos
        t.tv_sec += ns / 1_000_000_000
        t.tv_nsec = ns % 1_000_000_000
        return t
    }
}
