import NinePSession
import NinePWire
import Testing

/// Frames a capture holds only the first bytes of (`FrameMarks.truncated`: a snap length cut them).
@Suite struct TruncatedFrameTests {
    /// A cut Rread answers its Tread like any reply: the exchange completes with its latency, nothing is
    /// malformed or anomalous, the sizes counted are the frame's own, and the line says what was captured
    /// (also when the message is read back from the log).
    @Test func aCutReplyAnswersItsRequestAndIsNotMalformed() throws {
        var h = Harness()
        h.version()
        h.attach()
        h.walk(0, 0, 1, ["data"], dir: false)
        h.t(0, .tlopen(Tlopen(fid: 1, flags: LOpenFlags(rawValue: 0))))
        h.r(0, .rlopen(Rlopen(qid: Qid(path: 100), iounit: 0)))
        h.t(1, .tread(Tread(fid: 1, offset: 0, count: 8168)))
        let data = (0..<8168).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let whole = Fcall(tag: 1, .rread(Rread(data: data))).encode(dialect: .l)
        let cut = Array(whole.prefix(62))
        let before = h.summary.bytesToClient
        let out = h.tracker.handle(.frame(conn: h.conn, direction: .toClient, at: h.tick(), bytes: cut, marks: .truncated))
        #expect(out.anomalies.isEmpty, "\(out.anomalies)")
        let m = try #require(out.message)
        #expect(m.isTruncated && !m.isMalformed && m.frameSize == whole.count && m.bytes == cut)
        #expect(m.latency == 1_000 && m.fidPath?.description == "/data")
        #expect(m.canonicalLine == "Rread tag 1 count 8168 " + Self.hex(data.prefix(51)) + "… (cut: 62 of 8179 bytes captured)")
        let x = try #require(out.exchanges.last)
        #expect(x.status == .ok && !x.isMalformed && x.replyCode == MessageType.rread.rawValue)
        #expect(h.summary.bytesToClient - before == whole.count)
        #expect(h.summary.malformedCount == 0)
        let again = try #require(h.tracker.message(at: m.index))
        #expect(again.canonicalLine == m.canonicalLine && again.isTruncated && !again.isMalformed)
        #expect(h.tracker.messageSummary(at: m.index).map { ($0.size, $0.isMalformed) } ?? (0, true) == (8179, false))
        // The same bytes without the mark are a malformed frame, as before.
        h.t(2, .tread(Tread(fid: 1, offset: 0, count: 8168)))
        var bad = cut
        bad[5] = 2
        let malformed = h.tracker.handle(.frame(conn: h.conn, direction: .toClient, at: h.tick(), bytes: bad, marks: []))
        #expect(malformed.anomalies.map(\.kind) == [.malformedFrame])
        #expect(malformed.message?.isMalformed == true)
    }

    static func hex<C: Collection>(_ b: C) -> String where C.Element == UInt8 {
        b.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    /// What a cut frame's line shows: the fields its captured bytes hold whole, then the data captured.
    @Test func theLineShowsTheFieldsTheCapturedBytesHold() {
        func line(_ m: Message, _ keep: Int, tag: NinePWire.Tag = 3, dialect: Dialect = .l) -> String {
            TruncatedFrame.line(Array(Fcall(tag: tag, m).encode(dialect: dialect).prefix(keep)), dialect: dialect)
        }
        let text = Array("hello, 9p world, this is a long line of text that goes on and on\n".utf8)
        let twrite = Message.twrite(Twrite(fid: 1, offset: 4096, data: text + text))
        #expect(line(twrite, 23 + 5) == "Twrite tag 3 fid 1 offset 4096 count 130 'hello'…")
        #expect(line(twrite, 23) == "Twrite tag 3 fid 1 offset 4096 count 130 …")
        #expect(line(twrite, 20) == "Twrite tag 3 fid 1 offset 4096 …", "count not whole")
        #expect(line(twrite, 12) == "Twrite tag 3 fid 1 …")
        #expect(line(twrite, 7) == "Twrite tag 3 …")
        #expect(line(.rread(Rread(data: text + text)), 11 + 100) == "Rread tag 3 count 130 '" + String(decoding: text.prefix(64), as: UTF8.self) + "'…")
        #expect(line(.rread(Rread(data: [0xFF, 0, 1])), 12) == "Rread tag 3 count 3 ff…")
        #expect(line(.rreaddir(Rreaddir(data: Array(repeating: 0, count: 300))), 40) == "Rreaddir tag 3 count 300 …")
        #expect(line(.twalk(Twalk(fid: 1, newfid: 2, wnames: ["a", "b"])), 9, tag: .notag) == "Twalk tag NOTAG …")
        #expect(TruncatedFrame.line([9, 0, 0, 0, 200, 1, 0, 5], dialect: .l) == "type200 tag 1 …")
        #expect(TruncatedFrame.line([9, 0, 0], dialect: .l) == "frame")
    }

    /// What `proxy --capture-data N` keeps of a frame: Rread and Twrite cut after N bytes of data, every other
    /// frame (and those with no more data) whole.
    @Test func keepingDataCutsOnlyLongReadsAndWrites() {
        let data = (0..<100).map { UInt8($0) }
        let rread = Fcall(tag: 1, .rread(Rread(data: data))).encode(dialect: .l)
        let twrite = Fcall(tag: 2, .twrite(Twrite(fid: 3, offset: 9, data: data))).encode(dialect: .u)
        #expect(TruncatedFrame.keepingData(rread, upTo: 16) == Array(rread.prefix(11 + 16)))
        #expect(TruncatedFrame.keepingData(rread, upTo: 0) == Array(rread.prefix(11)))
        #expect(TruncatedFrame.keepingData(twrite, upTo: 16) == Array(twrite.prefix(23 + 16)))
        #expect(TruncatedFrame.keepingData(rread, upTo: 100) == nil, "no more data than that")
        #expect(TruncatedFrame.keepingData(rread, upTo: -5) == Array(rread.prefix(11)))
        let rreaddir = Fcall(tag: 1, .rreaddir(Rreaddir(data: data))).encode(dialect: .l)
        #expect(TruncatedFrame.keepingData(rreaddir, upTo: 0) == nil, "a directory listing is kept whole")
        #expect(TruncatedFrame.keepingData(Array(rread.dropLast()), upTo: 0) == nil, "not a whole frame")
        #expect(TruncatedFrame.keepingData([1, 2, 3], upTo: 0) == nil)
        // A kept frame reads as a cut one.
        let kept = TruncatedFrame.keepingData(twrite, upTo: 4)!
        #expect(TruncatedFrame.line(kept, dialect: .u) == "Twrite tag 2 fid 3 offset 9 count 100 00010203…")
    }

    /// A cut Tattach, Twalk or Twrite still does what it did when what is missing is a name's end or data:
    /// the fids it makes and uses are tracked (no unknown-fid anomalies after it), a path made from a cut
    /// name shows the cut (`…`), and a cut write still counts its bytes against the iounit.
    @Test func cutAttachesWalksAndWritesKeepTheirFids() throws {
        var h = Harness()
        h.version()
        func cut(_ d: Direction, _ tag: NinePWire.Tag, _ m: Message, keep: Int) -> TrackerOutput {
            let bytes = Array(Fcall(tag: tag, m).encode(dialect: .l).prefix(keep))
            return h.tracker.handle(.frame(conn: h.conn, direction: d, at: h.tick(), bytes: bytes, marks: .truncated))
        }
        // Tattach: 7 + fid 4 + afid 4 + uname 2+4 + aname 2+11 + n_uname 4 = 38 bytes; 30 captured.
        let attach = cut(.toServer, 0, .tattach(Tattach(fid: 0, uname: "user", aname: "/srv/export", nUname: 1000)),
                         keep: 30)
        #expect(attach.message?.canonicalLine
                == "Tattach tag 0 fid 0 afid NOFID uname 'user' aname '/srv/ex…' … (cut: 30 of 38 bytes captured)")
        h.r(0, .rattach(Rattach(qid: Qid(type: .dir, path: 1))))
        #expect(h.path(0) == "/srv/ex…:/")
        // Twalk with its second name cut.
        _ = cut(.toServer, 1, .twalk(Twalk(fid: 0, newfid: 1, wnames: ["usr", "bin"])), keep: 25)
        h.r(1, .rwalk(Rwalk(wqids: [Qid(type: .dir, path: 2), Qid(type: .dir, path: 3)])))
        #expect(h.path(1) == "/srv/ex…:/usr/b…")
        h.t(2, .tlopen(Tlopen(fid: 1, flags: LOpenFlags(rawValue: 2))))
        h.r(2, .rlopen(Rlopen(qid: Qid(path: 3), iounit: 4096)))
        // A Twrite of 8,000 bytes, 40 captured: its fid is known, and its count is over the iounit.
        let write = cut(.toServer, 3, .twrite(Twrite(fid: 1, offset: 0, data: Array(repeating: 7, count: 8000))),
                        keep: 40)
        #expect(write.message?.fidPath?.description == "/srv/ex…:/usr/b…")
        #expect(write.anomalies.map(\.kind) == [.countExceedsIounit], "\(write.anomalies)")
        #expect(h.anomalies.map(\.kind) == [.countExceedsIounit], "no unknown fid: \(h.anomalies)")
        #expect(!(h.tracker.exchange(ExchangeID(1))?.isMalformed ?? true), "a cut request is not malformed")
        // A cut reply whose missing bytes matter (an Rgetattr's) is not made up: nothing is known of it.
        let getattr = Rgetattr(valid: GetattrMask(rawValue: 0x7ff), qid: Qid(path: 3), mode: 0o100644, nlink: 1,
                               size: 5, blksize: 4096, blocks: 1)
        let cutGetattr = Array(Fcall(tag: 4, .rgetattr(getattr)).encode(dialect: .l).prefix(62))
        #expect(TruncatedFrame.bookkeeping(cutGetattr, dialect: .l) == nil)
        // (Shown, its line holds the fields captured whole.)
        #expect(TruncatedFrame.line(cutGetattr, dialect: .l)
                == "Rgetattr tag 4 valid 0x7ff BASIC qid (0000000000000003 0 ) mode 0100644 uid 0 gid 0 nlink 1 rdev 0x0 …")
    }

    /// A cut Rwalk still says how far the walk went (its `nwqid`), so a walk of many names whose reply a snap
    /// length cut makes its newfid (with no qid: the last one was not captured) and later uses of it are no
    /// unknown-fid anomalies; a cut Rwalk that walked fewer names than asked makes none. A Txattrwalk,
    /// Trename or Trenameat cut in its (last) name still does what it did, with the name cut.
    @Test func cutWalkRepliesXattrWalksAndRenamesKeepTheirFids() throws {
        var h = Harness()
        h.version()
        h.attach()
        func cut(_ d: Direction, _ tag: NinePWire.Tag, _ m: Message, keep: Int) -> TrackerOutput {
            let bytes = Array(Fcall(tag: tag, m).encode(dialect: .l).prefix(keep))
            return h.tracker.handle(.frame(conn: h.conn, direction: d, at: h.tick(), bytes: bytes, marks: .truncated))
        }
        let names = ["usr", "share", "doc", "ninescope", "examples", "captures"]
        let qids = (0..<6).map { Qid(type: .dir, path: UInt64(10 + $0)) }
        h.t(1, .twalk(Twalk(fid: 0, newfid: 1, wnames: names.map { P9String($0) })))
        // Rwalk: 7 + nwqid 2 + 6 × 13 = 87 bytes; 62 captured hold four qids whole.
        let reply = cut(.toClient, 1, .rwalk(Rwalk(wqids: qids)), keep: 62)
        let line = try #require(reply.message?.canonicalLine)
        #expect(line.hasPrefix("Rwalk tag 1 nwqid 6 0:") && line.hasSuffix(" … (cut: 62 of 87 bytes captured)"), "\(line)")
        #expect(line.contains(" 3:") && !line.contains(" 4:"), "the four qids captured whole: \(line)")
        #expect(reply.exchanges.last?.status == .ok && reply.anomalies.isEmpty, "\(reply.anomalies)")
        #expect(h.path(1) == "/usr/share/doc/ninescope/examples/captures")
        let walked = try #require(h.tracker.fid(1, on: h.conn))
        #expect(walked.state == .walked && walked.qid == nil, "the last qid was not captured")
        h.t(2, .tlopen(Tlopen(fid: 1, flags: LOpenFlags(rawValue: 0))))
        h.r(2, .rlopen(Rlopen(qid: Qid(type: .dir, path: 15), iounit: 0)))
        #expect(h.tracker.fid(1, on: h.conn)?.qid == Qid(type: .dir, path: 15))
        // A walk that stopped at the third name (an Rwalk of 3 qids cut after two): no newfid.
        h.t(3, .twalk(Twalk(fid: 0, newfid: 2, wnames: names.map { P9String($0) })))
        _ = cut(.toClient, 3, .rwalk(Rwalk(wqids: Array(qids.prefix(3)))), keep: 40)
        #expect(h.tracker.fid(2, on: h.conn) == nil)
        // Txattrwalk with its name cut: the newfid is an xattr fid named as far as captured.
        _ = cut(.toServer, 4, .txattrwalk(Txattrwalk(fid: 1, newfid: 3, name: "security.selinux")), keep: 17 + 7)
        h.r(4, .rxattrwalk(Rxattrwalk(size: 27)))
        let xattr = try #require(h.tracker.fid(3, on: h.conn))
        #expect(xattr.state == .xattr && xattr.xattr == XattrInfo(name: "securit…", size: 27))
        // Trename with its name cut moves the fid's path there.
        h.walk(5, 0, 4, ["notes"], dir: false)
        _ = cut(.toServer, 6, .trename(Trename(fid: 4, dfid: 1, name: "renamed-notes.txt")), keep: 17 + 6)
        h.r(6, .rrename)
        #expect(h.path(4) == "/usr/share/doc/ninescope/examples/captures/rename…")
        // Trenameat: the new directory's fid follows the old name, so it is known only when that is whole.
        let renameat = Message.trenameat(Trenameat(olddirfid: 1, oldname: "a", newdirfid: 0, newname: "bbbbbbbb"))
        let whole = Fcall(tag: 7, renameat).encode(dialect: .l)
        #expect(TruncatedFrame.bookkeeping(Array(whole.prefix(whole.count - 3)), dialect: .l)?.fcall
                == Fcall(tag: 7, .trenameat(Trenameat(olddirfid: 1, oldname: "a", newdirfid: 0, newname: "bbbbb…"))))
        #expect(TruncatedFrame.bookkeeping(Array(whole.prefix(13)), dialect: .l) == nil, "old name cut")
        #expect(TruncatedFrame.line(Array(whole.prefix(13)), dialect: .l) == "Trenameat tag 7 olddirfid 1 …")
        #expect(h.anomalies.isEmpty, "\(h.anomalies)")
        let countOnly = Array(Fcall(tag: 1, .rwalk(Rwalk(wqids: qids))).encode(dialect: .l).prefix(9))
        #expect(TruncatedFrame.bookkeeping(countOnly, dialect: .l) == .init(fcall: Fcall(tag: 1, .rwalk(Rwalk(wqids: []))),
                                                                            walkLength: 6))
        #expect(TruncatedFrame.bookkeeping(Array(whole.prefix(whole.count - 3)), dialect: .l)?.walkLength == nil,
                "not an Rwalk")
    }

    /// A Tlcreate (or Tcreate) cut in its name still opens its fid on the file it made, named as far as
    /// captured, its open mode unknown; cut after its flags, the mode is known. The line shows what was
    /// captured whole and nothing made up.
    @Test func cutCreatesOpenTheirFid() throws {
        var h = Harness()
        h.version()
        h.attach()
        func cut(_ tag: NinePWire.Tag, _ m: Message, keep: Int, dialect: Dialect = .l) -> TrackerOutput {
            let bytes = Array(Fcall(tag: tag, m).encode(dialect: dialect).prefix(keep))
            return h.tracker.handle(.frame(conn: h.conn, direction: .toServer, at: h.tick(), bytes: bytes, marks: .truncated))
        }
        h.walk(1, 0, 1, ["reports"])
        // Tlcreate: 7 + fid 4 + name 2+20 + flags 4 + mode 4 + gid 4 = 45 bytes.
        func create(_ fid: Fid) -> Message {
            .tlcreate(Tlcreate(fid: fid, name: "report-2026-12-05.md", flags: LOpenFlags(rawValue: 0o1101), mode: 0o644,
                               gid: 100))
        }
        let out = cut(2, create(1), keep: 13 + 7)
        #expect(out.message?.canonicalLine == "Tlcreate tag 2 fid 1 name 'report-…' … (cut: 20 of 45 bytes captured)")
        h.r(2, .rlcreate(Rlcreate(qid: Qid(path: 50), iounit: 8192)))
        let made = try #require(h.tracker.fid(1, on: h.conn))
        #expect(made.state == .open && made.openMode == nil && made.iounit == 8192 && made.qid == Qid(path: 50))
        #expect(h.path(1) == "/reports/report-…")
        // Cut after its flags: the open mode is known.
        h.walk(3, 0, 2, ["reports"])
        let flagsKept = cut(4, create(2), keep: 33 + 4)
        #expect(flagsKept.message?.canonicalLine.hasPrefix("Tlcreate tag 4 fid 2 name 'report-2026-12-05.md' flags ") == true
                && flagsKept.message?.canonicalLine.hasSuffix(" … (cut: 37 of 45 bytes captured)") == true
                && flagsKept.message?.canonicalLine.contains(" mode ") == false, "\(flagsKept.message?.canonicalLine ?? "")")
        h.r(4, .rlcreate(Rlcreate(qid: Qid(path: 51), iounit: 8192)))
        #expect(h.tracker.fid(2, on: h.conn)?.openMode == .dotL(LOpenFlags(rawValue: 0o1101)))
        #expect(h.path(2) == "/reports/report-2026-12-05.md")
        #expect(h.anomalies.isEmpty, "\(h.anomalies)")
        // Tcreate (9P2000.u): 7 + fid 4 + name 2+8 + perm 4 + mode 1 + extension 2+0 = 28 bytes.
        let tcreate = Fcall(tag: 5, .tcreate(Tcreate(fid: 3, name: "notes.md", perm: DirMode(rawValue: 0o644),
                                                     mode: OpenMode(rawValue: 1), extension: ""))).encode(dialect: .u)
        #expect(TruncatedFrame.line(Array(tcreate.prefix(16)), dialect: .u) == "Tcreate tag 5 fid 3 name 'not…' …")
        #expect(TruncatedFrame.bookkeeping(Array(tcreate.prefix(24)), dialect: .u)?.holdsOpenMode == false,
                "perm whole, mode not")
        #expect(TruncatedFrame.bookkeeping(Array(tcreate.prefix(26)), dialect: .u)?.holdsOpenMode == true)
        #expect(TruncatedFrame.line(Array(tcreate.prefix(26)), dialect: .u)
                == "Tcreate tag 5 fid 3 name 'notes.md' perm 0x1a4 0644 mode 0x1 OWRITE …")
    }

    /// A cut Tattach's or Tauth's fields as far as captured whole: the fids, then each name (and .u/.L
    /// `n_uname`) only when it and all before it were.
    @Test func cutAttachHoldsWhatWasCapturedWhole() {
        let attach = Fcall(tag: 4, .tattach(Tattach(fid: 9, afid: 3, uname: "user", aname: "/srv/export", nUname: 1000)))
        let l = attach.encode(dialect: .l)      // 7 + 4 + 4 + 2+4 + 2+11 + 4 = 38 bytes
        func cut(_ n: Int, _ bytes: [UInt8] = [], dialect: Dialect = .l) -> TruncatedFrame.CutAttach? {
            TruncatedFrame.cutAttach(Array((bytes.isEmpty ? l : bytes).prefix(n)), dialect: dialect)
        }
        #expect(cut(14) == nil, "cut inside the fids")
        #expect(cut(15) == TruncatedFrame.CutAttach(tag: 4, isAuth: false, fid: 9, afid: 3, hasNUname: true))
        #expect(cut(20) == TruncatedFrame.CutAttach(tag: 4, isAuth: false, fid: 9, afid: 3, hasNUname: true),
                "uname cut")
        #expect(cut(21) == TruncatedFrame.CutAttach(tag: 4, isAuth: false, fid: 9, afid: 3, uname: "user",
                                                     hasNUname: true))
        #expect(cut(36) == TruncatedFrame.CutAttach(tag: 4, isAuth: false, fid: 9, afid: 3, uname: "user",
                                                     aname: "/srv/export", hasNUname: true), "n_uname cut")
        #expect(cut(38) == nil, "whole")
        // 9P2000: no n_uname; a Tauth has one fid.
        let classic = attach.encode(dialect: .p9)
        #expect(cut(33, classic, dialect: .p9) == TruncatedFrame.CutAttach(tag: 4, isAuth: false, fid: 9, afid: 3,
                                                                             uname: "user", hasNUname: false))
        let auth = Fcall(tag: 1, .tauth(Tauth(afid: 5, uname: "u", aname: "/a", nUname: 7))).encode(dialect: .u)
        #expect(cut(auth.count - 1, auth, dialect: .u)
                == TruncatedFrame.CutAttach(tag: 1, isAuth: true, fid: 5, uname: "u", aname: "/a", hasNUname: true))
        #expect(cut(10, Fcall(tag: 1, .twalk(Twalk(fid: 1, newfid: 2, wnames: ["a"]))).encode(dialect: .l)) == nil)
    }
}

/// Any message cut short shows the fields its captured bytes hold whole, not only those whose cut the
/// tracker can use: a Tversion's msize, a Tread's fid (its offset cut), a Twalk's fids (its names cut).
@Test func everyCutMessageShowsItsWholeFields() {
    let version = Fcall(tag: .notag, .tversion(Tversion(msize: 8192, version: "9P2000.L"))).encode(dialect: .l)
    #expect(TruncatedFrame.line(Array(version.prefix(11)), dialect: .l) == "Tversion tag NOTAG msize 8192 …")
    let read = Fcall(tag: 1, .tread(Tread(fid: 5, offset: 100, count: 8192))).encode(dialect: .l)
    #expect(TruncatedFrame.line(Array(read.prefix(16)), dialect: .l) == "Tread tag 1 fid 5 …")
    let walk = Fcall(tag: 1, .twalk(Twalk(fid: 5, newfid: 6, wnames: ["abc", "d"]))).encode(dialect: .l)
    #expect(TruncatedFrame.line(Array(walk.prefix(15)), dialect: .l) == "Twalk tag 1 fid 5 newfid 6 …")
    // An unknown type's body is one field: nothing of it is whole.
    #expect(TruncatedFrame.line([9, 0, 0, 0, 200, 1, 0, 5], dialect: .l) == "type200 tag 1 …")
}
