import NinePDrivers
import NinePServer
import NinePTestSupport
import NinePWire
import Testing

/// Limits over real sockets: oversized frames, the fid limit, and garbage bytes. One bad connection
/// never affects another, and nothing crashes the server (it runs in this test process).
@Suite struct SocketLimitsTests {
    /// A client that has negotiated 9P2000.L with `msize` and attached fid 0.
    func attached(_ server: SocketServer, msize: UInt32 = 8192) async throws -> NinePTestClient {
        let c = try await server.client()
        try await c.version(msize: msize)
        try await c.attach(0)
        return c
    }

    /// Waits (bounded) until the server has closed the client's socket.
    func ended(_ c: NinePTestClient) async -> Bool {
        _ = await c.waitForClose()
        return await c.hasEnded
    }

    @Test(arguments: [SocketRoute.tcp, .unix])
    func frameLargerThanNegotiatedMsize(_ route: SocketRoute) async throws {
        let mem = MemoryDriver()
        try await mem.makeFile("f", contents: [1, 2, 3])
        let server = try await SocketServer.start(mem, route: route)
        let bystander = try await attached(server)
        let c = try await attached(server, msize: 8192)
        let tag = await c.send(.twrite(Twrite(fid: 0, offset: 0, data: [UInt8](repeating: 0, count: 9000))))
        guard case .rlerror(let e)? = await c.reply(to: tag)?.message else {
            Issue.record("expected Rlerror for the oversized Twrite")
            await server.stop()
            return
        }
        #expect(e.ecode == Errno(90))   // EMSGSIZE
        #expect(await ended(c))
        let reasons = await server.waitForCloses(1)
        #expect(reasons.contains { $0.contains("exceeds msize 8192") }, "close reasons: \(reasons)")
        // The other connection keeps working.
        let f = try await bystander.walkTo(0, "f")
        try await bystander.lopen(f)
        #expect(try await bystander.read(f) == [1, 2, 3])
        await bystander.close()
        await server.stop()
    }

    @Test(arguments: [SocketRoute.tcp, .unix])
    func frameLargerThanServerMaximum(_ route: SocketRoute) async throws {
        let server = try await SocketServer.start(MemoryDriver(), route: route, config: ServerConfig(maxMsize: 65_536))
        let bystander = try await attached(server)
        let c = try await server.client()
        // A size field of 2 GiB: nothing can be trusted after it; the socket is closed without buffering it.
        await c.sendRaw([0xFF, 0xFF, 0xFF, 0x7F, MessageType.twrite.rawValue, 1, 0, 0, 0, 0, 0])
        #expect(await ended(c))
        let reasons = await server.waitForCloses(1)
        #expect(reasons.contains { $0.contains("exceeds the limit 65536") }, "close reasons: \(reasons)")
        // A size below the header: also closed.
        let d = try await server.client()
        await d.sendRaw([3, 0, 0, 0, 0, 0, 0])
        #expect(await ended(d))
        #expect(try await bystander.getattr(0).qid.type.contains(.dir))
        await bystander.close()
        await server.stop()
    }

    @Test(arguments: [SocketRoute.tcp, .unix])
    func fidLimit(_ route: SocketRoute) async throws {
        let server = try await SocketServer.start(MemoryDriver(), route: route, config: ServerConfig(maxFids: 3))
        let c = try await attached(server)
        _ = try await c.walk(0, 1, [])
        _ = try await c.walk(0, 2, [])
        #expect(try await c.expectError(.twalk(Twalk(fid: 0, newfid: 3, wnames: []))) == .EMFILE)
        try await c.clunk(2)
        _ = try await c.walk(0, 3, [])
        // The limit is per connection: another client has its own three.
        let other = try await attached(server)
        _ = try await other.walk(0, 1, [])
        _ = try await other.walk(0, 2, [])
        #expect(try await other.expectError(.twalk(Twalk(fid: 0, newfid: 4, wnames: []))) == .EMFILE)
        await c.close()
        await other.close()
        await server.stop()
    }

    /// Seeded random bytes, random frames with valid headers, and mutated valid frames on many
    /// connections; afterwards the server still serves a fresh client.
    @Test(arguments: [SocketRoute.tcp, .unix])
    func garbageNeverCrashesTheServer(_ route: SocketRoute) async throws {
        let mem = MemoryDriver()
        try await mem.makeFile("f", contents: Array("still here".utf8))
        let server = try await SocketServer.start(mem, route: route)
        var rng = SeededBytes(seed: 0x5EED)
        let valid: [[UInt8]] = [
            Fcall(tag: .notag, .tversion(Tversion(msize: 8192, version: "9P2000.L"))).encode(dialect: .l),
            Fcall(tag: 1, .tattach(Tattach(fid: 0, uname: "u", aname: "", nUname: 0))).encode(dialect: .l),
            Fcall(tag: 2, .twalk(Twalk(fid: 0, newfid: 1, wnames: ["f"]))).encode(dialect: .l),
            Fcall(tag: 3, .tlopen(Tlopen(fid: 1, flags: .rdonly))).encode(dialect: .l),
            Fcall(tag: 4, .tread(Tread(fid: 1, offset: 0, count: 100))).encode(dialect: .l),
        ]
        for round in 0..<24 {
            let c = try await server.client()
            switch round % 3 {
            case 0:   // pure noise
                await c.sendRaw(rng.bytes(Int(rng.next() % 600) + 1))
            case 1:   // plausible headers, random bodies, random types
                for _ in 0..<8 {
                    let body = rng.bytes(Int(rng.next() % 64))
                    var frame = withUInt32(UInt32(7 + body.count))
                    frame += [UInt8(truncatingIfNeeded: rng.next()), UInt8(truncatingIfNeeded: rng.next()), 0]
                    await c.sendRaw(frame + body)
                }
            default:  // a valid session with one byte flipped somewhere after the size field
                for var frame in valid {
                    let at = 4 + Int(rng.next() % UInt64(frame.count - 4))
                    frame[at] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
                    await c.sendRaw(frame)
                }
            }
            await c.close()
        }
        let fresh = try await attached(server)
        let f = try await fresh.walkTo(0, "f")
        try await fresh.lopen(f)
        #expect(try await fresh.read(f) == Array("still here".utf8))
        await fresh.close()
        await server.stop()
    }
}

/// Little-endian bytes of a UInt32.
func withUInt32(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)] }

/// SplitMix64 for reproducible test bytes.
struct SeededBytes {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: next()) } }
}
