import Foundation
import InspectorCore
import NinePSession
import NinePWire

/// What `ninescope decode` prints for one session event, before formatting.
enum TraceItem: Sendable {
    case opened(ConnectionID, at: Int64, info: ConnectionInfo?)
    case output(TrackerOutput)
    case closed(TrackerOutput, ConnectionID, at: Int64, reason: CloseReason)
}

/// Formats and writes trace lines on a thread of its own while the caller reads the capture and runs
/// the tracker: on two cores a decode then takes about as long as its slower half instead of both.
/// Batches keep their order; at most `depth` wait, so a slow output holds the reader back (bounded
/// memory) rather than queueing the whole capture.
final class TraceWriterThread: @unchecked Sendable {
    // @unchecked: `queue` and `closed` are guarded by `condition`; `format`/`out` are used by the thread only
    // (LineOutput locks itself).
    private let condition = NSCondition()
    private var queue: [[TraceItem]] = []
    private var closed = false
    private let finished = DispatchSemaphore(value: 0)
    private let depth: Int

    init(format: TraceLine, out: LineOutput, depth: Int = 16) {
        self.depth = depth
        let thread = Thread { [self] in
            var bytes: [UInt8] = []
            bytes.reserveCapacity(1 << 17)
            while let batch = self.next() {
                for item in batch { Self.append(item, format: format, to: &bytes) }
                out.write(bytes: bytes)
                bytes.removeAll(keepingCapacity: true)
            }
            out.flush()
            self.finished.signal()
        }
        thread.name = "ninescope-decode-writer"
        thread.start()
    }

    static func append(_ item: TraceItem, format: TraceLine, to bytes: inout [UInt8]) {
        switch item {
        case let .opened(conn, at, info):
            bytes.append(contentsOf: format.opened(conn: conn, at: at, info: info).utf8)
            bytes.append(0x0A)
        case let .output(output):
            format.appendLines(for: output, to: &bytes)
        case let .closed(output, conn, at, reason):
            format.appendLines(for: output, to: &bytes)
            bytes.append(contentsOf: format.closed(conn: conn, at: at, reason: reason).utf8)
            bytes.append(0x0A)
        }
    }

    /// Queues a batch, waiting while `depth` batches are already queued.
    func submit(_ batch: [TraceItem]) {
        guard !batch.isEmpty else { return }
        condition.lock()
        while queue.count >= depth && !closed { condition.wait() }
        if closed { condition.unlock(); return }
        queue.append(batch)
        condition.broadcast()
        condition.unlock()
    }

    private func next() -> [TraceItem]? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !closed { condition.wait() }
        if queue.isEmpty { return nil }
        let batch = queue.removeFirst()
        condition.broadcast()
        return batch
    }

    /// Writes what is queued, then returns once the thread has flushed the output. Later calls return
    /// at once; batches submitted after the first call are dropped.
    func finish() {
        condition.lock()
        if closed { condition.unlock(); return }
        closed = true
        condition.broadcast()
        condition.unlock()
        finished.wait()
    }
}
