import Testing
import NinePWire
@testable import NinePREPL

private func m(_ t: Int64, _ tag: NinePWire.Tag, _ message: Message, conn: UInt32 = 0) -> CapturedMessage {
    CapturedMessage(connection: conn, time: t, fcall: Fcall(tag: tag, message))
}

private let rootQid = Qid(type: .dir, path: 1)

/// A sequential session with two concurrent reads.
private let session: [CapturedMessage] = [
    m(100, .notag, .tversion(Tversion(msize: 8192, version: "9P2000.L"))),
    m(110, .notag, .rversion(Rversion(msize: 8192, version: "9P2000.L"))),
    m(120, 0, .tattach(Tattach(fid: 0, uname: "u", aname: "", nUname: 0))),
    m(130, 0, .rattach(Rattach(qid: rootQid))),
    m(140, 0, .twalk(Twalk(fid: 0, newfid: 1, wnames: ["f"]))),
    m(150, 0, .rwalk(Rwalk(wqids: [Qid(path: 2)]))),
    m(160, 0, .tlopen(Tlopen(fid: 1, flags: .rdonly))),
    m(170, 0, .rlopen(Rlopen(qid: Qid(path: 2), iounit: 0))),
    m(180, 0, .tread(Tread(fid: 1, offset: 0, count: 10))),
    m(181, 1, .tread(Tread(fid: 1, offset: 10, count: 10))),
    m(190, 1, .rread(Rread(data: [2]))),
    m(191, 0, .rread(Rread(data: [1]))),
    m(200, 0, .tclunk(Tclunk(fid: 1))),
    m(210, 0, .rclunk),
]

@Test func sequentialRequestsWaitForTheirPredecessorsAndConcurrentOnesDoNot() {
    let plan = ReplayPlan.make(session)
    #expect(plan.steps.count == 7)
    #expect(plan.steps.map(\.afterReplies) == [[], [0], [1], [2], [3], [3], [4, 5]])
    #expect(plan.steps.map(\.offset) == [0, 20, 40, 60, 80, 81, 100])
    #expect(plan.steps[4].capturedReply == Fcall(tag: 0, .rread(Rread(data: [1]))))
    #expect(plan.steps[5].capturedReply == Fcall(tag: 1, .rread(Rread(data: [2]))))
    #expect(plan.notes.isEmpty)
    #expect(plan.connections == [0])
}

/// The same session captured without its replies (one direction only, say): a request that uses a tag
/// again shows that the one before it under that tag was answered, so the order is kept but for the
/// Tversion (whose reply the runner waits for anyway) and the second read's (its tag is never used again).
@Test func repliesTheCaptureLostAreInferredFromTagsUsedAgain() {
    let plan = ReplayPlan.make(session.filter(\.isRequest))
    #expect(plan.steps.map(\.request.message.type) == [.tversion, .tattach, .twalk, .tlopen, .tread, .tread, .tclunk])
    #expect(plan.steps.map(\.afterReplies) == [[], [], [1], [2], [3], [3], [4]])
    #expect(plan.steps.allSatisfy { $0.capturedReply == nil })
    #expect(plan.notes.count == 7)   // each request: no reply in the capture
}

/// Requests without replies and with a tag each, as a client with many tags in flight sends them: a fid
/// named shows that the request that made it was answered, a read that the one that opened it was, and a fid
/// taken again as a new fid that the Tclunk or Tremove that released it was.
@Test func repliesTheCaptureLostAreInferredFromFids() {
    let requests: [CapturedMessage] = [
        m(100, 1, .tattach(Tattach(fid: 0, uname: "u", aname: "", nUname: 0))),
        m(110, 2, .twalk(Twalk(fid: 0, newfid: 1, wnames: ["a"]))),        // names fid 0: the attach was answered
        m(120, 3, .tclunk(Tclunk(fid: 1))),                                  // names fid 1: the walk was
        m(130, 4, .twalk(Twalk(fid: 0, newfid: 1, wnames: ["b"]))),        // takes fid 1 again: the clunk was
        m(140, 5, .tlopen(Tlopen(fid: 1, flags: .rdonly))),
        m(150, 6, .tread(Tread(fid: 1, offset: 0, count: 8))),               // reads fid 1: the open was
        m(160, 7, .tremove(Tremove(fid: 1))),                                // (the read's reply: unknown)
        m(170, 8, .txattrwalk(Txattrwalk(fid: 0, newfid: 1, name: "user.x"))), // the remove was
        m(180, 9, .tclunk(Tclunk(fid: 1))),
        m(190, 10, .twalk(Twalk(fid: 0, newfid: 0, wnames: []))),         // makes no new fid
        m(200, 11, .tclunk(Tclunk(fid: 0))),
    ]
    let plan = ReplayPlan.make(requests)
    #expect(plan.steps.map(\.afterReplies) == [[], [0], [1], [2], [3], [4], [4], [6], [7], [7], [7]])
    #expect(plan.notes.count == 11)   // each request: no reply in the capture
}

/// Two attaches reach the same tree (the Linux client attaches as nobody and as the user): what the capture
/// shows answered before a request was sent comes first in the replay too, whichever fids they name.
@Test func separateLineagesKeepTheCapturedOrder() {
    let msgs: [CapturedMessage] = [
        m(0, 0, .tattach(Tattach(fid: 0, uname: "a", aname: "", nUname: 1))),
        m(1, 0, .rattach(Rattach(qid: rootQid))),
        m(2, 0, .tattach(Tattach(fid: 10, uname: "b", aname: "", nUname: 2))),
        m(3, 0, .rattach(Rattach(qid: rootQid))),
        m(4, 0, .twalk(Twalk(fid: 10, newfid: 11, wnames: []))),
        m(5, 0, .rwalk(Rwalk(wqids: []))),
        m(6, 0, .twalk(Twalk(fid: 0, newfid: 2, wnames: []))),
        m(7, 0, .rwalk(Rwalk(wqids: []))),
    ]
    let plan = ReplayPlan.make(msgs)
    #expect(plan.steps.map(\.afterReplies) == [[], [0], [1], [2]])
    // Requests in flight together still go together, whatever fids they name.
    let together: [CapturedMessage] = [
        m(0, 0, .tattach(Tattach(fid: 0, uname: "a", aname: "", nUname: 1))),
        m(1, 0, .rattach(Rattach(qid: rootQid))),
        m(2, 1, .tgetattr(Tgetattr(fid: 0, requestMask: .basic))),
        m(3, 2, .tattach(Tattach(fid: 10, uname: "b", aname: "", nUname: 2))),
        m(4, 2, .rattach(Rattach(qid: rootQid))),
        m(5, 1, .rlerror(Rlerror(ecode: .EIO))),
        m(6, 1, .tclunk(Tclunk(fid: 10))),
        m(7, 1, .rclunk),
    ]
    #expect(ReplayPlan.make(together).steps.map(\.afterReplies) == [[], [0], [0], [1, 2]])
}

@Test func versionIsABarrier() {
    let msgs: [CapturedMessage] = [
        m(0, 0, .tattach(Tattach(fid: 0, uname: "a", aname: "", nUname: 1))),
        m(1, 0, .rattach(Rattach(qid: rootQid))),
        m(2, .notag, .tversion(Tversion(msize: 8192, version: "9P2000.L"))),
        m(3, .notag, .rversion(Rversion(msize: 8192, version: "9P2000.L"))),
        m(4, 0, .tattach(Tattach(fid: 5, uname: "b", aname: "", nUname: 2))),
        m(5, 0, .rattach(Rattach(qid: rootQid))),
    ]
    let plan = ReplayPlan.make(msgs)
    #expect(plan.steps.map(\.afterReplies) == [[], [0], [1]])
}

@Test func flushWaitsForItsTargetToBeSent() {
    let msgs: [CapturedMessage] = [
        m(0, 3, .tread(Tread(fid: 9, offset: 0, count: 1))),
        m(1, 4, .tflush(Tflush(oldtag: 3))),
        m(2, 4, .rflush),
    ]
    let plan = ReplayPlan.make(msgs)
    #expect(plan.steps[1].afterSent == [0])
    #expect(plan.steps[1].afterReplies == [])
    #expect(plan.steps[0].capturedReply == nil)
    // Flushed: no reply by design, nothing to warn of (before, "Tread tag 3 … has no reply in the capture").
    // (That fid 9 was made before this fragment of a capture began is noted: `fidsMadeBeforeTheCaptureBeganAreNoted`.)
    #expect(plan.notes.filter { !$0.contains("mid-session") }.isEmpty, "\(plan.notes)")
}

/// A Tflush of a tag with nothing pending (errors.9p's `flush 77`; a kernel's flush whose request was answered
/// first) waits for what came before it on its connection, and on the others, as any request does. Before, it
/// waited for nothing: it went out ahead of its connection's Tattach, and ahead of its Tversion when that
/// waited for another connection (the server answered "Protocol error").
@Test func aFlushOfNothingPendingKeepsItsPlace() {
    let msgs: [CapturedMessage] = [
        m(0, .notag, .tversion(Tversion(msize: 8192, version: "9P2000.L")), conn: 0),
        m(1, .notag, .rversion(Rversion(msize: 8192, version: "9P2000.L")), conn: 0),
        m(2, .notag, .tversion(Tversion(msize: 8192, version: "9P2000.L")), conn: 1),
        m(3, .notag, .rversion(Rversion(msize: 8192, version: "9P2000.L")), conn: 1),
        m(4, 0, .tattach(Tattach(fid: 0, uname: "u", aname: "", nUname: 0)), conn: 1),
        m(5, 0, .rattach(Rattach(qid: rootQid)), conn: 1),
        m(6, 0, .tflush(Tflush(oldtag: 77)), conn: 1),
        m(7, 0, .rflush, conn: 1),
        m(8, 3, .tread(Tread(fid: 9, offset: 0, count: 1)), conn: 1),
        m(9, 3, .rread(Rread(data: [1])), conn: 1),
        m(10, 4, .tflush(Tflush(oldtag: 3)), conn: 1),
        m(11, 4, .rflush, conn: 1),
    ]
    let plan = ReplayPlan.make(msgs)
    #expect(plan.steps[3].request.message == .tflush(Tflush(oldtag: 77)))
    #expect(plan.steps[3].afterReplies == [2] && plan.steps[3].afterSent == [])
    // The read was answered before its Tflush: that Tflush too flushes nothing, and waits for the read.
    #expect(plan.steps[5].afterReplies == [4] && plan.steps[5].afterSent == [])
    // Across connections too: connection 1's Tversion waits for connection 0's, and so does all that follows it.
    #expect(plan.steps[1].afterReplies == [0])
    let schedule = ReplaySchedule(plan)
    #expect(schedule.readyInOrder == [0])
}

/// A request whose Tflush the capture shows unanswered too (the capture lost the Rflush, or stopped first)
/// is still noted, and says so; a request nothing flushed is noted as before.
@Test func aFlushedRequestIsNotedOnlyWhenItsFlushHasNoReplyEither() {
    let msgs: [CapturedMessage] = [
        m(0, 3, .tread(Tread(fid: 9, offset: 0, count: 1))),
        m(1, 4, .tflush(Tflush(oldtag: 3))),
        m(2, 5, .twrite(Twrite(fid: 9, offset: 0, data: [1]))),
    ]
    let plan = ReplayPlan.make(msgs)
    #expect(plan.notes.filter { !$0.contains("mid-session") }
            == ["connection 0: Tread tag 3 fid 9 offset 0 count 1 has no reply in the capture, nor has the "
                           + "Tflush for it",
                           "connection 0: \(plan.steps[2].request.canonicalLine) has no reply in the capture"])
}

@Test func connectionFilterAndUnmatchedReplies() {
    let msgs: [CapturedMessage] = [
        m(0, 0, .tclunk(Tclunk(fid: 1)), conn: 1),
        m(1, 0, .tclunk(Tclunk(fid: 2)), conn: 2),
        m(2, 0, .rclunk, conn: 2),
        m(3, 0, .rclunk, conn: 1),
        m(4, 9, .rclunk, conn: 1),
    ]
    let plan = ReplayPlan.make(msgs, only: [1])
    #expect(plan.connections == [1])
    #expect(plan.steps.map(\.request) == [Fcall(tag: 0, .tclunk(Tclunk(fid: 1)))])
    #expect(plan.notes.contains { $0.contains("answers no pending request") })
}

@Test func laterConnectionsWaitForEarlierOnesUnlessTheyOverlapped() {
    let msgs: [CapturedMessage] = [
        m(0, 0, .tmkdir(Tmkdir(dfid: 0, name: "d", mode: 0o755, gid: 0)), conn: 1),
        m(1, 0, .rmkdir(Rmkdir(qid: Qid(type: .dir, path: 9))), conn: 1),
        m(2, 0, .twalk(Twalk(fid: 0, newfid: 1, wnames: ["d"])), conn: 2),
        m(3, 0, .tclunk(Tclunk(fid: 0)), conn: 1),
        m(4, 0, .rwalk(Rwalk(wqids: [Qid(type: .dir, path: 9)])), conn: 2),
        m(5, 0, .rclunk, conn: 1),
    ]
    let ordered = ReplayPlan.make(msgs)
    // The walk on connection 2 waits for the mkdir of connection 1; the clunk, sent while the walk
    // was in flight, waits only for its own connection's mkdir.
    #expect(ordered.steps.map(\.afterReplies) == [[], [0], [0]])
    let free = ReplayPlan.make(msgs, orderAcrossConnections: false)
    #expect(free.steps.map(\.afterReplies) == [[], [], [0]])
}

/// A capture cut by a snap length: a cut reply still answers its request, so the requests after it wait for
/// it as they would for a whole one (the clunk after the two reads), and its type is kept for `--diff`; a cut
/// request cannot be sent and is noted.
@Test func cutRepliesKeepTheOrderAndCutRequestsAreNoted() {
    var msgs = session
    msgs[10] = CapturedMessage(connection: 0, time: 190, cutTag: 1, typeCode: MessageType.rread.rawValue,
                               line: "Rread tag 1 count 1 … (cut: 9 of 12 bytes captured)")
    msgs[11] = CapturedMessage(connection: 0, time: 191, cutTag: 0, typeCode: MessageType.rread.rawValue,
                               line: "Rread tag 0 count 1 … (cut: 9 of 12 bytes captured)")
    let plan = ReplayPlan.make(msgs)
    #expect(plan.steps.map(\.afterReplies) == ReplayPlan.make(session).steps.map(\.afterReplies))
    #expect(plan.steps[4].capturedReply == nil
            && plan.steps[4].cutReply == CutReply(typeCode: MessageType.rread.rawValue,
                                                  line: "Rread tag 0 count 1 … (cut: 9 of 12 bytes captured)"))
    #expect(plan.notes.isEmpty, "\(plan.notes)")

    var withCutWrite = session
    withCutWrite.insert(CapturedMessage(connection: 0, time: 185, cutTag: 2, typeCode: MessageType.twrite.rawValue,
                                        line: "Twrite tag 2 fid 1 offset 0 count 9000 … (cut: 74 of 9023 bytes captured)"),
                        at: 10)
    withCutWrite.insert(m(186, 2, .rwrite(Rwrite(count: 9000))), at: 11)
    let noted = ReplayPlan.make(withCutWrite)
    #expect(noted.steps.count == 7, "the cut Twrite is not a step")
    #expect(noted.notes == ["connection 0: Twrite tag 2 fid 1 offset 0 count 9000 … (cut: 74 of 9023 bytes captured): "
                            + "a request the capture cut, not replayed",
                            "connection 0: Rwrite tag 2 count 9000 answers no pending request"])
}

/// The runner sends what `ReplaySchedule` says is ready: a step once every step it waits for is answered
/// (or, for a Tflush's target, sent), in plan order among those ready together.
@Test func scheduleReleasesOnlyTheStepsThatWait() {
    var s = ReplaySchedule(ReplayPlan.make(session))   // afterReplies [[], [0], [1], [2], [3], [3], [4, 5]]
    #expect(s.readyInOrder == [0] && s.remaining == 7)
    s.sent(0)
    #expect(s.ready.isEmpty)
    for id in 0...2 {
        s.done(id)
        #expect(s.readyInOrder == [id + 1])
        s.sent(id + 1)
    }
    s.done(3)
    #expect(s.readyInOrder == [4, 5])
    s.sent(5); s.sent(4)
    s.done(5)
    #expect(s.ready.isEmpty, "step 6 waits for 4 as well")
    s.done(4)
    #expect(s.readyInOrder == [6])
    s.done(6)
    #expect(s.ready.isEmpty && s.remaining == 0)
    s.done(6)
    #expect(s.remaining == 0, "a step is done once")
}

@Test func aFlushIsReadyOnceItsTargetIsSentAndCountedOnce() {
    let flush: [CapturedMessage] = [
        m(0, 3, .tread(Tread(fid: 9, offset: 0, count: 1))),
        m(1, 4, .tflush(Tflush(oldtag: 3))),
        m(2, 4, .rflush),
    ]
    var s = ReplaySchedule(ReplayPlan.make(flush))
    #expect(s.readyInOrder == [0])
    s.sent(0)
    #expect(s.readyInOrder == [1])
    s.done(0)   // sent, then answered: released once, not twice
    #expect(s.readyInOrder == [1])
    s.sent(1)
    s.done(1)
    #expect(s.ready.isEmpty && s.remaining == 0)
    // A target given up before it was sent releases its flush as well.
    var t = ReplaySchedule(ReplayPlan.make(flush))
    t.done(0)
    #expect(t.readyInOrder == [1])
}

/// Each event touches only the steps that wait for it: along a chain of 2,000 requests on one fid, one step
/// is ready at a time (the runner used to scan the whole plan for every reply: 100 s of CPU for a
/// 29,000-request capture of a Linux mount).
@Test func aLongChainHasOneReadyStepAtATime() {
    var msgs = [m(0, .notag, .tversion(Tversion(msize: 8192, version: "9P2000.L"))),
                m(1, .notag, .rversion(Rversion(msize: 8192, version: "9P2000.L")))]
    for i in 0..<2_000 {
        msgs.append(m(Int64(10 + 2 * i), 0, .tgetattr(Tgetattr(fid: 1, requestMask: .basic))))
        msgs.append(m(Int64(11 + 2 * i), 0, .rlerror(Rlerror(ecode: .EBADF))))
    }
    let plan = ReplayPlan.make(msgs)
    #expect(plan.steps.count == 2_001)
    var s = ReplaySchedule(plan)
    var most = 0
    var order: [Int] = []
    while let next = s.readyInOrder.first {
        most = max(most, s.ready.count)
        order.append(next)
        s.sent(next)
        s.done(next)
    }
    #expect(most == 1)
    #expect(order == Array(0..<2_001))
    #expect(s.remaining == 0)
}

/// A capture that joins a connection mid-session (tcpdump started late; one file of a ring) uses fids that
/// an attach or walk before it made: the replay cannot make them, and says so once rather than leaving a
/// wall of EIO replies unexplained. A connection captured from its Tversion says nothing of a fid never made
/// (errors.9p's `clunk 42` is the client's own doing).
@Test func fidsMadeBeforeTheCaptureBeganAreNoted() {
    let mid: [CapturedMessage] = [
        m(0, 1, .rgetattr(Rgetattr(valid: .basic, qid: Qid(path: 2))), conn: 3),
        m(1, 0, .tgetattr(Tgetattr(fid: 1, requestMask: .basic)), conn: 3),
        m(2, 0, .rgetattr(Rgetattr(valid: .basic, qid: Qid(path: 2))), conn: 3),
        m(3, 0, .twalk(Twalk(fid: 1, newfid: 4, wnames: [])), conn: 3),
        m(4, 0, .rwalk(Rwalk(wqids: [])), conn: 3),
        m(5, 0, .tclunk(Tclunk(fid: 4)), conn: 3),
        m(6, 0, .rclunk, conn: 3),
        m(7, 0, .tread(Tread(fid: 2, offset: 0, count: 1)), conn: 3),
        m(8, 0, .rread(Rread(data: [1])), conn: 3),
    ]
    let plan = ReplayPlan.make(mid + session)
    let notes = plan.notes.filter { $0.contains("mid-session") }
    #expect(notes == ["connection 3: the capture begins mid-session (no Tversion): fids 1, 2 were made before it began, "
                      + "by an attach or walk it does not hold, so this server has no such fids and the requests on them "
                      + "are likely to fail (the first: step 0, Tgetattr tag 0 fid 1 request_mask 0x7ff BASIC)"], "\(plan.notes)")
    let own = ReplayPlan.make(session + [m(300, 0, .tclunk(Tclunk(fid: 42))), m(310, 0, .rclunk)])
    #expect(!own.notes.contains { $0.contains("mid-session") }, "\(own.notes)")
}
