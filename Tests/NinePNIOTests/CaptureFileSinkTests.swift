import Foundation
import NinePCapture
import NinePTestSupport
import NinePWire
import Testing
@testable import NinePNIO

@Suite(.timeLimit(.minutes(2))) struct CaptureFileSinkTests {
    /// Whether the file at `path` holds exactly `expected` (a Bool, so that a failure does not print megabytes).
    func holds(_ path: String, _ expected: [UInt8]) -> Bool {
        FileManager.default.contents(atPath: path).map(Array.init) == expected
    }

    func tempPath(_ name: String) -> String {
        NSTemporaryDirectory() + "nio-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    @Test func appendsReachTheFileOnFlushInOrder() throws {
        let path = tempPath("sink")
        let sink = try CaptureFileSink(path: path)
        var expected: [UInt8] = []
        for i in 0..<100 {
            let chunk = [UInt8](repeating: UInt8(i), count: i * 37 + 1)
            sink.append(chunk)
            expected += chunk
        }
        try sink.flush()
        #expect(sink.bytesWritten == expected.count)
        #expect(FileManager.default.contents(atPath: path).map(Array.init) == expected)
        try sink.close()
        sink.append([1, 2, 3])   // ignored after close
        try sink.flush()
        #expect(FileManager.default.contents(atPath: path).map(Array.init) == expected)
        try? FileManager.default.removeItem(atPath: path)
    }

    @Test func bufferedBytesAreWrittenWithoutAnExplicitFlush() async throws {
        let path = tempPath("timer")
        let sink = try CaptureFileSink(path: path, flushEvery: .milliseconds(100))
        sink.append(Array("periodic".utf8))
        let deadline = Date().addingTimeInterval(30)
        while sink.bytesWritten < 8 && Date() < deadline { try await Task.sleep(nanoseconds: 10_000_000) }
        #expect(FileManager.default.contents(atPath: path).map(Array.init) == Array("periodic".utf8))
        try sink.close()
        try? FileManager.default.removeItem(atPath: path)
    }

    @Test func largeAppendsAreWrittenByTheAppender() throws {
        let path = tempPath("big")
        let sink = try CaptureFileSink(path: path, writeThreshold: 1000, flushEvery: .seconds(3600), directIO: false)
        sink.append([UInt8](repeating: 9, count: 999))
        #expect(sink.bytesWritten == 0)
        sink.append([9, 9])
        #expect(sink.bytesWritten == 1001)
        try sink.close()
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Direct I/O writes whole 4 KiB blocks as they fill and the rest at each flush; whatever the sizes, the
    /// file holds exactly the bytes appended up to the last write, in both modes.
    @Test(arguments: [true, false]) func everyFlushLeavesExactlyTheAppendedBytes(direct: Bool) throws {
        let path = tempPath("direct-\(direct)")
        let sink = try CaptureFileSink(path: path, writeThreshold: 10_000, flushEvery: .seconds(3600), directIO: direct)
        #if os(Linux)
        if direct && !sink.writesDirectly { Issue.record("a regular file in \(path) is not written with O_DIRECT") }
        #endif
        if !direct { #expect(!sink.writesDirectly) }
        var expected: [UInt8] = []
        var rng = SplitMix(seed: direct ? 1 : 2)
        for round in 0..<40 {
            for _ in 0..<Int(rng.next() % 6) {
                let chunk = (0..<Int(rng.next() % 9000)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                sink.append(chunk)
                expected += chunk
            }
            if round % 3 == 0 {
                try sink.flush()
                #expect(sink.bytesWritten == expected.count)
                #expect(holds(path, expected), "round \(round)")
            } else if direct {
                // The appender wrote the whole blocks of what passed the threshold, no more.
                let onFile = try #require(FileManager.default.contents(atPath: path))
                #expect(onFile.count == sink.bytesWritten)
                let prefixMatches = Array(onFile) == Array(expected.prefix(onFile.count))
                #expect(prefixMatches)
            }
        }
        try sink.close()
        #expect(holds(path, expected))
        try? FileManager.default.removeItem(atPath: path)
    }

    @Test func theAppenderWritesWholeBlocksDirectly() throws {
        let path = tempPath("blocks")
        let sink = try CaptureFileSink(path: path, writeThreshold: 10_000, flushEvery: .seconds(3600))
        try #require(sink.writesDirectly)
        let bytes = (0..<10_001).map { UInt8(truncatingIfNeeded: $0 * 7) }
        sink.append(Array(bytes[..<9999]))
        #expect(sink.bytesWritten == 0)
        sink.append(Array(bytes[9999...]))
        #expect(sink.bytesWritten == 8192)
        #expect(holds(path, Array(bytes[..<8192])))
        try sink.flush()
        #expect(holds(path, bytes))
        try sink.close()
        try? FileManager.default.removeItem(atPath: path)
    }

    /// A file system that takes O_DIRECT but refuses a direct write: the sink goes on with buffered writes at
    /// the right offset, whether the refusal comes first or after direct writes and page-cache tails.
    @Test(arguments: [0, 3]) func aRefusedDirectWriteFallsBackToBufferedWrites(after: Int) throws {
        let path = tempPath("refused-\(after)")
        let sink = try CaptureFileSink(path: path, writeThreshold: 10_000, flushEvery: .seconds(3600), directIO: true,
                                       refusingDirectWritesAfter: after, eventLoop: NinePSockets.group.next())
        try #require(sink.writesDirectly)
        var expected: [UInt8] = []
        var rng = SplitMix(seed: UInt64(after) + 7)
        for round in 0..<12 {
            let chunk = (0..<Int(3000 + rng.next() % 9000)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            sink.append(chunk)
            expected += chunk
            if round % 2 == 1 {
                try sink.flush()
                #expect(holds(path, expected), "round \(round)")
            }
        }
        #expect(!sink.writesDirectly)
        #expect(sink.lastError == nil)
        try sink.close()
        #expect(holds(path, expected))
        try? FileManager.default.removeItem(atPath: path)
    }

    @Test func pipesAndDevicesAreWrittenBuffered() throws {
        let sink = try CaptureFileSink(path: "/dev/null", flushEvery: .seconds(3600))
        #expect(!sink.writesDirectly)
        sink.append([1, 2, 3])
        try sink.close()
    }

    @Test func openingAnImpossiblePathFails() {
        #expect(throws: CaptureFileError.self) { _ = try CaptureFileSink(path: "/nonexistent-dir/x.pcapng") }
    }

    @Test func recordedProxyEventsReadBackAsTheSameConversation() throws {
        let path = tempPath("rec") + ".pcapng"
        let sink = try CaptureFileSink(path: path)
        let recorder = CaptureRecorder(file: sink)
        let c = NinePWire.ConnectionID(3)
        let t0: Int64 = 1_700_000_000_000_000_000
        let big = F.rread(2, Array(repeating: 0xCD, count: 100_000))
        recorder.record([
            .opened(conn: c, client: .tcp(host: "127.0.0.1", port: 40001), upstream: .tcp(host: "127.0.0.1", port: 5640), at: t0),
            .frame(conn: c, direction: .toServer, at: t0 + 1, bytes: F.tversion(), marks: []),
            .frame(conn: c, direction: .toClient, at: t0 + 2, bytes: F.rversion(), marks: []),
            .frame(conn: c, direction: .toServer, at: t0 + 3, bytes: F.tread(2), marks: [.injected]),
            .frame(conn: c, direction: .toClient, at: t0 + 4, bytes: big, marks: [.intercepted]),
            .closed(conn: c, reason: .eof, at: t0 + 5),
        ])
        try sink.close()
        let contents = try NinePCapture.CaptureFile.decode(Array(try #require(FileManager.default.contents(atPath: path))))
        var toServer: [UInt8] = [], toClient: [UInt8] = []
        var opened = false, closed = false
        for e in contents.events {
            switch e {
            case .open: opened = true
            case .data(_, let d, _, let bytes, _): if d == .toServer { toServer += bytes } else { toClient += bytes }
            case .close: closed = true
            case .gap: Issue.record("gap in a recorded capture")
            }
        }
        #expect(opened && closed)
        #expect(toServer == F.tversion() + F.tread(2))
        #expect(toClient == F.rversion() + big)
        #expect(contents.ninescopeFormatVersion != nil)
        try? FileManager.default.removeItem(atPath: path)
    }
}
