import NinePCapture
import NinePWire

/// Turns proxy events into a ninescope pcapng capture (NinePCapture's `PcapngWriter`) appended to a
/// `CaptureFileSink`. Garbage runs are written as stream bytes too (marked malformed), so the capture holds
/// exactly the bytes that travelled. Thread-safe; call `record` from the event consumer.
public final class CaptureRecorder: Sendable {
    public let file: CaptureFileSink
    private let writer: Locked<PcapngWriter>

    /// Writes the pcapng section and interface headers at once.
    public init(file: CaptureFileSink, options: PcapngWriterOptions = PcapngWriterOptions()) {
        self.file = file
        let w = PcapngWriter(options: options)
        file.append(w.header())
        self.writer = Locked(w)
    }

    public func record(_ events: [ProxyEvent]) {
        // One buffer per batch (the file keeps it as one chunk); the lock keeps batches in order.
        writer.withLock { w in
            var out: [UInt8] = []
            var size = 0
            for e in events {
                switch e {
                case .frame(_, _, _, let bytes, _), .garbage(_, _, _, let bytes, _): size += w.roomForFrame(of: bytes.count)
                case .opened, .closed: size += 600   // three packets
                }
            }
            out.reserveCapacity(size)
            for e in events {
                switch e {
                case .opened(let c, let client, let upstream, let t):
                    out += w.open(conn: c, clientAddress: client?.colonForm ?? "?",
                                  upstreamAddress: upstream.description, t: t)
                case .frame(let c, let d, let t, let bytes, let marks):
                    w.appendFrame(conn: c, direction: d, t: t, bytes: bytes, marks: marks, to: &out)
                case .garbage(let c, let d, let t, let bytes, _):
                    w.appendFrame(conn: c, direction: d, t: t, bytes: bytes, marks: [.malformed], to: &out)
                case .closed(let c, let reason, let t):
                    var reset = false
                    if case .reset = reason { reset = true }
                    out += w.close(conn: c, reset: reset, t: t)
                }
            }
            file.append(out)
        }
    }
}
