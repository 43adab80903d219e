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
