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
        // Each piece goes to the file as the writer made it (no concatenation); the lock keeps them in order.
        writer.withLock { w in
            for e in events {
                switch e {
                case .opened(let c, let client, let upstream, let t):
                    file.append(w.open(conn: c, clientAddress: client?.colonForm ?? "?",
                                       upstreamAddress: upstream.description, t: t))
                case .frame(let c, let d, let t, let bytes, let marks):
                    file.append(w.frame(conn: c, direction: d, t: t, bytes: bytes, marks: marks))
                case .garbage(let c, let d, let t, let bytes, _):
                    file.append(w.frame(conn: c, direction: d, t: t, bytes: bytes, marks: [.malformed]))
                case .closed(let c, let reason, let t):
                    var reset = false
                    if case .reset = reason { reset = true }
                    file.append(w.close(conn: c, reset: reset, t: t))
                }
            }
        }
    }
}
