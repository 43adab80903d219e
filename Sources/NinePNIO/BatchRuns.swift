/// Joins consecutive batches into runs for a consumer that pays a cost per call (a lock, an output buffer,
/// a write): the proxy's trace thread takes every batch queued while it napped and handles them in runs
/// (see BatchQueue).
public enum BatchRuns {
    /// Calls `body` with the items of `batches` in order, consecutive batches joined into runs of at most
    /// `maxItems` items and `maxBytes` bytes (each batch's `bytes` as its producer weighed it). A batch is
    /// never split: one at or over either bound, or the last one when it would run alone, is passed on as
    /// it is (no copy).
    public static func forEach<Item>(_ batches: [(items: [Item], bytes: Int)], maxItems: Int, maxBytes: Int,
                                     _ body: ([Item]) -> Void) {
        var i = 0
        while i < batches.count { i = handOnRun(batches, from: i, maxItems: maxItems, maxBytes: maxBytes, body) }
    }

    /// Hands on the one run that starts at `start` (as `forEach` would form it) and returns the index of the
    /// first batch after it: a consumer that must be able to stop between runs calls this in a loop.
    public static func handOnRun<Item>(_ batches: [(items: [Item], bytes: Int)], from start: Int, maxItems: Int,
                                       maxBytes: Int, _ body: ([Item]) -> Void) -> Int {
        var run: [Item] = []
        var runBytes = 0
        var i = start
        while i < batches.count {
            let batch = batches[i]
            if batch.items.isEmpty {
                i += 1
                continue
            }
            if !run.isEmpty && (run.count + batch.items.count > maxItems || runBytes + batch.bytes > maxBytes) {
                break
            }
            if run.isEmpty && (i == batches.count - 1 || batch.items.count >= maxItems || batch.bytes >= maxBytes) {
                body(batch.items)
                return i + 1
            }
            run.append(contentsOf: batch.items)
            runBytes += batch.bytes
            i += 1
        }
        if !run.isEmpty { body(run) }
        return i
    }
}
