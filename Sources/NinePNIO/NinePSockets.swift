import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Listeners and dialers for TCP and unix-domain sockets, with the options 9P needs.
///
/// Every TCP socket, accepted or dialed, gets TCP_NODELAY: 9P is strict request/response, and Nagle plus
/// delayed ACKs would stall each large message by ~40 ms. Listeners set SO_REUSEADDR; a stale unix socket
/// file is unlinked before binding, one a live process listens on is refused (EADDRINUSE). All sockets
/// share one event loop group unless told otherwise.
public enum NinePSockets {
    /// The one shared `MultiThreadedEventLoopGroup` (NIO's process-wide singleton; never shut down). Its
    /// loops run with the process's scheduling, as the user started it (see `ProcessScheduling`), not that
    /// of whichever thread happened to create them.
    /// Unless told otherwise (`suggestLoopCount`, NIO_SINGLETON_GROUP_LOOP_COUNT), one loop per CPU the
    /// process may run on: started under `taskset -c 1`, one loop, not one per CPU of the machine all
    /// taking turns on that one.
    public static var group: any EventLoopGroup {
        let first = loopCount.withLock { state -> Bool in
            defer { state.used = true }
            if !state.used, !state.set, getenv("NIO_SINGLETON_GROUP_LOOP_COUNT") == nil,
               let allowed = ProcessScheduling.allowedCPUs, allowed < System.coreCount {
                NIOSingletons.groupLoopCountSuggestion = allowed
            }
            return !state.used
        }
        let group = MultiThreadedEventLoopGroup.singleton
        if first { adoptProcessScheduling(group) }
        return group
    }

    /// Gives each loop of `group` the main thread's scheduling; waits for it unless called on an event loop.
    static func adoptProcessScheduling(_ group: MultiThreadedEventLoopGroup) {
        let done = group.makeIterator().map { loop in
            loop.submit { _ = ProcessScheduling.adoptMain() }
        }
        if MultiThreadedEventLoopGroup.currentEventLoop == nil {
            for f in done { _ = try? f.wait() }
        }
    }

    /// Sets how many event loops `group` will have (NIO's default: one per CPU). Only the first call before
    /// the group's first use counts; later ones change nothing and return false.
    @discardableResult
    public static func suggestLoopCount(_ n: Int) -> Bool {
        loopCount.withLock { state in
            guard !state.used, !state.set, n > 0 else { return false }
            state.set = true
            NIOSingletons.groupLoopCountSuggestion = n
            return true
        }
    }
    private static let loopCount = Locked<(used: Bool, set: Bool)>((false, false))

    /// The first read's buffer on a new connection: small, since SwiftNIO keeps each channel's receive buffer
    /// for its next read, so an idle connection holds what its last read was given (64 KiB at first made an
    /// idle proxied client cost 136 KB, both sides: 138 MB for 1,000, against 14 MB now). The allocator
    /// doubles it after a read that fills it (a bulk transfer is at `maxReadSize` within a few reads) and
    /// halves it after two that fill less than half.
    static let initialReadSize = 2048

    /// Per-channel settings applied to accepted and dialed sockets.
    public struct ChannelSettings: Sendable {
        /// Keep the channel open after the peer's EOF so the other direction can drain (half-close).
        public var allowRemoteHalfClosure: Bool
        /// Outbound bytes queued above `high` make the channel unwritable until they drain below `low`.
        public var writeBufferLow: Int
        public var writeBufferHigh: Int
        /// Largest single read from the socket.
        public var maxReadSize: Int

        public init(allowRemoteHalfClosure: Bool = false, writeBufferLow: Int = 64 * 1024,
                    writeBufferHigh: Int = 256 * 1024, maxReadSize: Int = 256 * 1024) {
            self.allowRemoteHalfClosure = allowRemoteHalfClosure
            self.writeBufferLow = writeBufferLow
            self.writeBufferHigh = writeBufferHigh
            self.maxReadSize = maxReadSize
        }
    }

    /// A bound listening socket.
    public struct Listener: Sendable {
        /// The server channel; close it to stop accepting.
        public let channel: any Channel
        /// The address actually bound (the real port when port 0 was asked for).
        public let localAddress: Address

        /// Stops accepting (already accepted connections stay up) and unlinks a unix socket file.
        public func close() async {
            try? await channel.close()
            if case .unix(let path) = localAddress, !path.isEmpty { _ = unlink(path) }
        }
    }

    /// How long accepting pauses after an accept fails. A connection that cannot be accepted (no descriptor
    /// free: `Too many open files`) stays in the listen queue and the socket stays readable: accepting again
    /// at once spun a CPU at 100% for as long as the process was at its limit.
    public static let acceptBackoff = TimeAmount.milliseconds(100)

    /// Binds `address` and calls `childInitializer` (on the child's event loop) for each accepted connection.
    /// Throws `SocketFailure` (`Address already in use`) when it cannot. When an accept fails, accepting
    /// pauses for `acceptBackoff` and `acceptFailed` is told why (once, until a connection is accepted again).
    public static func listen(
        _ address: Address,
        group: any EventLoopGroup = NinePSockets.group,
        settings: ChannelSettings = ChannelSettings(),
        backlog: Int32 = 256,
        acceptFailed: (@Sendable (String) -> Void)? = nil,
        childInitializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>
    ) async throws -> Listener {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: backlog)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptBackoff(report: acceptFailed))
                }
            }
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)   // NIO skips it on unix sockets
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: settings.allowRemoteHalfClosure)
            .childChannelOption(.writeBufferWaterMark,
                                value: .init(low: settings.writeBufferLow, high: settings.writeBufferHigh))
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(
                minimum: 2048, initial: NinePSockets.initialReadSize, maximum: settings.maxReadSize))
            .childChannelInitializer(childInitializer)
        let channel: any Channel
        do {
            switch address {
            case .tcp:
                channel = try await bootstrap.bind(to: address.socketAddress()).get()
            case .unix(let path):
                // A socket file left by a process that is gone is replaced; one that a live process listens
                // on is not (unlinking it would leave that process running with no way to reach it).
                if unixSocketIsListening(path) { throw IOError(errnoCode: EADDRINUSE, reason: "bind") }
                channel = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
            }
        } catch {
            throw SocketFailure(NetworkErrorText.describe(error))
        }
        let bound = Address(channel.localAddress) ?? address
        // NIO reports a unix listener's path as bound; keep the caller's spelling when it gives none.
        if case .unix(let p) = bound, p.isEmpty { return Listener(channel: channel, localAddress: address) }
        return Listener(channel: channel, localAddress: bound)
    }

    /// Whether a process listens on the unix socket file at `path`. The system's table of unix sockets
    /// (/proc/net/unix) answers first, so that a live listener found there is not disturbed; otherwise a
    /// connection to it is tried: accepted, or waiting in a full backlog, it is live (that listener then
    /// sees a connection open and close at once: one in another network namespace, or bound by a relative
    /// path). False when nothing is there, the file is not a socket, or no one listens on it (a stale
    /// file: ECONNREFUSED).
    static func unixSocketIsListening(_ path: String) -> Bool {
        var st = stat()
        guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFSOCK,
              let address = try? SocketAddress(unixDomainSocketPath: path) else { return false }
        if let table = ProcFile.text("/proc/net/unix"),
           listeningPaths(inUnixSocketTable: table).contains(where: { samePath($0, path) }) {
            return true
        }
        #if canImport(Glibc)
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = socket(AF_UNIX, type, 0)
        #else
        let fd = socket(AF_UNIX, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let result = address.withSockAddr { connect(fd, $0, socklen_t($1)) }
        return result == 0 || errno == EAGAIN || errno == EINPROGRESS
    }

    /// The absolute paths unix sockets listen on, from the text of /proc/net/unix (`Num RefCount Protocol
    /// Flags Type St Inode Path`): the rows whose flags have __SO_ACCEPTCON (0x10000, a listening
    /// socket). Rows without a path, or with a relative one (its directory unknown), are left out.
    static func listeningPaths(inUnixSocketTable table: String) -> [String] {
        var paths: [String] = []
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", maxSplits: 7, omittingEmptySubsequences: true)
            guard fields.count == 8, let flags = UInt32(fields[3], radix: 16), flags & 0x10000 != 0,
                  fields[7].hasPrefix("/") else { continue }
            paths.append(String(fields[7]))
        }
        return paths
    }

    /// Whether two paths name the same file (compared by device and inode, so `/tmp/x/../s` is `/tmp/s`).
    static func samePath(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        guard lstat(a, &sa) == 0, lstat(b, &sb) == 0 else { return false }
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }

    /// Connects to `address` on `eventLoop` (pass a specific loop to keep two channels together).
    public static func dial(
        _ address: Address,
        on eventLoop: any EventLoopGroup = NinePSockets.group,
        settings: ChannelSettings = ChannelSettings(),
        connectTimeout: TimeAmount = .seconds(10),
        channelInitializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>
    ) -> EventLoopFuture<any Channel> {
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.allowRemoteHalfClosure, value: settings.allowRemoteHalfClosure)
            .channelOption(.writeBufferWaterMark,
                           value: .init(low: settings.writeBufferLow, high: settings.writeBufferHigh))
            .channelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(
                minimum: 2048, initial: NinePSockets.initialReadSize, maximum: settings.maxReadSize))
            .channelInitializer(channelInitializer)
        switch address {
        case .tcp:
            do {
                return bootstrap.connect(to: try address.socketAddress())
            } catch {
                return eventLoop.next().makeFailedFuture(error)
            }
        case .unix(let path):
            return bootstrap.connect(unixDomainSocketPath: path)
        }
    }

    /// Reads TCP_NODELAY back from a channel's socket (nil for non-TCP sockets or on error). For tests and
    /// diagnostics.
    public static func noDelay(of channel: any Channel) async -> Bool? {
        guard let local = channel.localAddress, local.protocol == .inet || local.protocol == .inet6 else {
            return nil
        }
        guard let value = try? await channel.getOption(.tcpOption(.tcp_nodelay)).get() else { return nil }
        return value != 0
    }
}

/// On a listening channel: when an accept fails, stops accepting for `NinePSockets.acceptBackoff` and says
/// why through `report`, once until a connection is accepted again. (SwiftNIO's AcceptBackoffHandler does
/// not stop the spin here: after a failed accept the channel stays registered for reading, since only an
/// accept that succeeds ends its pending read, so epoll reported it readable at once, 4,000 times a second.
/// Turning autoRead off takes it out of epoll; turning it back on accepts again.)
final class AcceptBackoff: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel
    private let report: (@Sendable (String) -> Void)?
    private var said = false
    private var paused = false

    init(report: (@Sendable (String) -> Void)?) { self.report = report }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        said = false
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Not passed on: a failed accept closes nothing, and the listener goes on.
        if !said {
            said = true
            report?(NetworkErrorText.describe(error))
        }
        guard !paused, let options = context.channel.syncOptions else { return }
        paused = true
        try? options.setOption(.autoRead, value: false)
        context.eventLoop.assumeIsolated().scheduleTask(in: NinePSockets.acceptBackoff) {
            self.paused = false
            try? options.setOption(.autoRead, value: true)
        }
    }
}
