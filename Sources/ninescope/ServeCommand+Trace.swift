import InspectorCore
import NinePNIO
import NinePSession
import NinePWire

/// `ninescope serve --trace`: every frame the hosted server reads or writes goes through one
/// SessionTracker (shared by all connections) and comes out as TraceLine lines, the same format as
/// `ninescope proxy --headless` and `ninescope decode`. With `stats` (`serve --stats`) every exchange is
/// also counted in a `TraceStatistics`, handed over at the end (`finishStatistics`); without `lines`
/// (`--stats` alone) no line is printed.
///
/// Called on event loop threads (requests, connection events) and from server connection actors
/// (replies); one lock orders it all. A request is traced before the server sees it, so its reply always
/// comes after it.
final class ServeTrace: @unchecked Sendable {
    // @unchecked: all mutable state is accessed under `lock`.
    private let lock = NSLockLike()
    private var tracker: SessionTracker
    private let format: TraceLine
    private let out: LineOutput
    /// Whether the lines are printed (`--trace`).
    private let lines: Bool
    private var statistics: TraceStatistics?
    private var server = "?"

    init(style: TraceLine.Style, output: LineOutput, lines: Bool = true, stats: Bool = false) {
        self.format = TraceLine(style: style)
        self.out = output
        self.lines = lines
        // Statistics need the exchanges' states, which a line trace's tracker does not report.
        tracker = SessionTracker(configuration: .lineTrace(reportsChanges: stats))
        statistics = stats ? TraceStatistics() : nil
    }

    /// Close reasons that are not worth a line on standard error.
    static func isOrdinary(_ reason: String) -> Bool { reason == "closed by the client" }

    func listening(on address: Address) { lock.withLock { server = address.colonForm } }

    func event(_ event: ServerListenerEvent) {
        let at = WallClock.nowNanos()
        lock.withLock {
            switch event {
            case let .accepted(id, peer):
                let conn = ConnectionID(UInt32(truncatingIfNeeded: id))
                let info = ConnectionInfo(client: peer?.colonForm ?? "?", upstream: server, fromStart: true, hosted: true)
                let output = tracker.handle(.connectionOpened(conn: conn, at: at, info: info))
                if lines { out.write(format.opened(conn: conn, at: at, info: info)) }
                write(output)
            case let .closed(id, reason):
                let conn = ConnectionID(UInt32(truncatingIfNeeded: id))
                let why: CloseReason = Self.isOrdinary(reason) ? .eof : .error(reason)
                let output = tracker.handle(.connectionClosed(conn: conn, at: at, reason: why))
                write(output)
                if lines { out.write(format.closed(conn: conn, at: at, reason: why)) }
            case .acceptFailed:
                break   // said on standard error (ServeCommand)
            }
        }
    }

    func frame(id: Int, direction: Direction, bytes: [UInt8]) {
        let at = WallClock.nowNanos()
        lock.withLock {
            let conn = ConnectionID(UInt32(truncatingIfNeeded: id))
            write(tracker.handle(.frame(conn: conn, direction: direction, at: at, bytes: bytes, marks: [])))
        }
    }

    /// `--still-pending`: a `still-pending` line, once, for each request the server has left unanswered
    /// `after` ns or more (a driver that never answers shows no other sign). Call now and then.
    func reportOverdue(after: Int64, now: Int64) {
        lock.withLock {
            let output = tracker.reportOverdue(at: now, after: after)
            guard lines, !output.anomalies.isEmpty else { return }
            for a in output.anomalies { out.write(format.line(for: a)) }
            out.flush()   // seen at once, even when the lines go to a file (block-buffered)
        }
    }

    func flush() { out.flush() }

    /// A line of its own after the trace's (`--stats --json`: the statistics object).
    func write(_ line: String) { lock.withLock { out.write(line) } }

    /// `--stats`: the statistics, the exchanges still outstanding counted as pending (call once the server
    /// has stopped); nil without `stats`.
    func finishStatistics() -> TraceStatistics? {
        lock.withLock {
            statistics?.finish()
            return statistics
        }
    }

    private func write(_ output: TrackerOutput) {
        if statistics != nil { statistics!.take(output) }
        guard lines else { return }
        for line in format.lines(for: output) { out.write(line) }
    }
}
