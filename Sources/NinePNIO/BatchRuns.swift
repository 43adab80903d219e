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
        var run: [Item] = []
        var runBytes = 0
        for (i, batch) in batches.enumerated() where !batch.items.isEmpty {
            if !run.isEmpty && (run.count + batch.items.count > maxItems || runBytes + batch.bytes > maxBytes) {
                body(run)
                run.removeAll(keepingCapacity: true)
                runBytes = 0
            }
            if run.isEmpty && (i == batches.count - 1 || batch.items.count >= maxItems || batch.bytes >= maxBytes) {
                body(batch.items)
                continue
            }
            run.append(contentsOf: batch.items)
            runBytes += batch.bytes
        }
        if !run.isEmpty { body(run) }
    }
}
