import NinePWire

/// The 9P session tracker: a pure state machine fed with connection events and raw frames.
///
/// It decodes every frame with its connection's dialect (so `decode`, the proxy, the UI, the REPL and
/// replay all see the same decoding), pairs requests and replies by tag into `Exchange`s, follows flush
/// chains, keeps a fid table per connection, and reports `Anomaly`s. Time is always a parameter
/// (ns since the epoch); the tracker never reads a clock.
///
/// Dialect per connection: a forced dialect (configuration) wins; otherwise Tversion proposes and
/// Rversion decides (its version wins; "unknown" leaves the previous dialect, marked `.rejected`).
/// When the trace starts mid-session (the first frame is not Tversion) the dialect is guessed:
/// `defaultDialect` (9P2000.L) until a message code or body that only another dialect explains
/// arrives (.L-only codes → .L; Topen/Tcreate/Tstat/Twstat/Rerror → .u or 9P2000; a Tattach/Rerror
/// body that only decodes without the .u fields → 9P2000), re-decided whenever evidence contradicts it.
///
/// Memory: the log stores each frame's bytes once (small frames packed together, `FrameStore`) plus ~40
/// bytes of metadata; decodings are redone on demand by `message(at:)`; paths are interned. With
/// `retainFrames == false` (streaming: `decode`, the headless proxy, replay) nothing per message is kept:
/// `message(at:)` returns nil, exchanges are dropped once settled and fid records once ended, anomalies are
/// counted, not listed; what is held follows what is outstanding (pending requests, live fids, flushes,
/// connections, interned paths), so a trace can run for days.
public struct SessionTracker: Sendable {
    public struct Configuration: Hashable, Sendable {
        /// Decode every connection with this dialect, whatever Tversion/Rversion say.
        public var forcedDialect: Dialect?
        /// The guess for connections whose Tversion was not seen, until evidence arrives.
        public var defaultDialect: Dialect
        /// Keep every message's bytes for `message(at:)`, every exchange, fid record and anomaly (false:
        /// stream — keep only what later messages may need).
        public var retainFrames: Bool
        /// Tags/fids reserved for injection (`TagAllocator.range`, `FidAllocator.range`): a client
        /// request using one is reported as `clientUsedReservedTag`/`clientUsedReservedFid`.
        public var reservedTags: ClosedRange<UInt16>?
        public var reservedFids: ClosedRange<UInt32>?
        /// Fill `TrackerOutput.exchanges` and `.fids` with snapshots of what each event changed (false:
        /// outputs carry the message and its anomalies only — for line traces, which never read them and
        /// would pay for a snapshot per message).
        public var reportsChanges: Bool

        public init(forcedDialect: Dialect? = nil, defaultDialect: Dialect = .l, retainFrames: Bool = true,
                    reservedTags: ClosedRange<UInt16>? = nil, reservedFids: ClosedRange<UInt32>? = nil,
                    reportsChanges: Bool = true) {
            self.forcedDialect = forcedDialect; self.defaultDialect = defaultDialect
            self.retainFrames = retainFrames; self.reservedTags = reservedTags; self.reservedFids = reservedFids
            self.reportsChanges = reportsChanges
        }

        /// For a streaming line trace (`decode`, the headless proxy, replay): no per-message log, and change
        /// snapshots only with `reportsChanges` (what a filter or statistics over exchanges need).
        public static func lineTrace(forcedDialect: Dialect? = nil, reportsChanges: Bool = false) -> Configuration {
            Configuration(forcedDialect: forcedDialect, retainFrames: false, reportsChanges: reportsChanges)
        }
    }

    public let configuration: Configuration
    /// Every anomaly so far, in detection order. A streaming tracker (frames not retained) keeps none:
    /// each is in the output of the event that raised it, and `anomalyTotal` counts them.
    public internal(set) var anomalies: [Anomaly] = []
    /// Anomalies raised so far.
    public private(set) var anomalyTotal = 0
    /// Anomalies raised so far, by kind.
    public private(set) var anomalyCounts: [AnomalyKind: Int] = [:]
    /// Frames that failed to decode so far, on every connection (closed ones included).
    public internal(set) var malformedTotal = 0

    var log = ChunkedArray<StoredMessage>()
    /// Messages below `log.firstHeld` kept by `forgetHistory` (those of exchanges still pending), by index.
    var keptMessages: [Int: StoredMessage] = [:]
    var frames = FrameStore()
    var messageTotal = 0
    var garbageReasons: [Int: String] = [:]
    var exchangeRecords: ExchangeTable
    var extras: [Int: ExchangeExtras] = [:]
    /// Connection states by slot, each in a box of its own (`ConnSlot`) that the per-frame path mutates in
    /// place; copied on write when a copy of the tracker shares it.
    var conns: [ConnSlot] = []
    /// Closed connections `forgetHistory` dropped (their counts stay in the totals).
    public internal(set) var forgottenConnections = 0
    var connIndex = IntKeyMap<ConnectionID, Int>()
    /// The connection `uniqueConn` found last and its slot in `conns` (traffic comes in runs per connection).
    var lastConn: (id: ConnectionID, slot: Int) = (ConnectionID(rawValue: 0), -1)
    var paths = PathStore()
    /// Anomaly positions by message index, for `anomalies(forMessage:)`.
    var anomaliesByMessage: [Int: [Int]] = [:]

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.exchangeRecords = ExchangeTable(keepsAll: configuration.retainFrames)
    }

    /// Feeds one event; returns what it produced.
    public mutating func handle(_ event: SessionEvent) -> TrackerOutput {
        switch event {
        case let .connectionOpened(conn, at, info):
            return connectionOpened(conn: conn, at: at, info: info)
        case let .frame(conn, direction, at, bytes, marks):
            return frame(conn: conn, direction: direction, at: at, bytes: bytes, marks: marks)
        case let .garbage(conn, direction, at, bytes, reason):
            return garbage(conn: conn, direction: direction, at: at, bytes: bytes, reason: reason)
        case let .connectionClosed(conn, at, reason):
            return connectionClosed(conn: conn, at: at, reason: reason)
        }
    }

    /// A connection began. Re-opening a known id starts a fresh connection state under the same id (its
    /// earlier exchanges stay in the log; requests still pending there become `unansweredAtClose`).
    public mutating func connectionOpened(conn: ConnectionID, at: Int64, info: ConnectionInfo?) -> TrackerOutput {
        var out = TrackerOutput()
        var state = newConn(conn, at: at, info: info)
        if let known = info?.fids, !known.isEmpty {
            // Fids in use before the trace began, with their paths (a continued capture file).
            state.info?.fids = []
            for k in known where k.state.isLive {
                // The recorded path is already resolved: its names are taken as they are (a `..` in it is one
                // a server walked out of the root with, walk-left-root).
                var node = paths.root(k.path.root)
                for name in k.path.elements { node = paths.child(node, name, literal: true) }
                if k.path.isDeleted { node = paths.deleted(node) }
                // A fid at an attach root holds the root's qid, which a `..` walked there must return.
                if k.path.elements.isEmpty, case .attach = k.path.root, let qid = k.qid { state.rootQids[node] = qid }
                _ = storeFid(&state, FidRecord(
                    fid: k.fid, generation: 0, pathNode: node, qid: k.qid, state: k.state, openMode: k.openMode,
                    iounit: k.iounit, xattr: k.xattr, uname: k.uname, nUname: k.nUname, createdBy: nil, endedBy: nil,
                    lastUsedIndex: nil,
                    createdIndex: nil, useCount: 0))
            }
        }
        if let i = connIndex[conn] {
            for id in conns[i].state.pendingIDs.sorted() {
                exchangeRecords[id].status = .unansweredAtClose
                exchangeRecords[id].end = at
                note(&out, exchange: id)
                retireIfSettled(id)
            }
            releaseFlushRecords(conns[i].state.flushRecords)
            conns[i] = ConnSlot(state)
        } else {
            connIndex[conn] = conns.count
            conns.append(ConnSlot(state))
        }
        return out
    }

    /// The connection ended: pending requests become `unansweredAtClose`; live fids are reported as
    /// leaks (one `fidLeakedAtClose` each, with its path) and become `.leaked` — except for
    /// `.endOfCapture`, where both stay as they were (pending, live).
    /// A streaming tracker (frames not retained) then forgets the connection, its fid records included:
    /// nothing more comes for it, and a proxy that clients connect to again and again must not grow by a
    /// connection each time.
    public mutating func connectionClosed(conn: ConnectionID, at: Int64, reason: CloseReason) -> TrackerOutput {
        let slot = uniqueConn(conn, at: at)
        let out = connectionClosed(&slot.state, at: at, reason: reason)
        if !configuration.retainFrames {
            releaseFlushRecords(slot.state.flushRecords)
            forgetConnection(conn)
        }
        return out
    }

    private mutating func connectionClosed(_ c: inout ConnState, at: Int64, reason: CloseReason) -> TrackerOutput {
        let conn = c.id
        var out = TrackerOutput()
        c.closedAt = at
        c.closeReason = reason
        // The end of a capture is not the end of the connection: what was pending then stays pending (a view
        // shows its age when the capture ended), and fids in use stay in use.
        guard reason != .endOfCapture else { return out }
        for id in c.pendingIDs.sorted() {
            // Said as it happens, as a leaked fid is: a trace otherwise shows only a request with no reply.
            let r = exchangeRecords[id]
            let (request, named) = Self.naming(r)
            let waited = r.start == ExchangeRecord.noTime ? "" : ", \(Self.seconds(at &- r.start)) after it was sent"
            report(&c, &out, .unansweredAtClose, messageIndex: request, exchange: id, tag: r.tag, fid: nil, at: at,
                   "\(named) got no reply before the connection ended (\(reason))\(waited)")
            exchangeRecords[id].status = .unansweredAtClose
            exchangeRecords[id].end = at
            note(&out, exchange: id)
            retireIfSettled(id)
        }
        c.pendingIDs.removeAll()
        c.pendingByTag.removeAll()
        c.pendingInfo.removeAll()
        for (fid, r) in c.liveFids.sortedEntries {
            let rec = c.fidRecords[r]
            let created = rec.createdIndex ?? rec.lastUsedIndex
            let path = paths.path(rec.pathNode)?.description ?? "?"
            // A fid an injected request made is the inspector's user's, not the client's: said so.
            let whose = rec.injected ? "; made by an injected request, not the client" : ""
            let text = "fid \(fid) (\(rec.state), \(path)\(whose)) still in use when the connection ended (\(reason))"
            report(&c, &out, .fidLeakedAtClose, messageIndex: created, exchange: rec.createdBy, tag: nil, fid: fid,
                   at: at, text)
            c.fidRecords[r].state = .leaked
            note(&out, fid: c.fidRecords[r], conn: conn)
        }
        c.liveFids.removeAll()
        return out
    }

    /// Raises a `stillPending` anomaly, once, for every request still unanswered `after` ns or more before
    /// `now` (ns since the epoch, the frames' clock): what a live trace calls now and then (a hung request
    /// otherwise shows only as a line with no reply after it). Changes nothing else.
    public mutating func reportOverdue(at now: Int64, after: Int64) -> TrackerOutput {
        var out = TrackerOutput()
        for i in conns.indices where !conns[i].state.pendingIDs.isEmpty {
            let due = conns[i].state.pendingIDs.elements.filter { id in
                let r = exchangeRecords[id]
                return !r.reportedOverdue && r.start != ExchangeRecord.noTime && now &- r.start >= after
            }
            guard !due.isEmpty else { continue }
            let slot = uniqueConn(conns[i].state.id, at: now)
            for id in due.sorted() {
                exchangeRecords[id].reportedOverdue = true
                let r = exchangeRecords[id]
                let (request, named) = Self.naming(r)
                report(&slot.state, &out, .stillPending, messageIndex: request, exchange: id, tag: r.tag, fid: nil,
                       at: now, "\(named) unanswered after " + Self.seconds(now &- r.start))
            }
        }
        return out
    }

    /// A pending request as anomaly texts name it, `Tread tag 3 (#12)`, with its message index (nil when
    /// the request was not seen).
    static func naming(_ r: ExchangeRecord) -> (request: MessageIndex?, text: String) {
        let request = r.requestIndex == ExchangeRecord.noIndex ? nil : r.requestIndex
        let name = MessageType(rawValue: r.requestCode).map { "\($0)" } ?? "type \(r.requestCode)"
        return (request, "\(name) tag \(r.tag)" + (request.map { " (#\($0))" } ?? ""))
    }

    /// A duration in seconds to a tenth (`10.0s`, `125.3s`), for anomaly texts.
    /// `1.5s` (rounded to the tenth), or below a tenth of a second `37ms`.
    static func seconds(_ nanos: Int64) -> String {
        let n = max(0, nanos)
        if n < 99_500_000 { return "\((n + 500_000) / 1_000_000)ms" }
        let tenths = (n + 50_000_000) / 100_000_000
        return "\(tenths / 10).\(tenths % 10)s"
    }

    // MARK: - Connection plumbing

    func newConn(_ id: ConnectionID, at: Int64, info: ConnectionInfo?) -> ConnState {
        if let d = configuration.forcedDialect {
            return ConnState(id: id, info: info, openedAt: at, dialect: d, source: .forced)
        }
        if let version = info?.version, let d = Dialect(version: version) {
            // Negotiated before the trace began (a continued capture file): as if its Rversion was seen.
            var state = ConnState(id: id, info: info, openedAt: at, dialect: d, source: .negotiated)
            state.negotiatedVersion = version
            state.msize = info?.msize
            return state
        }
        return ConnState(id: id, info: info, openedAt: at, dialect: configuration.defaultDialect, source: .assumed)
    }

    /// The box holding a connection's state, unshared (copied first if a copy of the tracker shares it), so
    /// the caller mutates the state in place through it: `frame(&slot.state, …)` neither copies nor moves
    /// the state (a few hundred bytes) per message. Opens the connection implicitly when unknown.
    mutating func uniqueConn(_ id: ConnectionID, at: Int64) -> ConnSlot {
        let i: Int
        if lastConn.slot >= 0 && lastConn.id == id { i = lastConn.slot } else if let known = connIndex[id] { i = known } else {
            i = conns.count
            connIndex[id] = i
            conns.append(ConnSlot(newConn(id, at: at, info: nil)))
        }
        lastConn = (id, i)
        if !isKnownUniquelyReferenced(&conns[i]) { conns[i] = ConnSlot(conns[i].state) }
        return conns[i]
    }

    /// Adds a snapshot of exchange `id` to the output (when the configuration reports changes).
    func note(_ out: inout TrackerOutput, exchange id: Int) {
        if configuration.reportsChanges { out.exchanges.append(exchange(id)) }
    }

    /// Streaming (frames not retained): drops exchange `id`'s record and extras once it is settled, that is
    /// no longer pending and not part of a flush (whose outcome a later frame can still change: flushes are
    /// rare, and their records are kept until their connection closes). Called once everything the current
    /// event does with `id` is done.
    mutating func retireIfSettled(_ id: Int) {
        guard !exchangeRecords.keepsAll, exchangeRecords.contains(id) else { return }
        let r = exchangeRecords[id]
        guard r.status != .pending else { return }
        if r.hasExtras {
            if let x = extras[id], x.flushTarget != nil || !x.flushedBy.isEmpty { return }
            extras[id] = nil
        }
        exchangeRecords.retire(id)
    }

    /// Streaming: drops the records a connection's flush races kept, once it has closed.
    mutating func releaseFlushRecords(_ ids: [Int]) {
        for id in ids {
            extras[id] = nil
            exchangeRecords.retire(id)
        }
    }

    /// Streaming: removes a closed connection's state (the last slot moves into its place).
    mutating func forgetConnection(_ id: ConnectionID) {
        guard let i = connIndex.removeValue(forKey: id) else { return }
        let last = conns.count - 1
        if i != last {
            conns[i] = conns[last]
            connIndex[conns[i].state.id] = i
        }
        conns.removeLast()
        lastConn = (ConnectionID(rawValue: 0), -1)
    }

    /// Adds a snapshot of a fid record to the output (when the configuration reports changes).
    func note(_ out: inout TrackerOutput, fid record: FidRecord, conn: ConnectionID) {
        if configuration.reportsChanges { out.fids.append(fidEntry(record, conn: conn)) }
    }

    /// Records an anomaly in the tracker, the connection's count and the output.
    mutating func report(_ c: inout ConnState, _ out: inout TrackerOutput, _ kind: AnomalyKind,
                         messageIndex: MessageIndex?, exchange: Int?, tag: Tag?, fid: Fid?, at: Int64, _ text: String) {
        report(&c, &out, kind, messageIndex: messageIndex, exchange: exchange.map { ExchangeID($0) }, tag: tag,
               fid: fid, at: at, text)
    }

    mutating func report(_ c: inout ConnState, _ out: inout TrackerOutput, _ kind: AnomalyKind,
                         messageIndex: MessageIndex?, exchange: ExchangeID?, tag: Tag?, fid: Fid?, at: Int64,
                         _ text: String) {
        let a = Anomaly(kind: kind, conn: c.id, messageIndex: messageIndex, exchange: exchange, tag: tag, fid: fid,
                        at: at, text: text)
        if configuration.retainFrames {
            if let m = messageIndex { anomaliesByMessage[m, default: []].append(anomalies.count) }
            anomalies.append(a)
        }
        anomalyTotal += 1
        anomalyCounts[a.kind, default: 0] += 1
        out.anomalies.append(a)
        c.anomalyCount += 1
    }
}
