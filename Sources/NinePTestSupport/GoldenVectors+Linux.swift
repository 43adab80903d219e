import NinePWire

extension GoldenVectors {
    /// 9P2000.L messages (codes 7…77), hand-written from MESSAGES.md (Linux/diod layouts: Tfsync has
    /// `datasync[4]`, Tgetlock/Rgetlock have no `flags`).
    static let linux: [Vector] =
        v("Rlerror", [.l], 4, .rlerror(Rlerror(ecode: .ENOENT)), "0b000000 07 0400 02000000")
        + v("Tstatfs", [.l], 1, .tstatfs(Tstatfs(fid: 1)), "0b000000 08 0100 01000000")
        + v("Rstatfs", [.l], 1, .rstatfs(Rstatfs(type: 0x0102_1994, bsize: 4096, blocks: 1000, bfree: 500, bavail: 400,
                                                 files: 100, ffree: 50, fsid: 0x1234, namelen: 255)),
            """
            43000000 09 0100 94190201 00100000 e803000000000000 f401000000000000 9001000000000000
            6400000000000000 3200000000000000 3412000000000000 ff000000
            """)
        + v("Tlopen", [.l], 7, .tlopen(Tlopen(fid: 2, flags: .largefile)), "0f000000 0c 0700 02000000 00800000")
        + v("Rlopen", [.l], 7, .rlopen(Rlopen(qid: qidFile, iounit: 0)),
            "18000000 0d 0700 00 03000000 2a00000000000000 00000000")
        + v("Tlcreate", [.l], 8, .tlcreate(Tlcreate(fid: 1, name: "new", flags: LOpenFlags(rawValue: 0x8241),
                                                    mode: 0o100644, gid: 1000)),
            "1c000000 0e 0800 01000000 0300 6e6577 41820000 a4810000 e8030000")
        + v("Rlcreate", [.l], 8, .rlcreate(Rlcreate(qid: qidFile, iounit: 65512)),
            "18000000 0f 0800 00 03000000 2a00000000000000 e8ff0000")
        + v("Tsymlink", [.l], 9, .tsymlink(Tsymlink(fid: 1, name: "lnk", symtgt: "target", gid: 0)),
            "1c000000 10 0900 01000000 0300 6c6e6b 0600 746172676574 00000000")
        + v("Rsymlink", [.l], 9, .rsymlink(Rsymlink(qid: Qid(type: .symlink, version: 0, path: 0x30))),
            "14000000 11 0900 02 00000000 3000000000000000")
        + v("Tmknod", [.l], 10, .tmknod(Tmknod(dfid: 1, name: "null", mode: 0o20666, major: 1, minor: 3, gid: 0)),
            "21000000 12 0a00 01000000 0400 6e756c6c b6210000 01000000 03000000 00000000")
        + v("Rmknod", [.l], 10, .rmknod(Rmknod(qid: Qid(type: .file, version: 0, path: 0x31))),
            "14000000 13 0a00 00 00000000 3100000000000000")
        + v("Trename", [.l], 11, .trename(Trename(fid: 2, dfid: 1, name: "b")), "12000000 14 0b00 02000000 01000000 0100 62")
        + v("Rrename", [.l], 11, .rrename, "07000000 15 0b00")
        + v("Treadlink", [.l], 12, .treadlink(Treadlink(fid: 5)), "0b000000 16 0c00 05000000")
        + v("Rreadlink", [.l], 12, .rreadlink(Rreadlink(target: "target")), "0f000000 17 0c00 0600 746172676574")
        + v("Tgetattr", [.l], 9, .tgetattr(Tgetattr(fid: 1, requestMask: .basic)), "13000000 18 0900 01000000 ff07000000000000")
        + v("Rgetattr", [.l], 9, .rgetattr(Rgetattr(valid: .basic, qid: qidFile, mode: 0o100644, uid: 1000, gid: 1000,
                                                    nlink: 1, rdev: 0, size: 12, blksize: 4096, blocks: 8,
                                                    atimeSec: 1_700_000_000, atimeNsec: 5, mtimeSec: 1_700_000_000,
                                                    mtimeNsec: 6, ctimeSec: 1_700_000_000, ctimeNsec: 7)),
            """
            a0000000 19 0900 ff07000000000000 00 03000000 2a00000000000000 a4810000 e8030000 e8030000
            0100000000000000 0000000000000000 0c00000000000000 0010000000000000 0800000000000000
            00f1536500000000 0500000000000000 00f1536500000000 0600000000000000 00f1536500000000 0700000000000000
            0000000000000000 0000000000000000 0000000000000000 0000000000000000
            """)
        + v("Tsetattr", [.l], 13, .tsetattr(Tsetattr(fid: 2, valid: SetattrValid(rawValue: 0x91), mode: 0o100600,
                                                     atimeSec: 1_700_000_000, atimeNsec: 9)),
            """
            43000000 1a 0d00 02000000 91000000 80810000 00000000 00000000 0000000000000000
            00f1536500000000 0900000000000000 0000000000000000 0000000000000000
            """)
        + v("Rsetattr", [.l], 13, .rsetattr, "07000000 1b 0d00")
        + v("Txattrwalk", [.l], 14, .txattrwalk(Txattrwalk(fid: 1, newfid: 3, name: "user.a")),
            "17000000 1e 0e00 01000000 03000000 0600 757365722e61")
        + v("Rxattrwalk", [.l], 14, .rxattrwalk(Rxattrwalk(size: 5)), "0f000000 1f 0e00 0500000000000000")
        + v("Txattrcreate", [.l], 15, .txattrcreate(Txattrcreate(fid: 3, name: "user.a", attrSize: 5, flags: 1)),
            "1f000000 20 0f00 03000000 0600 757365722e61 0500000000000000 01000000")
        + v("Rxattrcreate", [.l], 15, .rxattrcreate, "07000000 21 0f00")
        + v("Treaddir", [.l], 16, .treaddir(Treaddir(fid: 2, offset: 0, count: 8168)),
            "17000000 28 1000 02000000 0000000000000000 e81f0000")
        // Two dirents of 25 bytes each: qid[13] offset[8] type[1] name[s].
        + v("Rreaddir", [.l], 16, .rreaddir(Rreaddir(data: direntData)),
            """
            3d000000 29 1000 32000000
            80 00000000 1000000000000000 0100000000000000 04 0100 2e
            00 03000000 2a00000000000000 0200000000000000 08 0100 61
            """)
        + v("Rreaddir", [.l], 17, .rreaddir(Rreaddir(data: [])), "0b000000 29 1100 00000000")
        + v("Tfsync", [.l], 17, .tfsync(Tfsync(fid: 2, datasync: 1)), "0f000000 32 1100 02000000 01000000")
        + v("Rfsync", [.l], 17, .rfsync, "07000000 33 1100")
        + v("Tlock", [.l], 18, .tlock(Tlock(fid: 2, type: .wrlck, flags: .block, start: 0, length: 0, procId: 1234,
                                            clientId: "host")),
            "2a000000 34 1200 02000000 01 01000000 0000000000000000 0000000000000000 d2040000 0400 686f7374")
        + v("Rlock", [.l], 18, .rlock(Rlock(status: .success)), "08000000 35 1200 00")
        + v("Tgetlock", [.l], 19, .tgetlock(Tgetlock(fid: 2, type: .rdlck, start: 100, length: 50, procId: 1234,
                                                    clientId: "host")),
            "26000000 36 1300 02000000 00 6400000000000000 3200000000000000 d2040000 0400 686f7374")
        + v("Rgetlock", [.l], 19, .rgetlock(Rgetlock(type: .unlck, start: 100, length: 50, procId: 1234, clientId: "host")),
            "22000000 37 1300 02 6400000000000000 3200000000000000 d2040000 0400 686f7374")
        + v("Tlink", [.l], 20, .tlink(Tlink(dfid: 1, fid: 2, name: "hard")), "15000000 46 1400 01000000 02000000 0400 68617264")
        + v("Rlink", [.l], 20, .rlink, "07000000 47 1400")
        + v("Tmkdir", [.l], 21, .tmkdir(Tmkdir(dfid: 1, name: "dir", mode: 0o40755, gid: 1000)),
            "18000000 48 1500 01000000 0300 646972 ed410000 e8030000")
        + v("Rmkdir", [.l], 21, .rmkdir(Rmkdir(qid: Qid(type: .dir, version: 0, path: 0x40))),
            "14000000 49 1500 80 00000000 4000000000000000")
        + v("Trenameat", [.l], 22, .trenameat(Trenameat(olddirfid: 1, oldname: "a", newdirfid: 2, newname: "b")),
            "15000000 4a 1600 01000000 0100 61 02000000 0100 62")
        + v("Rrenameat", [.l], 22, .rrenameat, "07000000 4b 1600")
        + v("Tunlinkat", [.l], 23, .tunlinkat(Tunlinkat(dirfid: 1, name: "dir", flags: Tunlinkat.removeDir)),
            "14000000 4c 1700 01000000 0300 646972 00020000")
        + v("Runlinkat", [.l], 23, .runlinkat, "07000000 4d 1700")

    /// The dirents in the Rreaddir vector: "." (a directory, cookie 1) and "a" (a regular file, cookie 2).
    public static let dirents: [Dirent] = [
        Dirent(qid: qidDir, offset: 1, type: 4, name: "."),
        Dirent(qid: qidFile, offset: 2, type: 8, name: "a"),
    ]
    /// The Rreaddir data, hand-written (2 × 25 bytes).
    public static let direntData: [UInt8] = bytes(fromHex: """
        80 00000000 1000000000000000 0100000000000000 04 0100 2e
        00 03000000 2a00000000000000 0200000000000000 08 0100 61
        """)
}
