import Testing
import NinePWire
@testable import NinePREPL

private func r(_ m: Message) -> Fcall { Fcall(tag: 0, m) }
private let enoent = r(.rlerror(Rlerror(ecode: .ENOENT)))
private let ebadf = r(.rlerror(Rlerror(ecode: .EBADF)))

/// Which fids go otherwise, from which step, and when they are alike again.
@Test func fidsGoOtherwiseAndComeBack() {
    var d = FidDivergence()
    let walk3 = Message.twalk(Twalk(fid: 0, newfid: 3, wnames: ["a"]))
    // Made in the capture, not in the replay: fid 3 went otherwise at step 10.
    #expect(d.note(step: 10, request: walk3, captured: r(.rwalk(Rwalk(wqids: [Qid(path: 1)]))), replayed: enoent) == nil)
    let getattr3 = Message.tgetattr(Tgetattr(fid: 3, requestMask: .basic))
    #expect(d.origin(of: getattr3) == DivergedFid(step: 10, fid: 3, how: "was not made"))
    #expect(d.origin(of: .tgetattr(Tgetattr(fid: 0, requestMask: .basic))) == nil)
    // A fid walked from it carries the same origin, whatever the replies.
    let walk4 = Message.twalk(Twalk(fid: 3, newfid: 4, wnames: []))
    #expect(d.note(step: 11, request: walk4, captured: r(.rwalk(Rwalk(wqids: []))), replayed: ebadf)?.step == 10)
    #expect(d.origin(of: .tread(Tread(fid: 4, offset: 0, count: 1)))?.step == 10)
    // Clunked: gone on both servers.
    #expect(d.note(step: 12, request: .tclunk(Tclunk(fid: 3)), captured: r(.rclunk), replayed: ebadf)?.step == 10)
    #expect(d.origin(of: getattr3) == nil)
    // Made anew on both: alike. Failing on both: nothing changes.
    d.note(step: 13, request: .twalk(Twalk(fid: 0, newfid: 4, wnames: ["b"])),
           captured: r(.rwalk(Rwalk(wqids: [Qid(path: 2)]))), replayed: r(.rwalk(Rwalk(wqids: [Qid(path: 7)]))))
    #expect(d.isEmpty)
    d.note(step: 14, request: walk3, captured: enoent, replayed: enoent)
    #expect(d.isEmpty)
}

@Test func partialWalksOpensAndTheOtherWayRound() {
    var d = FidDivergence()
    // A walk that stops short in the replay makes no newfid.
    d.note(step: 1, request: .twalk(Twalk(fid: 0, newfid: 1, wnames: ["a", "b"])),
           captured: r(.rwalk(Rwalk(wqids: [Qid(path: 1), Qid(path: 2)]))), replayed: r(.rwalk(Rwalk(wqids: [Qid(path: 1)]))))
    #expect(d.origin(of: .tclunk(Tclunk(fid: 1))) == DivergedFid(step: 1, fid: 1, how: "was not made"))
    // A walk in place that fails leaves its fid where it was: not walked.
    d.note(step: 2, request: .twalk(Twalk(fid: 5, newfid: 5, wnames: ["x"])),
           captured: r(.rwalk(Rwalk(wqids: [Qid(path: 3)]))), replayed: enoent)
    #expect(d.origin(of: .tgetattr(Tgetattr(fid: 5, requestMask: .basic)))?.how == "was not walked")
    // Opened in the capture only.
    d.note(step: 3, request: .tlopen(Tlopen(fid: 6, flags: .rdonly)),
           captured: r(.rlopen(Rlopen(qid: Qid(path: 4), iounit: 0))), replayed: r(.rlerror(Rlerror(ecode: .EACCES))))
    #expect(d.origin(of: .tread(Tread(fid: 6, offset: 0, count: 8))) == DivergedFid(step: 3, fid: 6, how: "was not opened"))
    // Made in the replay only (the capture's server lacked the file this one has).
    d.note(step: 4, request: .twalk(Twalk(fid: 0, newfid: 7, wnames: ["new"])), captured: enoent,
           replayed: r(.rwalk(Rwalk(wqids: [Qid(path: 5)]))))
    #expect(d.origin(of: .twalk(Twalk(fid: 7, newfid: 8, wnames: [])))?.how == "was made (not in the capture)")
    // The earliest of several wins; a request naming none has no origin; a lost reply changes nothing.
    #expect(d.origin(of: .trename(Trename(fid: 6, dfid: 1, name: "z")))?.step == 1)
    d.note(step: 5, request: .tlopen(Tlopen(fid: 9, flags: .rdonly)), captured: r(.rlopen(Rlopen(qid: Qid(path: 4), iounit: 0))),
           replayed: nil)
    #expect(d.origin(of: .tread(Tread(fid: 9, offset: 0, count: 8))) == nil)
}
