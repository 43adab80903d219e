import Testing
import NinePWire
@testable import NinePREPL

@Test func versionIsSentWithNotagAndSetsTheDialect() async throws {
    let h = Harness(server: TinyServer(version: "9P2000.u"))
    try await h.engine.connect()
    #expect(await h.engine.execute("version") == .ok)
    let sent = Fcall(tag: .notag, .tversion(Tversion(msize: 8192, version: "9P2000.L")))
    #expect(h.transport.sentFcalls == [sent])
    #expect(h.lines.contains("-> " + sent.canonicalLine))
    let reply = Fcall(tag: .notag, .rversion(Rversion(msize: 8192, version: "9P2000.u")))
    #expect(h.lines.contains { $0.hasPrefix("<- " + reply.canonicalLine) })
    #expect(await h.engine.dialect == .u)
    // Later requests are built for the negotiated dialect: Tattach carries n_uname in .u.
    _ = await h.run("attach 0 glenda")
    #expect(h.transport.sentFcalls.last?.message == .tattach(Tattach(fid: 0, afid: .nofid, uname: "glenda", aname: "", nUname: 0xFFFF_FFFF)))
}

@Test func tagsAreTheLowestFreeAndLatencyUsesTheInjectedClock() async throws {
    let h = Harness(replyDelay: 2_500_000)
    try await h.start()
    h.clearOutput()
    _ = await h.run("walk 0 1 dir")
    let walk = Fcall(tag: 0, .twalk(Twalk(fid: 0, newfid: 1, wnames: ["dir"])))
    #expect(h.transport.sentFcalls.last == walk)
    #expect(h.lines.contains { $0.hasPrefix("<- Rwalk tag 0") && $0.hasSuffix("(2.500 ms)") })
}

/// `help` wraps to the width of the terminal the REPL writes to, and not at all when it writes elsewhere.
@Test func helpFollowsTheTerminalWidth() async throws {
    let narrow = Harness(terminalColumns: 60)
    #expect(await narrow.engine.execute("help") == .ok)
    #expect(narrow.lines.allSatisfy { $0.count < 60 }, "\(narrow.lines.filter { $0.count >= 60 })")
    #expect(narrow.lines.contains("  hex BYTES…"))
    let piped = Harness()
    #expect(await piped.engine.execute("help") == .ok)
    #expect(piped.lines.contains { $0.hasPrefix("  hex BYTES…") && $0.count > 60 })
    #expect(await narrow.engine.execute("help Tlopen") == .ok)
    #expect(narrow.lines.allSatisfy { $0.count < 60 })
}

@Test func explicitTagIsUsed() async throws {
    let h = Harness()
    try await h.start()
    _ = await h.run("clunk 0 tag=42")
    #expect(h.transport.sentFcalls.last == Fcall(tag: 42, .tclunk(Tclunk(fid: 0))))
}

@Test func expectPassesAndFails() async throws {
    let h = Harness()
    try await h.start()
    _ = await h.run("walk 0 1 dir a")
    #expect(await h.engine.execute("expect Rwalk nwqid=2") == .ok)
    #expect(await h.engine.execute("expect Rwalk wqid~=dir:0:3") == .ok)
    let bad = await h.engine.execute("expect Rwalk nwqid=3")
    guard case .failed(let why) = bad else { Issue.record("expected a failure, got \(bad)"); return }
    #expect(why.contains("nwqid"))
    #expect(await h.engine.execute("expect Rlerror") != .ok)
    _ = await h.run("walk 0 2 nosuch")
    #expect(await h.engine.execute("expect Rlerror ENOENT") == .ok)
    #expect(await h.engine.execute("expect error") == .ok)
    #expect(await h.engine.execute("expect Rlerror EPERM") != .ok)
}

@Test func errorRepliesAreReportedAsSuch() async throws {
    let h = Harness()
    try await h.start()
    let outcome = await h.engine.execute("walk 0 1 nosuch")
    #expect(outcome == .errorReply(Fcall(tag: 0, .rlerror(Rlerror(ecode: .ENOENT))).canonicalLine))
}

@Test func backgroundThenFlush() async throws {
    let server = TinyServer(holdReadsOnFid: 9)
    let h = Harness(server: server)
    try await h.start()
    _ = await h.run("walk 0 9 hello.txt", "lopen 9")
    #expect(await h.engine.execute("read 9 0 10 &") == .ok)
    #expect(await h.engine.execute("read 9 0 10 &") == .ok)
    let reads = h.transport.sentFcalls.suffix(2).map(\.tag)
    #expect(reads == [0, 1])
    h.clearOutput()
    _ = await h.run("pending")
    #expect(h.lines.contains { $0.contains("tag 0: Tread tag 0 fid 9") })
    #expect(h.lines.contains { $0.contains("tag 1: Tread tag 1 fid 9") })
    #expect(await h.engine.execute("flush 0") == .ok)
    #expect(h.transport.sentFcalls.last == Fcall(tag: 2, .tflush(Tflush(oldtag: 0))))
    #expect(await h.engine.execute("expect Rflush") == .ok)
    h.clearOutput()
    _ = await h.run("pending")
    #expect(!h.lines.contains { $0.contains("tag 0:") })
    #expect(h.lines.contains { $0.contains("tag 1:") })
}

@Test func waitCollectsABackgroundReply() async throws {
    let h = Harness()
    try await h.start()
    _ = await h.run("walk 0 1 hello.txt", "lopen 1")
    #expect(await h.engine.execute("read 1 0 100 &") == .ok)
    #expect(await h.engine.execute("wait") == .ok)
    #expect(await h.engine.execute("expect Rread data='hello\\n'") == .ok)
    #expect(await h.engine.execute("wait 77") != .ok)
}

@Test func fidsShowsPathsAndState() async throws {
    let h = Harness()
    try await h.start()
    _ = await h.run("walk 0 1 dir", "walk 1 2 a", "lopen 2")
    h.clearOutput()
    _ = await h.run("fids")
    let rows = h.lines
    #expect(rows.first?.contains("fid") == true)
    #expect(rows.contains { $0.contains("2") && $0.contains("/dir/a") && $0.contains("open") })
    #expect(rows.contains { $0.contains("1") && $0.contains("/dir") && $0.contains("walked") })
    _ = await h.run("clunk 2")
    h.clearOutput()
    _ = await h.run("fids")
    #expect(!h.lines.contains { $0.contains("/dir/a") })
}

@Test func fidsSayWhoseWhenSeveralUsersAttached() async throws {
    let h = Harness()
    try await h.start()
    _ = await h.run("walk 0 1 dir")
    h.clearOutput()
    _ = await h.run("fids")
    #expect(h.lines.first.map { !$0.contains("user") } == true, "\(h.lines)")   // one user: no column
    _ = await h.run("attach 5 bob '' 1001", "walk 5 6 dir")
    h.clearOutput()
    _ = await h.run("fids")
    let header = try #require(h.lines.first)
    #expect(header.split(separator: " ").prefix(3) == ["fid", "state", "user"], "\(h.lines)")
    let cells = h.lines.dropFirst().map { $0.split(separator: " ", omittingEmptySubsequences: true).prefix(4).map(String.init) }
    #expect(cells.contains(["6", "walked", "bob(1001)", "/dir"]), "\(h.lines)")
    #expect(cells.contains { $0.first == "1" && $0[2] != "bob(1001)" }, "\(h.lines)")
}

@Test func dataLimitControlsThePayloadLine() async throws {
    let h = Harness(dataLimit: 256)
    try await h.start()
    _ = await h.run("walk 0 1 big", "lopen 1")
    h.clearOutput()
    _ = await h.run("read 1 0 1000")
    #expect(h.lines.contains("   data '" + String(repeating: "A", count: 100) + "'"))
    _ = await h.run("set datalimit 10")
    h.clearOutput()
    _ = await h.run("read 1 0 1000")
    #expect(h.lines.contains("   data 'AAAAAAAAAA' … (+90 bytes)"))
    _ = await h.run("set datalimit 0")
    h.clearOutput()
    _ = await h.run("read 1 0 1000")
    #expect(!h.lines.contains { $0.hasPrefix("   data") })
}

@Test func hexSendsRawBytesAndWaitsForTheTag() async throws {
    let h = Harness()
    try await h.start()
    let frame = Fcall(tag: 5, .tclunk(Tclunk(fid: 0))).encode(dialect: .l)
    let hex = frame.map { String(format2: $0) }.joined()
    #expect(await h.engine.execute("hex " + hex) == .ok)
    #expect(h.transport.sent.value.last == frame)
    #expect(await h.engine.lastReply == Fcall(tag: 5, .rclunk))
    // A truncated Tclunk: sent as is, shown as malformed; the fake answers EPROTO.
    h.clearOutput()
    let outcome = await h.engine.execute("hex 07000000 78 0600")
    #expect(h.transport.sent.value.last == [7, 0, 0, 0, 0x78, 6, 0])
    #expect(h.output.value.contains { $0.kind == .anomaly && $0.text.hasPrefix("-> malformed Tclunk tag 6") })
    #expect(outcome == .errorReply(Fcall(tag: 6, .rlerror(Rlerror(ecode: .EPROTO))).canonicalLine))
}

/// Several whole frames in one `hex`: one write holding them all (the server must take them apart), each
/// shown and tracked as a frame of its own, each T-message's reply waited for; bytes that do not chain
/// into whole frames are still one blob.
@Test func hexOfSeveralFramesSendsThemInOneWriteAndWaitsForEach() async throws {
    let h = Harness()
    try await h.start()
    let one = Fcall(tag: 5, .tgetattr(Tgetattr(fid: 0, requestMask: .basic))).encode(dialect: .l)
    let two = Fcall(tag: 6, .tclunk(Tclunk(fid: 0))).encode(dialect: .l)
    let sends = h.transport.sent.value.count
    h.clearOutput()
    #expect(await h.engine.execute("hex " + (one + two).map { String(format2: $0) }.joined()) == .ok)
    #expect(h.transport.sent.value.count == sends + 1, "one write")
    #expect(h.transport.sent.value.last == one + two)
    let sent = h.output.value.filter { $0.kind == .sent }.map(\.text)
    #expect(sent.count == 2 && sent[0].hasPrefix("-> Tgetattr tag 5") && sent[1].hasPrefix("-> Tclunk tag 6"), "\(sent)")
    #expect(h.output.value.contains { $0.text.hasPrefix("<- Rgetattr tag 5") }, "\(h.output.value.map(\.text))")
    #expect(h.output.value.contains { $0.text.hasPrefix("<- Rclunk tag 6") })
    #expect(await h.engine.lastReply?.tag == Tag(6), "the last reply waited for")
    #expect(!h.output.value.contains { $0.kind == .anomaly }, "\(h.output.value)")
    // A frame whose size runs past the bytes given: one malformed blob, as before.
    #expect(ReplEngine.wholeFrames(one + [7, 0, 0]) == nil)
    #expect(ReplEngine.wholeFrames(one) == nil, "a single frame takes the usual path")
    #expect(ReplEngine.wholeFrames(one + one) == [one, one])
}

@Test func connectionLossAndReconnect() async throws {
    let h = Harness()
    try await h.start()
    h.transport.drop()
    // Let the receive task see the close.
    for _ in 0..<50 where await h.engine.isConnected { await Task.yield() }
    #expect(await h.engine.isConnected == false)
    #expect(h.output.value.contains { $0.kind == .error && $0.text.contains("connection lost") })
    guard case .failed(let why) = await h.engine.execute("clunk 0") else { Issue.record("clunk should fail"); return }
    #expect(why.contains("not connected"))
    #expect(await h.engine.execute("reconnect") == .ok)
    #expect(h.transports.value.count == 2)
    #expect(await h.engine.execute("version") == .ok)
    #expect(await h.engine.rootFid == nil)
}

/// A command waiting for its reply when the connection goes says what became of its request, and the loss
/// itself is said once (before, the reason came twice: `connection lost: reset by peer (…)`, then `reset by
/// peer` alone).
@Test func aCommandWaitingWhenTheConnectionGoesSaysSo() async throws {
    let h = Harness(server: TinyServer(holdReadsOnFid: 3), timeout: 0)
    try await h.start()
    _ = await h.run("walk 0 3 hello.txt")
    h.clearOutput()
    let reading = Task { await h.engine.execute("read 3 0 1") }
    for _ in 0..<1000 where !h.transport.sentFcalls.contains(where: { $0.message.type == .tread }) { await Task.yield() }
    h.transport.drop()
    #expect(await reading.value == .failed("no reply: reset by peer"))
    let errors = h.output.value.filter { $0.kind == .error }.map(\.text)
    #expect(errors == ["connection lost: reset by peer (reconnect to dial again)", "no reply: reset by peer"])
}

/// A request sent with `&` that nobody waits for, when the connection goes, is named as unanswered.
@Test func aBackgroundRequestLostWithTheConnectionIsNamed() async throws {
    let h = Harness(server: TinyServer(holdReadsOnFid: 3), timeout: 0)
    try await h.start()
    _ = await h.run("walk 0 3 hello.txt")
    #expect(await h.engine.execute("read 3 0 1 &") == .ok)
    for _ in 0..<1000 where !h.transport.sentFcalls.contains(where: { $0.message.type == .tread }) { await Task.yield() }
    h.clearOutput()
    h.transport.drop()
    for _ in 0..<50 where await h.engine.isConnected { await Task.yield() }
    let anomalies = h.output.value.filter { $0.kind == .anomaly }.map(\.text)
    #expect(anomalies.contains { $0.contains("unanswered") || $0.contains("Tread tag") && $0.contains("got no reply") },
            "\(h.output.value)")
}

@Test func replyTimeoutUsesTheInjectedSleep() async throws {
    let h = Harness(server: TinyServer(holdReadsOnFid: 3), timeout: 1_000_000_000, sleep: { _ in })
    try await h.start()
    _ = await h.run("walk 0 3 hello.txt")
    guard case .failed(let why) = await h.engine.execute("read 3 0 1") else { Issue.record("expected timeout"); return }
    #expect(why.contains("no reply within 1000.000 ms"))
}

@Test func anInterruptStopsTheWaitAndLeavesTheRequestPending() async throws {
    // No timeout: without the interrupt the read would wait for ever.
    let h = Harness(server: TinyServer(holdReadsOnFid: 3), timeout: 0)
    try await h.start()
    _ = await h.run("walk 0 3 hello.txt")
    #expect(await h.engine.interruptWaits().isEmpty)  // nothing waiting yet
    let reading = Task { await h.engine.execute("read 3 0 1") }
    var given: [NinePWire.Tag] = []
    for _ in 0..<1000 where given.isEmpty {
        await Task.yield()
        given = await h.engine.interruptWaits()
    }
    #expect(given.count == 1)
    guard case .failed(let why) = await reading.value else { Issue.record("the read should fail"); return }
    #expect(why == "interrupted: tag \(given[0]) is still pending (flush \(given[0]) cancels it)")
    // Still pending in the tracker: `pending` lists it and a flush answers for it.
    h.clearOutput()
    #expect(await h.engine.execute("pending") == .ok)
    #expect(h.lines.contains { $0.contains("tag \(given[0]): Tread") })
    #expect(await h.engine.execute("flush \(given[0])") == .ok)
}

@Test func parseErrorsShowACaret() async throws {
    let h = Harness()
    try await h.start()
    h.clearOutput()
    let outcome = await h.engine.execute("walk 0 x")
    guard case .syntaxError(let e) = outcome else { Issue.record("expected a syntax error"); return }
    #expect(e.column == 8)
    #expect(h.lines.contains("       ^"))
}

@Test func setCommands() async throws {
    let h = Harness()
    try await h.engine.connect()
    #expect(await h.engine.execute("set msize 4096") == .ok)
    #expect(await h.engine.execute("set dialect 9P2000.u") == .ok)
    _ = await h.run("version")
    #expect(h.transport.sentFcalls.last?.message == .tversion(Tversion(msize: 4096, version: "9P2000.u")))
    #expect(await h.engine.execute("set bogus 1") != .ok)
    #expect(await h.engine.execute("set datalimit -3") != .ok)
}

/// After a version is agreed, `set msize` and `set dialect` change what the next Tversion proposes; reads
/// keep to the agreed msize until then.
@Test func settingsApplyToTheNextVersionAfterOneIsAgreed() async throws {
    let h = Harness()
    try await h.start()
    let agreed = await h.engine.msize
    #expect(await h.engine.execute("set msize 4096") == .ok)
    #expect(await h.engine.execute("set dialect 9P2000.u") == .ok)
    #expect(await h.engine.msize == agreed)
    _ = await h.run("version")
    #expect(h.transport.sentFcalls.last?.message == .tversion(Tversion(msize: 4096, version: "9P2000.u")))
}

extension String {
    init(format2 b: UInt8) {
        let d = Array("0123456789abcdef")
        self = String([d[Int(b >> 4)], d[Int(b & 15)]])
    }
}

/// An Rreaddir lists every entry with its qid, type and the offset a next Treaddir goes on from (the
/// server's cookie: the canonical line shows only names), however few the entries; before, entry lines came
/// only past 16 entries, so a listing could not be continued by hand.
@Test func readdirListsEachEntryWithTheOffsetToGoOnFrom() async throws {
    let h = Harness()
    try await h.start()
    _ = await h.run("walk 0 1", "lopen 1 rdonly|directory")
    h.clearOutput()
    #expect(await h.engine.execute("readdir 1 0 4096") == .ok)
    #expect(h.lines.contains { $0.hasPrefix("<- Rreaddir tag 0 count ") && $0.contains("nentries 3") }, "\(h.lines)")
    let entries = h.lines.filter { $0.hasPrefix("   ") }
    #expect(entries == ["   0: (0000000000000002 0 ) offset 1 type 8 DT_REG 'hello.txt'",
                        "   1: (0000000000000003 0 d) offset 2 type 4 DT_DIR 'dir'",
                        "   2: (0000000000000005 0 ) offset 3 type 8 DT_REG 'big'"], "\(h.lines)")
}

/// A Tversion in the middle of a session says what version(5) ends — every fid, every request still
/// waiting — and the conveniences no longer walk from a root fid that is gone.
@Test func aVersionMidSessionSaysWhatItEnds() async throws {
    let h = Harness(server: TinyServer(holdReadsOnFid: 9))
    try await h.start()
    _ = await h.run("walk 0 9 hello.txt", "lopen 9")
    #expect(await h.engine.execute("read 9 0 10 &") == .ok)
    h.clearOutput()
    #expect(await h.engine.execute("version") == .ok)
    #expect(h.lines.contains("   version ends the session (version(5)): fids 0, 9 released; tag 0 (Tread) aborted, no reply will come"),
            "\(h.lines)")
    #expect(await h.engine.rootFid == nil)
    let ls = await h.engine.execute("ls /")
    guard case .failed(let why) = ls else { Issue.record("ls after version: \(ls)"); return }
    #expect(why.hasPrefix("no attach since the connection or the last version"), "\(why)")
    // A version with nothing to end says nothing of it.
    h.clearOutput()
    #expect(await h.engine.execute("version") == .ok)
    #expect(!h.lines.contains { $0.contains("version ends the session") }, "\(h.lines)")
}

/// `pending` gives each request's age as the rest of ninescope does (`12.3s`, `2m05s`), not in
/// milliseconds (`waiting 125000.000 ms`).
@Test func pendingSaysHowLongARequestHasWaitedInReadableUnits() async throws {
    let h = Harness(server: TinyServer(holdReadsOnFid: 9))
    try await h.start()
    _ = await h.run("walk 0 9 hello.txt", "lopen 9")
    #expect(await h.engine.execute("read 9 0 10 &") == .ok)
    h.clock.update { $0 += 125_000_000_000 }
    h.clearOutput()
    _ = await h.run("pending")
    #expect(h.lines == ["   tag 0: Tread tag 0 fid 9 offset 0 count 10 (waiting 2m05s)"], "\(h.lines)")
}

/// `help` of a mistyped command or message names the one meant; one like none says only that there is no
/// help for it.
@Test func helpOfAMistypedTopicNamesTheOneMeant() async throws {
    let h = Harness()
    #expect(await h.engine.execute("help Rwlak") == .failed("no help for Rwlak: did you mean Rwalk?"))
    #expect(await h.engine.execute("help getatr") == .failed("no help for getatr: did you mean getattr?"))
    #expect(await h.engine.execute("help frobnicate") == .failed("no help for frobnicate"))
}

/// `set` alone lists every setting, `timeout` among them (it could be set but neither help, completion nor
/// an error named it), and what the connection negotiated where it differs from what is proposed.
@Test func setAloneListsTheSettings() async throws {
    let h = Harness(server: TinyServer(version: "9P2000.u"))
    try await h.start()
    _ = await h.run("set timeout 2.5")
    h.clearOutput()
    #expect(await h.engine.execute("set") == .ok)
    #expect(h.lines == ["   datalimit 256", "   catlimit 65536", "   msize 8192", "   dialect 9P2000.L (negotiated: 9P2000.u)",
                        "   root 0", "   timeout 2.50s"], "\(h.lines)")
    #expect(Completer.complete(line: "set ti", cursor: 6, context: CompletionContext()) == ["timeout"])
    #expect(GrammarHelp.topic("set")?.joined().contains("timeout SECONDS") == true)
}
