import NinePSession
import NinePWire
import Testing

/// Per-connection dialect: negotiation, forcing, and guessing when the trace starts mid-session.
@Suite struct DialectTests {
    @Test func rversionWins() {
        var h = Harness(wire: .u)
        h.t(.notag, .tversion(Tversion(msize: 8192, version: "9P2000.u")))
        #expect(h.summary.dialect == .u)
        #expect(h.summary.dialectSource == .proposed)
        #expect(h.summary.proposedVersion == "9P2000.u" && h.summary.proposedMsize == 8192)
        h.r(.notag, .rversion(Rversion(msize: 4096, version: "9P2000")))
        #expect(h.summary.dialect == .p9)
        #expect(h.summary.dialectSource == .negotiated)
        #expect(h.summary.msize == 4096)
    }

    /// nfs-ganesha (9P2000.L alone) refuses a Tversion of 9P2000.u or 9P2000 with Rerror errno[4], ENOENT: read
    /// as 9P2000.L's layout. It was malformed (9P2000.u: "needs 4 bytes" for errno) or an ename of two NULs.
    @Test(arguments: ["9P2000.u", "9P2000"])
    func aVersionRefusedWithAnErrnoOnlyRerror(_ version: String) {
        var h = Harness(wire: .l)
        h.t(.notag, .tversion(Tversion(msize: 65536, version: P9String(version))))
        let err = h.raw([11, 0, 0, 0, 107, 0xFF, 0xFF, 2, 0, 0, 0], .toClient)
        #expect(err.message?.decoded?.message == .rerror(Rerror(ename: nil, errno: 2)))
        #expect(err.message?.isMalformed == false)
        #expect(err.exchange?.error?.errno == .ENOENT)
        #expect(err.anomalies.map(\.kind) == [.versionAnsweredWithError])
        // An Rerror of the proposed dialect's own layout is read as before.
        var u = Harness(wire: .u)
        u.t(.notag, .tversion(Tversion(msize: 65536, version: "9P2000.u")))
        #expect(u.r(.notag, .rerror(Rerror(ename: "unknown version", errno: 22))).message?.decoded?.message
                == .rerror(Rerror(ename: "unknown version", errno: 22)))
    }

    @Test func unknownVersionMeansNoDialect() {
        var h = Harness(wire: .l)
        h.version("9P2000.L", reply: "unknown")
        #expect(h.summary.dialectSource == .rejected)
        #expect(h.summary.negotiatedVersion == "unknown")
        #expect(h.summary.dialect == .l, "decoding keeps the last dialect")
    }

    @Test func forcedDialectIgnoresVersion() {
        var h = Harness(wire: .u, configuration: .init(forcedDialect: .u))
        h.version("9P2000.L")
        #expect(h.summary.dialect == .u)
        #expect(h.summary.dialectSource == .forced)
        #expect(h.summary.negotiatedVersion == "9P2000.L")
        h.attach(0, fid: 0, nUname: 1000)
        h.t(0, .tstat(Tstat(fid: 0)))
        let err = h.r(0, .rerror(Rerror(ename: "permission denied", errno: 13)))
        #expect(err.message?.dialect == .u)
        #expect(err.exchange?.error == ExchangeError(errno: .EACCES, ename: "permission denied"))
        // A .L message on a connection forced to .u is reported, and the dialect stays.
        let l = h.t(1, .tgetattr(Tgetattr(fid: 0, requestMask: .basic)))
        #expect(l.anomalies.map(\.kind) == [.typeNotInDialect])
        #expect(h.summary.dialect == .u)
    }

    /// A connection traced from its start (the proxy's, a capture's recorded from its open) whose first
    /// frame is a reply has not been joined late: the reply to a request never sent is unknown-tag, and a
    /// Tversion after it starts the session as usual. Without that knowledge (a capture joined mid-session),
    /// such a reply is taken for the answer to a request sent before the trace began.
    @Test func aReplyBeforeAnyRequestOnAConnectionTracedFromItsStartIsUnknownTag() {
        var h = Harness(wire: .l, open: false)
        _ = h.tracker.handle(.connectionOpened(conn: h.conn, at: h.now,
                                               info: ConnectionInfo(client: "c", upstream: "u", fromStart: true)))
        let early = h.r(5, .rclunk)
        #expect(early.anomalies.map(\.kind) == [.replyToUnknownTag], "\(early.anomalies)")
        #expect(!h.summary.startedMidStream)
        var joined = Harness(wire: .l, open: false)
        _ = joined.tracker.handle(.connectionOpened(conn: joined.conn, at: joined.now,
                                                    info: ConnectionInfo(client: "c", upstream: "u")))
        #expect(joined.r(5, .rclunk).anomalies.isEmpty)
        #expect(joined.summary.startedMidStream)
    }

    /// A connection that continues from an earlier capture file arrives with the version and msize it
    /// negotiated there: decoded in that dialect from its first frame (a 9P2000.u Rerror keeps its errno,
    /// which the 9P2000.L default would not read), the msize known, and fids from before adopted silently.
    @Test func aContinuedConnectionDecodesWithTheVersionItNegotiatedBefore() {
        var h = Harness(wire: .u, open: false)
        _ = h.tracker.handle(.connectionOpened(conn: h.conn, at: h.now,
                                               info: ConnectionInfo(client: "c", upstream: "u", version: "9P2000.u", msize: 8192)))
        #expect(h.summary.dialect == .u && h.summary.dialectSource == .negotiated)
        #expect(h.summary.negotiatedVersion == "9P2000.u" && h.summary.msize == 8192)
        let stat = h.t(4, .tstat(Tstat(fid: 9)))
        #expect(stat.anomalies.isEmpty, "a fid from before the file is adopted: \(stat.anomalies)")
        let err = h.r(4, .rerror(Rerror(ename: "permission denied", errno: 13)))
        #expect(err.message?.dialect == .u)
        #expect(err.exchange?.error == ExchangeError(errno: .EACCES, ename: "permission denied"))
        #expect(h.summary.startedMidStream)
        // A count beyond the msize it negotiated is reported as it would have been in the first file.
        let big = h.t(5, .tread(Tread(fid: 9, offset: 0, count: 100_000)))
        #expect(big.anomalies.map(\.kind).contains(.countExceedsMsize), "\(big.anomalies)")
        // Fids it had in use come with their paths and states; walks from them extend those paths.
        var withFids = Harness(wire: .l, open: false)
        let known = [KnownFid(fid: 3, path: FidPath(root: .attach(aname: "/srv"), elements: ["usr"]), state: .walked),
                     KnownFid(fid: 4, path: FidPath(root: .attach(aname: "/srv"), elements: ["etc", "motd"]), state: .open,
                              qid: Qid(version: 2, path: 44), openMode: .dotL(LOpenFlags(rawValue: 0)), iounit: 4096,
                              uname: "glenda", nUname: 1000),
                     KnownFid(fid: 5, path: FidPath(root: .unknown), state: .clunked)]
        _ = withFids.tracker.handle(.connectionOpened(conn: withFids.conn, at: withFids.now,
                                                      info: ConnectionInfo(client: "c", upstream: "u", version: "9P2000.L",
                                                                           msize: 8192, fids: known)))
        #expect(withFids.tracker.fidTable(on: withFids.conn).map { "\($0.fid) \($0.state) \($0.path?.description ?? "-")" }
                == ["3 walked /srv:/usr", "4 open /srv:/etc/motd"], "an ended fid is not taken")
        let motd = withFids.tracker.fidTable(on: withFids.conn).first { $0.fid == 4 }
        #expect(motd?.qid == Qid(version: 2, path: 44) && motd?.openMode?.description == "RDONLY"
                && motd?.iounit == 4096 && motd?.uname == "glenda" && motd?.nUname == 1000, "\(String(describing: motd))")
        let read = withFids.t(1, .tread(Tread(fid: 4, offset: 0, count: 100)))
        #expect(read.anomalies.isEmpty && read.message?.fidPath?.description == "/srv:/etc/motd")
        _ = withFids.r(1, .rread(Rread(data: [1, 2, 3])))
        // The iounit it was opened with still bounds its reads.
        let large = withFids.t(1, .tread(Tread(fid: 4, offset: 0, count: 5000)))
        #expect(large.anomalies.map(\.kind).contains(.countExceedsIounit), "\(large.anomalies)")
        withFids.walk(2, 3, 6, ["bin"])
        #expect(withFids.path(6) == "/srv:/usr/bin")
        #expect(withFids.tracker.connection(withFids.conn)?.info?.fids.isEmpty == true, "the list is not kept")

        // An unknown version is no hint: the default guess, as for any mid-stream start.
        var other = Harness(wire: .l, open: false)
        _ = other.tracker.handle(.connectionOpened(conn: other.conn, at: other.now,
                                                   info: ConnectionInfo(client: "c", upstream: "u", version: "unknown")))
        #expect(other.summary.dialectSource == .assumed)
    }

    @Test func midStreamDotLCodeInfersDotL() {
        var h = Harness(wire: .l, configuration: .init(defaultDialect: .u))
        let out = h.t(3, .tgetattr(Tgetattr(fid: 7, requestMask: .basic)))
        #expect(out.message?.dialect == .l)
        #expect(h.summary.dialect == .l)
        #expect(h.summary.dialectSource == .inferred)
        #expect(h.summary.startedMidStream)
        // The fid in use before the trace is adopted, not an anomaly.
        #expect(out.anomalies.isEmpty)
        #expect(h.tracker.fid(7, on: h.conn)?.state == .adopted)
        #expect(h.path(7) == "?/")
        // A reply to a request sent before the trace began is not an anomaly either…
        let early = h.r(5, .rclunk)
        #expect(early.anomalies.isEmpty)
        #expect(early.exchange?.status == .unmatchedReply)
        h.r(3, .rgetattr(Rgetattr(valid: .basic, qid: Qid(path: 9))))
        // …but a reply on a tag the trace has seen used is.
        let dup = h.r(3, .rclunk)
        #expect(dup.anomalies.map(\.kind) == [.replyToUnknownTag])
        h.walk(0, 7, 8, ["a", "b"])
        #expect(h.path(8) == "?/a/b")
    }

    @Test func midStreamWithoutEvidenceAssumesDefault() {
        var h = Harness(wire: .l)
        let out = h.t(0, .tclunk(Tclunk(fid: 1)))
        #expect(out.message?.dialect == .l)
        #expect(h.summary.dialectSource == .assumed)
        var u = Harness(wire: .u, configuration: .init(defaultDialect: .u))
        u.t(0, .tclunk(Tclunk(fid: 1)))
        #expect(u.summary.dialect == .u && u.summary.dialectSource == .assumed)
    }

    @Test func midStreamClassicCodeLeavesDotL() {
        var h = Harness(wire: .u)
        let open = h.t(0, .topen(Topen(fid: 1, mode: .read)))
        #expect(open.message?.dialect == .u)
        #expect(open.anomalies.isEmpty)
        #expect(h.summary.dialect == .u && h.summary.dialectSource == .inferred)
        h.r(0, .ropen(Ropen(qid: Qid(path: 1), iounit: 0)))
        h.t(1, .twalk(Twalk(fid: 1, newfid: 2, wnames: ["x"])))
        let err = h.r(1, .rerror(Rerror(ename: "file not found", errno: 2)))
        #expect(err.message?.decoded?.message == .rerror(Rerror(ename: "file not found", errno: 2)))
        #expect(err.exchange?.error?.errno == .ENOENT)
        #expect(h.summary.dialect == .u)
    }

    @Test func midStreamBodiesTellNineP2000FromDotU() {
        // First evidence: Tstat (classic) → .u is the first classic guess.
        var h = Harness(wire: .p9)
        h.t(0, .tstat(Tstat(fid: 1)))
        #expect(h.summary.dialect == .u)
        // A 9P2000 Rerror has no errno: it does not decode as .u, so the guess moves to 9P2000.
        let err = h.r(0, .rerror(Rerror(ename: "file does not exist")))
        #expect(err.message?.dialect == .p9)
        #expect(err.message?.isMalformed == false)
        #expect(err.anomalies.isEmpty)
        #expect(h.summary.dialect == .p9 && h.summary.dialectSource == .inferred)
        #expect(err.exchange?.error == ExchangeError(errno: nil, ename: "file does not exist"))
        // And it stays there for later 9P2000 bodies.
        let attach = h.t(1, .tattach(Tattach(fid: 5, uname: "glenda", aname: "")))
        #expect(attach.message?.dialect == .p9)
        #expect(attach.message?.isMalformed == false)
    }

    @Test func midStreamNineP2000AttachLeavesDotL() {
        var h = Harness(wire: .p9)
        let out = h.t(0, .tattach(Tattach(fid: 0, uname: "glenda", aname: "")))
        #expect(out.message?.dialect == .p9)
        #expect(out.message?.isMalformed == false)
        #expect(h.summary.dialect == .p9)
    }

    @Test func versionMidStreamEndsTheGuessingAndTheAdoption() {
        var h = Harness(wire: .l)
        h.t(0, .tgetattr(Tgetattr(fid: 7, requestMask: .basic)))
        h.r(0, .rgetattr(Rgetattr(valid: .basic, qid: Qid(path: 9))))
        #expect(h.tracker.fid(7, on: h.conn) != nil)
        h.version("9P2000.L")
        #expect(h.summary.dialectSource == .negotiated)
        #expect(h.tracker.fid(7, on: h.conn) == nil, "Tversion frees every fid")
        let out = h.t(0, .tgetattr(Tgetattr(fid: 7, requestMask: .basic)))
        #expect(out.anomalies.map(\.kind) == [.unknownFid])
    }

    @Test func versionAbortsPendingAndFreesFids() {
        var h = Harness(wire: .l)
        h.version()
        h.attach(0, fid: 0)
        h.walk(0, 0, 1, ["a"])
        let pending = h.t(4, .tread(Tread(fid: 1, offset: 0, count: 1)))
        let v = h.t(.notag, .tversion(Tversion(msize: 8192, version: "9P2000.L")))
        let aborted = h.tracker.exchange(pending.message!.exchange!)!
        #expect(aborted.status == .abortedByVersion)
        #expect(aborted.latency == nil)
        #expect(v.exchanges.contains { $0.id == aborted.id && $0.status == .abortedByVersion })
        #expect(Set(v.fids.map(\.state)) == [.resetByVersion])
        #expect(v.fids.map(\.fid) == [0, 1])
        #expect(v.fids.allSatisfy { $0.endedBy == v.message?.exchange })
        #expect(h.tracker.fidTable(on: h.conn).isEmpty)
        #expect(h.tracker.pending(on: h.conn).map(\.requestType) == [.tversion])
        h.r(.notag, .rversion(Rversion(msize: 8192, version: "9P2000.L")))
        #expect(h.summary.msize == 8192)
        #expect(h.close().anomalies.isEmpty, "freed by version, so nothing leaks")
    }
}
