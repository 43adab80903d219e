import NinePWire
import NinePSession
import NinePCapture

/// Turns a capture's reassembled TCP events into the tracker's events: one frame splitter per connection
/// and direction, so frames spanning several segments (or several frames in one segment) come out whole.
/// A frame is stamped with the time of the segment that completed it. Bytes missing from the capture
/// (`.gap`: a snap length cut the packets, or the capture lost some) inside a frame whose size was read cut
/// that frame: it goes to the tracker with what was captured of it, marked `.truncated`, and framing goes
/// on in step; after any other hole the partial frame buffered on that side is reported as garbage and
/// framing starts afresh.
public struct CaptureIngest: Sendable {
    private struct Side: IntKey {
        var conn: ConnectionID; var direction: Direction
        var intKey: UInt64 { UInt64(conn.rawValue) << 1 | (direction == .toServer ? 0 : 1) }
    }
    private var splitters = IntKeyMap<Side, FrameSplitter>()
    /// The marks of the last bytes of each side that had any (a recorded frame's: injected, intercepted …),
    /// for a frame a hole then cuts: it keeps them. Nothing is stored while no data has marks.
    private var lastMarks = IntKeyMap<Side, FrameMarks>()
    private var lastTime: Int64 = 0
    private var open: Set<ConnectionID> = []
    public let maxFrameSize: UInt32

    public init(maxFrameSize: UInt32 = NineP.defaultMaxFrameSize) { self.maxFrameSize = maxFrameSize }

    public mutating func ingest(_ event: CaptureEvent) -> [SessionEvent] {
        var out: [SessionEvent] = []
        ingest(event) { out.append($0) }
        return out
    }

    /// `ingest(_:)` handing each session event to `body` as it comes (no array per capture event).
    public mutating func ingest(_ event: CaptureEvent, _ body: (SessionEvent) -> Void) {
        lastTime = max(lastTime, event.timestampNanos)
        switch event {
        case let .open(conn, client, server, t, metadata):
            open.insert(conn)
            let info = ConnectionInfo(client: metadata?.clientAddress ?? client.description,
                                      upstream: metadata?.upstreamAddress ?? server.description,
                                      version: metadata?.version, msize: metadata?.msize,
                                      fids: (metadata?.fids ?? []).map(Self.knownFid),
                                      fromStart: metadata?.recordedFromOpen == true)
            body(.connectionOpened(conn: conn, at: t, info: info))
        case let .data(conn, direction, t, bytes, metadata):
            let marks = metadata?.marks ?? []
            if !marks.isEmpty {
                lastMarks[Side(conn: conn, direction: direction)] = marks
            } else if !lastMarks.isEmpty {
                lastMarks[Side(conn: conn, direction: direction)] = nil
            }
            let maxFrameSize = maxFrameSize
            // A run of unframeable bytes that a ninescope capture holds as one event (the proxy's own) is that
            // event, as the live trace showed it: framing it again could split it differently (the proxy
            // scanned it with what followed in the same read), and every message number after it would differ.
            if marks.contains(.malformed), let metadata, metadata.isWholeEvent,
               splitters[Side(conn: conn, direction: direction)]?.isBetweenFrames ?? true {
                let reason = metadata.garbageReason ?? FrameSplitter.garbageReason(of: bytes, limit: maxFrameSize)
                body(.garbage(conn: conn, direction: direction, at: t, bytes: bytes, reason: reason))
                return
            }
            // The splitter is changed in place in the table: a copy taken out and stored back would copy
            // its buffered bytes on every append.
            var version: VersionStep?
            splitters.modify(Side(conn: conn, direction: direction),
                             default: { FrameSplitter(maxFrameSize: maxFrameSize) }) { splitter in
                Self.split(bytes, with: &splitter) { e in
                    if case .frame(let f) = e, let step = VersionStep(f, direction) { version = step }
                    body(Self.sessionEvent(e, conn: conn, direction: direction, at: t, marks: marks))
                }
            }
            if let version { setResyncLimit(version.msize, conn: conn) }
        case let .gap(conn, direction, missing, t):
            let maxFrameSize = maxFrameSize
            let side = Side(conn: conn, direction: direction)
            let marks = lastMarks.isEmpty ? [] : lastMarks[side] ?? []
            splitters.modify(side, default: { FrameSplitter(maxFrameSize: maxFrameSize) }) { splitter in
                for e in splitter.skip(missing) {
                    body(Self.sessionEvent(e, conn: conn, direction: direction, at: t, marks: marks))
                }
            }
        case let .close(conn, reset, why, t):
            for e in flush(conn: conn, at: t) { body(e) }
            open.remove(conn)
            // The recorded reason, when there is one, is what the live trace showed.
            body(.connectionClosed(conn: conn, at: t, reason: why.map { .error($0) } ?? (reset ? .reset : .eof)))
        }
    }

    /// A version exchange's frame, which sets what resynchronising framing accepts (`FrameSplitter.resyncLimit`):
    /// a Tversion clears it until its reply, an Rversion sets it to the msize agreed.
    private struct VersionStep {
        var msize: UInt32?
        init?(_ frame: [UInt8], _ direction: Direction) {
            guard frame.count >= 11 else { return nil }
            switch (frame[4], direction) {
            case (MessageType.tversion.rawValue, .toServer):
                msize = nil
            case (MessageType.rversion.rawValue, .toClient):
                msize = FrameSplitter.versionMsize(frame)
            default:
                return nil
            }
        }
    }

    /// Both directions' `FrameSplitter.resyncLimit` on `conn`.
    private mutating func setResyncLimit(_ msize: UInt32?, conn: ConnectionID) {
        let maxFrameSize = maxFrameSize
        for direction in Direction.allCases {
            splitters.modify(Side(conn: conn, direction: direction),
                             default: { FrameSplitter(maxFrameSize: maxFrameSize) }) { $0.resyncLimit = msize }
        }
    }

    private static func sessionEvent(_ e: FrameSplitter.Event, conn: ConnectionID, direction: Direction, at t: Int64,
                                     marks: FrameMarks) -> SessionEvent {
        switch e {
        case .frame(let f): .frame(conn: conn, direction: direction, at: t, bytes: f, marks: marks)
        case .truncated(let prefix, _):
            .frame(conn: conn, direction: direction, at: t, bytes: prefix, marks: marks.union(.truncated))
        case .garbage(let g, let reason): .garbage(conn: conn, direction: direction, at: t, bytes: g, reason: reason)
        }
    }

    private static func split(_ bytes: [UInt8], with splitter: inout FrameSplitter,
                              _ each: (FrameSplitter.Event) -> Void) {
        if let whole = splitter.appendTakingWholeFrame(bytes) {
            each(.frame(whole))
            return
        }
        while let e = splitter.next() { each(e) }
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
            guard var s = splitters.removeValue(forKey: side) else { continue }
            while let e = s.finish() { out.append(Self.sessionEvent(e, conn: conn, direction: direction, at: t, marks: [])) }
        }
        return out
    }

    /// A recorded fid as the tracker takes it (an unknown state name: `.adopted`).
    static func knownFid(_ r: RecordedFid) -> KnownFid {
        let root: PathRoot
        switch r.root {
        case .attach(let aname): root = .attach(aname: aname, user: AttachUser(uname: r.uname ?? "", nUname: r.nUname))
        case .unknown: root = .unknown
        case .auth: root = .auth
        }
        return KnownFid(fid: r.fid, path: FidPath(root: root, elements: r.elements, deleted: r.deleted),
                        state: FidState.allCases.first { $0.description == r.state } ?? .adopted,
                        qid: r.qid, openMode: r.opened, iounit: r.iounit, xattr: r.xattr, uname: r.uname,
                        nUname: r.nUname)
    }
}
