import Foundation
import InspectorCore
import NinePSession
import NinePWire

/// The tracker and the line format of a `decode` run: turns session events into trace lines.
final class DecodeTrace: @unchecked Sendable {
    // @unchecked: used by one thread at a time — the caller's, or the worker of a `DecodePipeline`,
    // which owns it from `start` to `finish`.
    private var tracker: SessionTracker
    private let format: TraceLine

    init(tracker: SessionTracker, format: TraceLine) {
        self.tracker = tracker
        self.format = format
    }

    /// Runs the event through the tracker and appends its lines to `bytes`.
    func append(_ event: SessionEvent, to bytes: inout [UInt8]) {
        switch event {
        case let .connectionOpened(conn, at, info):
            _ = tracker.handle(event)
            bytes.append(contentsOf: format.opened(conn: conn, at: at, info: info).utf8)
            bytes.append(0x0A)
        case let .connectionClosed(conn, at, reason):
            format.appendLines(for: tracker.handle(event), to: &bytes)
            bytes.append(contentsOf: format.closed(conn: conn, at: at, reason: reason).utf8)
            bytes.append(0x0A)
        case .frame, .garbage:
            format.appendLines(for: tracker.handle(event), to: &bytes)
        }
    }
}

/// Session events packed for a hand-off between threads: the frames' bytes back to back in one buffer,
/// so a batch of hundreds of frames is two allocations, made and freed by one thread each (many small
/// arrays made on one thread and freed on another make both wait on the allocator's lock).
struct EventBatch: Sendable {
    enum Item: Sendable {
        case frame(conn: ConnectionID, direction: Direction, at: Int64, end: Int, marks: FrameMarks)
        case other(SessionEvent)
    }
    private(set) var items: [Item] = []
    private(set) var bytes: [UInt8] = []

    init(capacity: Int, bytes: Int) {
        items.reserveCapacity(capacity)
        self.bytes.reserveCapacity(bytes)
    }

    var count: Int { items.count }
    var byteCount: Int { bytes.count }

    mutating func append(_ event: SessionEvent) {
        if case let .frame(conn, direction, at, frame, marks) = event {
            bytes.append(contentsOf: frame)
            items.append(.frame(conn: conn, direction: direction, at: at, end: bytes.count, marks: marks))
        } else {
            items.append(.other(event))
        }
    }

    /// The events in order (frames as arrays of their own again).
    func forEach(_ body: (SessionEvent) -> Void) {
        var start = 0
        for item in items {
            switch item {
            case let .frame(conn, direction, at, end, marks):
                body(.frame(conn: conn, direction: direction, at: at, bytes: Array(bytes[start..<end]), marks: marks))
                start = end
            case .other(let event):
                body(event)
            }
        }
    }
}

/// `decode` on two threads: the caller reads the capture (packets, TCP reassembly, framing) and packs the
/// events; a worker runs the tracker, formats and writes. On two cores a decode then takes about as long
/// as the slower half. At most `maxBatches` batches wait, so a slow output holds the reader back.
final class DecodePipeline {
    private let queue: BatchQueue<EventBatch>
    private var batch: EventBatch
    static let batchItems = 1024
    static let batchBytes = 256 << 10

    init(trace: DecodeTrace, out: LineOutput, maxBatches: Int = 8) {
        queue = BatchQueue(name: "ninescope-decode", maxEvents: maxBatches, bytes: { _ in 0 }) { batches in
            var text: [UInt8] = []
            text.reserveCapacity(1 << 18)
            for b in batches {
                b.forEach { trace.append($0, to: &text) }
                out.write(bytes: text)
                text.removeAll(keepingCapacity: true)
            }
        }
        batch = EventBatch(capacity: Self.batchItems, bytes: Self.batchBytes)
    }

    func push(_ event: SessionEvent) {
        batch.append(event)
        if batch.count >= Self.batchItems || batch.byteCount >= Self.batchBytes { handOver() }
    }

    private func handOver() {
        queue.push([batch])
        batch = EventBatch(capacity: Self.batchItems, bytes: Self.batchBytes)
    }

    /// Hands over the last batch and waits until every line is written.
    func finish() {
        if batch.count > 0 { handOver() }
        queue.finish()
    }
}
