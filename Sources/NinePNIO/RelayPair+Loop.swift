import NIOCore
import Synchronization
import NinePWire

/// A proxy's `LoopChain`, shared by its relay pairs (which run on several event loops). Each pair calls it
/// a handful of times in its life (accepted, dialled, the upstream's first bytes, the first Tversion,
/// closed), never per message.
final class LoopWatch: Sendable {
    private let chain: Mutex<LoopChain>
    /// `LoopChain.hold`, `LoopChain.probeTimeout`.
    let hold: Int64
    let probeTimeout: Int64
    /// This machine's addresses, read at start.
    private let local: Set<UpstreamLoop.IP>

    init(_ chain: LoopChain) {
        self.chain = Mutex(chain)
        hold = chain.hold
        probeTimeout = chain.probeTimeout
        local = UpstreamLoop.localAddresses()
    }

    /// The host of an address, for `LoopChain` (nil for a unix socket or an address not known).
    func host(_ address: Address?) -> LoopChain.Host? {
        guard case .tcp(let text, _)? = address, let ip = UpstreamLoop.IP(text) else { return nil }
        return ip.isLoopback || local.contains(ip) ? .thisMachine : .other(ip.bytes)
    }

    func accepted(_ conn: NinePWire.ConnectionID, at t: Int64, from client: Address?) -> LoopChain.Admission {
        let h = host(client)
        return chain.withLock { $0.accepted(conn, at: t, from: h) }
    }
    func clientSpoke(_ conn: NinePWire.ConnectionID) { chain.withLock { $0.clientSpoke(conn) } }
    func dialed(_ conn: NinePWire.ConnectionID, at t: Int64) { chain.withLock { $0.dialed(conn, at: t) } }
    func connected(_ conn: NinePWire.ConnectionID, to upstream: Address?) {
        let h = host(upstream)
        chain.withLock { $0.connected(conn, to: h) }
    }
    func upstreamSpoke(_ conn: NinePWire.ConnectionID) { chain.withLock { $0.upstreamSpoke(conn) } }
    func closed(_ conn: NinePWire.ConnectionID, at t: Int64) { chain.withLock { $0.closed(conn, at: t) } }
    func version(_ conn: NinePWire.ConnectionID, frame: [UInt8], at t: Int64) -> LoopChain.Verdict? {
        chain.withLock { $0.version(conn, frame: frame, at: t) }
    }
    func probeEnded(_ frame: [UInt8]) { chain.withLock { $0.probeEnded(frame) } }
}

/// What a relay pair tells its proxy of a loop.
enum LoopEvent {
    /// A chain to test: the proxy sends this probe upstream (`LoopChain.Verdict.probe`,
    /// `LoopChain.Admission.holdProbing`).
    case probe([UInt8])
    /// A loop: the other connections of `Found.closing` are to be closed.
    case found(LoopChain.Found)
}

extension RelayPair {
    /// A client's Tversion (`LoopChain` weighs only a connection's first): a chain to test (the proxy
    /// probes it), or a loop (this connection ends; the proxy closes the others).
    func checkLoop(_ frame: [UInt8], at t: Int64) {
        switch loopWatch?.version(conn, frame: frame, at: t) {
        case nil:
            break
        case .probe(let probe)?:
            onLoop?(.probe(probe))
        case .loop(let found)?:
            onLoop?(.found(found))
            closeForLoop(found)
        }
    }

    /// Closes both sides at once, nothing more passed on: the connection is part of a loop.
    func closeForLoop(_ found: LoopChain.Found) {
        relayStopped = true
        dialHeld = false
        if failure == nil { failure = .loop(found.description) }
        closeBoth()
    }
}

/// A loop probe's connection: writes the probe's Tversion once connected; the first byte back, the
/// upstream's close, or the timeout ends it and tells the check the probe did not come back in.
final class LoopProbeHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private let frame: [UInt8]
    private let watch: LoopWatch
    private let timeout: TimeAmount
    private var ended = false

    init(frame: [UInt8], watch: LoopWatch, timeout: TimeAmount) {
        self.frame = frame
        self.watch = watch
        self.timeout = timeout
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: frame)), promise: nil)
        let channel = context.channel
        context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { channel.close(promise: nil) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        end()
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        end()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func end() {
        guard !ended else { return }
        ended = true
        watch.probeEnded(frame)
    }
}
