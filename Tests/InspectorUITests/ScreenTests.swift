import Foundation
import InspectorCore
import NinePSession
@testable import InspectorUI
import NinePTestSupport
import NinePWire
import Testing
import TUICore

/// Behaviour of the screen state machine: keys → commands → model and effects.
@Suite struct ScreenTests {
    @Test func everyKeyInTheMapParsesToItsOwnName() {
        for binding in CommandRegistry.standard.bindings {
            let chord = KeyChord(binding.key)
            #expect(chord != nil, "\(binding.key) does not parse")
            #expect(chord?.description == binding.key, "\(binding.key) prints as \(chord?.description ?? "?")")
        }
    }

    @Test func everyBoundKeyDoesSomethingKnown() {
        // No binding may fall through to "not available".
        for binding in CommandRegistry.standard.bindings {
            var s = Sample.screen(live: true)
            _ = s.press(binding.key)
            if let message = s.message {
                #expect(!message.text.contains("is not available here"), "\(binding.key)")
                #expect(!message.text.contains("is not bound"), "\(binding.key)")
            }
        }
    }

    /// The key hints offer flushing only where it can work: live, not in a capture.
    @Test func theFlushHintIsShownOnlyLive() {
        var capture = Sample.screen(live: false)
        var live = Sample.screen(live: true)
        let captureHints = capture.snapshot(width: 132, height: 30).split(separator: "\n").first { $0.contains("? help") } ?? ""
        let liveHints = live.snapshot(width: 132, height: 30).split(separator: "\n").first { $0.contains("? help") } ?? ""
        #expect(captureHints.contains("/ filter") && !captureHints.contains("f flush"), "\(captureHints)")
        #expect(liveHints.contains("f flush"), "\(liveHints)")
    }

    @Test func unboundKeySaysSo() {
        var s = Sample.screen()
        s.press("z")
        #expect(s.message?.isError == true)
        #expect(s.message?.text.contains("z is not bound") == true)
    }

    /// Live, the list and the detail count a pending request's age to the moment the loop sets (`now`); the
    /// screen says whether what it shows has such an age (the loop redraws it each second then).
    @Test func livePendingAgeFollowsNow() throws {
        var s = Sample.screen(live: true)
        let start = s.model.store[Sample.pendingRead].start
        s.now = start + 3_210_000_000
        let list = s.snapshot(width: 132, height: 30)
        let row = try #require(list.split(separator: "\n").first { $0.hasPrefix("*") && $0.contains("Tread") }, "\(list)")
        #expect(row.hasSuffix(">3.21s"), "\(row)")
        var shows = s.showsPendingAge
        #expect(shows)
        s.now = start + 65_000_000_000
        #expect(s.snapshot(width: 132, height: 30).contains(">1m05s"))
        // A list showing no pending request has no age to refresh.
        s.press("/")
        s.type("Twalk")
        s.press("enter")
        shows = s.showsPendingAge
        #expect(!shows)
        s.press("c")
        s.press("g")
        for _ in 0..<Sample.pendingRead { s.press("j") }
        s.press("enter")
        #expect(s.currentView == "exchange x\(Sample.pendingRead)")
        shows = s.showsPendingAge
        #expect(shows)
        #expect(s.snapshot(width: 132, height: 30).contains("pending  waiting 1m05s"))
        // In a capture (not live) the age counts to the capture's last time.
        var v = Sample.screen()
        let end = try #require(v.model.store.lastTime)
        #expect(v.snapshot(width: 132, height: 30).contains(">" + DurationFormat.age(end - start)))
    }

    /// A request pending for over a minute shows its age as `>1m23s`; answered after as long, its latency
    /// reads the same way in the list and the detail (not `83.9s`).
    @Test func aLatencyOverAMinuteReadsAsAnAgeDoes() throws {
        var t = SampleTraffic()
        t.open()
        t.version()
        t.attach(fid: 0, uname: "glenda", nUname: 1000)
        t.t(2, .tstatfs(Tstatfs(fid: 0)))
        var model = InspectorModel()
        model.handle(t.events)
        var s = InspectorScreen(model: model, theme: ThemeLoader.defaultTheme, timeFormat: .utc, title: "slow",
                                isLive: true)
        s.now = s.model.store[2].start + 83_900_000_000
        #expect(s.snapshot(width: 132, height: 12).contains(">1m23s"))
        let reply = Message.rstatfs(Rstatfs(type: 0x01021997, bsize: 4096, blocks: 1000, bfree: 500, bavail: 500,
                                            files: 100, ffree: 50, fsid: 7, namelen: 255))
        var u = t
        u.r(2, reply, after: 83_900_000_000)
        s.model.handle(Array(u.events.dropFirst(t.events.count)))
        let list = s.snapshot(width: 132, height: 12)
        let row = try #require(list.split(separator: "\n").first { $0.contains("Tstatfs") }, "\(list)")
        #expect(row.hasSuffix(" 1m23s"), "\(row)")
        s.press("G", "enter")
        let detail = s.snapshot(width: 132, height: 20)
        #expect(detail.contains("latency 1m23s") && !detail.contains("83.9s"), "\(detail)")
    }

    @Test func aLongUserNameDoesNotCrowdTheTitleBar() {
        var t = SampleTraffic()
        t.open()
        t.version()
        let uname = P9String(stringLiteral: String(repeating: "u", count: 300))
        t.t(0, .tattach(Tattach(fid: 0, afid: .nofid, uname: uname, aname: "", nUname: 7)))
        t.r(0, .rattach(Rattach(qid: Qid(type: .dir, version: 0, path: 1))))
        var model = InspectorModel()
        model.handle(t.events)
        var s = InspectorScreen(model: model, theme: ThemeLoader.defaultTheme, timeFormat: .utc, title: "x.pcapng")
        s.press("F")
        #expect(s.currentView.hasPrefix("fids of c1 · user uuu"))
        #expect(s.currentView.hasSuffix("…") && s.currentView.displayWidth == 48, "\(s.currentView)")
        let top = s.snapshot(width: 100, height: 10).split(separator: "\n").first ?? ""
        #expect(top.contains("ninescope · x.pcapng") && top.contains("fids of c1 · user uuu"), "\(top)")
    }

    @Test func viewStackOpensAndCloses() {
        var s = Sample.screen()
        #expect(s.currentView == "exchanges")
        s.press("enter")
        #expect(s.currentView == "exchange x\(Sample.count - 1)")
        s.press("F")
        #expect(s.currentView == "fids of c1 · user glenda(1000)")
        s.press("esc")
        #expect(s.currentView == "exchange x\(Sample.count - 1)")
        s.press("q")
        #expect(s.currentView == "exchanges")
        let r1 = s.press("q")
        #expect(r1 == [.quit])
    }

    /// Bytes that could not be framed belong to no exchange: opening their anomaly shows them, what they
    /// are and every byte (rows of hex and text, the hex pane following the cursor); keys that act on an
    /// exchange do nothing there, and esc goes back.
    @Test func openingAGarbageAnomalyShowsItsBytes() {
        var model = InspectorModel()
        model.handle(SampleTraffic.session())
        let junk = Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        model.handle([SessionEvent.garbage(conn: ConnectionID(1), direction: .toServer,
                                           at: (model.store.lastTime ?? 0) + 1_000, bytes: junk,
                                           reason: "frame size 542393671 exceeds the limit 16777216")])
        let index = model.tracker.messageCount - 1
        var s = InspectorScreen(model: model, theme: ThemeLoader.defaultTheme, timeFormat: .utc, title: "t", isLive: true)
        s.press("A", "G")
        let table = s.model.table(.anomalies, time: .utc)
        #expect(table.rows.last?.action == .showMessage(index))
        #expect(s.snapshot(width: 100, height: 20).contains("\(table.rows.count)/\(table.rows.count) · enter: show its bytes"))
        s.press("g")
        #expect(s.snapshot(width: 100, height: 20).contains("1/\(table.rows.count) · enter: show its exchanges"))
        s.press("G")
        s.press("enter")
        #expect(s.currentView == "message #\(index)")
        let screen = s.snapshot(width: 100, height: 20)
        #expect(screen.contains("message #\(index)  c1  to the server  not a frame"), "\(screen)")
        #expect(screen.contains("0000         47 45 54 20 2f 20 48 54 54 50 2f 31 2e 31 0d 0a  GET / HTTP/1.1.."), "\(screen)")
        #expect(screen.contains("0010         48 6f 73 74 3a 20 78 0d 0a 0d 0a"), "\(screen)")
        #expect(screen.contains("#\(index) · bytes 0..<16"), "\(screen)")
        s.press("j")
        #expect(s.snapshot(width: 100, height: 20).contains("#\(index) · bytes 16..<27"))
        let flushed = s.press("f")
        #expect(flushed.isEmpty, "nothing to flush in a message of no exchange")
        s.press("J")
        #expect(s.currentView == "message #\(index)", "the next exchange is not the next of a message of none")
        s.press("esc")
        #expect(s.currentView == "anomalies")
    }

    @Test func selectingAFidFiltersTheList() {
        var s = Sample.screen()
        s.press("F", "j", "enter")   // second live fid: 1, made by x2
        #expect(s.currentView == "exchanges")
        #expect(s.model.view.filter == .and(.and(.term(.conn(1)), .term(.fid(1))), .term(.exchanges(from: 2, through: nil))))
        #expect(s.model.selectedRow == 2)
        #expect(s.model.view.count > 0)
        for p in 0..<s.model.view.count {
            let row = s.model.store[s.model.view[p]]
            #expect(row.fid == 1 || row.otherFid == 1)
        }
        s.press("esc")
        #expect(s.model.view.filter == .all)
    }

    /// A fid number used twice: enter on each of its rows in the fids view shows that fid's own lifetime (the
    /// exchanges from the one that made it to the one that ended it), the exchange that made it selected —
    /// not every use of the number.
    @Test func aFidRowShowsThatFidsLifetime() throws {
        var t = SampleTraffic()
        t.open()
        t.version()                                             // x0
        t.attach(fid: 0, uname: "glenda", nUname: 1000)   // x1
        t.t(1, .twalk(Twalk(fid: 0, newfid: 2, wnames: ["etc"])))                          // x2: fid 2, first
        t.r(1, .rwalk(Rwalk(wqids: [Qid(type: .dir, version: 0, path: 2)])))
        t.t(1, .tgetattr(Tgetattr(fid: 2, requestMask: .basic)))                           // x3
        t.r(1, .rgetattr(Rgetattr(valid: .basic, qid: Qid(type: .dir, version: 0, path: 2))))
        t.t(1, .tclunk(Tclunk(fid: 2)))                                                    // x4
        t.r(1, .rclunk)
        t.t(1, .twalk(Twalk(fid: 0, newfid: 2, wnames: ["tmp"])))                          // x5: fid 2, again
        t.r(1, .rwalk(Rwalk(wqids: [Qid(type: .dir, version: 0, path: 3)])))
        t.t(1, .tgetattr(Tgetattr(fid: 2, requestMask: .basic)))                           // x6
        t.r(1, .rgetattr(Rgetattr(valid: .basic, qid: Qid(type: .dir, version: 0, path: 3))))
        var model = InspectorModel()
        model.handle(t.events)
        var s = InspectorScreen(model: model, theme: ThemeLoader.defaultTheme, timeFormat: .utc, title: "fids",
                                isLive: false)
        // Live fids first (0, then 2 made by x5), then the ended one (2 made by x2).
        s.press("F", "j", "enter")
        #expect(s.model.view.filter.description == "conn:1 and fid:2 and x:5-")
        #expect((0..<s.model.view.count).map { s.model.view[$0] } == [5, 6])
        #expect(s.model.selectedRow == 5)
        let list = s.snapshot(width: 100, height: 12)
        #expect(list.contains("Twalk") && list.contains("tmp") && !list.contains("etc"), "\(list)")
        s.press("F", "j", "j", "enter")
        #expect(s.model.view.filter.description == "conn:1 and fid:2 and x:2-4")
        #expect((0..<s.model.view.count).map { s.model.view[$0] } == [2, 3, 4])
        #expect(s.model.selectedRow == 2)
    }

    /// The anomaly view makes only the rows it shows (a live mount can report them by the ten thousand, and
    /// formatting them all made each key take 62–75 ms at 60,000): the rows it draws and opens are the same
    /// as the whole table's.
    @Test func theAnomalyViewMakesOnlyItsPage() throws {
        var model = InspectorModel()
        var traffic = SampleTraffic()
        traffic.open()
        traffic.version()
        traffic.attach(fid: 0)
        for i in 0..<3000 {
            let tag = UInt16(2 + i % 100)
            traffic.t(tag, .twalk(Twalk(fid: 0, newfid: 1, wnames: (0..<17).map { P9String("n\($0)") })))
            traffic.r(tag, .rlerror(Rlerror(ecode: .EINVAL)))
        }
        model.handle(traffic.events)
        let whole = model.anomalyTable(time: .utc)
        #expect(whole.rows.count == 3000)
        let page = model.anomalyTable(time: .utc, window: 1500..<1520)
        #expect(page.rows.count == 3000)
        #expect(page.rows[1500..<1520] == whole.rows[1500..<1520])
        #expect(page.rows[0].cells.isEmpty && page.rows[2999].cells.isEmpty)
        // On screen: the last page, then a row far down opened (its exchange selected, detail shown).
        var s = InspectorScreen(model: model, theme: ThemeLoader.defaultTheme, timeFormat: .utc, title: "t")
        s.press("A", "G")
        let shown = s.snapshot().split(separator: "\n").filter { $0.contains("walk-too-long") }
        #expect(shown.count == 20 && s.statusText().hasPrefix("3000/3,000"), "\(s.statusText())")
        s.press("k", "enter")
        let expected = try #require(whole.rows[2998].action)
        guard case .showExchange(let row) = expected else { Issue.record("\(expected)"); return }
        #expect(s.currentView == "exchange x\(row)")
    }

    /// `s`/`:w FILE` say so instead of writing over a file that exists; `:w! FILE` writes over it.
    @Test func saveSaysAFileExists() {
        var s = Sample.screen()
        s.fileExists = { $0 == "/tmp/kept.pcapng" }
        s.press("s", "ctrl-u")
        s.type("/tmp/kept.pcapng")
        #expect(s.press("enter").isEmpty)
        #expect(s.message?.text == "/tmp/kept.pcapng exists: :w! /tmp/kept.pcapng writes over it")
        #expect(s.message?.isError == true)
        s.press(":")
        s.type("w! /tmp/kept.pcapng")
        #expect(s.press("enter").contains(.save(path: "/tmp/kept.pcapng")))
        s.press(":")
        s.type("w /tmp/new.pcapng")
        #expect(s.press("enter").contains(.save(path: "/tmp/new.pcapng")))
        s.press(":")
        s.type("w!")
        s.press("enter")
        #expect(s.message?.text == ":w! needs a file to write over: :w! FILE")
    }

    @Test func anomalyOpensItsExchange() {
        var s = Sample.screen()
        s.press("A", "enter")
        #expect(s.currentView == "exchange x\(Sample.badClunk)")
        #expect(s.model.selectedRow == Sample.badClunk)
    }

    /// `:goto #N` goes to the exchange holding message N (the numbers `decode` and the headless proxy print),
    /// `:goto xN` to exchange N; a filter hiding it is cleared, an open detail view follows, and what cannot
    /// be gone to is said.
    @Test func gotoAMessageOrAnExchange() throws {
        var s = Sample.screen()
        func go(_ target: String) {
            s.press(":")
            s.type("goto " + target)
            s.press("enter")
        }
        let read = try #require(s.model.tracker.exchange(ExchangeID(Sample.readPasswd)))
        go("#\(read.requestIndex!)")
        #expect(s.model.selectedRow == Sample.readPasswd)
        #expect(s.message?.text == "x\(Sample.readPasswd) holds #\(read.requestIndex!)")
        go("\(read.replyIndex!)")   // a reply's number: its exchange too
        #expect(s.model.selectedRow == Sample.readPasswd && s.message?.isError == false)
        go("x\(Sample.walkMissing)")
        #expect(s.model.selectedRow == Sample.walkMissing && s.message?.text == "x\(Sample.walkMissing)")
        // Hidden by the filter: cleared, and said.
        go("x0")
        s.press("/"); s.type("Rlerror"); s.press("enter")
        #expect(s.message?.text == "filter: Rlerror" && s.message?.isError == false)
        go("x\(Sample.walkPasswd)")
        #expect(s.model.view.filter == .all && s.model.selectedRow == Sample.walkPasswd)
        #expect(s.message?.text == "x\(Sample.walkPasswd) (filter cleared: it hid x\(Sample.walkPasswd))")
        // From a detail view: the detail of the exchange gone to.
        s.press("enter")
        #expect(s.currentView == "exchange x\(Sample.walkPasswd)")
        s.press("ctrl-g")
        #expect(s.prompt?.string == "goto ")
        s.type("x\(Sample.readdir)"); s.press("enter")
        #expect(s.currentView == "exchange x\(Sample.readdir)")
        // What cannot be gone to.
        go("x999")
        #expect(s.message?.text == "no exchange x999 (the last is x\(Sample.count - 1))" && s.message?.isError == true)
        go("#99999")
        #expect(s.message?.text == "no message #99999 (the last is #\(s.model.tracker.messageCount - 1))")
        go("abc")
        #expect(s.message?.text == "'abc' is neither #N (a message, as decode numbers them) nor xN (an exchange)")
        #expect(s.model.selectedRow == Sample.readdir, "nothing moved")
    }

    /// An anomaly's sentence wider than the screen is wrapped in the detail view, so that it can be read
    /// whole at 60 columns (before, it was cut at the edge).
    @Test func aLongAnomalyIsWrappedInTheDetail() throws {
        var s = Sample.screen()
        let anomaly = try #require(s.model.tracker.anomalies.first { $0.exchange?.rawValue == Sample.badClunk })
        let sentence = "anomaly \(anomaly.kind): \(anomaly.text)"
        #expect(sentence.count > 58, "the sample's anomaly should not fit: \(sentence)")
        _ = s.snapshot(width: 60, height: 24)
        go(&s, "x\(Sample.badClunk)")
        s.press("enter")
        let screen = s.snapshot(width: 60, height: 24).split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(screen.firstIndex { $0.hasPrefix(" anomaly ") }, "\(screen)")
        let end = try #require(screen[start...].firstIndex { $0.hasPrefix(" → ") })
        let shown = screen[start..<end].map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        #expect(shown == sentence, "\(screen[start..<end])")
        #expect(screen[(start + 1)..<end].allSatisfy { $0.hasPrefix("   ") }, "continuations indented")
    }

    private func go(_ s: inout InspectorScreen, _ target: String) {
        s.press(":")
        s.type("goto " + target)
        s.press("enter")
    }

    @Test func flushAPendingExchange() {
        var s = Sample.screen(live: true)
        s.press("g")
        for _ in 0..<Sample.pendingRead { s.press("j") }
        #expect(s.model.selectedRow == Sample.pendingRead)
        let effects = s.press("f")
        #expect(effects == [.flush(conn: 1, tag: 7, row: Sample.pendingRead)])
        #expect(s.model.store[Sample.pendingRead].flags.contains(.flushRequested))
        // Not pending: refused.
        s.press("k")
        let r2 = s.press("f")
        #expect(r2.isEmpty)
        #expect(s.message?.isError == true)
    }

    /// A flush the proxy could not send (the tag is no longer pending, the connection closed) leaves the
    /// row as it was: pending, not "(flush sent)"; one that went out keeps the mark.
    @Test func aFailedFlushTakesItsMarkOffTheRow() throws {
        var s = Sample.screen(live: true)
        s.press("g")
        for _ in 0..<Sample.pendingRead { s.press("j") }
        let effects = s.press("f")
        let effect = try #require(effects.first)
        #expect(s.snapshot(width: 132, height: 30).contains("(flush sent)"))
        s.finished(effect, text: "flush of tag 7 on c1 failed: the client has no request pending with tag 7",
                   isError: true)
        #expect(!s.model.store[Sample.pendingRead].flags.contains(.flushRequested))
        let screen = s.snapshot(width: 132, height: 30)
        #expect(!screen.contains("(flush sent)"), "\(screen)")
        #expect(screen.contains("flush of tag 7 on c1 failed"))
        // A flush that went out keeps it.
        let again = s.press("f")
        s.finished(try #require(again.first), text: "Tflush sent", isError: false)
        #expect(s.model.store[Sample.pendingRead].flags.contains(.flushRequested))
    }

    @Test func flushAndInjectNeedALiveSession() {
        var s = Sample.screen(live: false)
        s.press("g")
        for _ in 0..<Sample.pendingRead { s.press("j") }
        let r3 = s.press("f")
        #expect(r3.isEmpty)
        #expect(s.message?.text.contains("live session") == true)
        s.press(":")
        s.type("walk 0 100 etc passwd")
        let r4 = s.press("enter")
        #expect(r4.isEmpty)
        #expect(s.message?.isError == true)
    }

    /// A first word at `:` that is no command and no request is an unknown command, in a capture as live
    /// (not "injection needs a live session", nor the request parser's "expected a command"), with the nearest
    /// command when one is close; a request still goes to the injector.
    @Test func aMistypedCommandIsAnUnknownCommand() throws {
        for live in [false, true] {
            var s = Sample.screen(live: live)
            s.requestWords = ["walk", "read", "getattr", "flush", "clunk"]
            func run(_ line: String) -> [InspectorEffect] {
                s.press(":")
                s.type(line)
                return s.press("enter")
            }
            #expect(run("nosuchcmd").isEmpty)
            #expect(s.message?.isError == true)
            #expect(s.message?.text.hasPrefix("unknown command 'nosuchcmd'") == true, "\(s.message?.text ?? "")")
            #expect(run("Tbogus fid=1").isEmpty)
            #expect(s.message?.text.hasPrefix("unknown command 'Tbogus'") == true, "\(s.message?.text ?? "")")
            #expect(run("fitler").isEmpty)
            #expect(s.message?.text == "unknown command 'fitler': did you mean filter?")
            #expect(s.snapshot(width: 100, height: 20).contains("unknown command 'fitler': did you mean filter?"))
            let walk = run("walk 0 100 etc")
            let tgetattr = run("Tgetattr fid=0")
            if live {
                #expect(walk.contains(.inject(conn: 1, request: "walk 0 100 etc")))
                #expect(tgetattr.contains(.inject(conn: 1, request: "Tgetattr fid=0")))
            } else {
                #expect(s.message?.text.contains("live session") == true)
            }
        }
    }

    @Test func injectFromTheCommandPrompt() {
        var s = Sample.screen(live: true)
        s.press(":")
        s.type("walk 0 100 etc passwd")
        let effects = s.press("enter")
        #expect(effects.contains(.inject(conn: 1, request: "walk 0 100 etc passwd")))
        s.press("i")
        #expect(s.promptKind == .inject)
        s.type("Tgetattr fid=100 mask=basic")
        let r5 = s.press("enter")
        #expect(r5.contains(.inject(conn: 1, request: "Tgetattr fid=100 mask=basic")))
        // History: up recalls the last request.
        s.press(":", "up")
        #expect(s.prompt?.string == "Tgetattr fid=100 mask=basic")
    }

    /// `:fault` asks the live proxy for its rules (`:fault`), sets them or turns them off; a capture has no
    /// proxy to ask, and says so.
    @Test func faultCommandsGoToTheLiveProxy() {
        var live = Sample.screen(live: true)
        live.press(":")
        live.type("fault delay=Tread:20ms")
        #expect(live.press("enter").contains(.faults("delay=Tread:20ms")))
        live.press(":")
        live.type("faults")
        #expect(live.press("enter").contains(.faults("")))
        live.press(":")
        live.type("fault off")
        #expect(live.press("enter").contains(.faults("off")))
        var offline = Sample.screen()
        offline.press(":")
        offline.type("fault off")
        #expect(!offline.press("enter").contains { if case .faults = $0 { true } else { false } })
        #expect(offline.message?.text == "fault rules need a live proxy (this is a capture)")
        #expect(offline.message?.isError == true)
    }

    @Test func commandPromptRunsCommands() {
        var s = Sample.screen()
        s.press(":")
        s.type("stats")
        s.press("enter")
        #expect(s.currentView == "statistics")
        s.press(":")
        s.type("filter Rlerror")
        s.press("enter")
        #expect(s.currentView == "exchanges")
        #expect(s.model.view.count == 2)
        s.press(":")
        s.type("save /tmp/x.pcapng")
        let r6 = s.press("enter")
        #expect(r6.contains(.save(path: "/tmp/x.pcapng")))
        s.press(":")
        s.type("theme light")
        let r7 = s.press("enter")
        #expect(r7.contains(.loadTheme("light")))
    }

    @Test func promptEditingAndCompletion() {
        var s = Sample.screen()
        s.press(":")
        s.type("sta")
        s.press("tab")
        #expect(s.prompt?.string == "stats")
        s.press("ctrl-u")
        #expect(s.prompt?.string == "")
        s.type("view.s")
        s.press("tab")
        #expect(s.prompt?.string == "view.stats")
        s.press("esc")
        #expect(s.promptKind == nil)
        s.press("/")
        s.type("Twalk ferror")
        s.press("left", "left", "left", "left", "left", "left", "backspace")
        #expect(s.prompt?.string == "Twalkferror")
        s.press("home", "delete", "end", "backspace")
        #expect(s.prompt?.string == "walkferro")
    }

    @Test func filterPromptShowsParseErrors() {
        var s = Sample.screen()
        s.press("/")
        s.type("fid:x")
        #expect(s.prompt?.error?.column == 5)
        s.press("backspace")
        s.type("3")
        #expect(s.prompt?.error == nil)
        // Submitting a bad filter keeps the old one and reports the error.
        s.press("ctrl-u")
        s.type("(error")
        s.press("enter")
        #expect(s.model.view.filter == .all)
        #expect(s.message?.isError == true)
    }

    @Test func searchJumpsBetweenMatches() {
        var s = Sample.screen()
        s.press("g", "\\")
        s.type("error")
        s.press("enter")
        #expect(s.model.selectedRow == Sample.walkMissing)
        s.press("n")
        #expect(s.model.selectedRow == Sample.badClunk)
        s.press("N")
        #expect(s.model.selectedRow == Sample.walkMissing)
    }

    @Test func detailCursorMovesTheHighlight() {
        var s = Sample.screen()
        s.press("g")
        for _ in 0..<Sample.walkPasswd { s.press("j") }
        s.press("enter")
        guard case .detail(let d) = s.stack.last else {
            Issue.record("no detail view")
            return
        }
        #expect(d.selectedLine?.text.text.hasPrefix("  size") == true)
        #expect(d.selectedLine?.range == 0..<4)
        s.press("j")
        guard case .detail(let d2) = s.stack.last else { return }
        #expect(d2.selectedLine?.range == 4..<5)
        s.press("J")
        guard case .detail(let d3) = s.stack.last else { return }
        #expect(d3.row == Sample.walkPasswd + 1)
    }

    @Test func mouseSelectsAndOpens() {
        var s = Sample.screen()
        s.press("g")
        var grid = Grid(width: 80, height: 24)
        _ = s.render(into: &grid)
        _ = s.handle(.mouse(MouseEvent(.click(.left), at: Point(x: 10, y: 4))))
        #expect(s.model.selectedRow == 2)
        _ = s.handle(.mouse(MouseEvent(.doubleClick(.left), at: Point(x: 10, y: 5))))
        #expect(s.currentView == "exchange x3")
    }

    /// A filter word that reads like a message type but is none is applied as text, and the message line
    /// says so (it silently matched nothing).
    @Test func aFilterWordThatReadsLikeATypeIsSaid() {
        var s = Sample.screen()
        s.press("/"); s.type("Tfoo"); s.press("enter")
        #expect(s.model.view.filter == .term(.text("Tfoo")))
        #expect(s.message?.isError == true && s.message?.text.contains("Tfoo is no message type") == true,
                "\(s.message?.text ?? "")")
    }
}
