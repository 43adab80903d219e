import Testing
import Foundation
@testable import NinePNIO
#if canImport(Glibc)
import Glibc
#endif

/// The hand-off from producer threads (the proxy's event loops) to one consumer thread: nothing lost or
/// repeated, each producer's order kept, lanes merged by key, bounded, memory freed by its producer.
@Suite struct BatchQueueTests {
    /// What the consumer saw, from any thread.
    final class Seen<T: Sendable>: @unchecked Sendable {
        // @unchecked: `items` is only touched under `lock`.
        private let lock = NSLock()
        private var items: [T] = []
        func add(_ batch: [T]) { lock.lock(); items.append(contentsOf: batch); lock.unlock() }
        var all: [T] { lock.lock(); defer { lock.unlock() }; return items }
    }

    /// A gate the consumer waits at, and a signal that it got there.
    final class Gate: @unchecked Sendable {
        // @unchecked: semaphores only.
        let reached = DispatchSemaphore(value: 0)
        let open = DispatchSemaphore(value: 0)
        func pass() { reached.signal(); open.wait() }
    }

    struct Item: Sendable, Equatable { var producer: Int; var seq: Int }

    @Test func everyItemArrivesOnceInEachProducersOrder() {
        let seen = Seen<Item>()
        let queue = BatchQueue<Item>(name: "test-queue", bytes: { _ in 10 }) { seen.add($0) }
        let producers = 4, perProducer = 20_000
        DispatchQueue.concurrentPerform(iterations: producers) { p in
            var seq = 0
            var rng = SystemRandomNumberGenerator()
            while seq < perProducer {
                let n = min(perProducer - seq, Int.random(in: 1...5, using: &rng))
                queue.push((seq..<(seq + n)).map { Item(producer: p, seq: $0) })
                seq += n
            }
        }
        queue.drain()
        let all = seen.all
        #expect(all.count == producers * perProducer)
        for p in 0..<producers {
            #expect(all.filter { $0.producer == p }.map(\.seq) == Array(0..<perProducer))
        }
        queue.finish()
    }

    @Test func batchesOfDifferentLanesTakenTogetherAreMergedByKey() {
        let seen = Seen<Int>()
        let gate = Gate()
        let queue = BatchQueue<Int>(name: "test-merge", bytes: { _ in 0 }, order: { Int64($0) }) { batch in
            if batch.contains(0) { gate.pass() }
            seen.add(batch)
        }
        queue.push([0])
        gate.reached.wait()   // the consumer is busy: what follows is taken in one round
        // Two threads of their own: two lanes.
        let done = DispatchGroup()
        for keys in [[1, 4, 5, 9], [2, 3, 6, 7, 8]] {
            done.enter()
            Thread {
                for k in keys { queue.push([k]) }
                done.leave()
            }.start()
        }
        done.wait()
        gate.open.signal()
        queue.drain()
        #expect(seen.all == Array(0...9))
        queue.finish()
    }

    @Test func aFullLaneHoldsItsProducerUntilTheConsumerCatchesUp() throws {
        let seen = Seen<Int>()
        let firstRun = Seen<Int>()
        let gate = Gate()
        let queue = BatchQueue<Int>(name: "test-bound", maxEvents: 4, bytes: { _ in 0 }) { batch in
            if batch.contains(0) {
                firstRun.add(batch)
                gate.pass()
            }
            seen.add(batch)
        }
        let pushed = ManagedAtomicCounter()
        let producer = Thread {
            for k in 0..<10 {
                queue.push([k])
                pushed.increment()
            }
        }
        producer.start()
        gate.reached.wait()
        // The consumer is busy with its first run (item 0 and whatever had been pushed with it): at most 4
        // more items may wait to be taken.
        let limit = min(10, firstRun.all.count + 4)
        var waited = 0
        while pushed.value < limit && waited < 10_000 { usleep(1000); waited += 1 }
        #expect(pushed.value == limit)
        usleep(50_000)
        #expect(pushed.value == limit, "the producer went on past the bound")
        gate.open.signal()
        while !producer.isFinished { usleep(500) }
        queue.drain()
        #expect(seen.all == Array(0..<10))
        queue.finish()
    }

    /// Each consumed batch is freed at its producer's next push, on the producer's thread.
    @Test func batchesAreFreedByTheThreadThatPushedThem() {
        let frees = Seen<Bool>()   // true: freed on the producing thread
        let producerThread = pthread_self()
        let gates = (0..<6).map { _ in Gate() }
        let queue = BatchQueue<Tracked>(name: "test-frees", bytes: { _ in 0 }) { batch in
            for t in batch { gates[t.id].pass() }
        }
        // While the consumer waits inside object k+1's batch, object k's batch is done and unreferenced
        // but for its slot; pushing object k+2 empties that slot.
        queue.push([Tracked(0, producer: producerThread, frees: frees)])
        gates[0].reached.wait()
        queue.push([Tracked(1, producer: producerThread, frees: frees)])
        gates[0].open.signal()
        for k in 1..<5 {
            gates[k].reached.wait()
            #expect(frees.all.count == k - 1)
            queue.push([Tracked(k + 1, producer: producerThread, frees: frees)])
            #expect(frees.all.count == k, "object \(k - 1) was not freed by the push")
            gates[k].open.signal()
        }
        gates[5].reached.wait()
        gates[5].open.signal()
        queue.drain()
        #expect(frees.all.prefix(4) == [true, true, true, true])
        queue.finish()
        #expect(frees.all.count == 6)
    }

    @Test func finishConsumesWhatIsQueuedAndLaterPushesAreDropped() {
        let seen = Seen<Int>()
        let queue = BatchQueue<Int>(name: "test-finish", bytes: { _ in 0 }) { seen.add($0) }
        for k in 0..<1000 { queue.push([k]) }
        queue.finish()
        #expect(seen.all == Array(0..<1000))
        queue.push([1000])
        queue.finish()
        queue.drain()
        #expect(seen.all.count == 1000)
    }

    @Test func backlogCountsTheCallersUntakenItems() {
        let gate = Gate()
        let queue = BatchQueue<Int>(name: "test-backlog", bytes: { _ in 0 }) { batch in
            if batch.contains(0) { gate.pass() }
        }
        #expect(queue.backlog == 0)
        queue.push([0])
        gate.reached.wait()
        queue.push([1, 2])
        queue.push([3])
        #expect(queue.backlog == 3)
        gate.open.signal()
        queue.drain()
        #expect(queue.backlog == 0)
        queue.finish()
    }

    /// A consumer that cannot get the CPU (here: held at a gate inside a run) is relieved by the catch-up
    /// thread: after the run in hand, the rest of the round and everything after it is handed on by the
    /// other thread, in order, nothing lost or repeated.
    @Test func theCatchUpThreadTakesOverFromAConsumerThatFellBehind() throws {
        let seen = Seen<(item: Int, thread: pthread_t)>()
        let first = Gate(), stuck = Gate()
        let queue = BatchQueue<Int>(name: "test-catchup", priority: .idle, maxBytes: 1 << 20, maxEvents: 1 << 16,
                                    slots: 1024, runItems: 2, runBytes: 1 << 20, catchUpCheckNanos: 1_000_000_000,
                                    catchUp: .takeOver, bytes: { _ in 1 }, order: nil) { batch in
            if batch.contains(-1) { first.pass() }
            if batch.contains(0) { stuck.pass() }
            seen.add(batch.map { ($0, pthread_self()) })
        }
        // Hold the consumer in a first round while ten batches queue up: its next round has five runs.
        queue.push([-1])
        first.reached.wait()
        for k in 0..<10 { queue.push([k]) }
        first.open.signal()
        // Now it is stuck in the first run of that round, [0, 1], until the catch-up thread asks for it.
        stuck.reached.wait()
        let deadline = Date().addingTimeInterval(30)
        while !queue.catchUpWanted.load(ordering: .acquiring) && Date() < deadline { usleep(1000) }
        let wanted = queue.catchUpWanted.load(ordering: .acquiring)
        #expect(wanted, "the catch-up thread never stepped in")
        stuck.open.signal()
        queue.drain()
        let all = seen.all
        #expect(all.map(\.item) == Array(-1..<10))
        let consumer = try #require(all.first?.thread)
        #expect(all.prefix(3).allSatisfy { pthread_equal($0.thread, consumer) != 0 })
        // The rest of the round went to the other thread.
        let rest = all.dropFirst(3)
        #expect(!rest.isEmpty && rest.allSatisfy { pthread_equal($0.thread, consumer) == 0 },
                "\(all.map { pthread_equal($0.thread, consumer) != 0 ? "c" : "x" })")
        #expect(queue.catchUpCount == 1)
        // And the consumer goes on afterwards, as before.
        queue.push([10])
        queue.drain()
        #expect(seen.all.map(\.item) == Array(-1...10))
        queue.finish()
    }

    /// Where the process may leave SCHED_IDLE again, the catch-up thread raises a consumer that fell
    /// behind to the process's scheduling, and the consumer goes back to SCHED_IDLE once it has handed on
    /// what was queued then.
    @Test(.enabled(if: ProcessScheduling.mayReturnFromIdle, "needs CAP_SYS_NICE or RLIMIT_NICE"))
    func theCatchUpThreadRaisesAConsumerThatFellBehind() throws {
        let seen = Seen<Int>()
        let stuck = Gate()
        let queue = BatchQueue<Int>(name: "test-raise", priority: .idle, maxBytes: 1 << 20, maxEvents: 1 << 16,
                                    slots: 1024, runItems: 2, runBytes: 1 << 20, catchUpCheckNanos: 300_000_000,
                                    bytes: { _ in 1 }, order: nil) { batch in
            if batch.contains(0) { stuck.pass() }
            seen.add(batch)
        }
        #expect(queue.catchUp == .raise)
        let main = try #require(ProcessScheduling.main)
        let t = queue.consumerThreadID
        func scheduling() -> (policy: Int32, nice: Int32) {
            errno = 0
            return (sched_getscheduler(t), getpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(t)))
        }
        // Nothing queued yet, so nothing to catch up with: the consumer is where it starts.
        #expect(scheduling().policy == 5, "the consumer does not start under SCHED_IDLE")
        for k in 0..<10 { queue.push([k]) }
        stuck.reached.wait()
        // Held in its first run: at the second check it is behind, and is raised.
        let deadline = Date().addingTimeInterval(30)
        while !queue.raised.load(ordering: .acquiring) && Date() < deadline { usleep(1000) }
        let wasRaised = queue.raised.load(ordering: .acquiring)
        #expect(wasRaised, "the catch-up thread never raised the consumer")
        let raisedTo = scheduling()
        #expect(raisedTo.policy == main.policy && raisedTo.nice == main.nice, "\(raisedTo) vs \(main)")
        #expect(queue.catchUpCount == 1)
        stuck.open.signal()
        queue.drain()
        #expect(seen.all == Array(0..<10))
        // Caught up: back to SCHED_IDLE on its own.
        while queue.raised.load(ordering: .acquiring) && Date() < deadline { usleep(1000) }
        let stillRaised = queue.raised.load(ordering: .acquiring)
        #expect(!stillRaised)
        #expect(scheduling().policy == 5, "the consumer stayed at \(scheduling())")
        queue.push([10])
        queue.drain()
        #expect(seen.all == Array(0...10))
        queue.finish()
    }

    final class Tracked: Sendable {
        let id: Int
        let producer: pthread_t
        let frees: Seen<Bool>
        init(_ id: Int, producer: pthread_t, frees: Seen<Bool>) {
            self.id = id
            self.producer = producer
            self.frees = frees
        }
        deinit { frees.add([pthread_equal(pthread_self(), producer) != 0]) }
    }

    final class ManagedAtomicCounter: @unchecked Sendable {
        // @unchecked: `count` is only touched under `lock`.
        private let lock = NSLock()
        private var count = 0
        func increment() { lock.lock(); count += 1; lock.unlock() }
        var value: Int { lock.lock(); defer { lock.unlock() }; return count }
    }
}
