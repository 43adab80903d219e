import NinePSession
import NinePWire
import Testing

/// Every anomaly kind, each from a scenario that names the message that shows it.
@Suite struct AnomalyTests {
    /// Version (msize 8192) + attach fid 0 + walk 0→1 "f" + clone 1→2 + Tlopen 2 (iounit 4096).
    static func mounted(msize: UInt32 = 8192, configuration: SessionTracker.Configuration = .init()) -> Harness {
        var h = Harness(wire: .l, configuration: configuration)
        h.version("9P2000.L", msize: msize)
        h.attach(0, fid: 0)
        h.walk(0, 0, 1, ["f"], dir: false)
        h.walk(0, 1, 2, [])
        h.t(0, .tlopen(Tlopen(fid: 2, flags: .rdwr)))
        h.r(0, .rlopen(Rlopen(qid: Qid(path: 100), iounit: 4096)))
        #expect(h.anomalies.isEmpty)
        return h
    }

    /// The only anomaly of `out` is `kind`, at the message `out` logged.
    static func expectOnly(_ kind: AnomalyKind, _ out: TrackerOutput, _ h: Harness,
                           sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(out.anomalies.map(\.kind) == [kind], sourceLocation: sourceLocation)
        #expect(out.anomalies.first?.messageIndex == out.message?.index, sourceLocation: sourceLocation)
        #expect(out.anomalies.first?.conn == h.conn, sourceLocation: sourceLocation)
        #expect(h.anomalies.map(\.kind) == [kind], sourceLocation: sourceLocation)
        #expect(h.tracker.anomalies(forMessage: out.message!.index).map(\.kind) == [kind], sourceLocation: sourceLocation)
        #expect(out.anomalies.first?.text.isEmpty == false, sourceLocation: sourceLocation)
    }

    @Test func tagReusedWhilePending() {
        var h = Self.mounted()
        let first = h.t(3, .tgetattr(Tgetattr(fid: 1, requestMask: .basic)))
        let second = h.t(3, .tread(Tread(fid: 2, offset: 0, count: 10)))
        Self.expectOnly(.tagReusedWhilePending, second, h)
        #expect(second.anomalies[0].tag == 3)
        // The reply goes to the newer request; the older one stays pending until close.
        let reply = h.r(3, .rread(Rread(data: [])))
        #expect(reply.message?.exchange == second.message?.exchange)
        #expect(h.tracker.pending(on: h.conn).map(\.id) == [first.message!.exchange!])
    }

    @Test func replyToUnknownTag() {
        var h = Self.mounted()
        let out = h.r(9, .rclunk)
        Self.expectOnly(.replyToUnknownTag, out, h)
        #expect(out.exchange?.status == .unmatchedReply)
        #expect(out.exchange?.requestIndex == nil)
    }

    @Test func unknownFid() {
        var h = Self.mounted()
        let out = h.t(0, .tgetattr(Tgetattr(fid: 42, requestMask: .basic)))
        Self.expectOnly(.unknownFid, out, h)
        #expect(out.anomalies[0].fid == 42)
    }

    @Test func clunkedFidIsUnknown() {
        var h = Self.mounted()
        h.clunk(0, 2)
        let out = h.t(0, .tread(Tread(fid: 2, offset: 0, count: 1)))
        Self.expectOnly(.unknownFid, out, h)
    }

    /// A request on a fid whose Tclunk or Tremove is sent and not yet answered: the server may carry it out
    /// after the fid is gone (a client's use after free). Once the reply has come, it is unknown-fid.
    @Test func useAfterClunk() {
        var h = Self.mounted()
        h.t(5, .tclunk(Tclunk(fid: 2)))
        let read = h.t(6, .tread(Tread(fid: 2, offset: 0, count: 10)))
        Self.expectOnly(.useAfterClunk, read, h)
        #expect(read.anomalies[0].fid == 2)
        #expect(read.anomalies[0].text.contains("uses fid 2 while its Tclunk (#10, tag 5) is unanswered"), "\(read.anomalies[0].text)")
        h.r(6, .rread(Rread(data: [])))
        h.r(5, .rclunk)
        let after = h.t(0, .tread(Tread(fid: 2, offset: 0, count: 10)))
        #expect(after.anomalies.map(\.kind) == [.unknownFid])
    }

    @Test func aSecondClunkOrARemoveWhileTheFirstIsPending() {
        var h = Self.mounted()
        h.t(5, .tremove(Tremove(fid: 1)))
        let again = h.t(6, .tclunk(Tclunk(fid: 1)))
        Self.expectOnly(.useAfterClunk, again, h)
        #expect(again.anomalies[0].text.contains("while its Tremove (#10, tag 5) is unanswered"), "\(again.anomalies[0].text)")
        // A walk that makes the fid again while its clunk is pending says both.
        let walk = h.t(7, .twalk(Twalk(fid: 0, newfid: 1, wnames: ["g"])))
        #expect(walk.anomalies.map(\.kind) == [.newfidInUse])
        #expect(walk.anomalies.first?.text.contains("already in use (/f), and its Tremove (#10, tag 5) is unanswered") == true, "\(walk.anomalies)")
        // Answered: nothing is releasing any more; other fids were never concerned.
        h.r(5, .rremove)
        h.r(6, .rlerror(Rlerror(ecode: .EBADF)))
        h.r(7, .rwalk(Rwalk(wqids: [Qid(path: 5)])))
        let read = h.t(0, .tread(Tread(fid: 2, offset: 0, count: 10)))
        #expect(read.anomalies.isEmpty)
        #expect(h.tracker.fid(1, on: h.conn)?.path?.description == "/g")
    }

    /// A clunk that was flushed (Rflush first) is no longer pending: what follows is not a use after it.
    @Test func aFlushedClunkIsNoLongerPending() {
        var h = Self.mounted()
        h.t(5, .tclunk(Tclunk(fid: 2)))
        h.t(6, .tflush(Tflush(oldtag: 5)))
        h.r(6, .rflush)
        let read = h.t(7, .tread(Tread(fid: 2, offset: 0, count: 10)))
        #expect(!read.anomalies.contains { $0.kind == .useAfterClunk }, "\(read.anomalies)")
    }

    /// An Rlerror whose ecode is 0 names no error (Linux takes it for success).
    @Test func errnoZero() {
        var h = Self.mounted()
        let out = h.t(4, .tgetattr(Tgetattr(fid: 1, requestMask: .basic)))
        let reply = h.r(4, .rlerror(Rlerror(ecode: Errno(0))))
        Self.expectOnly(.errnoZero, reply, h)
        #expect(reply.anomalies[0].exchange?.rawValue == out.message?.exchange?.rawValue)
        #expect(reply.anomalies[0].fid == 1)
        #expect(reply.anomalies[0].text.hasPrefix("Rlerror with errno 0 answers Tgetattr"), "\(reply.anomalies[0].text)")
        #expect(reply.exchange?.status == .error)
        // Another errno is an error like any other.
        h.t(5, .tgetattr(Tgetattr(fid: 1, requestMask: .basic)))
        #expect(h.r(5, .rlerror(Rlerror(ecode: .ENOENT))).anomalies.isEmpty)
        // An Rerror of errno[4] alone (nfs-ganesha's 9P2000.L errors) with 0 is the same (besides not being .L's).
        h.t(6, .tgetattr(Tgetattr(fid: 1, requestMask: .basic)))
        let rerror = h.r(6, .rerror(Rerror(ename: nil, errno: 0)))
        #expect(rerror.anomalies.map(\.kind).contains(.errnoZero), "\(rerror.anomalies)")
    }

    /// A 9P2000.u Rerror with errno 0 names its error by its ename (Linux falls back to the text): no anomaly.
    @Test func aDotURerrorWithErrnoZeroAndAName() {
        var h = ClassicDialectTests.mountedU()
        h.t(4, .tstat(Tstat(fid: 1)))
        #expect(h.r(4, .rerror(Rerror(ename: "permission denied", errno: 0))).anomalies.isEmpty)
    }

    @Test func newfidInUse() {
        var h = Self.mounted()
        let out = h.t(0, .twalk(Twalk(fid: 0, newfid: 1, wnames: ["g"])))
        Self.expectOnly(.newfidInUse, out, h)
        #expect(out.anomalies[0].fid == 1)
        #expect(out.anomalies[0].text.contains("/f"))
    }

    @Test func attachFidInUse() {
        var h = Self.mounted()
        let out = h.t(0, .tattach(Tattach(fid: 2, uname: "u", aname: "", nUname: 0)))
        Self.expectOnly(.newfidInUse, out, h)
    }

    @Test func walkWithMoreThanSixteenNames() {
        var h = Self.mounted()
        let names = (0..<17).map { P9String("d\($0)") }
        let out = h.t(0, .twalk(Twalk(fid: 0, newfid: 5, wnames: names)))
        Self.expectOnly(.walkTooLong, out, h)
    }

    /// walk(5): `..` in the root is the root. A server answering with another qid (diod exporting a
    /// directory without a chroot answers with its parent's) let the client out of the export.
    @Test func dotDotAtTheAttachRootMustBeTheRoot() {
        var h = Self.mounted()   // the root's qid: (…1 0 d)
        let root = Qid(type: .dir, path: 1)
        // A faithful server: `..` at the root, and back up from a directory and past the root, give the root.
        h.t(0, .twalk(Twalk(fid: 0, newfid: 5, wnames: [".."])))
        #expect(h.r(0, .rwalk(Rwalk(wqids: [root]))).anomalies.isEmpty)
        h.t(0, .twalk(Twalk(fid: 0, newfid: 6, wnames: ["d", "..", ".."])))
        #expect(h.r(0, .rwalk(Rwalk(wqids: [Qid(type: .dir, path: 50), root, root]))).anomalies.isEmpty)
        // `..` from a directory below the root is its parent, whatever qid: not checked.
        h.t(0, .twalk(Twalk(fid: 0, newfid: 7, wnames: ["d", "e", ".."])))
        #expect(h.r(0, .rwalk(Rwalk(wqids: [Qid(type: .dir, path: 50), Qid(type: .dir, path: 51),
                                            Qid(type: .dir, path: 50)]))).anomalies.isEmpty)
        // Out of the export: the third name, `..` at the root again, gave the export's parent.
        h.t(0, .twalk(Twalk(fid: 0, newfid: 8, wnames: ["d", "..", "..", "etc"])))
        let out = h.r(0, .rwalk(Rwalk(wqids: [Qid(type: .dir, path: 50), root, Qid(type: .dir, path: 0x3df9d),
                                              Qid(type: .dir, path: 9)])))
        Self.expectOnly(.walkLeftRoot, out, h)
        #expect(out.anomalies[0].fid == 0)
        // The fid is where the server put it, above the root: the `..` it walked out with is kept.
        #expect(h.tracker.fidTable(on: h.conn).first { $0.fid == 8 }?.path?.description == "/../etc")
        h.t(0, .twalk(Twalk(fid: 8, newfid: 10, wnames: ["..", ".."])))
        h.r(0, .rwalk(Rwalk(wqids: [Qid(type: .dir, path: 0x3df9d), Qid(type: .dir, path: 2)])))
        #expect(h.tracker.fidTable(on: h.conn).first { $0.fid == 10 }?.path?.description == "/../..")
        // Faithful walks keep collapsing: fid 6 (`d .. ..`) is the root.
        #expect(h.tracker.fidTable(on: h.conn).first { $0.fid == 6 }?.path?.description == "/")
        #expect(out.anomalies[0].text == "'..' at the attach root / (name 2 of the walk) gave qid (000000000003df9d 0 d), "
                + "not the root's (0000000000000001 0 d): the server let the client out of the tree it attached "
                + "(walk(5): '..' in the root is the root)")
        // A walk that stops short is checked as far as it went; one whose error stops it, not at all.
        h.t(0, .twalk(Twalk(fid: 0, newfid: 9, wnames: ["..", "x"])))
        #expect(h.r(0, .rwalk(Rwalk(wqids: [Qid(type: .dir, path: 2)]))).anomalies.map(\.kind) == [.walkLeftRoot])
        h.t(0, .twalk(Twalk(fid: 0, newfid: 9, wnames: [".."])))
        #expect(h.r(0, .rlerror(Rlerror(ecode: .EACCES))).anomalies.isEmpty)
    }

    /// version(5): the server's msize is at most the client's.
    @Test func rversionRaisingTheMsize() {
        var h = Harness(wire: .l)
        h.t(.notag, .tversion(Tversion(msize: 8192, version: "9P2000.L")))
        let out = h.r(.notag, .rversion(Rversion(msize: 65536, version: "9P2000.L")))
        Self.expectOnly(.msizeRaised, out, h)
        #expect(out.anomalies[0].text == "Rversion msize 65536 is more than the Tversion's 8192 (version(5): the "
                + "server's msize must be less than or equal to the client's)")
        var fine = Harness(wire: .l)
        fine.t(.notag, .tversion(Tversion(msize: 8192, version: "9P2000.L")))
        #expect(fine.r(.notag, .rversion(Rversion(msize: 8192, version: "9P2000.L"))).anomalies.isEmpty)
    }

    /// walk(5): nwqid is nwname or the index of the first name that failed, and never zero for a walk of
    /// some names.
    /// walk(5): the names but the last are walked from directories, so each qid followed by another is a
    /// directory's. nfs-ganesha answers `walk etc motd` with motd's qid twice; a partial walk may end at a file
    /// (the next name failed because it is one).
    @Test func rwalkThroughAFile() {
        var h = Self.mounted()
        h.t(0, .twalk(Twalk(fid: 0, newfid: 5, wnames: ["etc", "motd"])))
        let same = h.r(0, .rwalk(Rwalk(wqids: [Qid(path: 0xf901c4), Qid(path: 0xf901c4)])))
        Self.expectOnly(.badRwalk, same, h)
        #expect(same.anomalies[0].text == "Rwalk's qid 0 for 'etc', (0000000000f901c4 0 ), is not a directory's, yet the walk "
                + "went on to 'motd' (walk(5): each name but the last is walked from a directory)")
        h.t(0, .twalk(Twalk(fid: 0, newfid: 6, wnames: ["etc", "motd"])))
        #expect(h.r(0, .rwalk(Rwalk(wqids: [Qid(type: .dir, path: 0xf901c3), Qid(path: 0xf901c4)]))).anomalies.isEmpty)
        h.t(0, .twalk(Twalk(fid: 0, newfid: 7, wnames: ["hello.txt", "x"])))
        #expect(h.r(0, .rwalk(Rwalk(wqids: [Qid(path: 0xf882f6)]))).anomalies.isEmpty)
    }

    @Test func rwalkWithTooManyOrNoQids() {
        var h = Self.mounted()
        h.t(0, .twalk(Twalk(fid: 0, newfid: 5, wnames: ["a"])))
        let many = h.r(0, .rwalk(Rwalk(wqids: [Qid(type: .dir, path: 7), Qid(path: 8)])))
        Self.expectOnly(.badRwalk, many, h)
        #expect(many.anomalies[0].text == "Rwalk with 2 qids answers a walk of 1 name")
        h.t(0, .twalk(Twalk(fid: 0, newfid: 6, wnames: ["a", "b"])))
        let none = h.r(0, .rwalk(Rwalk(wqids: [])))
        #expect(none.anomalies.map(\.kind) == [.badRwalk])
        #expect(none.anomalies.first?.text.hasPrefix("Rwalk with no qids answers a walk of 2 names") == true)
        // A clone (no names, no qids) and a walk stopping after its first name are as walk(5) has them.
        h.t(0, .twalk(Twalk(fid: 0, newfid: 7, wnames: [])))
        #expect(h.r(0, .rwalk(Rwalk(wqids: []))).anomalies.isEmpty)
        h.t(0, .twalk(Twalk(fid: 0, newfid: 8, wnames: ["a", "b"])))
        #expect(h.r(0, .rwalk(Rwalk(wqids: [Qid(type: .dir, path: 7)]))).anomalies.isEmpty)
    }

    /// A read, readdir or write answered with more than it asked for.
    @Test func replyCountAboveTheRequests() {
        var h = Self.mounted()
        h.t(0, .tread(Tread(fid: 2, offset: 0, count: 4)))
        let read = h.r(0, .rread(Rread(data: [1, 2, 3, 4, 5])))
        Self.expectOnly(.replyOverCount, read, h)
        #expect(read.anomalies[0].text == "Rread count 5 is more than the Tread asked for (4)")
        #expect(read.anomalies[0].fid == 2)
        h.t(0, .twrite(Twrite(fid: 2, offset: 0, data: [1, 2])))
        #expect(h.r(0, .rwrite(Rwrite(count: 3))).anomalies.map(\.kind) == [.replyOverCount])
        h.t(0, .treaddir(Treaddir(fid: 2, offset: 0, count: 10)))
        #expect(h.r(0, .rreaddir(Rreaddir(data: Array(repeating: 0, count: 11)))).anomalies.map(\.kind) == [.replyOverCount])
        // As much as asked, or less: nothing.
        h.t(0, .tread(Tread(fid: 2, offset: 0, count: 4)))
        #expect(h.r(0, .rread(Rread(data: [1, 2, 3, 4]))).anomalies.isEmpty)
        h.t(0, .twrite(Twrite(fid: 2, offset: 0, data: [1, 2])))
        #expect(h.r(0, .rwrite(Rwrite(count: 1))).anomalies.isEmpty)
    }

    /// A read, readdir or write needs its fid open, and open for it.
    @Test func ioOnAFidNotOpenForIt() {
        var h = Self.mounted()   // fid 1 walked to /f, fid 2 open RDWR
        let read = h.t(0, .tread(Tread(fid: 1, offset: 0, count: 10)))
        Self.expectOnly(.fidNotOpen, read, h)
        #expect(read.anomalies[0].text == "Tread on fid 1, which is not open (walked, /f)")
        #expect(h.t(1, .treaddir(Treaddir(fid: 0, offset: 0, count: 100))).anomalies.first?.text
                == "Treaddir on fid 0, which is not open (attached, /)")
        // Open the other way: a write on a read-only fid, a read on a write-only one.
        h.walk(2, 0, 3, ["f"], dir: false)
        h.t(2, .tlopen(Tlopen(fid: 3, flags: .rdonly)))
        h.r(2, .rlopen(Rlopen(qid: Qid(path: 100), iounit: 0)))
        #expect(h.t(3, .twrite(Twrite(fid: 3, offset: 0, data: [1]))).anomalies.first?.text
                == "Twrite on fid 3, which is open RDONLY (/f)")
        #expect(h.t(4, .tread(Tread(fid: 3, offset: 0, count: 1))).anomalies.isEmpty)
        // A fid open read-write, an xattr fid (read after Txattrwalk), and 9P2000's OEXEC (read) pass.
        #expect(h.t(5, .twrite(Twrite(fid: 2, offset: 0, data: [1]))).anomalies.isEmpty)
        h.t(6, .txattrwalk(Txattrwalk(fid: 0, newfid: 4, name: "user.x")))
        h.r(6, .rxattrwalk(Rxattrwalk(size: 4)))
        #expect(h.t(7, .tread(Tread(fid: 4, offset: 0, count: 4))).anomalies.isEmpty)
        var p9 = Harness(wire: .p9)
        p9.version("9P2000", msize: 8192)
        p9.t(0, .tattach(Tattach(fid: 0, uname: "u", aname: "")))
        p9.r(0, .rattach(Rattach(qid: Qid(type: .dir, path: 1))))
        p9.t(0, .topen(Topen(fid: 0, mode: OpenMode(rawValue: 3))))
        p9.r(0, .ropen(Ropen(qid: Qid(type: .dir, path: 1), iounit: 0)))
        #expect(p9.t(0, .tread(Tread(fid: 0, offset: 0, count: 10))).anomalies.isEmpty, "OEXEC reads")
        #expect(p9.t(1, .twrite(Twrite(fid: 0, offset: 0, data: [1]))).anomalies.map(\.kind) == [.fidNotOpen])
    }

    @Test func readCountAboveIounit() {
        var h = Self.mounted()
        let out = h.t(0, .tread(Tread(fid: 2, offset: 0, count: 4097)))
        Self.expectOnly(.countExceedsIounit, out, h)
        let ok = h.t(1, .tread(Tread(fid: 2, offset: 0, count: 4096)))
        #expect(ok.anomalies.isEmpty)
    }

    @Test func writeCountAboveMsizeMinus24() {
        // iounit 0 = no guarantee, so only msize − 24 applies.
        var h = Harness(wire: .l)
        h.version("9P2000.L", msize: 8192)
        h.attach(0, fid: 0)
        h.walk(0, 0, 1, [])
        h.t(0, .tlopen(Tlopen(fid: 1, flags: .wronly)))
        h.r(0, .rlopen(Rlopen(qid: Qid(path: 1), iounit: 0)))
        let fits = h.t(0, .twrite(Twrite(fid: 1, offset: 0, data: [UInt8](repeating: 0, count: 8192 - 24))))
        #expect(fits.anomalies.isEmpty)
        h.r(0, .rwrite(Rwrite(count: 8168)))
        let out = h.t(0, .twrite(Twrite(fid: 1, offset: 0, data: [UInt8](repeating: 0, count: 8192 - 23))))
        Self.expectOnly(.countExceedsMsize, out, h)
    }

    @Test func readdirCountAboveMsizeMinus24() {
        var h = Self.mounted()
        let out = h.t(0, .treaddir(Treaddir(fid: 2, offset: 0, count: 8192 - 24 + 1)))
        // 8169 is also above the iounit (4096): both limits are reported.
        #expect(out.anomalies.map(\.kind) == [.countExceedsIounit, .countExceedsMsize])
        #expect(out.anomalies.allSatisfy { $0.messageIndex == out.message?.index })
    }

    @Test func replyTypeMismatch() {
        var h = Self.mounted()
        h.t(0, .tgetattr(Tgetattr(fid: 1, requestMask: .basic)))
        let out = h.r(0, .rclunk)
        Self.expectOnly(.replyTypeMismatch, out, h)
        #expect(h.tracker.fid(1, on: h.conn) != nil)
    }

    @Test func errorRepliesAreNotMismatches() {
        var h = Self.mounted()
        h.t(0, .tgetattr(Tgetattr(fid: 1, requestMask: .basic)))
        let out = h.r(0, .rlerror(Rlerror(ecode: .EIO)))
        #expect(out.anomalies.isEmpty)
        #expect(out.exchange?.status == .error)
    }

    @Test func versionTagNotNotag() {
        var h = Harness(wire: .l)
        let out = h.t(0, .tversion(Tversion(msize: 8192, version: "9P2000.L")))
        Self.expectOnly(.versionTagNotNotag, out, h)
    }

    /// version(5): a server that accepts none of the versions offered answers Rversion "unknown", not an error
    /// (diod answers a Tversion of 9P2000.u with Rlerror EIO).
    @Test(arguments: [(Dialect.l, Message.rlerror(Rlerror(ecode: .EIO))),
                      (.u, .rerror(Rerror(ename: "Invalid argument", errno: 22)))])
    func versionAnsweredWithError(wire: Dialect, reply: Message) {
        var h = Harness(wire: wire)
        h.t(.notag, .tversion(Tversion(msize: 8192, version: "9P2000.u")))
        let out = h.r(.notag, reply)
        Self.expectOnly(.versionAnsweredWithError, out, h)
        #expect(out.exchange?.status == .error)
        // Rversion "unknown" is the refusal the protocol defines: no anomaly.
        var ok = Harness(wire: .l)
        ok.t(.notag, .tversion(Tversion(msize: 8192, version: "9P2000.u")))
        #expect(ok.r(.notag, .rversion(Rversion(msize: 8192, version: "unknown"))).anomalies.isEmpty)
        // An msize too small to work with is refused with an error by servers (ninescope's and Plan 9's below
        // 256 bytes): version(5)'s 'unknown' is for versions, so that is no anomaly.
        var small = Harness(wire: wire)
        small.t(.notag, .tversion(Tversion(msize: 100, version: "9P2000.L")))
        let refused = small.r(.notag, reply)
        #expect(refused.anomalies.isEmpty, "\(refused.anomalies)")
        #expect(refused.exchange?.status == .error)
    }

    @Test func messageLargerThanMsize() {
        var h = Self.mounted(msize: 8192)
        // A Twrite of 8200 bytes: the frame is over msize, and so is the count over msize − 24 and iounit.
        let out = h.t(0, .twrite(Twrite(fid: 2, offset: 0, data: [UInt8](repeating: 1, count: 8200 - 23))))
        #expect(out.anomalies.map(\.kind) == [.messageExceedsMsize, .countExceedsIounit, .countExceedsMsize])
        #expect(out.anomalies.allSatisfy { $0.messageIndex == out.message?.index })
        let big = h.r(0, .rread(Rread(data: [UInt8](repeating: 0, count: 9000))))
        #expect(big.anomalies.map(\.kind) == [.messageExceedsMsize, .replyTypeMismatch])
    }

    @Test func malformedFrame() {
        var h = Self.mounted()
        var bytes = Fcall(tag: 4, .tclunk(Tclunk(fid: 1))).encode(dialect: .l)
        bytes.removeLast()
        bytes[0] = UInt8(bytes.count)
        let out = h.raw(bytes, .toServer)
        Self.expectOnly(.malformedFrame, out, h)
        #expect(out.message?.isMalformed == true)
        #expect(out.exchange?.isMalformed == true)
        #expect(out.exchange?.tag == 4, "the header is still read: the exchange has its tag")
        #expect(out.message?.canonicalLine.hasPrefix("malformed Tclunk tag 4") == true)
        // Its reply pairs normally; a malformed Tclunk is not applied, so fid 1 lives on.
        let reply = h.r(4, .rclunk)
        #expect(reply.message?.exchange == out.message?.exchange)
        #expect(h.tracker.fid(1, on: h.conn) != nil)
    }

    @Test func headerlessFrame() {
        var h = Self.mounted()
        let out = h.raw([3, 0, 0], .toServer)
        Self.expectOnly(.malformedFrame, out, h)
        #expect(out.message?.exchange == nil)
    }

    @Test func garbageBytes() {
        var h = Self.mounted()
        let out = h.tracker.handle(.garbage(conn: h.conn, direction: .toServer, at: h.tick(), bytes: [1, 2, 3],
                                            reason: "frame size 3 is below the 7-byte minimum"))
        Self.expectOnly(.garbageBytes, out, h)
        #expect(out.message?.kind == .garbage(reason: "frame size 3 is below the 7-byte minimum"))
        #expect(out.message?.canonicalLine == "garbage 3 bytes 010203: frame size 3 is below the 7-byte minimum")
        #expect(out.anomalies.first?.text
                == "3 unframeable bytes to the server 010203: frame size 3 is below the 7-byte minimum")
        #expect(h.summary.garbageCount == 1)
        let again = h.tracker.message(at: out.message!.index)!
        #expect(again.kind == out.message!.kind)
        #expect(again.bytes == [1, 2, 3])
        #expect(again.canonicalLine == out.message?.canonicalLine)
    }

    /// A garbage run's line shows its bytes as a data field is shown: text when they are text (a web
    /// client that found the port), hex otherwise, the first 64 bytes of a longer run; a run reported
    /// without its bytes says only its size.
    @Test func garbageLinesShowTheirBytes() {
        var h = Self.mounted()
        let http = Array("GET / HTTP/1.1\r\n".utf8)
        let text = h.tracker.handle(.garbage(conn: h.conn, direction: .toServer, at: h.tick(), bytes: http,
                                             reason: "frame size 542393671 exceeds the limit 16777216"))
        #expect(text.message?.canonicalLine
                == #"garbage 16 bytes 'GET / HTTP/1.1\r\n': frame size 542393671 exceeds the limit 16777216"#)
        let long = (0..<100).map { UInt8($0) }
        let hex = h.tracker.handle(.garbage(conn: h.conn, direction: .toClient, at: h.tick(), bytes: long,
                                            reason: "skipped 100 bytes looking for a frame header"))
        let shown = long.prefix(64).map { String(format: "%02x", $0) }.joined()
        #expect(hex.message?.canonicalLine
                == "garbage 100 bytes \(shown)…: skipped 100 bytes looking for a frame header")
        #expect(hex.anomalies.first?.text
                == "100 unframeable bytes to the client \(shown)…: skipped 100 bytes looking for a frame header")
        let none = h.tracker.handle(.garbage(conn: h.conn, direction: .toServer, at: h.tick(), bytes: [],
                                             reason: "stream ended inside a frame (9 of 20 bytes)"))
        #expect(none.message?.canonicalLine == "garbage 0 bytes: stream ended inside a frame (9 of 20 bytes)")
    }

    @Test func typeNotInNegotiatedDialect() {
        var h = Self.mounted()
        let out = h.t(0, .topen(Topen(fid: 1, mode: .read)))
        Self.expectOnly(.typeNotInDialect, out, h)
        #expect(h.summary.dialect == .l, "a negotiated dialect is not re-guessed")
    }

    @Test func wrongDirection() {
        var h = Self.mounted()
        let bytes = Fcall(tag: 0, .tclunk(Tclunk(fid: 1))).encode(dialect: .l)
        let out = h.tracker.handle(.frame(conn: h.conn, direction: .toClient, at: h.tick(), bytes: bytes, marks: []))
        Self.expectOnly(.wrongDirection, out, h)
    }

    @Test func clientUsesReservedTagAndFid() {
        let config = SessionTracker.Configuration(reservedTags: TagAllocator.defaultRange,
                                                  reservedFids: FidAllocator.defaultRange)
        var h = Self.mounted(configuration: config)
        let tagOut = h.t(0xF123, .tgetattr(Tgetattr(fid: 1, requestMask: .basic)))
        #expect(tagOut.anomalies.map(\.kind) == [.clientUsedReservedTag])
        #expect(tagOut.anomalies.first?.messageIndex == tagOut.message?.index)
        h.r(0xF123, .rgetattr(Rgetattr(valid: .basic, qid: Qid(path: 100))))
        let fidOut = h.t(0, .twalk(Twalk(fid: 0, newfid: 0xFFFF_0001, wnames: [])))
        #expect(fidOut.anomalies.map(\.kind) == [.clientUsedReservedFid])
        #expect(fidOut.anomalies.first?.fid == 0xFFFF_0001)
        h.r(0, .rwalk(Rwalk(wqids: [])))
        // The same numbers on injected requests are fine.
        let inj = h.t(0xF124, .twalk(Twalk(fid: 0, newfid: 0xFFFF_0002, wnames: [])), marks: .injected)
        #expect(inj.anomalies.isEmpty)
    }

    /// Asked with the present time, the tracker names each request unanswered for at least the given time,
    /// once; answered ones, younger ones and ones already named are left out, and nothing else changes.
    @Test func requestsStillPendingAreNamedOnce() {
        for retain in [true, false] {
            var h = Self.mounted(configuration: retain ? .init() : .lineTrace(reportsChanges: true))
            let slow = h.t(3, .tread(Tread(fid: 2, offset: 0, count: 100)))
            let sent = h.now
            h.t(4, .tgetattr(Tgetattr(fid: 2, requestMask: .basic)))
            h.r(4, .rgetattr(Rgetattr(valid: .basic, qid: Qid(path: 100))))
            let second: Int64 = 1_000_000_000
            h.now += 5 * second
            let young = h.t(5, .tclunk(Tclunk(fid: 1)))
            #expect(h.tracker.reportOverdue(at: sent + 9 * second, after: 10 * second).anomalies.isEmpty)
            let out = h.tracker.reportOverdue(at: sent + 10 * second + 40_000_000, after: 10 * second)
            #expect(out.anomalies.map(\.kind) == [.stillPending], "retain \(retain)")
            let a = out.anomalies.first
            #expect(a?.tag == 3 && a?.conn == h.conn && a?.messageIndex == slow.message?.index)
            #expect(a?.exchange == slow.message?.exchange)
            #expect(a?.text == "Tread tag 3 (#\(slow.message?.index ?? -1)) unanswered after 10.0s", "\(a?.text ?? "")")
            #expect(a?.at == sent + 10 * second + 40_000_000)
            // Once only; the clunk sent later is named when it too is old enough.
            let later = h.tracker.reportOverdue(at: sent + 30 * second, after: 10 * second)
            #expect(later.anomalies.map(\.exchange) == [young.message?.exchange])
            #expect(h.tracker.reportOverdue(at: sent + 60 * second, after: 10 * second).anomalies.isEmpty)
            // Still pending as before: the reply pairs with it.
            let reply = h.r(3, .rread(Rread(data: [1, 2, 3])))
            #expect(reply.message?.exchange == slow.message?.exchange && reply.anomalies.isEmpty)
            #expect(h.tracker.anomalyTotal == 2 && h.summary.anomalyCount == 2)
        }
    }

    @Test func leakAtResetNamesEveryLiveFid() {
        var h = Self.mounted()
        let out = h.close(.reset)
        #expect(out.anomalies.map(\.kind) == [.fidLeakedAtClose, .fidLeakedAtClose, .fidLeakedAtClose])
        #expect(out.anomalies.map(\.fid) == [0, 1, 2])
        #expect(out.anomalies[2].text.contains("open"))
        #expect(out.anomalies[2].text.contains("/f"))
        #expect(out.anomalies[2].text.contains("reset"))
        #expect(h.summary.anomalyCount == 3)
    }

    /// A fid an injected request made and nobody clunked is still a leak at the server, but the inspector's
    /// user made it, not the client: the anomaly says so (it read as the client's own leak).
    @Test func aLeakedInjectedFidIsSaidToBeInjected() {
        for retain in [true, false] {
            var h = Self.mounted(configuration: retain ? .init() : .lineTrace(reportsChanges: true))
            h.t(0xF124, .twalk(Twalk(fid: 0, newfid: 0xFFFF_FFFE, wnames: ["f"])), marks: .injected)
            h.r(0xF124, .rwalk(Rwalk(wqids: [Qid(path: 100)])))
            let out = h.close(.eof)
            #expect(out.anomalies.map(\.fid) == [0, 1, 2, 0xFFFF_FFFE])
            let said = out.anomalies.map(\.text)
            #expect(said.last?.contains("made by an injected request, not the client") == true, "\(said)")
            #expect(said.dropLast().allSatisfy { !$0.contains("injected") }, "\(said)")
        }
    }

    /// How long a request waited is rounded to the tenth of a second, and below a tenth said in milliseconds
    /// (199.95 ms was `0.1s`, 3 ms `0.0s`).
    @Test(arguments: [(Int64(3_000_000), "3ms"), (199_950_000, "0.2s"), (1_549_000_000, "1.5s"), (1_550_000_000, "1.6s")])
    func waitsAreRoundedAndShortOnesInMilliseconds(wait: Int64, said: String) {
        var h = Self.mounted()
        h.step = wait
        _ = h.t(7, .tread(Tread(fid: 2, offset: 0, count: 1)))
        let text = h.close(.eof).anomalies.first { $0.kind == .unansweredAtClose }?.text ?? ""
        #expect(text.hasSuffix(", \(said) after it was sent"), "\(text)")
    }

    /// Requests pending when the connection ends become unanswered, each said by an `unanswered` anomaly as it
    /// happens (in order sent, with how long it had waited); the fids still in use are said after them.
    @Test func pendingAtCloseIsUnanswered() {
        var h = Self.mounted()
        let anomaliesBefore = h.summary.anomalyCount
        let req = h.t(5, .tread(Tread(fid: 2, offset: 0, count: 1)))
        let clunk = h.t(6, .tclunk(Tclunk(fid: 1)))
        h.step = 1_500_000_000
        let out = h.close(.error("connection timed out"))
        let x = h.tracker.exchange(req.message!.exchange!)!
        #expect(x.status == .unansweredAtClose)
        #expect(x.latency == nil)
        #expect(h.tracker.pending(on: h.conn).isEmpty)
        #expect(h.summary.closeReason == .error("connection timed out"))
        let unanswered = out.anomalies.filter { $0.kind == .unansweredAtClose }
        #expect(unanswered.map(\.exchange) == [req.message?.exchange, clunk.message?.exchange])
        #expect(unanswered.map(\.tag) == [5, 6])
        #expect(unanswered.first?.text == "Tread tag 5 (#\(req.message!.index)) got no reply before the connection "
                + "ended (error: connection timed out), 1.5s after it was sent", "\(unanswered.first?.text ?? "")")
        #expect(out.anomalies.prefix(2).allSatisfy { $0.kind == .unansweredAtClose }, "before the leaks")
        #expect(h.summary.anomalyCount == anomaliesBefore + out.anomalies.count)
    }

    /// A capture that ends with requests pending says nothing of them: the connection did not end.
    @Test func pendingAtTheEndOfACaptureIsNotAnAnomaly() {
        var h = Self.mounted()
        _ = h.t(5, .tread(Tread(fid: 2, offset: 0, count: 1)))
        let out = h.close(.endOfCapture)
        #expect(out.anomalies.isEmpty)
    }
}
