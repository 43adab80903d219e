import Synchronization
import NIOCore
import NIOPosix
import NinePServer
import NinePSession
import NinePWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Counters of one proxied connection.
public struct RelayStats: Hashable, Sendable {
    /// Bytes read from the client / from the upstream server.
    public var bytesFromClient = 0
    public var bytesFromUpstream = 0
    /// Frames seen per direction.
    public var framesToServer = 0
    public var framesToClient = 0
    /// Times a read was held back because the other side could not take more (backpressure).
    public var readsHeld = 0
    /// Bytes queued in the proxy for the client / for the upstream server, not yet written to the socket.
    public var bufferedToClient = 0
    public var bufferedToUpstream = 0
    /// Client requests the proxy has seen and not yet seen answered.
    public var pendingClientTags = 0
    /// The dialect seen in Tversion/Rversion (nil before).
    public var dialect: Dialect?
    /// TCP_NODELAY as read back from each socket (nil for unix sockets or when unknown).
    public var clientNoDelay: Bool?
    public var upstreamNoDelay: Bool?
    public init() {}
}

/// Counts the relay pairs alive (made and not yet freed), and those a stop had to end
/// (`RelayPair.forceFinish`), for a proxy's tests.
final class RelayCensus: Sendable {
    let count = Atomic<Int>(0)
    let forced = Atomic<Int>(0)
}

/// One proxied connection: the client channel, the upstream channel (both on one event loop), the two
/// frame cursors and the 9P bookkeeping that injection and flush need. Confined to `eventLoop`.
final class RelayPair {
    let conn: NinePWire.ConnectionID
    let eventLoop: any EventLoop
    let clientAddress: Address?
    let upstreamAddress: Address
    let options: NinePProxy.Options
    private let sink: ProxyEventSink
    private let onFinished: (NinePWire.ConnectionID) -> Void
    private let census: RelayCensus?

    private(set) var client: RelaySideHandler?
    private(set) var upstream: RelaySideHandler?
    let toServer: FrameCursor
    let toClient: FrameCursor
    var events: [ProxyEvent] = []

    // 9P bookkeeping (see RelayPair+Tap.swift, RelayPair+Control.swift).
    struct PendingRequest { var type: UInt8; var oldTag: UInt16? }
    enum OwnRequest { case injected, flush(oldTag: UInt16) }
    // Looked up per frame: integer-keyed maps (no per-lookup SipHash, as `Dictionary` would run).
    /// The client's outstanding requests, by tag.
    var pending = IntKeyMap<UInt16, PendingRequest>()
    /// ninescope's own outstanding requests upstream, by tag; their replies are never forwarded.
    var ours = IntKeyMap<UInt16, OwnRequest>()
    /// Client tag being flushed by the proxy → the proxy's Tflush tag.
    var flushing = IntKeyMap<UInt16, UInt16>()
    /// Client tags the proxy answered itself; a late server reply for them is dropped.
    var answered = IntKeySet<UInt16>()
    /// Client bytes that arrived before the upstream connection was up.
    var preConnect: [ByteBuffer] = []
    var toServerInserts: [([UInt8], NinePWire.FrameMarks)] = []
    var toClientInserts: [([UInt8], NinePWire.FrameMarks)] = []
    var dialect: Dialect?
    var offeredDialect: Dialect?

    // Faults (RelayPair+Faults.swift): untouched unless the proxy's rules have some.
    /// The proxy's rules, which the UI may change while it runs; read again when its generation moves.
    let faultBoard: FaultBoard
    var faults: FaultSpec
    var faultGeneration: UInt64
    /// `faults` has rules: requests are judged (what is held or replaced is kept apart, in the maps below).
    var hasFaults: Bool
    var dice: SplitMix64
    /// Decided at a request's header, applied once the request is complete.
    var requestFault: RequestFault?
    /// Decided at a reply's header, applied once the reply is complete.
    var replyFault: ReplyFault?
    /// Client tags whose reply is to be held back (nanoseconds) / replaced by an error. (Whatever the rules
    /// are now: a rule turned off still lets what it started finish.)
    var replyDelays = IntKeyMap<UInt16, Int64>()
    var replyErrors = IntKeyMap<UInt16, Errno>()
    /// Replies held back for the client, by tag, with the timer that passes each on.
    var held = IntKeyMap<UInt16, HeldReply>()
    /// Set when a close rule fired or a loop was found: nothing more is passed on.
    var relayStopped = false

    // The upstream loop check (RelayPair+Loop.swift).
    let loopWatch: LoopWatch?
    /// Told of a loop this connection found (the proxy closes the chain's other connections).
    let onLoop: ((LoopEvent) -> Void)?
    /// The upstream is dialled once the client's first bytes have come (a loop was found, or a chain is
    /// being tested, a moment ago: `LoopChain.Admission`).
    var dialHeld = false
    private var upstreamSpoke = false
    private var clientSpoke = false
    /// The server ended its stream while replies were held: the client's side is shut once they are passed on.
    var shutClientAfterHeld = false

    // Lifecycle.
    private var clientInputDone = false
    private var upstreamInputDone = false
    private var outputShut: Set<ProxySide> = []
    private var wasActive: Set<ProxySide> = []
    private var clientClosed = false
    private var upstreamClosed = false
    private var dialing = true
    var failure: ProxyCloseReason?
    private var midFrame: NinePWire.Direction?
    /// The side whose orderly EOF came first.
    private var firstEOF: ProxySide?
    private(set) var finished = false
    private(set) var readsHeld = 0
    private var flushTimer: Scheduled<Void>?
    /// `stop(grace:)`'s timer, until the connection finishes.
    private var stopTimer: Scheduled<Void>?
    /// Ends the connection `NinePProxy.hangUpLinger` after the server hung up first (see `shutdownOutput`).
    private var lingerTimer: Scheduled<Void>?
    /// Bytes held by `events` (frames and garbage), to bound coalescing.
    var eventBytes = 0
    private let finishedPromise: EventLoopPromise<Void>
    /// Succeeds once the connection has reported `.closed`.
    var finishedFuture: EventLoopFuture<Void> { finishedPromise.futureResult }

    var upstreamOutputShut: Bool { outputShut.contains(.upstream) }
    var upstreamInputFinished: Bool { upstreamInputDone || failure != nil }

    init(conn: NinePWire.ConnectionID, eventLoop: any EventLoop, clientAddress: Address?, upstreamAddress: Address,
         options: NinePProxy.Options, sink: @escaping ProxyEventSink,
         onFinished: @escaping (NinePWire.ConnectionID) -> Void, census: RelayCensus? = nil,
         faultBoard: FaultBoard? = nil, loopWatch: LoopWatch? = nil,
         onLoop: ((LoopEvent) -> Void)? = nil) {
        self.conn = conn
        self.eventLoop = eventLoop
        self.clientAddress = clientAddress
        self.upstreamAddress = upstreamAddress
        self.options = options
        self.sink = sink
        self.onFinished = onFinished
        self.toServer = FrameCursor(direction: .toServer, maxFrameSize: options.maxFrameSize)
        self.toClient = FrameCursor(direction: .toClient, maxFrameSize: options.maxFrameSize)
        self.finishedPromise = eventLoop.makePromise(of: Void.self)
        self.census = census
        self.loopWatch = loopWatch
        self.onLoop = onLoop
        let board = faultBoard ?? FaultBoard(options.faults)
        self.faultBoard = board
        (self.faults, self.faultGeneration) = board.current
        self.hasFaults = !faults.rules.isEmpty
        self.dice = SplitMix64(seed: options.faultSeed &+ UInt64(conn.rawValue))
        census?.count.add(1, ordering: .relaxed)
    }

    deinit {
        census?.count.subtract(1, ordering: .relaxed)
    }

    func makeHandler(_ side: ProxySide) -> RelaySideHandler {
        let h = RelaySideHandler(side: side, pair: self)
        if side == .client { client = h } else { upstream = h }
        return h
    }

    func handler(_ side: ProxySide) -> RelaySideHandler? { side == .client ? client : upstream }

    // MARK: - Starting

    /// Reports the connection and dials upstream on the pair's own event loop. The client is not read until
    /// the upstream connection is up, except while a loop found a moment ago holds the dial: then one read
    /// of the client comes first (its Tversion, which may be the loop's), and the dial after it.
    func start() {
        let t = WallClock.nowNanos()
        events.append(.opened(conn: conn, client: clientAddress, upstream: upstreamAddress, at: t))
        flushEvents()
        let admission = loopWatch?.accepted(conn, at: t, from: clientAddress) ?? .dial
        if admission == .dial {
            dial()
            return
        }
        dialHeld = true
        dialing = false
        if case .holdProbing(let probe) = admission { onLoop?(.probe(probe)) }
    }

    /// Dials the upstream and attaches its channel.
    private func dial() {
        dialing = true
        loopWatch?.dialed(conn, at: WallClock.nowNanos())
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        var settings = options.channelSettings
        settings.allowRemoteHalfClosure = true
        NinePSockets.dial(upstreamAddress, on: eventLoop, settings: settings,
                          connectTimeout: options.connectTimeout) { ch in
            ch.eventLoop.makeCompletedFuture {
                try ch.pipeline.syncOperations.addHandler(bound.value.makeHandler(.upstream))
            }
        }.assumeIsolated().whenComplete { result in
            self.dialing = false
            switch result {
            case .success(let ch):
                if self.clientClosed || self.failure != nil {
                    ch.close(promise: nil)
                }
            case .failure(let error):
                self.upstream = nil
                self.upstreamClosed = true
                if self.failure == nil { self.failure = .dialFailed(NetworkErrorText.describe(error)) }
                // A refused loopback dial can fail at once, inside the child channel's initializer, before
                // the client channel is registered: close it from the next tick, and count it closed when
                // its close completes (a channel closed before it became active never reports inactive).
                self.eventLoop.assumeIsolated().execute {
                    guard let ch = self.client?.channel else {
                        self.clientClosed = true
                        self.checkFinished()
                        return
                    }
                    ch.close(promise: nil)
                    ch.closeFuture.assumeIsolated().whenComplete { _ in
                        self.clientClosed = true
                        self.checkFinished()
                    }
                }
            }
        }
    }

    /// Starts with an upstream channel that is already there, on the same event loop (for tests with
    /// `EmbeddedChannel`; the proxy itself uses `start()`).
    func start(attachedUpstream channel: any Channel) throws {
        events.append(.opened(conn: conn, client: clientAddress, upstream: upstreamAddress, at: WallClock.nowNanos()))
        dialing = false
        try channel.pipeline.syncOperations.addHandler(makeHandler(.upstream))
        if channel.isActive { sideActive(.upstream) }
        flushEvents()
    }

    // MARK: - Events from the handlers

    func sideActive(_ side: ProxySide) {
        wasActive.insert(side)
        guard side == .upstream else {
            // The upstream connection can come up before the client channel is active.
            upstream?.resumeReading()
            return
        }
        if let loopWatch { loopWatch.connected(conn, to: Address(upstream?.channel?.remoteAddress)) }
        if !preConnect.isEmpty, let up = upstream {
            for b in preConnect { up.write(b) }
            preConnect = []
            up.flush()
        }
        if clientInputDone { shutdownOutput(.upstream) }
        client?.resumeReading()
    }

    func mayRead(_ side: ProxySide) -> Bool {
        if dialHeld && side == .client { return true }
        let other = side == .client ? upstream : client
        guard let other, other.isActive, other.isWritable else {
            readsHeld &+= 1
            return false
        }
        return true
    }

    func becameWritable(_ side: ProxySide) {
        handler(side == .client ? .upstream : .client)?.resumeReading()
    }

    func received(_ buffer: ByteBuffer, from side: ProxySide) {
        let t = WallClock.nowNanos()
        if side == .client {
            if !clientSpoke {
                clientSpoke = true
                loopWatch?.clientSpoke(conn)
            }
            toServer.feed(buffer, at: t, self)
            if dialHeld { dialAfterHold() }
        } else {
            if !upstreamSpoke {
                upstreamSpoke = true
                loopWatch?.upstreamSpoke(conn)
            }
            toClient.feed(buffer, at: t, self)
        }
    }

    /// The client's first frame (a Tversion, for a 9P client) came while the dial was held, and was not a
    /// loop's: dial now (what came waits in `preConnect`).
    private func dialAfterHold() {
        dialHeld = false
        if failure == nil && !clientClosed { dial() }
    }


    func readComplete(from side: ProxySide) {
        handler(side == .client ? .upstream : .client)?.flush()
        eventsReady()
    }

    /// Orderly EOF from `side`: finish that direction, then shut the other side's output once what was
    /// queued for it is written.
    func inputEnded(_ side: ProxySide) {
        if side == .client {
            guard !clientInputDone else { return }
            clientInputDone = true
        } else {
            guard !upstreamInputDone else { return }
            upstreamInputDone = true
        }
        if firstEOF == nil { firstEOF = side }
        let cursor = side == .client ? toServer : toClient
        if cursor.finish(at: WallClock.nowNanos(), self), midFrame == nil { midFrame = cursor.direction }
        if dialHeld {
            // The client hung up before sending a whole frame while the dial was held: pass on what it sent,
            // if anything, as always.
            if preConnect.isEmpty {
                dialHeld = false
                client?.channel?.close(promise: nil)
            } else {
                dialAfterHold()
            }
        }
        let other: ProxySide = side == .client ? .upstream : .client
        if other == .client && !held.isEmpty {
            shutClientAfterHeld = true   // replies a delay rule holds come first (RelayPair+Faults.swift)
        } else {
            shutdownOutput(other)
        }
        flushEvents()
    }

    func failed(_ side: ProxySide, _ error: any Error) {
        if failure == nil { failure = RelayPair.classify(error, side: side) }
        closeBoth()
    }

    /// The side's channel closed. Called from `channelInactive` and again from its close future (a channel
    /// closed before it became active never reports inactive); only the first call counts.
    func sideInactive(_ side: ProxySide) {
        if side == .client ? clientClosed : upstreamClosed { return }
        guard wasActive.contains(side) else {
            // Never connected: a failed dial is handled where the dial completes; a client closed before it
            // became active just counts as closed, and so does an upstream whose dial succeeded but which
            // the dial's completion closed at once (the client had gone): NIO completes the connect before
            // it reports the channel active, and a channel closed there never reports it.
            if side == .client || !dialing {
                if side == .client { clientClosed = true } else { upstreamClosed = true }
                checkFinished()
            }
            return
        }
        let inputDone = side == .client ? clientInputDone : upstreamInputDone
        if failure == nil && !inputDone {
            if outputShut.contains(side) {
                // EOF after we shut this side's output: NIO closes fully without an inputClosed event.
                inputEnded(side)
            } else {
                // Closed without EOF or error: a write failed (the peer went away).
                failure = .reset(side)
            }
        }
        // (Closed after its EOF, before the relay shut its output: the peer reset it after its FIN, say for
        // a write that came after it hung up. The FIN, which came first, names the end: `closedByUpstream`
        // for a server that hung up on a client still writing, and the other side finishes as it would.)
        if side == .client { clientClosed = true } else { upstreamClosed = true }
        if failure != nil { closeBoth() }
        checkFinished()
    }

    // MARK: - Closing

    /// Stops the connection from outside (proxy shutdown); if it has not finished `grace` later, it is
    /// ended regardless (`forceFinish`).
    func stop(grace: TimeAmount) {
        if failure == nil { failure = .stopped }
        closeBoth()
        guard !finished, stopTimer == nil else { return }
        stopTimer = eventLoop.assumeIsolated().scheduleTask(in: grace) {
            self.stopTimer = nil
            if self.forceFinish() { self.census?.forced.add(1, ordering: .relaxed) }
        }
    }

    /// Ends a connection that has not finished when `stop(grace:)`'s grace is over (`NinePProxy.stopGrace`):
    /// a side whose close was never reported would keep the proxy's stop waiting for ever. Closes both channels whatever their
    /// state and reports the connection closed. Returns whether it had to (false: it had finished).
    func forceFinish() -> Bool {
        guard !finished else { return false }
        client?.channel?.close(promise: nil)
        upstream?.channel?.close(promise: nil)
        clientClosed = true
        upstreamClosed = true
        dialing = false
        checkFinished()
        return true
    }

    /// The connection's lifecycle in a few words, for a test's message when one does not end:
    /// `c3: client open (eof in), upstream dialling, failure -`.
    var lifecycle: String {
        func side(_ s: ProxySide, closed: Bool, inputDone: Bool) -> String {
            let state: String
            if closed {
                state = "closed"
            } else if s == .upstream && dialing {
                state = "dialling"
            } else if s == .upstream && dialHeld {
                state = "held"
            } else if let ch = handler(s)?.channel {
                state = ch.isActive ? "open" : (wasActive.contains(s) ? "closing" : "not yet active")
            } else {
                state = "none"
            }
            let marks = [inputDone ? "eof in" : nil, outputShut.contains(s) ? "output shut" : nil].compactMap { $0 }
            return "\(s) \(state)" + (marks.isEmpty ? "" : " (\(marks.joined(separator: ", ")))")
        }
        return "c\(conn.rawValue): " + side(.client, closed: clientClosed, inputDone: clientInputDone) + ", "
            + side(.upstream, closed: upstreamClosed, inputDone: upstreamInputDone)
            + ", failure \(failure.map { "\($0)" } ?? "-")" + (finished ? ", finished" : "")
    }

    func shutdownOutput(_ side: ProxySide) {
        // Not connected yet: `sideActive` shuts it down once it is.
        guard !outputShut.contains(side), let h = handler(side), let ctx = h.context, ctx.channel.isActive else { return }
        outputShut.insert(side)
        let channel = ctx.channel
        let done = eventLoop.makePromise(of: Void.self)
        // An empty write completes after everything queued before it; only then shut the output down (NIO
        // would drop queued writes if the channel's input is already closed).
        ctx.writeAndFlush(h.wrapOutboundOut(ByteBuffer()), promise: done)
        done.futureResult.assumeIsolated().whenComplete { _ in
            channel.close(mode: .output, promise: nil)
            // A server that hung up first is gone: the client has had every byte it sent and the EOF, and
            // nothing it sends now can be answered. End the connection a moment later (as socat does, for
            // bytes still on their way to a server that only shut its output, and for this proxy's own
            // verdict on a loop that the other end broke first) rather than whenever the client next writes
            // or hangs up (an idle client, a kernel mount, may not for minutes), so that the close is
            // reported about when it happened, with what was pending then.
            if side == .client && self.firstEOF == .upstream && !self.clientInputDone && !self.finished
                && self.lingerTimer == nil {
                self.lingerTimer = self.eventLoop.assumeIsolated().scheduleTask(in: NinePProxy.hangUpLinger) {
                    self.lingerTimer = nil
                    if !self.finished { self.closeBoth() }
                }
            }
        }
    }

    func closeBoth() {
        let reset: Bool
        if case .reset = failure { reset = true } else { reset = false }
        for side in [ProxySide.client, .upstream] {
            guard let ch = handler(side)?.channel else { continue }
            guard ch.isActive else {
                // An upstream still connecting (a server whose listen queue is full answers only after
                // SYN retries, seconds later): closing it ends the dial now, so that a stop does not wait
                // for the connect timeout.
                if side == .upstream && dialing { ch.close(promise: nil) }
                continue
            }
            if reset {
                // Propagate the reset: SO_LINGER 0 makes close() send RST.
                // (On the event loop the option is set synchronously.)
                _ = (ch as? any SocketOptionProvider)?.setSoLinger(linger(l_onoff: 1, l_linger: 0))
            }
            ch.close(promise: nil)
        }
    }

    private func checkFinished() {
        guard !finished, clientClosed, upstreamClosed || (!dialing && upstream == nil) else { return }
        finished = true
        stopTimer?.cancel()   // (it holds the pair)
        stopTimer = nil
        lingerTimer?.cancel()
        lingerTimer = nil
        dropFaultState()
        let t = WallClock.nowNanos()
        loopWatch?.closed(conn, at: t)
        if !clientInputDone { toServer.finish(at: t, self) }
        if !upstreamInputDone { toClient.finish(at: t, self) }
        let reason = failure ?? midFrame.map { ProxyCloseReason.midFrame($0) }
            ?? (firstEOF == .upstream ? .closedByUpstream : .eof)
        events.append(.closed(conn: conn, reason: reason, at: t))
        flushEvents()
        onFinished(conn)
        // The pair and its two handlers hold each other: let go of the handlers, so that all three are freed
        // once the channels drop theirs (a proxy that clients connect to again and again must not keep a
        // pair per connection it ever had).
        client = nil
        upstream = nil
        finishedPromise.succeed(())
    }

    /// Delivers pending events now.
    func flushEvents() {
        flushTimer?.cancel()
        flushTimer = nil
        eventBytes = 0
        guard !events.isEmpty else { return }
        let batch = events
        events = []
        sink(batch)
    }

    /// Delivers pending events soon: at once when many are waiting, else within
    /// `options.eventCoalescing` (so a bulk transfer wakes the consumer a few hundred times a second, not
    /// once per socket read). Event times are taken when bytes arrive, so this delays nothing but delivery.
    func eventsReady() {
        guard !events.isEmpty else { return }
        if events.count >= 1024 || eventBytes >= (8 << 20) || options.eventCoalescing <= .zero {
            flushEvents()
            return
        }
        guard flushTimer == nil else { return }
        flushTimer = eventLoop.assumeIsolated().scheduleTask(in: options.eventCoalescing) {
            self.flushTimer = nil
            self.flushEvents()
        }
    }

    static func classify(_ error: any Error, side: ProxySide) -> ProxyCloseReason {
        if let io = error as? IOError, io.errnoCode == ECONNRESET || io.errnoCode == EPIPE {
            return .reset(side)
        }
        return .error(side, NetworkErrorText.describe(error))
    }

    // MARK: - Statistics

    var stats: RelayStats {
        var s = RelayStats()
        s.bytesFromClient = toServer.bytesSeen
        s.bytesFromUpstream = toClient.bytesSeen
        s.framesToServer = toServer.framesSeen
        s.framesToClient = toClient.framesSeen
        s.readsHeld = readsHeld
        s.bufferedToClient = RelayPair.buffered(client)
        s.bufferedToUpstream = RelayPair.buffered(upstream)
        s.pendingClientTags = pending.count
        s.dialect = dialect ?? offeredDialect
        s.clientNoDelay = RelayPair.noDelay(client)
        s.upstreamNoDelay = RelayPair.noDelay(upstream)
        return s
    }

    private static func noDelay(_ h: RelaySideHandler?) -> Bool? {
        guard let ch = h?.channel, let local = ch.localAddress, local.protocol == .inet || local.protocol == .inet6,
              let opts = ch.syncOptions, let v = try? opts.getOption(.tcpOption(.tcp_nodelay)) else { return nil }
        return v != 0
    }

    private static func buffered(_ h: RelaySideHandler?) -> Int {
        guard let ch = h?.channel, let opts = ch.syncOptions else { return 0 }
        return (try? opts.getOption(.bufferedWritableBytes)) ?? 0
    }
}
