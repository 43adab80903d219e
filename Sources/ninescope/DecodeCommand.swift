import ArgumentParser
import Foundation
import NinePWire
import NinePSession
import NinePCapture
import InspectorCore

/// `ninescope decode FILE|--hex HEX [--json] [--port N] [--dialect D]`: headless decoding of captures.
struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode 9P from a pcap/pcapng capture (tcpdump, tshark or ninescope) or from hex, one line per message.",
        discussion: """
        Captures: TCP streams are reassembled (out-of-order and retransmitted segments, several connections); \
        9P is expected on port 564 unless --port says otherwise; a connection on another port is decoded when \
        its first bytes look like 9P (a plausible frame header at the start of either direction, or three \
        frames in a row for a capture that began mid-stream), and is otherwise skipped and named on standard \
        error (tcpdump -i any beside a mount holds ssh, DNS, HTTP …). Replies show their latency and the \
        index of the request they answer; \
        fid paths are shown in brackets. Anomalies (unknown fids, reused tags, leaks …) follow as `!` lines.

        Several files are read one after another as one capture: the files of a capture the proxy cut \
        with --capture-size (connections, fids and paths go on from one file to the next). `-` reads a \
        capture from standard input, also a live one: each batch of lines goes out as soon as the input \
        pauses (tcpdump -U -w - writes each packet as it comes).

        --stats prints, instead of the lines, a table per request type and per connection (and per user \
        when the fids are several users'): exchanges, \
        errors, bytes, and latency p50/p90/p99/max (with --json one JSON object; with --filter only the \
        exchanges that match).

        --check prints only the anomalies and a summary (check: 2 anomalies in 80 messages on 1 connection: \
        1 walk-left-root, 1 fid-leak; failed), and exits with status 1 when there is any: a gate for a \
        server's test suite run through the proxy with --capture. --allow KINDS counts those kinds without \
        failing (e.g. --allow fid-leak for a client that exits without clunking).

        Examples:
          ninescope decode Captures/diod-ls.pcapng
          ninescope decode --stats trace.pcapng
          ninescope decode --stats --filter 'Twalk or Tlopen' trace.pcapng
          ninescope decode --check --allow fid-leak trace.pcapng
          ninescope decode trace_*.pcapng
          ninescope decode trace.pcap --port 5640 --json
          tcpdump -i any -U -w - port 564 | ninescope decode -
          zcat trace.pcapng.gz | ninescope decode --stats -
          ninescope decode --hex 1500000064ffff0020000008003950323030302e4c
        """
    )

    @Argument(help: ArgumentHelp("pcap or pcapng files, read in order as one capture ('-': standard input).",
                                 valueName: "file"))
    var files: [String] = []
    @Option(help: ArgumentHelp("Decode frames given as hex (whitespace allowed; several frames may follow each other).",
                               valueName: "HEX"))
    var hex: String?
    @Flag(help: "One JSON object per line (every field, the pairing, the fid's path).") var json = false
    @Option(help: ArgumentHelp("TCP port 9P runs on in the capture (repeatable; default 564).", valueName: "PORT"))
    var port: [UInt16] = []
    @Option(help: ArgumentHelp("Force a dialect (9P2000, 9P2000.u, 9P2000.L) when the capture starts mid-session.",
                               valueName: "DIALECT"))
    var dialect: String?
    @Option(help: ArgumentHelp("Print only the exchanges that match, in the inspector's filter language (e.g. "
                               + "'Twalk and error', 'fid:3', 'path:/usr', 'latency>10ms', 'size>=64k', 'conn:2').",
                               valueName: "EXPR"))
    var filter: String?
    @Flag(help: ArgumentHelp("Print statistics per request type and per connection instead of the lines "
                             + "(counts, errors, bytes, latency percentiles)."))
    var stats = false
    @Flag(help: ArgumentHelp("Print only the anomalies and a summary of them, and exit with status 1 when there "
                             + "is any: a gate for a test suite run through the proxy with --capture."))
    var check = false
    @Option(help: ArgumentHelp("With --check: anomaly kinds that are counted but do not fail it (comma list, "
                               + "e.g. fid-leak,unanswered).", valueName: "KINDS"))
    var allow: String?

    func validate() throws {
        if check && (stats || filter != nil) {
            throw ValidationError("--check prints the anomalies alone; it does not go with --stats or --filter")
        }
        if allow != nil && !check { throw ValidationError("--allow goes with --check") }
        _ = try allowedKinds()
        if let filter { _ = try FilterParser.option(filter) }   // (said with decode's usage, not the tool's)
        _ = try forcedDialect()
        if let hex {
            guard files.isEmpty else {
                throw ValidationError("--hex decodes the hex alone: give --hex HEX or capture files, not both")
            }
            guard !(try Self.parseHex(hex)).isEmpty else {
                throw ValidationError("--hex: no bytes to decode (give the frames as hex digits)")
            }
        }
        if hex == nil && files.isEmpty { throw ValidationError("give a capture file or --hex HEX") }
        try CaptureInput.checkOptions(files: files, ports: port)
    }

    /// `--dialect`'s dialect, nil when not given.
    private func forcedDialect() throws -> Dialect? {
        try dialect.map(Dialect.option)
    }

    private func allowedKinds() throws -> Set<AnomalyKind> {
        do { return try allow.map(AnomalyCheck.kinds) ?? [] } catch { throw ValidationError("--allow: \(error)") }
    }

    func run() throws {
        FilterParser.warnOfNotes(filter)
        let forced = try forcedDialect()
        let out = LineOutput()
        var status: Int32 = 0
        do {
            if check { status = try runCheck(forcedDialect: forced, out: out) } else { try decode(forcedDialect: forced, out: out) }
        } catch {
            out.flush()
            throw error
        }
        try out.failIfUnwritten()
        if status != 0 { throw ExitCode(status) }
    }

    /// `--check`: the anomalies that fail it as they come (allowed kinds only counted), then the summary;
    /// returns the exit status.
    private func runCheck(forcedDialect: Dialect?, out: LineOutput) throws -> Int32 {
        var check = AnomalyCheck(allowing: try allowedKinds())
        let format = TraceLine(style: json ? .json : .text)
        var tracker = SessionTracker(configuration: .lineTrace(forcedDialect: forcedDialect))
        let truncated = try forEachEvent { event in
            for a in check.take(event, tracker.handle(event)) { out.write(format.line(for: a)) }
        }
        out.write(json ? check.json : check.summary)
        out.flush()
        warnTruncated(truncated)
        return check.exitStatus
    }

    private func decode(forcedDialect forced: Dialect?, out: LineOutput) throws {
        if stats {
            try printStatistics(forcedDialect: forced, out: out)
            return
        }
        let format = TraceLine(style: json ? .json : .text)
        let tracker = SessionTracker(configuration: .lineTrace(forcedDialect: forced))
        if let filter {
            let expr = try FilterParser.option(filter)
            // The filter sees every exchange before it prints: one thread, lines kept until the end.
            var tracker = tracker
            var traceFilter = TraceFilter(expr, tracker: SessionTracker(configuration: .init(forcedDialect: forced)))
            let truncated = try forEachEvent { event in
                let output = tracker.handle(event)
                traceFilter.take(event, exchange: output.message?.exchange, lines: format.lines(for: output))
            }
            for line in traceFilter.finish() { out.write(line) }
            out.flush()
            warnTruncated(truncated)
            return
        }
        let trace = DecodeTrace(tracker: tracker, format: format)
        if files.isEmpty {
            var bytes: [UInt8] = []
            _ = try forEachEvent { trace.append($0, to: &bytes) }
            out.write(bytes: bytes)
            return
        }
        let pipeline = DecodePipeline(trace: trace, out: out, forcedDialect: forced)
        // A capture piped in may be live (`tcpdump -U -w - | ninescope decode -`): its lines go out batch by
        // batch, and whatever is decoded when the input waits goes out then.
        if files.contains("-") { out.lineBuffered = true }
        let truncated: [String]
        do {
            truncated = try forEachEvent(beforeWaiting: pipeline.handOverPending, pipeline.push)
        } catch {
            pipeline.finish()
            throw error
        }
        pipeline.finish()
        out.flush()
        warnTruncated(truncated)
    }

    /// `--stats`: reads the whole input, then prints its statistics (text lines, or one JSON object).
    private func printStatistics(forcedDialect: Dialect?, out: LineOutput) throws {
        var statistics = TraceStatistics(filter: try filter.map(FilterParser.option))
        var tracker = SessionTracker(configuration: .lineTrace(forcedDialect: forcedDialect, reportsChanges: true))
        let truncated = try forEachEvent { statistics.take(tracker.handle($0)) }
        statistics.finish()
        if json { out.write(statistics.json) } else { for line in statistics.textLines { out.write(line) } }
        out.flush()
        warnTruncated(truncated)
    }

    /// Calls `body` with every session event of the input (`--hex` or the capture files); returns the files
    /// that ended mid-record.
    private func forEachEvent(beforeWaiting: () -> Void = {}, _ body: (SessionEvent) -> Void) throws -> [String] {
        if let hex {
            var splitter = FrameSplitter()
            let input = try Self.parseHex(hex)
            splitter.append(input)
            var events: [FrameSplitter.Event] = splitter.drain()
            // Hex that ends inside a frame (the first bytes of one, copied from a dump): shown as a frame the
            // input cut, with the fields its bytes hold, rather than as garbage.
            let tail = input.suffix(splitter.bufferedCount)
            if let h = FrameHeader(tail), h.size > tail.count, h.size <= splitter.maxFrameSize,
               h.messageType != nil {
                events += splitter.skip(Int(h.size) - tail.count)
            }
            while let rest = splitter.finish() { events.append(rest) }
            for e in events {
                switch e {
                case .frame(let f):
                    let dir: Direction = (FrameHeader(f)?.type ?? 0) & 1 == 0 ? .toServer : .toClient
                    body(.frame(conn: 1, direction: dir, at: 0, bytes: f, marks: []))
                case .truncated(let prefix, _):   // (only after a hole, which hex input has none of)
                    let dir: Direction = (FrameHeader(prefix)?.type ?? 0) & 1 == 0 ? .toServer : .toClient
                    body(.frame(conn: 1, direction: dir, at: 0, bytes: prefix, marks: .truncated))
                case .garbage(let g, let reason):
                    body(.garbage(conn: 1, direction: .toServer, at: 0, bytes: g, reason: reason))
                }
            }
            return []
        }
        guard !files.isEmpty else { throw ValidationError("give a capture file or --hex HEX") }
        return try CaptureInput.forEachEvent(files: files, ports: port, beforeWaiting: beforeWaiting, body)
    }

    private func warnTruncated(_ truncated: [String]) {
        for file in truncated {
            printError("ninescope: \(file): \(CaptureInput.truncatedNote); decoded everything before it")
        }
    }

    static func parseHex(_ text: String) throws -> [UInt8] {
        var out: [UInt8] = []
        var high: UInt8?
        for c in text.utf8 {
            let v: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): v = c - UInt8(ascii: "A") + 10
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\t"), UInt8(ascii: ":"), UInt8(ascii: "-"): continue
            default: throw ValidationError("--hex: '\(Character(Unicode.Scalar(c)))' is not a hex digit")
            }
            if let h = high { out.append(h << 4 | v); high = nil } else { high = v }
        }
        if high != nil { throw ValidationError("--hex: odd number of hex digits") }
        return out
    }
}

extension Dialect {
    /// A `--dialect` option's dialect (decode, view, repl, replay), named exactly (any case); a clear usage
    /// error otherwise.
    static func option(_ text: String) throws -> Dialect {
        guard let dialect = Dialect.allCases.first(where: { $0.rawValue.lowercased() == text.lowercased() }) else {
            throw ValidationError("unknown dialect '\(text)': use 9P2000, 9P2000.u or 9P2000.L")
        }
        return dialect
    }
}

extension FilterParser {
    /// A `--filter` option's expression (`decode`, `proxy`); a clear usage error when it does not parse.
    static func option(_ text: String) throws -> FilterExpr {
        do { return try parse(text) } catch { throw ValidationError("--filter: \(error)") }
    }

    /// Says on standard error, once as the command starts, what parsing `--filter` noted (a word that
    /// reads like a message type but is none, searched for as text).
    static func warnOfNotes(_ text: String?) {
        guard let text else { return }
        var notes: [String] = []
        _ = try? parse(text, notes: &notes)
        for note in notes { printError("ninescope: warning: --filter: " + note) }
    }
}
