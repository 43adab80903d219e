#if canImport(Glibc)
import Glibc
import NinePServer
import NinePWire
import Synchronization

/// Files that wait for another process — FIFOs, sockets, devices — served so that a Tflush ends the wait.
///
/// Their opens, reads and writes run on a thread of their own (`Local.blocking`, never a connection's
/// event loop), and each carries an `Interrupt`: the request's task being cancelled (flush(5): the server
/// cancels a flushed request) fires it. Their descriptors are non-blocking; a read or write waits in
/// poll(2) on its descriptor and on the interrupt's pipe, so it returns at once with EINTR (a write that
/// moved some bytes returns their count); an open of a FIFO waiting for its other end is released by
/// opening that end here, held open until the interrupted open has returned. Those threads block
/// SIGPIPE, so a FIFO without readers answers EPIPE, whether or not the process ignores the signal.
extension LocalDriver {
    /// Opens `path` (a FIFO, socket or device) on `Local.blocking`; a cancelled open ends with EINTR.
    func openWaiting(_ path: String, _ hostFlags: Int32, type: FileType?) async throws(Errno) -> Int32 {
        try await Local.interruptible({ (interrupt) throws(Errno) -> Int32 in
            if interrupt.fired { throw .EINTR }
            let fd = try Local.check(Glibc.open(path, hostFlags))
            if interrupt.fired {
                Glibc.close(fd)
                throw .EINTR
            }
            return fd
        }, onInterrupt: { interrupt in
            // A FIFO's open waits for the other end: be that end (without waiting ourselves) until the
            // interrupt goes. A writer's end opens only once a reader is there (ENXIO before), and the
            // interrupted open may not have begun yet: try until it has returned.
            guard type == .fifo else { return }
            let other = (hostFlags & O_ACCMODE) == O_RDONLY ? O_WRONLY : O_RDONLY
            Local.blocking {
                while !interrupt.finished {
                    let fd = Glibc.open(path, other | O_NONBLOCK | O_CLOEXEC)
                    if fd >= 0 {
                        interrupt.hold(fd)
                        return
                    }
                    usleep(1_000)
                }
            }
        })
    }

    /// Up to `count` bytes of a file that may make the reader wait, once some are there (or at its end).
    static func readWaiting(_ file: OpenFile, offset: UInt64, count: UInt32, headroom: Int,
                            _ interrupt: Local.Interrupt) throws(Errno) -> [UInt8] {
        while true {
            try interrupt.waitUntilReady(file.fd, events: Int16(POLLIN))
            do throws(Errno) {
                return try readArray(file, offset: offset, count: count, headroom: headroom)
            } catch where error == .EAGAIN {
                continue   // readiness that another reader took first
            }
        }
    }

    /// `data` into a file that may make the writer wait: all of it, or as much as went before an interrupt.
    static func writeWaiting(_ file: OpenFile, offset: UInt64, _ data: UnsafeRawBufferPointer,
                             _ interrupt: Local.Interrupt) throws(Errno) -> UInt32 {
        guard offset <= UInt64(Int64.max) else { throw .EINVAL }
        var done = 0
        repeat {
            do throws(Errno) {
                try interrupt.waitUntilReady(file.fd, events: Int16(POLLOUT))
            } catch {
                if done > 0 { return UInt32(done) }
                throw error
            }
            let n = Local.write(file.fd, data.baseAddress.map { $0 + done }, data.count - done, at: offset + UInt64(done))
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                if done > 0 { return UInt32(done) }
                throw Local.lastError()
            }
            done += n
        } while done < data.count
        return UInt32(done)
    }
}

extension Local {
    /// Fired when the request waiting on it is cancelled: a flag, and a pipe whose read end poll(2) watches.
    final class Interrupt: Sendable {
        private let pipeFDs: (read: Int32, write: Int32)
        private let state = Mutex((fired: false, finished: false, held: [Int32]()))

        init() throws(Errno) {
            var fds: [Int32] = [-1, -1]
            try Local.check(pipe(&fds))
            for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            _ = fcntl(fds[1], F_SETFL, O_NONBLOCK)   // firing never waits
            pipeFDs = (fds[0], fds[1])
        }

        deinit {
            Glibc.close(pipeFDs.read)
            Glibc.close(pipeFDs.write)
            for fd in state.withLock({ $0.held }) { Glibc.close(fd) }
        }

        var fired: Bool { state.withLock { $0.fired } }

        /// Whether the work it interrupts has returned.
        var finished: Bool { state.withLock { $0.finished } }
        func finish() { state.withLock { $0.finished = true } }

        /// Keeps `fd` open until the interrupt goes (after the work it interrupted has ended).
        func hold(_ fd: Int32) { state.withLock { $0.held.append(fd) } }

        func fire() {
            state.withLock { $0.fired = true }
            var byte: UInt8 = 1
            _ = Glibc.write(pipeFDs.write, &byte, 1)
        }

        /// Waits until `fd` is ready for `events` (or hung up, or in error: the call that follows says
        /// which); EINTR once fired.
        func waitUntilReady(_ fd: Int32, events: Int16) throws(Errno) {
            var polled = [pollfd(fd: fd, events: events, revents: 0),
                          pollfd(fd: pipeFDs.read, events: Int16(POLLIN), revents: 0)]
            while true {
                if fired { throw .EINTR }
                let n = poll(&polled, 2, -1)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw Local.lastError()
                }
                if polled[1].revents != 0 { throw .EINTR }
                if polled[0].revents != 0 { return }
            }
        }
    }

    /// `work` on `blocking`, with an interrupt that the calling task's cancellation fires (and then
    /// `onInterrupt`, to release a wait that poll cannot see).
    static func interruptible<T: Sendable>(_ work: @escaping @Sendable (Interrupt) throws(Errno) -> T,
                                           onInterrupt: @escaping @Sendable (Interrupt) -> Void = { _ in }) async throws(Errno) -> T {
        let interrupt = try Interrupt()
        let result: Result<T, Errno> = await withTaskCancellationHandler {
            await onThread { () throws(Errno) -> T in
                defer { interrupt.finish() }
                return try work(interrupt)
            }
        } onCancel: {
            interrupt.fire()
            onInterrupt(interrupt)
        }
        return try result.get()
    }
}
#endif
