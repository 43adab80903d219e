import ArgumentParser
import Foundation
import NinePWire
import NinePSession
import NinePCapture
import NinePNIO
import NinePREPL
import InspectorCore

/// `ninescope replay FILE --to ADDR [--conn N] [--timing original|asap] [--diff] [--ignore …]`.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Send a capture's client requests to a server again, optionally comparing the replies.",
        discussion: """
        Each captured connection is replayed on a new connection. Requests keep the capture's order: one waits \
        for the replies that came before it in the capture on its connection, whatever fids they name (two \
        fids may reach one file); requests that were in flight together are sent together. A Tversion holds back everything after it on its connection \
        until its reply has come, as version(5) requires, even when the capture lost that reply; a reply the \
        capture lost counts as come before the next request that uses its tag again, names a fid it made, reads \
        or writes a fid it opened, or takes a fid it clunked or removed as a new fid. Tags are chosen afresh \
        (Tflush follows), readdir cookies are remapped. With --diff every reply is compared with the captured \
        one, ignoring what naturally varies; the exit status is 1 when replies differ or a request went \
        unanswered or unsent. A difference on a fid that an earlier step left otherwise (a Twalk to a name the server \
        lacks made no newfid) is said to follow from that step, in one line; a difference repeated alike at many \
        steps is shown once, with how many more steps differ the same way. A refused Tversion ends its \
        connection's replay: what follows it is not sent (nor compared). Without --diff the report still \
        counts the replies that are errors where the capture has none, and shows the first that do not \
        follow from another; an attach the server refused is named with the options that would \
        mend it. --aname, --uname and --n-uname replace the names in every Tattach and Tauth: a capture \
        replayed to another server, whose export lives at another path or whose users differ; a Tattach or \
        Tauth that a snap length cut among its names is then sent with them too (else left out, as every \
        request the capture cut is).

        Ignore rules of --diff (what each leaves out of the comparison; on unless marked off):
        \(IgnoreRule.allCases.map(Self.ruleLine).joined(separator: "\n"))

        --ignore takes a comma list: names add, -name removes, default/all/none reset \
        (--ignore default,-times,owner).

        --json prints the report as JSON lines: a "difference" per differing reply (every one, with its \
        fields), a "problem" and a "note" each (the plan's notes too), "trace" lines with --verbose, and a \
        "summary" last with the counts and the exit status.

        Several files are read one after another as one capture (the files of a capture the proxy cut with \
        --capture-size).

        Examples:
          ninescope replay Captures/diod-cat.pcapng --to 127.0.0.1:5640 --diff
          ninescope replay trace_*.pcapng --to 127.0.0.1:5640 --diff
          ninescope replay trace.pcap --port 5640 --to 'unix!/tmp/9p.sock' --conn 1 \\
              --timing original
          ninescope replay Captures/diod-cat.pcapng --to 127.0.0.1:5640 \\
              --aname /srv/copy-of-the-export --diff
        """
    )

    @Argument(help: ArgumentHelp("pcap or pcapng files, read in order as one capture.", valueName: "file"))
    var files: [String]
    @Option(help: ArgumentHelp("The server to replay to.", valueName: "ADDR")) var to: String
    @Option(help: ArgumentHelp("Replay only this captured connection (repeatable; default all).", valueName: "N"))
    var conn: [UInt32] = []
    @Option(help: ArgumentHelp("asap: send as soon as dependencies allow; original: also keep the captured timing.",
                               valueName: "asap|original"))
    var timing = "asap"
    @Flag(help: "Compare every reply with the captured one.") var diff = false
    @Option(help: ArgumentHelp("Ignore rules for --diff (comma list, see above).", valueName: "RULES"))
    var ignore: String?
    @Option(help: ArgumentHelp("TCP port 9P runs on in the capture (repeatable; default 564).", valueName: "PORT"))
    var port: [UInt16] = []
    @Option(help: ArgumentHelp("Dialect of a capture that starts mid-session (9P2000, 9P2000.u, 9P2000.L).",
                               valueName: "DIALECT"))
    var dialect: String?
    @Option(help: ArgumentHelp("Give up when nothing arrives for this many seconds while a reply is awaited (0: never).",
                               valueName: "SECONDS"))
    var timeout: Double = 10
    @Option(help: ArgumentHelp("Send NAME as every Tattach's and Tauth's uname instead of the captured one.",
                               valueName: "NAME")) var uname: String?
    @Option(help: ArgumentHelp("Send PATH as every Tattach's and Tauth's aname (the server's export, say).",
                               valueName: "PATH")) var aname: String?
    @Option(help: ArgumentHelp("Send N as every n_uname (9P2000.u and .L).", valueName: "N")) var nUname: UInt32?
    @Flag(help: "Print every message sent and received.") var verbose = false
    @Flag(help: "Print the report as JSON lines (difference, problem, note, and a summary last; see README).")
    var json = false

    /// `  qid.version    every qid's version`, as the help lists the ignore rules.
    private static func ruleLine(_ rule: IgnoreRule) -> String {
        let name = rule.rawValue.padding(toLength: 15, withPad: " ", startingAt: 0)
        return "  " + name + rule.summary + (IgnoreRule.defaults.contains(rule) ? "" : " (off)")
    }

    func validate() throws {
        _ = try timingOption()
        _ = try ignoreRules()
        _ = try dialect.map(Dialect.option)
        _ = try Address.option(to)
        try CaptureInput.checkOptions(files: files, ports: port)
    }

    private func timingOption() throws -> ReplayRunner.Timing {
        guard let timing = ReplayRunner.Timing(rawValue: timing) else {
            throw ValidationError("--timing: use original or asap")
        }
        return timing
    }

    private func ignoreRules() throws -> Set<IgnoreRule> {
        guard let ignore else { return IgnoreRule.defaults }
        do { return try IgnoreRule.parse(ignore) } catch { throw ValidationError("--ignore: \(error)") }
    }

    func run() async throws {
        let timing = try timingOption()
        let ignoring = try ignoreRules()
        let forced = try dialect.map(Dialect.option)
        let addr = try Address.option(to)
        let names = AttachNames(uname: uname, aname: aname, nUname: nUname)
        let (messages, negotiated) = try readCapture(forcedDialect: forced, names: names)
        let plan = ReplayPlan.make(messages, only: conn.isEmpty ? nil : Set(conn))
        if plan.steps.isEmpty {
            let present = Set(messages.map(\.connection)).sorted().map(String.init).joined(separator: ", ")
            printError("ninescope: \(files.joined(separator: " ")): no requests to replay" + (conn.isEmpty ? "" : " (its connections: \(present))"))
            throw ExitCode(1)
        }
        let out = LineOutput(lineBuffered: true)
        let json = self.json
        for note in plan.notes {
            if json {
                out.write(JSONValue.object([("event", .string("note")), ("text", .string(note))]).serialized)
            } else {
                printError("note: " + note)
            }
        }
        let verbose = self.verbose
        let interactiveProgress = isatty(2) != 0 && !verbose
        let env = ReplayRunner.Environment(
            connect: { _ in try await NIOReplTransport.connect(addr) },
            now: { WallClock.nowNanos() },
            sleep: { ns in try? await Task.sleep(nanoseconds: UInt64(max(0, ns))) },
            progress: { p in
                guard interactiveProgress, p.answered == p.total || p.answered % 100 == 0 else { return }
                printError("\u{1B}[1A\u{1B}[2K" + "replay: \(p.sent)/\(p.total) sent, \(p.answered) answered, \(p.differences) differ")
            },
            trace: !verbose ? nil : json ? { @Sendable (line: String) in
                out.write(JSONValue.object([("event", .string("trace")), ("line", .string(line))]).serialized)
            } : { @Sendable (line: String) in out.write(line) })
        if interactiveProgress { printError("") }
        var options = ReplayRunner.Options(timing: timing, diff: diff, ignore: ignoring,
                                           idleTimeout: Int64(max(0, timeout) * 1e9), dialect: forced ?? .l,
                                           attach: names)
        if forced == nil { options.negotiatedBefore = negotiated }
        let report = await ReplayRunner(plan: plan, options: options, environment: env).run()
        for line in json ? report.jsonLines() : report.lines() { out.write(line) }
        try out.failIfUnwritten()
        if report.exitStatus != 0 { throw ExitCode(report.exitStatus) }
    }

    /// The capture's decoded messages, in order, as the server saw them: a request the proxy kept from it
    /// (`dropped`, by a `--fault` rule) and a reply the proxy made (`injected`) are left out; a server reply
    /// the proxy did not pass on (`dropped`: one a fault rule replaced, or a late one after the proxy's
    /// flush) is the server's, and stays.
    /// Also, per connection that a file of a cut capture continues, the version and msize it had negotiated.
    func readCapture(forcedDialect: Dialect?, names: AttachNames) throws
        -> (messages: [CapturedMessage], negotiated: [UInt32: ReplayRunner.NegotiatedVersion]) {
        var tracker = SessionTracker(configuration: .lineTrace(forcedDialect: forcedDialect))
        var messages: [CapturedMessage] = []
        var negotiated: [UInt32: ReplayRunner.NegotiatedVersion] = [:]
        func feed(_ event: SessionEvent) {
            if case .connectionOpened(let conn, _, let info?) = event, let version = info.version,
               let dialect = Dialect(version: version) {
                negotiated[conn.rawValue] = ReplayRunner.NegotiatedVersion(dialect: dialect, msize: info.msize ?? 8192)
            }
            let output = tracker.handle(event)
            guard let m = output.message else { return }
            if m.isRequest == true ? m.marks.contains(.dropped) : m.marks.contains(.injected) { return }
            if let f = m.decoded {
                messages.append(CapturedMessage(connection: m.conn.rawValue, time: m.timestamp, fcall: f))
            } else if m.isTruncated, let cut = TruncatedFrame.cutAttach(m.bytes, dialect: m.dialect),
                      let whole = names.complete(cut) {
                // A Tattach or Tauth cut among its names, which the options give.
                messages.append(CapturedMessage(connection: m.conn.rawValue, time: m.timestamp, completed: whole,
                                                cutLine: m.canonicalLine))
            } else if m.isTruncated, let h = m.header {
                // Cut by the capture's snap length: a reply still answers its request (the plan keeps the
                // order); a request cannot be sent (the plan notes it).
                messages.append(CapturedMessage(connection: m.conn.rawValue, time: m.timestamp, cutTag: h.tag,
                                                typeCode: h.type, line: m.canonicalLine))
            }
        }
        for file in try CaptureInput.forEachEvent(files: files, ports: port, feed) {
            printError("ninescope: \(file): \(CaptureInput.truncatedNote); replaying everything before it")
        }
        return (messages, negotiated)
    }
}
