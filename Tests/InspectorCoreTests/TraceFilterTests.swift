@testable import InspectorCore
import NinePSession
import NinePWire
import Testing

/// `decode --filter`: the filter language over headless trace lines.
@Suite struct TraceFilterTests {
    /// Runs the sample session through a tracker and a TraceFilter, the way `ninescope decode` does.
    static func filtered(_ text: String) throws -> (lines: [String], all: [String]) {
        let format = TraceLine(style: .text)
        var tracker = SessionTracker()
        var filter = TraceFilter(try FilterParser.parse(text), tracker: SessionTracker())
        var all: [String] = []
        for event in SampleTraffic.session() {
            let output = tracker.handle(event)
            let lines = format.lines(for: output)
            all += lines
            filter.take(event, exchange: output.message?.exchange, lines: lines)
        }
        return (filter.finish(), all)
    }

    @Test func keepsBothMessagesOfMatchingExchangesInOrder() throws {
        let (lines, all) = try Self.filtered("Twalk")
        let walks = lines.filter { $0.contains(" Twalk ") }
        #expect(walks.count == 4, "\(lines.joined(separator: "\n"))")
        #expect(lines.filter { $0.contains(" Rwalk ") || $0.contains(" Rlerror ") }.count == walks.count)
        #expect(!lines.contains { $0.contains("Tversion") || $0.contains("Tread ") })
        // Same order as the unfiltered trace.
        let positions = lines.map { line in all.firstIndex(of: line) ?? -1 }
        #expect(!positions.contains(-1))
        #expect(positions == positions.sorted())
    }

    @Test func errorNeedsTheReply() throws {
        let (lines, _) = try Self.filtered("error")
        #expect(!lines.isEmpty)
        // Every request kept is followed by its error reply.
        let replies = lines.filter { $0.contains(" ← ") || $0.contains(" R") }
        #expect(replies.allSatisfy { !$0.contains(" Rwalk ") || $0.contains("Rlerror") } )
        #expect(lines.contains { $0.contains("Rlerror") })
        #expect(!lines.contains { $0.contains("Rversion") })
    }

    @Test func nothingMatchesNothingPrinted() throws {
        let (lines, all) = try Self.filtered("conn:99")
        #expect(lines.isEmpty)
        #expect(!all.isEmpty)
    }
}

/// The trace's time column.
@Suite struct TraceClockTests {
    @Test func clockIsFixedWidthMicroseconds() {
        #expect(TraceLine.clock(0) == "00:00:00.000000")
        let t: Int64 = ((13 * 3600 + 4 * 60 + 5) * 1_000_000 + 678_901) * 1_000 + 999
        #expect(TraceLine.clock(t) == "13:04:05.678901")
        // Days wrap; times before 1970 count back from midnight.
        #expect(TraceLine.clock(t + 86_400_000_000_000 * 3) == "13:04:05.678901")
        #expect(TraceLine.clock(-1_000) == "23:59:59.999999")
    }
}

/// The byte path (`appendLines`) writes exactly what `lines(for:)` returns, newline-terminated.
@Suite struct TraceBytesTests {
    @Test func appendLinesMatchesLines() {
        for style in [TraceLine.Style.text, .json] {
            let format = TraceLine(style: style)
            var tracker = SessionTracker()
            var compared = 0
            for event in SampleTraffic.session() + SampleTraffic.bulk(exchanges: 200, conn: 2) {
                let output = tracker.handle(event)
                var bytes: [UInt8] = []
                format.appendLines(for: output, to: &bytes)
                let expected = format.lines(for: output).map { $0 + "\n" }.joined()
                #expect(String(decoding: bytes, as: UTF8.self) == expected)
                compared += output.message == nil ? 0 : 1
            }
            #expect(compared > 400)
        }
    }
}

/// `proxy --filter`: the filter applied live, one exchange at a time.
@Suite struct LiveTraceFilterTests {
    static func lines(_ bytes: [UInt8]) -> [String] {
        String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// The sample session (closed at the end) through a live filter fed by a tracker that reports
    /// changes, as `ninescope proxy` runs it, and through `decode --filter`'s batch filter.
    static func run(_ text: String, pathLimit: Int = 1 << 16, style: TraceLine.Style = .text) throws
        -> (live: [String], batch: [String], chunks: [[String]]) {
        let expr = try FilterParser.parse(text)
        let format = TraceLine(style: style)
        var sample = SampleTraffic()
        sample.open()
        sample.mountAndWorkload()
        sample.close()
        var tracker = SessionTracker(configuration: .init(retainFrames: false, reportsChanges: true))
        var live = LiveTraceFilter(expr, format: format, pathLimit: pathLimit)
        var batchTracker = SessionTracker()
        var batch = TraceFilter(expr, tracker: SessionTracker())
        var out: [UInt8] = []
        var chunks: [[String]] = []
        for event in sample.events {
            var chunk: [UInt8] = []
            live.take(tracker.handle(event), into: &chunk)
            chunks.append(lines(chunk))
            out += chunk
            let output = batchTracker.handle(event)
            batch.take(event, exchange: output.message?.exchange, lines: format.lines(for: output))
        }
        #expect(live.heldCount == 0, "every exchange is complete once its connection closed")
        live.finish(into: &out)
        return (lines(out), batch.finish(), chunks)
    }

    /// The same lines as `decode --filter` prints for the whole session, for filters on every kind of term.
    @Test(arguments: ["Twalk", "error", "fid:1", "path:/usr", "latency>150us", "flushed", "anomaly",
                      "not Tversion and conn:1", "usr", "conn:99"])
    func printsWhatDecodeFilterPrints(_ filter: String) throws {
        let (live, batch, _) = try Self.run(filter)
        #expect(live.sorted() == batch.sorted(), "\(filter)")
        #expect(live.isEmpty == (filter == "conn:99"), "\(filter): \(live.count) lines")
    }

    /// Each exchange is written when its last message arrives: a request alone never is, and its reply
    /// follows it in the same write.
    @Test func writesEachExchangeWhenItCompletes() throws {
        let (live, _, chunks) = try Self.run("Twalk")
        #expect(live.contains { $0.contains(" Twalk ") } && live.contains { $0.contains(" Rwalk ") })
        for chunk in chunks where !chunk.isEmpty {
            let messages = chunk.filter { $0.contains(" → ") || $0.contains(" ← ") }
            #expect(messages.first?.contains(" → Twalk ") == true, "\(chunk)")
            #expect(messages.last.map { $0.contains(" ← ") || $0.contains(" → Twalk ") } == true, "\(chunk)")
        }
    }

    /// Requests still pending when the connection closes are written then (no reply to wait for any more);
    /// the fid leaks the close reports belong to no exchange and are left out.
    @Test func unansweredRequestsAreWrittenAtTheClose() throws {
        let (_, _, chunks) = try Self.run("not conn:99")
        let atClose = try #require(chunks.last)
        #expect(atClose.contains { $0.contains(" → ") }, "\(atClose)")
        #expect(!atClose.contains { $0.contains(" ← ") || $0.contains("still in use") }, "\(atClose)")
        let (pending, _, _) = try Self.run("pending")
        #expect(pending.isEmpty, "nothing is pending once its connection closed")
    }

    /// A path table started afresh every few paths matches as one kept for the whole session; JSON lines
    /// are filtered the same way.
    @Test func smallPathTableAndJSON() throws {
        let (live, batch, _) = try Self.run("path:/usr", pathLimit: 2)
        #expect(!live.isEmpty && live.sorted() == batch.sorted())
        let (json, jsonBatch, _) = try Self.run("error", style: .json)
        #expect(!json.isEmpty && json.sorted() == jsonBatch.sorted())
        #expect(json.allSatisfy { $0.hasPrefix("{\"event\":") })
    }

    /// A read through a fid whose file was unlinked: its line names the path deleted, in text and JSON, and
    /// `path:` finds it by the name it had.
    @Test func aDeletedPathIsShownAndFound() throws {
        let c = ConnectionID(0)
        var t: Int64 = 1_000
        var events: [SessionEvent] = []
        func send(_ d: Direction, _ tag: Tag, _ m: Message) {
            t += 1_000
            events.append(.frame(conn: c, direction: d, at: t, bytes: Fcall(tag: tag, m).encode(dialect: .l), marks: []))
        }
        send(.toServer, .notag, .tversion(Tversion(msize: 8192, version: "9P2000.L")))
        send(.toClient, .notag, .rversion(Rversion(msize: 8192, version: "9P2000.L")))
        send(.toServer, 1, .tattach(Tattach(fid: 0, uname: "u", aname: "", nUname: 0)))
        send(.toClient, 1, .rattach(Rattach(qid: Qid(type: .dir, path: 1))))
        send(.toServer, 1, .twalk(Twalk(fid: 0, newfid: 1, wnames: ["tmp", "a"])))
        send(.toClient, 1, .rwalk(Rwalk(wqids: [Qid(type: .dir, path: 2), Qid(path: 3)])))
        send(.toServer, 1, .tlopen(Tlopen(fid: 1, flags: .rdonly)))
        send(.toClient, 1, .rlopen(Rlopen(qid: Qid(path: 3), iounit: 0)))
        send(.toServer, 1, .twalk(Twalk(fid: 0, newfid: 2, wnames: ["tmp"])))
        send(.toClient, 1, .rwalk(Rwalk(wqids: [Qid(type: .dir, path: 2)])))
        send(.toServer, 1, .tunlinkat(Tunlinkat(dirfid: 2, name: "a", flags: 0)))
        send(.toClient, 1, .runlinkat)
        send(.toServer, 1, .tread(Tread(fid: 1, offset: 0, count: 10)))
        send(.toClient, 1, .rread(Rread(data: [1, 2])))
        var text = SessionTracker(), json = SessionTracker()
        var textLines: [String] = [], jsonLines: [String] = []
        for e in events {
            textLines += TraceLine(style: .text).lines(for: text.handle(e))
            jsonLines += TraceLine(style: .json).lines(for: json.handle(e))
        }
        let read = try #require(textLines.first { $0.contains(" Tread ") })
        #expect(read.hasSuffix("[/tmp/a (deleted)]"), "\(read)")
        let jsonRead = try #require(jsonLines.first { $0.contains("\"type\":\"Tread\"") })
        #expect(jsonRead.contains("\"path\":\"/tmp/a (deleted)\",\"path_deleted\":true"), "\(jsonRead)")
        #expect(!(jsonLines.first { $0.contains("\"type\":\"Tunlinkat\"") } ?? "").contains("path_deleted"))
        var filter = TraceFilter(try FilterParser.parse("path:/tmp/a and Tread"), tracker: SessionTracker())
        var scratch = SessionTracker()
        for e in events {
            let output = scratch.handle(e)
            filter.take(e, exchange: output.message?.exchange, lines: TraceLine(style: .text).lines(for: output))
        }
        let found = filter.finish()
        #expect(found.count == 2 && found[0].contains(" Tread ") && found[1].contains(" Rread "), "\(found)")
    }
}

