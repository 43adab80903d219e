import ArgumentParser
import Foundation
import NinePNIO
#if canImport(Glibc)
import Glibc
#endif

/// Buffered standard output for high-volume line output (decode, headless proxy): one write(2) per
/// 64 KiB instead of one per line. Flush before exiting and at natural pauses.
///
/// A live trace (`proxy --headless`, `serve --trace`) hands its lines to a thread of their own
/// (`writeInBackground`), so that a reader that does not read cannot stop the trace, the capture behind
/// it or, through them, the relay: see `Background`.
final class LineOutput: @unchecked Sendable {
    private var buffer: [UInt8] = []
    private let fd: Int32
    /// Guards `buffer` and `background`; the background writer waits on its condition.
    private let lock = NSLockLike()
    /// When true, every line is flushed at once (interactive use, e.g. a live headless proxy).
    var lineBuffered: Bool
    /// Said once on standard error when the output's reader goes away (a closed pipe: `proxy … | head`);
    /// nothing more is written then. Nil: say nothing (SIGPIPE, where not ignored, ends the program anyway).
    var closedNotice: String?
    /// Said on standard error when writes start failing for another reason (a full disk: the text gets
    /// the system's words), and again when they succeed after that; nil: say nothing (a command that
    /// ends soon only says it at its end, `failIfUnwritten`).
    var failureNotice: ((String) -> String)?
    // What the writes met (`writeAll`, on whichever thread writes), under `outcome`.
    private let outcome = NSLockLike()
    /// The first write error other than a closed pipe (errno), and the bytes lost to such errors.
    private var firstFailure: Int32?
    private var failing = false
    private var lost = 0
    private var closed = false

    /// Lines written by a thread of their own, and dropped while too many wait (`writeInBackground`).
    struct Background {
        /// Bytes that may wait to be written (in `buffer` and in the write under way) before lines are dropped.
        let limit: Int
        /// The in-band line that says where lines were dropped is a JSON object (else a text line).
        let json: Bool
        /// Said on standard error when lines begin to be dropped.
        let stalledNotice: String
        /// Bytes the writer is writing now (taken out of `buffer`).
        var inFlight = 0
        /// A flush was asked for (`flush()`, the 200 ms ticker): write what there is, even under 64 KiB.
        var wake = false
        /// `finishWriting`: write what is left and end.
        var stopping = false
        var ended = false
        /// `finishWriting` gave up on a reader that took nothing (the writer may still be in its write).
        var abandoned = false
        /// Bytes written so far (to tell a stalled reader from a slow one at the end).
        var written = 0
        /// The drop under way: lines and bytes dropped since `since` (wall-clock ns).
        var dropping: LineGap?
        var droppedSince: Int64 = 0
        /// All lines and bytes dropped (for the command's last words; its `seconds` unused).
        var dropped = LineGap(lines: 0, bytes: 0, seconds: 0)
    }
    private var background: Background?

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

    /// From now on the lines are written by a thread of their own: `write` only queues them, so the
    /// caller (a live trace, which the capture and the relay wait on) never waits for the reader. While
    /// more than `limit` bytes wait (a reader that does not read: a pager left on one page, a terminal
    /// stopped with Ctrl-S; or one slower than the lines come), further lines are dropped and counted, and
    /// the first time `stalledNotice` is said on standard error; once the reader has taken half of what
    /// waited, a line says in the output how many lines are missing there (`LineGap.line(json:)`, in the
    /// trace's own form). Call before the first line; end with `finishWriting` (`dropped` has the total).
    func writeInBackground(limit: Int, json: Bool, stalledNotice: String) {
        lock.withLock {
            background = Background(limit: max(limit, 1 << 16), json: json, stalledNotice: stalledNotice)
        }
        let thread = Thread { [self] in
            ProcessScheduling.adoptMain()   // the scheduling ninescope was started with, as every working thread
            writerLoop()
        }
        thread.name = "ninescope-lines"
        thread.start()
    }

    func write(_ line: String) {
        lock.withLock {
            if background != nil {
                var bytes = Array(line.utf8)
                bytes.append(0x0A)
                queueLocked(bytes)
                return
            }
            buffer.append(contentsOf: line.utf8)
            buffer.append(0x0A)
            if lineBuffered || buffer.count >= 1 << 16 { flushLocked() }
        }
    }

    /// Appends bytes that already end in newlines (one or more whole lines).
    func write(bytes: [UInt8]) {
        lock.withLock {
            if background != nil {
                queueLocked(bytes)
                return
            }
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

    func flush() {
        lock.withLock {
            if background != nil {
                background!.wake = true
                lock.broadcast()
            } else {
                flushLocked()
            }
        }
    }

    // MARK: - Written in the background

    /// `write` with a writer thread: queue the lines, or drop them while too many wait.
    private func queueLocked(_ bytes: [UInt8]) {
        guard !bytes.isEmpty, !background!.stopping else { return }
        let held = buffer.count + background!.inFlight
        if var gap = background!.dropping {
            if held + bytes.count > background!.limit / 2 {
                gap.lines += Self.lineCount(bytes)
                gap.bytes += bytes.count
                background!.dropping = gap
                return
            }
            // The reader has taken half of what waited: say where lines are missing, and go on.
            gap.seconds = Double(WallClock.nowNanos() - background!.droppedSince) / 1e9
            background!.dropping = nil
            background!.dropped.add(gap)
            buffer.append(contentsOf: gap.line(json: background!.json).utf8)
            buffer.append(0x0A)
        } else if held + bytes.count > background!.limit {
            background!.dropping = LineGap(lines: Self.lineCount(bytes), bytes: bytes.count, seconds: 0)
            background!.droppedSince = WallClock.nowNanos()
            // Said once: a reader slower than the lines drops some again and again, and each gap is said
            // where it is, in the lines; standard error (often the pager's terminal) gets the total at the end.
            if background!.dropped.lines == 0 { Self.sayAside(background!.stalledNotice) }
            return
        }
        buffer.append(contentsOf: bytes)
        if lineBuffered || buffer.count >= 1 << 16 { lock.broadcast() }
    }

    static func lineCount(_ bytes: [UInt8]) -> Int {
        var n = 0
        for b in bytes where b == 0x0A { n += 1 }
        return n
    }

    /// Says `text` on standard error without waiting for it (`StderrAside`): standard error may be the
    /// very terminal that stopped reading (Ctrl-S).
    private static func sayAside(_ text: String) {
        StderrAside.shared.say("ninescope: " + text)
    }

    /// The writer thread: writes what waits (at once when line-buffered, else 64 KiB at a time or when
    /// flushed), however long the reader takes, until `finishWriting`.
    private func writerLoop() {
        var chunk: [UInt8] = []
        chunk.reserveCapacity(1 << 16)
        lock.lock()
        while true {
            while !background!.stopping
                    && (buffer.isEmpty || !(lineBuffered || background!.wake || buffer.count >= 1 << 16)) {
                lock.wait()
            }
            if buffer.isEmpty {
                break   // stopping, and all written
            }
            background!.wake = false
            swap(&chunk, &buffer)
            background!.inFlight = chunk.count
            lock.unlock()
            // 64 KiB at a time, so that a reader that reads slowly is seen making progress (and frees room).
            var offset = 0
            while offset < chunk.count {
                let end = min(offset + (1 << 16), chunk.count)
                chunk.withUnsafeBytes { writeAll(UnsafeRawBufferPointer(rebasing: $0[offset..<end])) }
                lock.withLock {
                    background!.written += end - offset
                    background!.inFlight = chunk.count - end
                    lock.broadcast()
                }
                offset = end
            }
            lock.lock()
            chunk.removeAll(keepingCapacity: true)
        }
        background!.ended = true
        lock.broadcast()
        lock.unlock()
    }

    /// Ends the writer thread once it has written everything, or, when the reader takes nothing for
    /// `patience` seconds (a pager left open at the end), gives up on the rest: the lines not written
    /// count as dropped. Returns at once without a writer thread (after a flush).
    func finishWriting(patience: Double = 2) {
        let gaveUp: LineGap? = lock.withLock {
            guard background != nil else {
                flushLocked()
                return nil
            }
            if let gap = background!.dropping {
                background!.dropped.add(gap)
                background!.dropping = nil
            }
            if background!.abandoned { return nil }   // given up on already
            background!.stopping = true
            lock.broadcast()
            var written = background!.written
            var quiet = 0.0
            while !background!.ended && quiet < patience {
                lock.wait(seconds: 0.1)
                if background!.written != written {
                    written = background!.written
                    quiet = 0
                } else {
                    quiet += 0.1
                }
            }
            guard !background!.ended else { return nil }
            background!.abandoned = true
            let left = buffer.count + background!.inFlight
            var rest = LineGap(lines: Self.lineCount(buffer), bytes: left, seconds: 0)
            if background!.inFlight > 0 { rest.lines += 1 }   // at least the one being written
            background!.dropped.add(rest)
            buffer.removeAll()
            return rest
        }
        if let gaveUp {
            printError("ninescope: standard output was not read for \(Int(patience)) s at the end: the last "
                       + gaveUp.text + " were not written")
        }
    }

    /// The lines dropped while the reader did not read (`writeInBackground`), none without a writer thread.
    var dropped: LineGap {
        lock.withLock { background?.dropped ?? LineGap(lines: 0, bytes: 0, seconds: 0) }
    }

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
        finishWriting()
        let failure: String? = outcome.withLock {
            firstFailure.map { String(cString: strerror($0)) + " (" + ProxyTrace.bytes(lost) + " of output lost)" }
        }
        let dropped = self.dropped
        guard failure != nil || dropped.lines > 0 else { return }
        if let failure { printError("ninescope: \(what): " + failure) }
        if dropped.lines > 0 {
            printError("ninescope: \(what): standard output was not read as fast as they came: " + dropped.text + " dropped")
        }
        throw ExitCode(1)
    }

    /// Writes every byte (retrying after EINTR and short writes); stops at an error such as a closed pipe,
    /// which ends the output (`closedNotice`), or a full disk, which loses these bytes and is tried again
    /// with the next ones (`failureNotice`, `failIfUnwritten`).
    private func writeAll(_ raw: UnsafeRawBufferPointer) {
        guard !outcome.withLock({ closed }) else { return }
        var offset = 0
        while offset < raw.count {
            let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
            if n <= 0 {
                let error = n < 0 ? errno : EIO
                if error == EINTR { continue }
                let notice: String? = outcome.withLock {
                    if error == EPIPE {
                        closed = true
                        return closedNotice
                    }
                    lost += raw.count - offset
                    if firstFailure == nil { firstFailure = error }
                    defer { failing = true }
                    return failing ? nil : failureNotice?(String(cString: strerror(error)))
                }
                if let notice { printError("ninescope: " + notice) }
                return
            }
            offset += n
        }
        guard raw.count > 0 else { return }
        let recovered: Int? = outcome.withLock {
            guard failing else { return nil }
            failing = false
            return failureNotice != nil ? lost : nil
        }
        if let recovered { printError("ninescope: the lines are written again; \(ProxyTrace.bytes(recovered)) of them lost so far") }
    }
}

/// Says lines on standard error from a thread of its own, for what is said while traffic flows: a notice
/// from an event loop or a trace's thread must not wait for a terminal stopped with Ctrl-S or a pipe
/// nobody reads (the relay, the server or the capture would wait with it). Lines are said in the order
/// given; while `limit` of them wait, further ones are counted, and the count is said once they can be.
/// A command's last words are written directly, after `drain`.
final class StderrAside: @unchecked Sendable {
    // @unchecked: all state under `lock`.
    static let shared = StderrAside()
    /// Lines that may wait.
    static let limit = 1000
    private let lock = NSLockLike()
    private var waiting: [String] = []
    private var skipped = 0
    private var writing = false
    private var started = false

    func say(_ line: String) {
        lock.withLock {
            guard waiting.count < Self.limit else {
                skipped += 1
                return
            }
            waiting.append(line)
            if !started {
                started = true
                let thread = Thread { [self] in
                    ProcessScheduling.adoptMain()
                    loop()
                }
                thread.name = "ninescope-stderr"
                thread.start()
            }
            lock.broadcast()
        }
    }

    private func loop() {
        lock.lock()
        while true {
            while waiting.isEmpty && skipped == 0 { lock.wait() }
            var lines = waiting
            waiting = []
            if skipped > 0 {
                lines.append("ninescope: \(skipped) more notices not said: standard error was not read as fast as they came")
                skipped = 0
            }
            writing = true
            lock.unlock()
            for line in lines { printError(line) }
            lock.lock()
            writing = false
            lock.broadcast()
        }
    }

    /// Waits until every line said so far is written, or `patience` seconds have passed.
    func drain(patience: Double = 2) {
        lock.withLock {
            var waited = 0.0
            while (!waiting.isEmpty || skipped > 0 || writing) && waited < patience {
                lock.wait(seconds: 0.1)
                waited += 0.1
            }
        }
    }
}

/// Lines dropped while standard output was not read (`LineOutput.writeInBackground`).
struct LineGap: Hashable, Sendable {
    var lines: Int
    var bytes: Int
    /// How long the reader did not read (0 when not known).
    var seconds: Double

    /// Counts `other`'s lines and bytes in too.
    mutating func add(_ other: LineGap) {
        lines += other.lines
        bytes += other.bytes
    }

    /// `12345 lines (1.2 MB)`.
    var text: String { ProxyTrace.count(lines, "line") + " (" + ProxyTrace.bytes(bytes) + ")" }

    /// The in-band line where lines are missing: in a text trace `ninescope: 12345 lines (1.2 MB) dropped
    /// here, over 4.2 s: standard output was not read as fast as they came`, in a JSON trace
    /// `{"event":"dropped","lines":12345,"bytes":1234567,"seconds":4.200}`.
    func line(json: Bool) -> String {
        json ? "{\"event\":\"dropped\",\"lines\":\(lines),\"bytes\":\(bytes),\"seconds\":"
                + String(format: "%.3f", seconds) + "}"
            : "ninescope: " + text + " dropped here, over " + String(format: "%.1f", seconds)
                + " s: standard output was not read as fast as they came"
    }
}

/// A pthread mutex, usable from non-async and async code alike, with a condition for a thread that waits
/// for work under it (`LineOutput`'s and `StderrAside`'s writers).
final class NSLockLike: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
    }
    deinit {
        pthread_cond_destroy(&condition)
        pthread_mutex_destroy(&mutex)
    }
    func lock() { pthread_mutex_lock(&mutex) }
    func unlock() { pthread_mutex_unlock(&mutex) }
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
    /// Waits for a broadcast, the lock held (released while waiting).
    func wait() { pthread_cond_wait(&condition, &mutex) }
    /// The same, for at most `seconds`.
    func wait(seconds: Double) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let ns = Int(now.tv_nsec) + Int(seconds * 1e9)
        var until = timespec(tv_sec: now.tv_sec + ns / 1_000_000_000, tv_nsec: ns % 1_000_000_000)
        pthread_cond_timedwait(&condition, &mutex, &until)
    }
    func broadcast() { pthread_cond_broadcast(&condition) }
}

/// Writes a message to standard error.
func printError(_ message: String) {
    let line = message + "\n"
    _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
}
