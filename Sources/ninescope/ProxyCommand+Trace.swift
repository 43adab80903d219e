import NinePCapture
import NinePNIO
import NinePSession
import NinePWire
import InspectorCore

/// The headless consumer of a proxy's events: records each batch into the capture, feeds the events to
/// one SessionTracker (shared by all connections, so connection ids and message indexes are global) and
/// prints TraceLine lines.
///
/// `consume` is the proxy's sink, called on NIO event loop threads after each read's bytes were passed
/// on. With `threaded` (what `ninescope proxy` uses) it only hands the batch to a `BatchQueue`, whose
/// thread does the work (records the batch into the capture, then traces it): the relay then costs the
/// event loops no decoding, formatting or disk writes, and a trace that falls behind slows the clients down
/// (the queue is bounded) rather than growing.
/// Without it the work is done right there, under one lock (simplest; fine for light traffic).
///
/// With `filter` (`proxy --filter EXPR`) the message lines go through a `LiveTraceFilter`: each exchange's
/// lines are written once it is complete, and only when it matches; the connections' `+`/`-` lines are
/// written as they happen.
///
/// With `stats` (`proxy --stats`) every exchange is also counted in a `TraceStatistics` (those that match
/// the filter, with one), handed over at the end (`finishStatistics`).
///
/// With `quiet` (`proxy --quiet`) nothing is decoded: the capture gets every batch as usual, but the trace
/// only counts frames and prints the connections' open and close lines, so recording costs the relay as
/// little as it can; the capture is decoded afterwards (`decode`, `view`).
final class ProxyTrace: @unchecked Sendable {
    // @unchecked: all mutable state is accessed under `lock`.
    private let lock = NSLockLike()
    private var tracker: SessionTracker
    private let format: TraceLine
    /// `--filter`: holds each exchange's lines until it is complete, and drops those that do not match.
    private var filter: LiveTraceFilter?
    /// `--stats`: counts every exchange (that matches the filter).
    private var statistics: TraceStatistics?
    private let out: LineOutput
    private let recorder: CaptureRecorder?
    private var queue: BatchQueue<ProxyEvent>?
    private var connectionsOpened = 0
    private var garbageRuns = 0
    private var closeReasons: [String: Int] = [:]
    /// Lines of the batch being handled, as UTF-8, written to `out` once per batch.
    private var pending: [UInt8] = []
    /// Record only: count frames, decode nothing.
    let quiet: Bool
    /// Frames seen (counted only when `quiet`; otherwise the tracker counts messages).
    private var framesSeen = 0
    /// What `--fault` rules did: requests kept from the server, replies the proxy gave, replies held back.
    private var faultsKept = 0, faultsAnswered = 0, faultsDelayed = 0

    init(style: TraceLine.Style, output: LineOutput, recorder: CaptureRecorder?, threaded: Bool = false,
         quiet: Bool = false, filter: FilterExpr? = nil, stats: Bool = false) {
        self.quiet = quiet
        self.format = TraceLine(style: style)
        // A filter and statistics need the exchanges' states, which a line trace's tracker does not report.
        tracker = SessionTracker(configuration: .lineTrace(reportsChanges: filter != nil || stats))
        self.filter = filter.map { LiveTraceFilter($0, format: TraceLine(style: style)) }
        statistics = stats ? TraceStatistics(filter: filter) : nil
        self.out = output
        self.recorder = recorder
        if threaded {
            // A proxy must not slow the system it observes: capture and trace run on one thread under
            // SCHED_IDLE (see `BatchQueue.schedule` for what that choice was measured against). When the
            // CPUs are busy it lags behind the traffic and catches up when there is time; once it is more
            // than a second or two behind, the queue's catch-up thread has the work done at the proxy's own
            // priority (`BatchQueue.Priority.idle`), so that other work on the machine cannot stall the
            // trace, the capture or, through a full queue, the relay.
            // Runs of at most 512 events: where the catch-up thread takes over, it waits for the run in hand
            // to end.
            // Each event loop has a lane of its own; events of different loops are merged by arrival time.
            queue = BatchQueue(name: "ninescope-trace", priority: .idle, runItems: 512, bytes: ProxyTrace.frameBytes,
                               order: { $0.at }) { [unowned self] batch in
                recorder?.record(batch)
                self.process(batch)
            }
        }
    }

    /// What an event weighs in the queue: its frame bytes.
    @Sendable static func frameBytes(_ event: ProxyEvent) -> Int {
        switch event {
        case .frame(_, _, _, let b, _), .garbage(_, _, _, let b, _): b.count
        default: 0
        }
    }

    func consume(_ batch: [ProxyEvent]) {
        if let queue {
            queue.push(batch)
        } else {
            recorder?.record(batch)
            process(batch)
        }
    }

    /// Waits until every batch consumed so far is recorded and printed (a no-op when not threaded).
    func drain() {
        queue?.drain()
    }

    /// Drains and stops the consumer thread. Call once the proxy has stopped.
    func finish() {
        queue?.finish()
    }

    private func process(_ batch: [ProxyEvent]) {
        lock.withLock {
            for event in batch { handle(event) }
            if !pending.isEmpty {
                out.write(bytes: pending)
                pending.removeAll(keepingCapacity: true)
            }
        }
    }

    private func handle(_ event: ProxyEvent) {
        if quiet {
            count(event)
            return
        }
        let output = tracker.handle(event.sessionEvent)
        if statistics != nil { statistics!.take(output) }
        switch event {
        case let .opened(conn, client, upstream, at):
            connectionsOpened += 1
            line(format.opened(conn: conn, at: at, info: ProxyEvent.connectionInfo(client: client, upstream: upstream)))
            write(output)
        case let .closed(conn, reason, at):
            // Unanswered requests and leaked fids first, then the close with the proxy's own reason.
            write(output)
            closed(conn: conn, reason: reason, at: at)
        case .garbage:
            garbageRuns += 1
            write(output)
        case let .frame(_, direction, _, _, marks):
            if !marks.isEmpty { tally(marks, direction) }
            write(output)
        }
    }

    /// Counts what the proxy did to a frame, from its marks (for the closing summary).
    private func tally(_ marks: FrameMarks, _ direction: Direction) {
        if direction == .toServer {
            if marks.contains(.dropped) { faultsKept += 1 }
        } else if marks.contains(.injected) {
            faultsAnswered += 1
        } else if marks.contains(.delayed) {
            faultsDelayed += 1
        }
    }

    /// `quiet`: the event counted, and a connection's open or close line; no tracker.
    private func count(_ event: ProxyEvent) {
        switch event {
        case let .opened(conn, client, upstream, at):
            connectionsOpened += 1
            line(format.opened(conn: conn, at: at, info: ProxyEvent.connectionInfo(client: client, upstream: upstream)))
        case let .closed(conn, reason, at):
            closed(conn: conn, reason: reason, at: at)
        case .garbage:
            garbageRuns += 1
        case let .frame(_, direction, _, _, marks):
            framesSeen += 1
            if !marks.isEmpty { tally(marks, direction) }
        }
    }

    private func closed(conn: ConnectionID, reason: ProxyCloseReason, at: Int64) {
        line(format.closed(conn: conn, at: at, reason: reason.shownReason))
        closeReasons[Self.summaryKey(reason), default: 0] += 1
        if case .dialFailed(let why) = reason {
            StderrAside.shared.say("ninescope: \(conn): upstream dial failed: \(why)")   // on the trace's thread
        }
    }

    private func write(_ output: TrackerOutput) {
        if filter != nil {
            filter!.take(output, into: &pending)
        } else {
            format.appendLines(for: output, to: &pending)
        }
    }

    /// `--still-pending`: prints a `still-pending` anomaly line, once, for each request unanswered `after` ns
    /// or more (with a filter: only those that match as they stand). Call now and then (every second): a
    /// hung request otherwise shows only as a line with nothing after it. Skipped while the trace has events
    /// still to handle, so that a reply waiting in the queue is not taken for none; a no-op when `quiet`.
    func reportOverdue(after: Int64, now: Int64) {
        guard !quiet, queue?.isCaughtUp ?? true else { return }
        lock.withLock {
            let output = tracker.reportOverdue(at: now, after: after)
            for a in output.anomalies {
                if let filter, let id = a.exchange, !filter.outstandingMatches(id) { continue }
                line(format.line(for: a))
            }
            if !pending.isEmpty {
                out.write(bytes: pending)
                pending.removeAll(keepingCapacity: true)
            }
        }
    }

    /// `--filter`: writes the exchanges still outstanding that match (call after `finish`).
    func finishFilter() {
        lock.withLock {
            guard filter != nil else { return }
            filter!.finish(into: &pending)
            if !pending.isEmpty {
                out.write(bytes: pending)
                pending.removeAll(keepingCapacity: true)
            }
        }
    }

    /// `--stats`: the statistics, the exchanges still outstanding counted as pending (call after `finish`);
    /// nil without `stats`.
    func finishStatistics() -> TraceStatistics? {
        lock.withLock {
            statistics?.finish()
            return statistics
        }
    }

    private func line(_ text: String) {
        pending.append(contentsOf: text.utf8)
        pending.append(0x0A)
    }

    private static func summaryKey(_ reason: ProxyCloseReason) -> String {
        switch reason {
        case .eof: return "eof"
        case .closedByUpstream: return "closed by upstream"
        case .midFrame: return "mid-frame"
        case .reset: return "reset"
        case .error: return "error"
        case .dialFailed: return "dial failed"
        case .stopped: return "stopped"
        case .fault: return "fault"
        case .loop: return "upstream loop"
        }
    }

    /// `3 connections (1 eof, 2 stopped), 1234 messages (2 malformed, 1 garbage run), 2 anomalies (2 fid-leak)`.
    func summary() -> String {
        drain()
        return lock.withLock {
            var s = Self.count(connectionsOpened, "connection")
            if !closeReasons.isEmpty {
                s += " (" + closeReasons.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
                    .joined(separator: ", ") + ")"
            }
            let malformed = quiet ? 0 : tracker.malformedTotal
            let messages = quiet ? framesSeen : tracker.messageCount - garbageRuns
            s += ", " + Self.count(messages, "message")
            var extra: [String] = []
            if malformed > 0 { extra.append("\(malformed) malformed") }
            if garbageRuns > 0 { extra.append(Self.count(garbageRuns, "garbage run")) }
            if !extra.isEmpty { s += " (" + extra.joined(separator: ", ") + ")" }
            if quiet {
                s += ", not decoded (--quiet)"
            } else {
                s += ", " + Self.count(tracker.anomalyTotal, "anomaly", plural: "anomalies")
                if !tracker.anomalyCounts.isEmpty {
                    // By kind, the most first: what to look for (`decode --check` on the capture gates on them).
                    s += " (" + AnomalyKind.countsText(tracker.anomalyCounts) + ")"
                }
            }
            if let filter {
                s += "; \(filter.matched) of " + Self.count(filter.judged, "exchange") + " matched --filter"
            }
            if faultsKept + faultsAnswered + faultsDelayed > 0 {
                s += "; --fault: " + [
                    Self.count(faultsKept, "request") + " kept from the server",
                    Self.count(faultsAnswered, "reply", plural: "replies") + " given by the proxy",
                    Self.count(faultsDelayed, "reply", plural: "replies") + " held back",
                ].joined(separator: ", ")
            }
            if let catchUps = queue?.catchUpCount, catchUps > 0 {
                s += "; the trace fell behind and caught up at the proxy's priority " + Self.count(catchUps, "time")
            }
            return s
        }
    }

    static func count(_ n: Int, _ noun: String, plural: String? = nil) -> String {
        "\(n) " + (n == 1 ? noun : plural ?? noun + "s")
    }

    static func bytes(_ n: Int) -> String {
        if n < 10_000 { return "\(n) bytes" }
        if n < 10_000_000 { return "\(n / 1000) kB" }
        return "\(n / 1_000_000) MB"
    }
}
