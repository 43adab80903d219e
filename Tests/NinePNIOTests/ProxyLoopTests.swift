import Foundation
import NIOCore
import NinePWire
import Testing
@testable import NinePNIO

/// A loop through another process, told while the proxy runs (`LoopChain`), over real loopback sockets.
@Suite(.timeLimit(.minutes(5))) struct ProxyLoopTests {
    /// The sentences a proxy said of the loops it found.
    final class Said: @unchecked Sendable {
        // @unchecked: `lines` is only touched under `lock`.
        private let lock = NSLock()
        private var lines: [String] = []
        var add: @Sendable (String) -> Void { { line in self.lock.lock(); self.lines.append(line); self.lock.unlock() } }
        var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
    }

    static func opened(_ events: EventBox) -> Int {
        events.all.filter { if case .opened = $0 { return true } else { return false } }.count
    }

    /// Whether `bytes` are a loop probe's Tversion (`LoopChain.probeFrame`).
    static func isProbe(_ bytes: [UInt8]) -> Bool {
        guard let f = try? Fcall.decode(bytes, dialect: .l), case .tversion(let v) = f.message else { return false }
        return "\(v.version)".hasPrefix("ninescope-loop-check.")
    }

    static func loops(_ events: EventBox) -> Int {
        events.closeReasons().filter { if case .loop = $0 { return true } else { return false } }.count
    }

    /// Two proxies, each the other's upstream: a client of `a` is relayed to `b`, back to `a`, and so on.
    struct Looped {
        let a: NinePProxy, b: NinePProxy, boundA: Address, portB: UInt16
        let eventsA: EventBox, eventsB: EventBox, said: Said

        /// `listenA`: where `a` listens (`b` listens on a TCP port).
        static func start(listenA: Address = .tcp(host: "127.0.0.1", port: 0)) async throws -> Looped {
            let portB = freeTCPPort()
            let eventsA = EventBox(), eventsB = EventBox(), said = Said()
            let (a, boundA) = try await startProxy(to: .tcp(host: "127.0.0.1", port: portB), listen: listenA,
                                                   events: eventsA, options: .init(loopFound: said.add))
            let (b, _) = try await startProxy(to: boundA, listen: .tcp(host: "127.0.0.1", port: portB),
                                              events: eventsB, options: .init(loopFound: said.add))
            return Looped(a: a, b: b, boundA: boundA, portB: portB, eventsA: eventsA, eventsB: eventsB, said: said)
        }

        func stop() async {
            await a.stop()
            await b.stop()
            // Every connection reported its close: none had to be ended by the stop's grace.
            #expect(a.stopsForced + b.stopsForced == 0)
        }

        /// Both proxies' open connections, when some are (for a message when they do not end).
        func stillOpen() async -> [String] {
            a.connections.isEmpty && b.connections.isEmpty ? [] : await a.lifecycles() + b.lifecycles()
        }
    }

    /// Two proxies, each the other's upstream (a second proxy whose upstream is this one): a client's
    /// connection comes back in again and again. The first proxy finds the loop after sixteen links (the
    /// second would a link later), closes its connections (the client's first), which ends the second's
    /// too, and both stay up; a second client meets the same end, and is said again.
    @Test func twoProxiesThatAreEachOthersUpstreamEndTheLoop() async throws {
        let loop = try await Looped.start()
        let (a, b, eventsA, eventsB, said) = (loop.a, loop.b, loop.eventsA, loop.eventsB, loop.said)
        for round in 1...2 {
            let client = try await rawDial(loop.boundA)
            try await client.send(F.tversion())
            #expect(await client.wait { $0.ended }, "round \(round)")
            #expect(client.received.isEmpty)
            // Every connection of both proxies ends.
            let ended = await eventsA.wait { _ in a.connections.isEmpty && b.connections.isEmpty && Self.loops(eventsA) > 0 }
            let open = await loop.stillOpen()
            #expect(ended, "round \(round): still open \(open)")
            try await Task.sleep(nanoseconds: 100_000_000)
            #expect(a.connections.isEmpty && b.connections.isEmpty)
        }
        // Bounded: each round a few dozen connections at most, not thousands until descriptors run out.
        let opened = Self.opened(eventsA) + Self.opened(eventsB)
        #expect(opened < 160, "\(opened) connections")
        #expect(Self.loops(eventsA) + Self.loops(eventsB) >= 34)
        // The client's own connection (A's c0) ended as part of the loop, with the chain named: the chain
        // of 16 links the probe tested, or, when a longer one (the loop went on while the probe came back)
        // was found while the loop was certain and reached c0 first, that one (c0 → … → c18 once, under load).
        let first = eventsA.all.compactMap { if case .closed(0, let r, _) = $0 { return r } else { return nil } }.first
        let reason = first.map { "\($0)" } ?? ""
        let links = reason.hasPrefix("upstream loop (c0 → c1 → … → c")
            ? reason.dropFirst("upstream loop (c0 → c1 → … → c".count).prefix { $0.isNumber } : ""
        #expect(Int(links).map { $0 >= 16 } == true
                && reason.contains(": the Tversion came back in through the upstream \(links) times in "), "\(reason)")
        let lines = said.all
        #expect(lines.count >= 2)
        #expect(lines.allSatisfy { $0.contains("leads back to this proxy through another process") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("the upstream 127.0.0.1:\(loop.portB) leads back") }, "\(lines)")
        await loop.stop()
    }

    /// The same through a unix socket on one side: the check knows nothing of addresses.
    @Test func aLoopThroughAUnixSocketIsFoundToo() async throws {
        let path = NSTemporaryDirectory() + "nio-loop-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        defer { unlink(path) }
        let loop = try await Looped.start(listenA: .unix(path: path))
        let client = try await rawDial(loop.boundA)
        try await client.send(F.tversion())
        #expect(await client.wait { $0.ended })
        let ended = await loop.eventsA.wait { _ in Self.loops(loop.eventsA) > 0 && loop.a.connections.isEmpty
                                              && loop.b.connections.isEmpty }
        let open = await loop.stillOpen()
        #expect(ended, "still open: \(open)")
        // Either proxy may make it certain first (its probe back first); each names its own upstream.
        #expect(loop.said.all.contains { $0.hasPrefix("the upstream 127.0.0.1:\(loop.portB) leads back to this proxy")
                                         || $0.hasPrefix("the upstream unix:\(path) leads back to this proxy") },
                "\(loop.said.all)")
        await loop.stop()
    }

    /// A loop whose client says nothing (a port check that connects and hangs up) has no Tversion to tell it
    /// by, and went on for ever, each connection closing behind the one dialling ahead. After a silent
    /// chain of 64 the dials are held until a client speaks, which ends it, and the probe coming back
    /// makes it certain.
    @Test func aLoopOfSilentClientsEnds() async throws {
        let loop = try await Looped.start()
        let (a, b, eventsA, eventsB, said) = (loop.a, loop.b, loop.eventsA, loop.eventsB, loop.said)
        let client = try await rawDial(loop.boundA)
        try await client.shutdownOutput()
        #expect(await eventsA.wait { _ in said.all.contains { $0.contains("none of them saying a word") } }, "\(said.all)")
        let ended = await eventsA.wait { _ in a.connections.isEmpty && b.connections.isEmpty }
        let open = await loop.stillOpen()
        #expect(ended, "still open \(open)")
        // Over: no connection comes any more.
        try await Task.sleep(nanoseconds: 300_000_000)
        let opened = Self.opened(eventsA) + Self.opened(eventsB)
        try await Task.sleep(nanoseconds: 300_000_000)
        #expect(Self.opened(eventsA) + Self.opened(eventsB) == opened)
        // Bounded: a chain of 65 is some 130 connections of the two proxies; a link slower than the silent
        // window (10 ms, on a loaded machine) starts the count again, so a few chains may come first (408
        // once, under a parallel test run), but not thousands until descriptors run out.
        #expect(opened < 1000, "\(opened) connections")
        let line = said.all.first { $0.contains("none of them saying a word") } ?? ""
        #expect(line.contains(" leads back to this proxy through another process (c"), "\(line)")
        #expect(line.contains(": 65 clients in a row, each accepted just after the one before dialled the upstream, in "),
                "\(line)")
        #expect(line.contains("none of them saying a word, and ninescope's own Tversion came back in as c"), "\(line)")
        await loop.stop()
    }

    /// The loop of a client that connects and waits: held at the silent chain's end, made certain by the
    /// probe, said, and its connections closed; the waiting client's ends too, without its hanging up, and
    /// nothing is left open. (Its own connection is closed by the proxy when it is in the chain found. A
    /// first link slower than the silent window, on a loaded machine, leaves it out of the chain: the
    /// chain's closing then reaches it as the upstream's EOF, and the proxy closes it as it does whenever
    /// the server hangs up first.)
    @Test func aLoopOfAWaitingClientIsFoundAndClosed() async throws {
        let loop = try await Looped.start()
        let (a, b, eventsA, eventsB, said) = (loop.a, loop.b, loop.eventsA, loop.eventsB, loop.said)
        let client = try await rawDial(loop.boundA)
        #expect(await eventsA.wait { _ in said.all.contains { $0.contains("none of them saying a word") } }, "\(said.all)")
        #expect(await client.wait { $0.ended })
        let ended = await eventsA.wait { _ in a.connections.isEmpty && b.connections.isEmpty }
        let open = await loop.stillOpen()
        #expect(ended, "still open \(open)")
        let opened = Self.opened(eventsA) + Self.opened(eventsB)
        #expect(opened < 1000, "\(opened) connections (bounded: as in aLoopOfSilentClientsEnds)")
        try await Task.sleep(nanoseconds: 300_000_000)
        #expect(Self.opened(eventsA) + Self.opened(eventsB) == opened)
        await loop.stop()
    }

    /// Many clients opened one after another before any of them speaks (a pool opened up front) look like
    /// a silent chain; they then speak, so nothing is said, and each is relayed (dialled once it spoke).
    @Test func manyClientsOpenedBeforeTheySpeakAreNoLoop() async throws {
        let server = try await RawServer.start()
        let events = EventBox()
        let said = Said()
        let (proxy, bound) = try await startProxy(to: server.address, events: events, options: .init(loopFound: said.add))
        var clients: [RawConn] = []
        for _ in 0..<150 { clients.append(try await rawDial(bound)) }
        // Those after the 64th link (the 65th client, if every link held) wait to be dialled.
        try await Task.sleep(nanoseconds: 200_000_000)
        // (The server also gets the probe's connection, and its Tversion: a silent server never answers it.)
        #expect(server.connections.count >= 64 && server.connections.count <= 150, "\(server.connections.count)")
        for (i, c) in clients.enumerated() { try await c.send(F.tversion(msize: 8192 + UInt32(i))) }
        let wanted = Set((0..<150).map { F.tversion(msize: 8192 + UInt32($0)) })
        #expect(await events.wait { _ in
            Set(server.connections.map(\.received).filter { !Self.isProbe($0) }) == wanted
        })
        #expect(server.connections.filter { Self.isProbe($0.received) }.count <= 1)
        try await Task.sleep(nanoseconds: 1_200_000_000)
        #expect(said.all.isEmpty, "\(said.all)")
        await proxy.stop()
        await server.stop()
    }

    /// A chain that is no loop (here two like clients of a server that answers nothing, one link making a
    /// chain) is probed: the server gets the probe's own connection and Tversion, nothing comes back in,
    /// and nothing is closed. From the probe on, a new client's upstream is dialled only once the client
    /// has sent something: a client that talks is relayed as ever, byte for byte; one that hangs up first
    /// never reaches the server.
    @Test func aProbedChainThatIsNoLoopClosesNothingAndHoldsTheDials() async throws {
        let server = try await RawServer.start()
        let events = EventBox()
        let said = Said()
        let check = LoopChain(hops: 1, window: 60_000_000_000, hold: 60_000_000_000, nonce: 0xabc)
        let (proxy, bound) = try await startProxy(to: server.address, events: events,
                                                  options: .init(loopCheck: check, loopFound: said.add))
        let first = try await rawDial(bound)
        try await first.send(F.tversion())
        let up = try #require(await server.firstConnection())
        #expect(await up.wait { $0.receivedCount == F.tversion().count })
        let second = try await rawDial(bound)
        try await second.send(F.tversion())
        // The second's Tversion, then the probe on a connection of its own.
        #expect(await events.wait { _ in server.connections.count == 3 })
        let probe = check.probeFrame(1)
        #expect(await events.wait { _ in server.connections.contains { $0.received == probe } }, "no probe")
        #expect(server.connections.filter { $0.received == probe }.count == 1)
        #expect(Self.loops(events) == 0 && events.closeReasons().isEmpty)
        #expect(said.all.isEmpty)

        // Held: accepted, reported, not dialled.
        let third = try await rawDial(bound)
        #expect(await events.wait { _ in Self.opened(events) == 3 })
        try await Task.sleep(nanoseconds: 200_000_000)
        #expect(server.connections.count == 3)
        let hello = F.tversion(msize: 8192) + F.tclunk(1, fid: 7)
        try await third.send(hello)
        #expect(await events.wait { _ in server.connections.count == 4 })
        let up3 = server.connections[3]
        #expect(await up3.wait { $0.receivedCount == hello.count })
        #expect(up3.received == hello)
        try await up3.send(F.rversion(msize: 8192))
        #expect(await third.wait { $0.receivedCount == F.rversion(msize: 8192).count })
        #expect(third.received == F.rversion(msize: 8192))

        // Held, and gone before a byte: nothing reaches the server.
        let fourth = try await rawDial(bound)
        #expect(await events.wait { _ in Self.opened(events) == 4 })
        try await fourth.shutdownOutput()
        #expect(await fourth.wait { $0.ended })
        #expect(await events.wait { _ in events.closeReasons().count == 1 })
        #expect(events.closeReasons() == [.eof])
        #expect(server.connections.count == 4)
        #expect(proxy.connections == [0, 1, 2])
        #expect(!first.ended && !second.ended)
        await proxy.stop()
        await server.stop()
    }
}
