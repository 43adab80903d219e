import Testing
import Foundation
@testable import NinePNIO
#if canImport(Glibc)
import Glibc
#endif

/// A thread that drifted from the process's nice value gets it back from `ProcessScheduling.adoptMain`;
/// the queue's consumer threads start from it too.
@Suite struct ProcessSchedulingTests {
    /// Runs `body` on a new thread of its own (not a shared pool thread whose nice value would leak).
    static func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
        let done = DispatchSemaphore(value: 0)
        let result = Locked<T?>(nil)
        let thread = Thread {
            result.set(body())
            done.signal()
        }
        thread.start()
        done.wait()
        return result.get()!
    }

    final class Locked<V: Sendable>: @unchecked Sendable {
        // @unchecked: `value` is only touched under `lock`.
        private let lock = NSLock()
        private var value: V
        init(_ v: V) { value = v }
        func set(_ v: V) { lock.lock(); value = v; lock.unlock() }
        func get() -> V { lock.lock(); defer { lock.unlock() }; return value }
    }

    @Test func aThreadWithAnotherNiceValueTakesTheMainThreads() throws {
        let main = try #require(ProcessScheduling.main)
        let (drifted, adopted, after) = Self.onOwnThread { () -> (Int32?, Bool, Int32?) in
            // Raising one's own nice value needs no privilege.
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, min(19, main.nice + 5))
            let drifted = ProcessScheduling.current?.nice
            let adopted = ProcessScheduling.adoptMain()
            return (drifted, adopted, ProcessScheduling.current?.nice)
        }
        #expect(drifted == min(19, main.nice + 5))
        if adopted {
            #expect(after == main.nice)
        } else {
            // Lowering it again needs CAP_SYS_NICE or an RLIMIT_NICE allowance.
            #expect(geteuid() != 0, "refused to root")
            #expect(after == drifted)
        }
    }

    @Test func theQueuesOrdinaryConsumerRunsAtTheProcesssNiceValue() throws {
        let main = try #require(ProcessScheduling.main)
        let seen = Locked<Int32?>(nil)
        // Started from a thread with nice +5: the consumer does not inherit that.
        let queue = Self.onOwnThread { () -> BatchQueue<Int> in
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, min(19, main.nice + 5))
            return BatchQueue<Int>(name: "sched-test", bytes: { _ in 1 }) { _ in
                seen.set(ProcessScheduling.current?.nice)
            }
        }
        queue.push([1])
        queue.drain()
        queue.finish()
        if geteuid() == 0 || main.nice + 5 > 19 {
            #expect(seen.get() == main.nice)
        } else {
            #expect(seen.get() != nil)
        }
    }

    /// Linux lets a SCHED_IDLE thread back to a nice value n only with CAP_SYS_NICE or an RLIMIT_NICE of
    /// at least 20 − n; a real-time policy needs the capability.
    @Test func whoMayLeaveSchedIdle() {
        func rule(_ cap: Bool, _ policy: Int32, _ nice: Int32, _ limit: UInt64?) -> Bool {
            ProcessScheduling.mayReturnFromIdle(capSysNice: cap, policy: policy, nice: nice, rlimitNice: limit)
        }
        #expect(rule(true, 1, 0, 0))                       // SCHED_FIFO with the capability
        #expect(!rule(false, 1, 0, .max))                  // SCHED_FIFO without
        #expect(!rule(false, 0, 0, 0))                     // the default limit
        #expect(!rule(false, 0, 0, 19))
        #expect(rule(false, 0, 0, 20))
        #expect(rule(false, 3, 7, 13))                     // SCHED_BATCH at nice 7
        #expect(!rule(false, 0, 7, 12))
        #expect(rule(false, 0, -20, 40))
        #expect(!rule(false, 0, -20, 39))
        #expect(rule(false, 0, 0, .max))                   // unlimited
        #expect(!rule(false, 0, 0, nil))                   // unknown
    }
}
