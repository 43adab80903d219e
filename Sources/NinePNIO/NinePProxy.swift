import NIOCore
import NIOPosix
import NinePServer
import NinePSession
import NinePWire

/// The man-in-the-middle 9P proxy: accepts clients on `listen`, dials `upstream` for each, relays bytes
/// unchanged both ways (with backpressure and half-close), and reports every frame through its tap.
///
/// Each accepted connection gets its own upstream connection on the same event loop. If the dial fails,
/// the client is closed and the connection reported `.closed(…, .dialFailed)`. Connection ids are small
/// integers in accept order, from 0.
public final class NinePProxy: Sendable {
    public struct Options: Sendable {
        /// Report every frame and garbage run (false: only open/close and ninescope's own frames).
        public var reportFrames: Bool
        /// Frames larger than this are treated as garbage by the tap (the bytes still pass through).
        public var maxFrameSize: UInt32
        public var channelSettings: NinePSockets.ChannelSettings
        public var connectTimeout: TimeAmount
        /// Event loops to run on (default: the shared group).
        public var group: any EventLoopGroup
        /// How long frame events may wait to be delivered together (zero: deliver after every read).
        /// Timestamps are unaffected; only the consumer's wake-ups are fewer.
        public var eventCoalescing: TimeAmount
        /// Told why an accept failed (no descriptor free, say), once until one succeeds again; accepting
        /// pauses for `NinePSockets.acceptBackoff` after each failure. Called on an event loop.
        public var acceptFailed: (@Sendable (String) -> Void)?
        /// Faults the relay applies between each client and the server (`proxy --fault`; see
        /// RelayPair+Faults.swift): none by default, and then the relay changes nothing.
        public var faults: FaultSpec
        /// Seed of the `@N%` rolls; connection `c` rolls with `faultSeed + c`, so a run can be repeated.
        public var faultSeed: UInt64
        /// How a loop through another process is told (`LoopChain`); nil: not looked for.
        public var loopCheck: LoopChain?
        /// Told, in a sentence, of each loop found (the chain's connections are closed; see `LoopChain`).
        /// Called on an event loop.
        public var loopFound: (@Sendable (String) -> Void)?

        public init(reportFrames: Bool = true, maxFrameSize: UInt32 = NineP.defaultMaxFrameSize,
                    channelSettings: NinePSockets.ChannelSettings = .init(allowRemoteHalfClosure: true),
                    connectTimeout: TimeAmount = .seconds(10), group: any EventLoopGroup = NinePSockets.group,
                    eventCoalescing: TimeAmount = .milliseconds(5), acceptFailed: (@Sendable (String) -> Void)? = nil,
                    faults: FaultSpec = FaultSpec(), faultSeed: UInt64 = 0x9F, loopCheck: LoopChain? = LoopChain(),
                    loopFound: (@Sendable (String) -> Void)? = nil) {
            self.reportFrames = reportFrames
            self.maxFrameSize = maxFrameSize
            self.channelSettings = channelSettings
            self.connectTimeout = connectTimeout
            self.group = group
            self.eventCoalescing = eventCoalescing
            self.acceptFailed = acceptFailed
            self.faults = faults
            self.faultSeed = faultSeed
            self.loopCheck = loopCheck
            self.loopFound = loopFound
        }
    }

    public let listenAddress: Address
    public let upstreamAddress: Address
    public let options: Options
    /// The events, in batches, when no sink was given to `init` (otherwise it stays empty and finishes).
    public let events: AsyncStream<[ProxyEvent]>

    private let sink: ProxyEventSink
    private let ownStream: AsyncStream<[ProxyEvent]>.Continuation?
    private struct State {
        var listener: NinePSockets.Listener?
        var nextID: UInt32 = 0
        var pairs: [NinePWire.ConnectionID: NIOLoopBound<RelayPair>] = [:]
        var finished: [NinePWire.ConnectionID: EventLoopFuture<Void>] = [:]
        var stopped = false
    }
    private let state = Locked(State())
    let census = RelayCensus()
    private let faultBoard: FaultBoard
    private let loopWatch: LoopWatch?
    /// Relay pairs alive: one per open connection, and none a while after every connection closed.
    var relaysAlive: Int { census.count.load(ordering: .relaxed) }

    /// A proxy that reports to `sink` (called on event loop threads; see `ProxyEventSink`), or, when `sink`
    /// is nil, to `events`.
    public init(listen: Address, upstream: Address, options: Options = Options(), sink: ProxyEventSink? = nil) {
        self.listenAddress = listen
        self.upstreamAddress = upstream
        self.options = options
        self.faultBoard = FaultBoard(options.faults)
        self.loopWatch = options.loopCheck.map { check in
            var check = check
            if check.nonce == 0 { check.nonce = UInt64.random(in: 1...UInt64.max) }
            return LoopWatch(check)
        }
        if let sink {
            self.sink = sink
            let (stream, continuation) = AsyncStream<[ProxyEvent]>.makeStream()
            continuation.finish()
            self.events = stream
            self.ownStream = nil
        } else {
            let (stream, continuation) = AsyncStream<[ProxyEvent]>.makeStream()
            self.events = stream
            self.ownStream = continuation
            self.sink = { batch in continuation.yield(batch) }
        }
    }

    /// An `AsyncStream` and a sink feeding it, for callers that want the stream elsewhere.
    public static func makeEventStream(
        bufferingPolicy: AsyncStream<[ProxyEvent]>.Continuation.BufferingPolicy = .unbounded
    ) -> (stream: AsyncStream<[ProxyEvent]>, sink: ProxyEventSink) {
        let (stream, continuation) = AsyncStream<[ProxyEvent]>.makeStream(bufferingPolicy: bufferingPolicy)
        return (stream, { batch in continuation.yield(batch) })
    }

    /// Binds the listening socket and starts accepting. Returns the bound address (the real port when
    /// port 0 was asked for).
    @discardableResult
    public func start() async throws -> Address {
        var settings = options.channelSettings
        settings.allowRemoteHalfClosure = true   // the relay needs it to pass half-closes on
        let listener = try await NinePSockets.listen(listenAddress, group: options.group, settings: settings,
                                                     acceptFailed: options.acceptFailed) { [self] channel in
            self.accept(channel)
        }
        state.withLock { $0.listener = listener }
        return listener.localAddress
    }

    /// The bound address once started.
    public var localAddress: Address? { state.withLock { $0.listener?.localAddress } }

    /// Connections currently open (or still dialing).
    public var connections: [NinePWire.ConnectionID] { state.withLock { $0.pairs.keys.sorted() } }

    /// Stops accepting, closes every connection (reported `.closed(…, .stopped)`), waits until each has
    /// reported its close, and finishes `events`.
    public func stop() async {
        let (listener, pairs, futures) = state.withLock { s in
            s.stopped = true
            let l = s.listener
            s.listener = nil
            return (l, Array(s.pairs.values), Array(s.finished.values))
        }
        await listener?.close()
        for bound in pairs {
            bound.eventLoop.execute { bound.value.stop(grace: Self.stopGrace) }
        }
        for f in futures { try? await f.get() }
        ownStream?.finish()
    }

    /// How long `stop()` lets a connection take to report its close before ending it regardless
    /// (`RelayPair.forceFinish`): a closing connection takes a loop turn or two, a dial under way is ended at
    /// once, so only a connection whose close was never reported waits this long.
    static let stopGrace = TimeAmount.seconds(3)
    /// How long a connection whose server hung up first stays half-open for the client before the proxy
    /// closes it (socat's `-t` default).
    static let hangUpLinger = TimeAmount.milliseconds(500)
    /// Connections `stop()` had to end after `stopGrace` (none, unless a close went unreported).
    var stopsForced: Int { census.forced.load(ordering: .relaxed) }

    /// Each open connection's lifecycle in a few words (`RelayPair.lifecycle`), for tests' messages.
    func lifecycles() async -> [String] {
        let pairs = state.withLock { Array($0.pairs.values) }
        var lines: [String] = []
        for bound in pairs {
            if let line = try? await bound.eventLoop.submit({ bound.value.lifecycle }).get() { lines.append(line) }
        }
        return lines.sorted()
    }

    /// A request of the proxy's own (injected, or a Tflush) as it was sent: its tag, and whether it waits for
    /// the rest of a frame the client is part way through (it goes upstream right after that frame).
    public struct SentRequest: Hashable, Sendable {
        public var tag: UInt16
        public var waitsForClientFrame: Bool
        public init(tag: UInt16, waitsForClientFrame: Bool) { self.tag = tag; self.waitsForClientFrame = waitsForClientFrame }
    }

    /// Writes `frame` (a complete T-message whose tag and fids the caller chose, e.g. with the tracker's
    /// allocators) upstream on connection `conn`, between two client frames. Its reply is intercepted: it is
    /// reported marked `.intercepted` and never reaches the client.
    @discardableResult
    public func inject(conn: NinePWire.ConnectionID, frame: [UInt8]) async throws -> SentRequest {
        let bound = try pair(conn)
        let sent = try await bound.eventLoop.submit { () throws -> Bool in try bound.value.inject(frame) }.get()
        return SentRequest(tag: FrameHeader(frame)?.tag.rawValue ?? 0, waitsForClientFrame: !sent)
    }

    /// Flushes the client's pending request `tag` on `conn` with a Tflush sent upstream under a tag the proxy
    /// picks (returned). The client gets exactly one reply for `tag`: the server's if it comes first, else
    /// an error reply made by the proxy (Rlerror EINTR for 9P2000.L, Rerror "Interrupted system call" otherwise).
    @discardableResult
    public func flush(conn: NinePWire.ConnectionID, tag: UInt16) async throws -> SentRequest {
        let bound = try pair(conn)
        let (mine, sent) = try await bound.eventLoop.submit { () throws -> (UInt16, Bool) in
            try bound.value.flush(clientTag: tag)
        }.get()
        return SentRequest(tag: mine, waitsForClientFrame: !sent)
    }

    /// The fault rules the relay applies now (`Options.faults` until `setFaults` changes them).
    public var faults: FaultSpec { faultBoard.current.0 }

    /// Changes the fault rules for every connection, open or to come, from its next request on (what the
    /// old rules started, a reply held back, finishes as it began). An empty spec turns faults off.
    public func setFaults(_ spec: FaultSpec) {
        faultBoard.set(spec)
    }

    /// Counters for `conn`, nil when it is not open.
    public func stats(conn: NinePWire.ConnectionID) async -> RelayStats? {
        guard let bound = try? pair(conn) else { return nil }
        return try? await bound.eventLoop.submit { bound.value.stats }.get()
    }

    /// Tags outstanding on `conn` (the client's pending requests and ninescope's own), nil when not open.
    public func tagsInUse(conn: NinePWire.ConnectionID) async -> Set<UInt16>? {
        guard let bound = try? pair(conn) else { return nil }
        return try? await bound.eventLoop.submit { bound.value.tagsInUse }.get()
    }

    // MARK: - Internals

    private func pair(_ conn: NinePWire.ConnectionID) throws(ProxyControlError) -> NIOLoopBound<RelayPair> {
        guard let bound = state.withLock({ $0.pairs[conn] }) else { throw .noSuchConnection(conn) }
        return bound
    }

    private func accept(_ channel: any Channel) -> EventLoopFuture<Void> {
        let id: NinePWire.ConnectionID? = state.withLock { s in
            if s.stopped { return nil }
            defer { s.nextID += 1 }
            return NinePWire.ConnectionID(s.nextID)
        }
        guard let id else { return channel.close() }
        return channel.eventLoop.makeCompletedFuture {
            let loop = channel.eventLoop
            let pair = RelayPair(conn: id, eventLoop: loop, clientAddress: Address(channel.remoteAddress),
                                 upstreamAddress: upstreamAddress, options: options, sink: sink,
                                 onFinished: { [weak self] id in self?.forget(id) }, census: census,
                                 faultBoard: faultBoard, loopWatch: loopWatch,
                                 onLoop: { [weak self] event in self?.loop(event, by: id) })
            try channel.pipeline.syncOperations.addHandler(pair.makeHandler(.client))
            let bound = NIOLoopBound(pair, eventLoop: loop)
            state.withLock {
                $0.pairs[id] = bound
                $0.finished[id] = pair.finishedFuture
            }
            pair.start()
        }
    }

    /// A chain to test, or a loop found by connection `by` (`LoopChain`): sends the probe, or says the loop
    /// when it is new and closes its other connections (`by` closes itself).
    private func loop(_ event: LoopEvent, by conn: NinePWire.ConnectionID) {
        switch event {
        case .probe(let frame):
            sendProbe(frame)
        case .found(let found):
            if found.isNew, let hold = loopWatch?.hold {
                options.loopFound?("the upstream \(upstreamAddress.colonForm) leads back to this proxy through another "
                                   + "process (\(found.description)): those connections are closed, and for "
                                   + "\(hold / 1_000_000) ms a new client's upstream is dialled only once the client has "
                                   + "sent something. Give the server's address as --upstream")
            }
            let others = state.withLock { s in found.closing.filter { $0 != conn }.compactMap { s.pairs[$0] } }
            for bound in others {
                bound.eventLoop.execute { bound.value.closeForLoop(found) }
            }
        }
    }

    /// Sends a loop probe (`LoopChain.probeFrame`) upstream on a connection of the proxy's own, which
    /// ends at the first byte back, at the upstream's close, or after `probeTimeout`; each tells the
    /// check that the probe did not come back in (if it came back in first, the check knows already).
    private func sendProbe(_ frame: [UInt8]) {
        guard let watch = loopWatch else { return }
        let timeout = TimeAmount.nanoseconds(watch.probeTimeout)
        var settings = options.channelSettings
        settings.allowRemoteHalfClosure = false
        NinePSockets.dial(upstreamAddress, on: options.group.next(), settings: settings,
                          connectTimeout: options.connectTimeout) { ch in
            ch.eventLoop.makeCompletedFuture {
                try ch.pipeline.syncOperations.addHandler(LoopProbeHandler(frame: frame, watch: watch, timeout: timeout))
            }
        }.whenFailure { _ in watch.probeEnded(frame) }
    }

    private func forget(_ id: NinePWire.ConnectionID) {
        state.withLock {
            $0.pairs[id] = nil
            $0.finished[id] = nil
        }
    }
}
