import NinePCapture
import NinePWire

/// Turns proxy events into a ninescope pcapng capture (NinePCapture's `PcapngWriter`) appended to a
/// `CaptureFileSink`. Garbage runs are written as stream bytes too (marked malformed), so the capture holds
/// exactly the bytes that travelled. Thread-safe; call `record` from the event consumer.
///
/// Records are built in one buffer that is reused, and handed to the file (which copies them) every
/// `chunkSize` bytes: recording allocates nothing per batch, and what the file copies was written a moment
/// before, so it is still in the CPU's cache. (Building a whole run of events in a fresh array cost a 4 MiB
/// allocation per run of bulk traffic and, where the allocator returned it to the kernel each time, a page
/// fault per 4 KiB: `ninescope bench-trace --batch 512` of a 256 MiB diodcat spent 27 µs per message on the
/// capture, against 7.6 with batches of 8; with the reused buffer 7.1, with 131k page faults in all instead
/// of 461k.)
///
/// The payload of a large segment (≥ `spliceBytes`) is not copied into that buffer: the buffer gets the
/// bytes around it, and the file copies the payload straight from the frame into its place
/// (`PcapngWriter.appendFrame(…splicing:splices:)`), so the bulk of the traffic is copied once on its way
/// to the disk instead of twice.
public final class CaptureRecorder: Sendable {
    public let file: CaptureFileSink
    private struct State {
        var writer: PcapngWriter
        var out: [UInt8] = []
        /// Payloads left out of `out` (segments of at least `spliceBytes`), and the frames they come from.
        var splices: [PayloadSplice] = []
        var sources: [[UInt8]] = []
        /// Bytes the spliced payloads add to `out`.
        var splicedBytes = 0
    }
    private let state: Locked<State>
    /// Records are handed to the file once this many bytes are built (a frame's records are never split).
    static let chunkSize = 256 << 10
    /// The buffer's usual capacity: a chunk and one more 64 KiB frame's records.
    static let usualCapacity = chunkSize + (64 << 10)
    /// Segments with at least this many payload bytes are not copied into the records' buffer: the file
    /// copies their payload straight from the frame (one copy of the bulk of the traffic instead of two;
    /// smaller ones are copied with their headers, which costs less than handing them over apart).
    static let spliceBytes = 2048

    /// Writes the pcapng section and interface headers at once.
    public init(file: CaptureFileSink, options: PcapngWriterOptions = PcapngWriterOptions()) {
        self.file = file
        let w = PcapngWriter(options: options)
        file.append(w.header())
        var initial = State(writer: w)
        initial.out.reserveCapacity(Self.usualCapacity)
        self.state = Locked(initial)
    }

    public func record(_ events: [ProxyEvent]) {
        // Under the lock: batches are recorded, and reach the file, in the order they come.
        state.withLock { s in
            for e in events {
                switch e {
                case .opened(let c, let client, let upstream, let t):
                    let info = ProxyEvent.connectionInfo(client: client, upstream: upstream)
                    s.out += s.writer.open(conn: c, clientAddress: info.client, upstreamAddress: info.upstream, t: t)
                case .frame(let c, let d, let t, let bytes, let marks):
                    appendFrame(&s, conn: c, direction: d, t: t, bytes: bytes, marks: marks)
                case .garbage(let c, let d, let t, let bytes, _):
                    appendFrame(&s, conn: c, direction: d, t: t, bytes: bytes, marks: [.malformed])
                case .closed(let c, let reason, let t):
                    var reset = false
                    if case .reset = reason { reset = true }
                    // Why, as the trace shows it: `decode` and `view` then show the close as the trace did.
                    s.out += s.writer.close(conn: c, reset: reset, reason: reason.shownReason.errorText, t: t)
                }
                if s.out.count + s.splicedBytes >= Self.chunkSize { hand(&s) }
            }
            hand(&s)
        }
    }

    private func appendFrame(_ s: inout State, conn: ConnectionID, direction: Direction, t: Int64, bytes: [UInt8],
                             marks: FrameMarks) {
        let before = s.splices.count
        s.writer.appendFrame(conn: conn, direction: direction, t: t, bytes: bytes, marks: marks, to: &s.out,
                             splicing: Self.spliceBytes, splices: &s.splices)
        for splice in s.splices[before...] {
            s.sources.append(bytes)
            s.splicedBytes += splice.range.count
        }
    }

    /// Gives the built records to the file, with the spliced payloads in their places, and empties the
    /// buffer (keeping its memory, unless one huge frame made it grow far beyond its usual size).
    private func hand(_ s: inout State) {
        guard !s.out.isEmpty else { return }
        s.out.withUnsafeBytes { built in
            var from = 0
            for (splice, source) in zip(s.splices, s.sources) {
                if splice.at > from { file.append(copying: UnsafeRawBufferPointer(rebasing: built[from..<splice.at])) }
                source.withUnsafeBytes { file.append(copying: UnsafeRawBufferPointer(rebasing: $0[splice.range])) }
                from = splice.at
            }
            if from < built.count { file.append(copying: UnsafeRawBufferPointer(rebasing: built[from...])) }
        }
        s.splices.removeAll(keepingCapacity: true)
        s.sources.removeAll(keepingCapacity: true)
        s.splicedBytes = 0
        if s.out.capacity > 4 * Self.chunkSize {
            s.out = []
            s.out.reserveCapacity(Self.usualCapacity)
        } else {
            s.out.removeAll(keepingCapacity: true)
        }
    }
}
