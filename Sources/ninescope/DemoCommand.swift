import ArgumentParser
import NinePWire
import NinePNIO
import NinePServer
import NinePDrivers
import NinePCapture
#if canImport(Glibc)
import Glibc
#endif

/// `ninescope demo`: the embedded default — a hosted 9P server (synthetic driver), the proxy in front of
/// it, and a built-in client workload that keeps producing varied traffic through the proxy.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a hosted server, the proxy in front of it and a built-in client, and show the traffic.",
        discussion: """
        Starts `ninescope serve --driver synth` on a free loopback port, `ninescope proxy` in front of it, \
        and a client that mounts, walks, reads, writes, lists directories, hits errors and flushes a slow \
        request, round after round. With --headless, or when standard output is not a terminal, one line \
        per message is printed. The proxy's address is printed on standard error, so other clients can \
        join: e.g. `ninescope repl ADDR` or `diodls -s ADDR -a /`. Stop with ctrl-c.
        """
    )

    @Option(parsing: .unconditional,
            help: ArgumentHelp("Number of workload rounds (0: until interrupted).", valueName: "N"))
    var rounds = 0
    @Option(parsing: .unconditional,
            help: ArgumentHelp("Milliseconds between the client's requests.", valueName: "MS"))
    var pace = 150
    @Option(help: ArgumentHelp("Proxy listen address (default: a free loopback port).", valueName: "ADDR"))
    var listen = "127.0.0.1:0"
    @Option(help: ArgumentHelp("Also write a pcapng capture.", valueName: "FILE")) var capture: String?
    @Flag(help: "Print one line per message instead of running the UI.") var headless = false
    @Flag(help: "Print one JSON object per line (implies --headless).") var json = false
    @Option(help: ArgumentHelp("Colour theme: dark, light, high-contrast, 16color, "
                               + "NAME.toml in $NINESCOPE_THEMES or ~/.config/ninescope/themes, or a TOML file.",
                               valueName: "NAME|PATH")) var theme: String?

    func validate() throws {
        // (A negative count ran no round at all and said nothing; a negative pace ran as 0.)
        guard rounds >= 0 else { throw ValidationError("--rounds must be 0 (until interrupted) or more, not \(rounds)") }
        guard pace >= 0 else { throw ValidationError("--pace must be 0 or more milliseconds, not \(pace)") }
        try UIApp.checkTheme(theme)
    }

    func run() async throws {
        let listenAddress = try Address.option(listen, named: "--listen")
        let driver = SyntheticDriver(options: .init(slowReadDelay: .seconds(3)))
        let server = NinePServerListener(listen: try Address(parsing: "127.0.0.1:0"), driver: driver)
        let serverAddress = try await server.start()

        var recorder: CaptureRecorder?
        if let capture {
            recorder = CaptureRecorder(file: try CaptureFileSink(path: capture),
                                       options: PcapngWriterOptions(toolVersion: NinescopeVersion.string))
        }
        let stdoutIsTerminal = isatty(1) == 1
        if !headless && !json && stdoutIsTerminal && isatty(0) == 1 {
            try await runWithUI(server: server, serverAddress: serverAddress, listen: listenAddress, recorder: recorder)
            try ProxyCommand.failIfCaptureIncomplete(recorder)
            return
        }
        recorder?.file.whenWriteFails { error in printError(ProxyCommand.captureStopped(error)) }
        let out = LineOutput(fd: 1, lineBuffered: true)
        let trace = ProxyTrace(style: json ? .json : .text, output: out, recorder: recorder)
        let proxy = NinePProxy(listen: listenAddress, upstream: serverAddress, sink: { trace.consume($0) })
        let proxyAddress = try await proxy.start()
        printError("ninescope: demo: server (synth) on \(serverAddress.colonForm), proxy on \(proxyAddress.colonForm)")

        let signals = SignalWatch(signals: SignalWatch.stopSignals)
        let workload = DemoWorkload(target: proxyAddress, pace: .milliseconds(pace))
        let rounds = self.rounds
        let client = Task {
            await workload.run(rounds: rounds) { error in printError("ninescope: demo client: \(error)") }
        }
        let stopper = Task { _ = await signals.next(); client.cancel() }
        _ = await client.result
        stopper.cancel()
        try? await Task.sleep(for: .milliseconds(100))
        await proxy.stop()
        await server.stop()
        out.flush()
        printError("ninescope: demo stopped; " + trace.summary() + ProxyCommand.closeCapture(recorder))
        try ProxyCommand.failIfCaptureIncomplete(recorder)
    }
}
