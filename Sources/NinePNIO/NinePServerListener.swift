import NIOCore
import NIOPosix
import NinePServer
import NinePWire

/// What the hosted server's listener reports (for logs and the demo UI).
public enum ServerListenerEvent: Hashable, Sendable {
    /// A client connected; `id` counts connections from 0.
    case accepted(id: Int, peer: Address?)
    /// The connection ended; `reason` says why in words.
    case closed(id: Int, reason: String)
    /// A connection could not be accepted (no descriptor free, say): said once until one is accepted again;
    /// accepting pauses for `NinePSockets.acceptBackoff` after each failure.
    case acceptFailed(reason: String)
}

/// Serves 9P on `listen` with NinePServer: one `ServerConnection` (the per-connection actor) per accepted
/// socket, fed with frames split by `NinePFrameDecoder` (frames above `config.maxMsize` close the
/// connection; the server itself enforces the negotiated msize), its replies written back, and the socket
/// closed when the server asks. `onFrame`, when given, sees every frame in and out (for a trace); it is
/// called on event loop threads, requests in arrival order and replies in sending order.
public final class NinePServerListener: Sendable {
    public let listenAddress: Address
    public let config: ServerConfig
    private let group: any EventLoopGroup
    private let makeConnection: @Sendable (_ executor: any SerialExecutor,
                                           _ send: @escaping @Sendable ([UInt8]) -> Void,
                                           _ sendInPlace: @escaping InPlaceSend,
                                           _ close: @escaping @Sendable (CloseReason) -> Void) -> ServerConnection
    private let onEvent: (@Sendable (ServerListenerEvent) -> Void)?
    private let onFrame: (@Sendable (_ id: Int, _ direction: NinePWire.Direction, _ frame: [UInt8]) -> Void)?
    private struct State {
        var listener: NinePSockets.Listener?
        var nextID = 0
        var open: [Int: any Channel] = [:]
        var stopped = false
    }
    private let state = Locked(State())

    public convenience init<Driver: FileSystemDriver>(listen: Address, driver: Driver, config: ServerConfig = ServerConfig(),
                                                      group: any EventLoopGroup = NinePSockets.group,
                                                      onEvent: (@Sendable (ServerListenerEvent) -> Void)? = nil) {
        self.init(listen: listen, driver: driver, config: config, group: group, onEvent: onEvent, onFrame: nil)
    }

    /// As above, with `onFrame` seeing every frame in (`.toServer`) and out (`.toClient`).
    public init<Driver: FileSystemDriver>(listen: Address, driver: Driver, config: ServerConfig = ServerConfig(),
                                          group: any EventLoopGroup = NinePSockets.group,
                                          onEvent: (@Sendable (ServerListenerEvent) -> Void)?,
                                          onFrame: (@Sendable (_ id: Int, _ direction: NinePWire.Direction, _ frame: [UInt8]) -> Void)?) {
        self.listenAddress = listen
        self.config = config
        self.group = group
        self.onEvent = onEvent
        self.onFrame = onFrame
        self.makeConnection = { executor, send, sendInPlace, close in
            ServerConnection(driver: driver, config: config, executor: executor, send: send,
                             sendInPlace: sendInPlace, close: close)
        }
    }

    /// Binds and starts accepting; returns the bound address (the real port for port 0).
    @discardableResult
    public func start() async throws -> Address {
        let onEvent = self.onEvent
        let listener = try await NinePSockets.listen(listenAddress, group: group,
                                                     acceptFailed: { onEvent?(.acceptFailed(reason: $0)) }) { [self] channel in
            self.accept(channel)
        }
        state.withLock { $0.listener = listener }
        return listener.localAddress
    }

    /// The bound address once started.
    public var localAddress: Address? { state.withLock { $0.listener?.localAddress } }

    /// Connections currently open.
    public var connectionCount: Int { state.withLock { $0.open.count } }

    /// Stops accepting and closes every connection (each server connection then cancels its requests and
    /// clunks its fids).
    public func stop() async {
        let (listener, channels) = state.withLock { s in
            s.stopped = true
            let l = s.listener
            s.listener = nil
            return (l, Array(s.open.values))
        }
        await listener?.close()
        for ch in channels { try? await ch.close() }
    }

    private func accept(_ channel: any Channel) -> EventLoopFuture<Void> {
        let id: Int? = state.withLock { s in
            if s.stopped { return nil }
            defer { s.nextID += 1 }
            s.open[s.nextID] = channel
            return s.nextID
        }
        guard let id else { return channel.close() }
        onEvent?(.accepted(id: id, peer: Address(channel.remoteAddress)))
        let closeReason = Locked<String?>(nil)
        let onFrame = self.onFrame
        // The connection's state lives on the channel's event loop: frames go in and replies come out
        // there without a thread hop (only driver calls leave it).
        let connection = makeConnection(channel.eventLoop.executor, { frame in
            onFrame?(id, .toClient, frame)
            channel.writeAndFlush(ByteBuffer(bytes: frame), promise: nil)
        }, { capacity, fill throws(Errno) in
            // An Rread read straight into the buffer that goes to the socket (called on the event loop).
            var buffer = channel.allocator.buffer(capacity: capacity)
            try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: capacity) { b throws(Errno) in
                try fill(UnsafeMutableRawBufferPointer(rebasing: b[..<capacity]))
            }
            if let onFrame { onFrame(id, .toClient, Array(buffer.readableBytesView)) }
            channel.writeAndFlush(buffer, promise: nil)
        }, { reason in
            closeReason.withLock { if $0 == nil { $0 = "server closed it: \(reason)" } }
            channel.close(promise: nil)
        })
        channel.closeFuture.whenComplete { [self] _ in
            state.withLock { _ = $0.open.removeValue(forKey: id) }
            Task {
                await connection.closed()
            }
        }
        let maxFrame = config.maxMsize
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(
                ByteToMessageHandler(NinePFrameDecoder(maxFrameSize: maxFrame)))
            try channel.pipeline.syncOperations.addHandler(
                ServerBridgeHandler(id: id, connection: connection, reason: closeReason, onEvent: onEvent,
                                    onFrame: onFrame))
        }
    }
}

/// Hands frames to the server connection; reports why the socket closed.
final class ServerBridgeHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let id: Int
    private let connection: ServerConnection
    private let onEvent: (@Sendable (ServerListenerEvent) -> Void)?
    private let reason: Locked<String?>
    private let onFrame: (@Sendable (Int, NinePWire.Direction, [UInt8]) -> Void)?

    init(id: Int, connection: ServerConnection, reason: Locked<String?>,
         onEvent: (@Sendable (ServerListenerEvent) -> Void)?,
         onFrame: (@Sendable (Int, NinePWire.Direction, [UInt8]) -> Void)? = nil) {
        self.id = id
        self.connection = connection
        self.reason = reason
        self.onEvent = onEvent
        self.onFrame = onFrame
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if let onFrame {
            let frame = Array(buffer.readableBytesView)
            onFrame(id, .toServer, frame)
            connection.receiveOnExecutor(frame: frame)
        } else {
            // Decoded straight from the socket's buffer: a Twrite's data is copied once, into the message.
            buffer.withUnsafeReadableBytes { connection.receiveOnExecutor(bytes: $0) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        reason.withLock { if $0 == nil { $0 = NetworkErrorText.describe(error) } }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        onEvent?(.closed(id: id, reason: reason.withLock { $0 } ?? "closed by the client"))
        context.fireChannelInactive()
    }
}
