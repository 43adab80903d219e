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
/// Direct I/O (Linux, regular files, unless `directIO: false`): the bytes go to the disk in whole aligned
/// blocks with O_DIRECT, from one reused staging buffer, instead of being copied into the page cache. A busy
/// capture writes as much as the traffic it records; on the VMs we measure on, copying that into page-cache
/// pages (memory the host backs lazily, on first touch) cost the capture thread more CPU than all the rest
/// of the proxy (see bench/proxy.sh in the README). The unaligned tail (< one block) is written through the
/// page cache at each periodic write, flush and close, so the file always holds every byte appended up to
/// the last write, exactly as in buffered mode; the next direct write covers that block again. A file
/// system that refuses O_DIRECT (tmpfs on older kernels, some FUSE ones), a pipe or a device gets buffered
/// writes, as does everything after a direct write fails with EINVAL.
///
/// A failed write (a full disk, an I/O error, a pipe whose reader went away) ends the capture there: nothing
/// appended afterwards is written, so the file stays a readable capture up to the failure (at worst its last
/// record cut short, which readers report) instead of one with a hole in it. The error is kept
/// (`lastError`), handed once to `whenWriteFails`, and thrown by `flush` and `close`.
///
/// A capture cut into several files (`CaptureRotation`) goes on in the next file with `switchFile(to:)`:
/// the same sink, its counters running on over the files.
///
/// A pipe or socket (Wireshark reading a FIFO live, `ninescope proxy --capture - | wireshark -k -i -`) is a
/// stream (`isStream`): its reader wants each packet as soon as it is recorded, not at the next periodic
/// write, so the recorder calls `writeQueued()` after each batch.
///
/// (Named `CaptureFileSink` because NinePCapture already has a `CaptureFile`, the reading side.)
public final class CaptureFileSink: Sendable {
    /// The file being written (the latest, after `switchFile(to:)`).
    public var path: String { currentPath.withLock { $0 } }
    public let writeThreshold: Int
    private let currentPath: Locked<String>
    /// Whether each file is written with direct I/O where it allows (the `directIO` asked for).
    private let directIO: Bool
    /// Whether the file is a pipe or a socket: a reader at the other end waits for each packet.
    public let isStream: Bool
    private struct Buffer {
        /// Appended chunks, kept as given (no copy) and written with writev.
        var pending: [[UInt8]] = []
        var pendingBytes = 0
        var appended = 0
        var closed = false
        var error: CaptureFileError?

        /// The queued chunks, leaving none queued.
        mutating func takePending() -> [[UInt8]] {
            let c = pending
            pending = []
            pendingBytes = 0
            return c
        }

        /// Keeps the first write error.
        mutating func note(_ e: CaptureFileError) {
            if error == nil { error = e }
        }
    }
    private let buffer = Locked(Buffer())
    /// Serialises writes so bytes reach the file in append order; holds the descriptor (-1 once closed).
    private let io: Locked<IOState>
    private let written = Locked(0)
    private let timer: Locked<RepeatedTask?> = Locked(nil)
    /// Called once with the first write error (then cleared).
    private let failureHandler = Locked<(@Sendable (CaptureFileError) -> Void)?>(nil)

    /// Creates (or truncates) `path` with mode 0644.
    /// `directIO`: write with O_DIRECT where the file allows it (see the type's notes).
    public convenience init(path: String, writeThreshold: Int = 4 << 20, flushEvery: TimeAmount = .seconds(1),
                            directIO: Bool = true, eventLoop: any EventLoop = NinePSockets.group.next()) throws {
        try self.init(path: path, writeThreshold: writeThreshold, flushEvery: flushEvery, directIO: directIO,
                      refusingDirectWritesAfter: nil, eventLoop: eventLoop)
    }

    /// `refusingDirectWritesAfter`: for tests, the direct write after that many fails with EINVAL, as some
    /// file systems' do (to exercise the fallback to buffered writes).
    init(path: String, writeThreshold: Int, flushEvery: TimeAmount, directIO: Bool, refusingDirectWritesAfter: Int?,
         eventLoop: any EventLoop) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CaptureFileError(path: path, operation: "open", errno: errno) }
        currentPath = Locked(path)
        self.writeThreshold = writeThreshold
        self.directIO = directIO
        var st = stat()
        let kind = fstat(fd, &st) == 0 ? st.st_mode & S_IFMT : 0
        isStream = kind == S_IFIFO || kind == S_IFSOCK
        var state = IOState(fd: fd)
        if directIO { state.startDirect(stagingSize: Self.stagingSize(writeThreshold)) }
        state.refuseAfter = refusingDirectWritesAfter
        self.io = Locked(state)
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
        io.withLock { $0.close() }
    }

    /// Calls `handler` once with the first write error, from the thread that met it, or at once if a write
    /// has already failed. (The capture ends there; see the type's notes.) A later call replaces a handler
    /// not yet called.
    public func whenWriteFails(_ handler: @escaping @Sendable (CaptureFileError) -> Void) {
        failureHandler.withLock { $0 = handler }
        if let e = lastError { callFailureHandler(e) }
    }

    /// Keeps the first write error and tells the handler about it.
    private func fail(_ e: CaptureFileError) {
        let first = buffer.withLock { b -> CaptureFileError? in
            b.note(e)
            return b.error
        }
        if let first { callFailureHandler(first) }
    }

    private func callFailureHandler(_ e: CaptureFileError) {
        let handler = failureHandler.withLock { h -> (@Sendable (CaptureFileError) -> Void)? in
            defer { h = nil }
            return h
        }
        handler?(e)
    }

    /// Queues bytes for the file. Never blocks on the disk unless the buffer passed `writeThreshold`.
    public func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        let big = buffer.withLock { b -> Bool in
            guard !b.closed, b.error == nil else { return false }
            b.pending.append(bytes)
            b.pendingBytes += bytes.count
            b.appended += bytes.count
            return b.pendingBytes >= writeThreshold
        }
        if big { try? writePending(sync: false, tail: false) }
    }

    /// Appends a copy of `bytes`, for a caller that fills one buffer again and again (the capture recorder
    /// does, so that recording allocates nothing per batch). With direct I/O the bytes go straight into the
    /// staging buffer, after anything `append` queued, and this thread writes its whole blocks as it fills
    /// (the periodic write still writes the unaligned rest); otherwise they are queued as `append` queues.
    public func append(copying bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        var staged = false
        do {
            try io.withLock { state in
                guard state.fd >= 0, state.staging != nil else { return }
                let queued = buffer.withLock { b -> [[UInt8]]? in
                    guard !b.closed, b.error == nil else { return nil }
                    b.appended += bytes.count
                    return b.takePending()
                }
                guard let queued else { return }
                staged = true
                // Only into the staging buffer: its blocks are written when it is full (few large direct
                // writes, as with `append`), not at every call.
                for chunk in queued {
                    try chunk.withUnsafeBytes { raw in try stage(&state, raw) }
                }
                try stage(&state, bytes)
            }
        } catch let e as CaptureFileError {
            fail(e)
        } catch {}
        if !staged { append(Array(bytes)) }   // (dropped there after a failed write)
    }

    /// The direct-I/O staging buffer's size for a `writeThreshold`.
    private static func stagingSize(_ writeThreshold: Int) -> Int { max(writeThreshold, 1 << 20) }

    /// Bytes appended so far / bytes on disk so far (over every file, after `switchFile(to:)`).
    public var bytesAppended: Int { buffer.withLock { $0.appended } }
    public var bytesWritten: Int { written.withLock { $0 } }

    /// Whether the file is being written with direct I/O (false after a fallback to buffered writes).
    public var writesDirectly: Bool { io.withLock { $0.staging != nil } }

    /// The first write error, if any.
    public var lastError: CaptureFileError? { buffer.withLock { $0.error } }

    /// Writes everything appended so far and fsyncs. Blocks the calling thread for the disk. Throws the
    /// first write error, whenever it happened.
    public func flush() throws {
        try writePending(sync: true)
        if let e = lastError { throw e }
    }

    /// Flushes, fsyncs and closes the file. Later appends are ignored. Idempotent.
    public func close() throws {
        timer.withLock { $0?.cancel(); $0 = nil }
        defer {
            buffer.withLock { $0.closed = true }
            io.withLock { $0.close() }
        }
        try writePending(sync: true)
        if let e = lastError { throw e }
    }

    /// Finishes the current file and goes on in a new one at `newPath` (created, or truncated): everything
    /// appended so far is written to the current file and fsync'ed and its descriptor closed; later appends
    /// go to the new file, with direct I/O where it allows. A failure (the last writes, or the new file
    /// cannot be created) ends the capture as a failed write does, and is thrown; so is an earlier failure.
    /// Returns false, doing nothing, once the sink is closed.
    @discardableResult
    public func switchFile(to newPath: String) throws -> Bool {
        try io.withLock { state in
            guard try writeOut(&state, sync: true, tail: true) else {
                if let e = lastError { throw e }
                return false
            }
            let fd = open(newPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                let e = CaptureFileError(path: newPath, operation: "open", errno: errno)
                fail(e)
                throw e
            }
            var next = IOState(fd: fd)
            next.writtenBefore = written.withLock { $0 }
            next.refuseAfter = state.refuseAfter
            state.close()
            state = next
            if directIO { state.startDirect(stagingSize: Self.stagingSize(writeThreshold)) }
            currentPath.withLock { $0 = newPath }
            return true
        }
    }

    /// Writes what was appended so far, now, on the calling thread (no fsync): for a stream's reader, which
    /// waits for it. A failure ends the capture as any failed write does.
    public func writeQueued() {
        try? writePending(sync: false)
    }

    /// Writes what is pending. `sync` (flush, close): and fsyncs. `tail`: direct I/O also writes the
    /// unaligned rest (every caller but the appender, which leaves it for the next write).
    private func writePending(sync: Bool, tail: Bool = true) throws {
        try io.withLock { state in _ = try writeOut(&state, sync: sync, tail: tail) }
    }

    /// `writePending`'s work, under the `io` lock; false when nothing is written any more (the file is
    /// closed, or a write failed).
    private func writeOut(_ state: inout IOState, sync: Bool, tail: Bool) throws -> Bool {
        guard state.fd >= 0 else { return false }
        // After a failed write nothing more is written (see the type's notes).
        let (chunks, failed) = buffer.withLock { b in (b.takePending(), b.error != nil) }
        guard !failed else { return false }
        do {
            if state.staging != nil {
                try writeDirect(&state, chunks, tail: tail)
            } else {
                try writeAll(state.fd, chunks)
            }
            if sync && fsync(state.fd) != 0 && errno != EINVAL {
                throw CaptureFileError(path: path, operation: "fsync", errno: errno)
            }
        } catch let e as CaptureFileError {
            fail(e)
            throw e
        }
        return true
    }

    /// Direct I/O: copies `chunks` into the staging buffer, writing it out whenever it fills; then writes
    /// its whole blocks, keeps the unaligned rest at its start, and (with `tail`) writes that rest through
    /// the page cache too. A direct write refused with EINVAL switches the file to buffered writes for good.
    private func writeDirect(_ state: inout IOState, _ chunks: [[UInt8]], tail: Bool) throws {
        for chunk in chunks {
            try chunk.withUnsafeBytes { raw in try stage(&state, raw) }
        }
        if state.staging != nil {
            try writeStaged(&state, tail: tail)
        }
    }

    /// Copies `bytes` into the staging buffer, writing its whole blocks whenever it fills; after a fallback
    /// to buffered writes, writes them the buffered way.
    private func stage(_ state: inout IOState, _ bytes: UnsafeRawBufferPointer) throws {
        var from = 0
        while from < bytes.count {
            guard let staging = state.staging else {
                try writeAll(state.fd, [Array(bytes[from...])])
                return
            }
            let n = min(bytes.count - from, staging.count - state.staged)
            (staging.baseAddress! + state.staged).copyMemory(from: bytes.baseAddress! + from, byteCount: n)
            state.staged += n
            from += n
            if state.staged == staging.count { try writeStaged(&state, tail: false) }
        }
    }

    /// Writes the staging buffer's whole blocks with O_DIRECT at `state.offset`, moves the rest to its
    /// start, and with `tail` writes the rest through the page cache.
    private func writeStaged(_ state: inout IOState, tail: Bool) throws {
        guard let staging = state.staging else { return }
        let whole = state.staged / IOState.alignment * IOState.alignment
        var done = 0
        while done < whole {
            let r: Int
            if state.refuseAfter == 0 {
                // Tests: a file system that takes O_DIRECT at fcntl and refuses the write.
                r = -1
                errno = EINVAL
            } else {
                r = pwrite(state.fd, staging.baseAddress! + done, whole - done, off_t(state.offset + done))
                if r > 0, let n = state.refuseAfter { state.refuseAfter = n - 1 }
            }
            if r > 0 { done += r; continue }
            if r < 0 && errno == EINTR { continue }
            if r < 0 && errno == EINVAL && done == 0 && state.fallBackToBuffered() {
                // The file system took O_DIRECT at fcntl but not this write: write the staged bytes the usual way.
                let staged = state.staged
                state.staged = 0
                defer { staging.deallocate() }
                try pwriteAll(state.fd, UnsafeRawBufferPointer(rebasing: staging[0..<staged]), at: state.offset)
                state.offset += staged
                // Buffered writes from here on use the file position (writev), which pwrite left at 0.
                guard lseek(state.fd, off_t(state.offset), SEEK_SET) >= 0 else {
                    throw CaptureFileError(path: path, operation: "seek", errno: errno)
                }
                setWritten(state.writtenBefore + state.offset)
                return
            }
            let e = CaptureFileError(path: path, operation: "write", errno: r < 0 ? errno : EIO)
            // What did reach the file (a full disk takes part of a write, then refuses the rest).
            if done > 0 { setWritten(state.writtenBefore + state.offset + done) }
            throw e
        }
        let rest = state.staged - whole
        if whole > 0 && rest > 0 {
            (staging.baseAddress!).copyMemory(from: staging.baseAddress! + whole, byteCount: rest)
        }
        state.offset += whole
        state.staged = rest
        if whole > 0 { state.tailOnFile = 0 }
        if tail && rest > 0 && state.tailOnFile != rest {
            // Through the page cache (O_DIRECT cleared for the call): a partial block cannot go direct.
            state.setDirect(false)
            defer { state.setDirect(true) }
            try pwriteAll(state.fd, UnsafeRawBufferPointer(rebasing: staging[0..<rest]), at: state.offset)
            state.tailOnFile = rest
        }
        // On the file: the whole blocks, and the staged bytes last written through the page cache.
        setWritten(state.writtenBefore + state.offset + state.tailOnFile)
    }

    private func setWritten(_ n: Int) {
        written.withLock { $0 = n }
    }

    private func pwriteAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        var done = 0
        while done < bytes.count {
            let r = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if r > 0 { done += r; continue }
            if r < 0 && errno == EINTR { continue }
            throw CaptureFileError(path: path, operation: "write", errno: r < 0 ? errno : EIO)
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
