@testable import InspectorCore
import NinePSession
import NinePWire
import Testing

@Suite struct FilterParserTests {
    func parse(_ text: String) throws -> FilterExpr { try FilterParser.parse(text) }

    func error(_ text: String) -> FilterError? {
        do {
            _ = try FilterParser.parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func emptyIsAll() throws {
        #expect(try parse("") == .all)
        #expect(try parse("   ") == .all)
    }

    /// `mentions` finds a term anywhere in the expression, under `not` and inside `and`/`or`.
    @Test func mentionsFindsATermAnywhere() throws {
        let leak = FilterTerm.anomalyKind(.fidLeakedAtClose)
        for text in ["anomaly:fid-leak", "not (Tread or anomaly:fid-leak)", "error and !anomaly:fid-leak"] {
            #expect(try FilterParser.parse(text).mentions(leak), "\(text)")
        }
        for text in ["anomaly", "anomaly:walk-left-root or error", "\"anomaly:fid-leak\""] {
            #expect(try !FilterParser.parse(text).mentions(leak), "\(text)")
        }
    }

    /// An unquoted word that reads like a message type but is none (`Tfoo`, `Twalk|Tclunk`) is still free
    /// text, and noted with its column; a real type, a quoted word, a state or a keyed term is not.
    @Test func aWordThatReadsLikeATypeButIsNoneIsNoted() throws {
        var notes: [String] = []
        let expr = try FilterParser.parse("Tfoo or Twalk|Tclunk", notes: &notes)
        #expect(expr == .or(.term(.text("Tfoo")), .term(.text("Twalk|Tclunk"))))
        #expect(notes.count == 2 && notes[0].hasPrefix("column 1: Tfoo is no message type")
                && notes[1].hasPrefix("column 9: Twalk|Tclunk is no message type"), "\(notes)")
        for text in ["Twalk or rwalk", "\"Tfoo\"", "error and fid:1", "latency>1ms", "Trust", "hello", "TWALK", "R"] {
            var none: [String] = []
            _ = try FilterParser.parse(text, notes: &none)
            #expect(none.isEmpty == (text != "Trust"), "\(text): \(none)")
        }
    }

    /// Empty quotes are refused with their column: as text they matched every exchange.
    @Test func emptyQuotesAreRefused() throws {
        for (text, column) in [("\"\"", 1), ("error and \"\"", 11)] {
            #expect(throws: FilterError(column: column, message: "empty quotes: put the text to look for between them"),
                    "\(text)") { try FilterParser.parse(text) }
        }
        #expect(try FilterParser.parse("\" \"") == .term(.text(" ")))
    }

    /// `&&` and `||` are operators with or without spaces around them (`error||Twalk` is not one word of
    /// free text that silently matches nothing); inside quotes they are text.
    @Test func symbolOperatorsNeedNoSpaces() throws {
        let or = FilterExpr.or(.term(.state(.error)), .term(.messageType(.twalk)))
        #expect(try parse("error||Twalk") == or)
        #expect(try parse("error || Twalk") == or)
        #expect(try parse("Tread&&latency>1ms") == .and(.term(.messageType(.tread)), .term(.latency(.greater, 1_000_000))))
        #expect(try parse("(error||Twalk)&&fid:3") == .and(or, .term(.fid(3))))
        #expect(try parse("\"a||b\"") == .term(.text("a||b")))
        #expect(error("error||")?.column == 8)
        #expect(error("&&Twalk")?.column == 1)
    }

    @Test func messageTypesAnyCase() throws {
        #expect(try parse("Twalk") == .term(.messageType(.twalk)))
        #expect(try parse("rlerror") == .term(.messageType(.rlerror)))
        #expect(try parse("type:Tclunk") == .term(.messageType(.tclunk)))
    }

    /// `x:` picks exchanges by number: one, a range, or from one on; the spelling round-trips; the model's
    /// list filters by it; a malformed range is refused.
    @Test func exchangeRanges() throws {
        #expect(try parse("x:114") == .term(.exchanges(from: 114, through: 114)))
        #expect(try parse("x:114-130") == .term(.exchanges(from: 114, through: 130)))
        #expect(try parse("x:x114-x130") == .term(.exchanges(from: 114, through: 130)))
        #expect(try parse("x:114-") == .term(.exchanges(from: 114, through: nil)))
        for text in ["x:114", "x:114-130", "x:114-", "conn:0 and fid:2 and x:5-9"] {
            #expect(try parse(text).description == text)
        }
        #expect(error("x:130-114")?.message == "x:130-114 runs backwards: x:114-130")
        #expect(error("x:abc") != nil)
        #expect(error("x:-5") != nil)
        var m = InspectorModel()
        m.handle(SampleTraffic.session())
        #expect(try Sample.rows(m, "x:3-5") == [3, 4, 5])
        #expect(try Sample.rows(m, "x:18-") == [18, 19])
        #expect(try Sample.rows(m, "x:7 or x:9") == [7, 9])
    }

    @Test func keyedTerms() throws {
        #expect(try parse("fid:3") == .term(.fid(3)))
        #expect(try parse("fid:NOFID") == .term(.fid(0xFFFF_FFFF)))
        #expect(try parse("tag:5") == .term(.tag(5)))
        #expect(try parse("tag:notag") == .term(.tag(0xFFFF)))
        #expect(try parse("conn:2") == .term(.conn(2)))
        #expect(try parse("conn:c7") == .term(.conn(7)))
        #expect(try parse("path:/usr") == .term(.path("/usr")))
        #expect(try parse("path:\"/my dir\"") == .term(.path("/my dir")))
        #expect(try parse("user:nobody") == .term(.user("nobody")))
        #expect(try parse("user:65534") == .term(.user("65534")))
        #expect(try parse("user:\"glenda(1000)\"") == .term(.user("glenda(1000)")))
        #expect(try parse("errno:ENOENT") == .term(.errno(2)))
        #expect(try parse("errno:enoent") == .term(.errno(2)))
        #expect(try parse("errno:13") == .term(.errno(13)))
        #expect(try parse("fid: 9") == .term(.fid(9)))
    }

    @Test func stateKeywords() throws {
        for keyword in StateKeyword.allCases {
            #expect(try parse(keyword.rawValue) == .term(.state(keyword)))
            #expect(try parse(keyword.rawValue.uppercased()) == .term(.state(keyword)))
        }
    }

    /// What the list, the detail and the statistics show can be typed back: a minute or more as `1m23s` or
    /// `1h02m`, microseconds with the micro sign or the Greek mu, a size as the statistics give it (`1.22K`);
    /// `latency>1m05s` was refused (`unknown unit 'm05s'`), and so were `latency>2m` and `size>1.5k`.
    @Test func whatTheViewsShowCanBeTypedBack() throws {
        #expect(try parse("latency>1m05s") == .term(.latency(.greater, 65_000_000_000)))
        #expect(try parse("latency>=2m") == .term(.latency(.greaterOrEqual, 120_000_000_000)))
        #expect(try parse("latency>1h02m") == .term(.latency(.greater, 3_720_000_000_000)))
        #expect(try parse("latency>1m0.5s") == .term(.latency(.greater, 60_500_000_000)))
        #expect(try parse("latency<100μs") == .term(.latency(.less, 100_000)))   // Greek mu
        #expect(try parse("latency<100µs") == .term(.latency(.less, 100_000)))   // micro sign
        // Every latency the display writes parses back to within its rounding.
        for nanos: Int64 in [850, 15_200, 1_250_000, 59_900_000_000, 83_000_000_000, 3_720_000_000_000] {
            let shown = DurationFormat.compact(nanos)
            let back = try #require(try? DurationFormat.parse(Substring(shown)), "\(shown)")
            #expect(abs(back - nanos) * 100 <= nanos, "\(shown) → \(back)")
        }
        // The filter prints the shortest exact literal, which parses back.
        #expect(try parse("latency>=120s").description == "latency>=2m")
        #expect(try parse(try parse("latency>=120s").description) == .term(.latency(.greaterOrEqual, 120_000_000_000)))
        #expect(try parse("size>1.5k") == .term(.size(.greater, 1536)))
        #expect(try parse("size>=1.22K") == .term(.size(.greaterOrEqual, 1249)))
        #expect(try parse("size<0.5m") == .term(.size(.less, 524_288)))
        #expect(error("size>1.5")?.message == "expected a size in bytes after '>', e.g. 4096, 64k or 1m")
        #expect(error("size>1.k") != nil)
    }

    @Test func latencyComparisons() throws {
        #expect(try parse("latency>10ms") == .term(.latency(.greater, 10_000_000)))
        #expect(try parse("latency>=1.5s") == .term(.latency(.greaterOrEqual, 1_500_000_000)))
        #expect(try parse("latency<250us") == .term(.latency(.less, 250_000)))
        #expect(try parse("latency<=7ns") == .term(.latency(.lessOrEqual, 7)))
        #expect(try parse("lat=1ms") == .term(.latency(.equal, 1_000_000)))
        #expect(try parse("latency > 10ms") == .term(.latency(.greater, 10_000_000)))
        #expect(try parse("latency >10ms") == .term(.latency(.greater, 10_000_000)))
        #expect(try parse("latency:>2s") == .term(.latency(.greater, 2_000_000_000)))
        #expect(try parse("latency<3µs") == .term(.latency(.less, 3_000)))
    }

    @Test func sizeComparisons() throws {
        #expect(try parse("size>100") == .term(.size(.greater, 100)))
        #expect(try parse("size>=64k") == .term(.size(.greaterOrEqual, 65_536)))
        #expect(try parse("size<1MiB") == .term(.size(.less, 1_048_576)))
        #expect(try parse("size = 4096") == .term(.size(.equal, 4096)))
        #expect(try parse("size:>2g") == .term(.size(.greater, 2 << 30)))
        #expect(try parse("Tread size>=8k") == .and(.term(.messageType(.tread)), .term(.size(.greaterOrEqual, 8192))))
        // Bare, or merely starting like it, it is free text (Rgetattr's lines say `size 4096`).
        #expect(try parse("size") == .term(.text("size")))
        #expect(try parse("sized") == .term(.text("sized")))
        #expect(try parse("size>=64k").description == "size>=65536")
    }

    /// A name and an operator that is not a comparison the language has is refused, not searched for as
    /// text (which would match nothing and look like an answer); quoted, it is text.
    @Test func unknownComparisonsAreRefused() throws {
        #expect(error("count>100") == FilterError(column: 1, message: "no comparison on 'count' (compare latency or "
            + "size, e.g. latency>10ms, size>=64k; quote free text: \"count>100\")"))
        #expect(error("Twalk and tag>5")?.column == 11)
        #expect(error("Twalk and tag>5")?.message.contains("tag is matched with 'tag:VALUE'") == true)
        #expect(error("fid<=3")?.message.hasPrefix("no comparison on 'fid'") == true)
        #expect(error("latest>1")?.message.hasPrefix("no comparison on 'latest'") == true)
        #expect(error("size>abc")?.message == "expected a size in bytes after '>', e.g. 4096, 64k or 1m")
        #expect(error("size>abc")?.column == 6)
        #expect(error("size>99999999999g")?.column == 6)
        #expect(error("size:100")?.message == "size needs a comparison, e.g. size>=64k")
        #expect(try parse("\"count>100\"") == .term(.text("count>100")))
        #expect(try parse("text:count>100") == .term(.text("count>100")))
    }

    /// `size` holds when either message of the exchange is that large; a reply not yet here has no size.
    /// `anomaly:KIND` names one kind of anomaly; `anomaly` alone is still any.
    @Test func anomalyKinds() throws {
        #expect(try parse("anomaly:walk-left-root") == .term(.anomalyKind(.walkLeftRoot)))
        #expect(try parse("anomaly: fid-leak").description == "anomaly:fid-leak")
        #expect(try parse("anomaly") == .term(.state(.anomaly)))
        #expect(throws: FilterError.self) { try parse("anomaly:nope") }
        do { _ = try FilterParser.parse("Twalk and anomaly:nope") } catch {
            #expect(error.column == 19 && error.message.hasPrefix("unknown anomaly kind 'nope' (known: tag-reused,"),
                    "\(error)")
        }
        var row = ExchangeRow(start: 0, tag: 1, requestCode: MessageType.twalk.rawValue, status: .ok, flags: [.hasRequest])
        row.flags.insert(.anomaly)
        var m = FilterMatcher(try parse("anomaly:walk-left-root"))
        let escaped = m.matches(row, paths: StringInterner(), anomalies: AnomalyKind.walkLeftRoot.bit, text: { "" })
        let leaked = m.matches(row, paths: StringInterner(), anomalies: AnomalyKind.fidLeakedAtClose.bit, text: { "" })
        let none = m.matches(row, paths: StringInterner(), text: { "" })
        #expect(escaped && !leaked && !none)
        #expect(Set(AnomalyKind.allCases.map(\.bit)).count == AnomalyKind.allCases.count, "a bit each")
    }

    @Test func sizeMatchesEitherMessage() throws {
        func matches(_ filter: String, request: UInt32, reply: UInt32?) throws -> Bool {
            var row = ExchangeRow(start: 0, tag: 1, requestCode: MessageType.tread.rawValue, status: .pending,
                                  flags: [.hasRequest])
            row.requestBytes = request
            if let reply {
                row.replyCode = MessageType.rread.rawValue
                row.replyBytes = reply
                row.status = .ok
                row.flags.insert(.hasReply)
            }
            var m = FilterMatcher(try parse(filter))
            return m.matches(row, paths: StringInterner(), text: { "" })
        }
        #expect(try matches("size>=64k", request: 23, reply: 65_547))
        #expect(try !matches("size>=64k", request: 23, reply: 65_535))
        #expect(try !matches("size>=64k", request: 23, reply: nil))
        #expect(try matches("size=23", request: 23, reply: 65_547))
        #expect(try matches("size<24", request: 23, reply: nil))
        #expect(try !matches("size<23", request: 23, reply: 100))
    }

    @Test func freeText() throws {
        #expect(try parse("passwd") == .term(.text("passwd")))
        #expect(try parse("\"error\"") == .term(.text("error")))
        #expect(try parse("\"two words\"") == .term(.text("two words")))
        #expect(try parse("text:Twalk") == .term(.text("Twalk")))
        #expect(try parse("\"say \\\"hi\\\"\"") == .term(.text("say \"hi\"")))
        // Words that merely start like a keyword stay text.
        #expect(try parse("latest") == .term(.text("latest")))
    }

    @Test func precedenceAndBeforeOr() throws {
        let e = try parse("Twalk and error or pending")
        #expect(e == .or(.and(.term(.messageType(.twalk)), .term(.state(.error))), .term(.state(.pending))))
        let f = try parse("Twalk or error and pending")
        #expect(f == .or(.term(.messageType(.twalk)), .and(.term(.state(.error)), .term(.state(.pending)))))
    }

    @Test func juxtapositionIsAnd() throws {
        #expect(try parse("Twalk fid:3") == .and(.term(.messageType(.twalk)), .term(.fid(3))))
        #expect(try parse("Twalk && fid:3") == .and(.term(.messageType(.twalk)), .term(.fid(3))))
        #expect(try parse("error || pending") == .or(.term(.state(.error)), .term(.state(.pending))))
    }

    @Test func notAndParentheses() throws {
        #expect(try parse("not error") == .not(.term(.state(.error))))
        #expect(try parse("!error") == .not(.term(.state(.error))))
        #expect(try parse("! error") == .not(.term(.state(.error))))
        #expect(try parse("not (pending or flushed) and conn:1")
                == .and(.not(.or(.term(.state(.pending)), .term(.state(.flushed)))), .term(.conn(1))))
        #expect(try parse("((Twalk))") == .term(.messageType(.twalk)))
    }

    @Test func pathPatternsMatchUnderAnyAname() {
        func m(_ path: String, _ pattern: String) -> Bool { FilterMatcher.path(path, matches: pattern) }
        #expect(m("/usr/bin", "/usr") && m("/usr", "/usr") && m("/usr", "/usr/") && !m("/usrx", "/usr"))
        #expect(m("srv:/usr/bin", "/usr") && m("?/usr/bin", "/usr"))
        // diod's anames are absolute paths.
        #expect(m("/srv/export:/usr/bin", "/usr"))
        #expect(m("/srv/export:/usr/bin", "/usr/bin") && !m("/srv/export:/usr/bin", "/usr/bi"))
        #expect(m("/srv/export:/usr", "/srv/export:/usr"))   // the whole path, aname and all
        #expect(!m("/srv/export:/etc", "/usr") && m("/srv/export:/etc", "/srv"))   // (the whole path is under /srv)
        #expect(m("a/b:/usr", "/usr") && m("/srv/export:/", "/"))
        #expect(m("/srv/export:/usr/bin", "export:/usr") && !m("/srv/export:/usr", "lib"))   // no leading /: contains
        // A fid whose file lost its name: the path it had.
        #expect(m("/tmp/a (deleted)", "/tmp/a") && m("/tmp/a (deleted)", "/tmp") && !m("/tmp/a (deleted)", "/tmp/b"))
        #expect(m("/tmp/a (deleted)", "deleted"))
    }

    @Test func descriptionRoundTrips() throws {
        let inputs = [
            "Twalk and fid:3", "error or latency>10ms", "not (pending or flushed) and path:/usr",
            "a or (b or c)", "(a or b) and c", "not not error", "path:\"/my dir\" \"free text\"",
            "errno:ENOENT conn:2 tag:65535", "latency>=1500us", "size>=64k or size<12",
            "user:\"glenda(1000)\" or user:0",
        ]
        for input in inputs {
            let e = try parse(input)
            #expect(try parse(e.description) == e, "\(input) → \(e.description)")
        }
        #expect(try parse("error or latency>10ms").description == "error or latency>10ms")
        #expect(try parse("(a or b) and c").description == "(a or b) and c")
        #expect(try parse("Twalk fid:3").description == "Twalk and fid:3")
    }

    @Test func errorsCarryColumns() {
        #expect(error("fid:abc") == FilterError(column: 5, message: "fid must be a number from 0 to 4294967295, not 'abc'"))
        #expect(error("Twalk and (error") == FilterError(column: 17, message: "expected ')' to close '(' at column 11"))
        #expect(error("error)")?.column == 6)
        #expect(error("latency>10mx")?.column == 11)
        #expect(error("latency>10mx")?.message == "unknown unit 'mx' (use ns, us, ms, s, m or h, or 1m30s)")
        #expect(error("latency>10")?.message == "'10' needs a unit: ns, us, ms, s, m or h")
        #expect(error("latency>1m05")?.message == "'1m05' needs a unit: ns, us, ms, s, m or h")
        #expect(error("latency>")?.message == "expected a duration after '>', e.g. 10ms")
        #expect(error("latency")?.column == 8)
        #expect(error("error and")?.column == 10)
        #expect(error("or error")?.column == 1)
        #expect(error("bogus:1")?.column == 1)
        #expect(error("bogus:1")?.message.hasPrefix("unknown field 'bogus'") == true)
        #expect(error("errno:ENOPE")?.column == 7)
        #expect(error("tag:70000")?.column == 5)
        #expect(error("\"open")?.message == "unterminated quoted string")
        #expect(error("()")?.message == "empty parentheses")
        #expect(error("path:")?.message == "'path:' needs a value")
    }
}

@Suite struct DurationFormatTests {
    @Test func parses() throws {
        #expect(try DurationFormat.parse("0ns") == 0)
        #expect(try DurationFormat.parse("10ms") == 10_000_000)
        #expect(try DurationFormat.parse("1.5s") == 1_500_000_000)
        #expect(try DurationFormat.parse("2US") == 2_000)
        #expect(try DurationFormat.parse(".5ms") == 500_000)
        #expect(try DurationFormat.parse("1.0000000009s") == 1_000_000_000)
        #expect(throws: DurationFormat.ParseError.missingUnit) { try DurationFormat.parse("12") }
        #expect(throws: DurationFormat.ParseError.missingNumber) { try DurationFormat.parse("ms") }
        #expect(try DurationFormat.parse("1h") == 3_600_000_000_000)
        #expect(throws: DurationFormat.ParseError.unknownUnit("d")) { try DurationFormat.parse("1d") }
        #expect(throws: DurationFormat.ParseError.unknownUnit("xs")) { try DurationFormat.parse("1m5xs") }
        #expect(throws: DurationFormat.ParseError.outOfRange) { try DurationFormat.parse("99999999999999s") }
    }

    @Test func compactHasThreeSignificantDigits() {
        #expect(DurationFormat.compact(850) == "850ns")
        #expect(DurationFormat.compact(1_523) == "1.52µs")
        #expect(DurationFormat.compact(15_234) == "15.2µs")
        #expect(DurationFormat.compact(152_999) == "152µs")
        #expect(DurationFormat.compact(1_250_000) == "1.25ms")
        #expect(DurationFormat.compact(3_400_000_000) == "3.40s")
        #expect(DurationFormat.compact(1_234_000_000_000) == "20m34s")
        // From a minute on, a latency reads as a pending request's age does.
        #expect(DurationFormat.compact(59_990_000_000) == "59.9s")
        #expect(DurationFormat.compact(83_900_000_000) == "1m23s")
        #expect(DurationFormat.compact(83_900_000_000) == DurationFormat.age(83_900_000_000))
        #expect(DurationFormat.compact(3_723_000_000_000) == "1h02m")
        #expect(DurationFormat.compact(-2_000) == "-2.00µs")
        // Unit boundaries, digits rounded down, zeros inside the fraction.
        let cases: [(Int64, String)] = [
            (0, "0ns"), (999, "999ns"), (1_000, "1.00µs"), (9_999, "9.99µs"), (10_000, "10.0µs"), (99_999, "99.9µs"),
            (100_000, "100µs"), (999_999, "999µs"), (1_000_000, "1.00ms"), (1_050_000, "1.05ms"),
            (999_999_999, "999ms"), (1_000_000_000, "1.00s"), (59_999_999_999, "59.9s"), (60_000_000_000, "1m00s"),
            (999_999_999_999, "16m39s"), (1_000_000_000_000, "16m40s"), (Int64.min, "-106751d23h"),
        ]
        for (ns, text) in cases { #expect(DurationFormat.compact(ns) == text, "\(ns)") }
        var bytes: [UInt8] = [0x3E]
        DurationFormat.appendCompact(15_234, to: &bytes)
        #expect(bytes == [0x3E] + Array("15.2µs".utf8))
    }

    @Test func filterLiteralIsExactAndShortest() throws {
        for ns: Int64 in [0, 7, 1_000, 1_500, 10_000_000, 1_500_000_000, 3_000_000_000] {
            let literal = DurationFormat.filterLiteral(ns)
            #expect(try DurationFormat.parse(Substring(literal)) == ns, "\(literal)")
        }
        #expect(DurationFormat.filterLiteral(10_000_000) == "10ms")
        #expect(DurationFormat.filterLiteral(1_500_000) == "1500us")
    }

    @Test func timeFormats() {
        // 1970-01-02 03:04:05.678 UTC
        let t: Int64 = ((27 * 3600 + 4 * 60 + 5) * 1000 + 678) * 1_000_000
        #expect(TimeFormat.utc.format(t) == "03:04:05.678")
        #expect(TimeFormat.clock(utcOffsetSeconds: 3600).format(t) == "04:04:05.678")
        #expect(TimeFormat.clock(utcOffsetSeconds: -4 * 3600).format(t) == "23:04:05.678")
        #expect(TimeFormat.relative(origin: t - 12_345_000_000).format(t) == "12.345")
        #expect(TimeFormat.relative(origin: t + 1_000_000).format(t) == "-0.001")
    }
}
