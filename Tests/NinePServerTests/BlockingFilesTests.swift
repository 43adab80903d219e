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
}
