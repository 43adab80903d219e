import Synchronization
#if canImport(Glibc)
import Glibc
#endif

extension BatchQueue {
    /// One producer thread's ring of batches.
    ///
    /// Slot `i` (at `i & mask`) is filled by the producer before it raises `published` past `i`, read by
    /// the consumer while `processed <= i < published`, and emptied (set to nil, which frees the batch
    /// unless someone else holds it) once `i < processed`, by whoever holds `clearing`. `cleared` counts
    /// emptied slots: the producer may fill slot `i` once `i - cleared < capacity`.
    final class Lane: @unchecked Sendable {
        let capacity: Int
        let mask: Int
        let slots: UnsafeMutablePointer<Batch?>
        // The producer's own counters (its thread only).
        var tail = 0
        var pushedBytes = 0
        var pushedItems = 0
        // The consumer's counter: the first slot not yet taken (written by whichever thread holds the
        // consumer lock, read by the sleeping consumer without it).
        let next = Atomic<Int>(0)
        // Shared.
        let published = Atomic<Int>(0)
        let processed = Atomic<Int>(0)
        let takenBytes = Atomic<Int>(0)
        let takenItems = Atomic<Int>(0)
        let cleared = Atomic<Int>(0)
        let clearing = Atomic<Bool>(false)

        init(capacity: Int) {
            self.capacity = capacity
            mask = capacity - 1
            slots = .allocate(capacity: capacity)
            slots.initialize(repeating: nil, count: capacity)
        }

        deinit {
            slots.deinitialize(count: capacity)
            slots.deallocate()
        }

        /// Empties the slots the consumer is done with; false when the other side is doing it.
        @discardableResult
        func clear() -> Bool {
            guard clearing.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
                return false
            }
            var c = cleared.load(ordering: .relaxed)
            let end = processed.load(ordering: .acquiring)
            while c < end {
                slots[c & mask] = nil
                c += 1
            }
            cleared.store(c, ordering: .releasing)
            clearing.store(false, ordering: .releasing)
            return true
        }
    }
}
