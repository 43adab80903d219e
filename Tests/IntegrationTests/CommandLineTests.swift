import Foundation
import NinePREPL
import NinePTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The command line's own behaviour: what a bad option is told with (the subcommand's usage, exit status 64),
/// inputs refused before anything starts, `help`, and the help texts' examples.
@Suite struct CommandLineTests {
    static let capture = Peers.repoRoot + "/Captures/diod-ls.pcapng"

    static func ninescope(_ args: [String], timeout: TimeInterval = 30) throws -> Peers.Result {
        try Peers.run(Peers.ninescope, args, timeout: timeout,
                      environment: ProcessInfo.processInfo.environment.merging(["COLUMNS": "80"]) { $1 })
    }

    /// Expects a usage error: status 64, `says` in the message, and the usage of `subcommand` (not the tool's).
    static func expectUsageError(_ args: [String], says: String, subcommand: String,
                                 sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try ninescope(args)
        #expect(!r.timedOut, "\(args): still running", sourceLocation: sourceLocation)
        #expect(r.status == 64, "\(args): status \(r.status), stderr \(r.err)", sourceLocation: sourceLocation)
        #expect(r.err.contains(says), "\(args): \(r.err)", sourceLocation: sourceLocation)
        #expect(r.err.contains("Usage: ninescope \(subcommand) "), "\(args): \(r.err)", sourceLocation: sourceLocation)
        #expect(r.err.contains("See 'ninescope \(subcommand) --help'"), "\(args): \(r.err)",
                sourceLocation: sourceLocation)
        #expect(!r.err.contains("<subcommand>") && !r.err.contains("See 'ninescope --help'"), "\(args): \(r.err)",
                sourceLocation: sourceLocation)
    }

    static let proxy = ["proxy", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:564"]

    /// Checks made once the options are parsed are said with the subcommand's usage, like the parser's own.
    @Test func checksAfterParsingShowTheSubcommandsUsage() throws {
        let cases: [([String], String, String)] = [
            (["proxy", "--listen", "127.0.0.1", "--upstream", "127.0.0.1:564"], "--listen: bad address \"127.0.0.1\"",
             "proxy"),
            (Self.proxy + ["--fault", "bogus"], "--fault:", "proxy"),
            (Self.proxy + ["--event-loops", "0"], "--event-loops must be at least 1", "proxy"),
            (Self.proxy + ["--still-pending", "soon"], "--still-pending takes a duration", "proxy"),
            (Self.proxy + ["--capture-files", "3"], "--capture-files needs --capture-size or --capture-duration",
             "proxy"),
            (["decode", "--dialect", "X", Self.capture], "unknown dialect 'X'", "decode"),
            (["decode", "--hex", "zz"], "--hex: 'z' is not a hex digit", "decode"),
            (["decode"], "give a capture file or --hex HEX", "decode"),
            (["repl", "--dialect", "X", "127.0.0.1:1"], "unknown dialect 'X'", "repl"),
            (["repl", "127.0.0.1"], "bad address \"127.0.0.1\"", "repl"),
            (["replay", Self.capture, "--to", "127.0.0.1:1", "--timing", "soon"], "--timing: use original or asap",
             "replay"),
            (["view", "--dialect", "X", Self.capture], "unknown dialect 'X'", "view"),
            (["view", "--write-capture", "/dev/null"], "--write-capture needs --sample N", "view"),
        ]
        for (args, says, subcommand) in cases {
            try Self.expectUsageError(args, says: says, subcommand: subcommand)
        }
    }

    /// A negative number is a value, not an unknown flag: said as such.
    @Test func negativeCaptureDataIsRefusedAsNegative() throws {
        let file = Peers.tempDir("cli") + "/t.pcapng"
        try Self.expectUsageError(Self.proxy + ["--capture", file, "--capture-data", "-1"],
                                  says: "--capture-data must be 0 or more", subcommand: "proxy")
        let r = try Self.ninescope(Self.proxy + ["--capture", file, "--capture-data", "-1"])
        #expect(!r.err.contains("Missing value"), "\(r.err)")
    }

    /// `demo --rounds -1` ran no round and said nothing, `--pace -5` ran as 0, and `view --sample 0` or `-5`
    /// was taken: each is refused as the negative (or empty) number it is, not as a missing value.
    @Test func negativeCountsAreRefused() throws {
        let cases: [(args: [String], says: String, subcommand: String)] = [
            (["demo", "--headless", "--rounds", "-1"], "--rounds must be 0 (until interrupted) or more, not -1", "demo"),
            (["demo", "--headless", "--rounds", "1", "--pace", "-5"], "--pace must be 0 or more milliseconds, not -5", "demo"),
            (["view", "--sample", "-5"], "--sample needs 1 exchange or more, not -5", "view"),
            (["view", "--sample", "0"], "--sample needs 1 exchange or more, not 0", "view"),
        ]
        for c in cases {
            try Self.expectUsageError(c.args, says: c.says, subcommand: c.subcommand)
        }
    }

    /// A bad address is told with every form an address may take.
    @Test func badAddressNamesEveryForm() throws {
        for (args, subcommand) in [(["proxy", "--listen", "127.0.0.1", "--upstream", "127.0.0.1:564"], "proxy"),
                                   (["proxy", "--listen", "127.0.0.1:0", "--upstream", "nowhere"], "proxy"),
                                   (["serve", "--listen", "127.0.0.1", "--driver", "memory"], "serve")] {
            try Self.expectUsageError(args, says: "expected HOST:PORT, [V6]:PORT, tcp!HOST!PORT, unix!/path or unix:/path",
                                      subcommand: subcommand)
        }
    }

    /// `help NAME` for a name that is no subcommand says so and fails; a real one still helps.
    @Test func helpForAnUnknownSubcommandFails() throws {
        for args in [["help", "bogus"], ["help", "decode", "bogus"]] {
            let r = try Self.ninescope(args)
            #expect(r.status == 64, "\(args): status \(r.status), \(r.out) \(r.err)")
            #expect(r.err.contains("no subcommand 'bogus'"), "\(args): \(r.err)")
            #expect(r.out.isEmpty, "\(args): \(r.out)")
        }
        let decode = try Self.ninescope(["help", "decode"])
        #expect(decode.status == 0 && decode.out.contains("USAGE: ninescope decode "), "\(decode.err)")
        let hidden = try Self.ninescope(["help", "bench-ping"])
        #expect(hidden.status == 0, "\(hidden.err)")
        let top = try Self.ninescope(["help"])
        #expect(top.status == 0 && top.out.contains("USAGE: ninescope <subcommand>"), "\(top.err)")
    }

    /// Options that would be accepted and then do nothing, or the wrong thing, are refused.
    @Test func inputsThatCannotWorkAreRefused() throws {
        try Self.expectUsageError(["proxy", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:0"],
                                  says: "--upstream: port 0", subcommand: "proxy")
        try Self.expectUsageError(["decode", "--hex", "1500", Self.capture], says: "--hex", subcommand: "decode")
        try Self.expectUsageError(["decode", "--hex", ""], says: "--hex: no bytes", subcommand: "decode")
        try Self.expectUsageError(["decode", "--hex", " \n"], says: "--hex: no bytes", subcommand: "decode")
        try Self.expectUsageError(["decode", "--port", "0", Self.capture], says: "--port 0", subcommand: "decode")
        try Self.expectUsageError(["decode", Self.capture, Self.capture], says: "given twice", subcommand: "decode")
        let other = Peers.repoRoot + "/Captures/../Captures/diod-ls.pcapng"
        try Self.expectUsageError(["decode", Self.capture, other], says: "given twice", subcommand: "decode")
        try Self.expectUsageError(["view", Self.capture, other], says: "given twice", subcommand: "view")
        try Self.expectUsageError(["replay", Self.capture, other, "--to", "127.0.0.1:1"], says: "given twice",
                                  subcommand: "replay")
        // Two different files are read as one capture, as before.
        let two = try Self.ninescope(["decode", Self.capture, Peers.repoRoot + "/Captures/diod-cat.pcapng"])
        #expect(two.status == 0, "\(two.err)")
    }

    /// With no terminal (output into a pipe), `view` prints the capture's lines as `decode` does, with the same
    /// `--port` and `--dialect`, rather than refusing; `--sample` (synthetic traffic for trying the UI) still
    /// needs one.
    @Test func viewWithoutATerminalPrintsWhatDecodePrints() throws {
        for options in [[], ["--port", "564", "--dialect", "9P2000.L"]] {
            let decoded = try Self.ninescope(["decode", Self.capture] + options)
            let viewed = try Self.ninescope(["view", Self.capture] + options)
            #expect(viewed.status == 0, "\(options): status \(viewed.status), stderr \(viewed.err)")
            #expect(viewed.out.contains(" c0 → Tversion tag NOTAG"), "\(options): \(viewed.out.prefix(300))")
            #expect(viewed.out == decoded.out, "\(options)")
        }
        try Self.expectUsageError(["view", "--sample", "10"], says: "view --sample needs a terminal", subcommand: "view")
    }

    /// `--quiet` without `--capture` records nothing: it runs (a relay that decodes nothing) and says so.
    @Test func quietWithoutCaptureIsWarnedOf() throws {
        let proxy = try ProxyProcess(upstream: "127.0.0.1:1", extra: ["--quiet"])
        let warned = ProxyProcess.poll(timeout: 10) { proxy.stderr.contains("warning: --quiet without --capture") }
        _ = proxy.stop()
        #expect(warned, "\(proxy.stderr)")
        let capturing = try ProxyProcess(upstream: "127.0.0.1:1",
                                         extra: ["--quiet", "--capture", Peers.tempDir("cli") + "/q.pcapng"])
        _ = capturing.stop()
        #expect(!capturing.stderr.contains("warning"), "\(capturing.stderr)")
    }

    /// `decode --filter` with a word that reads like a message type but is none warns of it once, and still
    /// runs (free text); a real type does not.
    @Test func aFilterWordThatReadsLikeATypeIsWarnedOf() throws {
        let typo = try Self.ninescope(["decode", Self.capture, "--filter", "Twalk|Tclunk"])
        #expect(typo.status == 0 && typo.out.isEmpty, "\(typo.err)")
        #expect(typo.err.components(separatedBy: "warning: --filter: column 1: Twalk|Tclunk is no message type").count == 2,
                "\(typo.err)")
        let right = try Self.ninescope(["decode", Self.capture, "--filter", "Twalk or Tclunk"])
        #expect(right.status == 0 && !right.out.isEmpty && right.err.isEmpty, "\(right.err)")
    }

    /// `proxy --filter` with `anomaly:fid-leak` is warned of: headless, each exchange is printed when it is
    /// complete, before its connection's close says which fids leaked, so the term matches nothing there.
    @Test func aFidLeakFilterOnTheLiveLinesIsWarnedOf() throws {
        let proxy = try ProxyProcess(upstream: "127.0.0.1:1", extra: ["--filter", "not (anomaly:fid-leak or Tread)"])
        let warned = ProxyProcess.poll(timeout: 10) { proxy.stderr.contains("warning: --filter: anomaly:fid-leak matches nothing") }
        _ = proxy.stop()
        #expect(warned, "\(proxy.stderr)")
        let other = try ProxyProcess(upstream: "127.0.0.1:1", extra: ["--filter", "anomaly:walk-left-root or error"])
        _ = other.stop()
        #expect(!other.stderr.contains("warning"), "\(other.stderr)")
    }

    static let subcommands = ["decode", "serve", "proxy", "view", "repl", "replay"]   // (demo has no examples)

    /// Each help's examples are whole commands at 80 columns (a long one goes on over lines ending in `\`,
    /// not wrapped in the middle), and a `!` address is quoted (interactive bash reads `!564` as history).
    @Test func helpExamplesAreWholeQuotedCommands() throws {
        let commands: Set = ["ninescope", "mount", "diodcat", "diodls", "tcpdump", "zcat", "echo"]
        for subcommand in Self.subcommands {
            let r = try Self.ninescope(["help", subcommand])
            #expect(r.status == 0, "\(subcommand): \(r.err)")
            let lines = r.out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            guard let start = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "Examples:" }) else {
                Issue.record("\(subcommand): no Examples in its help")
                continue
            }
            var previous = ""
            var examples = 0
            for line in lines[(start + 1)...] {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.isEmpty { break }
                let first = trimmed.split(separator: " ").first.map(String.init) ?? ""
                #expect(previous.hasSuffix(" \\") || commands.contains(first),
                        "\(subcommand): an example line wrapped or not a command: \"\(line)\"")
                #expect(line.count < 80, "\(subcommand): \"\(line)\"")
                let unquoted = trimmed.split(separator: "'", omittingEmptySubsequences: false).enumerated()
                    .filter { $0.offset % 2 == 0 }.map(\.element).joined()
                #expect(!unquoted.contains("!"), "\(subcommand): unquoted ! in \"\(line)\"")
                previous = trimmed
                examples += 1
            }
            #expect(examples > 0, "\(subcommand)")
        }
    }

    /// No help text has a table row wrapped at 80 columns: a line at column 0 never follows an indented one
    /// directly (a row too long for 80 columns goes on at column 0, as `ninescope help serve`'s `local:DIR`
    /// row did).
    @Test func helpTablesAreNotWrapped() throws {
        for args in [["help"]] + (Self.subcommands + ["demo"]).map({ ["help", $0] }) {
            let r = try Self.ninescope(args)
            #expect(r.status == 0, "\(args): \(r.err)")
            let lines = r.out.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.count > 10, "\(args): \(r.out)")
            for (previous, line) in zip(lines, lines.dropFirst())
            where previous.hasPrefix("  ") && !previous.allSatisfy({ $0 == " " })
                && !line.isEmpty && !line.hasPrefix(" ") {
                Issue.record("\(args): \"\(line)\" goes on from \"\(previous)\"")
            }
        }
    }

    /// Every option's value is named in capitals, as the help's own text and the README name it
    /// (`--timeout SECONDS`, `--script FILE`, `--aname PATH`), not by the option's name again: `repl --help`
    /// read `--script <script>  Run the lines of FILE …` and `replay --help` `--to <to>`.
    @Test func optionValuesAreNamedInCapitals() throws {
        for subcommand in Self.subcommands + ["demo"] {
            let r = try Self.ninescope(["help", subcommand])
            var values = 0
            for line in r.out.split(separator: "\n") {
                guard let match = line.firstMatch(of: /^  --[a-z-]+ <([^>]+)>/) else { continue }
                values += 1
                #expect(!match.1.allSatisfy { $0.isLowercase || $0 == "-" }, "\(subcommand): \(line)")
            }
            #expect(values > 0, "\(subcommand): \(r.out)")
        }
    }

    /// A `--theme` that names no theme is refused whether or not the UI would open (with output to a pipe,
    /// as here, it was ignored); a good one changes nothing in the lines.
    @Test func aBadThemeIsRefusedEvenWithoutATerminal() throws {
        for args in [["view", Self.capture], ["proxy", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--headless"],
                     ["demo", "--headless", "--rounds", "1"]] {
            let r = try Self.ninescope(args + ["--theme", "nosuch"])
            #expect(r.status == 64 && r.err.contains("--theme: theme nosuch: no such theme"), "\(args): \(r.err)")
        }
        let good = try Self.ninescope(["view", Self.capture, "--theme", "light"])
        let plain = try Self.ninescope(["decode", Self.capture])
        #expect(good.status == 0 && good.out == plain.out && !good.out.isEmpty, "\(good.err)")
    }

    /// `replay --help` lists every ignore rule with what it leaves out, and says which are off by default.
    @Test func replayHelpDescribesEachIgnoreRule() throws {
        let r = try Self.ninescope(["help", "replay"])
        let lines = r.out.split(separator: "\n").map(String.init)
        for rule in IgnoreRule.allCases {
            let row = lines.first { $0.hasPrefix("  " + rule.rawValue + " ") }
            #expect(row?.contains(rule.summary) == true, "\(rule): \(row ?? "no row")")
            #expect(row?.hasSuffix("(off)") == !IgnoreRule.defaults.contains(rule), "\(rule): \(row ?? "no row")")
        }
    }

    /// The README's command lines quote `!` addresses too.
    @Test func readmeQuotesBangAddresses() throws {
        let readme = try String(contentsOfFile: Peers.repoRoot + "/README.md", encoding: .utf8)
        var inCode = false
        for line in readme.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") { inCode.toggle(); continue }
            guard inCode, line.contains("ninescope ") else { continue }
            let unquoted = line.split(separator: "'", omittingEmptySubsequences: false).enumerated()
                .filter { $0.offset % 2 == 0 }.map(\.element).joined()
            #expect(!unquoted.contains("!"), "README: unquoted ! in \"\(line)\"")
        }
    }
}
