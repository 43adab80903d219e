import Testing
import NinePWire
import NinePTestSupport

@Suite struct FieldTreeTests {
    @Test(arguments: goldenVectors.indices)
    func goldenFramesAreCoveredExactlyOnce(_ i: Int) {
        let v = goldenVectors[i]
        let frame = GoldenVectors.bytes(fromHex: v.hex)
        let tree = Fcall.fieldTree(frame, dialect: v.dialect)
        #expect(tree.error == nil)
        #expect(tree.fcall == v.fcall)
        #expect(leavesCoverFrame(tree, frame.count), "\(v.name)")
        // Parents span exactly their children.
        for node in tree.allNodes where !node.children.isEmpty {
            #expect(node.children.first!.range.lowerBound == node.range.lowerBound, "\(node.name)")
            #expect(node.children.last!.range.upperBound == node.range.upperBound, "\(node.name)")
        }
    }

    @Test func twalkSpansAndNames() {
        let tree = Fcall.fieldTree(golden("Twalk", .l), dialect: .l)
        let spans = tree.leaves.map { "\($0.name)@\($0.range.lowerBound)..<\($0.range.upperBound)=\($0.display)" }
        #expect(spans == [
            "size@0..<4=27", "type@4..<5=110 Twalk", "tag@5..<7=3", "fid@7..<11=1", "newfid@11..<15=2",
            "nwname@15..<17=2", "wname[0]@17..<22='usr'", "wname[1]@22..<27='bin'",
        ])
        #expect(tree.node(named: "fid")?.value == .fid(1))
        #expect(tree.node(named: "wname[1]")?.value == .string("bin"))
        #expect(tree.node(named: "tag")?.value == .tag(3))
        #expect(tree.path(at: 24).map(\.name) == ["wname[1]"])
    }

    /// A frame a capture cut (`cut: true`): the fields its bytes hold, then the partial field as
    /// `<field> (cut)`, and no error (the size field's count is the frame's real length).
    @Test func aCutFrameShowsItsFieldsAndThePartialOne() {
        let whole = golden("Twalk", .l)
        let tree = Fcall.fieldTree(Array(whole.prefix(20)), dialect: .l, cut: true)
        #expect(tree.error == nil && tree.fcall == nil)
        #expect(tree.leaves.map { "\($0.name)@\($0.range.lowerBound)..<\($0.range.upperBound)" } == [
            "size@0..<4", "type@4..<5", "tag@5..<7", "fid@7..<11", "newfid@11..<15", "nwname@15..<17",
            "wname[0] (cut)@17..<20",
        ])
        let notCut = Fcall.fieldTree(Array(whole.prefix(20)), dialect: .l)
        #expect(notCut.error != nil && notCut.leaves.last?.name == "undecoded", "without `cut`, an error as before")
    }

    @Test func qidChildren() {
        let tree = Fcall.fieldTree(golden("Rwalk", .l), dialect: .l)
        #expect(tree.node(named: "wqid[1]")?.range == 22..<35)
        #expect(tree.node(named: "wqid[1]")?.display == "(0000000000000011 0 d)")
        #expect(tree.node(named: "wqid[1].type")?.range == 22..<23)
        #expect(tree.node(named: "wqid[1].type")?.value == .flags(raw: 0x80, names: ["QTDIR"]))
        #expect(tree.node(named: "wqid[1].version")?.range == 23..<27)
        #expect(tree.node(named: "wqid[1].path")?.range == 27..<35)
        #expect(tree.node(named: "wqid[1].path")?.value == .unsigned(0x11))
        #expect(tree.path(at: 30).map(\.label) == ["wqid[1]", "path"])
    }

    @Test func statFieldsNest() {
        let tree = Fcall.fieldTree(golden("Rstat", .u), dialect: .u)
        #expect(tree.node(named: "n")?.range == 7..<9)
        #expect(tree.node(named: "stat")?.range == 9..<88)
        #expect(tree.node(named: "stat")?.display == "'/'")
        #expect(tree.node(named: "stat.size")?.range == 9..<11)
        #expect(tree.node(named: "stat.qid.path")?.range == 22..<30)
        #expect(tree.node(named: "stat.mode")?.display == "0x800001ed DMDIR|0755")
        #expect(tree.node(named: "stat.n_muid")?.display == "NONUNAME")
    }

    /// A Twstat's stat fields that ask the server to leave a value alone (all-ones numbers, empty strings, a
    /// qid wholly all ones) are noted "don't touch"; the fields it sets, and an Rstat's all-ones fields, are not.
    @Test(arguments: [Dialect.p9, .u])
    func wstatDontTouchFieldsAreNoted(_ dialect: Dialect) {
        let q = Qid(type: QidType(rawValue: 0xFF), version: .max, path: .max)
        let stat = Stat(type: .max, dev: .max, qid: q, mode: DirMode(rawValue: .max), atime: .max, mtime: 1_796_624_013,
                        length: .max, name: "new", uid: "", gid: "", muid: "",
                        unix: dialect == .u ? .init(extension: "", nUid: .max, nGid: 100, nMuid: .max) : nil)
        let tree = Fcall.fieldTree(Fcall(tag: 1, .twstat(Twstat(fid: 4, stat: stat))).encode(dialect: dialect),
                                   dialect: dialect)
        var untouched = ["stat.type", "stat.dev", "stat.qid", "stat.qid.type", "stat.qid.version", "stat.qid.path",
                         "stat.mode", "stat.atime", "stat.length", "stat.uid", "stat.gid", "stat.muid"]
        var set = ["stat", "stat.size", "stat.name", "fid", "n"]
        if dialect == .u { untouched += ["stat.extension", "stat.n_uid", "stat.n_muid"]; set += ["stat.n_gid"] }
        for name in untouched { #expect(tree.node(named: name)?.note == "don't touch", "\(name)") }
        for name in set { #expect(tree.node(named: name).map { $0.note != "don't touch" } == true, "\(name)") }
        #expect(tree.node(named: "stat.mtime")?.note == "2026-12-07T06:13:33Z")
        let reply = Fcall.fieldTree(Fcall(tag: 1, .rstat(Rstat(stat: stat))).encode(dialect: dialect), dialect: dialect)
        #expect(reply.allNodes.allSatisfy { $0.note != "don't touch" })
    }

    /// A POSIX mode's node notes its file type and permissions, a time's its date (a `_sec` field the whole
    /// time once its `_nsec` follows); zero times, and fields that are neither, have no note.
    @Test func modesAndTimesHaveNotes() throws {
        let reply = Fcall(tag: 1, .rgetattr(Rgetattr(valid: .all, qid: Qid(type: .file, version: 0, path: 7), mode: 0o104755,
                                                     size: 3, atimeSec: 1_796_624_013, atimeNsec: 107_246_740,
                                                     mtimeSec: 1_796_623_998, mtimeNsec: 5)))
        let tree = Fcall.fieldTree(reply.encode(dialect: .l), dialect: .l)
        #expect(tree.node(named: "mode")?.display == "0104755")
        #expect(tree.node(named: "mode")?.note == "regular file, rwsr-xr-x")
        #expect(tree.node(named: "atime_sec")?.note == "2026-12-07T06:13:33.107246740Z")
        #expect(tree.node(named: "atime_sec")?.display == "1796624013")
        #expect(tree.node(named: "mtime_sec")?.note == "2026-12-07T06:13:18.000000005Z")
        #expect(tree.node(named: "atime_nsec")?.note == nil)
        #expect(tree.node(named: "ctime_sec")?.note == nil)    // zero: not given
        #expect(tree.node(named: "size")?.note == nil)
        let mkdir = Fcall(tag: 2, .tmkdir(Tmkdir(dfid: 1, name: "d", mode: 0o1777, gid: 0))).encode(dialect: .l)
        #expect(Fcall.fieldTree(mkdir, dialect: .l).node(named: "mode")?.note == "rwxrwxrwt")   // no type bits
        let stat = Fcall.fieldTree(golden("Rstat", .u), dialect: .u)
        let atime = try #require(stat.node(named: "stat.atime"))
        guard case .unsigned(let seconds) = atime.value else { Issue.record("atime: \(atime.value)"); return }
        #expect(atime.note == FieldNotes.date(seconds: seconds, nanoseconds: nil))
        #expect(seconds == 0 ? atime.note == nil : atime.note?.hasSuffix("Z") == true)
    }

    @Test func fieldNotesReadAsLsAndDatesDo() {
        #expect(FieldNotes.posixMode(0o40755) == "directory, rwxr-xr-x")
        #expect(FieldNotes.posixMode(0o102644) == "regular file, rw-r-Sr--")
        #expect(FieldNotes.posixMode(0o41776) == "directory, rwxrwxrwT")
        #expect(FieldNotes.posixMode(0o120777) == "symbolic link, rwxrwxrwx")
        #expect(FieldNotes.posixMode(0o20620) == "character device, rw--w----")
        #expect(FieldNotes.posixMode(0o140755) == "socket, rwxr-xr-x")
        #expect(FieldNotes.posixMode(0o10644) == "fifo, rw-r--r--")
        #expect(FieldNotes.posixMode(0o60600) == "block device, rw-------")
        #expect(FieldNotes.posixMode(0o644) == "rw-r--r--")
        #expect(FieldNotes.date(seconds: 1_796_624_013, nanoseconds: nil) == "2026-12-07T06:13:33Z")
        #expect(FieldNotes.date(seconds: 951_782_400, nanoseconds: 0) == "2000-02-29T00:00:00.000000000Z")
        #expect(FieldNotes.date(seconds: 0, nanoseconds: 0) == nil)
        #expect(FieldNotes.date(seconds: 0, nanoseconds: 1) == "1970-01-01T00:00:00.000000001Z")
        #expect(FieldNotes.date(seconds: 9_223_372_035, nanoseconds: 999_999_999) == "2262-04-11T23:47:15.999999999Z")
        #expect(FieldNotes.date(seconds: 9_223_372_036, nanoseconds: nil) == nil)     // past what 64-bit nanoseconds hold
        #expect(FieldNotes.date(seconds: .max, nanoseconds: nil) == nil)
        #expect(FieldNotes.date(seconds: 5, nanoseconds: 1_000_000_000) == nil)
    }

    @Test func directoryDataShowsEntries() {
        let tree = Fcall.fieldTree(golden("Rreaddir", .l), dialect: .l)
        let data = tree.node(named: "data")
        #expect(data?.range == 11..<61)
        #expect(data?.children.map(\.name) == ["data.dirent[0]", "data.dirent[1]"])
        #expect(tree.node(named: "data.dirent[1].name")?.range == 58..<61)
        #expect(tree.node(named: "data.dirent[1].name")?.value == .string("a"))
        #expect(tree.node(named: "data.dirent[0].type")?.display == "4 DT_DIR")
        #expect(tree.node(named: "data.dirent[1]")?.display == "'a'")

        // A 9P2000 directory read: Rread data made of stat entries.
        let stats = [GoldenVectors.classicStatForTests, GoldenVectors.classicStatForTests]
        let rread = Fcall(tag: 1, .rread(Rread(data: Stat.encodeAll(stats, dialect: .p9)))).encode(dialect: .p9)
        let t2 = Fcall.fieldTree(rread, dialect: .p9)
        #expect(t2.node(named: "data")?.children.map(\.name) == ["data.stat[0]", "data.stat[1]"])
        #expect(t2.node(named: "data.stat[1].name")?.display == "'/'")
        #expect(leavesCoverFrame(t2, rread.count))
        // File data that is not a stat stays one leaf.
        let file = Fcall.fieldTree(golden("Rread", .p9), dialect: .p9)
        #expect(file.node(named: "data")?.children == [])
        #expect(file.node(named: "data")?.value == .bytes(count: 12, prefix: Array("hello world\n".utf8)))
    }

    @Test func flagsAndEnumerationsAreNamed() {
        let lopen = Fcall.fieldTree(golden("Tlopen", .l), dialect: .l)
        #expect(lopen.node(named: "flags")?.value == .flags(raw: 0x8000, names: ["RDONLY", "LARGEFILE"]))
        #expect(lopen.node(named: "flags")?.display == "0x8000 RDONLY|LARGEFILE")
        let lerror = Fcall.fieldTree(golden("Rlerror", .l), dialect: .l)
        #expect(lerror.node(named: "ecode")?.value == .enumerated(raw: 2, name: "ENOENT"))
        let attach = Fcall.fieldTree(golden("Tattach", .l, index: 1), dialect: .l)
        #expect(attach.node(named: "afid")?.display == "NOFID")
        #expect(attach.node(named: "n_uname")?.display == "NONUNAME")
        let mkdir = Fcall.fieldTree(golden("Tmkdir", .l), dialect: .l)
        #expect(mkdir.node(named: "mode")?.display == "040755")
    }

    @Test func partialDecodeKeepsWhatWasRead() {
        let cut = withSizeFixed(Array(golden("Twalk", .l).prefix(20)))   // second-to-last name cut
        let tree = Fcall.fieldTree(cut, dialect: .l)
        #expect(tree.error == DecodeError(offset: 17, field: "wname[0]", reason: "string length 3 exceeds the 1 bytes left"))
        #expect(tree.fcall == nil)
        #expect(tree.leaves.map(\.name) == ["size", "type", "tag", "fid", "newfid", "nwname", "undecoded"])
        #expect(tree.leaves.last?.range == 17..<20)
        #expect(tree.leaves.last?.value == .bytes(count: 3, prefix: [3, 0, 0x75]))

        // A stat cut inside: the open group is closed where decoding stopped.
        let rstat = withSizeFixed(Array(golden("Rstat", .p9).prefix(40)))
        let t2 = Fcall.fieldTree(rstat, dialect: .p9)
        #expect(t2.error?.field == "n")
        #expect(leavesCoverFrame(t2, 40))
    }

    @Test func tinyFramesAreOneUndecodedLeaf() {
        let tree = Fcall.fieldTree([1, 2], dialect: .l)
        #expect(tree.error?.field == "size")
        #expect(tree.leaves.map(\.name) == ["undecoded"])
        #expect(tree.leaves.first?.range == 0..<2)
        #expect(Fcall.fieldTree([], dialect: .l).leaves.isEmpty)
    }
}

extension GoldenVectors {
    /// The 9P2000 stat of the Rstat vector (same values), for building directory data in tests.
    static var classicStatForTests: Stat {
        if case .rstat(let r) = goldenVectors.first(where: { $0.name == "Rstat" && $0.dialect == .p9 })!.fcall.message { return r.stat }
        preconditionFailure("no Rstat vector")
    }
}
