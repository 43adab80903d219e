import ArgumentParser
import NinePCapture
import NinePNIO
import NinePServer
import NinePSession
import InspectorCore
#if canImport(Glibc)
import Glibc
#endif

/// `ninescope proxy --listen ADDR --upstream ADDR [--capture FILE] [--headless] [--json]
/// [--quiet|--filter EXPR]`: the live man-in-the-middle proxy. Subcommand wiring only: relaying lives in
/// NinePProxy (NinePProxy.swift in NinePNIO), decoding in the SessionTracker, line formatting in TraceLine,
/// filtering in LiveTraceFilter, capture writing in CaptureRecorder/CaptureFileSink.
struct ProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy",
        abstract: "Relay 9P between clients and a server, showing every message live.",
        discussion: """
        Every client that connects to --listen gets its own connection to --upstream; the bytes pass both \
        ways unchanged (malformed frames included) while each message is decoded and printed. Addresses: \
        HOST:PORT, [V6]:PORT, tcp!HOST!PORT, unix:/path, unix!/path (port 0 picks a free port; the bound \
        address is printed on standard error). An upstream that is the proxy's own listener is refused; \
        one that leads back to it through another process (a forward to the proxy's port) is found when a \
        client's Tversion comes back in sixteen times and a test Tversion of the proxy's own, sent upstream, \
        comes back in too: those connections are closed and it is said.

        Output: when standard input and output are a terminal the live UI runs (keys: ? for help, ctrl-z \
        back to the shell; --theme NAME); with --headless, or when standard \
        output is not a terminal, one line per message (time, connection, direction, the message, and for \
        replies the latency), `!` lines for anomalies as they happen, `+`/`-` lines when connections open \
        and close. --json prints one JSON object per line instead. --filter EXPR shows only the exchanges \
        that match (the inspector's filter language, as `decode --filter` and the UI's /): in the UI it is \
        the view's filter at start; headless, each exchange's lines are printed once it is complete \
        (answered, flushed, or unanswered when its connection ended), the `+`/`-` lines as they happen. \
        --quiet records without decoding: no line \
        per message (only the connections' open and close lines and the closing summary), the least the \
        proxy can cost the traffic it records; read the capture afterwards with `ninescope decode` or \
        `ninescope view`. --stats (headless) ends with statistics per request type and per connection: \
        exchanges, errors, bytes, latency p50/p90/p99/max (with --filter, of the exchanges that match), on \
        standard error after the summary, or with --json as the last JSON object. Lines that cannot be \
        written (a full disk) are said on standard error; the proxy goes on and exits with status 1.

        --capture FILE writes a pcapng capture that Wireshark and tshark open as 9P (port 564) and \
        `ninescope decode FILE` reads back. It is written to disk at least once a second, so it stays \
        readable if the proxy is killed. If a write fails (a full disk), the capture stops there and says so; \
        the proxy goes on relaying and exits with status 1.

        --capture - writes the capture to standard output, packet by packet as they are recorded, for a live \
        reader: `ninescope proxy … --capture - | wireshark -k -i -` (the lines go to standard error). A FIFO \
        given as FILE is written the same way.

        --capture-data N keeps at most N bytes of each Rread's and Twrite's data in the capture (--capture-data 0: \
        none), every other message and field whole: a trace of the protocol without the files' contents, a \
        fraction of the size. tshark, Wireshark and `ninescope decode` show those messages as cut by a snap \
        length; the lines and the UI show the traffic as it was.

        The live UI holds the newest exchanges, up to 1 GiB of them (--view-history SIZE, or all): past that \
        it forgets the oldest, but never a request still waiting for its reply, and the status line counts \
        them. Of each Rread's and Twrite's data it keeps the first 4096 bytes (--view-data N, or all), so that \
        a guest copying large files does not fill memory with their contents; such messages show as cut, \
        with their count and first bytes. The relay and the capture always carry every byte.

        --capture-size SIZE cuts the capture into files of SIZE (e.g. 100M, 1G; at least 64K): FILE \
        trace.pcapng becomes trace_00001_YYYYMMDDHHMMSS.pcapng, trace_00002_…, … (the time each began, UTC; \
        Wireshark's File › File Set steps through them; files of an earlier capture in the \
        same series are deleted at start). --capture-duration DURATION (e.g. 10m, 1h) begins a new file every \
        DURATION, alone or with --capture-size. Each file is a whole capture that tshark and `ninescope \
        decode` read alone; `ninescope decode trace_*.pcapng` reads them as one. --capture-files N keeps only \
        the newest N, deleting the oldest as a new one begins: a trace that runs for days in bounded space.

        --fault SPEC plays a faulty server in front of the real one, with the rules `serve --fault` takes \
        (ACTION=TYPE[:ARG][@P%], repeatable or comma-separated; Tversion and Tflush are never faulted): \
        delay=Tread:200ms holds each Rread back 200 ms before the client gets it (other replies pass \
        meanwhile); error=Tlopen:EACCES@10% answers one Tlopen in ten with that error itself, and the server \
        never sees it (Tclunk and Tremove do reach it, since they end the fid whatever the reply, and its reply \
        is replaced); hang=Twrite keeps each Twrite from the server, pending until the client flushes it; \
        close=Twrite@5% closes the connection when one comes, every request outstanding unanswered. The \
        lines, the UI and the capture show what the client saw, marked: the request the server never got \
        `dropped`, the proxy's reply `injected`, a held reply `delayed` (its latency the one the client saw). \
        A client's Tflush passes a held reply on at once. --fault-seed N repeats a run's @P% rolls. In the UI, \
        :fault SPEC changes the rules while the proxy runs, :fault shows them and :fault off ends them.

        SIGINT, SIGTERM or SIGHUP (the terminal went away; not under nohup) stops the proxy, with or without \
        the UI: connections are closed, the capture is completed, and a summary \
        goes to standard error.

        Examples:
          ninescope proxy --listen 127.0.0.1:5640 --upstream 127.0.0.1:564 --headless
          ninescope proxy --listen unix:/tmp/9p.sock \\
              --upstream 'tcp!fileserver!564' --capture trace.pcapng
          ninescope proxy --listen 127.0.0.1:5640 --upstream 127.0.0.1:564 \\
              --capture long.pcapng --quiet
          ninescope proxy --listen 127.0.0.1:5640 --upstream 127.0.0.1:564 \\
              --capture ring.pcapng --capture-size 100M --capture-files 10
          ninescope proxy --listen 127.0.0.1:5640 --upstream 127.0.0.1:564 \\
              --capture - --quiet | wireshark -k -i -
          ninescope proxy --listen 127.0.0.1:5640 --upstream 127.0.0.1:564 \\
              --filter 'error or latency>10ms'
          ninescope proxy --listen 127.0.0.1:5640 --upstream 127.0.0.1:564 \\
              --fault delay=Tread:50ms,error=Tlopen:EIO@5%
          mount -t 9p -o trans=tcp,port=5640,version=9p2000.L 127.0.0.1 /mnt
        """
    )

    @Option(help: ArgumentHelp("Where clients connect.", valueName: "ADDR")) var listen: String
    @Option(help: ArgumentHelp("The real 9P server.", valueName: "ADDR")) var upstream: String
    @Option(help: ArgumentHelp("Write a pcapng capture of all traffic to FILE ('-': standard output, for a live "
                               + "reader such as `wireshark -k -i -`; the lines then go to standard error).",
                               valueName: "FILE"))
    var capture: String?
    @Option(help: ArgumentHelp("Cut the capture into files of SIZE (e.g. 100M, 1G; at least 64K), numbered: "
                               + "FILE_00001_YYYYMMDDHHMMSS.EXT, FILE_00002_….EXT, …", valueName: "SIZE"))
    var captureSize: String?
    @Option(help: ArgumentHelp("Begin a new capture file every DURATION (e.g. 10m, 1h, 1d; at least 1s), numbered "
                               + "as with --capture-size (either or both).", valueName: "DURATION"))
    var captureDuration: String?
    // (.unconditional: a negative number is read as the value, and refused as such, not taken for an option.)
    @Option(parsing: .unconditional,
            help: ArgumentHelp("With --capture-size or --capture-duration: keep only the newest N files.", valueName: "N"))
    var captureFiles: Int?
    @Option(parsing: .unconditional,
            help: ArgumentHelp("Keep at most N bytes of each read's and write's data in the capture (Rread, "
                               + "Twrite); every other message and field is kept whole. Read back, such a "
                               + "message shows as cut.", valueName: "N"))
    var captureData: Int?
    @Option(help: ArgumentHelp("The live UI keeps at most N bytes of each read's and write's data in memory "
                               + "(default 4096; 'all': everything); such messages show as cut. The relay and "
                               + "the capture keep every byte.", valueName: "N|all"))
    var viewData: String?
    @Option(help: ArgumentHelp("The live UI forgets its oldest exchanges (but those still pending) once it holds "
                               + "SIZE (default 1G, about 2.7 million small exchanges; e.g. 256M, 8G; 'all': "
                               + "keep everything). Statistics count them all; --capture records them all.",
                               valueName: "SIZE|all"))
    var viewHistory: String?
    @Flag(help: "Print one line per message instead of running the UI.") var headless = false
    @Flag(help: "Print one JSON object per line (implies --headless).") var json = false
    @Flag(help: ArgumentHelp("Record only: decode nothing and print no line per message (implies --headless; with "
                             + "--capture: without it nothing is recorded, and it warns)."))
    var quiet = false
    @Option(help: ArgumentHelp("Show only the exchanges that match, in the inspector's filter language (e.g. "
                               + "'Twalk and error', 'fid:3', 'path:/usr', 'latency>10ms', 'size>=64k'): the UI's filter at "
                               + "start; headless, each matching exchange's lines once it completes.",
                               valueName: "EXPR"))
    var filter: String?
    @Flag(help: ArgumentHelp("At exit, print statistics per request type and per connection: counts, errors, "
                             + "bytes, latency percentiles (implies --headless)."))
    var stats = false
    @Option(help: ArgumentHelp("Headless: print a still-pending line for each request unanswered after "
                               + "DURATION (e.g. 2s, 1m; 0: never).", valueName: "DURATION"))
    var stillPending: String = "10s"
    @Option(help: ArgumentHelp("Headless: the lines held in memory while standard output is not read (a pager "
                               + "left on one page, a terminal stopped with Ctrl-S; default 16M). Past it lines are "
                               + "dropped and counted, and a line says where; the relay and the capture go on.",
                               valueName: "SIZE"))
    var linesHeld: String = "16M"
    @Option(help: ArgumentHelp("Colour theme of the UI: dark, light, high-contrast, 16color, "
                               + "NAME.toml in $NINESCOPE_THEMES or ~/.config/ninescope/themes, or a TOML file.",
                               valueName: "NAME|PATH")) var theme: String?

    @Option(name: .customLong("fault"), help: ArgumentHelp("Play a faulty server in front of the real one: "
                                                            + "ACTION=TYPE[:ARG][@P%], as `serve --fault` (see above); "
                                                            + "repeatable.", valueName: "SPEC"))
    var faults: [String] = []
    @Option(name: .customLong("fault-seed"), help: ArgumentHelp("Seed for probabilistic faults (default: random; "
                                                                 + "the one used is printed at start).", valueName: "N"))
    var faultSeed: UInt64?

    @Option(parsing: .unconditional,
            help: ArgumentHelp("Threads relaying bytes (default: one per CPU it may run on).", valueName: "N"))
    var eventLoops: Int?

    /// Every check of the options, made before anything starts (and said with the proxy's usage).
    func validate() throws {
        if let n = eventLoops, n < 1 { throw ValidationError("--event-loops must be at least 1") }
        try UIApp.checkTheme(theme)
        if let filter {
            guard !quiet else { throw ValidationError("--filter needs the decoding that --quiet turns off") }
            _ = try FilterParser.option(filter)
        }
        if stats && quiet { throw ValidationError("--stats needs the decoding that --quiet turns off") }
        _ = try viewData.map(LiveDataLimit.option)
        if viewData != nil && (headless || json || quiet || stats) {
            throw ValidationError("--view-data is for the live UI (not with --headless, --json, --quiet or --stats)")
        }
        _ = try viewHistory.map(LiveInspector.historyOption)
        if viewHistory != nil && (headless || json || quiet || stats) {
            throw ValidationError("--view-history is for the live UI (not with --headless, --json, --quiet or --stats)")
        }
        _ = try Self.stillPendingOption(stillPending)
        _ = try Self.linesHeldOption(linesHeld)
        _ = try FaultSpec.option(faults)
        _ = try Address.option(listen, named: "--listen")
        if case .tcp(_, 0) = try Address.option(upstream, named: "--upstream") {
            throw ValidationError("--upstream: port 0 cannot be dialled; give the server's port (port 0 is for "
                                  + "--listen: any free port)")
        }
        try Self.checkCapture(capture, size: captureSize, duration: captureDuration, files: captureFiles,
                              data: captureData, stdoutIsTerminal: isatty(1) == 1)
    }

    func run() async throws {
        OpenFileLimit.raiseToHard()   // two descriptors per client: as many clients as the machine allows
        if let n = eventLoops { NinePSockets.suggestLoopCount(n) }
        let filterExpr = try filter.map(FilterParser.option)
        FilterParser.warnOfNotes(filter)
        let dataLimit = try viewData.map(LiveDataLimit.option) ?? .standard
        let history = try viewHistory.map(LiveInspector.historyOption) ?? LiveInspector.defaultHistory
        let overdueAfter = try Self.stillPendingOption(stillPending)
        let held = try Self.linesHeldOption(linesHeld)
        let faultSpec = try FaultSpec.option(faults)
        let seed = faultSeed ?? UInt64.random(in: 0...UInt64.max)
        let faultNote = faultSpec.rules.isEmpty ? nil : "faults: \(faultSpec) (--fault-seed \(seed))"
        let listenAddress = try Address.option(listen, named: "--listen")
        let upstreamAddress = try Address.option(upstream, named: "--upstream")
        let stdoutIsTerminal = isatty(1) == 1
        // `--capture -`: the capture is standard output (a pipe to Wireshark); the lines go to standard error.
        let lineFD: Int32 = Self.capturesToStdout(capture) ? 2 : 1
        let recorder = try Self.startCapture(capture, size: captureSize, duration: captureDuration, files: captureFiles,
                                             data: captureData, stdoutIsTerminal: stdoutIsTerminal)

        if !headless && !json && !quiet && !stats && stdoutIsTerminal && isatty(0) == 1 {
            // The live UI: the proxy's events feed the inspector (and the capture); quitting stops both.
            try await LiveInspector.runProxy(listen: listenAddress, upstream: upstreamAddress, recorder: recorder,
                                             theme: theme, filter: filter, dataLimit: dataLimit, history: history,
                                             faults: faultSpec, faultSeed: seed, faultNote: faultNote)
            try Self.failIfCaptureIncomplete(recorder)
            return
        }
        if let filterExpr, filterExpr.mentions(.anomalyKind(.fidLeakedAtClose)) {
            printError("ninescope: warning: --filter: anomaly:fid-leak matches nothing in the lines: a leak is "
                       + "known when its connection closes, after the exchanges it names were printed (decode "
                       + "--filter of the capture, or the live UI, finds them)")
        }
        // Notices said while traffic flows go through `StderrAside`: the threads that say them must not
        // wait for standard error.
        recorder?.file.whenWriteFails { error in StderrAside.shared.say(Self.captureStopped(error)) }

        let out = LineOutput(fd: lineFD, lineBuffered: isatty(lineFD) == 1)
        out.closedNotice = "the lines' reader went away (a closed pipe): no more lines; the proxy goes on relaying"
            + (recorder == nil ? "" : " and recording") + " until stopped"
        out.failureNotice = { why in "the lines cannot be written (\(why)): they are lost until they can be; the proxy "
            + "goes on relaying" + (recorder == nil ? "" : " and recording") }
        // The trace's thread, which the capture and (through its bounded queue) the relay wait on, never
        // waits for the lines' reader.
        out.writeInBackground(limit: held, json: json,
                              stalledNotice: Self.stalledNotice(held, what: "the proxy goes on relaying"
                                  + (recorder == nil ? "" : ", and the capture keeps every message")))
        let trace = ProxyTrace(style: json ? .json : .text, output: out, recorder: recorder, threaded: true,
                               quiet: quiet, filter: filterExpr, stats: stats)
        // Each read's events go to the trace's thread at once (no coalescing delay): lines appear as soon
        // as the bytes have been passed on, in arrival order.
        let proxy = NinePProxy(listen: listenAddress, upstream: upstreamAddress,
                               options: NinePProxy.Options(eventCoalescing: .zero,
                                                           acceptFailed: { StderrAside.shared.say("ninescope: " + Self.acceptFailure($0)) },
                                                           faults: faultSpec, faultSeed: seed,
                                                           loopFound: { StderrAside.shared.say("ninescope: warning: " + $0) }),
                               sink: { batch in trace.consume(batch) })
        let signals = SignalWatch(signals: SignalWatch.stopSignals)

        let bound = try await Self.startListening(proxy, recorder: recorder)
        printError("ninescope: proxy listening on \(bound.colonForm) → upstream \(upstreamAddress.colonForm)"
                   + (recorder.map { ", capturing to " + Self.captureDescription($0) } ?? ""))
        if let warning = Self.unresolvable(upstreamAddress) { printError("ninescope: warning: " + warning) }
        if let faultNote { printError("ninescope: " + faultNote) }
        if quiet && recorder == nil {
            printError("ninescope: warning: --quiet without --capture records nothing: it relays, printing only the "
                       + "connections' open and close lines and the closing summary")
        }

        // Block-buffered output still reaches `tail -f` readers within 200 ms.
        let ticker = out.flushingNow()

        // Requests left unanswered: checked ten times per threshold (the trace itself only runs when traffic comes).
        let overdue = Self.watchStillPending(after: overdueAfter) { trace.reportOverdue(after: $0, now: $1) }

        let signal = await signals.next()
        overdue?.cancel()
        signals.exitOnAnother()
        await proxy.stop()
        trace.finish()
        trace.finishFilter()
        let statistics = trace.finishStatistics()
        if json, let statistics { out.write(statistics.json) }
        ticker?.cancel()
        out.finishWriting()
        StderrAside.shared.drain()
        printError("ninescope: \(SignalWatch.name(signal)): proxy stopped; " + trace.summary()
                   + Self.closeCapture(recorder))
        if !json, let statistics { for line in statistics.textLines { printError(line) } }
        try out.failIfUnwritten("lines lost")
        try Self.failIfCaptureIncomplete(recorder)
    }

    /// Binds the proxy's listener and refuses an upstream that is that very listener (`UpstreamLoop`); on
    /// either failure the proxy is stopped and the capture closed. Returns the bound address. For the
    /// headless proxy and the live UI alike.
    static func startListening(_ proxy: NinePProxy, recorder: CaptureRecorder?) async throws -> Address {
        let bound: Address
        do {
            bound = try await proxy.start()
        } catch {
            try? recorder?.file.close()
            throw ProxyCommandError("cannot listen on \(proxy.listenAddress.colonForm): \(error)")
        }
        if let loop = UpstreamLoop.check(listener: bound, upstream: proxy.upstreamAddress) {
            await proxy.stop()
            try? recorder?.file.close()
            throw ProxyCommandError(loop)
        }
        return bound
    }

    /// What the proxy and `serve` say when a connection cannot be accepted (`reason`: why, in the system's
    /// words, with the descriptor limit for `Too many open files`).
    static func acceptFailure(_ reason: String) -> String {
        "cannot accept a connection: \(reason); clients wait to be accepted, tried again every "
            + "\(NinePSockets.acceptBackoff.nanoseconds / 1_000_000) ms"
    }

    /// What to say of an upstream host name that does not resolve now, said at start so that a typo shows
    /// before the first client comes (nil: it resolves, or is a unix socket). The proxy starts anyway and
    /// resolves the name again for each client: it may come to.
    static func unresolvable(_ upstream: Address) -> String? {
        guard case .tcp = upstream else { return nil }
        do { _ = try upstream.socketAddress() } catch {
            return "upstream \(upstream.colonForm): \((error as? AddressError)?.reason ?? "\(error)"); "
                + "it is looked up again for each client"
        }
        return nil
    }

    /// `--lines-held` (proxy and serve): the size in bytes, at least 64 KiB.
    static func linesHeldOption(_ text: String) throws -> Int {
        guard let n = CaptureRotation.parseSize(text), n >= 64 << 10 else {
            throw ValidationError("--lines-held takes a size of at least 64K (e.g. 1M, 256M), not '\(text)'")
        }
        return n
    }

    /// What the proxy and `serve` say when their lines' reader stops reading and lines begin to be dropped.
    static func stalledNotice(_ held: Int, what: String) -> String {
        "standard output is not read as fast as the lines come: past " + ProxyTrace.bytes(held) + " waiting "
            + "(--lines-held), lines are dropped and counted, and a line says where; " + what
    }

    /// `--still-pending`: nil for "0" (never), else the duration in ns.
    static func stillPendingOption(_ text: String) throws -> Int64? {
        if text.trimmingCharacters(in: .whitespaces) == "0" { return nil }
        guard let n = CaptureRotation.parseDuration(text) else {
            throw ValidationError("--still-pending takes a duration (e.g. 10s, 2m) or 0, not '\(text)'")
        }
        return n
    }

    /// `--still-pending`'s watch (proxy and serve): every tenth of the threshold (50 ms to 1 s), `report(after, now)` with the wall clock;
    /// nil (no watch) when `after` is nil. Cancel the task to stop it.
    static func watchStillPending(after: Int64?,
                                  _ report: @escaping @Sendable (Int64, Int64) -> Void) -> Task<Void, Never>? {
        after.map { after in
            // Checked ten times per threshold (at most once a second, at least every 50 ms), so that a
            // request is said at most a tenth late: `--still-pending 1s` once checked once a second said it
            // up to 2 s after it was sent.
            let period = UInt64(min(1_000_000_000, max(50_000_000, after / 10)))
            return Task.detached {
                while !Task.isCancelled {
                    try? await Task.sleep(nanoseconds: period)
                    report(after, WallClock.nowNanos())
                }
            }
        }
    }
}

extension Address {
    /// An address option's address (`--listen`, `--upstream`, `repl ADDR`, `replay --to` …); a usage error
    /// that names the option (`--listen: …`) when `option` is given.
    static func option(_ text: String, named option: String? = nil) throws -> Address {
        do { return try Address(parsing: text) } catch {
            throw ValidationError((option.map { $0 + ": " } ?? "") + error.description)
        }
    }
}

/// A fatal error of the proxy command, printed as `Error: <text>`.
struct ProxyCommandError: Error, CustomStringConvertible {
    var description: String
    init(_ text: String) { description = text }
}
