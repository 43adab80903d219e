import InspectorCore
@testable import InspectorUI
import NinePTestSupport
import Testing
import TUICore

/// Every view rendered into a grid and compared with a reviewed snapshot (Snapshots/*.txt).
@Suite struct ViewSnapshotTests {
    @Test func exchangeListFollowsTheTail() {
        var s = Sample.screen()
        Snapshot.check(s.snapshot(), named: "list-80x24")
    }

    @Test func exchangeListWithStyles() {
        var s = Sample.screen()
        s.press("g")
        Snapshot.check(s.snapshot(styles: true), named: "list-styles-80x24")
    }

    @Test func exchangeListWide() {
        var s = Sample.screen()
        _ = s.snapshot(width: 132, height: 30)
        s.press("g", "j", "j")
        Snapshot.check(s.snapshot(width: 132, height: 30), named: "list-132x30")
    }

    @Test func filterTypedAtThePrompt() {
        var s = Sample.screen()
        s.press("/")
        s.type("Twalk or error")
        Snapshot.check(s.snapshot(), named: "filter-prompt")
        s.press("enter")
        Snapshot.check(s.snapshot(), named: "filter-applied")
    }

    /// An error longer than the screen is wide (the anomaly kinds a filter knows) is wrapped onto rows above
    /// the key hints, taken from the list until the next key, instead of being cut at the right edge; the
    /// status flags stay on its last row.
    @Test func aLongErrorIsWrappedNotCut() {
        var s = Sample.screen()
        s.recording = "REC 12 kB"
        s.press("/")
        s.type("anomaly:bogus")
        s.press("enter")
        let text = s.snapshot()
        Snapshot.check(text, named: "long-error-80x24")
        // Every kind it names is on the screen, the last one too.
        for kind in ["tag-reused", "count-over-msize", "reserved-fid"] { #expect(text.contains(kind), "\(kind)") }
        #expect(text.contains("REC 12 kB"))
        // The next key gives the rows back to the list.
        s.press("j")
        #expect(s.snapshot().split(separator: "\n").filter { $0.contains("c1") }.count == 20)
    }

    @Test func filterErrorIsMarkedAtItsColumn() {
        var s = Sample.screen()
        s.press("/")
        s.type("Twalk and fid:x")
        Snapshot.check(s.snapshot(styles: true), named: "filter-error")
    }

    @Test func detailWithHexHighlight() {
        var s = Sample.screen()
        s.press("g")
        for _ in 0..<Sample.walkPasswd { s.press("j") }
        s.press("enter")
        // Down to wname[1] (size, type, tag, fid, newfid, nwname, wname[0], wname[1]).
        for _ in 0..<7 { s.press("j") }
        Snapshot.check(s.snapshot(styles: true), named: "detail-walk-wname1")
        s.press("tab")
        Snapshot.check(s.snapshot(), named: "detail-walk-reply")
    }

    @Test func detailOfWideCharacters() {
        var s = Sample.screen()
        _ = s.snapshot(width: 100, height: 40)
        s.press("g")
        for _ in 0..<Sample.readdir { s.press("j") }
        s.press("enter", "x")
        Snapshot.check(s.snapshot(width: 100, height: 40), named: "detail-readdir-wide-chars")
    }

    @Test func fidTable() {
        var s = Sample.screen()
        s.press("F")
        Snapshot.check(s.snapshot(), named: "fids")
    }

    @Test func statisticsAnomaliesConnections() {
        var s = Sample.screen()
        s.press("S")
        Snapshot.check(s.snapshot(), named: "stats")
        s.press("q", "A")
        Snapshot.check(s.snapshot(), named: "anomalies")
        s.press("q", "C")
        Snapshot.check(s.snapshot(), named: "connections")
    }

    /// On a wide screen the statistics' type names stay next to their figures, and the fids' qids leave the
    /// width to the paths (flexible columns with a limit).
    @Test func statisticsAndFidsWide() {
        var s = Sample.screen()
        s.press("S")
        Snapshot.check(s.snapshot(width: 160, height: 24), named: "stats-160x24")
        s.press("q", "F")
        Snapshot.check(s.snapshot(width: 160, height: 24), named: "fids-160x24")
    }

    @Test func helpScreen() {
        var s = Sample.screen()
        s.press("?")
        Snapshot.check(s.snapshot(width: 100, height: 50), named: "help")
    }

    /// At 80 and 60 columns every description in the help can be read whole: one longer than the room beside
    /// its key goes on over the next lines (at 80 columns `G` read `Go to the last item and follow ne`).
    @Test(arguments: [80, 60]) func helpIsReadableOnANarrowScreen(width: Int) {
        var s = Sample.screen()
        s.press("?")
        Snapshot.check(s.snapshot(width: width, height: 24), named: "help-\(width)x24-top")
        let lines = HelpView.lines(s.registry, width: width).map(\.text)
        #expect(lines.allSatisfy { $0.displayWidth <= width - 1 }, "\(lines.filter { $0.displayWidth > width - 1 })")
        let all = lines.joined(separator: " ").split(separator: " ").joined(separator: " ")
        func said(_ text: String) -> Bool { all.contains(text.split(separator: " ").joined(separator: " ")) }
        for section in s.registry.helpSections {
            for e in section.entries { #expect(said(e.summary), "\(e.summary)") }
        }
        for (syntax, meaning) in CommandRegistry.filterHelp {
            #expect(said(syntax) && said(meaning), "\(syntax): \(meaning)")
        }
    }

    @Test func tinyTerminal() {
        var s = Sample.screen()
        Snapshot.check(s.snapshot(width: 40, height: 8), named: "list-40x8")
        Snapshot.check(s.snapshot(width: 15, height: 3), named: "too-small")
    }

    /// A title too long for the screen is cut with an ellipsis: cut bare, `127.0.0.1:42313` read as port 42.
    /// The key hints show those that fit whole (`S` alone was left of `S stats` at 40 columns).
    @Test func aLongTitleIsCutWithAnEllipsis() throws {
        var s = Sample.screen(live: true)
        s.title = "demo · proxy 127.0.0.1:37755 → synth server 127.0.0.1:42313"
        let lines = s.snapshot(width: 60, height: 10).split(separator: "\n", omittingEmptySubsequences: false)
        let header = try #require(lines.first)
        #expect(header.hasPrefix(" ninescope · demo · proxy 127.0.0.1:37755 → synt…"), "\(header)")
        #expect(header.contains("…") && header.hasSuffix("exchanges"), "\(header)")
        #expect(!header.contains("127.0.0.1:42"), "\(header)")
        let hints = try #require(lines.dropFirst(9).first)
        #expect(hints == " ? help  / filter  : command  f flush  F fids  S stats", "\(hints)")
        let wide = s.snapshot(width: 120, height: 10).split(separator: "\n").first ?? ""
        #expect(wide.contains("127.0.0.1:42313") && !wide.contains("…"), "\(wide)")
    }
}
