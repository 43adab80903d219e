import NinePTestSupport
import Foundation
import NIOCore
import NIOPosix
import NinePServer
import NinePWire
import Testing
@testable import NinePNIO

/// The proxy over real loopback sockets: byte exactness, half-close, reset, backpressure, injection and
/// flush, unix listeners. No timing assertions: every wait is "until it happens, or a generous timeout".
@Suite(.timeLimit(.minutes(5))) struct ProxySocketTests {
    @Test func relayIsByteExactBothWaysWithAnyContent() async throws {
        let echo = try await RawServer.start(echo: true)
        let events = EventBox()
        let (proxy, bound) = try await startProxy(to: echo.address, events: events)
        let client = try await rawDial(bound)

        var rng = SplitMix(seed: 99)
        let junk = Array("not 9P at all\r\n".utf8)
        let malformed: [UInt8] = [3, 0, 0, 0, 1, 2, 3]
        let unknownType: [UInt8] = [10, 0, 0, 0, 0xEE, 1, 0, 0xAA, 0xBB, 0xCC]
        let big = F.twrite(7, (0..<300_000).map { _ in UInt8.random(in: 0...255, using: &rng) })
        // (An unknown type right after garbage could not be told from garbage: put it before.)
        let stream = junk + F.tversion() + unknownType + malformed + big + F.tclunk(8, fid: 1)
        for piece in randomPieces(stream, rng: &rng, maxPiece: 50_000) { try await client.send(piece) }
        try await client.shutdownOutput()

        #expect(await client.wait { $0.ended })
        #expect(client.error == nil)
        #expect(client.received == stream)
        let upstreamSide = try #require(await echo.firstConnection())
        #expect(upstreamSide.received == stream)
        #expect(await events.wait { $0.contains { if case .closed = $0 { return true } else { return false } } })
        // Echoed T-messages are garbage in the server→client direction, and random payload bytes there may
        // look like the start of a frame: a clean EOF, possibly mid-frame in that direction.
        #expect(events.closeReasons() == [.eof] || events.closeReasons() == [.midFrame(.toClient)])
        // The tap saw every frame towards the server.
        let framed = [F.tversion(), unknownType, big, F.tclunk(8, fid: 1)]
        #expect(events.frames(.toServer).map(\.bytes).filter { framed.contains($0) }.count == framed.count)
        #expect(!events.garbage(.toServer).isEmpty)
        if case .opened(_, let c, let u, _)? = events.all.first {
            #expect(c?.isTCP == true)
            #expect(u == echo.address)
        } else {
            Issue.record("first event is not .opened")
        }
        await proxy.stop()
        await echo.stop()
    }

    @Test func manyShortConnectionsThatHalfCloseAtOnce() async throws {
        let echo = try await RawServer.start(echo: true)
        let events = EventBox()
        let (proxy, bound) = try await startProxy(to: echo.address, events: events)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<20 {
                group.addTask {
                    let client = try await rawDial(bound)
                    let request = F.tread(UInt16(i), count: UInt32(i))
                    try await client.send(request)   // possibly before the proxy's upstream dial completed
                    try await client.shutdownOutput()
                    #expect(await client.wait { $0.ended })
                    #expect(client.received == request)
                }
            }
            try await group.waitForAll()
        }
        #expect(await events.wait { _ in events.closeReasons().count == 20 })
        #expect(events.closeReasons().allSatisfy { $0 == .eof })
        let ids = Set(events.all.map(\.conn))
        #expect(ids == Set((0..<20).map { NinePWire.ConnectionID(UInt32($0)) }))
        #expect(proxy.connections.isEmpty)
        // Nothing of a finished connection stays behind: every relay pair is freed.
        var alive = proxy.relaysAlive
        for _ in 0..<500 where alive > 0 {
            try await Task.sleep(nanoseconds: 10_000_000)
            alive = proxy.relaysAlive
        }
        #expect(alive == 0, "\(alive) of 20 relay pairs still alive")
        await proxy.stop()
        await echo.stop()
    }

    @Test func halfCloseKeepsTheOtherDirectionOpen() async throws {
        let server = try await RawServer.start()
        let events = EventBox()
        let (proxy, bound) = try await startProxy(to: server.address, events: events)
        let client = try await rawDial(bound)
        try await client.send(F.tversion())
        try await client.shutdownOutput()
        let up = try #require(await server.firstConnection())
        #expect(await up.wait { $0.sawEOF })
        #expect(up.received == F.tversion())
        // The server still talks after the client's EOF; the client still hears it.
        try await up.send(F.rversion())
        #expect(await client.wait { $0.received == F.rversion() })
        #expect(!client.sawEOF)
        try await up.shutdownOutput()
        #expect(await client.wait { $0.ended })
        #expect(client.error == nil)
        #expect(await events.wait { $0.contains { if case .closed = $0 { return true } else { return false } } })
        #expect(events.closeReasons() == [.eof])
        await proxy.stop()
        await server.stop()
    }

    /// A server that answers and hangs up while a `--fault delay` rule holds its reply: the client gets the
    /// reply when its time is up, and only then the end of the stream.
    @Test func aHeldReplyComesBeforeTheServersHangUp() async throws {
        let server = try await RawServer.start()
        let events = EventBox()
        let (proxy, bound) = try await startProxy(to: server.address, events: events,
                                                  options: .init(faults: try FaultSpec(parsing: "delay=Tread:300ms")))
        let client = try await rawDial(bound)
        try await client.send(F.tversion() + F.tread(1))
        try await client.shutdownOutput()
        let up = try #require(await server.firstConnection())
        #expect(await up.wait { $0.sawEOF })
        try await up.send(F.rversion() + F.rread(1, [7, 7]))
        try await up.shutdownOutput()
        #expect(await client.wait { $0.ended })
        #expect(client.received == F.rversion() + F.rread(1, [7, 7]))
        #expect(await events.wait { $0.contains { if case .closed = $0 { return true } else { return false } } })
        #expect(events.frames(.toClient).last?.marks == [.delayed])
        await proxy.stop()
        await server.stop()
    }

    /// A raw server behind a proxy, a raw client through it, and the client's Tversion arrived upstream.
    struct Relayed {
        let server: RawServer, events: EventBox, proxy: NinePProxy, client: RawConn, up: RawConn
        func stop() async {
            await proxy.stop()
            await server.stop()
        }
    }

    func relayedTversion() async throws -> Relayed {
        let server = try await RawServer.start()
        let events = EventBox()
        let (proxy, bound) = try await startProxy(to: server.address, events: events)
        let client = try await rawDial(bound)
        try await client.send(F.tversion())
        let up = try #require(await server.firstConnection())
        #expect(await up.wait { $0.receivedCount == F.tversion().count })
        return Relayed(server: server, events: events, proxy: proxy, client: client, up: up)
    }

    /// The server hanging up first (an orderly EOF while the client still talks) is said as such; the
    /// client hanging up first is a plain EOF.
    @Test func anUpstreamThatHangsUpFirstIsNamed() async throws {
        let r = try await relayedTversion()
        let (events, client, up) = (r.events, r.client, r.up)
        try await up.shutdownOutput()
        #expect(await client.wait { $0.sawEOF })
        try await client.shutdownOutput()
        #expect(await events.wait { _ in !events.closeReasons().isEmpty })
        #expect(events.closeReasons() == [.closedByUpstream])
        #expect(ProxyCloseReason.closedByUpstream.shownReason == .error("closed by upstream"))
        #expect(ProxyCloseReason.closedByUpstream.sessionReason == .error("closed by upstream"))
        await r.stop()
    }

    /// A server that hangs up on an idle client ends the connection then, not when the client next writes
    /// or hangs up: the client gets what was sent and the EOF, and the close is reported at once (with the
    /// request still pending said unanswered then).
    @Test func anUpstreamThatHangsUpOnAnIdleClientEndsTheConnectionAtOnce() async throws {
        let r = try await relayedTversion()
        let (events, client, up) = (r.events, r.client, r.up)
        try await up.send(F.rversion())
        try await up.shutdownOutput()
        #expect(await client.wait { $0.sawEOF })
        #expect(client.received == F.rversion())
        // The client neither writes nor hangs up: the connection ends all the same.
        #expect(await events.wait(timeout: 5) { _ in events.closeReasons() == [.closedByUpstream] },
                "\(events.closeReasons())")
        #expect(r.proxy.connections.isEmpty)
        await r.stop()
    }

    @Test func clientResetResetsUpstream() async throws {
        let r = try await relayedTversion()
        let (events, client, up) = (r.events, r.client, r.up)
        try await client.reset()
        #expect(await up.wait { $0.isClosed })
        #expect(up.error?.contains("reset") == true || up.error?.contains("ECONNRESET") == true,
                "upstream saw: \(up.error ?? "no error")")
        #expect(await events.wait { !$0.isEmpty && events.closeReasons() == [.reset(.client)] })
        await r.stop()
    }

    @Test func upstreamResetResetsClient() async throws {
        let r = try await relayedTversion()
        try await r.up.reset()
        #expect(await r.client.wait { $0.isClosed })
        #expect(await r.events.wait { _ in r.events.closeReasons() == [.reset(.upstream)] })
        await r.stop()
    }

    @Test func dialFailureClosesTheClientAndIsReported() async throws {
        // A port that was free a moment ago: nothing listens there.
        let events = EventBox()
        let (proxy, bound) = try await startProxy(to: .tcp(host: "127.0.0.1", port: freeTCPPort()), events: events)
        let client = try await rawDial(bound)
        #expect(await client.wait { $0.ended })
        #expect(await events.wait { _ in
            if case .dialFailed? = events.closeReasons().first { return true } else { return false }
        })
        await proxy.stop()
    }

    /// How a client goes away while its upstream is still being dialled.
    enum Going: String, CaseIterable, Sendable { case reset, halfCloseThenReset, halfCloseThenClose }

    /// A client that goes while its upstream dial is under way (an upstream whose listen queue is full
    /// answers a SYN only after retries), the dial then succeeding: the connection ends as soon as the
    /// dial completes. (Before, an upstream the relay closed in the dial's own completion never became
    /// active, so its close was never counted: the connection stayed open for ever and a stop waited
    /// for it for ever — how a loop test once hung.)
    @Test(arguments: Going.allCases)
    func aClientGoneWhileItsDialIsUnderWayEndsWhenTheDialCompletes(going: Going) async throws {
        let listener = LoopbackSocket()
        defer { listener.close() }
        #expect(listen(listener.descriptor, 0) == 0)
        let queued = (0..<4).map { _ in LoopbackSocket.connectWithoutWaiting(to: listener.port) }
        defer { queued.forEach { _ = close($0) } }
        usleep(200_000)
        let events = EventBox()
        let (proxy, bound) = try await startProxy(to: .tcp(host: "127.0.0.1", port: listener.port), events: events,
                                                  options: .init(loopCheck: nil))
        let client = try await rawDial(bound)
        try await client.send(F.tversion())
        switch going {
        case .reset:
            try await client.reset()
        case .halfCloseThenReset:
            try await client.shutdownOutput()
            try await Task.sleep(nanoseconds: 50_000_000)
            try await client.reset()
        case .halfCloseThenClose:
            try await client.shutdownOutput()
            try await Task.sleep(nanoseconds: 50_000_000)
            try await client.channel.close()
        }
        try await Task.sleep(nanoseconds: 200_000_000)
        // Still dialling: nothing has ended it yet, or it ended at once (either is right; hanging is not).
        // Now let the upstream's queue drain, so that the SYN's next retry connects.
        var fl = fcntl(listener.descriptor, F_GETFL)
        fl |= O_NONBLOCK
        _ = fcntl(listener.descriptor, F_SETFL, fl)
        // Each connection accepted is closed at once (a server that hangs up: the half-closed client's
        // connection ends with it).
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline && !proxy.connections.isEmpty {
            let fd = accept(listener.descriptor, nil, nil)
            if fd >= 0 { _ = close(fd) } else { usleep(20_000) }
        }
        let open = proxy.connections.isEmpty ? [] : await proxy.lifecycles()
        #expect(proxy.connections.isEmpty, "\(going): still open \(open)")
        // A reset is named; after the client's EOF, the EOF names the end. A server that hangs up on a
        // half-closed client with its request unread resets.
        // (On a loaded machine the relay may read the client's RST before its FIN, 50 ms earlier: then the
        // reset names the end.)
        let reasons: [ProxyCloseReason] = switch going {
        case .reset: [.reset(.client)]
        case .halfCloseThenReset: [.eof, .reset(.client)]
        case .halfCloseThenClose: [.reset(.upstream)]
        }
        #expect(await events.wait(timeout: 5) { _ in
            events.closeReasons().count == 1 && reasons.contains(events.closeReasons()[0])
        }, "\(events.closeReasons())")
        #expect(proxy.stopsForced == 0)
        await proxy.stop()
        #expect(proxy.stopsForced == 0)
    }

    /// With frames reported, each 64 KiB body that ends a read is also written out from inside the read
    /// (`FrameCursor.earlyFlushBytes`), into an upstream that has stopped reading.
    @Test(arguments: [false, true])
    func slowReaderStopsTheProxyReadingWithBoundedBuffers(reportFrames: Bool) async throws {
        let server = try await RawServer.start(autoRead: false)
        let events = EventBox()
        let (proxy, bound) = try await startProxy(to: server.address, events: events,
                                                  options: .init(reportFrames: reportFrames))
        let client = try await rawDial(bound)
        // Well-formed Twrite frames (unless reported, the tap skips their bodies), about 1 MiB per chunk.
        let frame = F.twrite(1, [UInt8](repeating: 0x5A, count: 65536 - 23))
        let chunk: [UInt8] = {
            var c: [UInt8] = []
            for _ in 0..<16 { c += frame }
            return c
        }()
        let total = 48   // MiB: well above what kernel socket buffers can absorb
        let writer = Task {
            for _ in 0..<total { try await client.send(chunk) }
        }
        // Wait until the proxy's intake stops growing (kernel buffers full, proxy holding reads).
        let conn = NinePWire.ConnectionID(0)
        var last = -1
        var stable = 0
        var stats: RelayStats?
        for _ in 0..<6000 where stable < 50 {
            try await Task.sleep(nanoseconds: 10_000_000)
            stats = await proxy.stats(conn: conn)
            let now = stats?.bytesFromClient ?? 0
            stable = now == last && now > 0 ? stable + 1 : 0
            last = now
        }
        let s = try #require(stats)
        #expect(s.bytesFromClient < total * chunk.count)
        #expect(s.readsHeld > 0)
        #expect(s.bufferedToUpstream <= 2 << 20, "proxy buffered \(s.bufferedToUpstream) bytes")
        // Let the reader go: every byte arrives, unchanged.
        let up = try #require(await server.firstConnection())
        try await up.startReading()
        try await writer.value
        #expect(await up.wait(timeout: 120) { $0.receivedCount == total * chunk.count })
        let received = up.received
        #expect(received.count == total * chunk.count)
        // Compare chunk by chunk (fast even in debug builds).
        let mismatch = received.withUnsafeBytes { r in
            chunk.withUnsafeBytes { c in
                stride(from: 0, to: r.count, by: c.count).first { memcmp(r.baseAddress! + $0, c.baseAddress!, c.count) != 0 }
            }
        }
        #expect(mismatch == nil, "first differing chunk at byte \(mismatch ?? -1)")
        if reportFrames {
            #expect(await events.wait { _ in events.frames(.toServer).count == total * 16 })
            #expect(events.frames(.toServer).allSatisfy { $0.bytes == frame })
        }
        await proxy.stop()
        await server.stop()
    }

    @Test func unixListenerToTCPUpstreamReplacingAStaleSocketFile() async throws {
        let echo = try await RawServer.start(echo: true)
        let path = NSTemporaryDirectory() + "nio-proxy-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        makeStaleSocketFile(path)
        #expect(FileManager.default.fileExists(atPath: path))
        let events = EventBox()
        let (proxy, bound) = try await startProxy(to: echo.address, listen: .unix(path: path), events: events)
        #expect(bound == .unix(path: path))
        let client = try await rawDial(.unix(path: path))
        let stream = F.tversion() + F.tread(1)
        try await client.send(stream)
        #expect(await client.wait { $0.received == stream })
        #expect(await events.wait { _ in events.frames(.toServer).count == 2 && events.frames(.toClient).count == 2 })
        await proxy.stop()
        #expect(!FileManager.default.fileExists(atPath: path))
        await echo.stop()
    }

    @Test func everyTCPSocketHasNoDelay() async throws {
        let accepted = Box<ChannelBox>()
        let listener = try await NinePSockets.listen(.tcp(host: "127.0.0.1", port: 0)) { ch in
            accepted.value = ChannelBox(ch)
            return ch.eventLoop.makeSucceededVoidFuture()
        }
        let dialed = try await NinePSockets.dial(listener.localAddress) { $0.eventLoop.makeSucceededVoidFuture() }.get()
        #expect(await NinePSockets.noDelay(of: dialed) == true)
        let deadline = Date().addingTimeInterval(30)
        while accepted.value == nil && Date() < deadline { try await Task.sleep(nanoseconds: 2_000_000) }
        let child = try #require(accepted.value?.channel)
        #expect(await NinePSockets.noDelay(of: child) == true)
        try await dialed.close()
        await listener.close()

        // And the proxy's own pair.
        let echo = try await RawServer.start(echo: true)
        let events = EventBox()
        let (proxy, bound) = try await startProxy(to: echo.address, events: events)
        let client = try await rawDial(bound)
        try await client.send(F.tversion())
        #expect(await client.wait { $0.receivedCount == F.tversion().count })
        let stats = try #require(await proxy.stats(conn: NinePWire.ConnectionID(0)))
        #expect(stats.clientNoDelay == true)
        #expect(stats.upstreamNoDelay == true)
        await proxy.stop()
        await echo.stop()
    }
}

final class ChannelBox: @unchecked Sendable {
    // @unchecked: immutable after init.
    let channel: any Channel
    init(_ c: any Channel) { channel = c }
}

/// A loopback TCP port nobody listens on (bound and released).
func freeTCPPort() -> UInt16 {
    let socket = LoopbackSocket()
    defer { socket.close() }
    return socket.port
}

/// Leaves a unix socket file behind: bound, then closed without unlinking.
func makeStaleSocketFile(_ path: String) {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    var addr = sockaddr_un()
    addr.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &addr.sun_path) { raw in
        for (i, b) in path.utf8.enumerated() where i < raw.count - 1 { raw[i] = b }
    }
    _ = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    close(fd)
}
