import NIOCore
import NIOPosix
import NinePWire

/// A frame the client connection received.
public struct ReceivedFrame: Hashable, Sendable {
    /// The complete frame, `size[4]` included.
    public var bytes: [UInt8]
    /// Wall-clock receive time, nanoseconds since the Unix epoch.
    public var at: Int64
    /// Monotonic receive time (for latencies).
    var monotonic: UInt64

    public init(bytes: [UInt8], at: Int64) {
        self.bytes = bytes
        self.at = at
        self.monotonic = 0
    }

    init(bytes: [UInt8], at: Int64, monotonic: UInt64) {
        self.bytes = bytes
        self.at = at
        self.monotonic = monotonic
    }

    /// The tag field (bytes 5–6).
    public var tag: UInt16 { bytes.count >= 7 ? UInt16(bytes[5]) | UInt16(bytes[6]) << 8 : 0 }
}

/// Why a client connection operation failed.
public enum NinePClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The connection is closed (by us or the peer); the text says why when known.
    case closed(String)
    /// Another `rpc` is already waiting for a reply with this tag.
    case tagBusy(UInt16)
    /// The frame given to `send`/`rpc` is not a frame.
    case badFrame(String)
    /// The connection could not be made; the text says why (`Connection refused`).
    case connectFailed(String)

    public var description: String {
        switch self {
        case .closed(let why): return "connection closed: \(why)"
        case .tagBusy(let t): return "an rpc with tag \(t) is already waiting"
        case .badFrame(let why): return "bad frame: \(why)"
        case .connectFailed(let why): return why
        }
    }
}

/// A raw 9P client connection for the REPL, replay and demo workloads: send frames, receive frames.
///
/// Replies awaited by `rpc` are matched by tag and handed to that call; every other received frame goes
/// to `frames`, with its receive time. When the peer goes away every waiting `rpc` throws
/// `NinePClientError.closed` and `frames` finishes.
public final class NinePClientConnection: Sendable {
    public let address: Address
    /// Received frames that no `rpc` claimed, in arrival order.
    public let frames: AsyncStream<ReceivedFrame>
    private let channel: any Channel
    private let state: Locked<ClientState>

    struct ClientState {
        var waiters: [UInt16: CheckedContinuation<ReceivedFrame, any Error>] = [:]
        var closedReason: String?
        var error: String?
    }

    private init(address: Address, channel: any Channel, state: Locked<ClientState>, frames: AsyncStream<ReceivedFrame>) {
        self.address = address
        self.channel = channel
        self.state = state
        self.frames = frames
    }

    /// What a connection hands on as it comes, on its event loop: a frame no `rpc` claimed, then once
    /// that it closed (with why).
    public enum Delivery: Sendable {
        case frame(ReceivedFrame)
        case closed(String)
    }

    /// Dials `address` (TCP_NODELAY on TCP). Frames larger than `maxFrameSize` close the connection.
    /// `deliver`: where frames no `rpc` claimed go, called on the event loop as each arrives (then `frames`
    /// stays empty); a reader that takes them on to a stream of its own needs no task in between, which cost
    /// a replay a thread wake-up per reply. By default they go to `frames`.
    public static func connect(_ address: Address, maxFrameSize: UInt32 = NineP.defaultMaxFrameSize,
                               group: any EventLoopGroup = NinePSockets.group,
                               connectTimeout: TimeAmount = .seconds(10),
                               deliver: (@Sendable (Delivery) -> Void)? = nil) async throws -> NinePClientConnection {
        let state = Locked(ClientState())
        let (stream, continuation) = AsyncStream<ReceivedFrame>.makeStream()
        let output: @Sendable (Delivery) -> Void
        if let deliver {
            continuation.finish()
            output = deliver
        } else {
            output = { d in
                switch d {
                case .frame(let f): continuation.yield(f)
                case .closed: continuation.finish()
                }
            }
        }
        let channel: any Channel
        do {
            channel = try await NinePSockets.dial(address, on: group, connectTimeout: connectTimeout) { ch in
                ch.eventLoop.makeCompletedFuture {
                    try ch.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(NinePFrameDecoder(maxFrameSize: maxFrameSize)))
                    try ch.pipeline.syncOperations.addHandler(ClientFrameHandler(state: state, output: output))
                }
            }.get()
        } catch {
            throw NinePClientError.connectFailed(NetworkErrorText.describe(error))
        }
        return NinePClientConnection(address: address, channel: channel, state: state, frames: stream)
    }

    /// The local end of the socket.
    public var localAddress: Address? { Address(channel.localAddress) }

    /// Why the connection closed (`closed by the server`, a socket error, a stream that could not be framed),
    /// nil while it is open.
    public var closedReason: String? { state.withLock { $0.closedReason } }

    /// True until the connection closes.
    public var isOpen: Bool { state.withLock { $0.closedReason == nil } }

    /// Writes one frame. Throws `NinePClientError.closed` when the connection is gone.
    public func send(frame: [UInt8]) async throws {
        if let why = state.withLock({ $0.closedReason }) { throw NinePClientError.closed(why) }
        do {
            try await channel.writeAndFlush(ByteBuffer(bytes: frame))
        } catch {
            throw NinePClientError.closed(state.withLock { $0.closedReason } ?? NetworkErrorText.describe(error))
        }
    }

    /// Sends `frame` without waiting for the write: frames posted one after another go out in that order. A
    /// write that fails closes the connection, which `closedReason` and the frames' reader then see.
    public func post(frame: [UInt8]) {
        channel.writeAndFlush(ByteBuffer(bytes: frame), promise: nil)
    }

    /// Sends `frame` and waits for the reply with the same tag. Latency is measured from just before the
    /// write to the arrival of the reply's last byte.
    public func rpc(frame: [UInt8]) async throws -> (reply: ReceivedFrame, latency: Duration) {
        guard let header = FrameHeader(frame), Int(header.size) == frame.count else {
            throw NinePClientError.badFrame("size field does not match the \(frame.count) bytes given")
        }
        let tag = header.tag.rawValue
        let start = WallClock.monotonicNanos()
        let reply: ReceivedFrame = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (k: CheckedContinuation<ReceivedFrame, any Error>) in
                let refusal: (any Error)? = state.withLock { s in
                    if let why = s.closedReason { return NinePClientError.closed(why) }
                    if s.waiters[tag] != nil { return NinePClientError.tagBusy(tag) }
                    s.waiters[tag] = k
                    return nil
                }
                if let refusal { k.resume(throwing: refusal); return }
                channel.writeAndFlush(ByteBuffer(bytes: frame)).whenFailure { [state] error in
                    let waiter = state.withLock { $0.waiters.removeValue(forKey: tag) }
                    waiter?.resume(throwing: NinePClientError.closed(NetworkErrorText.describe(error)))
                }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: tag) }
            waiter?.resume(throwing: CancellationError())
        }
        let nanos = reply.monotonic > start ? reply.monotonic - start : 0
        return (reply, .nanoseconds(Int64(nanos)))
    }

    /// Encodes `fcall` in `dialect`, sends it and decodes the reply with the same tag.
    public func rpc(_ fcall: Fcall, dialect: Dialect) async throws -> (reply: Fcall, latency: Duration) {
        let (raw, latency) = try await rpc(frame: fcall.encode(dialect: dialect))
        return (try Fcall.decode(raw.bytes, dialect: dialect), latency)
    }

    /// Closes the connection (waiting `rpc`s throw).
    public func close() async {
        state.withLock { if $0.closedReason == nil { $0.closedReason = "closed locally" } }
        try? await channel.close()
    }

    /// Half-closes: no more requests will be sent; replies still arrive.
    public func shutdownOutput() async throws {
        try await channel.close(mode: .output)
    }
}

/// Routes received frames to waiting `rpc`s or to the `frames` stream.
final class ClientFrameHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let state: Locked<NinePClientConnection.ClientState>
    private let output: @Sendable (NinePClientConnection.Delivery) -> Void

    init(state: Locked<NinePClientConnection.ClientState>, output: @escaping @Sendable (NinePClientConnection.Delivery) -> Void) {
        self.state = state
        self.output = output
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        let frame = ReceivedFrame(bytes: Array(buffer.readableBytesView), at: WallClock.nowNanos(),
                                  monotonic: WallClock.monotonicNanos())
        let tag = frame.tag
        if let waiter = state.withLock({ $0.waiters.removeValue(forKey: tag) }) {
            waiter.resume(returning: frame)
        } else {
            output(.frame(frame))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let text = (error as? NinePFramingError).map(Self.fromServer) ?? NetworkErrorText.describe(error)
        state.withLock { if $0.error == nil { $0.error = text } }
        context.close(promise: nil)
    }

    /// A stream the client could not frame, said of the server (nothing after a size field that cannot be
    /// believed can be framed, so the client closes).
    static func fromServer(_ error: NinePFramingError) -> String {
        switch error {
        case .frameTooLarge(let size, let limit):
            return "the server sent a frame size of \(size) bytes, above the \(limit) this client takes"
        case .frameTooSmall(let size):
            return "the server sent a frame size of \(size) bytes, less than a 9P header's 7"
        case .truncated(let n):
            return "the server's stream ended inside a frame (\(n) bytes of it received)"
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let waiters = state.withLock { s -> [CheckedContinuation<ReceivedFrame, any Error>] in
            if s.closedReason == nil { s.closedReason = s.error ?? "closed by the server" }
            let w = Array(s.waiters.values)
            s.waiters.removeAll()
            return w
        }
        let why = state.withLock { $0.closedReason ?? "closed" }
        for w in waiters { w.resume(throwing: NinePClientError.closed(why)) }
        output(.closed(why))
        context.fireChannelInactive()
    }
}
