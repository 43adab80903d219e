import Testing
import NinePNIO
import NinePTestSupport

/// The trace thread's merging of queued batches: order kept, bounds kept, no batch split or lost.
@Suite struct BatchRunsTests {
    typealias Batch = (items: [Int], bytes: Int)

    static func runs(_ batches: [Batch], maxItems: Int, maxBytes: Int) -> [[Int]] {
        var out: [[Int]] = []
        BatchRuns.forEach(batches, maxItems: maxItems, maxBytes: maxBytes) { out.append($0) }
        return out
    }

    @Test func smallBatchesAreJoinedUpToTheItemBound() {
        let batches: [Batch] = (0..<10).map { ([$0], 1) }
        #expect(Self.runs(batches, maxItems: 4, maxBytes: 1000) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
    }

    @Test func theByteBoundEndsARun() {
        let batches: [Batch] = [([1], 300), ([2], 300), ([3], 300), ([4], 300)]
        #expect(Self.runs(batches, maxItems: 100, maxBytes: 700) == [[1, 2], [3, 4]])
    }

    @Test func aLargeBatchIsPassedOnAlone() {
        let batches: [Batch] = [([1], 10), ([2, 3, 4, 5, 6], 10), ([7], 5000), ([8], 10), ([9], 10)]
        #expect(Self.runs(batches, maxItems: 4, maxBytes: 1000) == [[1], [2, 3, 4, 5, 6], [7], [8, 9]])
    }

    /// One run at a time, from any batch: what a consumer that may stop between runs sees.
    @Test func oneRunAtATime() {
        let batches: [Batch] = [([1], 10), ([2, 3, 4, 5, 6], 10), ([], 0), ([7], 5000), ([8], 10), ([9], 10)]
        var runs: [[Int]] = []
        var next = BatchRuns.handOnRun(batches, from: 0, maxItems: 4, maxBytes: 1000) { runs.append($0) }
        #expect(runs == [[1]] && next == 1)
        next = BatchRuns.handOnRun(batches, from: next, maxItems: 4, maxBytes: 1000) { runs.append($0) }
        #expect(runs.last == [2, 3, 4, 5, 6] && next == 2)
        // An empty batch is stepped over; the large one goes alone.
        next = BatchRuns.handOnRun(batches, from: next, maxItems: 4, maxBytes: 1000) { runs.append($0) }
        #expect(runs.last == [7] && next == 4)
        next = BatchRuns.handOnRun(batches, from: next, maxItems: 4, maxBytes: 1000) { runs.append($0) }
        #expect(runs.last == [8, 9] && next == 6 && runs.count == 4)
        // Past the end: nothing.
        #expect(BatchRuns.handOnRun(batches, from: 6, maxItems: 4, maxBytes: 1000) { runs.append($0) } == 6)
        #expect(runs.count == 4)
    }

    @Test func emptyInputAndEmptyBatches() {
        #expect(Self.runs([], maxItems: 4, maxBytes: 100).isEmpty)
        #expect(Self.runs([([], 0), ([1], 1), ([], 0)], maxItems: 4, maxBytes: 100) == [[1]])
    }

    /// Random batch sizes and weights: the runs hold every item once, in order; no batch is split; a run of
    /// several batches stays within both bounds.
    @Test func randomBatchesKeepOrderAndBounds() {
        var rng = SplitMix(seed: 0x5eed)
        for _ in 0..<300 {
            let maxItems = Int(rng.next() % 20) + 1, maxBytes = Int(rng.next() % 500) + 1
            var next = 0
            var batches: [Batch] = []
            for _ in 0..<Int(rng.next() % 40) {
                let n = Int(rng.next() % 8)
                batches.append((Array(next..<(next + n)), Int(rng.next() % 200)))
                next += n
            }
            let runs = Self.runs(batches, maxItems: maxItems, maxBytes: maxBytes)
            #expect(runs.flatMap { $0 } == Array(0..<next))
            #expect(!runs.contains { $0.isEmpty })
            let firsts = Set(batches.compactMap(\.items.first)), lasts = Set(batches.compactMap(\.items.last))
            for run in runs {
                #expect(firsts.contains(run.first!) && lasts.contains(run.last!), "a batch was split: \(run)")
                let members = batches.filter { !$0.items.isEmpty && run.contains($0.items[0]) }
                if members.count > 1 {
                    #expect(run.count <= maxItems)
                    #expect(members.reduce(0) { $0 + $1.bytes } <= maxBytes)
                }
            }
        }
    }
}
