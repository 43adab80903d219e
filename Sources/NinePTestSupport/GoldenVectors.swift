import NinePWire

/// Golden byte vectors: every message of every dialect, the hex written by hand from the wire tables in
/// reference/MESSAGES.md (not produced by the encoder). Hex is grouped per field: `size type tag fields…`;
/// whitespace is ignored. A message identical in several dialects appears once per dialect.
///
/// Each entry: `(name, dialect, fcall, hex)`; `GoldenVectors.bytes(fromHex:)` turns the hex into bytes.
public let goldenVectors: [(name: String, dialect: Dialect, fcall: Fcall, hex: String)] =
    GoldenVectors.classic + GoldenVectors.linux + GoldenVectors.unknown

public enum GoldenVectors {
    /// Parses hex digits, ignoring whitespace and `|`. Traps on anything else (test data only).
    public static func bytes(fromHex hex: String) -> [UInt8] {
        let digits = hex.unicodeScalars.filter { !$0.properties.isWhitespace && $0 != "|" }.map { Character($0) }
        precondition(digits.count % 2 == 0, "odd number of hex digits in \(hex)")
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var i = 0
        while i < digits.count {
            guard let b = UInt8(String(digits[i...i + 1]), radix: 16) else { preconditionFailure("bad hex in \(hex)") }
            out.append(b)
            i += 2
        }
        return out
    }

    /// The entries with a given manual name ("Twalk"), for tests in other targets.
    public static func named(_ name: String) -> [(name: String, dialect: Dialect, fcall: Fcall, hex: String)] {
        goldenVectors.filter { $0.name == name }
    }

    typealias Vector = (name: String, dialect: Dialect, fcall: Fcall, hex: String)
    static let all3: [Dialect] = [.p9, .u, .l]
    static let classicOnly: [Dialect] = [.p9, .u]

    static func v(_ name: String, _ dialects: [Dialect], _ tag: Tag, _ m: Message, _ hex: String) -> [Vector] {
        dialects.map { (name, $0, Fcall(tag: tag, m), hex) }
    }

    // qids used below, with their 13 wire bytes:
    /// `80 00000000 1000000000000000`
    public static let qidDir = Qid(type: .dir, version: 0, path: 0x10)
    /// `00 03000000 2a00000000000000`
    public static let qidFile = Qid(type: .file, version: 3, path: 0x2A)

    static let rstatP9 = Stat(type: 0, dev: 0, qid: qidDir, mode: DirMode(rawValue: 0x8000_01ED), atime: 1_000_000_000,
                              mtime: 1_000_000_000, length: 0, name: "/", uid: "glenda", gid: "sys", muid: "glenda")
    static let twstatP9 = Stat(type: 0xFFFF, dev: ~0, qid: Qid(type: QidType(rawValue: 0xFF), version: ~0, path: ~0),
                               mode: DirMode(rawValue: ~0), atime: ~0, mtime: ~0, length: ~0,
                               name: "renamed", uid: "", gid: "", muid: "")

    static let classic: [Vector] =
        v("Tversion", [.p9], .notag, .tversion(Tversion(msize: 8192, version: "9P2000")),
          "13000000 64 ffff 00200000 0600 395032303030")
        + v("Tversion", [.u], .notag, .tversion(Tversion(msize: 8192, version: "9P2000.u")),
            "15000000 64 ffff 00200000 0800 3950323030302e75")
        // The example of MESSAGES.md "Wire basics".
        + v("Tversion", [.l], .notag, .tversion(Tversion(msize: 8192, version: "9P2000.L")),
            "15 00 00 00 64 ff ff 00 20 00 00 08 00 39 50 32 30 30 30 2e 4c")
        + v("Rversion", [.p9], .notag, .rversion(Rversion(msize: 8192, version: "9P2000")),
            "13000000 65 ffff 00200000 0600 395032303030")
        + v("Rversion", [.u], .notag, .rversion(Rversion(msize: 8192, version: "9P2000.u")),
            "15000000 65 ffff 00200000 0800 3950323030302e75")
        + v("Rversion", [.l], .notag, .rversion(Rversion(msize: 8192, version: "9P2000.L")),
            "15000000 65 ffff 00200000 0800 3950323030302e4c")
        + v("Tauth", [.p9], 1, .tauth(Tauth(afid: 5, uname: "glenda", aname: "")),
            "15000000 66 0100 05000000 0600 676c656e6461 0000")
        + v("Tauth", [.u, .l], 1, .tauth(Tauth(afid: 5, uname: "glenda", aname: "", nUname: 1000)),
            "19000000 66 0100 05000000 0600 676c656e6461 0000 e8030000")
        + v("Rauth", all3, 1, .rauth(Rauth(aqid: Qid(type: .auth, version: 0, path: 1))),
            "14000000 67 0100 08 00000000 0100000000000000")
        + v("Tattach", [.p9], 2, .tattach(Tattach(fid: 0, afid: .nofid, uname: "glenda", aname: "")),
            "19000000 68 0200 00000000 ffffffff 0600 676c656e6461 0000")
        + v("Tattach", [.u, .l], 2, .tattach(Tattach(fid: 1, afid: .nofid, uname: "", aname: "/srv", nUname: 0)),
            "1b000000 68 0200 01000000 ffffffff 0000 0400 2f737276 00000000")
        + v("Tattach", [.l], 1, .tattach(Tattach(fid: 0, afid: .nofid, uname: "nobody", aname: "", nUname: NineP.noUname)),
            "1d000000 68 0100 00000000 ffffffff 0600 6e6f626f6479 0000 ffffffff")
        + v("Rattach", all3, 2, .rattach(Rattach(qid: qidDir)),
            "14000000 69 0200 80 00000000 1000000000000000")
        + v("Rerror", [.p9], 3, .rerror(Rerror(ename: "not found")),
            "12000000 6b 0300 0900 6e6f7420666f756e64")
        + v("Rerror", [.u], 3, .rerror(Rerror(ename: "not found", errno: 2)),
            "16000000 6b 0300 0900 6e6f7420666f756e64 02000000")
        + v("Tflush", all3, 4, .tflush(Tflush(oldtag: 3)), "09000000 6c 0400 0300")
        + v("Rflush", all3, 4, .rflush, "07000000 6d 0400")
        + v("Twalk", all3, 3, .twalk(Twalk(fid: 1, newfid: 2, wnames: ["usr", "bin"])),
            "1b000000 6e 0300 01000000 02000000 0200 0300 757372 0300 62696e")
        + v("Twalk", all3, 5, .twalk(Twalk(fid: 1, newfid: 1, wnames: [])),
            "11000000 6e 0500 01000000 01000000 0000")
        + v("Rwalk", all3, 3, .rwalk(Rwalk(wqids: [qidDir, Qid(type: .dir, version: 0, path: 0x11)])),
            "23000000 6f 0300 0200 80 00000000 1000000000000000 80 00000000 1100000000000000")
        + v("Rwalk", all3, 5, .rwalk(Rwalk(wqids: [])), "09000000 6f 0500 0000")
        + v("Topen", classicOnly, 6, .topen(Topen(fid: 2, mode: OpenMode(rawValue: 0x11))),
            "0c000000 70 0600 02000000 11")
        + v("Ropen", classicOnly, 6, .ropen(Ropen(qid: qidFile, iounit: 8168)),
            "18000000 71 0600 00 03000000 2a00000000000000 e81f0000")
        + v("Tcreate", [.p9], 7, .tcreate(Tcreate(fid: 2, name: "new", perm: DirMode(rawValue: 0o644), mode: .write)),
            "15000000 72 0700 02000000 0300 6e6577 a4010000 01")
        + v("Tcreate", [.u], 7, .tcreate(Tcreate(fid: 2, name: "lnk", perm: DirMode(rawValue: 0x0200_01FF), mode: .read,
                                                  extension: "target")),
            "1d000000 72 0700 02000000 0300 6c6e6b ff010002 00 0600 746172676574")
        + v("Rcreate", classicOnly, 7, .rcreate(Rcreate(qid: qidFile, iounit: 0)),
            "18000000 73 0700 00 03000000 2a00000000000000 00000000")
        + v("Tread", all3, 8, .tread(Tread(fid: 2, offset: 0x1000, count: 4096)),
            "17000000 74 0800 02000000 0010000000000000 00100000")
        + v("Rread", all3, 8, .rread(Rread(data: Array("hello world\n".utf8))),
            "17000000 75 0800 0c000000 68656c6c6f20776f726c640a")
        + v("Twrite", all3, 9, .twrite(Twrite(fid: 2, offset: 0, data: Array("hello".utf8))),
            "1c000000 76 0900 02000000 0000000000000000 05000000 68656c6c6f")
        + v("Rwrite", all3, 9, .rwrite(Rwrite(count: 5)), "0b000000 77 0900 05000000")
        + v("Tclunk", all3, 10, .tclunk(Tclunk(fid: 2)), "0b000000 78 0a00 02000000")
        + v("Rclunk", all3, 10, .rclunk, "07000000 79 0a00")
        + v("Tremove", all3, 11, .tremove(Tremove(fid: 3)), "0b000000 7a 0b00 03000000")
        + v("Rremove", all3, 11, .rremove, "07000000 7b 0b00")
        + v("Tstat", classicOnly, 12, .tstat(Tstat(fid: 1)), "0b000000 7c 0c00 01000000")
        // n[2] = 0x41, then the stat's own size[2] = 0x3f ("the size appears twice").
        + v("Rstat", [.p9], 12, .rstat(Rstat(stat: rstatP9)),
            """
            4a000000 7d 0c00 4100 3f00 0000 00000000 80 00000000 1000000000000000 ed010080 00ca9a3b 00ca9a3b
            0000000000000000 0100 2f 0600 676c656e6461 0300 737973 0600 676c656e6461
            """)
        + v("Rstat", [.u], 12, .rstat(Rstat(stat: withUnix(rstatP9, Stat.UnixStat(extension: "", nUid: 1000, nGid: 1000,
                                                                                   nMuid: NineP.noUname)))),
            """
            58000000 7d 0c00 4f00 4d00 0000 00000000 80 00000000 1000000000000000 ed010080 00ca9a3b 00ca9a3b
            0000000000000000 0100 2f 0600 676c656e6461 0300 737973 0600 676c656e6461
            0000 e8030000 e8030000 ffffffff
            """)
        + v("Twstat", [.p9], 13, .twstat(Twstat(fid: 4, stat: twstatP9)),
            """
            45000000 7e 0d00 04000000 3800 3600 ffff ffffffff ff ffffffff ffffffffffffffff ffffffff ffffffff ffffffff
            ffffffffffffffff 0700 72656e616d6564 0000 0000 0000
            """)
        + v("Twstat", [.u], 13, .twstat(Twstat(fid: 4, stat: withUnix(twstatP9, Stat.UnixStat(extension: "", nUid: ~0,
                                                                                               nGid: ~0, nMuid: ~0)))),
            """
            53000000 7e 0d00 04000000 4600 4400 ffff ffffffff ff ffffffff ffffffffffffffff ffffffff ffffffff ffffffff
            ffffffffffffffff 0700 72656e616d6564 0000 0000 0000 0000 ffffffff ffffffff ffffffff
            """)
        + v("Rwstat", classicOnly, 13, .rwstat, "07000000 7f 0d00")

    static func withUnix(_ s: Stat, _ u: Stat.UnixStat) -> Stat {
        var s = s
        s.unix = u
        return s
    }

    /// Codes outside the table, and the never-sent Terror/Tlerror, decode as `.unknown` with their body.
    static let unknown: [Vector] =
        v("type98", all3, 1, .unknown(type: 98, body: [2, 0, 0, 0, 0]), "0c000000 62 0100 02000000 00")
        + v("Terror", all3, 1, .unknown(type: 106, body: []), "07000000 6a 0100")
        + v("Tlerror", all3, 1, .unknown(type: 6, body: [1, 2, 3, 4]), "0b000000 06 0100 01020304")
}
