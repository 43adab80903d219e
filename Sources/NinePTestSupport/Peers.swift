import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Helpers for tests that talk to real peers over loopback: diod and its clients, tcpdump, tshark,
/// tmux, and the built `ninescope` binary. Everything here is bounded in time.
public enum Peers {
    /// The repository root (NINESCOPE_ROOT, else found from this file's location).
    public static var repoRoot: String {
        if let r = ProcessInfo.processInfo.environment["NINESCOPE_ROOT"], !r.isEmpty { return r }
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }

    /// The built `ninescope` executable (NINESCOPE_BIN, else .build/debug/ninescope).
    public static var ninescope: String {
        if let b = ProcessInfo.processInfo.environment["NINESCOPE_BIN"], !b.isEmpty { return b }
        return repoRoot + "/.build/debug/ninescope"
    }

    /// Full path of a command on PATH (or in /usr/sbin, /sbin), nil when absent.
    public static func which(_ name: String) -> String? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "") + ":/usr/sbin:/sbin:/usr/bin"
        for dir in path.split(separator: ":") {
            let p = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    /// A TCP port on 127.0.0.1 that was free a moment ago.
    public static func freePort() -> UInt16 {
        guard let (fd, port) = listenOnLoopback() else { return 0 }
        close(fd)
        return port
    }

    /// Waits until something accepts TCP connections on 127.0.0.1:port (true) or the deadline passes.
    @discardableResult
    public static func waitForPort(_ port: UInt16, timeout: TimeInterval = 10) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let fd = connectToLoopback(port) {
                close(fd)
                return true
            }
            usleep(50_000)
        }
        return false
    }

    /// A TCP socket connected to 127.0.0.1:port, or nil (errno says why).
    public static func connectToLoopback(_ port: UInt16) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var addr = loopback(port)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { close(fd); return nil }
        return fd
    }

    /// A TCP socket listening on a free port of 127.0.0.1 (SO_REUSEADDR set), and that port; nil (errno says
    /// why) when that fails.
    public static func listenOnLoopback(backlog: Int32 = 16) -> (fd: Int32, port: UInt16)? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = loopback(0)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, len) == 0 && listen(fd, backlog) == 0 && getsockname(fd, $0, &len) == 0
            }
        }
        guard ok else { close(fd); return nil }
        return (fd, UInt16(bigEndian: addr.sin_port))
    }

    private static func loopback(_ port: UInt16) -> sockaddr_in {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = port.bigEndian
        return addr
    }

    /// Waits until a unix socket path exists.
    @discardableResult
    public static func waitForPath(_ path: String, timeout: TimeInterval = 10) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: path) { return true }
            usleep(50_000)
        }
        return false
    }

    public struct Result: Sendable {
        public var status: Int32
        public var stdout: Data
        public var stderr: Data
        public var timedOut: Bool
        public var out: String { String(decoding: stdout, as: UTF8.self) }
        public var err: String { String(decoding: stderr, as: UTF8.self) }
    }

    /// Runs a program to completion (killed after `timeout`), capturing output.
    public static func run(_ path: String, _ args: [String], stdin: Data? = nil, timeout: TimeInterval = 120,
                           environment: [String: String]? = nil) throws -> Result {
        try runChild(path, args, stdin: stdin, timeout: timeout, environment: environment)
    }

    /// Starts a long-running program in the background; stdout/stderr go to the file `log`.
    public static func spawn(_ path: String, _ args: [String], log: String, directory: String? = nil) throws -> ChildProcess {
        try spawn(path, args, stdout: log, stderr: log, directory: directory)
    }

    /// Starts a long-running program in the background with stdout and stderr in files (the same file
    /// or two), created empty.
    public static func spawn(_ path: String, _ args: [String], stdout: String, stderr: String,
                             environment: [String: String]? = nil, directory: String? = nil) throws -> ChildProcess {
        let outFD = open(stdout, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard outFD >= 0 else { throw ChildProcessError("cannot create \(stdout)") }
        defer { close(outFD) }
        var errFD = outFD
        if stderr != stdout {
            errFD = open(stderr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard errFD >= 0 else { throw ChildProcessError("cannot create \(stderr)") }
        }
        defer { if errFD != outFD { close(errFD) } }
        return try ChildProcess.launch(path, args, environment: environment, stdout: outFD, stderr: errFD,
                                       directory: directory)
    }

    /// Stops a background process: SIGTERM, then SIGKILL after a grace period.
    public static func stop(_ p: ChildProcess, signal sig: Int32 = SIGTERM, grace: TimeInterval = 3) {
        guard p.isRunning else { return }
        p.signal(sig)
        let deadline = Date().addingTimeInterval(grace)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning { p.signal(SIGKILL) }
        p.waitUntilExit()
    }

    /// Makes the file `directory/name` holding `contents`, its name given as bytes (a name that is not
    /// UTF-8, which a `String` path cannot carry). Returns whether it was written whole.
    @discardableResult
    public static func createFile(in directory: String, name: [UInt8], contents: [UInt8]) -> Bool {
        let path = Array(directory.utf8) + [0x2F] + name + [0]
        let fd = path.withUnsafeBufferPointer { p in
            p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: p.count) { open($0, O_CREAT | O_WRONLY | O_TRUNC, 0o644) }
        }
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return write(fd, contents, contents.count) == contents.count
    }

    /// A fresh temporary directory, removed with everything in it when the test process exits (kept when
    /// NINESCOPE_KEEP_TEMP=1, to look at what a failed test left).
    public static func tempDir(_ prefix: String = "ninescope") -> String {
        let path = NSTemporaryDirectory() + "\(prefix)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        TempDirs.shared.add(path)
        return path
    }
}

/// A diod server on loopback exporting a directory (and `ctl`, which diodload needs).
public final class Diod: @unchecked Sendable {
    public let port: UInt16
    public let export: String
    public let process: ChildProcess
    public let logPath: String
    public var address: String { "127.0.0.1:\(port)" }

    /// Starts diod in the foreground mode, no auth, ignoring /etc/diod.conf. Nil when diod is not installed.
    public static func start(export: String, extraArgs: [String] = []) throws -> Diod? {
        guard let diod = Peers.which("diod") else { return nil }
        let port = Peers.freePort()
        let dir = Peers.tempDir("diod")
        let log = dir + "/diod.log"
        let out = log + ".out"
        // Run in its temporary directory: diod raises its own core limit, and a diod that crashes (one
        // did here, on a null mutex as a connection went) dumped a 280 MB core into the tree under test.
        let p = try Peers.spawn(diod, ["-f", "-n", "-c", "/dev/null", "-L", log, "-l", "127.0.0.1:\(port)",
                                       "-e", export, "-e", "ctl"] + extraArgs, log: out, directory: dir)
        guard Peers.waitForPort(port) else { Peers.stop(p); return nil }
        return Diod(port: port, export: export, process: p, logPath: log)
    }
    init(port: UInt16, export: String, process: ChildProcess, logPath: String) {
        self.port = port; self.export = export; self.process = process; self.logPath = logPath
    }
    public func stop() { Peers.stop(process) }
    deinit { if process.isRunning { Peers.stop(process) } }
}

/// The directories `Peers.tempDir` made, removed at exit.
final class TempDirs: @unchecked Sendable {
    // @unchecked: `paths` is only touched under `lock`.
    /// Made at the first `tempDir`, which is when the clean-up at exit is registered.
    static let shared = TempDirs()
    private let lock = NSLock()
    private var paths: [String] = []

    private init() {
        atexit { TempDirs.shared.removeAll() }
    }

    func add(_ path: String) {
        lock.lock()
        defer { lock.unlock() }
        paths.append(path)
    }

    func removeAll() {
        lock.lock()
        let all = paths
        paths = []
        lock.unlock()
        if ProcessInfo.processInfo.environment["NINESCOPE_KEEP_TEMP"] == "1" { return }
        for p in all { try? FileManager.default.removeItem(atPath: p) }
    }
}

/// nfs-ganesha (Debian `nfs-ganesha` and `nfs-ganesha-vfs`) serving one directory over 9P2000.L only, on a
/// TCP port of its own: no NFS, no rpcbind; D-Bus is absent here and ganesha goes on without it (it logs
/// CRIT lines saying so). Its 9P listener binds the wildcard address (`Bind_addr` is NFS's), so the port is
/// open on every interface while it runs. The aname is the export's path.
public final class Ganesha: @unchecked Sendable {
    public let port: UInt16
    public let export: String
    public let process: ChildProcess
    public let logPath: String
    public var address: String { "127.0.0.1:\(port)" }

    /// Whether ganesha can serve here: its FSAL VFS opens files by handle (open_by_handle_at), which needs
    /// root (CAP_DAC_READ_SEARCH).
    public static var canRun: Bool { geteuid() == 0 }

    /// Why `start` cannot run here (not installed, not root), nil when it can.
    public static var unavailable: String? {
        if Peers.which("ganesha.nfsd") == nil { return "ganesha.nfsd is not installed (`make test` installs nfs-ganesha)" }
        if fsalDirectory == nil { return "nfs-ganesha-vfs (FSAL VFS, libfsalvfs.so) is not installed" }
        if !canRun { return "nfs-ganesha's FSAL VFS opens files by handle, which needs root" }
        return nil
    }

    /// The directory holding ganesha's FSAL plugins (Debian's multiarch one, else its default).
    static var fsalDirectory: String? {
        ["/usr/lib/x86_64-linux-gnu/ganesha", "/usr/lib/aarch64-linux-gnu/ganesha", "/usr/lib64/ganesha",
         "/usr/lib/ganesha"].first { FileManager.default.fileExists(atPath: $0 + "/libfsalvfs.so") }
    }

    /// Starts `ganesha.nfsd -F` exporting `export` (an absolute path) read-write with root unsquashed, and
    /// waits for its port. Nil when `unavailable` says why not or it does not start listening.
    public static func start(export: String) throws -> Ganesha? {
        guard unavailable == nil, let ganesha = Peers.which("ganesha.nfsd"), let fsal = fsalDirectory else { return nil }
        let port = Peers.freePort()
        let dir = Peers.tempDir("ganesha")
        try FileManager.default.createDirectory(atPath: dir + "/recovery", withIntermediateDirectories: true)
        let config = """
            NFS_CORE_PARAM {
                Protocols = 9P; Bind_addr = 127.0.0.1; Enable_NLM = false; Enable_RQUOTA = false;
                Enable_UDP = false; Plugins_Dir = "\(fsal)";
            }
            NFSv4 { Graceless = true; RecoveryRoot = "\(dir)/recovery"; }
            _9P { _9P_TCP_Port = \(port); }
            EXPORT {
                Export_Id = 1; Path = "\(export)"; Pseudo = "/export"; Protocols = 9P; Access_Type = RW;
                Squash = No_Root_Squash; SecType = sys; FSAL { Name = VFS; }
            }
            LOG { Default_Log_Level = EVENT; }

            """
        try config.write(toFile: dir + "/ganesha.conf", atomically: true, encoding: .utf8)
        let log = dir + "/ganesha.log"
        // In its temporary directory, where a core it dumps goes (as diod's, see `Diod.start`).
        let p = try Peers.spawn(ganesha, ["-F", "-f", dir + "/ganesha.conf", "-L", log, "-p", dir + "/ganesha.pid"],
                                log: log + ".out", directory: dir)
        guard Peers.waitForPort(port, timeout: 30) else { Peers.stop(p); return nil }
        return Ganesha(port: port, export: export, process: p, logPath: log)
    }
    init(port: UInt16, export: String, process: ChildProcess, logPath: String) {
        self.port = port; self.export = export; self.process = process; self.logPath = logPath
    }
    /// Its log (ganesha writes one line per event; a 9P message it drops is logged as "Could not process").
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
    /// Whether it is still running (ganesha 4.3 dies of a segfault after a Tremove, for one).
    public var isRunning: Bool { process.isRunning }
    /// SIGKILL: its state is all in its temporary directory, and SIGTERM takes it ~5 s to shut down.
    public func stop() { Peers.stop(process, signal: SIGKILL) }
    deinit { if process.isRunning { Peers.stop(process, signal: SIGKILL) } }
}
