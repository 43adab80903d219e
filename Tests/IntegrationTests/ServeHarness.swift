import Foundation
import NinePTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A `ninescope serve` (or `ninescope proxy`) process started from the built binary, as a user would run
/// it: it listens on port 0 (or a unix socket) and the test reads the bound address from the line it
/// prints on standard error.
final class NinescopeProcess: @unchecked Sendable {
    let process: ChildProcess
    let logPath: String
    /// The bound address as printed, in colon form (`127.0.0.1:40123`, `unix:/path`).
    let address: String

    /// The address in the form diod's clients take (`IP:PORT` or `/path/to/socket`).
    var diodAddress: String { address.hasPrefix("unix:") ? String(address.dropFirst(5)) : address }

    private init(process: ChildProcess, logPath: String, address: String) {
        self.process = process; self.logPath = logPath; self.address = address
    }

    /// Starts `ninescope ARGS` and waits (bounded) for its "serving … on ADDR" / "listening on ADDR" line.
    /// Throws with the process's output when it exits or never prints one. `launcher`: a program that execs
    /// the rest of its arguments (`["/usr/bin/nice", "-n", "7"]`).
    static func start(_ args: [String], marker: String = " on ", launcher: [String] = []) throws -> NinescopeProcess {
        let log = Peers.tempDir("serve-log") + "/ninescope.log"
        let command = launcher + [Peers.ninescope] + args
        let p = try Peers.spawn(command[0], Array(command.dropFirst()), log: log)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if let address = boundAddress(in: text) {
                return NinescopeProcess(process: p, logPath: log, address: address)
            }
            if !p.isRunning { break }
            usleep(20_000)
        }
        Peers.stop(p)
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        throw HarnessError("ninescope \(args.joined(separator: " ")) did not start: \(text)")
    }

    /// The address in `ninescope: serving X on ADDR (…)` or `ninescope: … listening on ADDR`.
    static func boundAddress(in text: String) -> String? {
        for line in text.split(separator: "\n") where line.hasPrefix("ninescope: ") {
            guard line.contains("serving ") || line.contains("listening on ") || line.contains("proxying ") else { continue }
            guard let r = line.range(of: " on ") else { continue }
            let rest = line[r.upperBound...]
            let addr = rest.split(separator: " ").first.map(String.init) ?? ""
            if addr.contains(":") { return addr }
        }
        return nil
    }

    /// Everything the process printed so far (stdout and stderr share the log).
    var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Sends `signal` and waits (bounded) for the exit; returns the exit status (nil if it had to be killed).
    @discardableResult
    func stop(signal sig: Int32 = SIGTERM, grace: TimeInterval = 10) -> Int32? {
        guard process.isRunning else { return process.terminationStatus }
        process.signal(sig)
        let deadline = Date().addingTimeInterval(grace)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            process.signal(SIGKILL)
            process.waitUntilExit()
            return nil
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit { if process.isRunning { stop(signal: SIGKILL) } }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// diod's clients, bounded in time.
enum DiodClients {
    static func tool(_ name: String) throws -> String {
        guard let p = Peers.which(name) else { throw HarnessError("\(name) is not installed; `make test` installs diod") }
        return p
    }

    static func ls(_ server: String, aname: String = "/", _ paths: [String] = [], long: Bool = false) throws -> Peers.Result {
        try Peers.run(try tool("diodls"), ["-s", server, "-a", aname, "-t", "30"] + (long ? ["-l"] : []) + paths, timeout: 60)
    }

    static func cat(_ server: String, aname: String = "/", msize: Int = 65536, _ paths: [String], timeout: Int = 60) throws -> Peers.Result {
        try Peers.run(try tool("diodcat"), ["-s", server, "-a", aname, "-m", String(msize), "-t", String(timeout)] + paths,
                      timeout: TimeInterval(timeout + 30))
    }

    static func load(_ server: String, seconds: Int = 2, threads: Int = 2, getattr: Bool = false) throws -> Peers.Result {
        try Peers.run(try tool("diodload"), ["-s", server, "-r", String(seconds), "-n", String(threads)] + (getattr ? ["-g"] : []),
                      timeout: TimeInterval(seconds + 60))
    }

    /// Names printed by a plain `diodls` (one per line), sorted.
    static func names(_ r: Peers.Result) -> [String] {
        r.out.split(separator: "\n").map(String.init).filter { !$0.isEmpty && !$0.hasSuffix(":") }.sorted()
    }

    /// The ops/s figure diodload prints (`diodload: 1234 ops/s, …`).
    static func opsPerSecond(_ r: Peers.Result) -> Int? {
        let text = r.out + r.err
        guard let range = text.range(of: " ops/s") else { return nil }
        let digits = text[..<range.lowerBound].reversed().prefix { $0.isNumber }
        return Int(String(digits.reversed()))
    }
}
