import NinePDrivers
import NinePServer
import NinePTestSupport
import NinePWire
import Testing

/// msize, fid limits, malformed frames, tags, read-only, concurrency and connection teardown.
@Suite struct LimitsTests {
    func client(_ driver: some FileSystemDriver = MemoryDriver(), config: ServerConfig = ServerConfig()) async throws -> NinePTestClient {
        let c = await NinePTestClient.connect(driver: driver, config: config)
        try await c.version(msize: 8192)
        try await c.attach(0)
        return c
    }

    @Test func frameLargerThanMsizeClosesTheConnection() async throws {
        let c = try await client()
        let tag = await c.send(.twrite(Twrite(fid: 0, offset: 0, data: [UInt8](repeating: 0, count: 9000))))
        let r = await c.reply(to: tag)
        guard case .rlerror(let e)? = r?.message else { Issue.record("expected an error reply, got \(String(describing: r))"); return }
        #expect(e.ecode == Errno(90))
        #expect(await c.waitForClose() == .frameTooLarge(size: 9000 + 23, msize: 8192))
    }

    @Test func repliesStayWithinMsize() async throws {
        let mem = MemoryDriver()
        try await mem.makeFile("big", contents: [UInt8](repeating: 7, count: 20_000))
        let c = try await client(mem)
        let f = try await c.walkTo(0, "big")
        let o = try await c.lopen(f)
        #expect(o.iounit == 8192 - 24)
        let data = try await c.read(f, count: 100_000)
        #expect(data.count == 8192 - 24)
    }

    @Test func fidLimit() async throws {
        let c = try await client(config: ServerConfig(maxFids: 3))
        _ = try await c.walk(0, 1, [])
        _ = try await c.walk(0, 2, [])
        #expect(try await c.expectError(.twalk(Twalk(fid: 0, newfid: 3, wnames: []))) == .EMFILE)
        try await c.clunk(2)
        _ = try await c.walk(0, 3, [])
        #expect(await c.connection.fidCount == 3)
    }

    @Test func malformedFrames() async throws {
        let c = try await client()
        // A readable header with a truncated body: an error for that tag, and the connection lives on.
        await c.sendRaw([10, 0, 0, 0, MessageType.twalk.rawValue, 5, 0, 1, 0, 0])
        guard case .rlerror(let e)? = await c.reply(to: 5)?.message else { Issue.record("expected Rlerror for tag 5"); return }
        #expect(e.ecode == .EPROTO)
        // Unknown type, and a reply type sent as a request.
        await c.sendRaw([7, 0, 0, 0, 200, 6, 0])
        #expect(await c.reply(to: 6)?.message == .rlerror(Rlerror(ecode: .EOPNOTSUPP)))
        await c.sendRaw([7, 0, 0, 0, MessageType.rclunk.rawValue, 7, 0])
        #expect(await c.reply(to: 7)?.message == .rlerror(Rlerror(ecode: .EOPNOTSUPP)))
        #expect(try await c.getattr(0).qid.type.contains(.dir))
        // A size field that does not match the frame: close.
        await c.sendRaw([99, 0, 0, 0, MessageType.tclunk.rawValue, 8, 0, 0, 0, 0, 0])
        guard case .malformedFrame? = await c.waitForClose() else { Issue.record("expected a close for a bad size field"); return }
        let short = try await client()
        await short.sendRaw([3, 0, 0])
        guard case .malformedFrame? = await short.waitForClose() else { Issue.record("expected a close for a short frame"); return }
    }

    @Test func readOnly() async throws {
        let mem = MemoryDriver()
        try await mem.makeFile("f", contents: [1])
        let c = try await client(mem, config: ServerConfig(readOnly: true))
        #expect(try await c.expectError(.tmkdir(Tmkdir(dfid: 0, name: "d", mode: 0o755, gid: 0))) == .EROFS)
        let f = try await c.walkTo(0, "f")
        #expect(try await c.expectError(.tlopen(Tlopen(fid: f, flags: .rdwr))) == .EROFS)
        try await c.lopen(f)
        #expect(try await c.read(f) == [1])
        #expect(try await c.expectError(.tunlinkat(Tunlinkat(dirfid: 0, name: "f", flags: 0))) == .EROFS)
    }

    @Test func concurrentRequestsTagsAndFlush() async throws {
        let c = try await client(SyntheticDriver())
        let f = try await c.walkTo(0, "FLUSH")
        try await c.lopen(f, .wronly)
        let blocked = await c.send(.twrite(Twrite(fid: f, offset: 0, data: [1])), tag: 40)
        // Replies come out of order: a later request finishes while the write is pending.
        let later = await c.send(.tgetattr(Tgetattr(fid: 0, requestMask: .basic)), tag: 41)
        guard case .rgetattr? = await c.reply(to: later)?.message else { Issue.record("expected Rgetattr"); return }
        // Reusing a pending tag is an error (answered on that tag), the pending request is untouched.
        let reuse = await c.send(.tgetattr(Tgetattr(fid: 0, requestMask: .basic)), tag: blocked)
        guard case .rlerror(let e)? = await c.reply(to: reuse)?.message else { Issue.record("expected Rlerror"); return }
        #expect(e.ecode == .EBUSY)
        #expect(await c.connection.pendingCount == 1)
        // Two flushes of the same request: both answered, the write never.
        let f1 = await c.send(.tflush(Tflush(oldtag: blocked)), tag: 42)
        let f2 = await c.send(.tflush(Tflush(oldtag: blocked)), tag: 43)
        #expect(await c.reply(to: f1)?.message == .rflush)
        #expect(await c.reply(to: f2)?.message == .rflush)
        #expect(await c.replies(tagged: blocked).filter { $0.message.type != .rlerror }.isEmpty)
        #expect(await c.connection.pendingCount == 0)
    }

    @Test func versionAbortsPendingAndClunksFids() async throws {
        let c = try await client(SyntheticDriver())
        let f = try await c.walkTo(0, "FLUSH")
        try await c.lopen(f, .wronly)
        let blocked = await c.send(.twrite(Twrite(fid: f, offset: 0, data: [1])), tag: 50)
        try await c.version(msize: 8192)
        #expect(await c.connection.pendingCount == 0)
        #expect(await c.connection.fidCount == 0)
        #expect(await c.replies(tagged: blocked).isEmpty)
    }

    @Test func closingReleasesOpenFiles() async throws {
        let mem = MemoryDriver()
        let c = try await client(mem)
        let f = try await c.walkTo(0, "")
        try await c.lcreate(f, "tmp")
        try await c.write(f, [1, 2, 3])
        try await c.unlinkat(0, "tmp")
        #expect(await mem.inodeCount == 2)   // the root and the open, unlinked file
        await c.connection.closed()
        #expect(await c.connection.fidCount == 0)
        #expect(await mem.inodeCount == 1)   // released when the connection closed
    }
}
