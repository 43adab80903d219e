import Foundation
import NinePCapture
import NinePTestSupport
import NinePWire
import Testing
@testable import NinePNIO

@Suite(.timeLimit(.minutes(2))) struct CaptureFileSinkTests {
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

    /// A failed write ends the capture there: later bytes are not written (no hole in the file), the error
    /// is handed once to the handler (at once to one registered later) and thrown by flush and close.
    @Test func aFailedWriteEndsTheCaptureAndIsReportedOnce() throws {
        let sink = try CaptureFileSink(path: "/dev/full", writeThreshold: 1000, flushEvery: .seconds(3600))
        let calls = Locked<[CaptureFileError]>([])
        sink.whenWriteFails { e in calls.withLock { $0.append(e) } }
        sink.append([UInt8](repeating: 1, count: 500))
        #expect(calls.withLock { $0 }.isEmpty)
        sink.append([UInt8](repeating: 2, count: 600))   // past the threshold: written now, and refused
        let first = try #require(calls.withLock { $0 }.first)
        #expect(first.errno == ENOSPC && first.path == "/dev/full", "\(first)")
        #expect(first.description == "write /dev/full: No space left on device", "\(first)")
        let appended = sink.bytesAppended
        sink.append([UInt8](repeating: 3, count: 5000))
        [UInt8](repeating: 4, count: 5000).withUnsafeBytes { sink.append(copying: $0) }
        #expect(sink.bytesAppended == appended, "nothing more is taken")
        #expect(throws: CaptureFileError.self) { try sink.flush() }
        #expect(calls.withLock { $0 }.count == 1)
        let late = Locked(0)
        sink.whenWriteFails { _ in late.withLock { $0 += 1 } }
        #expect(late.withLock { $0 } == 1)
        #expect(throws: CaptureFileError.self) { try sink.close() }
        #expect(sink.lastError == first)
    }

    /// A 1 MiB file system (tmpfs; mounting it needs root, so elsewhere this is skipped) fills during a
    /// direct-I/O capture: the write that fills it is taken in part, the capture stops there, and
    /// `bytesWritten` says how much reached the file.
    @Test(.enabled(if: CaptureFileSinkTests.canMountSmallFileSystems))
    func aFullFileSystemStopsTheCaptureWhereItFilled() throws {
        let dir = try #require(Self.smallFileSystem())
        defer { Self.unmount(dir) }
        let path = dir + "/capture"
        let sink = try CaptureFileSink(path: path, writeThreshold: 4 << 20, flushEvery: .seconds(3600))
        let calls = Locked(0)
        sink.whenWriteFails { _ in calls.withLock { $0 += 1 } }
        let chunk = [UInt8](repeating: 0x5A, count: 64 << 10)
        for _ in 0..<32 { chunk.withUnsafeBytes { sink.append(copying: $0) } }   // 2 MiB into 1 MiB
        #expect(throws: CaptureFileError.self) { try sink.close() }
        #expect(sink.lastError?.errno == ENOSPC, "\(String(describing: sink.lastError))")
        #expect(calls.withLock { $0 } == 1)
        let onDisk = try #require(FileManager.default.contents(atPath: path))
        #expect(onDisk.count > 0 && onDisk.count <= 1 << 20)
        #expect(sink.bytesWritten == onDisk.count, "counted \(sink.bytesWritten), on disk \(onDisk.count)")
        #expect(onDisk.allSatisfy { $0 == 0x5A }, "only what was appended, in order")
    }

    /// Whether this test process may mount a tmpfs (tried once, and unmounted).
    static let canMountSmallFileSystems: Bool = {
        guard let dir = smallFileSystem() else { return false }
        unmount(dir)
        return true
    }()

    static func unmount(_ dir: String) {
        _ = try? Peers.run("/bin/umount", [dir])
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// A fresh 1 MiB tmpfs, or nil where it cannot be mounted.
    static func smallFileSystem() -> String? {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/bin/mount") else { return nil }
        let dir = NSTemporaryDirectory() + "nio-small-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard (try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)) != nil,
              let r = try? Peers.run("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir]), r.status == 0
        else {
            try? FileManager.default.removeItem(atPath: dir)
            return nil
        }
        return dir
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

    /// `append(copying:)` (what the recorder uses) and `append` mixed, in both modes and across a refused
    /// direct write: the file holds exactly the bytes in append order, whether written by the appender, a
    /// flush or the close; the caller's buffer can be reused at once.
    @Test(arguments: [(true, nil), (false, nil), (true, 2)] as [(Bool, Int?)])
    func copiedAndQueuedAppendsReachTheFileInOrder(direct: Bool, refuseAfter: Int?) throws {
        let path = tempPath("copying-\(direct)-\(refuseAfter ?? -1)")
        let sink = try CaptureFileSink(path: path, writeThreshold: 10_000, flushEvery: .seconds(3600), directIO: direct,
                                       refusingDirectWritesAfter: refuseAfter, eventLoop: NinePSockets.group.next())
        #if os(Linux)
        if direct { try #require(sink.writesDirectly) }
        #endif
        var expected: [UInt8] = []
        var reused: [UInt8] = []
        var rng = SplitMix(seed: direct ? 11 : 12)
        for round in 0..<60 {
            let count = Int(rng.next() % 9000)
            let chunk = (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if rng.next() % 3 == 0 {
                sink.append(chunk)
            } else {
                reused.removeAll(keepingCapacity: true)
                reused += chunk
                reused.withUnsafeBytes { sink.append(copying: $0) }
                for i in reused.indices { reused[i] = 0xEE }   // the sink must have copied
            }
            expected += chunk
            #expect(sink.bytesAppended == expected.count)
            if round % 7 == 6 {
                try sink.flush()
                #expect(sink.bytesWritten == expected.count)
                let ok = holds(path, expected)
                #expect(ok, "round \(round)")
            } else if sink.writesDirectly {
                // The appender wrote whole blocks of a full staging buffer, no more.
                let onFile = try #require(FileManager.default.contents(atPath: path))
                let prefixMatches = Array(onFile) == Array(expected.prefix(onFile.count))
                #expect(prefixMatches, "round \(round)")
            }
        }
        if refuseAfter != nil { #expect(!sink.writesDirectly) }
        #expect(sink.lastError == nil)
        try sink.close()
        let closedOK = holds(path, expected)
        #expect(closedOK)
        [1, 2, 3].withUnsafeBytes { sink.append(copying: $0) }   // ignored after close
        let unchanged = holds(path, expected)
        #expect(unchanged)
        try? FileManager.default.removeItem(atPath: path)
    }

    /// With direct I/O, copied appends fill the staging buffer and only a full one is written by the appender.
    @Test func copiedAppendsAreWrittenWhenTheStagingBufferIsFull() throws {
        let path = tempPath("staging")
        let sink = try CaptureFileSink(path: path, writeThreshold: 1 << 20, flushEvery: .seconds(3600))
        try #require(sink.writesDirectly)
        let bytes = (0..<(1 << 20) + 5000).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ $0 >> 9) }
        var i = 0
        while i < (1 << 20) - 1000 {
            bytes[i..<(i + 1000)].withUnsafeBytes { sink.append(copying: $0) }
            i += 1000
        }
        #expect(sink.bytesWritten == 0)
        bytes[i...].withUnsafeBytes { sink.append(copying: $0) }
        #expect(sink.bytesWritten == 1 << 20)
        let blocksOK = holds(path, Array(bytes[..<(1 << 20)]))
        #expect(blocksOK)
        try sink.close()
        let allOK = holds(path, bytes)
        #expect(allOK)
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

    /// `switchFile(to:)`: what was appended before goes to the first file (fsync'ed and closed), what comes
    /// after to the second, with direct I/O on both; the byte counters run on over the files.
    @Test(arguments: [true, false]) func switchingFilesSplitsTheBytesWhereAsked(direct: Bool) throws {
        let first = tempPath("switch-a"), second = tempPath("switch-b")
        let sink = try CaptureFileSink(path: first, writeThreshold: 1 << 20, flushEvery: .seconds(3600), directIO: direct)
        let a = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let b = (0..<9_001).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        a.withUnsafeBytes { sink.append(copying: $0) }
        sink.append([1, 2, 3])
        try sink.switchFile(to: second)
        #expect(sink.path == second)
        #expect(holds(first, a + [1, 2, 3]), "the first file is complete at the switch")
        b.withUnsafeBytes { sink.append(copying: $0) }
        #expect(sink.writesDirectly == direct, "the new file is written as the first was")
        try sink.close()
        #expect(holds(first, a + [1, 2, 3]))
        #expect(holds(second, b))
        #expect(sink.bytesWritten == a.count + 3 + b.count && sink.bytesAppended == sink.bytesWritten)
        // A file that cannot be made ends the capture, as a failed write does.
        let third = try CaptureFileSink(path: tempPath("switch-c"))
        #expect(throws: CaptureFileError.self) { try third.switchFile(to: "/nonexistent-dir/x.pcapng") }
        #expect(third.lastError?.operation == "open")
        for path in [first, second] { try? FileManager.default.removeItem(atPath: path) }
    }
}
