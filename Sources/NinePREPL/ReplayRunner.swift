import NinePWire

/// Runs a `ReplayPlan` through transports (one new connection per captured connection, so fid numbers
/// are kept; tags are always re-chosen — lowest free — and Tflush oldtags and Treaddir offsets are
/// remapped to the replay's own tags and directory cookies). Optionally compares every reply with
/// the captured one (`ReplyComparator`).
public actor ReplayRunner {
    public enum Timing: String, Hashable, Sendable, CaseIterable {
        /// Send each request as soon as what it depends on is done.
        case asap
        /// Also wait until the request's captured offset from the start has passed.
        case original
    }

    public struct Options: Sendable {
        public var timing: Timing
        /// Compare replies with the captured ones.
        public var diff: Bool
        public var ignore: Set<IgnoreRule>
        /// Give up when no reply arrives for this long (ns); 0 waits forever.
        public var idleTimeout: Int64
        /// Dialect used until a replayed Tversion decides (captures that start mid-session).
        public var dialect: Dialect
        /// When a connection's first request is not Tversion, send `Tversion msize dialect` first.
        public var synthesizeVersion: Bool
        public var msize: UInt32
        /// Names sent in every Tattach and Tauth instead of the captured ones.
        public var attach: AttachNames
        /// Per captured connection that began before the capture, the version and msize it had negotiated, when
        /// the capture says so (a file of a capture cut with `--capture-size`): the Tversion the replay sends
        /// first on it asks for them rather than for `dialect` and `msize`.
        public var negotiatedBefore: [UInt32: NegotiatedVersion] = [:]

        public init(timing: Timing = .asap, diff: Bool = false, ignore: Set<IgnoreRule> = IgnoreRule.defaults,
                    idleTimeout: Int64 = 10_000_000_000, dialect: Dialect = .l, synthesizeVersion: Bool = true,
                    msize: UInt32 = 131_096, attach: AttachNames = AttachNames()) {
            self.timing = timing; self.diff = diff; self.ignore = ignore; self.idleTimeout = idleTimeout
            self.dialect = dialect; self.synthesizeVersion = synthesizeVersion; self.msize = msize
            self.attach = attach
        }
    }

    /// A version and msize a connection negotiated.
    public struct NegotiatedVersion: Hashable, Sendable {
        public var dialect: Dialect
        public var msize: UInt32
        public init(dialect: Dialect, msize: UInt32) { self.dialect = dialect; self.msize = msize }
    }

    public struct Environment: Sendable {
        /// Opens the connection that replays captured connection N.
        public var connect: @Sendable (UInt32) async throws -> any NinePTransport
        public var now: @Sendable () -> Int64
        public var sleep: @Sendable (Int64) async -> Void
        public var progress: @Sendable (ReplayProgress) -> Void
        /// Each message sent and received, as a canonical line (`-> …`, `<- …`), for verbose output; nil:
        /// none (the lines are then not made: replaying a 287k-message capture, making them cost ~7% of its
        /// CPU).
        public var trace: (@Sendable (String) -> Void)?

        public init(connect: @escaping @Sendable (UInt32) async throws -> any NinePTransport,
                    now: @escaping @Sendable () -> Int64, sleep: @escaping @Sendable (Int64) async -> Void,
                    progress: @escaping @Sendable (ReplayProgress) -> Void = { _ in },
                    trace: (@Sendable (String) -> Void)? = nil) {
            self.connect = connect; self.now = now; self.sleep = sleep; self.progress = progress; self.trace = trace
        }
    }

    struct Conn {
        var transport: (any NinePTransport)?
        var dialect: Dialect
        var inflight: [Tag: Int] = [:]
        var comparator: ReplyComparator
        /// Directory offset remapping: fid → captured offset → replayed offset (Treaddir cookies; in 9P2000 and
        /// 9P2000.u the byte offsets of a directory's stat entries, whose sizes differ between servers).
        var offsets: [Fid: [UInt64: UInt64]] = [:]
        /// Fids open on a directory (9P2000, 9P2000.u: their Treads return stat entries).
        var directories: Set<Fid> = []
        /// A Tversion (captured or synthesized) awaits its reply: nothing else is sent on the connection
        /// until it comes (version(5): the client cannot issue further requests until it has received the
        /// Rversion), even when the capture lost that reply and so shows no reason to wait.
        var versionPending = false
        /// Fids this server holds otherwise than the capture's did, and since which step.
        var divergence = FidDivergence()
        /// Fids open (Tlopen, Tlcreate, Topen, Tcreate answered), and those of them that were open when a file
        /// was removed: one may hold that file, whose qid path its clunk frees (an unlinked file lives on while
        /// it is open, and a local file system gives its inode number to the next file it makes).
        var open: Set<Fid> = []
        var openAtRemoval: Set<Fid> = []

        /// A tag no request has in flight on this connection, nor `besides` (the one about to be sent): `preferring`
        /// when it is such a tag, else the highest (the replay chooses its own from the lowest up).
        func idleTag(preferring preferred: Tag, besides: Tag) -> Tag {
            if preferred != besides && preferred != .notag && inflight[preferred] == nil { return preferred }
            var n = UInt16.max - 1
            while inflight[Tag(n)] != nil || Tag(n) == besides { n -= 1 }
            return Tag(n)
        }

        /// A 9P2000/.u Topen or Tcreate answered with `qid`: whether its fid now reads a directory.
        mutating func noteOpened(_ fid: Fid, _ qid: Qid) {
            if qid.type.contains(.dir) { directories.insert(fid) } else { directories.remove(fid) }
        }
    }

    let plan: ReplayPlan
    let options: Options
    let env: Environment
    var conns: [UInt32: Conn] = [:]
    /// Which steps are sent, done, and ready to go.
    var schedule: ReplaySchedule
    var tags: [Tag?]
    var report: ReplayReport
    var start: Int64 = 0
    var activity = 0
    var wakeScheduled = false
    var finished = false
    var completion: CheckedContinuation<Void, Never>?

    public init(plan: ReplayPlan, options: Options = Options(), environment: Environment) {
        self.plan = plan
        self.options = options
        self.env = environment
        let n = plan.steps.count
        tags = Array(repeating: nil, count: n)
        schedule = ReplaySchedule(plan)
        report = ReplayReport(total: n, sent: 0, answered: 0, compared: 0, differences: [], problems: [])
    }

    /// Replays the plan and reports.
    public func run() async -> ReplayReport {
        start = env.now()
        for c in plan.connections {
            var conn = Conn(transport: nil, dialect: options.negotiatedBefore[c]?.dialect ?? options.dialect,
                            comparator: ReplyComparator(ignore: options.ignore),
                            divergence: FidDivergence(madeBeforeCapture: plan.fidsMadeBeforeCapture[c] ?? [:]))
            do {
                let t = try await env.connect(c)
                conn.transport = t
                let stream = t.incoming
                Task { [weak self] in
                    for await event in stream { await self?.handle(event, on: c) }
                    await self?.handle(.closed(reason: "end of stream"), on: c)
                }
            } catch {
                report.problems.append("connection \(c): cannot connect: \(error)")
            }
            conns[c] = conn
            if conn.transport == nil { abandon(connection: c, why: nil) }
        }
        for c in plan.connections where conns[c]?.transport != nil {
            let first = plan.steps.first { $0.connection == c }
            if options.synthesizeVersion, first?.request.message.type != .tversion {
                sendSynthesizedVersion(on: c)
            }
        }
        if options.idleTimeout > 0 { startWatchdog() }
        await pump()
        if !allDone {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in completion = c }
        }
        finished = true
        for c in plan.connections { await conns[c]?.transport?.close() }
        return report
    }

    var allDone: Bool { schedule.remaining == 0 && !conns.values.contains { $0.versionPending } }

    func finishIfDone() {
        guard allDone, let c = completion else { return }
        completion = nil
        c.resume()
    }

    func progress() {
        env.progress(ReplayProgress(total: report.total, sent: report.sent, answered: report.answered,
                                    differences: report.differences.count))
    }
}
