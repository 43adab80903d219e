import Testing
import NinePWire
@testable import NinePREPL

private func m(_ t: Int64, _ tag: NinePWire.Tag, _ message: Message, conn: UInt32 = 0) -> CapturedMessage {
    CapturedMessage(connection: conn, time: t, fcall: Fcall(tag: tag, message))
}

/// A capture of a client reading /hello.txt from a server like TinyServer (its captured replies are
/// written by hand from what such a server answers).
private func readSession(content: String = "hello\n") -> [CapturedMessage] {
    [
        m(0, .notag, .tversion(Tversion(msize: 8192, version: "9P2000.L"))),
        m(1, .notag, .rversion(Rversion(msize: 8192, version: "9P2000.L"))),
        m(2, 5, .tattach(Tattach(fid: 0, uname: "u", aname: "", nUname: 0))),
        m(3, 5, .rattach(Rattach(qid: Qid(type: .dir, path: 77)))),
        m(4, 6, .twalk(Twalk(fid: 0, newfid: 1, wnames: ["hello.txt"]))),
        m(5, 6, .rwalk(Rwalk(wqids: [Qid(path: 78)]))),
        m(6, 7, .tlopen(Tlopen(fid: 1, flags: .rdonly))),
        m(7, 7, .rlopen(Rlopen(qid: Qid(path: 78), iounit: 0))),
        m(8, 8, .tread(Tread(fid: 1, offset: 0, count: 100))),
        m(9, 8, .rread(Rread(data: Array(content.utf8)))),
        m(10, 9, .tclunk(Tclunk(fid: 1))),
        m(11, 9, .rclunk),
    ]
}

struct ReplayHarness {
    let server: TinyServer
    let transports = Box<[UInt32: FakeTransport]>([:])
    let clock = Box<Int64>(0)
    let sleeps = Box<[Int64]>([])
    let progress = Box<[ReplayProgress]>([])

    init(server: TinyServer = TinyServer()) { self.server = server }

    func run(_ messages: [CapturedMessage], _ options: ReplayRunner.Options) async -> ReplayReport {
        let env = ReplayRunner.Environment(
            connect: { [transports, server] c in
                let t = FakeTransport(respond: server.respond)
                transports.update { $0[c] = t }
                return t
            },
            now: { [clock] in clock.value },
            sleep: { [clock, sleeps] ns in sleeps.update { $0.append(ns) }; clock.update { $0 += ns } },
            progress: { [progress] p in progress.update { $0.append(p) } })
        let runner = ReplayRunner(plan: ReplayPlan.make(messages), options: options, environment: env)
        return await runner.run()
    }

    func sent(_ c: UInt32 = 0) -> [Fcall] { transports.value[c]?.sentFcalls ?? [] }
}

private let asap = ReplayRunner.Options(timing: .asap, diff: true, idleTimeout: 0)

@Test func aFaithfulReplayHasNoDifferences() async {
    let h = ReplayHarness()
    let report = await h.run(readSession(), asap)
    #expect(report.total == 6 && report.sent == 6 && report.answered == 6 && report.compared == 6)
    #expect(report.differences.isEmpty)
    #expect(report.problems.isEmpty)
    #expect(report.exitStatus == 0)
    // Tags are re-chosen: the lowest free one.
    #expect(h.sent().map(\.tag) == [.notag, 0, 0, 0, 0, 0])
    #expect(h.progress.value.last == ReplayProgress(total: 6, sent: 6, answered: 6, differences: 0))
}

/// A server that refuses the captured attach (it exports another path): every request after it fails. With
/// or without --diff the report says so, names the attach and --aname; without --diff the errors the capture
/// did not have are counted and the first shown (before, such a replay said only "6 answered").
@Test func aRefusedAttachAndTheErrorsAfterItAreSaid() async {
    let h = ReplayHarness(server: TinyServer(refusedAname: ""))
    var plain = asap
    plain.diff = false
    let report = await h.run(readSession(), plain)
    #expect(report.answered == 6 && report.compared == 0)
    #expect(report.newErrors == 5)   // the attach, and the walk, open, read and clunk on its fid
    #expect(report.newErrorsFollowing == 4)   // all but the attach name the fid it did not make
    #expect(report.firstNewErrors.map(\.step) == [1])
    #expect(report.refusedAttach?.request.hasPrefix("Tattach") == true)
    #expect(report.exitStatus == 0)  // without --diff: everything sent and answered
    let lines = report.lines()
    #expect(lines.contains { $0.hasPrefix("note: the server refused an attach that the capture shows accepted") })
    #expect(lines.contains { $0.hasPrefix("note: --aname PATH") })
    #expect(lines.contains("note: 5 replies are errors where the capture has none (--diff compares every reply); "
                           + "4 of them only follow from an earlier one (a fid it left otherwise); the other:"))
    #expect(lines.filter { $0.hasPrefix("  step ") }.count == 1)

    let h2 = ReplayHarness(server: TinyServer(refusedAname: ""))
    let diffed = await h2.run(readSession(), asap)
    #expect(diffed.exitStatus == 1 && diffed.differences.count == 5)
    #expect(diffed.differences.map { $0.follows?.step } == [nil, 1, 1, 1, 1])
    #expect(diffed.lines().last == "replayed 6 of 6 requests, 6 answered, 6 compared, 5 differ "
                                   + "(4 only follow from an earlier one: a fid it left otherwise)")
    #expect(diffed.lines().contains { $0.hasPrefix("note: the server refused an attach") })
    #expect(!diffed.lines().contains { $0.contains("replies are errors where the capture has none") })

    // A faithful replay notes nothing.
    let faithful = await ReplayHarness().run(readSession(), plain)
    #expect(faithful.newErrors == 0 && faithful.refusedAttach == nil)
    #expect(!faithful.lines().contains { $0.hasPrefix("note:") })
}

/// A file the replay's server lacks: the Twalk to it is the difference, and the open, read and clunk of the
/// fid it did not make follow from it, each said in one line naming that step (before, each was shown as a
/// difference of its own, burying the walk among them). A file both servers have is walked to afterwards
/// with the same fid number: alike again.
@Test func differencesOnAFidAnEarlierStepDidNotMakeFollowFromIt() async {
    var messages = readSession()
    messages.insert(contentsOf: [
        m(4, 6, .twalk(Twalk(fid: 0, newfid: 1, wnames: ["gone.txt"]))),
        m(4, 6, .rwalk(Rwalk(wqids: [Qid(path: 90)]))),
        m(4, 7, .tlopen(Tlopen(fid: 1, flags: .rdonly))),
        m(4, 7, .rlopen(Rlopen(qid: Qid(path: 90), iounit: 0))),
        m(4, 8, .tread(Tread(fid: 1, offset: 0, count: 100))),
        m(4, 8, .rread(Rread(data: Array("gone\n".utf8)))),
        m(4, 9, .tclunk(Tclunk(fid: 1))),
        m(4, 9, .rclunk),
    ], at: 4)
    let report = await ReplayHarness().run(messages, asap)
    #expect(report.answered == 10)
    #expect(report.differences.map(\.step) == [2, 3, 4, 5])
    #expect(report.differences.map { $0.follows } == [nil] + Array(repeating: DivergedFid(step: 2, fid: 1, how: "was not made"), count: 3))
    let lines = report.lines()
    #expect(lines.contains("step 3 (connection 0): Tlopen tag 7 (sent as 0) fid 1 flags 0x0 RDONLY"))
    #expect(lines.contains("  follows from step 2, where fid 1 was not made: replayed Rlerror tag 0 ecode 9 EBADF"))
    #expect(lines.filter { $0.hasPrefix("  captured:") }.count == 1, "only the walk is shown in full")
    #expect(lines.last == "replayed 10 of 10 requests, 10 answered, 10 compared, 4 differ "
                          + "(3 only follow from an earlier one: a fid it left otherwise)")
    #expect(report.exitStatus == 1)
}

/// A capture that creates a file, replayed twice to one server: the second time the create fails with
/// EEXIST, and the report says why (the export holds what the session made) and what to do.
@Test func aCreateThatFindsItsNameTakenIsExplained() async {
    let session = [
        m(0, .notag, .tversion(Tversion(msize: 8192, version: "9P2000.L"))),
        m(1, .notag, .rversion(Rversion(msize: 8192, version: "9P2000.L"))),
        m(2, 0, .tattach(Tattach(fid: 0, uname: "u", aname: "", nUname: 0))),
        m(3, 0, .rattach(Rattach(qid: Qid(type: .dir, path: 1)))),
        m(4, 0, .twalk(Twalk(fid: 0, newfid: 1, wnames: []))),
        m(5, 0, .rwalk(Rwalk(wqids: []))),
        m(6, 0, .tlcreate(Tlcreate(fid: 1, name: "new.txt", flags: LOpenFlags(rawValue: 0o301), mode: 0o644, gid: 0))),
        m(7, 0, .rlcreate(Rlcreate(qid: Qid(path: 40), iounit: 0))),
        m(8, 0, .twrite(Twrite(fid: 1, offset: 0, data: Array("hi".utf8)))),
        m(9, 0, .rwrite(Rwrite(count: 2))),
        m(10, 0, .tclunk(Tclunk(fid: 1))),
        m(11, 0, .rclunk),
    ]
    let h = ReplayHarness()
    var plain = asap
    plain.diff = false
    let first = await h.run(session, plain)
    #expect(first.existing == 0 && first.newErrors == 0)
    #expect(!first.lines().contains { $0.hasPrefix("note:") })
    let again = await h.run(session, plain)
    #expect(again.existing == 1 && again.firstExisting?.step == 3)
    let lines = again.lines()
    #expect(lines.contains("note: a create the capture shows succeeding failed because the name exists (the first: "
                           + "step 3 (connection 0): Tlcreate tag 0 fid 1 name 'new.txt' flags 0xc1 WRONLY|CREATE|EXCL "
                           + "mode 0644 gid 0 → Rlerror tag 0 ecode 17 EEXIST): the export already holds what the captured "
                           + "session made, a replay before this one perhaps; replay to a fresh copy of it"), "\(lines)")
    #expect(again.newErrors == 1)
}

/// `--uname`, `--aname`, `--n-uname`: every Tattach goes out with the names given, nothing else changes.
@Test func attachNamesReplaceTheCapturedOnes() async {
    let h = ReplayHarness()
    var options = asap
    options.attach = AttachNames(uname: "other", aname: "/elsewhere", nUname: 7)
    let report = await h.run(readSession(), options)
    #expect(report.answered == 6 && report.differences.isEmpty)
    let sent = h.sent()
    #expect(sent.map(\.message.type) == [.tversion, .tattach, .twalk, .tlopen, .tread, .tclunk])
    #expect(sent[1].message == .tattach(Tattach(fid: 0, uname: "other", aname: "/elsewhere", nUname: 7)))
    #expect(sent.dropFirst(2).map(\.message) == readSession().filter(\.isRequest).dropFirst(2).map { $0.fcall!.message })
    // A 9P2000 attach, which has no n_uname, gets none; what is not given stays as captured.
    let classic = AttachNames(nUname: 7).apply(to: .tattach(Tattach(fid: 1, uname: "u", aname: "a")))
    #expect(classic == .tattach(Tattach(fid: 1, uname: "u", aname: "a")))
    let auth = AttachNames(aname: "/x").apply(to: .tauth(Tauth(afid: 2, uname: "u", aname: "a", nUname: 3)))
    #expect(auth == .tauth(Tauth(afid: 2, uname: "u", aname: "/x", nUname: 3)))
}

/// A Tattach or Tauth the capture cut among its names is made whole by the names given, and only by all
/// that it lacks.
@Test func attachNamesCompleteACutAttach() {
    let lacksAname = TruncatedFrame.CutAttach(tag: 2, isAuth: false, fid: 1, afid: .nofid, uname: "u", hasNUname: true)
    #expect(AttachNames(aname: "/x").complete(lacksAname) == nil, "n_uname is missing too")
    #expect(AttachNames(aname: "/x", nUname: 0).complete(lacksAname)
            == Fcall(tag: 2, .tattach(Tattach(fid: 1, uname: "u", aname: "/x", nUname: 0))))
    #expect(AttachNames(uname: "v", aname: "/x", nUname: 0).complete(lacksAname)
            == Fcall(tag: 2, .tattach(Tattach(fid: 1, uname: "v", aname: "/x", nUname: 0))), "given names replace")
    #expect(AttachNames().complete(lacksAname) == nil)
    let auth = TruncatedFrame.CutAttach(tag: 0, isAuth: true, fid: 4, hasNUname: false)
    #expect(AttachNames(uname: "glenda", nUname: 5).complete(auth) == nil)
    #expect(AttachNames(uname: "glenda", aname: "", nUname: 5).complete(auth)
            == Fcall(tag: 0, .tauth(Tauth(afid: 4, uname: "glenda", aname: ""))), "9P2000: no n_uname")
}

/// The plan replays a completed Tattach and says so; a cut one it cannot complete it leaves out, saying
/// which options would.
@Test func aCompletedAttachIsPlannedAndNoted() throws {
    let attach = Fcall(tag: 0, .tattach(Tattach(fid: 0, uname: "u", aname: "/x", nUname: 0)))
    let messages = [
        CapturedMessage(connection: 1, time: 1, completed: attach, cutLine: "Tattach tag 0 fid 0 afid NOFID uname 'u' …"),
        CapturedMessage(connection: 1, time: 2, fcall: Fcall(tag: 0, .rattach(Rattach(qid: Qid(type: .dir, path: 1))))),
        CapturedMessage(connection: 2, time: 3, cutTag: 0, typeCode: MessageType.tattach.rawValue, line: "Tattach tag 0 …"),
    ]
    let plan = ReplayPlan.make(messages)
    #expect(plan.steps.map(\.request) == [attach])
    #expect(plan.steps.first?.capturedReply?.message.type == .rattach)
    #expect(plan.notes.contains("connection 1: Tattach tag 0 fid 0 afid NOFID uname 'u' …: cut by the capture; sent as "
                                + attach.canonicalLine), "\(plan.notes)")
    #expect(plan.notes.contains { $0.hasPrefix("connection 2: Tattach tag 0 …: a request the capture cut, not replayed (--uname") },
            "\(plan.notes)")
}

@Test func aChangedFileIsReported() async {
    let h = ReplayHarness()
    let report = await h.run(readSession(content: "HELLO\n"), asap)
    #expect(report.differences.count == 1)
    #expect(report.differences.first?.fields.map(\.field) == ["data"])
    #expect(report.differences.first?.step == 4)
    #expect(report.exitStatus == 1)
    #expect(report.lines().contains { $0.contains("data: captured 'HELLO\\n', replayed 'hello\\n'") })
}

@Test func withoutDiffNothingIsCompared() async {
    let h = ReplayHarness()
    var options = asap
    options.diff = false
    let report = await h.run(readSession(content: "other"), options)
    #expect(report.compared == 0 && report.differences.isEmpty && report.exitStatus == 0)
}

@Test func flushTargetsTheReplayedTag() async {
    let h = ReplayHarness(server: TinyServer(holdReadsOnFid: 1))
    var msgs = Array(readSession().prefix(8))
    msgs += [m(8, 40, .tread(Tread(fid: 1, offset: 0, count: 1))), m(9, 41, .tflush(Tflush(oldtag: 40))), m(10, 41, .rflush)]
    let report = await h.run(msgs, asap)
    let sent = h.sent()
    let read = sent.first { $0.message.type == .tread }!
    let flush = sent.first { $0.message.type == .tflush }!
    #expect(flush.message == .tflush(Tflush(oldtag: read.tag)))
    #expect(flush.tag != read.tag)
    #expect(report.problems.isEmpty)
    #expect(report.exitStatus == 0)
}

@Test func readdirCookiesAreRemapped() async {
    let h = ReplayHarness()
    let entries = ["hello.txt", "dir", "big"].enumerated().map { i, n in
        Dirent(qid: Qid(type: n == "dir" ? .dir : .file, path: UInt64(100 + i)), offset: UInt64(1000 * (i + 1)),
               type: n == "dir" ? 4 : 8, name: P9String(n))
    }
    let msgs = Array(readSession().prefix(4)) + [
        m(4, 1, .twalk(Twalk(fid: 0, newfid: 2, wnames: []))), m(5, 1, .rwalk(Rwalk(wqids: []))),
        m(6, 1, .tlopen(Tlopen(fid: 2, flags: .rdonly))), m(7, 1, .rlopen(Rlopen(qid: Qid(type: .dir, path: 77), iounit: 0))),
        m(8, 1, .treaddir(Treaddir(fid: 2, offset: 0, count: 1000))), m(9, 1, .rreaddir(Rreaddir(data: Dirent.encodeAll(entries)))),
        m(10, 1, .treaddir(Treaddir(fid: 2, offset: 3000, count: 1000))), m(11, 1, .rreaddir(Rreaddir(data: []))),
    ]
    let report = await h.run(msgs, asap)
    let readdirs = h.sent().compactMap { f -> UInt64? in if case .treaddir(let r) = f.message { r.offset } else { nil } }
    #expect(readdirs == [0, 3])   // TinyServer's cookie for its third entry
    #expect(report.differences.isEmpty)
}

@Test func aCaptureStartingMidSessionGetsAVersionFirst() async {
    let h = ReplayHarness()
    let msgs = Array(readSession().dropFirst(2))
    let report = await h.run(msgs, asap)
    #expect(h.sent().first?.message == .tversion(Tversion(msize: 131_096, version: "9P2000.L")))
    #expect(report.sent == 5)
    #expect(report.exitStatus == 0)
}

@Test func originalTimingSleepsUntilEachOffset() async {
    let h = ReplayHarness()
    let msgs = readSession().map { var x = $0; x.time *= 1_000_000; return x }   // 1 ms apart
    var options = asap
    options.timing = .original
    let report = await h.run(msgs, options)
    #expect(report.exitStatus == 0)
    // Requests are 2 ms apart in the capture; replies come back instantly here.
    #expect(h.sleeps.value == [2_000_000, 2_000_000, 2_000_000, 2_000_000, 2_000_000])
}

@Test func aLostConnectionIsAProblem() async {
    let env = ReplayRunner.Environment(
        connect: { _ in
            let t = FakeTransport { f, _ in
                if case .tversion? = f?.message { return [FakeTransport.reply(.notag, .rversion(Rversion(msize: 8192, version: "9P2000.L")))] }
                return [.closed(reason: "reset")]
            }
            return t
        },
        now: { 0 }, sleep: { _ in })
    let report = await ReplayRunner(plan: ReplayPlan.make(readSession()), options: asap, environment: env).run()
    #expect(report.exitStatus == 1)
    #expect(report.problems.contains { $0.contains("connection closed") })
    #expect(report.answered == 1)
}

@Test func versionAbortsWhatIsOutstanding() async {
    let h = ReplayHarness(server: TinyServer(holdReadsOnFid: 1))
    var msgs = Array(readSession().prefix(8))
    msgs += [m(8, 3, .tread(Tread(fid: 1, offset: 0, count: 1))),
             m(9, .notag, .tversion(Tversion(msize: 8192, version: "9P2000.L"))),
             m(10, .notag, .rversion(Rversion(msize: 8192, version: "9P2000.L")))]
    let report = await h.run(msgs, asap)
    #expect(report.sent == 6)
    #expect(report.answered == 5)
    #expect(report.problems.isEmpty)
    #expect(report.exitStatus == 0)
}

/// A reply the capture cut is compared by its type: the same type is no difference, another one is.
@Test func aCutReplyIsComparedByItsType() async {
    var cut = readSession()
    cut[9] = CapturedMessage(connection: 0, time: 9, cutTag: 8, typeCode: MessageType.rread.rawValue,
                             line: "Rread tag 8 count 6 'hel… (cut: 14 of 17 bytes captured)")
    let same = await ReplayHarness().run(cut, asap)
    #expect(same.compared == 6 && same.differences.isEmpty && same.exitStatus == 0)
    cut[9] = CapturedMessage(connection: 0, time: 9, cutTag: 8, typeCode: MessageType.rlerror.rawValue,
                             line: "Rlerror tag 8 … (cut: 9 of 11 bytes captured)")
    let other = await ReplayHarness().run(cut, asap)
    #expect(other.differences.count == 1 && other.differences.first?.step == 4)
    #expect(other.differences.first?.fields.map { "\($0.field) \($0.captured) \($0.replayed)" } == ["type Rlerror Rread"])
    #expect(other.exitStatus == 1)
}

/// Sleeps for real, so that a replay that stops getting anything gives up (after `watched`'s 5 s) and the
/// test fails rather than hangs.
private let realSleep: @Sendable (Int64) async -> Void = { ns in try? await Task.sleep(nanoseconds: UInt64(max(0, ns))) }
private let watched = ReplayRunner.Options(timing: .asap, diff: false, idleTimeout: 5_000_000_000)

/// A capture that lost the Tversion's reply (one that holds only what the client sent, say) shows no reason
/// to wait for it; the replay still sends nothing more until the Rversion has come (version(5): the client
/// cannot issue further requests before it), and every reply then answers a tag in flight.
@Test func nothingFollowsATversionBeforeItsReply() async throws {
    let server = TinyServer()
    let transport = Box<FakeTransport?>(nil)
    let env = ReplayRunner.Environment(
        connect: { [server] _ in
            let t = FakeTransport { f, raw in
                if case .tversion? = f?.message { return [] }   // its Rversion comes when the test sends it
                return server.respond(f, raw)
            }
            transport.update { $0 = t }
            return t
        },
        now: { 0 }, sleep: realSleep)
    let requestsOnly = readSession().filter(\.isRequest)
    let plan = ReplayPlan.make(requestsOnly)
    // The capture itself does not order the Tattach after the Tversion.
    #expect(plan.steps.map(\.request.message.type).prefix(2) == [.tversion, .tattach])
    #expect(plan.steps[0].afterReplies.isEmpty && plan.steps[1].afterReplies.isEmpty)
    let run = Task { await ReplayRunner(plan: plan, options: watched, environment: env).run() }
    var waited = 0
    while (transport.value?.sent.value.count ?? 0) < 1, waited < 500 {
        try await Task.sleep(for: .milliseconds(10))
        waited += 1
    }
    try await Task.sleep(for: .milliseconds(200))   // time to send anything it would send now
    let t = try #require(transport.value)
    #expect(t.sentFcalls.map(\.message.type) == [.tversion])
    t.continuation.yield(FakeTransport.reply(.notag, .rversion(Rversion(msize: 8192, version: "9P2000.L"))))
    let report = await run.value
    #expect(t.sentFcalls.map(\.message.type) == [.tversion, .tattach, .twalk, .tlopen, .tread, .tclunk])
    #expect(report.problems.isEmpty, "\(report.problems)")
    #expect(report.answered == 6)
}

/// A Tversion the server refuses (an error reply, or version `unknown`: it does not speak the capture's
/// dialect) ends that connection's replay at once: what follows is not sent (it could only fail, or wait for
/// the idle timeout), the report says why, and the attach is not blamed. The same when the capture starts
/// mid-session and the Tversion is the replay's own.
@Test(arguments: [Message.rlerror(Rlerror(ecode: .EINVAL)), .rversion(Rversion(msize: 8192, version: "unknown"))])
func aRefusedTversionEndsThatConnection(_ refusal: Message) async {
    for midSession in [false, true] {
        let server = TinyServer()
        let sent = Box<[Fcall]>([])
        let env = ReplayRunner.Environment(
            connect: { [server] _ in
                FakeTransport { f, raw in
                    if let f { sent.update { $0.append(f) } }
                    if case .tversion? = f?.message { return [FakeTransport.reply(.notag, refusal)] }
                    return server.respond(f, raw)
                }
            },
            now: { 0 }, sleep: realSleep)
        let session = midSession ? Array(readSession().dropFirst(2)) : readSession()
        let report = await ReplayRunner(plan: ReplayPlan.make(session), options: watched, environment: env).run()
        #expect(sent.value.map { $0.message.type } == [MessageType.tversion], "\(midSession)")
        #expect(report.exitStatus == 1)
        #expect(!report.problems.contains { $0.contains("nothing arrived") }, "\(report.problems)")
        #expect(report.refusedAttach == nil)
        // What was never sent is said to be so, not unanswered (before: "5 requests unanswered").
        #expect(report.notSentAfterRefusedVersion == 5)
        #expect(report.newErrors == 0, "the refused Tversion has a note of its own")
        if midSession {
            #expect(report.sent == 0)
            #expect(report.problems.count == 1, "\(report.problems)")
            #expect(report.problems.first?.hasPrefix("connection 0: the server refused the Tversion sent first: ") == true)
            #expect(report.problems.first?.hasSuffix("; 5 requests not sent") == true, "\(report.problems)")
            #expect(report.lines().last == "replayed 0 of 5 requests, 0 answered; replay stopped after the server refused "
                                           + "the Tversion: 5 requests not sent")
        } else {
            #expect(report.sent == 1 && report.answered == 1)
            #expect(report.problems == ["connection 0: the server refused version '9P2000.L'; 5 requests not sent"])
            #expect(report.lines().last == "replayed 1 of 6 requests, 1 answered; replay stopped after the server refused "
                                           + "the Tversion: 5 requests not sent")
            #expect(report.refusedVersion?.step == 0)
            #expect(report.lines().contains {
                $0.hasPrefix("note: the server refused the version the capture's session speaks, so the rest of that "
                             + "connection was not sent: step 0 (connection 0): Tversion tag NOTAG msize 8192 ")
            }, "\(report.lines())")
        }
    }
}

/// A 9P2000 directory is read as stat entries, whose sizes differ between servers (here their owners'
/// names): the next read continues at the previous offset plus the previous count of the replayed stream,
/// not the captured one, and the entries are compared field by field as Rstat's are.
@Test func classicDirectoryReadsAreRemappedAndComparedByEntry() async throws {
    let captured = TinyServer(version: "9P2000", owner: "u")
    var session: [CapturedMessage] = []
    var t: Int64 = 0
    for request in [Fcall(tag: .notag, .tversion(Tversion(msize: 8192, version: "9P2000"))),
                    Fcall(tag: 0, .tattach(Tattach(fid: 0, uname: "u", aname: ""))),
                    Fcall(tag: 0, .twalk(Twalk(fid: 0, newfid: 1, wnames: []))),
                    Fcall(tag: 0, .topen(Topen(fid: 1, mode: .read))),
                    Fcall(tag: 0, .tread(Tread(fid: 1, offset: 0, count: 4096)))] {
        session.append(CapturedMessage(connection: 0, time: t, fcall: request)); t += 1
        guard case .frame(let bytes, _) = captured.respond(request, request.encode(dialect: .p9))[0] else { return }
        let reply = try Fcall.decode(bytes, dialect: .p9)
        session.append(CapturedMessage(connection: 0, time: t, fcall: reply)); t += 1
        if case .rread(let r) = reply.message {   // the read that follows, at the end of the captured stream
            let next = Fcall(tag: 0, .tread(Tread(fid: 1, offset: UInt64(r.data.count), count: 4096)))
            session.append(CapturedMessage(connection: 0, time: t, fcall: next)); t += 1
            guard case .frame(let more, _) = captured.respond(next, next.encode(dialect: .p9))[0] else { return }
            session.append(CapturedMessage(connection: 0, time: t, fcall: try Fcall.decode(more, dialect: .p9))); t += 1
        }
    }
    var options = asap
    options.dialect = .p9
    options.ignore = IgnoreRule.defaults.union([.owner])
    let h = ReplayHarness(server: TinyServer(version: "9P2000", owner: "somebody-else"))
    let report = await h.run(session, options)
    #expect(report.answered == 6 && report.compared == 6)
    #expect(report.differences.isEmpty, "\(report.differences)")
    let reads = h.sent().compactMap { f -> UInt64? in if case .tread(let r) = f.message { r.offset } else { nil } }
    let capturedReads = session.compactMap { m -> UInt64? in if case .tread(let r)? = m.fcall?.message { r.offset } else { nil } }
    #expect(reads.count == 2 && capturedReads.count == 2)
    #expect(reads[0] == 0 && reads[1] > capturedReads[1], "replayed offsets \(reads), captured \(capturedReads)")

    // Owners compared (the rule off), each entry's uid and gid are the differences, named by entry.
    options.ignore = IgnoreRule.defaults
    let strict = await ReplayHarness(server: TinyServer(version: "9P2000", owner: "somebody-else")).run(session, options)
    let fields = Set(strict.differences.flatMap { $0.fields.map(\.field) })
    #expect(fields == ["entries[0].uid", "entries[0].gid", "entries[1].uid", "entries[1].gid", "entries[2].uid", "entries[2].gid"])
}

/// A plan whose steps wait for each other can never finish: the runner says so as soon as nothing is in
/// flight, instead of waiting for the idle timeout (none here) or forever.
@Test(.timeLimit(.minutes(1))) func aStalledPlanIsReportedNotWaitedFor() async {
    let clunk = { (fid: Fid) in Fcall(tag: 0, .tclunk(Tclunk(fid: fid))) }
    let plan = ReplayPlan(steps: [
        ReplayPlan.Step(id: 0, connection: 0, offset: 0, request: clunk(1), capturedReply: nil, cutReply: nil,
                        afterReplies: [1], afterSent: []),
        ReplayPlan.Step(id: 1, connection: 0, offset: 0, request: clunk(2), capturedReply: nil, cutReply: nil,
                        afterReplies: [0], afterSent: []),
    ], connections: [0], notes: [])
    let server = TinyServer()
    let env = ReplayRunner.Environment(connect: { _ in FakeTransport(respond: server.respond) },
                                       now: { 0 }, sleep: { _ in })
    let report = await ReplayRunner(plan: plan, options: asap, environment: env).run()
    #expect(report.sent == 0)
    #expect(report.problems.contains { $0.hasPrefix("replay stalled: 2 requests never became sendable (first: step 0)") },
            "\(report.problems)")
    #expect(report.exitStatus != 0)
}

/// A request the replay sends under another tag than the captured one: the difference's heading shows both,
/// so that the replayed reply's tag is seen to answer it.
@Test func aDifferenceNamesTheTagItsRequestWasSentUnder() async {
    let report = await ReplayHarness().run(readSession(content: "other\n"), asap)
    #expect(report.differences.count == 1)
    let lines = report.lines()
    #expect(lines.first == "step 4 (connection 0): Tread tag 8 (sent as 0) fid 1 offset 0 count 100", "\(lines)")
    #expect(lines.dropFirst().first == "  captured: Rread tag 8 count 6 'other\\n'", "\(lines)")
    #expect(lines.dropFirst(2).first == "  replayed: Rread tag 0 count 6 'hello\\n'", "\(lines)")
    // The Tversion goes out under the tag it was captured with: nothing to add.
    #expect(ReplayDifference.requestLine(readSession()[0].fcall!, sentAs: .notag)
            == "Tversion tag NOTAG msize 8192 version '9P2000.L'")
}

/// A capture of two connections replayed with --diff to a server that refuses their dialect (a 9P2000.u
/// capture to diod): only the two Tversions go out, and only they are compared. Before, every request never
/// sent was listed as `replayed: no reply`, the summary said `replayed 2 of 12 requests, 2 answered, 12
/// compared, 12 differ`, and the problems called the requests never sent unanswered.
@Test func requestsNotSentAfterARefusedTversionAreNeitherComparedNorUnanswered() async {
    let server = TinyServer()
    let refusing: @Sendable (UInt32) async throws -> any NinePTransport = { [server] _ in
        FakeTransport { f, raw in
            if case .tversion? = f?.message { return [FakeTransport.reply(.notag, .rlerror(Rlerror(ecode: .EINVAL)))] }
            return server.respond(f, raw)
        }
    }
    let env = ReplayRunner.Environment(connect: refusing, now: { 0 }, sleep: realSleep)
    let second = readSession().map { CapturedMessage(connection: 1, time: $0.time + 100, fcall: $0.fcall!) }
    let plan = ReplayPlan.make(readSession() + second)
    let report = await ReplayRunner(plan: plan, options: asap, environment: env).run()
    #expect(report.total == 12 && report.sent == 2 && report.answered == 2)
    #expect(report.compared == 2)
    #expect(report.differences.map(\.step) == [0, 6])
    #expect(report.differences.allSatisfy { $0.replayed != nil })
    #expect(report.problems == ["connection 0: the server refused version '9P2000.L'; 5 requests not sent",
                                "connection 1: the server refused version '9P2000.L'; 5 requests not sent"])
    #expect(report.exitStatus == 1)
    let lines = report.lines()
    #expect(!lines.contains("  replayed: no reply"), "\(lines)")
    #expect(lines.contains { $0.hasPrefix("note: the server refused the version the capture's sessions speak on 2 "
                                          + "connections, so the rest of each was not sent (the first: step 0 (connection 0): "
                                          + "Tversion tag NOTAG msize 8192 ") }, "\(lines)")
    #expect(lines.last == "replayed 2 of 12 requests, 2 answered, 2 compared, 2 differ; replay stopped after the server "
                          + "refused the Tversion of 2 connections: 10 requests not sent")

    // Without --diff: the refused Tversions are the version note's, not "replies are errors … the first:".
    var plain = asap
    plain.diff = false
    let quiet = await ReplayRunner(plan: plan, options: plain, environment: env).run()
    #expect(quiet.compared == 0 && quiet.newErrors == 0)
    #expect(!quiet.lines().contains { $0.contains("replies are errors") }, "\(quiet.lines())")
    #expect(quiet.lines().last == "replayed 2 of 12 requests, 2 answered; replay stopped after the server refused the "
                                  + "Tversion of 2 connections: 10 requests not sent")
}
