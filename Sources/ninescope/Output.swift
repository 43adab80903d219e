import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// Buffered standard output for high-volume line output (decode, headless proxy): one write(2) per
/// 64 KiB instead of one per line. Flush before exiting and at natural pauses.
final class LineOutput: @unchecked Sendable {
    private var buffer: [UInt8] = []
    private let fd: Int32
    private let lock = NSLockLike()
    /// When true, every line is flushed at once (interactive use, e.g. a live headless proxy).
    var lineBuffered: Bool
    /// Said once on standard error when the output's reader goes away (a closed pipe: `proxy … | head`);
    /// nothing more is written then. Nil: say nothing (SIGPIPE, where not ignored, ends the program anyway).
    var closedNotice: String?
    private var closed = false
    /// Said on standard error when writes start failing for another reason (a full disk: the text gets
    /// the system's words), and again when they succeed after that; nil: say nothing (a command that
    /// ends soon only says it at its end, `failIfUnwritten`).
    var failureNotice: ((String) -> String)?
    /// The first write error other than a closed pipe (errno), and the bytes lost to such errors.
    private var firstFailure: Int32?
    private var failing = false
    private var lost = 0

    init(fd: Int32 = 1, lineBuffered: Bool = false) {
        self.fd = fd
        self.lineBuffered = lineBuffered
        buffer.reserveCapacity(1 << 16)
        if !lineBuffered { Self.widenPipe(fd) }
    }

    /// When `fd` is a pipe (`ninescope decode … | grep …`), asks for a 1 MiB pipe buffer instead of 64 KiB,
    /// so that a batch of lines is one write and the reader is woken once for it, not 16 times (a
    /// pipeline on two CPUs spent its time switching). Best effort: the limit is
    /// /proc/sys/fs/pipe-max-size, and a failure leaves the pipe as it was.
    static func widenPipe(_ fd: Int32) {
        #if os(Linux)
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFIFO else { return }
        let setPipeSize: Int32 = 1031   // F_SETPIPE_SZ (F_LINUX_SPECIFIC_BASE + 7), not in Swift's Glibc module
        _ = fcntl(fd, setPipeSize, Int32(1 << 20))
        #endif
    }

    func write(_ line: String) {
        lock.withLock {
            buffer.append(contentsOf: line.utf8)
            buffer.append(0x0A)
            if lineBuffered || buffer.count >= 1 << 16 { flushLocked() }
        }
    }

    /// Appends bytes that already end in newlines (one or more whole lines).
    func write(bytes: [UInt8]) {
        lock.withLock {
            if bytes.count >= 1 << 16 {
                // A whole batch of lines (decode writes ~200 KB at a time): out as it is, not copied into
                // the buffer first.
                flushLocked()
                bytes.withUnsafeBytes { writeAll($0) }
                return
            }
            buffer.append(contentsOf: bytes)
            if lineBuffered || buffer.count >= 1 << 16 { flushLocked() }
        }
    }

    func flush() { lock.withLock { flushLocked() } }

    /// Block-buffered output (a file, a pipe) flushed every 200 ms, so that `tail -f` and `| grep` readers
    /// see the lines within that while traffic flows; nil when every line goes out at once anyway. Cancel
    /// the task when done.
    func flushingNow() -> Task<Void, Never>? {
        guard !lineBuffered else { return nil }
        return Task.detached { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: 200_000_000)
                flush()
            }
        }
    }

    private func flushLocked() {
        buffer.withUnsafeBytes { writeAll($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// For a command's end: flushes, then, when anything could not be written (a full disk; a reader that
    /// went away, which `closedNotice` covers, does not count), says so after `what`
    /// (`ninescope: cannot write the output: No space left on device (12 kB of output lost)`) and exits
    /// with status 1, as `cat` does; returns when all was written.
    func failIfUnwritten(_ what: String = "cannot write the output") throws {
        let failure: String? = lock.withLock {
            flushLocked()
            return firstFailure.map { String(cString: strerror($0)) + " (" + ProxyTrace.bytes(lost) + " of output lost)" }
        }
        guard let failure else { return }
        printError("ninescope: \(what): " + failure)
        throw ExitCode(1)
    }

    /// Writes every byte (retrying after EINTR and short writes); stops at an error such as a closed pipe,
    /// which ends the output (`closedNotice`), or a full disk, which loses these bytes and is tried again
    /// with the next ones (`failureNotice`, `failIfUnwritten`).
    private func writeAll(_ raw: UnsafeRawBufferPointer) {
        guard !closed else { return }
        var offset = 0
        while offset < raw.count {
            let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
            if n <= 0 {
                let error = n < 0 ? errno : EIO
                if error == EINTR { continue }
                if error == EPIPE {
                    closed = true
                    if let closedNotice { printError("ninescope: " + closedNotice) }
                } else {
                    lost += raw.count - offset
                    if firstFailure == nil { firstFailure = error }
                    if !failing, let failureNotice { printError("ninescope: " + failureNotice(String(cString: strerror(error)))) }
                    failing = true
                }
                return
            }
            offset += n
        }
        if failing, raw.count > 0 {
            failing = false
            if failureNotice != nil { printError("ninescope: the lines are written again; \(ProxyTrace.bytes(lost)) of them lost so far") }
        }
    }
}

/// A pthread mutex, usable from non-async and async code alike.
final class NSLockLike: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}

/// Writes a message to standard error.
func printError(_ message: String) {
    let line = message + "\n"
    _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
}
