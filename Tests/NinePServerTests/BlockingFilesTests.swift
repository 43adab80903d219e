import Foundation
import Glibc
import NinePDrivers
import NinePServer
import NinePTestSupport
import NinePWire
import Testing

/// The local driver serves FIFOs (and devices) without stalling anyone else: opening a FIFO waits for
/// its other end, and its reads and writes wait for the other process, so they run off the event loops
/// that the server's connections share. Over real sockets, with more clients than there are loops.
@Suite struct BlockingFilesTests {
    @Test func aFifoWaitingForItsWriterStallsNoOtherConnection() async throws {
        let dir = try TempDirectory("fifo"); defer { dir.remove() }
        #expect(mkfifo(dir.file("pipe"), 0o644) == 0)
        try dir.write("f", "plain")
        let server = try await SocketServer.start(try LocalDriver(root: dir.path))
        defer { Task { await server.stop() } }

        // A client opens the FIFO for reading: nobody writes to it yet, so the open waits.
        let reader = try await server.client()
        _ = try await reader.version()
        _ = try await reader.attach(0)
        _ = try await reader.walk(0, 1, ["pipe"])
        let openTag = await reader.send(.tlopen(Tlopen(fid: 1, flags: .rdonly)))

        // Meanwhile every other client, on every event loop, is served at once.
        for i in 0..<(2 * max(2, ProcessInfo.processInfo.activeProcessorCount) + 1) {
            let c = try await server.client()
            _ = try await c.version()
            _ = try await c.attach(0)
            let f = try await c.walkTo(0, "f")
            _ = try await c.lopen(f)
            #expect(try await c.read(f) == Array("plain".utf8), "client \(i)")
            await c.close()
        }

        // The writer comes: the open completes and the data arrives; its close is the end of the stream.
        let writer = Glibc.open(dir.file("pipe"), O_WRONLY)
        #expect(writer >= 0)
        let sent = Array("through the pipe".utf8)
        #expect(sent.withUnsafeBytes { Glibc.write(writer, $0.baseAddress, $0.count) } == sent.count)
        guard case .rlopen? = await reader.reply(to: openTag)?.message else {
            Issue.record("the FIFO's Tlopen got no Rlopen"); Glibc.close(writer); return
        }
        #expect(try await reader.read(1, count: 100) == sent)
        Glibc.close(writer)
        #expect(try await reader.read(1, count: 100) == [])

        // Writing into a FIFO that the host reads (opened first, so the client's open does not wait).
        let hostReader = Glibc.open(dir.file("pipe"), O_RDONLY | O_NONBLOCK)
        #expect(hostReader >= 0)
        defer { Glibc.close(hostReader) }
        _ = try await reader.walk(0, 2, ["pipe"])
        _ = try await reader.lopen(2, .wronly)
        #expect(try await reader.write(2, offset: 12, Array("back".utf8)) == 4)   // a FIFO has no offsets
        var got = [UInt8](repeating: 0, count: 16)
        let n = got.withUnsafeMutableBytes { Glibc.read(hostReader, $0.baseAddress, 16) }
        #expect(n == 4 && Array(got.prefix(4)) == Array("back".utf8))
        await reader.close()
    }

    /// A Tflush ends a wait on a FIFO — an open waiting for a writer, a read waiting for data, a write
    /// waiting for room — at once: Rflush and no reply to the flushed request; the fid then works on.
    @Test func aFlushEndsAWaitOnAFifo() async throws {
        let dir = try TempDirectory("fifo-flush"); defer { dir.remove() }
        #expect(mkfifo(dir.file("pipe"), 0o644) == 0)
        let server = try await SocketServer.start(try LocalDriver(root: dir.path))
        defer { Task { await server.stop() } }
        let c = try await server.client()
        _ = try await c.version()
        _ = try await c.attach(0)

        /// Sends `m`, lets it start waiting, flushes it; true when Rflush came and `m` got no reply.
        func flushed(_ m: Message) async throws -> Bool {
            let tag = await c.send(m)
            try await Task.sleep(for: .milliseconds(150))
            guard case .rflush? = await c.reply(to: await c.send(.tflush(Tflush(oldtag: tag))))?.message else { return false }
            return await c.replies(tagged: tag).isEmpty
        }

        // Flushed the moment it is sent, before its thread has begun to open (or just after): Rflush
        // every time, never a wait for a writer that will not come.
        for n in 0..<30 {
            let f = c.freshFid()
            _ = try await c.walk(0, f, ["pipe"])
            let tag = await c.send(.tlopen(Tlopen(fid: f, flags: .rdonly)))
            guard case .rflush? = await c.reply(to: await c.send(.tflush(Tflush(oldtag: tag))))?.message else {
                Issue.record("no Rflush for an open flushed at once (round \(n))"); return
            }
            try await c.clunk(f)
        }

        // An open waiting for a writer: flushed, the fid stays unopened.
        _ = try await c.walk(0, 1, ["pipe"])
        #expect(try await flushed(.tlopen(Tlopen(fid: 1, flags: .rdonly))))
        #expect(try await c.expectError(.tread(Tread(fid: 1, offset: 0, count: 10))) != nil)

        // The host holds the FIFO open both ways (an O_RDWR open never waits): the open succeeds at once, a
        // read waits for data until flushed, then reads what the host writes.
        var host = Glibc.open(dir.file("pipe"), O_RDWR | O_NONBLOCK)
        #expect(host >= 0)
        defer { if host >= 0 { Glibc.close(host) } }
        _ = try await c.lopen(1, .rdonly)
        #expect(try await flushed(.tread(Tread(fid: 1, offset: 0, count: 100))))
        #expect(Glibc.write(host, "after", 5) == 5)
        #expect(try await c.read(1, count: 100) == Array("after".utf8))

        // A write waiting for room in a full pipe: flushed with nothing written; once the host has read
        // what filled it, the next write goes through.
        _ = try await c.walk(0, 2, ["pipe"])
        _ = try await c.lopen(2, .wronly)
        let chunk = [UInt8](repeating: 7, count: 4096)
        var filled = 0
        while chunk.withUnsafeBytes({ Glibc.write(host, $0.baseAddress, $0.count) }) > 0 { filled += 4096 }
        #expect(filled >= 4096, "the host could not fill the pipe")
        #expect(try await flushed(.twrite(Twrite(fid: 2, offset: 0, data: Array("late".utf8)))))
        var sink = [UInt8](repeating: 0, count: 65536)
        var drained = 0
        while true {
            let n = sink.withUnsafeMutableBytes { Glibc.read(host, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            drained += n
        }
        #expect(drained == filled, "the flushed write must not have put anything in the pipe")
        #expect(try await c.write(2, Array("late".utf8)) == 4)
        #expect(try await c.read(1, count: 100) == Array("late".utf8))

        // Every reader gone: a write answers EPIPE, and the server lives on.
        try await c.clunk(1)
        Glibc.close(host)
        host = -1
        #expect(try await c.expectError(.twrite(Twrite(fid: 2, offset: 0, data: [1]))) == .EPIPE)
        _ = try await c.getattr(0)
        await c.close()
    }
}
