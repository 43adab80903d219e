import NinePSession
import NinePWire
import Testing

/// Fid paths through walks (partial, clone, in place, `..`), creates, xattrs and renames.
@Suite struct FidPathTests {
    static func mounted(aname: String = "") -> Harness {
        var h = Harness(wire: .l)
        h.version()
        h.attach(0, fid: 0, aname: aname)
        return h
    }

    @Test func partialWalkMakesNoNewfid() {
        var h = Self.mounted()
        h.t(0, .twalk(Twalk(fid: 0, newfid: 1, wnames: ["a", "b", "c"])))
        let out = h.r(0, .rwalk(Rwalk(wqids: [Qid(type: .dir, path: 1), Qid(type: .dir, path: 2)])))
        #expect(out.exchange?.status == .ok)
        #expect(out.fids.isEmpty)
        #expect(h.tracker.fid(1, on: h.conn) == nil)
        #expect(h.anomalies.isEmpty)
        // Linux then clunks the never-bound newfid (TRAFFIC.md §2): that names an unknown fid.
        let clunk = h.t(0, .tclunk(Tclunk(fid: 1)))
        #expect(clunk.anomalies.map(\.kind) == [.unknownFid])
    }

    @Test func cloneCopiesPathAndQid() {
        var h = Self.mounted()
        h.walk(0, 0, 1, ["usr", "lib"])
        h.walk(0, 1, 2, [])
        let two = h.tracker.fid(2, on: h.conn)!
        #expect(two.path?.description == "/usr/lib")
        #expect(two.qid == h.tracker.fid(1, on: h.conn)?.qid)
        #expect(two.state == .walked)
        #expect(two.uname == "nobody")
    }

    @Test func attachUsersAreNamedAsTheWireGivesThem() {
        #expect(AttachUser(uname: "nobody", nUname: NineP.noUname).description == "nobody")   // Linux's default mount
        #expect(AttachUser(uname: "nobody", nUname: nil).description == "nobody")              // 9P2000
        #expect(AttachUser(uname: "glenda", nUname: 1000).description == "glenda(1000)")
        #expect(AttachUser(uname: "", nUname: 0).description == "0")                          // access=user, root
        #expect(AttachUser().description == "" && AttachUser().isEmpty)
        #expect(AttachUser(uname: "a\u{1}").description == P9String("a\u{1}").description)
        let glenda = AttachUser(uname: "glenda", nUname: 1000)
        #expect(glenda.isNamed("glenda") && glenda.isNamed("1000") && glenda.isNamed("glenda(1000)"))
        #expect(!glenda.isNamed("glen") && !glenda.isNamed("100") && !glenda.isNamed(""))
        #expect(AttachUser(uname: "", nUname: 0).isNamed("0") && !AttachUser(uname: "", nUname: 0).isNamed(""))
        #expect(!AttachUser(uname: "x", nUname: NineP.noUname).isNamed(String(NineP.noUname)))
        #expect(!glenda.isNamed("glenda(1001)") && !glenda.isNamed("glend(1000)") && !glenda.isNamed("(1000)"))
        let odd = AttachUser(uname: P9String(bytes: [0x6A, 0x6F, 0x73, 0xC3, 0xA9, 0x01]), nUname: 7)   // "josé\u{1}"
        #expect(odd.isNamed(odd.uname.description) && odd.isNamed(odd.description) && odd.isNamed("7"))
        #expect(odd.isNamed("josé\u{1}") && !odd.isNamed("jose"))
    }

    @Test func eachUsersAttachIsARootOfItsOwn() {
        // access=user: root and nobody attach to the same export; their paths read the same and say whose.
        var h = Self.mounted(aname: "/srv")
        h.t(0, .tattach(Tattach(fid: 1, afid: .nofid, uname: "", aname: "/srv", nUname: 0)))
        h.r(0, .rattach(Rattach(qid: Qid(type: .dir, path: 1))))
        h.t(0, .tattach(Tattach(fid: 2, afid: .nofid, uname: "", aname: "/srv", nUname: 65534)))
        h.r(0, .rattach(Rattach(qid: Qid(type: .dir, path: 1))))
        h.walk(0, 2, 3, ["hello.txt"], dir: false)
        let walk = h.t(0, .tclunk(Tclunk(fid: 3)))
        #expect(walk.message?.fidPath?.description == "/srv:/hello.txt")
        #expect(walk.message?.fidPath?.user == AttachUser(uname: "", nUname: 65534))
        h.r(0, .rclunk)
        #expect(h.tracker.fid(1, on: h.conn)?.path?.user == AttachUser(uname: "", nUname: 0))
        #expect(h.tracker.fid(0, on: h.conn)?.path?.user == AttachUser(uname: "nobody"))
        #expect(h.tracker.fid(1, on: h.conn)?.path?.description == h.tracker.fid(2, on: h.conn)?.path?.description)
        let attach = h.t(0, .tattach(Tattach(fid: 4, afid: .nofid, uname: "bob", aname: "/srv", nUname: 1001)))
        #expect(attach.message?.fidPath?.user?.description == "bob(1001)")
        #expect(h.anomalies.isEmpty)
    }

    @Test func walkInPlaceAndDotDot() {
        var h = Self.mounted()
        h.walk(0, 0, 1, [])
        h.walk(0, 1, 1, ["a", "b", "..", "c"])
        #expect(h.path(1) == "/a/c")
        #expect(h.tracker.fidTable(on: h.conn, includingHistory: true).count == 2, "in place: same record")
        // From /a/c: /a, then the root, then the root again (the attach's qid, as walk(5) has it).
        h.t(0, .twalk(Twalk(fid: 1, newfid: 1, wnames: ["..", "..", ".."])))
        h.r(0, .rwalk(Rwalk(wqids: [Qid(type: .dir, path: 100), Qid(type: .dir, path: 1), Qid(type: .dir, path: 1)])))
        #expect(h.path(1) == "/", "`..` of the root is the root")
        #expect(h.anomalies.isEmpty)
        h.walk(0, 0, 2, ["x", "..", "y", "."])
        #expect(h.tracker.fid(2, on: h.conn)?.path?.elements == ["y"])
        // Above a root the trace never saw, `..` cannot be resolved and is kept.
        var mid = Harness(wire: .l)
        mid.walk(0, 7, 8, ["..", "a"])
        #expect(mid.path(8) == "?/../a")
        mid.walk(0, 8, 8, [".."])
        #expect(mid.path(8) == "?/..")
    }

    @Test func longPathsInChunksOfSixteen() {
        var h = Self.mounted()
        let names = (0..<20).map { "d\($0)" }
        h.walk(0, 0, 1, Array(names[0..<16]))
        h.walk(0, 1, 1, Array(names[16...]))
        #expect(h.tracker.fid(1, on: h.conn)?.path?.elements.map(\.string) == names)
        #expect(h.anomalies.isEmpty)
    }

    @Test func failedWalkMakesNoFid() {
        var h = Self.mounted()
        h.t(0, .twalk(Twalk(fid: 0, newfid: 1, wnames: ["nope"])))
        let out = h.r(0, .rlerror(Rlerror(ecode: .ENOENT)))
        #expect(out.exchange?.error?.errno == .ENOENT)
        #expect(out.exchange?.error?.description == "ENOENT no such file or directory")
        #expect(h.tracker.fid(1, on: h.conn) == nil)
    }

    @Test func anameShowsInThePath() {
        var h = Self.mounted(aname: "/srv/export")
        h.walk(0, 0, 1, ["etc"])
        #expect(h.path(0) == "/srv/export:/")
        #expect(h.path(1) == "/srv/export:/etc")
        #expect(h.tracker.fid(1, on: h.conn)?.path?.root == .attach(aname: "/srv/export", user: AttachUser(uname: "nobody")))
    }

    @Test func lcreateTurnsTheDirFidIntoTheNewFile() {
        var h = Self.mounted()
        h.walk(0, 0, 1, ["tmp"])
        h.walk(0, 1, 2, [])
        let flags = LOpenFlags(rawValue: 0x8041)
        h.t(0, .tlcreate(Tlcreate(fid: 2, name: "NEW", flags: flags, mode: 0o100644, gid: 0)))
        let out = h.r(0, .rlcreate(Rlcreate(qid: Qid(path: 77), iounit: 8168)))
        #expect(out.message?.fidPath?.description == "/tmp/NEW")
        let two = h.tracker.fid(2, on: h.conn)!
        #expect(two.isOpen)
        #expect(two.openMode == .dotL(flags))
        #expect(two.openMode?.description == "WRONLY|CREATE|LARGEFILE")
        #expect(two.qid == Qid(path: 77) && two.iounit == 8168)
        #expect(h.path(1) == "/tmp")
    }

    @Test func xattrFids() {
        var h = Self.mounted()
        h.walk(0, 0, 1, ["f"], dir: false)
        h.t(0, .txattrwalk(Txattrwalk(fid: 1, newfid: 2, name: "user.mime")))
        h.r(0, .rxattrwalk(Rxattrwalk(size: 10)))
        let two = h.tracker.fid(2, on: h.conn)!
        #expect(two.state == .xattr)
        #expect(two.xattr == XattrInfo(name: "user.mime", size: 10))
        #expect(two.path?.description == "/f")
        h.walk(0, 1, 3, [])
        h.t(0, .txattrcreate(Txattrcreate(fid: 3, name: "user.new", attrSize: 4, flags: 0)))
        h.r(0, .rxattrcreate)
        #expect(h.tracker.fid(3, on: h.conn)?.state == .xattr)
        #expect(h.tracker.fid(3, on: h.conn)?.xattr?.name == "user.new")
    }

    @Test func renameatMovesFidsBelowTheOldName() {
        var h = Self.mounted()
        h.walk(0, 0, 1, ["a"])
        h.walk(0, 1, 2, ["sub", "file"], dir: false)
        h.walk(0, 0, 3, ["b"])
        h.walk(0, 0, 4, ["a", "subway"])
        h.t(0, .trenameat(Trenameat(olddirfid: 1, oldname: "sub", newdirfid: 3, newname: "moved")))
        let out = h.r(0, .rrenameat)
        #expect(out.fids.map(\.fid) == [2])
        #expect(h.path(2) == "/b/moved/file")
        #expect(h.path(4) == "/a/subway", "a sibling with a common prefix does not move")
        #expect(h.path(1) == "/a")
    }

    @Test func renameMovesTheFidAndItsDescendants() {
        var h = Self.mounted()
        h.walk(0, 0, 1, ["x"])
        h.walk(0, 1, 2, ["inner"])
        h.walk(0, 0, 3, ["dest"])
        h.t(0, .trename(Trename(fid: 1, dfid: 3, name: "y")))
        h.r(0, .rrename)
        #expect(h.path(1) == "/dest/y")
        #expect(h.path(2) == "/dest/y/inner")
    }

    /// A file whose name is gone while fids still hold it (unlinked, removed through another fid, renamed
    /// over) keeps its old path marked deleted, as Linux shows such an open file; a file made later under the
    /// same name has the plain path.
    @Test func unlinkAndRemoveLeaveFidsHoldingADeletedPath() {
        var h = Self.mounted()
        h.walk(0, 0, 1, ["d"])
        h.walk(0, 1, 2, ["f"], dir: false)
        h.walk(0, 1, 3, ["f"], dir: false)
        h.walk(0, 1, 4, ["g"], dir: false)
        h.t(0, .tunlinkat(Tunlinkat(dirfid: 1, name: "f", flags: 0)))
        let out = h.r(0, .runlinkat)
        #expect(out.fids.map(\.fid).sorted() == [2, 3])
        #expect(h.path(2) == "/d/f (deleted)")
        #expect(h.path(3) == "/d/f (deleted)")
        #expect(h.tracker.fid(2, on: h.conn)?.path?.isDeleted == true)
        #expect(h.tracker.fid(2, on: h.conn)?.path?.elements == ["d", "f"])
        #expect(h.path(4) == "/d/g")
        #expect(h.path(1) == "/d")
        // A clone of a deleted fid holds the same file.
        h.walk(0, 2, 5, [], dir: false)
        #expect(h.path(5) == "/d/f (deleted)")
        // A new file under the name is another file.
        h.walk(0, 1, 6, [])
        h.t(0, .tlcreate(Tlcreate(fid: 6, name: "f", flags: .rdwr, mode: 0o644, gid: 0)))
        h.r(0, .rlcreate(Rlcreate(qid: Qid(type: .file, path: 77), iounit: 0)))
        #expect(h.path(6) == "/d/f")
        #expect(h.path(2) == "/d/f (deleted)")
        // Tremove through one fid: another that held /d/g keeps it deleted, and the removed fid ends.
        h.walk(0, 1, 7, ["g"], dir: false)
        h.t(0, .tremove(Tremove(fid: 4)))
        h.r(0, .rremove)
        #expect(h.tracker.fid(4, on: h.conn) == nil)
        #expect(h.path(7) == "/d/g (deleted)")
        // A failed unlink changes nothing.
        h.t(0, .tunlinkat(Tunlinkat(dirfid: 1, name: "f", flags: 0)))
        h.r(0, .rlerror(Rlerror(ecode: .EACCES)))
        #expect(h.path(6) == "/d/f")
        #expect(h.anomalies.isEmpty, "\(h.anomalies)")
    }

    @Test func aRemovedDirectoryTakesTheFidsBelowItAndARenameKeepsTheMark() {
        var h = Self.mounted()
        h.walk(0, 0, 1, ["top", "sub"])
        h.walk(0, 1, 2, ["leaf"], dir: false)
        h.walk(0, 0, 3, ["top"])
        h.t(0, .tunlinkat(Tunlinkat(dirfid: 3, name: "sub", flags: Tunlinkat.removeDir)))
        h.r(0, .runlinkat)
        #expect(h.path(1) == "/top/sub (deleted)")
        #expect(h.path(2) == "/top/sub/leaf (deleted)")
        // `..` from a deleted directory leads back to where it was.
        h.walk(0, 1, 4, [".."])
        #expect(h.path(4) == "/top")
        // The directory above is renamed: the deleted paths move with it and stay deleted.
        h.walk(0, 0, 5, [])
        h.t(0, .trenameat(Trenameat(olddirfid: 5, oldname: "top", newdirfid: 5, newname: "moved")))
        h.r(0, .rrenameat)
        #expect(h.path(3) == "/moved")
        #expect(h.path(1) == "/moved/sub (deleted)")
        #expect(h.path(2) == "/moved/sub/leaf (deleted)")
    }

    @Test func aFileRenamedOverLeavesTheFidsOfTheOldOneDeleted() {
        var h = Self.mounted()
        h.walk(0, 0, 1, ["new"], dir: false)
        h.walk(0, 0, 2, ["old"], dir: false)
        h.walk(0, 0, 3, [])
        h.t(0, .trenameat(Trenameat(olddirfid: 3, oldname: "new", newdirfid: 3, newname: "old")))
        h.r(0, .rrenameat)
        #expect(h.path(1) == "/old")
        #expect(h.path(2) == "/old (deleted)")
        // Trename the same way.
        h.walk(0, 0, 4, ["x"], dir: false)
        h.walk(0, 0, 5, ["y"], dir: false)
        h.t(0, .trename(Trename(fid: 4, dfid: 3, name: "y")))
        h.r(0, .rrename)
        #expect(h.path(4) == "/y")
        #expect(h.path(5) == "/y (deleted)")
        // A rename onto its own name replaces nothing.
        h.t(0, .trename(Trename(fid: 4, dfid: 3, name: "y")))
        h.r(0, .rrename)
        #expect(h.path(4) == "/y")
    }

    /// wstat(5): a Twstat whose name is not empty renames the file within its directory (9P2000 and .u, as
    /// Linux renames in the same directory on a 9p2000.u mount).
    @Test func aTwstatWithANameRenamesWithinTheDirectory() {
        var h = Harness(wire: .u)
        h.version("9P2000.u", msize: 8192)
        h.attach(0, fid: 0, nUname: 1000)
        h.walk(0, 0, 1, ["dir", "a"])
        h.walk(0, 1, 2, ["inner"], dir: false)
        h.walk(0, 0, 3, ["dir", "b"], dir: false)
        var st = ClassicDialectTests.stat("b", dir: true)
        st.qid = Qid(type: QidType(rawValue: 0xFF), version: UInt32.max, path: UInt64.max)   // "don't touch"
        h.t(0, .twstat(Twstat(fid: 1, stat: st)))
        h.r(0, .rwstat)
        #expect(h.path(1) == "/dir/b")
        #expect(h.path(2) == "/dir/b/inner")
        #expect(h.path(3) == "/dir/b (deleted)")
        // An empty name leaves the name alone (a chmod, say).
        h.t(0, .twstat(Twstat(fid: 1, stat: ClassicDialectTests.stat("", dir: true))))
        h.r(0, .rwstat)
        #expect(h.path(1) == "/dir/b")
        // A failed rename changes nothing.
        h.t(0, .twstat(Twstat(fid: 1, stat: ClassicDialectTests.stat("c", dir: true))))
        h.r(0, .rerror(Rerror(ename: "permission denied", errno: 13)))
        #expect(h.path(1) == "/dir/b")
        #expect(h.anomalies.isEmpty, "\(h.anomalies)")
    }

    @Test func failedRenameChangesNothing() {
        var h = Self.mounted()
        h.walk(0, 0, 1, ["x"])
        h.walk(0, 0, 3, ["dest"])
        h.t(0, .trename(Trename(fid: 1, dfid: 3, name: "y")))
        h.r(0, .rlerror(Rlerror(ecode: .EXDEV)))
        #expect(h.path(1) == "/x")
    }

    @Test func reusedFidNumbersKeepTheirHistory() {
        var h = Self.mounted()
        h.walk(0, 0, 1, ["first"])
        h.clunk(0, 1)
        h.walk(0, 0, 1, ["second"])
        let history = h.tracker.fidTable(on: h.conn, includingHistory: true).filter { $0.fid == 1 }
        #expect(history.map { $0.path?.description } == ["/first", "/second"])
        #expect(history.map(\.state) == [.clunked, .walked])
        #expect(history[0].generation < history[1].generation)
        #expect(h.summary.liveFidCount == 2)
        #expect(h.summary.fidRecordCount == 3)
    }

    @Test func useCountsAndLastUse() {
        var h = Self.mounted()
        h.walk(0, 0, 1, ["f"], dir: false)
        h.t(0, .tgetattr(Tgetattr(fid: 1, requestMask: .basic)))
        let last = h.lastIndex
        h.r(0, .rgetattr(Rgetattr(valid: .basic, qid: Qid(path: 100))))
        let one = h.tracker.fid(1, on: h.conn)!
        #expect(one.useCount == 2)
        #expect(one.lastUsedIndex == last)
        // fid 0: Tattach, the Twalk from it.
        #expect(h.tracker.fid(0, on: h.conn)?.useCount == 2)
    }

    /// The tracker keeps each interned path's description rendered; a path changed afterwards describes
    /// itself anew, and equality and hashing see only root and elements.
    @Test func renderedDescriptionsFollowChanges() {
        var h = Harness(wire: .l)
        h.version()
        h.attach(0, fid: 0, aname: "srv")
        h.walk(0, 0, 1, ["usr", "bi\n"])
        guard var p = h.tracker.fid(1, on: h.conn)?.path else { Issue.record("no path"); return }
        #expect(p.description == "srv:/usr/bi\\n")
        let fresh = FidPath(root: .attach(aname: "srv", user: AttachUser(uname: "nobody")), elements: ["usr", "bi\n"])
        #expect(p == fresh)
        #expect(p.hashValue == fresh.hashValue)
        p.elements.append("x")
        #expect(p.description == "srv:/usr/bi\\n/x")
        p.root = .unknown
        #expect(p.description == "?/usr/bi\\n/x")
        var bytes: [UInt8] = []
        p.appendDescription(to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == p.description)
    }
}
