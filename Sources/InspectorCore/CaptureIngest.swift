import NinePWire
import NinePSession
import NinePCapture

/// Turns a capture's reassembled TCP events into the tracker's events: one frame splitter per connection
/// and direction, so frames spanning several segments (or several frames in one segment) come out whole.
/// A frame is stamped with the time of the segment that completed it. After bytes lost in the capture
/// (`.gap`), the partial frame buffered on that side is reported as garbage and framing starts afresh.
public struct CaptureIngest: Sendable {
    private struct Side: Hashable { var conn: ConnectionID; var direction: Direction }
    private var splitters: [Side: FrameSplitter] = [:]
    private var lastTime: Int64 = 0
    private var open: Set<ConnectionID> = []
    public let maxFrameSize: UInt32

    public init(maxFrameSize: UInt32 = NineP.defaultMaxFrameSize) { self.maxFrameSize = maxFrameSize }

    public mutating func ingest(_ event: CaptureEvent) -> [SessionEvent] {
        lastTime = max(lastTime, event.timestampNanos)
        switch event {
        case let .open(conn, client, server, t, metadata):
            open.insert(conn)
            let info = ConnectionInfo(client: metadata?.clientAddress ?? client.description,
                                      upstream: metadata?.upstreamAddress ?? server.description)
            return [.connectionOpened(conn: conn, at: t, info: info)]
        case let .data(conn, direction, t, bytes, metadata):
            let side = Side(conn: conn, direction: direction)
            var splitter = splitters[side] ?? FrameSplitter(maxFrameSize: maxFrameSize)
            splitter.append(bytes)
            var out: [SessionEvent] = []
            let marks = metadata?.marks ?? []
            while let e = splitter.next() {
                switch e {
                case .frame(let f):
                    out.append(.frame(conn: conn, direction: direction, at: t, bytes: f, marks: marks))
                case .garbage(let g, let reason):
                    out.append(.garbage(conn: conn, direction: direction, at: t, bytes: g, reason: reason))
                }
            }
            splitters[side] = splitter
            return out
        case let .gap(conn, direction, missing, t):
            let side = Side(conn: conn, direction: direction)
            var out: [SessionEvent] = []
            if var splitter = splitters[side], let e = splitter.finish(), case .garbage(let g, _) = e {
                out.append(.garbage(conn: conn, direction: direction, at: t, bytes: g,
                                    reason: "partial frame cut by \(missing) bytes missing from the capture"))
            }
            splitters[side] = FrameSplitter(maxFrameSize: maxFrameSize)
            return out
        case let .close(conn, reset, t):
            var out = flush(conn: conn, at: t)
            open.remove(conn)
            out.append(.connectionClosed(conn: conn, at: t, reason: reset ? .reset : .eof))
            return out
        }
    }

    /// End of the capture: partial frames become garbage; connections still open end as `endOfCapture`
    /// (pending requests are unanswered, but open fids are not leaks).
    public mutating func finish() -> [SessionEvent] {
        var out: [SessionEvent] = []
        for conn in open.sorted() {
            out += flush(conn: conn, at: lastTime)
            out.append(.connectionClosed(conn: conn, at: lastTime, reason: .endOfCapture))
        }
        open.removeAll()
        return out
    }

    private mutating func flush(conn: ConnectionID, at t: Int64) -> [SessionEvent] {
        var out: [SessionEvent] = []
        for direction in Direction.allCases {
            let side = Side(conn: conn, direction: direction)
            if var s = splitters.removeValue(forKey: side), let e = s.finish(), case .garbage(let g, let reason) = e {
                out.append(.garbage(conn: conn, direction: direction, at: t, bytes: g, reason: reason))
            }
        }
        return out
    }
}
