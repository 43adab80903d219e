import NinePWire

/// One client connection of the hosted 9P server: raw request frames in, raw reply frames out.
///
/// The transport (NinePNIO's socket adapter, or a test) owns the bytes; this type owns 9P's meaning.
/// ```swift
/// let conn = ServerConnection(driver: MemoryDriver(), config: ServerConfig(),
///                             send: { frame in channel.write(frame) },
///                             close: { reason in channel.close() })
/// conn.enqueue(frame: frame)      // from a synchronous read callback: ordered, never blocks
/// await conn.receive(frame: frame) // or from async code: returns once the request is dispatched
/// await conn.closed()              // the peer went away: cancels requests, clunks every fid
/// ```
/// Contract:
/// - Frames are complete 9P messages (`size[4]` included), split by the transport (NinePWire's
///   `FrameSplitter`; its `maxFrameSize` may be `config.maxMsize`). Use *either* `enqueue` *or*
///   `receive` on one connection; each keeps frames in order.
/// - `send` is called with each reply frame, in the order replies are produced; requests run
///   concurrently, so replies may come out of request order (9P matches them by tag).
/// - `close` is called at most once, when the server wants the connection dropped (a frame larger than
///   msize, or a frame whose header is unreadable); the transport should close the socket and then call
///   ``closed()``. Nothing is sent after `close`.
/// - Callbacks are invoked from the connection's actor; keep them short and non-blocking.
/// Sends one frame built in the transport's own buffer: `fill` gets room for `capacity` bytes, writes the
/// frame at its start and returns its length. When `fill` throws, nothing is sent and the error propagates.
public typealias InPlaceSend = @Sendable (_ capacity: Int,
                                          _ fill: (UnsafeMutableRawBufferPointer) throws(Errno) -> Int) throws(Errno) -> Void

public final class ServerConnection: Sendable {
    private let core: any ConnectionCore
    private let inbox: AsyncStream<[UInt8]>.Continuation

    public convenience init<Driver: FileSystemDriver>(driver: Driver, config: ServerConfig = ServerConfig(),
                                                      send: @escaping @Sendable ([UInt8]) -> Void,
                                                      close: @escaping @Sendable (CloseReason) -> Void) {
        self.init(driver: driver, config: config, executor: nil, send: send, close: close, onClosed: nil)
    }

    /// A connection whose state lives on `executor` (e.g. the socket's event loop): a transport already
    /// running there hands frames over with ``receiveOnExecutor(frame:)``, without a thread hop, and
    /// `send`/`close` are called there too. With `sendInPlace`, an Rread whose data the driver can read
    /// at once (`FileSystemDriver.readNow`) is built straight in the transport's buffer instead.
    public convenience init<Driver: FileSystemDriver>(driver: Driver, config: ServerConfig = ServerConfig(),
                                                      executor: any SerialExecutor,
                                                      send: @escaping @Sendable ([UInt8]) -> Void,
                                                      sendInPlace: InPlaceSend? = nil,
                                                      close: @escaping @Sendable (CloseReason) -> Void) {
        self.init(driver: driver, config: config, executor: executor, send: send, sendInPlace: sendInPlace,
                  close: close, onClosed: nil)
    }

    init<Driver: FileSystemDriver>(driver: Driver, config: ServerConfig, executor: (any SerialExecutor)? = nil,
                                   send: @escaping @Sendable ([UInt8]) -> Void, sendInPlace: InPlaceSend? = nil,
                                   close: @escaping @Sendable (CloseReason) -> Void, onClosed: (@Sendable () -> Void)?) {
        self.onClosed = onClosed
        let core = Connection(driver: driver, config: config, executor: executor, send: send,
                              sendInPlace: sendInPlace, close: close)
        self.core = core
        let (stream, continuation) = AsyncStream<[UInt8]>.makeStream()
        self.inbox = continuation
        Task {
            for await frame in stream { await core.receive(frame: frame) }
        }
    }

    deinit { inbox.finish() }

    /// A connection whose output is an `AsyncStream` instead of callbacks. The stream finishes after
    /// `.shouldClose` or ``closed()``. `inPlace`: Rreads the driver can read at once are built in a buffer
    /// given to the server, as a socket transport does (see `InPlaceSend`), then yielded like any frame.
    public static func makeStream<Driver: FileSystemDriver>(driver: Driver, config: ServerConfig = ServerConfig(),
                                                            inPlace: Bool = false)
        -> (connection: ServerConnection, output: AsyncStream<ServerOutput>) {
        let (stream, continuation) = AsyncStream<ServerOutput>.makeStream()
        let buildInPlace: InPlaceSend = { capacity, fill throws(Errno) in
            // Filled with a marker byte, so a fill that reports more than it wrote shows up as garbage.
            var frame = [UInt8](repeating: 0xA5, count: capacity)
            var failure: Errno?
            let n = frame.withUnsafeMutableBytes { b -> Int in
                do throws(Errno) { return try fill(b) } catch { failure = error; return 0 }
            }
            if let failure { throw failure }
            continuation.yield(.frame(Array(frame[..<n])))
        }
        let sendInPlace: InPlaceSend? = inPlace ? buildInPlace : nil
        let conn = ServerConnection(driver: driver, config: config,
                                    send: { continuation.yield(.frame($0)) }, sendInPlace: sendInPlace,
                                    close: { continuation.yield(.shouldClose($0)); continuation.finish() },
                                    onClosed: { continuation.finish() })
        return (conn, stream)
    }

    /// Hands one frame to the connection without waiting (ordered with other `enqueue` calls).
    public func enqueue(frame: [UInt8]) { inbox.yield(frame) }

    /// Processes one frame at once. Only for a connection made with an `executor`, called on that executor
    /// (it traps elsewhere); do not mix with `enqueue` or `receive` on one connection.
    public func receiveOnExecutor(frame: [UInt8]) { core.receiveAssumingIsolated(frame: frame) }
    /// `receiveOnExecutor(frame:)` for borrowed bytes (a transport's buffer: no copy of the frame first).
    public func receiveOnExecutor(bytes: UnsafeRawBufferPointer) { core.receiveAssumingIsolated(bytes: bytes) }

    /// Processes one frame: decodes it and dispatches the request. Returns once the request is under way
    /// (or answered, if it could be answered at once) — not when its reply is sent.
    public func receive(frame: [UInt8]) async { await core.receive(frame: frame) }

    /// The transport is gone: cancels every request (no more replies), clunks every fid (closing open
    /// files) and returns when that is done. Idempotent.
    public func closed() async {
        inbox.finish()
        await core.shutdown()
        onClosed?()
    }

    /// The negotiated dialect and msize, nil before a successful Tversion.
    public var negotiated: (dialect: Dialect, msize: UInt32)? { get async { await core.negotiated() } }
    /// Number of fids currently held by the client.
    public var fidCount: Int { get async { await core.fidCount() } }
    /// Number of requests (including flushes) not yet answered.
    public var pendingCount: Int { get async { await core.pendingCount() } }

    private let onClosed: (@Sendable () -> Void)?
}

/// The type-erased face of the generic per-connection actor.
protocol ConnectionCore: Actor {
    func receive(frame: [UInt8]) async
    nonisolated func receiveAssumingIsolated(frame: [UInt8])
    nonisolated func receiveAssumingIsolated(bytes: UnsafeRawBufferPointer)
    func shutdown() async
    func negotiated() -> (dialect: Dialect, msize: UInt32)?
    func fidCount() -> Int
    func pendingCount() -> Int
}
