import NinePWire
import NinePSession

/// The REPL: executes parsed lines against a 9P server through a `NinePTransport`.
///
/// Every frame sent or received is fed to a `SessionTracker` (the same one the proxy uses), which
/// decodes it with the negotiated dialect and keeps the fid table and pending tags for `fids` and
/// `pending`. Every message is printed as its canonical line (`-> …` sent, `<- …` received with the
/// latency); longer payloads follow on a `data` line up to `dataLimit` bytes.
///
/// Pure apart from what the `Environment` supplies: the transport, a clock, a sleep (for reply
/// timeouts), a local file reader (for `put`) and the output sink.
public actor ReplEngine {
    public struct Configuration: Sendable {
        /// The dialect assumed until Tversion/Rversion decide, and proposed by `version`.
        public var dialect: Dialect
        /// Proposed by `version`; replaced by the negotiated msize.
        public var msize: UInt32
        /// Payload bytes shown on `data` lines (0: none).
        public var dataLimit: Int
        /// How long to wait for a reply (ns); 0 waits forever.
        public var replyTimeout: Int64
        /// File content `cat` shows (bytes; 0: all). The whole file is still read.
        public var catLimit: Int = 65_536

        public init(dialect: Dialect = .l, msize: UInt32 = 131_096, dataLimit: Int = 256,
                    replyTimeout: Int64 = 30_000_000_000) {
            self.dialect = dialect; self.msize = msize; self.dataLimit = dataLimit; self.replyTimeout = replyTimeout
        }
    }

    public struct Environment: Sendable {
        public var connect: NinePConnector
        /// Nanoseconds, for timestamps and latencies.
        public var now: @Sendable () -> Int64
        /// Suspends for the given nanoseconds (reply timeouts, nothing else).
        public var sleep: @Sendable (Int64) async -> Void
        /// Reads a local file for `put`.
        public var readLocalFile: @Sendable (String) async throws -> [UInt8]
        public var output: @Sendable (ReplOutput) -> Void
        /// The width of the terminal the output goes to, or nil when it is not one (help then does not wrap).
        public var terminalColumns: @Sendable () -> Int? = { nil }

        public init(connect: @escaping NinePConnector, now: @escaping @Sendable () -> Int64,
                    sleep: @escaping @Sendable (Int64) async -> Void,
                    readLocalFile: @escaping @Sendable (String) async throws -> [UInt8],
                    output: @escaping @Sendable (ReplOutput) -> Void) {
            self.connect = connect; self.now = now; self.sleep = sleep; self.readLocalFile = readLocalFile; self.output = output
        }
    }

    /// What waiting for a tag produced.
    enum WaitResult: Sendable {
        case reply(Fcall)
        case malformed(String)
        case gone(String)
    }

    var config: Configuration
    let env: Environment
    var tracker: SessionTracker
    var conn = ConnectionID(0)
    var generation = 0
    var transport: (any NinePTransport)?
    var receiveTask: Task<Void, Never>?
    /// Tags someone will wait for; their replies go to `mailbox` or straight to the waiter.
    var awaiting: Set<Tag> = []
    var mailbox: [Tag: WaitResult] = [:]
    var waiters: [Tag: (id: Int, continuation: CheckedContinuation<WaitResult, Never>)] = [:]
    var nextWaiterID = 0
    /// Tags whose messages are not printed (completion's directory listings).
    var quietTags: Set<Tag> = []
    /// Requests sent with `&` and without `-` (tag → the script line that sent them, 0 at the prompt): an
    /// error reply to one is a failure the script learns of when it arrives (`takeBackgroundFailures`).
    var strictBackground: [Tag: Int] = [:]
    var backgroundFailures: [(line: Int, text: String)] = []
    /// The script line being run (0 at the prompt).
    var scriptLine = 0
    /// The script being run (its file name, `stdin`), nil at the prompt.
    var scriptName: String?
    /// Where a failure is said: `FILE:LINE: ` while a script runs, nothing at the prompt.
    var failurePlace: String { scriptName.map { "\($0):\(scriptLine): " } ?? "" }
    /// The last reply received (what `expect` checks).
    public internal(set) var lastReply: Fcall?
    /// The fid conveniences walk from: the fid of the last successful attach (or `set root`).
    public internal(set) var rootFid: Fid?
    var attachCandidates: [Tag: Fid] = [:]
    /// Scratch fids the conveniences hold (numbered from 1000 up, lowest free first).
    var scratchFids: Set<Fid> = []
    var remoteCache: [String: [String]] = [:]

    public init(configuration: Configuration = Configuration(), environment: Environment) {
        self.config = configuration
        self.env = environment
        self.tracker = SessionTracker(configuration: .init(defaultDialect: configuration.dialect))
    }

    /// Whether a connection is up.
    public var isConnected: Bool { transport != nil }
    /// The dialect requests are built in now (negotiated, or the configured one).
    public var dialect: Dialect { tracker.connection(conn)?.dialect ?? config.dialect }
    /// The msize in force (negotiated, or the configured one).
    public var msize: UInt32 { tracker.connection(conn)?.msize ?? config.msize }
    public var configuration: Configuration { config }
    /// The parser for the current dialect and msize; a Tversion proposes the settings' (`set msize`,
    /// `set dialect`), which take effect when it is answered.
    public var parser: RequestParser {
        RequestParser(dialect: dialect, msize: msize, proposedDialect: config.dialect, proposedMsize: config.msize)
    }

    func emit(_ kind: ReplOutput.Kind, _ text: String) { env.output(ReplOutput(kind, text)) }

    // MARK: - Connection

    /// Dials the server (the first time, or again after `reconnect`).
    public func connect() async throws {
        await disconnect(reason: nil, report: false)
        let t = try await env.connect()
        generation += 1
        if generation > 1 { conn = ConnectionID(conn.rawValue + 1) }
        transport = t
        _ = tracker.connectionOpened(conn: conn, at: env.now(), info: nil)
        rootFid = nil
        remoteCache = [:]
        let gen = generation
        let stream = t.incoming
        receiveTask = Task { [weak self] in
            for await event in stream {
                guard let self else { return }
                await self.handle(event, generation: gen)
            }
            await self?.handle(.closed(reason: "end of stream"), generation: gen)
        }
    }

    /// Closes the connection (quit).
    public func close() async {
        await disconnect(reason: nil, report: false)
    }

    func disconnect(reason: String?, report: Bool) async {
        guard let t = transport else { return }
        transport = nil
        receiveTask?.cancel()
        receiveTask = nil
        let closeReason: CloseReason = reason.map { .error($0) } ?? .eof
        let closed = tracker.connectionClosed(conn: conn, at: env.now(), reason: closeReason)
        // The loss is said once (below, when reported); each command waiting says what became of its request.
        failAllWaiters("no reply: " + (reason ?? "the connection was closed"))
        strictBackground = [:]
        if report {
            emit(.error, "connection lost" + (reason.map { ": " + $0 } ?? "") + " (reconnect to dial again)")
            // Requests sent with `&` that nobody waits for would otherwise go unmentioned.
            for a in closed.anomalies where a.kind == .unansweredAtClose { emit(.anomaly, "   anomaly: \(a.text)") }
        }
        await t.close()
    }

    func handle(_ event: TransportEvent, generation gen: Int) async {
        guard gen == generation, transport != nil else { return }
        switch event {
        case .frame(let bytes, let at):
            received(bytes, at: at ?? env.now())
        case .garbage(let bytes, let reason):
            _ = tracker.handle(.garbage(conn: conn, direction: .toClient, at: env.now(), bytes: bytes, reason: reason))
            emit(.anomaly, "<- garbage \(bytes.count) bytes: \(reason)")
        case .closed(let reason):
            await disconnect(reason: reason ?? "closed by the server", report: true)
        }
    }

    func received(_ bytes: [UInt8], at: Int64) {
        let out = tracker.handle(.frame(conn: conn, direction: .toClient, at: at, bytes: bytes, marks: []))
        let header = FrameHeader(bytes)
        let tag = header?.tag
        let quiet = tag.map { quietTags.contains($0) } ?? false
        guard let message = out.message else { return }
        if !quiet {
            var line = "<- " + message.canonicalLine
            if let ns = message.latency { line += " (" + Self.milliseconds(ns) + ")" }
            emit(message.isMalformed ? .anomaly : .received, line)
            if let f = message.decoded { payloadLines(f, directoryOf: message.readsDirectory ? message.dialect : nil) }
            for a in out.anomalies { emit(.anomaly, "   anomaly: \(a.text)") }
        }
        if let tag, let line = strictBackground.removeValue(forKey: tag), message.decoded?.message.type?.isError == true {
            backgroundFailures.append((line, message.canonicalLine))
        }
        let result: WaitResult
        if let f = message.decoded {
            result = .reply(f)
            if !quiet { lastReply = f }
            noteReply(f)
        } else {
            result = .malformed(message.canonicalLine)
        }
        if let tag { deliver(tag, result) }
        // Requests that ended without a reply of their own (flushed) release their waiters.
        let pending = tracker.pendingTags(on: conn)
        for t in awaiting where !pending.contains(t) && mailbox[t] == nil && t != tag {
            deliver(t, .gone("no reply: the request was flushed"))
        }
    }

    func noteReply(_ f: Fcall) {
        if case .rattach = f.message, let fid = attachCandidates.removeValue(forKey: f.tag) { rootFid = fid }
        if f.message.type?.isError == true { attachCandidates[f.tag] = nil }
    }

    /// `data`/entry lines for payloads longer than the canonical line shows.
    /// `directoryOf`: the dialect of an Rread that reads a directory (its data is stat entries, one line each).
    func payloadLines(_ f: Fcall, directoryOf dialect: Dialect? = nil) {
        let data: [UInt8]
        switch f.message {
        case .rread(let m):
            if let dialect, let entries = try? Stat.decodeAll(m.payload, dialect: dialect) {
                for (i, s) in entries.enumerated() {
                    emit(.info, "   \(i): \(ValueFormatter.qid(s.qid)) mode \(ValueFormatter.hexString(UInt64(s.mode.rawValue))) "
                         + s.mode.names.joined(separator: "|") + " "
                         + "length \(s.length) uid \(ValueFormatter.quoted(s.uid.bytes)) \(ValueFormatter.quoted(s.name.bytes))")
                }
                return
            }
            data = m.data
        case .twrite(let m): data = m.data
        case .rreaddir(let m):
            // Every entry, with the offset a next Treaddir gives to go on after it (a server's own cookie,
            // which the canonical line does not show).
            if let entries = try? Dirent.decodeAll(m.data) {
                for (i, e) in entries.enumerated() {
                    let type = Dirent.typeName(e.type).map { "\(e.type) \($0)" } ?? "\(e.type)"
                    emit(.info, "   \(i): \(ValueFormatter.qid(e.qid)) offset \(e.offset) type \(type) \(ValueFormatter.quoted(e.name.bytes))")
                }
            }
            return
        default: return
        }
        guard data.count > 64, config.dataLimit > 0 else { return }
        emit(.info, "   data " + ValueFormatter.payload(data, limit: config.dataLimit))
    }

    static func milliseconds(_ ns: Int64) -> String {
        let us = max(0, ns) / 1000
        let frac = String(us % 1000)
        return "\(us / 1000).\(String(repeating: "0", count: 3 - frac.count))\(frac) ms"
    }

    // MARK: - Waiting

    func deliver(_ tag: Tag, _ result: WaitResult) {
        guard awaiting.contains(tag) else { return }
        awaiting.remove(tag)
        quietTags.remove(tag)
        if let w = waiters.removeValue(forKey: tag) {
            w.continuation.resume(returning: result)
        } else {
            mailbox[tag] = result
        }
    }

    /// The error replies to `&` requests (not marked `-`) that arrived since the last call.
    func takeBackgroundFailures() -> [(line: Int, text: String)] {
        defer { backgroundFailures = [] }
        return backgroundFailures
    }

    func failAllWaiters(_ reason: String) {
        for tag in awaiting { deliver(tag, .gone(reason)) }
    }

    /// Waits for the reply to `tag` (which must be in `awaiting` or `mailbox`), with the timeout.
    func waitFor(_ tag: Tag) async -> WaitResult {
        if let r = mailbox.removeValue(forKey: tag) { return r }
        guard awaiting.contains(tag) else { return .gone("tag \(tag) is not pending") }
        nextWaiterID += 1
        let id = nextWaiterID
        let timeout = config.replyTimeout
        if timeout > 0 {
            let sleep = env.sleep
            Task { [weak self] in
                await sleep(timeout)
                await self?.expire(tag, id: id)
            }
        }
        let result = await withCheckedContinuation { (c: CheckedContinuation<WaitResult, Never>) in
            waiters[tag] = (id, c)
        }
        mailbox[tag] = nil
        return result
    }

    /// Stops waiting for every reply waited for now (ctrl-c): each command waiting fails with
    /// "interrupted"; the requests stay pending (`pending` lists them, `flush TAG` cancels one, a late
    /// reply is still shown). Returns the tags given up on, lowest first.
    @discardableResult
    public func interruptWaits() -> [Tag] {
        let tags = waiters.keys.sorted { $0.rawValue < $1.rawValue }
        for tag in tags { giveUp(tag, "interrupted: tag \(tag) is still pending (flush \(tag) cancels it)") }
        return tags
    }

    func expire(_ tag: Tag, id: Int) {
        guard waiters[tag]?.id == id else { return }
        giveUp(tag, "no reply within \(Self.milliseconds(config.replyTimeout)); tag \(tag) is still pending")
    }

    /// Stops waiting for `tag` (its request stays pending in the tracker): the waiter gets `why`.
    private func giveUp(_ tag: Tag, _ why: String) {
        guard let w = waiters.removeValue(forKey: tag) else { return }
        awaiting.remove(tag)
        quietTags.remove(tag)
        w.continuation.resume(returning: .gone(why))
    }
}
