import Foundation
import InspectorCore
import NinePNIO
import NinePSession
import NinePWire

/// The tracker and the line format of a `decode` run: turns session events into trace lines.
final class DecodeTrace: @unchecked Sendable {
    // @unchecked: used by one thread at a time — the caller's, or the worker of the `DecodePipeline` it
    // was given to, until that pipeline's `finish`.
    private var tracker: SessionTracker
    private let format: TraceLine

    init(tracker: SessionTracker, format: TraceLine) {
        self.tracker = tracker
        self.format = format
    }

    /// Runs the event through the tracker and appends its lines to `bytes` (`rendered`, `predecoded`: the
    /// frame's canonical line and decoding made ahead, see `RenderedCanonical` and `Predecoded`).
    func append(_ event: SessionEvent, to bytes: inout [UInt8], rendered: RenderedCanonical? = nil,
                predecoded: consuming Predecoded? = nil) {
        switch event {
        case let .connectionOpened(conn, at, info):
            _ = tracker.handle(event)
            bytes.append(contentsOf: format.opened(conn: conn, at: at, info: info).utf8)
            bytes.append(0x0A)
        case let .connectionClosed(conn, at, reason):
            format.appendLines(for: tracker.handle(event), to: &bytes)
            bytes.append(contentsOf: format.closed(conn: conn, at: at, reason: reason).utf8)
            bytes.append(0x0A)
        case let .frame(conn, direction, at, frame, marks):
            let output = tracker.frame(conn: conn, direction: direction, at: at, bytes: frame, marks: marks,
                                       predecoded: predecoded.take())
            format.appendLines(for: output, to: &bytes, rendered: rendered)
        case .garbage:
            format.appendLines(for: tracker.handle(event), to: &bytes)
        }
    }
}

/// Session events packed for a hand-off between threads: the frames' bytes back to back in one buffer,
/// so a batch of hundreds of frames is a few allocations, made and freed by one thread each (many small
/// arrays made on one thread and freed on another make both wait on the allocator's lock); and a spent
/// batch goes back to be filled again, so its buffers are reused rather than freed and faulted in anew.
/// Frames may carry their decoding and canonical line made by the packing thread (`decodings`, `lines`).
final class EventBatch: @unchecked Sendable {
    // @unchecked: a batch belongs to one thread at a time — filled by the reader, handed over through the
    // queue, drained by the worker, then handed back (`DecodePipeline`).
    enum Item: Sendable {
        /// A frame: its bytes end at `end` in `bytes`; when decoded ahead (with `dialect`), its decoding is
        /// the next one in `decodings` and its canonical line ends at `lineEnd` in `lines`.
        case frame(conn: ConnectionID, direction: Direction, at: Int64, end: Int, marks: FrameMarks,
                   dialect: Dialect?, lineEnd: Int)
        case other(SessionEvent)
    }
    // One thread at a time and no overlapping access to one property (each method touches each array in
    // turn): the dynamic exclusivity checks, per frame and per property, are left out.
    @exclusivity(unchecked) private var items: [Item] = []
    @exclusivity(unchecked) private var bytes: [UInt8] = []
    @exclusivity(unchecked) private var lines: [UInt8] = []
    /// Decodings made ahead, each moved out (`take`) when the worker hands it to the tracker (kept as the
    /// tracker takes them, so moving one out is its only copy on this side).
    @exclusivity(unchecked) private var decodings: [Predecoded?] = []

    init(capacity: Int, bytes: Int) {
        items.reserveCapacity(capacity)
        self.bytes.reserveCapacity(bytes)
        lines.reserveCapacity(capacity * 96)
    }

    var count: Int { items.count }
    var byteCount: Int { bytes.count }

    /// Empties the batch, keeping its buffers.
    func reset() {
        items.removeAll(keepingCapacity: true)
        bytes.removeAll(keepingCapacity: true)
        lines.removeAll(keepingCapacity: true)
        decodings.removeAll(keepingCapacity: true)
    }

    /// Appends an event; `render` may decode the frame, append its decoding to `decodings` and its canonical
    /// line to `lines`, and return the dialect it decoded with.
    func append(_ event: SessionEvent,
                render: (_ conn: ConnectionID, _ frame: [UInt8], _ decodings: inout [Predecoded?], _ lines: inout [UInt8])
                    -> Dialect? = { _, _, _, _ in nil }) {
        if case let .frame(conn, direction, at, frame, marks) = event {
            bytes.append(contentsOf: frame)
            let dialect = render(conn, frame, &decodings, &lines)
            items.append(.frame(conn: conn, direction: direction, at: at, end: bytes.count, marks: marks,
                                dialect: dialect, lineEnd: lines.count))
        } else {
            items.append(.other(event))
        }
    }

    /// The events in order (frames as arrays of their own again), with their decodings and lines made ahead.
    func forEach(_ body: (SessionEvent, RenderedCanonical?, consuming Predecoded?) -> Void) {
        var start = 0, lineStart = 0, next = 0
        for item in items {
            switch item {
            case let .frame(conn, direction, at, end, marks, dialect, lineEnd):
                let event = SessionEvent.frame(conn: conn, direction: direction, at: at,
                                               bytes: Array(bytes[start..<end]), marks: marks)
                if let dialect {
                    let rendered = RenderedCanonical(dialect: dialect, bytes: lines[lineStart..<lineEnd])
                    let predecoded = decodings[next].take()
                    next += 1
                    body(event, rendered, predecoded)
                } else {
                    body(event, nil, nil)
                }
                start = end
                lineStart = lineEnd
            case .other(let event):
                body(event, nil, nil)
            }
        }
    }
}

/// Decodes frames and renders their canonical lines on the reading thread, ahead of the tracker, with the
/// dialect the connection most likely uses (forced, or as Tversion/Rversion set it; 9P2000.L, the
/// tracker's default guess, before). The tracker keeps the last word: a decoding or line made with another
/// dialect than the tracker's is not used (`Predecoded`, `RenderedCanonical`).
struct CanonicalPrerenderer {
    let forced: Dialect?
    private var dialects = IntKeyMap<ConnectionID, Dialect>()

    init(forced: Dialect?) { self.forced = forced }

    mutating func opened(_ conn: ConnectionID) { dialects[conn] = nil }

    /// Follows Tversion/Rversion of a frame not rendered ahead (so later guesses stay right).
    mutating func follow(_ conn: ConnectionID, _ frame: [UInt8]) {
        guard forced == nil, let h = FrameHeader(frame),
              h.type == MessageType.tversion.rawValue || h.type == MessageType.rversion.rawValue,
              let f = try? Fcall.decode(frame, dialect: .l) else { return }
        note(conn, f)
    }

    private mutating func note(_ conn: ConnectionID, _ fcall: Fcall) {
        switch fcall.message {
        case .tversion(let v): if let d = Dialect(version: v.version.string) { dialects[conn] = d }
        case .rversion(let v): if let d = Dialect(version: v.version.string) { dialects[conn] = d }
        default: break
        }
    }

    /// Decodes the frame into `decodings` and renders its line into `lines`; nil when it does not decode.
    mutating func render(_ conn: ConnectionID, _ frame: [UInt8], into decodings: inout [Predecoded?],
                         _ lines: inout [UInt8]) -> Dialect? {
        let dialect = forced ?? dialects[conn] ?? .l
        let fcall: Fcall
        do throws(DecodeError) { fcall = try Fcall.decode(frame, dialect: dialect) } catch { return nil }
        fcall.appendCanonicalLine(to: &lines)
        if forced == nil { note(conn, fcall) }
        decodings.append(Predecoded(dialect: dialect, fcall: fcall))
        return dialect
    }
}

/// `decode` on two threads: the caller reads the capture (packets, TCP reassembly, framing) and packs the
/// events; a worker runs the tracker, formats and writes. On two cores a decode then takes about as long
/// as the slower half. At most `maxBatches` batches wait, so a slow output holds the reader back.
final class DecodePipeline {
    private let queue: BatchQueue<EventBatch>
    private var batch: EventBatch
    /// Drained batches on their way back to the reader.
    private let spares = SpareBatches()
    static let batchItems = 1024
    static let batchBytes = 256 << 10

    /// Decodes frames and renders their canonical lines on the reading thread (text lines and JSON's
    /// `line` member both use them).
    private var prerenderer: CanonicalPrerenderer

    init(trace: DecodeTrace, out: LineOutput, forcedDialect: Dialect?, maxBatches: Int = 8) {
        prerenderer = CanonicalPrerenderer(forced: forcedDialect)
        let spares = spares
        let text = LineBytes()
        queue = BatchQueue(name: "ninescope-decode", maxEvents: maxBatches, bytes: { _ in 0 }) { batches in
            for b in batches {
                b.forEach { trace.append($0, to: &text.bytes, rendered: $1, predecoded: $2) }
                out.write(bytes: text.bytes)
                text.bytes.removeAll(keepingCapacity: true)
                b.reset()
                spares.put(b)
            }
        }
        batch = EventBatch(capacity: Self.batchItems, bytes: Self.batchBytes)
    }

    func push(_ event: SessionEvent) {
        if case .connectionOpened(let conn, _, _) = event { prerenderer.opened(conn) }
        if renderingAhead {
            batch.append(event) { prerenderer.render($0, $1, into: &$2, &$3) }
        } else {
            if case let .frame(conn, _, _, bytes, _) = event { prerenderer.follow(conn, bytes) }
            batch.append(event)
        }
        if batch.count >= Self.batchItems || batch.byteCount >= Self.batchBytes { handOver() }
    }

    /// Whether the reading thread decodes and renders ahead for the next batch: only while the worker has
    /// batches waiting (it is the slower side and the reader has time to spare); when the worker waits
    /// for the reader, the reader leaves that work to it. The two threads so share it about evenly,
    /// whichever half a capture makes heavier.
    private var renderingAhead = true

    private func handOver() {
        queue.push([batch])
        batch = spares.take() ?? EventBatch(capacity: Self.batchItems, bytes: Self.batchBytes)
        renderingAhead = queue.backlog >= 2
    }

    /// Hands over the batch being filled, if it holds anything (the input is about to wait: its lines should
    /// not wait with it).
    func handOverPending() {
        if batch.count > 0 { handOver() }
    }

    /// Hands over the last batch and waits until every line is written.
    func finish() {
        if batch.count > 0 { handOver() }
        queue.finish()
    }

    /// The worker's output buffer (kept from batch to batch).
    private final class LineBytes: @unchecked Sendable {
        // @unchecked: used by the worker thread only.
        var bytes: [UInt8] = []
        init() { bytes.reserveCapacity(1 << 18) }
    }

    private final class SpareBatches: @unchecked Sendable {
        // @unchecked: `batches` is accessed with `lock` held.
        private var batches: [EventBatch] = []
        private let lock = NSLockLike()
        func put(_ b: EventBatch) { lock.withLock { batches.append(b) } }
        func take() -> EventBatch? { lock.withLock { batches.popLast() } }
    }
}
