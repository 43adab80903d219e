import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process started with posix_spawn and reaped with waitpid on its own pid.
///
/// The tests use this instead of Foundation's `Process`: on Linux, `Process` learns of a child's exit
/// from a SIGCHLD monitor, and a missed notification leaves `waitUntilExit()` blocked forever on a
/// zombie (seen here with `tmux new-session -d`, whose client exits while its server forks away).
/// Polling `waitpid(pid, WNOHANG)` cannot miss an exit. Every pipe this file makes is close-on-exec,
/// so no other child inherits it and holds an end open, and a child gets no descriptor but 0, 1 and 2.
public final class ChildProcess: @unchecked Sendable {
    public enum TerminationReason: Sendable { case exit, uncaughtSignal }

    public let processIdentifier: pid_t
    private let lock = NSLock()
    private var waitStatus: Int32?

    private init(pid: pid_t) { processIdentifier = pid }

    /// Starts `path args…`. Each of `stdin`, `stdout`, `stderr` is a descriptor to hand the child
    /// (nil: /dev/null). The child gets default signal handling and an empty signal mask. `directory`: the
    /// child's working directory (nil: the test process's), where a core file it dumps lands.
    public static func launch(_ path: String, _ args: [String], environment: [String: String]? = nil,
                              stdin: Int32? = nil, stdout: Int32? = nil, stderr: Int32? = nil,
                              directory: String? = nil) throws -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let directory {
            typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
            guard let symbol = dlsym(nil, "posix_spawn_file_actions_addchdir_np") else {   // glibc 2.29 and later
                throw ChildProcessError("cannot start \(path) in \(directory): this C library cannot set a child's directory")
            }
            _ = unsafeBitCast(symbol, to: AddChdir.self)(&actions, directory)
        }
        for (fd, target) in [(stdin, Int32(0)), (stdout, 1), (stderr, 2)] {
            if let fd {
                posix_spawn_file_actions_adddup2(&actions, fd, target)
            } else {
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
            }
        }
        // Nothing else of the test process's reaches the child: a socket a test holds open, made without
        // close-on-exec, would count against the child's descriptor limit and keep the peer's end open.
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        if let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") {   // glibc 2.34 and later
            _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
        }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t(), defaults = sigset_t()
        sigemptyset(&empty)
        sigemptyset(&defaults)
        for sig in [SIGPIPE, SIGINT, SIGTERM, SIGCHLD, SIGHUP, SIGQUIT, SIGWINCH] { sigaddset(&defaults, sig) }
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([path] + args).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envStrings = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let envp = envStrings.map { strdup($0) } + [nil]
        defer { envp.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attr, argv, envp)
        guard rc == 0 else {
            throw ChildProcessError("cannot start \(path): \(String(cString: strerror(rc)))")
        }
        return ChildProcess(pid: pid)
    }

    /// Reaps the child if it has exited; true while it runs.
    public var isRunning: Bool { poll(block: false) == nil }

    /// Blocks until the child exits.
    public func waitUntilExit() { _ = poll(block: true) }

    /// SIGTERM.
    public func terminate() { signal(SIGTERM) }

    /// Sends a signal unless the child has already been reaped (its pid may be reused by then).
    public func signal(_ sig: Int32) {
        lock.lock(); defer { lock.unlock() }
        if waitStatus == nil { kill(processIdentifier, sig) }
    }

    /// The exit code, or the signal number when it was killed (only meaningful once it has exited).
    public var terminationStatus: Int32 {
        guard let s = poll(block: false) else { return -1 }
        return exited(s) ? (s >> 8) & 0xff : s & 0x7f
    }

    public var terminationReason: TerminationReason {
        guard let s = poll(block: false) else { return .exit }
        return exited(s) ? .exit : .uncaughtSignal
    }

    private func exited(_ status: Int32) -> Bool { status & 0x7f == 0 }

    private func poll(block: Bool) -> Int32? {
        lock.lock(); defer { lock.unlock() }
        if let waitStatus { return waitStatus }
        var status: Int32 = 0
        while true {
            let r = waitpid(processIdentifier, &status, block ? 0 : WNOHANG)
            if r == processIdentifier { waitStatus = status; return status }
            if r == 0 { return nil }
            if errno == EINTR { continue }
            // ECHILD: someone else reaped it; treat as exited with an unknown status.
            waitStatus = 0xff << 8
            return waitStatus
        }
    }

    deinit {
        if poll(block: false) == nil {
            kill(processIdentifier, SIGKILL)
            _ = poll(block: true)
        }
    }
}

public struct ChildProcessError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A close-on-exec pipe: (read end, write end).
func closeOnExecPipe() throws -> (read: Int32, write: Int32) {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { throw ChildProcessError("pipe: \(String(cString: strerror(errno)))") }
    for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    return (fds[0], fds[1])
}

extension Peers {
    /// Runs a child to completion with pipes on all three descriptors, feeding `stdin` and collecting
    /// both outputs in one poll loop (no thread can block on a full pipe). After `timeout` the child is
    /// sent SIGTERM, then SIGKILL. Once it has exited, output still buffered is drained for up to a
    /// second — a grandchild that kept a copy of stdout open cannot hold the caller.
    static func runChild(_ path: String, _ args: [String], stdin input: Data?, timeout: TimeInterval,
                         environment: [String: String]?) throws -> Result {
        let out = try closeOnExecPipe(), err = try closeOnExecPipe()
        let inPipe = input == nil ? nil : try closeOnExecPipe()
        let child: ChildProcess
        do {
            child = try ChildProcess.launch(path, args, environment: environment, stdin: inPipe?.read,
                                            stdout: out.write, stderr: err.write)
        } catch {
            [out.read, out.write, err.read, err.write].forEach { close($0) }
            if let inPipe { close(inPipe.read); close(inPipe.write) }
            throw error
        }
        close(out.write); close(err.write)
        var inFD: Int32 = -1
        if let inPipe { close(inPipe.read); inFD = inPipe.write; _ = fcntl(inFD, F_SETFL, O_NONBLOCK) }
        let pending = [UInt8](input ?? Data())
        var written = 0
        if inFD >= 0 && pending.isEmpty { close(inFD); inFD = -1 }
        var outFD = out.read, errFD = err.read
        var stdout = Data(), stderr = Data()
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        var exitedAt: Date?
        var buffer = [UInt8](repeating: 0, count: 65536)
        /// Past the deadline: SIGTERM, then SIGKILL (once).
        func enforceDeadline() {
            guard !timedOut, Date() > deadline else { return }
            timedOut = true
            child.signal(SIGTERM)
            usleep(200_000)
            child.signal(SIGKILL)
        }

        while outFD >= 0 || errFD >= 0 || inFD >= 0 {
            if exitedAt == nil, !child.isRunning { exitedAt = Date() }
            if let exitedAt, Date().timeIntervalSince(exitedAt) > 1 { break }
            enforceDeadline()
            var fds: [pollfd] = []
            if outFD >= 0 { fds.append(pollfd(fd: outFD, events: Int16(POLLIN), revents: 0)) }
            if errFD >= 0 { fds.append(pollfd(fd: errFD, events: Int16(POLLIN), revents: 0)) }
            if inFD >= 0 { fds.append(pollfd(fd: inFD, events: Int16(POLLOUT), revents: 0)) }
            let n = Glibc.poll(&fds, nfds_t(fds.count), 20)
            if n <= 0 { continue }
            for p in fds where p.revents != 0 {
                if p.fd == inFD {
                    let w = pending.withUnsafeBytes { write(inFD, $0.baseAddress! + written, pending.count - written) }
                    if w > 0 { written += w }
                    if w < 0 && errno != EAGAIN && errno != EINTR || written == pending.count { close(inFD); inFD = -1 }
                    continue
                }
                let r = buffer.withUnsafeMutableBytes { read(p.fd, $0.baseAddress, $0.count) }
                if r > 0 {
                    if p.fd == outFD { stdout.append(contentsOf: buffer[0..<r]) } else { stderr.append(contentsOf: buffer[0..<r]) }
                } else if r == 0 || errno != EINTR && errno != EAGAIN {
                    close(p.fd)
                    if p.fd == outFD { outFD = -1 } else { errFD = -1 }
                }
            }
        }
        for fd in [outFD, errFD, inFD] where fd >= 0 { close(fd) }
        while child.isRunning {
            enforceDeadline()
            usleep(10_000)
        }
        return Result(status: child.terminationStatus, stdout: stdout, stderr: stderr, timedOut: timedOut)
    }
}
