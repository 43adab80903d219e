@testable import InspectorCore
import NinePSession
import NinePWire
import Testing

@Suite struct FormatterTests {
    @Test func summaryIsCompact() {
        #expect(ExchangeFormatter.summary("Twalk tag 3 fid 1 newfid 2 nwname 1 0:usr") == "Twalk fid 1 newfid 2 0:usr")
        #expect(ExchangeFormatter.summary("Rwalk tag 3 nwqid 2 0:(0000000000000007 0 d) 1:(0000000000000008 1 )")
                == "Rwalk 0:(7 0 d) 1:(8 1)")
        #expect(ExchangeFormatter.summary("Rattach tag 1 qid (0000000000000000 0 d)") == "Rattach qid (0 0 d)")
        // Quoted strings are left alone, even when they look like fields.
        #expect(ExchangeFormatter.summary("Twrite tag 1 fid 4 offset 0 count 12 'a tag 9 nwname 3\\' x'")
                == "Twrite fid 4 offset 0 count 12 'a tag 9 nwname 3\\' x'")
        #expect(ExchangeFormatter.summary("Tversion tag NOTAG msize 8192 version '9P2000.L'")
                == "Tversion msize 8192 version '9P2000.L'")
        #expect(ExchangeFormatter.summary("Rclunk tag 5") == "Rclunk")
        #expect(ExchangeFormatter.summary("garbage 9 bytes") == "garbage 9 bytes")
        // A frame the capture cut: said first, where a narrow column still shows it.
        #expect(ExchangeFormatter.listText("Rread tag 0 count 8168 d461c9… (cut: 74 of 8179 bytes captured)")
                == "(cut) Rread count 8168 d461c9…")
        #expect(ExchangeFormatter.listText("Rreadlink tag 2 target 'a (cut: 1 of 2 bytes captured)'")
                == "Rreadlink target 'a (cut: 1 of 2 bytes captured)'", "a name is not a cut")
    }

    @Test func columnsOfSampleRows() {
        let m = Sample.model()
        let walk = m.columns(ofRow: Sample.walkPasswd, time: .utc)
        #expect(walk.mark == "  ")
        #expect(walk.tag == "2")
        #expect(walk.conn == "c1")
        #expect(walk.request.hasPrefix("Twalk fid 0 newfid 2"))
        #expect(walk.reply.hasPrefix("Rwalk"))
        #expect(walk.role == .listOk)
        let pending = m.columns(ofRow: Sample.pendingRead, time: .utc)
        #expect(pending.mark == "* ")
        #expect(pending.latency == "pending")
        #expect(pending.reply == "")
        #expect(pending.role == .listPending)
        let flushed = m.columns(ofRow: Sample.flushedReaddir, time: .utc)
        #expect(flushed.mark == "F ")
        #expect(flushed.reply == "(flushed)")
        #expect(flushed.role == .listFlushed)
        let error = m.columns(ofRow: Sample.walkMissing, time: .utc)
        #expect(error.mark == "E ")
        #expect(error.role == .listError)
        let injected = m.columns(ofRow: Sample.injected, time: .utc)
        #expect(injected.mark == " I")
        #expect(injected.tag == "61440")
        let anomaly = m.columns(ofRow: Sample.badClunk, time: .utc)
        #expect(anomaly.mark == "E!")
        #expect(anomaly.role == .listAnomaly)
        #expect(m.columns(ofRow: Sample.readPasswd, time: .utc).latency == "2.50ms")
        #expect(m.columns(ofRow: Sample.version, time: .utc).tag == "NOTAG")
    }

    /// Given the present moment, a pending request's latency column shows its age so far; other rows, and a
    /// pending row without a known start, are unchanged.
    @Test func pendingRowsCountTheirAge() throws {
        let m = Sample.model()
        let row = m.store[Sample.pendingRead]
        let start = try #require(row.start == ExchangeRow.noTime ? nil : row.start)
        #expect(m.columns(ofRow: Sample.pendingRead, time: .utc, now: start + 1_500_000_000).latency == ">1.50s")
        #expect(m.columns(ofRow: Sample.pendingRead, time: .utc, now: start + 125_000_000_000).latency == ">2m05s")
        #expect(m.columns(ofRow: Sample.pendingRead, time: .utc, now: start - 5).latency == ">0s", "clock skew")
        #expect(m.columns(ofRow: Sample.readPasswd, time: .utc, now: start + 1_500_000_000).latency == "2.50ms")
        #expect(m.columns(ofRow: Sample.flushedReaddir, time: .utc, now: start).latency
                == m.columns(ofRow: Sample.flushedReaddir, time: .utc).latency)
        var noStart = row
        noStart.start = ExchangeRow.noTime
        #expect(ExchangeFormatter.latencyText(noStart, now: start) == "pending")
        #expect(ExchangeFormatter.pendingAge(m.store[Sample.readPasswd], now: start) == nil)
        // The detail says how long it has waited.
        let detail = m.detail(ofRow: Sample.pendingRead, time: .utc, now: start + 42_000_000).lines
            .map { $0.text.text }
        #expect(detail.first?.contains("pending  waiting 42.0ms") == true, "\(detail.first ?? "")")
        let answered = m.detail(ofRow: Sample.readPasswd, time: .utc, now: start).lines
            .map { $0.text.text }
        #expect(answered.first?.contains("waiting") == false, "\(answered.first ?? "")")
        // Whatever the sample's own times, its last one is where a capture's pending ages count to.
        #expect(m.store.lastTime.map { $0 >= start } == true)
    }

    @Test func agesReadInSixCharacters() {
        let s: Int64 = 1_000_000_000
        let cases: [(Int64, String)] = [
            (-3, "0s"), (0, "0s"), (850_000_000, "850ms"), (12_345_000_000, "12.3s"), (59_999_000_000, "59.9s"),
            (60 * s, "1m00s"), (125 * s, "2m05s"), (3599 * s, "59m59s"), (3600 * s, "1h00m"), (3720 * s, "1h02m"),
            ((99 * 3600 + 59 * 60 + 59) * s, "99h59m"), (100 * 3600 * s, "4d04h"), (1000 * 86_400 * s, "1000d00h"),
        ]
        for (nanos, text) in cases {
            #expect(DurationFormat.age(nanos) == text, "\(nanos) ns")
            if nanos < 1000 * 86_400 * s { #expect(DurationFormat.age(nanos).count <= 6, "\(text) is too wide") }
        }
    }

    @Test func hexLinesHighlightExactlyTheRange() {
        let bytes = (0..<20).map { UInt8($0 + 0x41) }
        let lines = HexFormatter.lines(bytes, bytesPerLine: 16, highlight: 14..<18)
        #expect(lines.count == 2)
        #expect(lines[0].text == "0000  41 42 43 44 45 46 47 48  49 4a 4b 4c 4d 4e 4f 50  ABCDEFGHIJKLMNOP")
        #expect(lines[1].text.hasPrefix("0010  51 52 53 54 "))
        // The text column lines up with the full line's.
        #expect(lines[1].text.count == lines[0].text.count - 12)
        #expect(Array(lines[1].text).firstIndex(of: "Q") == Array(lines[0].text).firstIndex(of: "A"))
        let lit0 = lines[0].runs.filter { $0.role == .hexHighlight }.map(\.text).joined()
        #expect(lit0 == "4f 50OP")
        let lit1 = lines[1].runs.filter { $0.role == .hexHighlight }.map(\.text).joined()
        #expect(lit1 == "51 52QR")
        #expect(HexFormatter.bytesPerLine(forWidth: 80) == 16)
        #expect(HexFormatter.bytesPerLine(forWidth: 50) == 8)
        #expect(HexFormatter.lineWidth(bytesPerLine: 16, count: 100) == lines[0].text.count)
        #expect(HexFormatter.line(containing: 17, bytesPerLine: 16) == 1)
    }

    @Test func detailHasEveryFieldWithItsBytes() {
        let m = Sample.model()
        let d = m.detail(ofRow: Sample.walkPasswd, time: .utc)
        #expect(d.frames.count == 2)
        #expect(d.sectionLines.count == 2)
        let texts = d.lines.map(\.text.text)
        #expect(texts.contains { $0.contains("wname[1]") && $0.contains("passwd") })
        #expect(texts.contains { $0.hasPrefix("fid path") && $0.contains("/etc/passwd") })
        // Every field line's range lies inside its frame, and the section covers the whole frame.
        for line in d.lines {
            guard let frame = line.frame, let range = line.range else { continue }
            #expect(range.upperBound <= d.frames[frame].count)
            if line.isSection { #expect(range == 0..<d.frames[frame].count) }
        }
        // The wname[1] line covers len[2] + "passwd".
        let wname = d.lines.first { $0.text.text.contains("wname[1]") }!
        #expect(wname.range!.count == 2 + 6)
        #expect(Array(d.frames[0][wname.range!].dropFirst(2)) == Array("passwd".utf8))
    }

    @Test func detailNamesAnomaliesAndFlushes() {
        let m = Sample.model()
        let bad = m.detail(ofRow: Sample.badClunk, time: .utc).lines.map(\.text.text)
        #expect(bad.contains { $0.hasPrefix("anomaly unknown-fid") })
        let flushed = m.detail(ofRow: Sample.flushedReaddir, time: .utc).lines.map(\.text.text)
        #expect(flushed.contains { $0.hasPrefix("flush requested by x\(Sample.flush)") })
        let flush = m.detail(ofRow: Sample.flush, time: .utc).lines.map(\.text.text)
        #expect(flush.contains { $0.hasPrefix("flushes x\(Sample.flushedReaddir)") })
    }

    @Test func tableWidthsShareSpareAndShrink() {
        let t = Table(title: "t", columns: [TableColumn("a", width: 4), TableColumn("b", width: 10, flexible: true),
                                            TableColumn("c", width: 6)], rows: [])
        #expect(t.widths(total: 22) == [4, 10, 6])
        #expect(t.widths(total: 30) == [4, 18, 6])
        // Too narrow: the column after the flexible one goes whole (a number cut short reads as another
        // number), its room back to the flexible one; then the flexible one shrinks.
        #expect(t.widths(total: 16) == [4, 11, 0])
        #expect(t.widths(total: 12) == [4, 7, 0])
    }

    /// A flexible column with a limit grows only as far as its widest cell (or title) needs, up to the limit
    /// and to an even share of the spare width; the rest goes to the flexible columns without one, or, when
    /// there are none, stays blank.
    @Test func tableWidthsGiveALimitedColumnWhatItsCellsNeed() {
        func table(_ cells: [String]) -> Table {
            Table(title: "t", columns: [TableColumn("a", width: 4), TableColumn("b", width: 10, flexible: true),
                                        TableColumn("c", width: 6, flexible: true, maxWidth: 12)],
                  rows: cells.map { TableRow(["x", "y", $0]) })
        }
        #expect(table(["RDONLY|DIR"]).widths(total: 60) == [4, 44, 10])          // c: its widest cell
        #expect(table(["RDONLY|DIRECTORY|X"]).widths(total: 60) == [4, 42, 12])  // c: its limit
        #expect(table(["RD"]).widths(total: 60) == [4, 48, 6])                   // c: its preferred width
        #expect(table(["RDONLY|DIR"]).widths(total: 26) == [4, 12, 8])           // c: half of the 4 spare, short of 10
        #expect(table(["RDONLY|DIR"]).widths(total: 20) == [4, 10, 4])           // too narrow: c gives way to b
        let alone = Table(title: "t", columns: [TableColumn("name", width: 4, flexible: true, maxWidth: 8),
                                                TableColumn("n", width: 6, alignRight: true)],
                          rows: [TableRow(["Tversion", "1"]), TableRow(["Txattrcreate", "2"])])
        #expect(alone.widths(total: 60) == [8, 6])   // nothing takes the rest
    }

    /// On a narrow screen a fid table keeps its paths: the qid and mode columns give way, then the columns
    /// after them, before the path is cut (at 60 columns it read `gle…` while `made by` and `uses` stayed).
    @Test func aNarrowFidTableKeepsItsPaths() {
        let t = Table(title: "fids", columns: [
            TableColumn("fid", width: 10, alignRight: true), TableColumn("state", width: 9),
            TableColumn("path", width: 16, flexible: true), TableColumn("qid", width: 10, flexible: true, maxWidth: 24),
            TableColumn("mode", width: 12, flexible: true, maxWidth: 32), TableColumn("iounit", width: 6, alignRight: true),
            TableColumn("made by", width: 7), TableColumn("uses", width: 5, alignRight: true),
        ], rows: [TableRow(["7", "leaked", "glenda:/FLUSH", "53594e000013 v0", "WRONLY", "131072", "x23", "3"])])
        #expect(t.widths(total: 59) == [10, 9, 21, 4, 4, 6, 0, 0])
        #expect(t.widths(total: 79) == [10, 9, 16, 7, 12, 6, 7, 5])
        // Wide enough: nothing gives way.
        #expect(!t.widths(total: 120).contains(0))
    }

    @Test func tablesOfTheSampleSession() {
        let m = Sample.model()
        let fids = m.fidTable(conn: 1)
        // Live fids 0, 1, 4 (2 was clunked; 3's walk failed), then the clunked 2.
        #expect(fids.rows.map { $0.cells[0] } == ["0", "1", "4", "2"])
        #expect(fids.rows[3].role == .fidEnded)
        #expect(fids.rows[2].role == .fidOpen)
        #expect(fids.rows[0].cells[2] == "/")
        #expect(fids.rows[3].cells[2] == "/etc/passwd")
        // Fid 1, made by x2 and still live: its lifetime from x2 on, x2 selected.
        #expect(fids.rows[1].action == .filterSelecting(.and(.and(.term(.conn(1)), .term(.fid(1))),
                                                              .term(.exchanges(from: 2, through: nil))), row: 2))
        let stats = m.statisticsTable()
        #expect(stats.rows.first?.cells[0] == "Twalk")
        #expect(stats.rows.last?.cells[0] == "total")
        #expect(stats.rows.last?.cells[1] == String(Sample.count))
        let anomalies = m.anomalyTable(time: .utc)
        #expect(anomalies.rows.contains { $0.cells[2] == "unknown-fid" && $0.action == .showExchange(Sample.badClunk) })
        let conns = m.connectionTable(time: .utc)
        #expect(conns.rows.count == 1)
        #expect(conns.rows[0].cells[3] == "9P2000.L")
        #expect(conns.rows[0].cells[1] == "tcp!127.0.0.1!40001")
    }

    /// The fid table shows a fid of ten digits whole (an injected request's, 4294967294, was `42949…`), on
    /// a screen of 80 columns too.
    @Test func fidTableShowsLongFidsWhole() {
        var t = SampleTraffic()
        t.open()
        t.version()
        t.attach(fid: 0, tag: 0, aname: "/srv")
        t.t(65534, .twalk(Twalk(fid: 0, newfid: 4294967294, wnames: ["hello.txt"])))
        t.r(65534, .rwalk(Rwalk(wqids: [Qid(type: .file, version: 0, path: 7)])))
        var m = InspectorModel()
        m.handle(t.events)
        let fids = m.fidTable(conn: 1)
        #expect(fids.rows.map { $0.cells[0] } == ["0", "4294967294"])
        let widths = fids.widths(total: 80)
        #expect(widths[0] >= "4294967294".count, "fid column \(widths[0]) wide")
        #expect(widths.reduce(0, +) <= 80)
    }

    @Test func fidsSayWhoseTheyAre() throws {
        // One user (the sample's glenda, n_uname 1000): in the title, no column.
        let one = Sample.model().fidTable(conn: 1)
        #expect(one.title == "fids of c1 · user glenda(1000)")
        #expect(!one.columns.map(\.title).contains("user"))
        #expect(one.columns.map(\.title)[2] == "path")

        // A mount with access=user: root (uname empty, n_uname 0) and nobody (65534), then a walk from each.
        var t = SampleTraffic()
        t.open()
        t.version()
        t.attach(fid: 1, tag: 0, aname: "/srv")
        t.attach(fid: 2, tag: 0, aname: "/srv", nUname: 65534)
        t.t(0, .twalk(Twalk(fid: 2, newfid: 3, wnames: ["hello.txt"])))
        t.r(0, .rwalk(Rwalk(wqids: [Qid(type: .file, version: 0, path: 7)])))
        var m = InspectorModel()
        m.handle(t.events)
        let two = m.fidTable(conn: 1)
        #expect(two.title == "fids of c1")
        #expect(two.columns.map(\.title).prefix(4) == ["fid", "state", "user", "path"])
        #expect(two.rows.map { Array($0.cells.prefix(4)) } == [
            ["1", "attached", "0", "/srv:/"], ["2", "attached", "65534", "/srv:/"],
            ["3", "walked", "65534", "/srv:/hello.txt"],
        ])
        #expect(two.rows.allSatisfy { $0.cells.count == two.columns.count })

        // Each exchange knows whose its request's fid is: the filter and the detail say so.
        func rows(_ filter: String) throws -> [Int] {
            var v = m
            v.setFilter(try FilterParser.parse(filter))
            while !v.continueScan() {}
            return (0..<v.view.count).map { v.view[$0] }
        }
        #expect(try rows("user:65534") == [2, 3])      // nobody's Tattach and Twalk
        #expect(try rows("user:0") == [1])
        #expect(try rows("not user:0 and not user:65534") == [0])   // Tversion: no fid, no user
        #expect(try rows("user:nobody").isEmpty)       // the wire named no user nobody
        let walk = m.detail(ofRow: 3, time: .utc, now: nil)
        #expect(walk.lines.contains { $0.text.text == "fid path  /srv:/ → /srv:/hello.txt  user 65534" },
                "\(walk.lines.map(\.text.text))")
        let sample = Sample.model()
        let glenda = try Sample.rows(sample, "user:glenda"), thousand = try Sample.rows(sample, "user:1000")
        #expect(glenda == thousand && glenda.count > 10, "\(glenda) \(thousand)")
    }

    @Test func usersAreNumberedUpToTheirLimit() {
        var table = UserTable()
        #expect(table.id(nil) == UserTable.none && table[UserTable.none] == nil)
        let glenda = AttachUser(uname: "glenda", nUname: 1000)
        #expect(table.id(glenda) == 1 && table.id(glenda) == 1 && table[1] == glenda)
        #expect(table.id(AttachUser(uname: "", nUname: 0)) == 2 && table.id(glenda) == 1)
        for n in 3...254 { #expect(table.id(AttachUser(nUname: UInt32(n))) == UInt8(n)) }
        // Past 254 users every new one is `other`, which names no one; the known ones keep their numbers.
        #expect(table.id(AttachUser(nUname: 9999)) == UserTable.other && table[UserTable.other] == nil)
        #expect(table.id(AttachUser(nUname: 9998)) == UserTable.other && table.id(glenda) == 1)
        #expect(table.users.count == 254 && table[254] == AttachUser(nUname: 254))
    }

    @Test func byteAndQidText() {
        #expect(Tables.bytes(512) == "512")
        #expect(Tables.bytes(2048) == "2.00K")
        #expect(Tables.bytes(12_700) == "12.4K")
        #expect(Tables.bytes(5 * 1024 * 1024) == "5.00M")
        #expect(Tables.qid(Qid(type: .dir, version: 3, path: 0x10)) == "10 v3 d")
        #expect(Tables.qid(Qid(type: .file, version: 0, path: 255)) == "ff v0")
    }
}
