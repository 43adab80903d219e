import NinePSession
import NinePWire
import Testing

/// Tflush chains (flush(5), TRAFFIC.md §5) and out-of-order replies.
@Suite struct FlushTests {
    static func mounted() -> Harness {
        var h = Harness(wire: .l)
        h.version()
        h.attach(0, fid: 0)
        h.walk(0, 0, 1, ["file"], dir: false)
        h.walk(0, 1, 2, [])
        h.t(0, .tlopen(Tlopen(fid: 2, flags: .rdonly)))
        h.r(0, .rlopen(Rlopen(qid: Qid(path: 100), iounit: 0)))
        return h
    }

    @Test func outOfOrderRepliesPairByTag() {
        var h = Self.mounted()
        let a = h.t(0, .tgetattr(Tgetattr(fid: 1, requestMask: .all)))
        let b = h.t(1, .tread(Tread(fid: 2, offset: 0, count: 100)))
        let c = h.t(2, .tread(Tread(fid: 2, offset: 100, count: 100)))
        #expect(h.tracker.pending(on: h.conn).map(\.tag) == [0, 1, 2])
        #expect(h.tracker.pendingTags(on: h.conn) == [0, 1, 2])
        let rc = h.r(2, .rread(Rread(data: [3])))
        let ra = h.r(0, .rgetattr(Rgetattr(valid: .all, qid: Qid(path: 100))))
        let rb = h.r(1, .rread(Rread(data: [1])))
        #expect(rc.message?.exchange == c.message?.exchange)
        #expect(ra.message?.exchange == a.message?.exchange)
        #expect(rb.message?.exchange == b.message?.exchange)
        #expect(rc.message?.requestIndex == c.message?.index)
        #expect(rb.message?.requestIndex == b.message?.index)
        // Replies 2, 0, 1 came at +1, +2, +3 steps after the last request (c).
        #expect(rc.message?.latency == 1 * h.step)
        #expect(ra.message?.latency == 4 * h.step)
        #expect(rb.message?.latency == 4 * h.step)
        #expect(h.tracker.pending(on: h.conn).isEmpty)
        #expect(h.anomalies.isEmpty, "\(h.anomalies)")
    }

    @Test func flushBeforeReplyCancelsTheRequest() {
        var h = Self.mounted()
        let read = h.t(0, .tread(Tread(fid: 2, offset: 0, count: 100))).message!
        let flush = h.t(1, .tflush(Tflush(oldtag: 0))).message!
        let rflush = h.r(1, .rflush)
        let target = h.tracker.exchange(read.exchange!)!
        #expect(target.status == .flushed)
        #expect(target.flushedBy == [flush.exchange!])
        #expect(target.replyIndex == nil)
        #expect(target.end == rflush.message?.timestamp)
        let fx = h.tracker.exchange(flush.exchange!)!
        #expect(fx.isFlush)
        #expect(fx.flushTarget == read.exchange)
        #expect(fx.flushOutcome == .targetFlushed)
        #expect(fx.status == .ok)
        #expect(rflush.exchanges.contains { $0.id == read.exchange && $0.status == .flushed })
        #expect(h.tracker.pending(on: h.conn).isEmpty)
        #expect(h.tracker.messages(of: target.id, includingFlushes: true)
                == [read.index, flush.index, rflush.message!.index])
        // The tag is free again: reusing it is not an anomaly.
        h.t(0, .tread(Tread(fid: 2, offset: 0, count: 100)))
        h.r(0, .rread(Rread(data: [])))
        #expect(h.anomalies.isEmpty, "\(h.anomalies)")
    }

    @Test func replyBeforeRflushStands() {
        var h = Self.mounted()
        // A walk is flushed, but its reply comes first: newfid 5 must exist (flush(5)).
        let walk = h.t(0, .twalk(Twalk(fid: 0, newfid: 5, wnames: ["dir"]))).message!
        let flush = h.t(1, .tflush(Tflush(oldtag: 0))).message!
        let reply = h.r(0, .rwalk(Rwalk(wqids: [Qid(type: .dir, path: 7)])))
        #expect(reply.exchange?.status == .answeredAfterFlush)
        #expect(h.tracker.exchange(flush.exchange!)?.flushOutcome == .targetAnsweredFirst)
        h.r(1, .rflush)
        let target = h.tracker.exchange(walk.exchange!)!
        #expect(target.status == .answeredAfterFlush)
        #expect(target.replyIndex == reply.message?.index)
        #expect(h.tracker.exchange(flush.exchange!)?.flushOutcome == .targetAnsweredFirst)
        #expect(h.path(5) == "/dir")
        #expect(h.anomalies.isEmpty, "\(h.anomalies)")
    }

    @Test func errorReplyBeforeRflushKeepsTheError() {
        var h = Self.mounted()
        let walk = h.t(0, .twalk(Twalk(fid: 0, newfid: 5, wnames: ["nope"]))).message!
        h.t(1, .tflush(Tflush(oldtag: 0)))
        h.r(0, .rlerror(Rlerror(ecode: .ENOENT)))
        h.r(1, .rflush)
        let x = h.tracker.exchange(walk.exchange!)!
        #expect(x.status == .answeredAfterFlush)
        #expect(x.error?.errno == .ENOENT)
        #expect(h.tracker.fid(5, on: h.conn) == nil)
    }

    @Test func flushedClunkKeepsTheFid() {
        var h = Self.mounted()
        h.t(0, .tclunk(Tclunk(fid: 2)))
        h.t(1, .tflush(Tflush(oldtag: 0)))
        h.r(1, .rflush)
        #expect(h.tracker.fid(2, on: h.conn)?.isOpen == true, "a flushed request is as though never sent")
    }

    @Test func laterFlushAnswersEarlierOnes() {
        var h = Self.mounted()
        let read = h.t(0, .tread(Tread(fid: 2, offset: 0, count: 100))).message!
        let f1 = h.t(1, .tflush(Tflush(oldtag: 0))).message!
        let f2 = h.t(2, .tflush(Tflush(oldtag: 0))).message!
        h.r(2, .rflush)
        #expect(h.tracker.exchange(read.exchange!)?.status == .flushed)
        #expect(h.tracker.exchange(read.exchange!)?.flushedBy == [f1.exchange!, f2.exchange!])
        let x1 = h.tracker.exchange(f1.exchange!)!
        #expect(x1.status == .superseded)
        #expect(x1.flushOutcome == .superseded)
        #expect(h.tracker.exchange(f2.exchange!)?.flushOutcome == .targetFlushed)
        #expect(h.tracker.pending(on: h.conn).isEmpty)
        #expect(h.anomalies.isEmpty)
    }

    @Test func flushOfNothingPendingIsLegal() {
        var h = Self.mounted()
        let f = h.t(1, .tflush(Tflush(oldtag: 9))).message!
        h.r(1, .rflush)
        let x = h.tracker.exchange(f.exchange!)!
        #expect(x.flushTarget == nil)
        #expect(x.flushOutcome == .noPendingTarget)
        #expect(x.status == .ok)
        #expect(h.anomalies.isEmpty)
    }

    @Test func replyAfterRflushIsAnAnomaly() {
        var h = Self.mounted()
        let read = h.t(0, .tread(Tread(fid: 2, offset: 0, count: 100))).message!
        let flush = h.t(1, .tflush(Tflush(oldtag: 0))).message!
        h.r(1, .rflush)
        let late = h.r(0, .rread(Rread(data: [1, 2])))
        #expect(late.anomalies.map(\.kind) == [.replyAfterRflush])
        #expect(late.anomalies.first?.messageIndex == late.message?.index)
        #expect(late.message?.exchange == read.exchange)
        let x = h.tracker.exchange(read.exchange!)!
        #expect(x.status == .flushed)
        #expect(x.lateReplyIndex == late.message?.index)
        #expect(h.tracker.exchange(flush.exchange!)?.flushOutcome == .targetAnsweredAfterRflush)
    }

    @Test func injectedExchangesAreMarked() {
        var h = Self.mounted()
        let inj = h.t(0xF000, .tgetattr(Tgetattr(fid: 1, requestMask: .basic)), marks: .injected)
        #expect(inj.exchange?.isInjected == true)
        #expect(inj.message?.marks == .injected)
        let r = h.r(0xF000, .rgetattr(Rgetattr(valid: .basic, qid: Qid(path: 100))))
        #expect(r.exchange?.isInjected == true)
        #expect(r.exchange?.status == .ok)
    }

    /// A server reply the proxy did not pass on (`[.dropped]`: it answered the tag itself, an error a
    /// `--fault` rule put in the reply's place, or the EINTR for a flush) answers nothing: the client never
    /// saw it, so no anomaly, and the exchange keeps the reply the client got.
    @Test func aReplyThatWasNotPassedOnAnswersNothing() {
        var h = Self.mounted()
        h.t(5, .tclunk(Tclunk(fid: 2)))
        let dropped = h.r(5, .rclunk, marks: .dropped)
        #expect(dropped.anomalies.isEmpty)
        #expect(dropped.message?.exchange == nil)
        let given = h.r(5, .rlerror(Rlerror(ecode: .EIO)), marks: .injected)
        #expect(given.anomalies.isEmpty)
        #expect(given.exchange?.status == .error)
        // Without the mark, the same late reply is one no request waits for.
        let late = h.r(5, .rclunk)
        #expect(late.anomalies.map(\.kind) == [.replyToUnknownTag])
    }
}
