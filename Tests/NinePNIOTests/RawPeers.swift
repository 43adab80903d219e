import Foundation
import NIOCore
import NIOPosix
import NinePWire
@testable import NinePNIO

/// One end of a raw byte connection in a test: records what arrives, can write, half-close and reset.
final class RawConn: @unchecked Sendable {
    // @unchecked: mutable state is only touched under `lock`.
    let channel: any Channel
    private let lock = NSLock()
    private var bytes: [UInt8] = []
    private var eof = false
    private var closed = false
    private var errorText: String?

    init(channel: any Channel) { self.channel = channel }

    var received: [UInt8] { lock.lock(); defer { lock.unlock() }; return bytes }
    var receivedCount: Int { lock.lock(); defer { lock.unlock() }; return bytes.count }
    var sawEOF: Bool { lock.lock(); defer { lock.unlock() }; return eof }
    var isClosed: Bool { lock.lock(); defer { lock.unlock() }; return closed }
    var error: String? { lock.lock(); defer { lock.unlock() }; return errorText }
    /// The peer's EOF arrived (as an inputClosed event, or as a full close when our output was already
    /// shut down, which NIO reports without the event).
    var ended: Bool { lock.lock(); defer { lock.unlock() }; return eof || closed }

    func got(_ b: ByteBuffer) { lock.lock(); bytes += b.readableBytesView; lock.unlock() }
    func gotEOF() { lock.lock(); eof = true; lock.unlock() }
    func gotError(_ e: any Error) { lock.lock(); if errorText == nil { errorText = "\(e)" }; lock.unlock() }
    func gotClosed() { lock.lock(); closed = true; lock.unlock() }

    func send(_ data: [UInt8]) async throws { try await channel.writeAndFlush(ByteBuffer(bytes: data)) }
    func shutdownOutput() async throws { try await channel.close(mode: .output) }
    func startReading() async throws { try await channel.setOption(.autoRead, value: true).get() }
    /// Closes with SO_LINGER 0: the peer gets a RST.
    func reset() async throws {
        try await (channel as! any SocketOptionProvider).setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
        try await channel.close()
    }

    /// Polls until `condition` holds (true) or the timeout passes (false).
    func wait(timeout: Double = 30, _ condition: (RawConn) -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline && !Task.isCancelled {
            if condition(self) { return true }
            try? await Task.sleep(nanoseconds: 2_000_000)
        }
        return condition(self)
    }
}

final class RawHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let conn: RawConn
    let echo: Bool
    init(conn: RawConn, echo: Bool) { self.conn = conn; self.echo = echo }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let b = unwrapInboundIn(data)
        conn.got(b)
        if echo { context.write(wrapOutboundOut(b), promise: nil) }
    }
    func channelReadComplete(context: ChannelHandlerContext) {
        if echo { context.flush() }
    }
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, e == .inputClosed {
            conn.gotEOF()
            if echo {
                // Only after everything queued is written (NIO drops queued writes when a channel whose
                // input is closed shuts its output).
                let channel = context.channel
                channel.writeAndFlush(ByteBuffer()).whenComplete { _ in channel.close(mode: .output, promise: nil) }
            }
        }
    }
    func errorCaught(context: ChannelHandlerContext, error: any Error) { conn.gotError(error) }
    func channelInactive(context: ChannelHandlerContext) {
        conn.gotClosed()
        context.fireChannelInactive()
    }
}

/// A raw TCP or unix server for tests: records every accepted connection.
final class RawServer: @unchecked Sendable {
    // @unchecked: `conns` is only touched under `lock`.
    let listener: NinePSockets.Listener
    private let lock = NSLock()
    private var conns: [RawConn] = []

    var address: Address { listener.localAddress }
    var connections: [RawConn] { lock.lock(); defer { lock.unlock() }; return conns }

    private init(listener: NinePSockets.Listener) { self.listener = listener }

    private func add(_ c: RawConn) { lock.lock(); conns.append(c); lock.unlock() }

    /// `echo`: write back what arrives (and shut the output down on EOF). `autoRead: false`: read nothing
    /// until `startReading()` (a slow reader).
    static func start(_ address: Address = .tcp(host: "127.0.0.1", port: 0), echo: Bool = false,
                      autoRead: Bool = true) async throws -> RawServer {
        let box = Box<RawServer>()
        let listener = try await NinePSockets.listen(address, settings: .init(allowRemoteHalfClosure: true)) { ch in
            let conn = RawConn(channel: ch)
            box.value?.add(conn)
            return ch.eventLoop.makeCompletedFuture {
                try ch.pipeline.syncOperations.addHandler(RawHandler(conn: conn, echo: echo))
            }.flatMap { autoRead ? ch.eventLoop.makeSucceededFuture(()) : ch.setOption(.autoRead, value: false) }
        }
        let server = RawServer(listener: listener)
        box.value = server
        return server
    }

    func firstConnection(timeout: Double = 30) async -> RawConn? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline && !Task.isCancelled {
            if let c = connections.first { return c }
            try? await Task.sleep(nanoseconds: 2_000_000)
        }
        return connections.first
    }

    func stop() async { await listener.close() }
}

/// Dials a raw connection.
func rawDial(_ address: Address) async throws -> RawConn {
    let box = Box<RawConn>()
    let settings = NinePSockets.ChannelSettings(allowRemoteHalfClosure: true)
    let ch = try await NinePSockets.dial(address, settings: settings) { ch in
        let conn = RawConn(channel: ch)
        box.value = conn
        return ch.eventLoop.makeCompletedFuture {
            try ch.pipeline.syncOperations.addHandler(RawHandler(conn: conn, echo: false))
        }
    }.get()
    _ = ch
    return box.value!
}

final class Box<T: AnyObject>: @unchecked Sendable {
    // @unchecked: set once before use, read after (tests only).
    private let lock = NSLock()
    private var v: T?
    var value: T? {
        get { lock.lock(); defer { lock.unlock() }; return v }
        set { lock.lock(); v = newValue; lock.unlock() }
    }
}

/// A tiny scripted 9P server: replies to each request frame with what `respond` returns (nothing = hold).
final class ScriptedServer: @unchecked Sendable {
    // @unchecked: `requests` is only touched under `lock`.
    let listener: NinePSockets.Listener
    private let lock = NSLock()
    private var requests: [[UInt8]] = []
    private var channels: [any Channel] = []

    var address: Address { listener.localAddress }
    var received: [[UInt8]] { lock.lock(); defer { lock.unlock() }; return requests }

    private init(listener: NinePSockets.Listener) { self.listener = listener }

    static func start(respond: @escaping @Sendable ([UInt8]) -> [[UInt8]]) async throws -> ScriptedServer {
        let box = Box<ScriptedServer>()
        let listener = try await NinePSockets.listen(.tcp(host: "127.0.0.1", port: 0)) { ch in
            box.value?.note(channel: ch)
            return ch.eventLoop.makeCompletedFuture {
                try ch.pipeline.syncOperations.addHandler(ByteToMessageHandler(NinePFrameDecoder()))
                try ch.pipeline.syncOperations.addHandler(ScriptedHandler { frame in
                    box.value?.note(request: frame)
                    return respond(frame)
                })
            }
        }
        let s = ScriptedServer(listener: listener)
        box.value = s
        return s
    }

    private var firstChannel: (any Channel)? { lock.lock(); defer { lock.unlock() }; return channels.first }
    private func note(channel: any Channel) { lock.lock(); channels.append(channel); lock.unlock() }
    private func note(request: [UInt8]) { lock.lock(); requests.append(request); lock.unlock() }

    /// Writes frames to the (first) client connection, e.g. held replies.
    func send(_ frames: [[UInt8]]) async throws {
        let ch = firstChannel
        try await ch!.writeAndFlush(ByteBuffer(bytes: frames.flatMap { $0 }))
    }

    func waitForRequests(_ n: Int, timeout: Double = 30) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline && !Task.isCancelled {
            if received.count >= n { return true }
            try? await Task.sleep(nanoseconds: 2_000_000)
        }
        return received.count >= n
    }

    func stop() async { await listener.close() }
}

final class ScriptedHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let respond: ([UInt8]) -> [[UInt8]]
    init(respond: @escaping ([UInt8]) -> [[UInt8]]) { self.respond = respond }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Array(unwrapInboundIn(data).readableBytesView)
        for reply in respond(frame) { context.write(wrapOutboundOut(ByteBuffer(bytes: reply)), promise: nil) }
        context.flush()
    }
}

/// Starts a proxy to `upstream` on an ephemeral loopback port (or `listen`).
func startProxy(to upstream: Address, listen: Address = .tcp(host: "127.0.0.1", port: 0),
                events: EventBox, options: NinePProxy.Options = .init()) async throws -> (NinePProxy, Address) {
    let proxy = NinePProxy(listen: listen, upstream: upstream, options: options, sink: events.sink)
    let bound = try await proxy.start()
    return (proxy, bound)
}
