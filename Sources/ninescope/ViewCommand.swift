import ArgumentParser
import Foundation
import InspectorCore
import InspectorUI
import NinePCapture
import NinePSession
import NinePWire
#if canImport(Glibc)
import Glibc
#endif

/// `ninescope view FILE`: a capture in the inspector UI, offline.
struct ViewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "view",
        abstract: "Open a capture (ninescope's, or a tcpdump/tshark pcap or pcapng) in the inspector UI.",
        discussion: """
        The capture is read in the background: the first exchanges show at once and the rest stream in. \
        Everything the live UI shows works offline too — the exchange list, decode tree and hex, fid tables, \
        statistics, anomalies, filters and search — except injecting and flushing. `s` saves what was \
        loaded as a ninescope pcapng. Keys: `?` in the UI. Several files are read one after another as one \
        capture (the files of a capture the proxy cut with --capture-size).

        The view holds the whole capture in memory. For a capture larger than that should take, --view-data N \
        keeps only the first N bytes of each Rread's and Twrite's data (every other message and field whole); \
        those messages then show as cut, as a snap length shows them. A capture larger than half of the \
        machine's memory is viewed so with N = 4096 unless --view-data says otherwise (--view-data all keeps \
        everything), and the message line says so. With no terminal (a pipe, CI), it prints the capture's \
        lines as `ninescope decode` does.

        Examples:
          ninescope view Captures/linux-guest.pcapng
          ninescope view trace_*.pcapng
          ninescope view trace.pcap --port 5640 --theme light
          ninescope view bulk.pcapng --view-data 4096
          ninescope view --sample 1000          # synthetic traffic, to try the UI
        """
    )

    @Argument(help: ArgumentHelp("pcap or pcapng files, read in order as one capture.", valueName: "file"))
    var files: [String] = []
    @Option(help: ArgumentHelp("Colour theme: dark, light, high-contrast, 16color, "
                               + "NAME.toml in $NINESCOPE_THEMES or ~/.config/ninescope/themes, or a TOML file.",
                               valueName: "NAME|PATH")) var theme: String?
    @Option(help: ArgumentHelp("TCP port 9P runs on in the capture (repeatable; default 564).", valueName: "PORT"))
    var port: [UInt16] = []
    @Option(help: ArgumentHelp("Force a dialect (9P2000, 9P2000.u, 9P2000.L) when the capture starts mid-session.",
                               valueName: "DIALECT"))
    var dialect: String?
    @Option(parsing: .unconditional, help: ArgumentHelp("Show N exchanges of synthetic traffic instead of a file.",
                                                        valueName: "N"))
    var sample: Int?
    @Option(help: ArgumentHelp("Keep at most N bytes of each read's and write's data in memory (default: all); "
                               + "such messages show as cut.", valueName: "N|all"))
    var viewData: String?
    @Option(help: .hidden) var writeCapture: String?

    func validate() throws {
        _ = try dialect.map(Dialect.option)
        try UIApp.checkTheme(theme)
        if writeCapture != nil && sample == nil { throw ValidationError("--write-capture needs --sample N") }
        guard sample != nil || !files.isEmpty else { throw ValidationError("give a capture file (or --sample N)") }
        if let sample, sample < 1 { throw ValidationError("--sample needs 1 exchange or more, not \(sample)") }
        _ = try viewData.map(LiveDataLimit.option)
        guard !files.contains("-") else {
            throw ValidationError("view reads its keys from standard input, so not a capture: give a file "
                                  + "(`ninescope decode -` reads one from standard input)")
        }
        try CaptureInput.checkOptions(files: files, ports: port)
    }

    func run() async throws {
        let started = ContinuousClock.now
        let forced = try dialect.map(Dialect.option)
        if let writeCapture, let sample {
            try Self.writeSample(exchanges: sample, to: writeCapture)
            return
        }
        // Not told: everything, unless the files would not fit in half of memory (`forViewing`).
        let captureBytes = files.reduce(UInt64(0)) { sum, file in
            sum + ((try? FileManager.default.attributesOfItem(atPath: file)[.size] as? UInt64) ?? 0)
        }
        let memory = ProcessInfo.processInfo.physicalMemory
        let dataLimit = try viewData.map(LiveDataLimit.option)
            ?? LiveDataLimit.forViewing(captureBytes: captureBytes, physicalMemory: memory)
        let limitNote = viewData == nil && dataLimit != .all
            ? "the capture's \(ProxyTrace.bytes(Int(captureBytes))) would take more than half of this machine's "
                + "\(ProxyTrace.bytes(Int(memory))) held whole: each read's and write's data is kept to its first "
                + "\(dataLimit) bytes (--view-data all keeps it all)"
            : nil
        guard isatty(1) == 1, isatty(0) == 1 else {
            try printWithoutTerminal()
            return
        }
        // Each file's first piece is read (and its format checked) now; the rest as the loader goes.
        var capture: [(input: CaptureInput.ChunkedFile, first: [UInt8])] = []
        if sample == nil {
            for file in files {
                let input = try CaptureInput.ChunkedFile(path: file)
                let first = try input.next(atLeast: 4) ?? []
                do { _ = try CaptureReader(bytes: Array(first.prefix(64 * 1024))) } catch {
                    throw InputError.notACapture(file, error)
                }
                capture.append((input, first))
            }
        }
        let theme = try UIApp.theme(self.theme)
        var model = InspectorModel(tracker: SessionTracker(configuration: .init(forcedDialect: forced)))
        model.setFollowing(false)
        let names = files.map { ($0 as NSString).lastPathComponent }
        let title = sample.map { "sample: \($0) exchanges" }
            ?? (names.count > 1 ? "\(names[0]) … \(names[names.count - 1]) (\(names.count) files)" : names.first ?? "")
        var screen = InspectorScreen(model: model, theme: theme, timeFormat: UIApp.localTime, title: title, isLive: false)
        screen.requestWords = UIApp.requestWords
        screen.defaultSavePath = ((names.first ?? title) as NSString).deletingPathExtension + "-ninescope.pcapng"
        let app = InspectorApp(screen: screen, actions: OfflineActions(viewed: files), configuration: UIApp.configuration(startedAt: started))
        if let limitNote { app.report(limitNote, isError: false) }

        let ports = port
        let exchanges = sample
        let loader = Task.detached {
            if let exchanges {
                let events = SampleTraffic.bulk(exchanges: exchanges)
                for start in stride(from: 0, to: events.count, by: 20_000) {
                    app.enqueue(events[start..<min(events.count, start + 20_000)])
                    while app.queuedEventCount > 200_000, !Task.isCancelled { usleep(5_000) }
                }
            } else {
                Self.load(capture, ports: ports, dataLimit: dataLimit, into: app)
            }
            app.finishSource()
        }
        try await UIApp.run(app, instead: UIApp.linesInsteadView)
        loader.cancel()
    }

    /// With no terminal to open the UI on (a pipe, CI), the capture's lines as `decode` prints them, read
    /// with the same `--port` and `--dialect`; synthetic traffic (`--sample`) is only for trying the UI.
    private func printWithoutTerminal() throws {
        guard sample == nil else { throw ValidationError("view --sample needs a terminal") }
        let options = port.flatMap { ["--port", String($0)] } + (dialect.map { ["--dialect", $0] } ?? [])
        try DecodeCommand.parse(options + ["--"] + files).run()
    }

    /// Reads a capture's files, one after another as one capture, into the app's queue in chunks (so the
    /// first screen comes before the whole file). Warnings are not printed (the screen is the terminal's),
    /// but connections skipped as not 9P are said on the message line, so that one missing from the list is
    /// accounted for.
    static func load(_ files: [(input: CaptureInput.ChunkedFile, first: [UInt8])], ports: [UInt16],
                     dataLimit: LiveDataLimit = .all, into app: InspectorApp) {
        var chunk: [SessionEvent] = []
        chunk.reserveCapacity(4096)
        func flush(_ force: Bool) {
            if force || chunk.count >= 4096 {
                app.enqueue(chunk)
                chunk.removeAll(keepingCapacity: true)
                // Do not run far ahead of the UI: queued events are memory too.
                while !force, app.queuedEventCount > 200_000, !Task.isCancelled { usleep(5_000) }
            }
        }
        var stream = CaptureInput.Stream(ports: ports)
        let take: (SessionEvent) -> Void = { event in
            chunk.append(dataLimit.kept(event))
            flush(false)
        }
        var incomplete: String?
        for (input, first) in files {
            // A file that fails part-way (each was checked to be a capture above) ends the loading there;
            // the events of the unfinished chunk are not shown, as before with one file.
            guard let outcome = try? stream.read(first: first, more: { try input.next(atLeast: 1) },
                                                 keepGoing: { !Task.isCancelled }, take) else { return }
            if outcome.truncated {
                incomplete = "\(input.path): \(CaptureInput.truncatedNote); shown up to there"
            } else if outcome.unfinished {
                incomplete = "\(input.path): \(CaptureInput.unfinishedNote)"
            }
        }
        _ = stream.finish(take)
        if !Task.isCancelled { flush(true) }
        let skipped = stream.skipped
        if let first = skipped.first {
            app.report(skipped.count == 1 ? first : "\(skipped.count) connections skipped as not 9P; the first: \(first)",
                       isError: false)
        }
        // (Said last, so that it stays on the message line: what the view shows may lack the capture's end.)
        if let incomplete { app.report(incomplete, isError: true) }
    }

    /// Writes `exchanges` exchanges of synthetic traffic as a pcapng capture (for benchmarks).
    static func writeSample(exchanges: Int, to path: String) throws {
        var tracker = SessionTracker()
        for event in SampleTraffic.bulk(exchanges: exchanges) { _ = tracker.handle(event) }
        let message = try CaptureSaver.save(tracker, to: path)
        printError("ninescope: " + message)
    }
}

extension LiveDataLimit {
    /// `--view-data`'s value (`proxy` and `view`).
    static func option(_ text: String) throws -> LiveDataLimit {
        guard let limit = LiveDataLimit(parsing: text) else {
            throw ValidationError("--view-data takes a number of bytes (0 or more) or 'all', not '\(text)'")
        }
        return limit
    }
}
