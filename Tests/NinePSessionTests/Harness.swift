import NinePSession
import NinePWire
import Testing

/// Swift Testing also has a `Tag`; in these tests it is always the 9P one.
typealias Tag = NinePWire.Tag

/// Drives a `SessionTracker` with encoded frames on one connection and a fake clock (+1 µs per event).
struct Harness {
    var tracker: SessionTracker
    var conn: ConnectionID
    /// The dialect frames are ENCODED with (what the peers speak), independent of the tracker's view.
    var wire: Dialect
    var now: Int64 = 1_700_000_000_000_000_000
    var step: Int64 = 1_000

    init(wire: Dialect = .l, conn: ConnectionID = 1, configuration: SessionTracker.Configuration = .init(),
         open: Bool = true) {
        self.tracker = SessionTracker(configuration: configuration)
        self.conn = conn
        self.wire = wire
        if open {
            _ = tracker.handle(.connectionOpened(conn: conn, at: now,
                                                 info: ConnectionInfo(client: "tcp!127.0.0.1!5000", upstream: "tcp!127.0.0.1!564")))
        }
    }

    mutating func tick() -> Int64 { now += step; return now }

    /// A request from the client.
    @discardableResult
    mutating func t(_ tag: Tag, _ m: Message, marks: FrameMarks = []) -> TrackerOutput {
        let bytes = Fcall(tag: tag, m).encode(dialect: wire)
        return tracker.handle(.frame(conn: conn, direction: .toServer, at: tick(), bytes: bytes, marks: marks))
    }

    /// A reply from the server.
    @discardableResult
    mutating func r(_ tag: Tag, _ m: Message, marks: FrameMarks = []) -> TrackerOutput {
        let bytes = Fcall(tag: tag, m).encode(dialect: wire)
        return tracker.handle(.frame(conn: conn, direction: .toClient, at: tick(), bytes: bytes, marks: marks))
    }

    /// Raw bytes as a frame.
    @discardableResult
    mutating func raw(_ bytes: [UInt8], _ direction: Direction) -> TrackerOutput {
        tracker.handle(.frame(conn: conn, direction: direction, at: tick(), bytes: bytes, marks: []))
    }

    @discardableResult
    mutating func close(_ reason: CloseReason = .eof) -> TrackerOutput {
        tracker.handle(.connectionClosed(conn: conn, at: tick(), reason: reason))
    }

    /// Tversion/Rversion with the given strings and msize.
    mutating func version(_ v: String = "9P2000.L", reply: String? = nil, msize: UInt32 = 131_096) {
        t(.notag, .tversion(Tversion(msize: msize, version: P9String(v))))
        r(.notag, .rversion(Rversion(msize: msize, version: P9String(reply ?? v))))
    }

    /// Tattach fid (root of aname) → Rattach with a directory qid.
    mutating func attach(_ tag: Tag = 0, fid: Fid = 0, aname: String = "", nUname: UInt32? = NineP.noUname) {
        t(tag, .tattach(Tattach(fid: fid, afid: .nofid, uname: "nobody", aname: P9String(aname), nUname: nUname)))
        r(tag, .rattach(Rattach(qid: Qid(type: .dir, path: 1))))
    }

    /// Twalk fid→newfid names, fully answered (qid paths 100+i, the last a file unless `dir`).
    mutating func walk(_ tag: Tag = 0, _ fid: Fid, _ newfid: Fid, _ names: [String], dir: Bool = true) {
        t(tag, .twalk(Twalk(fid: fid, newfid: newfid, wnames: names.map { P9String($0) })))
        let qids = names.indices.map { Qid(type: dir || $0 < names.count - 1 ? .dir : .file, path: UInt64(100 + $0)) }
        r(tag, .rwalk(Rwalk(wqids: qids)))
    }

    mutating func clunk(_ tag: Tag = 0, _ fid: Fid) {
        t(tag, .tclunk(Tclunk(fid: fid)))
        r(tag, .rclunk)
    }

    var anomalies: [Anomaly] { tracker.anomalies }
    var lastIndex: MessageIndex { tracker.messageCount - 1 }
    func kinds() -> [AnomalyKind] { tracker.anomalies.map(\.kind) }
    func path(_ fid: Fid) -> String? { tracker.fid(fid, on: conn)?.path?.description }
    var summary: ConnectionSummary { tracker.connection(conn)! }
}

extension TrackerOutput {
    /// The exchange of the logged message (as it is after this event).
    var exchange: Exchange? {
        guard let id = message?.exchange else { return nil }
        return exchanges.last { $0.id == id }
    }
}
