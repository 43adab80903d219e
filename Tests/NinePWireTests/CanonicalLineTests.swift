import Testing
import NinePWire
import NinePTestSupport

/// Canonical-line snapshots, written by hand from the format documented on `Fcall.canonicalLine`.
@Suite struct CanonicalLineTests {
    static let goldenSnapshots: [(String, Dialect, Int, String)] = [
        ("Tversion", .l, 0, "Tversion tag NOTAG msize 8192 version '9P2000.L'"),
        ("Rversion", .p9, 0, "Rversion tag NOTAG msize 8192 version '9P2000'"),
        ("Tauth", .u, 0, "Tauth tag 1 afid 5 uname 'glenda' aname '' n_uname 1000"),
        ("Rauth", .l, 0, "Rauth tag 1 aqid (0000000000000001 0 A)"),
        ("Tattach", .p9, 0, "Tattach tag 2 fid 0 afid NOFID uname 'glenda' aname ''"),
        ("Tattach", .l, 1, "Tattach tag 1 fid 0 afid NOFID uname 'nobody' aname '' n_uname NONUNAME"),
        ("Rattach", .l, 0, "Rattach tag 2 qid (0000000000000010 0 d)"),
        ("Rerror", .p9, 0, "Rerror tag 3 ename 'not found'"),
        ("Rerror", .u, 0, "Rerror tag 3 ename 'not found' errno 2 ENOENT"),
        ("Tflush", .l, 0, "Tflush tag 4 oldtag 3"),
        ("Rflush", .l, 0, "Rflush tag 4"),
        ("Twalk", .l, 0, "Twalk tag 3 fid 1 newfid 2 nwname 2 0:usr 1:bin"),
        ("Twalk", .l, 1, "Twalk tag 5 fid 1 newfid 1 nwname 0"),
        ("Rwalk", .l, 0, "Rwalk tag 3 nwqid 2 0:(0000000000000010 0 d) 1:(0000000000000011 0 d)"),
        ("Topen", .u, 0, "Topen tag 6 fid 2 mode 0x11 OWRITE|OTRUNC"),
        ("Ropen", .u, 0, "Ropen tag 6 qid (000000000000002a 3 ) iounit 8168"),
        ("Tcreate", .p9, 0, "Tcreate tag 7 fid 2 name 'new' perm 0x1a4 0644 mode 0x1 OWRITE"),
        ("Tcreate", .u, 0, "Tcreate tag 7 fid 2 name 'lnk' perm 0x20001ff DMSYMLINK|0777 mode 0x0 OREAD extension 'target'"),
        ("Tread", .l, 0, "Tread tag 8 fid 2 offset 4096 count 4096"),
        ("Rread", .l, 0, "Rread tag 8 count 12 'hello world\\n'"),
        ("Twrite", .l, 0, "Twrite tag 9 fid 2 offset 0 count 5 'hello'"),
        ("Rwrite", .l, 0, "Rwrite tag 9 count 5"),
        ("Tclunk", .l, 0, "Tclunk tag 10 fid 2"),
        ("Rstat", .p9, 0, "Rstat tag 12 stat type 0 dev 0 qid (0000000000000010 0 d) mode 0x800001ed DMDIR|0755 atime 1000000000 "
            + "mtime 1000000000 length 0 name '/' uid 'glenda' gid 'sys' muid 'glenda'"),
        ("Rstat", .u, 0, "Rstat tag 12 stat type 0 dev 0 qid (0000000000000010 0 d) mode 0x800001ed DMDIR|0755 atime 1000000000 "
            + "mtime 1000000000 length 0 name '/' uid 'glenda' gid 'sys' muid 'glenda' extension '' n_uid 1000 n_gid 1000 "
            + "n_muid NONUNAME"),
        ("Rlerror", .l, 0, "Rlerror tag 4 ecode 2 ENOENT"),
        ("Rstatfs", .l, 0, "Rstatfs tag 1 type 0x1021994 bsize 4096 blocks 1000 bfree 500 bavail 400 files 100 ffree 50 fsid 0x1234 namelen 255"),
        ("Tlopen", .l, 0, "Tlopen tag 7 fid 2 flags 0x8000 RDONLY|LARGEFILE"),
        ("Tlcreate", .l, 0, "Tlcreate tag 8 fid 1 name 'new' flags 0x8241 WRONLY|CREATE|TRUNC|LARGEFILE mode 0100644 gid 1000"),
        ("Rsymlink", .l, 0, "Rsymlink tag 9 qid (0000000000000030 0 L)"),
        ("Tmknod", .l, 0, "Tmknod tag 10 dfid 1 name 'null' mode 020666 major 1 minor 3 gid 0"),
        ("Tgetattr", .l, 0, "Tgetattr tag 9 fid 1 request_mask 0x7ff BASIC"),
        ("Rgetattr", .l, 0, "Rgetattr tag 9 valid 0x7ff BASIC qid (000000000000002a 3 ) mode 0100644 uid 1000 gid 1000 nlink 1 "
            + "rdev 0x0 size 12 blksize 4096 blocks 8 atime_sec 1700000000 atime_nsec 5 mtime_sec 1700000000 mtime_nsec 6 "
            + "ctime_sec 1700000000 ctime_nsec 7 btime_sec 0 btime_nsec 0 gen 0 data_version 0"),
        ("Tsetattr", .l, 0, "Tsetattr tag 13 fid 2 valid 0x91 MODE|ATIME|ATIME_SET mode 0100600 uid 0 gid 0 size 0 "
            + "atime_sec 1700000000 atime_nsec 9 mtime_sec 0 mtime_nsec 0"),
        ("Txattrcreate", .l, 0, "Txattrcreate tag 15 fid 3 name 'user.a' attr_size 5 flags 0x1 CREATE"),
        ("Treaddir", .l, 0, "Treaddir tag 16 fid 2 offset 0 count 8168"),
        ("Rreaddir", .l, 0, "Rreaddir tag 16 count 50 nentries 2 0:. 1:a"),
        ("Rreaddir", .l, 1, "Rreaddir tag 17 count 0 nentries 0"),
        ("Tfsync", .l, 0, "Tfsync tag 17 fid 2 datasync 1"),
        ("Tlock", .l, 0, "Tlock tag 18 fid 2 type 1 WRLCK flags 0x1 BLOCK start 0 length 0 proc_id 1234 client_id 'host'"),
        ("Rlock", .l, 0, "Rlock tag 18 status 0 SUCCESS"),
        ("Tgetlock", .l, 0, "Tgetlock tag 19 fid 2 type 0 RDLCK start 100 length 50 proc_id 1234 client_id 'host'"),
        ("Rgetlock", .l, 0, "Rgetlock tag 19 type 2 UNLCK start 100 length 50 proc_id 1234 client_id 'host'"),
        ("Tlink", .l, 0, "Tlink tag 20 dfid 1 fid 2 name 'hard'"),
        ("Tmkdir", .l, 0, "Tmkdir tag 21 dfid 1 name 'dir' mode 040755 gid 1000"),
        ("Trenameat", .l, 0, "Trenameat tag 22 olddirfid 1 oldname 'a' newdirfid 2 newname 'b'"),
        ("Tunlinkat", .l, 0, "Tunlinkat tag 23 dirfd 1 name 'dir' flags 0x200 REMOVEDIR"),
        ("type98", .l, 0, "type98 tag 1 body 5 0200000000"),
        ("Terror", .l, 0, "Terror tag 1 body 0 ''"),
    ]

    @Test(arguments: goldenSnapshots.indices)
    func goldenVectorLines(_ i: Int) throws {
        let (name, dialect, index, expected) = Self.goldenSnapshots[i]
        let f = try Fcall.decode(golden(name, dialect, index: index), dialect: dialect)
        #expect(f.canonicalLine == expected)
    }

    @Test func dataRendering() {
        func rread(_ d: [UInt8]) -> String { Fcall(tag: 5, .rread(Rread(data: d))).canonicalLine }
        #expect(rread([]) == "Rread tag 5 count 0 ''")
        #expect(rread([0, 1, 2, 0xFF]) == "Rread tag 5 count 4 000102ff")
        #expect(rread(Array("tab\there 'q' back\\slash".utf8)) == #"Rread tag 5 count 23 'tab\there \'q\' back\\slash'"#)
        let long = [UInt8](repeating: 0x61, count: 100)
        #expect(rread(long) == "Rread tag 5 count 100 '" + String(repeating: "a", count: 64) + "'…")
        let binary = [UInt8](repeating: 0x00, count: 65)
        #expect(rread(binary) == "Rread tag 5 count 65 " + String(repeating: "00", count: 64) + "…")
        // 40 × "é" (2 bytes each): 64 bytes shown = 32 characters, cut on a character boundary.
        let accents = Array(String(repeating: "é", count: 40).utf8)
        #expect(rread(accents) == "Rread tag 5 count 80 '" + String(repeating: "é", count: 32) + "'…")
        // Cut inside a character: "x" + 40 × "é" → 63 bytes of whole characters shown.
        let odd = Array(("x" + String(repeating: "é", count: 40)).utf8)
        #expect(rread(odd) == "Rread tag 5 count 81 'x" + String(repeating: "é", count: 31) + "'…")
        // Control characters other than tab/newline/CR make it binary.
        #expect(rread([0x41, 0x1B, 0x42]) == "Rread tag 5 count 3 411b42")
    }

    @Test func stringQuotingAndWalkNames() {
        let a = Fcall(tag: 1, .tattach(Tattach(fid: 1, uname: "it's", aname: "a\\b")))
        #expect(a.canonicalLine == #"Tattach tag 1 fid 1 afid NOFID uname 'it\'s' aname 'a\\b'"#)
        let w = Fcall(tag: 2, .twalk(Twalk(fid: 1, newfid: 2, wnames: ["", "a b", "é", "x'y", P9String(bytes: [0x80])])))
        #expect(w.canonicalLine == #"Twalk tag 2 fid 1 newfid 2 nwname 5 0:'' 1:'a b' 2:é 3:'x\'y' 4:'\x80'"#)
        let e = Fcall(tag: 3, .rlerror(Rlerror(ecode: Errno(9999))))
        #expect(e.canonicalLine == "Rlerror tag 3 ecode 9999")
        let l = Fcall(tag: 4, .tlopen(Tlopen(fid: 1, flags: LOpenFlags(rawValue: 0x0409_8800))))
        #expect(l.canonicalLine == "Tlopen tag 4 fid 1 flags 0x4098800 RDONLY|NONBLOCK|LARGEFILE|DIRECTORY|CLOEXEC|0x4000000")
        let g = Fcall(tag: 5, .tgetattr(Tgetattr(fid: 1, requestMask: .all)))
        #expect(g.canonicalLine == "Tgetattr tag 5 fid 1 request_mask 0x3fff ALL")
        let z = Fcall(tag: 6, .tgetattr(Tgetattr(fid: 1, requestMask: [])))
        #expect(z.canonicalLine == "Tgetattr tag 6 fid 1 request_mask 0x0")
    }

    /// A Twstat's "don't touch" numbers (all ones) read `~0`, a qid wholly so `qid ~0`; a value that only
    /// has some bits set, or an Rstat's all-ones number, is shown as it is.
    @Test func wstatDontTouchValuesReadAsSuch() {
        let q = Qid(type: QidType(rawValue: 0xFF), version: .max, path: .max)
        let keep = Stat(type: .max, dev: .max, qid: q, mode: DirMode(rawValue: .max), atime: .max, mtime: .max,
                        length: 3, name: "", uid: "", gid: "", muid: "",
                        unix: .init(extension: "", nUid: .max, nGid: 7, nMuid: .max))
        let w = Fcall(tag: 1, .twstat(Twstat(fid: 4, stat: keep)))
        #expect(w.canonicalLine == "Twstat tag 1 fid 4 stat type ~0 dev ~0 qid ~0 mode ~0 atime ~0 mtime ~0 length 3 "
                + "name '' uid '' gid '' muid '' extension '' n_uid NONUNAME n_gid 7 n_muid NONUNAME")
        var some = keep
        some.mode = DirMode(rawValue: 0o600); some.length = .max; some.qid.path = 9; some.mtime = 0xFFFF_FFFE
        let s = Fcall(tag: 2, .twstat(Twstat(fid: 4, stat: some))).canonicalLine
        #expect(s.contains(" qid (0000000000000009 4294967295 ") && s.contains(" mode 0x180 0600 ")
                && s.contains(" mtime 4294967294 ") && s.contains(" length ~0 "), "\(s)")
        let r = Fcall(tag: 3, .rstat(Rstat(stat: keep))).canonicalLine
        #expect(!r.contains("~0") && r.contains("type 65535 dev 4294967295 ") && r.contains("DMDIR"), "\(r)")
    }

    /// The line buffer's edges: names of every short length (the small-copy paths), lines many times the
    /// initial buffer (growth in the middle of a line), the widest numbers, and appending after bytes
    /// already in the caller's array.
    @Test func longLinesShortPiecesAndExtremeNumbers() {
        let letters = Array("abcdefghijklmnop")
        let names = (0..<16).map { String(repeating: letters[$0], count: $0 + 1) }
        let w = Fcall(tag: 7, .twalk(Twalk(fid: 1, newfid: 2, wnames: names.map { P9String($0) })))
        let expected = "Twalk tag 7 fid 1 newfid 2 nwname 16"
            + names.enumerated().map { " \($0.offset):\($0.element)" }.joined()
        #expect(w.canonicalLine == expected)
        var out = Array("prefix ".utf8)
        w.appendCanonicalLine(to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "prefix " + expected)

        let u = String(repeating: "u", count: 5000), a = String(repeating: "a", count: 700)
        let t = Fcall(tag: 1, .tattach(Tattach(fid: 1, uname: P9String(u), aname: P9String(a))))
        #expect(t.canonicalLine == "Tattach tag 1 fid 1 afid NOFID uname '\(u)' aname '\(a)'")

        let r = Fcall(tag: 2, .tread(Tread(fid: 3, offset: .max, count: .max)))
        #expect(r.canonicalLine == "Tread tag 2 fid 3 offset 18446744073709551615 count 4294967295")
        let m = Fcall(tag: 3, .tmkdir(Tmkdir(dfid: 1, name: "d", mode: .max, gid: 0)))
        #expect(m.canonicalLine == "Tmkdir tag 3 dfid 1 name 'd' mode 037777777777 gid 0")
        let q = Fcall(tag: 4, .rattach(Rattach(qid: Qid(type: .dir, version: .max, path: .max))))
        #expect(q.canonicalLine == "Rattach tag 4 qid (ffffffffffffffff 4294967295 d)")
    }

    @Test func statAndDirentText() {
        #expect(GoldenVectors.dirents[0].canonicalText == "qid (0000000000000010 0 d) offset 1 type 4 DT_DIR name '.'")
        #expect(GoldenVectors.classicStatForTests.canonicalText.hasPrefix("type 0 dev 0 qid (0000000000000010 0 d) mode"))
    }

    /// An Rread known to read a directory shows its stat entries' names (the first 16), like Rreaddir;
    /// data that does not parse as entries, and any other message, keep the plain line.
    @Test func directoryReadsShowTheirEntries() {
        func entry(_ n: Int) -> Stat {
            Stat(qid: Qid(path: UInt64(n)), mode: DirMode(rawValue: 0o644), atime: 0, mtime: 0, length: 0,
                 name: P9String("f\(n)"), uid: "u", gid: "g", muid: "u")
        }
        let two = Stat.encodeAll([entry(1), entry(2)], dialect: .p9)
        let read = Fcall(tag: 3, .rread(Rread(data: two)))
        #expect(read.canonicalLine(readingDirectory: .p9) == "Rread tag 3 count \(two.count) nentries 2 0:f1 1:f2")
        let many = Stat.encodeAll((0..<20).map(entry), dialect: .p9)
        let long = Fcall(tag: 3, .rread(Rread(data: many))).canonicalLine(readingDirectory: .p9)
        #expect(long.hasSuffix(" 15:f15 …") && long.contains(" nentries 20 0:f0 "), "\(long)")
        let junk = Fcall(tag: 3, .rread(Rread(data: [1, 2, 3])))
        #expect(junk.canonicalLine(readingDirectory: .p9) == junk.canonicalLine)
        // The 9P2000.u form has four more fields: 9P2000's entries do not parse as it.
        #expect(read.canonicalLine(readingDirectory: .u) == read.canonicalLine)
        let clunk = Fcall(tag: 3, .rclunk)
        #expect(clunk.canonicalLine(readingDirectory: .u) == clunk.canonicalLine)
        let members = read.jsonObject(readingDirectory: .p9)
        #expect(members.last?.0 == "entries")
        #expect(read.jsonObject(readingDirectory: .u).map(\.0) == read.jsonObject.map(\.0))
    }
}
