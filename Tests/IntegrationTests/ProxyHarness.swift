import Foundation
import NinePTestSupport
import NinePWire
#if canImport(Glibc)
import Glibc
#endif

/// A `ninescope proxy` process for end-to-end tests: stdout and stderr go to separate files; the bound
/// address is read from the "proxy listening on" line on stderr.
final class ProxyProcess {
    let process: ChildProcess
    let stdoutPath: String
    let stderrPath: String
    /// The bound listen address in colon form (`127.0.0.1:40123`, `unix:/tmp/…`).
    private(set) var listenAddress = ""

    /// Starts `ninescope proxy --listen LISTEN --upstream UPSTREAM EXTRA…` and waits (≤ 30 s) for it to
    /// report its address. Throws when it does not. `launcher`: a program that execs the rest of its
    /// arguments (`["/usr/bin/nice", "-n", "7"]`), so the proxy keeps the process id.
    /// `stdout`: where its standard output goes (a FIFO, say) instead of a file of its own.
    init(upstream: String, listen: String = "127.0.0.1:0", extra: [String] = ["--headless"],
         launcher: [String] = [], stdout: String? = nil) throws {
        let dir = Peers.tempDir("proxy")
        stdoutPath = stdout ?? dir + "/stdout"
        stderrPath = dir + "/stderr"
        let command = launcher + [Peers.ninescope, "proxy", "--listen", listen, "--upstream", upstream] + extra
        process = try Peers.spawn(command[0], Array(command.dropFirst()), stdout: stdoutPath, stderr: stderrPath)
        let marker = "proxy listening on "
        let found = ProxyProcess.poll(timeout: 30) { [self] in
            guard let line = stderr.split(separator: "\n").first(where: { $0.contains(marker) }),
                  let start = line.range(of: marker), let arrow = line.range(of: " → ") else { return false }
            listenAddress = String(line[start.upperBound..<arrow.lowerBound])
            return true
        }
        if !found {
            Peers.stop(process, signal: SIGKILL)
            throw ProxyHarnessError("the proxy did not start: \(stderr)")
        }
    }

    deinit { if process.isRunning { Peers.stop(process, signal: SIGKILL) } }

    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }
    var stdoutLines: [Substring] { stdout.split(separator: "\n") }

    /// The TCP port of the listen address (nil for unix sockets).
    var port: UInt16? { listenAddress.split(separator: ":").last.flatMap { UInt16($0) } }

    /// Waits (≤ `timeout` s, polling) until stdout satisfies `predicate`.
    @discardableResult
    func waitForOutput(timeout: Double = 30, _ predicate: (String) -> Bool) -> Bool {
        ProxyProcess.poll(timeout: timeout) { predicate(self.stdout) }
    }

    /// Sends `sig` and waits (≤ 30 s) for the process to exit; returns its termination status and whether
    /// it exited normally (rather than by a signal).
    @discardableResult
    func stop(signal sig: Int32 = SIGINT) -> (status: Int32, exited: Bool) {
        if process.isRunning {
            process.signal(sig)
            _ = ProxyProcess.poll(timeout: 30) { !self.process.isRunning }
            if process.isRunning { process.signal(SIGKILL) }
        }
        process.waitUntilExit()
        return (process.terminationStatus, process.terminationReason == .exit)
    }

    static func poll(timeout: Double, interval: useconds_t = 20_000, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(interval)
        }
        return condition()
    }
}

struct ProxyHarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// A blocking socket for hand-made 9P traffic: connect over TCP or a unix socket, send bytes, read whole
/// frames or raw bytes (reads time out after 20 s), half-close, close.
final class ProxyRawSocket {
    /// Connects to `address` and closes at once, sending nothing (a port check's connection).
    static func connectAndHangUp(_ address: String) {
        (try? ProxyRawSocket(address))?.close()
    }

    private(set) var fd: Int32
    private var buffer: [UInt8] = []

    /// `address`: `HOST:PORT` (IPv4) or `unix:/path`.
    init(_ address: String) throws {
        if address.hasPrefix("unix:") {
            fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var sa = sockaddr_un()
            sa.sun_family = sa_family_t(AF_UNIX)
            let path = Array(address.dropFirst(5).utf8)
            withUnsafeMutableBytes(of: &sa.sun_path) { raw in for (i, b) in path.enumerated() { raw[i] = b } }
            let rc = withUnsafePointer(to: &sa) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            if rc != 0 { throw ProxyHarnessError("connect \(address): \(String(cString: strerror(errno)))") }
        } else {
            let parts = address.split(separator: ":")
            guard parts.count == 2, let port = UInt16(parts[1]) else { throw ProxyHarnessError("bad address \(address)") }
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var sa = sockaddr_in()
            sa.sin_family = sa_family_t(AF_INET)
            sa.sin_addr.s_addr = inet_addr(String(parts[0]))
            sa.sin_port = port.bigEndian
            let rc = withUnsafePointer(to: &sa) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if rc != 0 { throw ProxyHarnessError("connect \(address): \(String(cString: strerror(errno)))") }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        var tv = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Wraps an accepted descriptor.
    init(fd: Int32) {
        self.fd = fd
        var tv = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close() }

    func send(_ bytes: [UInt8]) throws {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + off, $0.count - off, Int32(MSG_NOSIGNAL)) }
            if n < 0 { if errno == EINTR { continue }; throw ProxyHarnessError("send: \(String(cString: strerror(errno)))") }
            off += n
        }
    }

    /// Sends one 9P2000.L message.
    func send(_ tag: UInt16, _ message: Message) throws {
        try send(Fcall(tag: Tag(tag), message).encode(dialect: .l))
    }

    /// Reads one whole frame; nil at EOF, on reset or after the 20 s read timeout.
    func receiveFrame() -> [UInt8]? {
        while true {
            if buffer.count >= 4 {
                let size = Int(buffer[0]) | Int(buffer[1]) << 8 | Int(buffer[2]) << 16 | Int(buffer[3]) << 24
                if size >= 7, buffer.count >= size {
                    let frame = Array(buffer[0..<size])
                    buffer.removeFirst(size)
                    return frame
                }
            }
            guard let more = receiveSome() else { return nil }
            buffer += more
        }
    }

    /// Sends `message` and reads the reply, decoded as 9P2000.L (nil when none came).
    func rpc(_ tag: UInt16, _ message: Message) throws -> Fcall? {
        try send(tag, message)
        guard let frame = receiveFrame() else { return nil }
        return try Fcall.decode(frame, dialect: .l)
    }

    /// The next bytes read (nil at EOF, error or timeout).
    func receiveSome() -> [UInt8]? {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            return n > 0 ? Array(chunk[0..<n]) : nil
        }
    }

    /// Reads until EOF (or error/timeout) and returns everything read.
    func receiveAll() -> [UInt8] {
        var all = buffer
        buffer = []
        while let more = receiveSome() { all += more }
        return all
    }

    /// Half-close: no more bytes from us; reading still works.
    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    func close() {
        if fd >= 0 { _ = Glibc.close(fd); fd = -1 }
    }
}

/// A raw TCP upstream on 127.0.0.1 that accepts connections and records every byte each one sends until
/// EOF. It never replies.
final class ProxyRecordingServer: Sendable {
    /// What the connections sent; shared with the accepting threads.
    final class Store: @unchecked Sendable {
        // @unchecked: `received` and `eofs` are only touched under `lock`.
        let lock = NSLock()
        var received: [[UInt8]] = []
        var eofs = 0
    }
    let port: UInt16
    private let listenFD: Int32
    private let store = Store()

    init() throws {
        guard let (fd, bound) = Peers.listenOnLoopback() else {
            throw ProxyHarnessError("recording server: \(String(cString: strerror(errno)))")
        }
        listenFD = fd
        port = bound
        let store = self.store
        Thread.detachNewThread {
            while true {
                let c = accept(fd, nil, nil)
                if c < 0 { if errno == EINTR { continue }; return }
                let index: Int = store.lock.withLock { store.received.append([]); return store.received.count - 1 }
                Thread.detachNewThread {
                    let s = ProxyRawSocket(fd: c)
                    while let more = s.receiveSome() { store.lock.withLock { store.received[index] += more } }
                    store.lock.withLock { store.eofs += 1 }
                }
            }
        }
    }

    /// Closing the listening socket ends the accepting thread.
    deinit { shutdown(listenFD, Int32(SHUT_RDWR)); _ = Glibc.close(listenFD) }

    var address: String { "127.0.0.1:\(port)" }
    var connections: [[UInt8]] { store.lock.withLock { store.received } }
    var finishedConnections: Int { store.lock.withLock { store.eofs } }
}

/// A diod started on a given port (so it can be restarted on the same one), exporting `export` and `ctl`.
final class DiodOnPort {
    let port: UInt16
    let export: String
    private(set) var process: ChildProcess?
    var address: String { "127.0.0.1:\(port)" }

    init(export: String, port: UInt16 = Peers.freePort()) {
        self.export = export
        self.port = port
    }

    deinit { if let p = process, p.isRunning { Peers.stop(p, signal: SIGKILL) } }

    func start() throws {
        guard let diod = Peers.which("diod") else { throw ProxyHarnessError("diod is not installed; `make test` installs it") }
        let dir = Peers.tempDir("diod")
        let log = dir + "/diod.log"
        // In its temporary directory, where a core it dumps goes (see `Diod.start`).
        process = try Peers.spawn(diod, ["-f", "-n", "-c", "/dev/null", "-L", log, "-l", address,
                                         "-e", export, "-e", "ctl"], log: log + ".out", directory: dir)
        guard Peers.waitForPort(port, timeout: 30) else { throw ProxyHarnessError("diod did not start on \(address)") }
    }

    func kill(_ sig: Int32 = SIGKILL) {
        if let p = process { Peers.stop(p, signal: sig) }
    }
}

enum ProxyTool {
    /// Runs a diod client program (`diodls`, `diodcat`, `diodload`) with `args`.
    static func client(_ name: String, _ args: [String], timeout: Double = 120) throws -> Peers.Result {
        guard let path = Peers.which(name) else { throw ProxyHarnessError("\(name) is not installed; `make test` installs it") }
        return try Peers.run(path, args, timeout: timeout)
    }

    /// `sha256sum` of some bytes.
    static func sha256(_ data: Data) throws -> String {
        let r = try Peers.run(Peers.which("sha256sum") ?? "/usr/bin/sha256sum", [], stdin: data)
        return String(r.out.prefix(64))
    }

    /// `ninescope decode FILE --json` parsed into objects, with its result.
    static func decodeJSON(_ file: String, extra: [String] = []) throws -> (objects: [[String: Any]], result: Peers.Result) {
        let r = try Peers.run(Peers.ninescope, ["decode", file, "--json"] + extra)
        return (try RealTraffic.jsonLines(r.out), r)
    }

    /// Makes a file of `size` deterministic pseudo-random bytes.
    static func makeFile(_ path: String, size: Int, seed: UInt64) {
        var rng = SplitMix(seed: seed)
        var bytes = [UInt8](repeating: 0, count: size)
        var i = 0
        while i < size {
            var v = rng.next()
            for _ in 0..<8 where i < size { bytes[i] = UInt8(truncatingIfNeeded: v); v >>= 8; i += 1 }
        }
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
    }
}

extension Dictionary where Key == String, Value == Any {
    var pxEvent: String? { self["event"] as? String }
    var pxConn: Int? { self["conn"] as? Int }
    var pxTypecode: Int? { self["typecode"] as? Int }
    var pxTypeName: String? { self["type"] as? String }
    var pxFields: [String: Any] { (self["fields"] as? [String: Any]) ?? [:] }
    /// An anomaly event, other than the one every `diodls` of a diod export shows: diodls walks to each entry
    /// of the listing, `..` included, and diod answers `..` at the export's root with the parent's qid
    /// (`walk-left-root`; `ReplIntegrationTests.aWalkOutOfTheExportIsAnAnomaly` checks it).
    var pxUnexpectedAnomaly: Bool { pxEvent == "anomaly" && self["kind"] as? String != "walk-left-root" }
}

/// A FIFO whose reader has it open and reads nothing (a pager left on one page) until `startReading`:
/// for a process whose output goes to `path`.
final class StalledReader: @unchecked Sendable {
    // @unchecked: `stored` and `done` are only touched under `lock`.
    let path: String
    private let fd: Int32
    private let lock = NSLock()
    private var stored: [UInt8] = []
    private var done = false

    init(_ path: String) throws {
        guard mkfifo(path, 0o600) == 0 else { throw ProxyHarnessError("cannot make the FIFO \(path)") }
        fd = open(path, O_RDONLY | O_NONBLOCK)
        guard fd >= 0 else { throw ProxyHarnessError("cannot open the FIFO \(path)") }
        self.path = path
    }

    deinit { _ = close(fd) }

    /// What is in the pipe now, without waiting (before `startReading`).
    func readWaiting() -> [UInt8] {
        var chunk = [UInt8](repeating: 0, count: 4096)
        let n = read(fd, &chunk, chunk.count)
        return n > 0 ? Array(chunk[0..<n]) : []
    }

    /// From now on reads all that comes, on a thread of its own, until the writer closes the pipe.
    func startReading() {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        let thread = Thread { [self] in
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = read(fd, &chunk, chunk.count)
                if n <= 0 { break }
                lock.lock(); stored += chunk[0..<n]; lock.unlock()
            }
            lock.lock(); done = true; lock.unlock()
        }
        thread.start()
    }

    /// What was read since `startReading`, as text.
    var text: String { lock.lock(); defer { lock.unlock() }; return String(decoding: stored, as: UTF8.self) }
    /// The writer closed the pipe and all was read.
    var finished: Bool { lock.lock(); defer { lock.unlock() }; return done }
}
