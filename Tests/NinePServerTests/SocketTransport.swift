import Foundation
import NinePDrivers
import NinePNIO
import NinePServer
import NinePTestSupport
import NinePWire

/// `NinePTestClient` over a real socket: a `NinePClientConnection` carries the frames both ways, so the
/// same test bodies run in process and over TCP or unix sockets.
struct SocketTransport: NinePTestTransport {
    let connection: NinePClientConnection

    func send(frame: [UInt8]) async { try? await connection.send(frame: frame) }
    func close() async { await connection.close() }

    /// A test client connected to `address`. Every received frame goes to the client; the output ends
    /// when the socket closes.
    static func client(_ address: Address, dialect: Dialect = .l) async throws -> NinePTestClient {
        let conn = try await NinePClientConnection.connect(address, maxFrameSize: 1 << 24)
        let (stream, continuation) = AsyncStream<ServerOutput>.makeStream()
        Task {
            for await frame in conn.frames { continuation.yield(.frame(frame.bytes)) }
            continuation.finish()
        }
        return NinePTestClient.connect(transport: SocketTransport(connection: conn), output: stream, dialect: dialect)
    }
}

/// How a socket test reaches the server.
enum SocketRoute: String, CaseIterable, CustomStringConvertible, Sendable {
    /// TCP on 127.0.0.1 (ephemeral port).
    case tcp
    /// A unix-domain socket in a fresh temporary directory.
    case unix
    /// TCP through a `NinePProxy` (relay pair + tap) in front of the server.
    case proxied

    var description: String { rawValue }
}

/// A `NinePServerListener` on a real socket (optionally behind a `NinePProxy`), with its events recorded.
final class SocketServer: Sendable {
    let listener: NinePServerListener
    let proxy: NinePProxy?
    /// Where clients connect (the proxy when there is one).
    let address: Address
    let directory: String?
    private let log: SocketLocked<[ServerListenerEvent]>

    private init(listener: NinePServerListener, proxy: NinePProxy?, address: Address, directory: String?,
                 log: SocketLocked<[ServerListenerEvent]>) {
        self.listener = listener; self.proxy = proxy; self.address = address; self.directory = directory; self.log = log
    }

    static func start<D: FileSystemDriver>(_ driver: D, route: SocketRoute = .tcp,
                                           config: ServerConfig = ServerConfig()) async throws -> SocketServer {
        let log = SocketLocked<[ServerListenerEvent]>([])
        var directory: String?
        let listen: Address
        if route == .unix {
            let dir = Peers.tempDir("9psock")
            directory = dir
            listen = .unix(path: dir + "/server.sock")
        } else {
            listen = .tcp(host: "127.0.0.1", port: 0)
        }
        let listener = NinePServerListener(listen: listen, driver: driver, config: config,
                                           onEvent: { e in log.withLock { $0.append(e) } })
        let bound = try await listener.start()
        guard route == .proxied else {
            return SocketServer(listener: listener, proxy: nil, address: bound, directory: directory, log: log)
        }
        let proxy = NinePProxy(listen: .tcp(host: "127.0.0.1", port: 0), upstream: bound,
                               options: .init(reportFrames: false), sink: { _ in })
        let front = try await proxy.start()
        return SocketServer(listener: listener, proxy: proxy, address: front, directory: directory, log: log)
    }

    /// A fresh test client.
    func client(dialect: Dialect = .l) async throws -> NinePTestClient {
        try await SocketTransport.client(address, dialect: dialect)
    }

    /// Listener events so far.
    var events: [ServerListenerEvent] { log.withLock { $0 } }

    /// Close reasons reported so far.
    var closeReasons: [String] {
        events.compactMap { if case .closed(_, let r) = $0 { r } else { nil } }
    }

    /// Waits (bounded) until at least `count` connections have closed; returns their reasons.
    func waitForCloses(_ count: Int, limit: Duration = .seconds(20)) async -> [String] {
        let deadline = ContinuousClock.now + limit
        while closeReasons.count < count && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return closeReasons
    }

    func stop() async {
        await proxy?.stop()
        await listener.stop()
        if let directory { try? FileManager.default.removeItem(atPath: directory) }
    }
}

/// A lock-protected value (the test target's own; NinePNIO's is internal).
final class SocketLocked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
