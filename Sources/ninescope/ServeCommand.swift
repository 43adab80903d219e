import ArgumentParser
import Dispatch
import InspectorCore
import NinePDrivers
import NinePNIO
import NinePServer
import NinePSession
import NinePWire
#if canImport(Glibc)
import Glibc
#endif

/// `ninescope serve --listen ADDR --driver memory|local:DIR|synth [--fault SPEC]… [--msize N] [--readonly]
/// [--max-fids N] [--trace]`: hosts NinePServer over a driver. Wiring only: 9P's meaning lives in
/// NinePServer, the drivers in NinePDrivers, sockets in NinePNIO's `NinePServerListener`.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Host a 9P server (9P2000, 9P2000.u, 9P2000.L) over a pluggable driver.",
        discussion: """
        Drivers:
          memory      an in-memory tree (starts with /README, /etc, /tmp, /docs)
          local:DIR   the host directory DIR, confined to it (symlinks never followed),
                      with the server's own credentials (the attaching user is traced,
                      not checked)
          synth       QEMU's 9pfs synth test tree, plus SLOW, FAIL and SPARSE files

        Every driver is served for any attach name (aname) except "ctl", which gets a small control tree \
        like diod's (/zero, /null) so that diod's clients work unchanged: diodload copies ctl:zero to \
        ctl:null, and diodcat/diodls attach "ctl" unless given -a.

        Faults (repeatable, or comma-separated): ACTION=TYPE[:ARG][@P%] with ACTION delay, error, hang \
        or close, TYPE a request name (Tread, tlopen, …) or * for all: delay=Tread:200ms, \
        error=Tlopen:EACCES@10%, hang=Twrite (never answered until flushed), close=Twrite@5% (the \
        connection dropped when one arrives, every request outstanding unanswered: a server dying there).

        The bound address goes to standard error on start (port 0 picks a free port). SIGINT, SIGTERM or SIGHUP \
        stops the server and closes every connection. --trace prints one line per message, like \
        `ninescope proxy --headless`, and a still-pending line for each request left unanswered for 10 s \
        (--still-pending). --stats ends with statistics per request type and per connection \
        (exchanges, errors, bytes, latency p50/p90/p99/max as the server answered) on standard error, or \
        with --trace --json as the last JSON object.

        Examples:
          ninescope serve --listen 127.0.0.1:5640 --driver memory
          ninescope serve --listen unix:/tmp/9p.sock --driver local:/srv --readonly
          ninescope serve --listen 127.0.0.1:0 --driver synth \\
              --fault hang=Tread --trace
          diodcat -s 127.0.0.1:5640 -a / /README
        """
    )

    @Option(help: ArgumentHelp("Where to listen: HOST:PORT, [V6]:PORT, tcp!HOST!PORT, unix:/path, unix!/path.",
                               valueName: "ADDR"))
    var listen: String
    @Option(help: ArgumentHelp("memory, local:DIR or synth.", valueName: "DRIVER")) var driver: String
    @Option(name: .customLong("fault"), help: ArgumentHelp("Inject faults (see above); repeatable.", valueName: "SPEC"))
    var faults: [String] = []
    @Option(help: ArgumentHelp("Largest msize the server accepts (Rversion answers the smaller of this and the client's).",
                               valueName: "N"))
    var msize: UInt32 = ServerConfig().maxMsize
    @Flag(help: "Refuse every request that would change the tree (EROFS).") var readonly = false
    @Option(name: .customLong("max-fids"), help: ArgumentHelp("Most fids one connection may hold.", valueName: "N"))
    var maxFids: Int = ServerConfig().maxFids
    @Option(name: .customLong("fault-seed"), help: ArgumentHelp("Seed for probabilistic faults (default: random; "
                                                                 + "the one used is printed at start).", valueName: "N"))
    var faultSeed: UInt64?
    @Flag(help: "Print one trace line per message to standard output.") var trace = false
    @Flag(help: "With --trace, print JSON lines instead of text.") var json = false
    @Option(help: ArgumentHelp("With --trace: print a still-pending line for each request unanswered after "
                               + "DURATION (e.g. 2s, 1m; 0: never).", valueName: "DURATION"))
    var stillPending: String = "10s"
    @Option(help: ArgumentHelp("With --trace: the lines held in memory while standard output is not read "
                               + "(default 16M); past it lines are dropped and counted, and a line says where; "
                               + "the server goes on.", valueName: "SIZE"))
    var linesHeld: String = "16M"
    @Flag(help: ArgumentHelp("When stopped, print statistics per request type and per connection: counts, "
                             + "errors, bytes, latency percentiles."))
    var stats = false

    /// What --driver names.
    enum DriverChoice: Equatable {
        case memory, synth
        case local(String)

        init(parsing text: String) throws {
            switch text {
            case "memory", "mem": self = .memory
            case "synth", "synthetic": self = .synth
            default:
                if text.hasPrefix("local:") {
                    let dir = String(text.dropFirst("local:".count))
                    guard !dir.isEmpty else { throw ValidationError("--driver local:DIR needs a directory, e.g. local:/srv/export") }
                    self = .local(dir)
                } else if text == "local" {
                    throw ValidationError("--driver local needs a directory: local:DIR")
                } else {
                    throw ValidationError("unknown driver '\(text)': use memory, local:DIR or synth")
                }
            }
        }

        var label: String {
            switch self {
            case .memory: "memory"
            case .synth: "synth"
            case .local(let d): "local:\(d)"
            }
        }
    }

    func validate() throws {
        _ = try Address.option(listen, named: "--listen")
        _ = try DriverChoice(parsing: driver)
        _ = try FaultSpec.option(faults)
        guard msize >= ServerConfig().minMsize else {
            throw ValidationError("--msize \(msize) is below the minimum \(ServerConfig().minMsize)")
        }
        guard maxFids > 0 else { throw ValidationError("--max-fids must be at least 1") }
        if json && !trace { throw ValidationError("--json only applies with --trace") }
        _ = try ProxyCommand.stillPendingOption(stillPending)
        _ = try ProxyCommand.linesHeldOption(linesHeld)
    }

    func run() async throws {
        do {
            try await start()
        } catch let failure as ServeFailure {
            printError("ninescope: serve: \(failure)")
            throw ExitCode.failure
        }
    }

    func start() async throws {
        OpenFileLimit.raiseToHard()   // a descriptor per connection and per file the local driver holds open
        let address = try Address.option(listen, named: "--listen")
        let spec = try FaultSpec.option(faults)
        let choice = try DriverChoice(parsing: driver)
        let config = ServerConfig(maxMsize: msize, maxFids: maxFids, readOnly: readonly)
        switch choice {
        case .memory:
            let memory = MemoryDriver()
            do { try await Self.populate(memory) } catch { throw ServeFailure("cannot build the memory tree: \(error)") }
            try await host(memory, choice: choice, spec: spec, address: address, config: config)
        case .synth:
            try await host(SyntheticDriver(), choice: choice, spec: spec, address: address, config: config)
        case .local(let dir):
            let local: LocalDriver
            do { local = try LocalDriver(root: dir) } catch {
                let why = error == .ENOENT ? "no such directory" : error == .ENOTDIR ? "not a directory" : "\(error)"
                throw ServeFailure("cannot export '\(dir)': \(why)")
            }
            try await host(local, choice: choice, spec: spec, address: address, config: config)
        }
    }

    /// Wraps the driver (control tree, then faults) and serves it.
    func host<D: FileSystemDriver>(_ base: D, choice: DriverChoice, spec: FaultSpec, address: Address,
                                   config: ServerConfig) async throws {
        let tree = CtlTreeDriver(main: base)
        if spec.rules.isEmpty {
            try await serve(tree, choice: choice, spec: spec, address: address, config: config)
        } else {
            let seed = faultSeed ?? UInt64.random(in: 0...UInt64.max)
            try await serve(FaultDriver(wrapping: tree, spec: spec, seed: seed), choice: choice, spec: spec,
                            seed: seed, address: address, config: config)
        }
    }

    func serve<D: FileSystemDriver>(_ driver: D, choice: DriverChoice, spec: FaultSpec, seed: UInt64? = nil,
                                    address: Address, config: ServerConfig) async throws {
        let out = LineOutput(fd: 1, lineBuffered: isatty(1) == 1)
        out.closedNotice = "the trace's reader went away (a closed pipe): no more lines; the server goes on until stopped"
        out.failureNotice = { why in "the trace cannot be written (\(why)): its lines are lost until they can be; "
            + "the server goes on" }
        if trace {
            // The trace runs on the server's threads: it must never wait for the lines' reader.
            let held = try ProxyCommand.linesHeldOption(linesHeld)
            out.writeInBackground(limit: held, json: json,
                                  stalledNotice: ProxyCommand.stalledNotice(held, what: "the server goes on"))
        }
        let tracer = trace || stats ? ServeTrace(style: json ? .json : .text, output: out, lines: trace, stats: stats) : nil
        // Lines to a file or a pipe reach their reader within 200 ms.
        let ticker = trace ? out.flushingNow() : nil
        let counts = ServeStats()
        let signals = SignalWatch(signals: SignalWatch.stopSignals)
        let onEvent: @Sendable (ServerListenerEvent) -> Void = { event in
            counts.record(event)
            if let tracer { tracer.event(event) }
            if !trace, case .closed(let id, let reason) = event, !ServeTrace.isOrdinary(reason) {
                StderrAside.shared.say("ninescope: c\(id) closed: \(reason)")   // on an event loop: never waits
            }
            if case .acceptFailed(let reason) = event { StderrAside.shared.say("ninescope: " + ProxyCommand.acceptFailure(reason)) }
        }
        var onFrame: (@Sendable (Int, NinePWire.Direction, [UInt8]) -> Void)?
        if let tracer {
            onFrame = { id, direction, frame in tracer.frame(id: id, direction: direction, bytes: frame) }
        }
        let listener = NinePServerListener(listen: address, driver: driver, config: config, onEvent: onEvent,
                                           onFrame: onFrame)
        let bound: Address
        do { bound = try await listener.start() } catch {
            throw ServeFailure("cannot listen on \(address.colonForm): \(error)")
        }
        tracer?.listening(on: bound)
        var extras = ["msize ≤ \(config.maxMsize)"]
        if config.readOnly { extras.append("read-only") }
        if config.maxFids != ServerConfig().maxFids { extras.append("max \(config.maxFids) fids") }
        // The seed of the @P% rolls, as the proxy's start line gives it: --fault-seed N repeats a run.
        if !spec.rules.isEmpty { extras.append("faults: \(spec)" + (seed.map { " (--fault-seed \($0))" } ?? "")) }
        printError("ninescope: serving \(choice.label) on \(bound.colonForm) (\(extras.joined(separator: ", ")))")
        // Requests the server leaves unanswered: checked once a second (nothing else would show them).
        let after = trace ? (try? ProxyCommand.stillPendingOption(stillPending)) ?? nil : nil   // (checked in validate)
        let overdue = ProxyCommand.watchStillPending(after: after) { tracer?.reportOverdue(after: $0, now: $1) }
        let sig = await signals.next()
        overdue?.cancel()
        await listener.stop()
        let statistics = tracer?.finishStatistics()
        if trace && json, let statistics { tracer?.write(statistics.json) }
        ticker?.cancel()
        tracer?.flush()
        out.finishWriting()
        StderrAside.shared.drain()
        printError("ninescope: \(SignalWatch.name(sig)): stopped after " + ProxyTrace.count(counts.accepted, "connection"))
        if !(trace && json), let statistics { for line in statistics.textLines { printError(line) } }
        try out.failIfUnwritten("trace lines lost")
    }

    /// The memory driver's starting tree: small, useful files for `diodls`/`diodcat` and a writable /tmp.
    static func populate(_ memory: MemoryDriver) async throws {
        let readme = """
        This tree is served by `ninescope serve --driver memory`: it lives in memory and is lost when the
        server stops. Create, write, rename and remove anything; /tmp is there for scratch files.
        The attach name "ctl" serves /zero and /null instead (for diodload).

        """
        try await memory.makeFile("README", contents: Array(readme.utf8))
        try await memory.makeDirectories("etc")
        try await memory.makeFile("etc/hosts", contents: Array("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n".utf8))
        try await memory.makeFile("etc/motd", contents: Array("Welcome to ninescope's in-memory 9P server.\n".utf8))
        try await memory.makeDirectories("tmp", mode: 0o1777)
        try await memory.makeDirectories("docs")
        try await memory.makeFile("docs/numbers.txt", contents: Array((1...100).map { "\($0)\n" }.joined().utf8))
        try await memory.makeSymlink("docs/hosts", target: "../etc/hosts")
    }
}

/// A failure of `ninescope serve` after the arguments were accepted: printed as one line, exit status 1.
struct ServeFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Connection counts for the stop line.
final class ServeStats: @unchecked Sendable {
    // @unchecked: state under `lock`.
    private let lock = NSLockLike()
    private var count = 0
    var accepted: Int { lock.withLock { count } }
    func record(_ event: ServerListenerEvent) {
        if case .accepted = event { lock.withLock { count += 1 } }
    }
}

extension FaultSpec {
    /// `--fault`'s values (`serve`'s and the proxy's), a rule that does not parse said as a usage error.
    static func option(_ specs: [String]) throws -> FaultSpec {
        do { return try FaultSpec(parsing: specs) } catch { throw ValidationError("--fault: \(error)") }
    }
}
