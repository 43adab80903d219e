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
        9P is expected on port 564 unless --port says otherwise (connections on other ports are decoded too \
        when either side looks like 9P). Replies show their latency and the index of the request they answer; \
        fid paths are shown in brackets. Anomalies (unknown fids, reused tags, leaks …) follow as `!` lines.

        Examples:
          ninescope decode Captures/diod-ls-cat.pcapng
          ninescope decode trace.pcap --port 5640 --json
          ninescope decode --hex 1500000064ffff0020000008003950323030302e4c
        """
    )

    @Argument(help: "A pcap or pcapng file.") var file: String?
    @Option(help: "Decode frames given as hex (whitespace allowed; several frames may follow each other).") var hex: String?
    @Flag(help: "One JSON object per line (every field, the pairing, the fid's path).") var json = false
    @Option(help: "TCP port 9P runs on in the capture (repeatable; default 564).") var port: [UInt16] = []
    @Option(help: "Force a dialect (9P2000, 9P2000.u, 9P2000.L) when the capture starts mid-session.") var dialect: String?
    @Option(help: ArgumentHelp("Print only the exchanges that match, in the inspector's filter language (e.g. "
                               + "'Twalk and error', 'fid:3', 'path:/usr', 'latency>10ms', 'conn:2').",
                               valueName: "EXPR"))
    var filter: String?

    func run() throws {
        var forced: Dialect?
        if let d = dialect {
            guard let parsed = Dialect(version: d), parsed.rawValue.lowercased() == d.lowercased() else {
                throw ValidationError("unknown dialect '\(d)': use 9P2000, 9P2000.u or 9P2000.L")
            }
            forced = parsed
        }
        let out = LineOutput()
        defer { out.flush() }
        let format = TraceLine(style: json ? .json : .text)
        var tracker = SessionTracker(configuration: .init(forcedDialect: forced, retainFrames: false))
        var traceFilter: TraceFilter?
        if let filter {
            do {
                let expr = try FilterParser.parse(filter)
                traceFilter = TraceFilter(expr, tracker: SessionTracker(configuration: .init(forcedDialect: forced)))
            } catch {
                throw ValidationError("--filter: \(error)")
            }
        }
        defer { if var traceFilter { for line in traceFilter.finish() { out.write(line) } } }

        // Formatting runs on a second thread (in order, in batches); the filter needs every exchange first.
        let writer = traceFilter == nil ? TraceWriter.start(format: format, out: out) : nil
        var batch: [TraceItem] = []
        batch.reserveCapacity(512)
        /// Hands over the last batch and waits until every line is written (again later: no-op).
        func finishWriting() {
            writer?.push(batch)
            batch.removeAll()
            writer?.finish()
        }
        defer { finishWriting() }

        func feed(_ event: SessionEvent) {
            let output = tracker.handle(event)
            if traceFilter != nil {
                traceFilter?.take(event, exchange: output.message?.exchange, lines: format.lines(for: output))
                return
            }
            switch event {
            case let .connectionOpened(conn, at, info): batch.append(.opened(conn, at: at, info: info))
            case let .connectionClosed(conn, at, reason): batch.append(.closed(output, conn, at: at, reason: reason))
            default: batch.append(.output(output))
            }
            if batch.count >= 512 {
                writer?.push(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }

        if let hex {
            let bytes = try Self.parseHex(hex)
            var splitter = FrameSplitter()
            splitter.append(bytes)
            var events: [FrameSplitter.Event] = splitter.drain()
            if let tail = splitter.finish() { events.append(tail) }
            for e in events {
                switch e {
                case .frame(let f):
                    let dir: Direction = (FrameHeader(f)?.type ?? 0) & 1 == 0 ? .toServer : .toClient
                    feed(.frame(conn: 1, direction: dir, at: 0, bytes: f, marks: []))
                case .garbage(let g, let reason):
                    feed(.garbage(conn: 1, direction: .toServer, at: 0, bytes: g, reason: reason))
                }
            }
            return
        }
        guard let file else { throw ValidationError("give a capture file or --hex HEX") }
        let truncated = try CaptureInput.forEachEvent(file: file, ports: port, feed)
        finishWriting()
        out.flush()
        if truncated {
            printError("ninescope: \(file): the capture ends mid-record (cut short or still being written); decoded everything before it")
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
