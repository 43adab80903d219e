import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a capture file could not be opened or written.
public struct CaptureFileError: Error, Hashable, Sendable, CustomStringConvertible {
    public var path: String
    public var operation: String
    public var errno: Int32
    public var description: String { "\(operation) \(path): \(String(cString: strerror(errno)))" }
}

/// Owns a capture file's descriptor. `append` buffers bytes in memory (cheap, any thread); the buffer is
/// written to the file at least once a second on NIO's blocking-I/O thread pool (so a killed process
/// loses at most the last second), and written and fsync'ed on `flush()` and `close()`. The periodic
/// write does not fsync: that would add nothing against `kill -9` (written bytes are in the kernel) and,
/// holding the write lock for the disk, it stalled appenders of a busy capture. A large buffer
/// (≥ `writeThreshold`) is written at once by the appending thread. Signal handling belongs to the
/// executable: call `flush()` or `close()` from there.
///
/// (Named `CaptureFileSink` because NinePCapture already has a `CaptureFile`, the reading side.)
public final class CaptureFileSink: Sendable {
    public let path: String
    public let writeThreshold: Int
    private struct Buffer {
        /// Appended chunks, kept as given (no copy) and written with writev.
        var pending: [[UInt8]] = []
        var pendingBytes = 0
        var appended = 0
        var closed = false
        var error: CaptureFileError?
    }
    private let buffer = Locked(Buffer())
    /// Serialises writes so bytes reach the file in append order; holds the descriptor (-1 once closed).
    private let io: Locked<Int32>
    private let written = Locked(0)
    private let timer: Locked<RepeatedTask?> = Locked(nil)

    /// Creates (or truncates) `path` with mode 0644.
    public init(path: String, writeThreshold: Int = 4 << 20, flushEvery: TimeAmount = .seconds(1),
                eventLoop: any EventLoop = NinePSockets.group.next()) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CaptureFileError(path: path, operation: "open", errno: errno) }
        self.path = path
        self.writeThreshold = writeThreshold
        self.io = Locked(fd)
        let task = eventLoop.scheduleRepeatedTask(initialDelay: flushEvery, delay: flushEvery) { [weak self] _ in
            guard let self else { return }
            NIOThreadPool.singleton.submit { [self] state in
                guard state == .active else { return }
                try? self.writePending(sync: false)
            }
        }
        timer.withLock { $0 = task }
    }

    deinit {
        timer.withLock { $0?.cancel() }
        io.withLock { fd in
            if fd >= 0 { systemClose(fd); fd = -1 }
        }
    }

    /// Queues bytes for the file. Never blocks on the disk unless the buffer passed `writeThreshold`.
    public func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        let big = buffer.withLock { b -> Bool in
            guard !b.closed else { return false }
            b.pending.append(bytes)
            b.pendingBytes += bytes.count
            b.appended += bytes.count
            return b.pendingBytes >= writeThreshold
        }
        if big { try? writePending(sync: false) }
    }

    /// Bytes appended so far / bytes on disk so far.
    public var bytesAppended: Int { buffer.withLock { $0.appended } }
    public var bytesWritten: Int { written.withLock { $0 } }

    /// The first write error, if any.
    public var lastError: CaptureFileError? { buffer.withLock { $0.error } }

    /// Writes everything appended so far and fsyncs. Blocks the calling thread for the disk.
    public func flush() throws {
        try writePending(sync: true)
    }

    /// Flushes, fsyncs and closes the file. Later appends are ignored. Idempotent.
    public func close() throws {
        timer.withLock { $0?.cancel(); $0 = nil }
        defer {
            buffer.withLock { $0.closed = true }
            io.withLock { fd in
                if fd >= 0 { systemClose(fd); fd = -1 }
            }
        }
        try writePending(sync: true)
    }

    private func writePending(sync: Bool) throws {
        try io.withLock { fd in
            guard fd >= 0 else { return }
            let chunks = buffer.withLock { b -> [[UInt8]] in
                let c = b.pending
                b.pending = []
                b.pendingBytes = 0
                return c
            }
            do {
                try writeAll(fd, chunks)
                if sync && fsync(fd) != 0 && errno != EINVAL {
                    throw CaptureFileError(path: path, operation: "fsync", errno: errno)
                }
            } catch let e as CaptureFileError {
                buffer.withLock { if $0.error == nil { $0.error = e } }
                throw e
            }
        }
    }

    /// Writes `chunks` in order with writev, up to 512 chunks a call, resuming after partial writes.
    private func writeAll(_ fd: Int32, _ chunks: [[UInt8]]) throws {
        var index = 0
        var offset = 0   // bytes of chunks[index] already written
        while index < chunks.count {
            let end = min(chunks.count, index + 512)
            var vecs: [iovec] = []
            vecs.reserveCapacity(end - index)
            let n: Int = try withIOVecs(chunks, index..<end, firstOffset: offset, into: &vecs) { iov in
                while true {
                    let r = writev(fd, iov.baseAddress, Int32(iov.count))
                    if r >= 0 { return r }
                    if errno != EINTR { throw CaptureFileError(path: path, operation: "write", errno: errno) }
                }
            }
            written.withLock { $0 += n }
            var left = n
            while left > 0 && index < chunks.count {
                let rest = chunks[index].count - offset
                if left >= rest {
                    left -= rest
                    index += 1
                    offset = 0
                } else {
                    offset += left
                    left = 0
                }
            }
            while index < chunks.count && chunks[index].isEmpty { index += 1 }
        }
    }

    /// Builds iovecs pointing into the chunks (valid only inside `body`).
    private func withIOVecs<R>(_ chunks: [[UInt8]], _ range: Range<Int>, firstOffset: Int, into vecs: inout [iovec],
                               _ body: (UnsafeBufferPointer<iovec>) throws -> R) throws -> R {
        if range.isEmpty { return try vecs.withUnsafeBufferPointer(body) }
        let i = range.lowerBound
        return try chunks[i].withUnsafeBytes { raw in
            let skip = i == range.lowerBound ? firstOffset : 0
            if raw.count > skip {
                vecs.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress! + skip),
                                  iov_len: raw.count - skip))
            }
            return try withIOVecs(chunks, (i + 1)..<range.upperBound, firstOffset: 0, into: &vecs, body)
        }
    }
}

private func systemClose(_ fd: Int32) {
    _ = close(fd)
}
