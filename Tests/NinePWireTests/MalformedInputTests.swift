import Testing
import NinePWire
import NinePTestSupport

/// The golden frame for a manual name and dialect.
func golden(_ name: String, _ dialect: Dialect, index: Int = 0) -> [UInt8] {
    let v = goldenVectors.filter { $0.name == name && $0.dialect == dialect }[index]
    return GoldenVectors.bytes(fromHex: v.hex)
}

/// Overwrites the size field with the frame's real length.
func withSizeFixed(_ f: [UInt8]) -> [UInt8] {
    var f = f
    let n = UInt32(f.count)
    for i in 0..<4 { f[i] = UInt8(truncatingIfNeeded: n >> (8 * UInt32(i))) }
    return f
}

func decodeError(_ frame: [UInt8], _ d: Dialect) -> DecodeError? {
    do { _ = try Fcall.decode(frame, dialect: d); return nil } catch { return error }
}

@Suite struct MalformedInputTests {
    /// Every known message cut at every byte: with the original size field (size mismatch) and with the
    /// size field corrected (the body runs out). Decode throws, never traps; the field tree reports the same
    /// error and still covers every byte.
    @Test(arguments: goldenVectors.indices.filter { MessageType(rawValue: goldenVectors[$0].fcall.message.typeCode) != nil
        && goldenVectors[$0].fcall.message.type != .terror && goldenVectors[$0].fcall.message.type != .tlerror })
    func truncatedAtEveryByte(_ i: Int) {
        let v = goldenVectors[i]
        let full = GoldenVectors.bytes(fromHex: v.hex)
        for k in 0..<full.count {
            let cut = Array(full.prefix(k))
            let e1 = decodeError(cut, v.dialect)
            #expect(e1 != nil, "\(v.name) cut at \(k)")
            #expect(e1?.field == "size", "\(v.name) cut at \(k): \(String(describing: e1))")
            let tree1 = Fcall.fieldTree(cut, dialect: v.dialect)
            #expect(tree1.error == e1)
            #expect(leavesCoverFrame(tree1, cut.count))
            guard k >= 4 else { continue }
            let fixed = withSizeFixed(cut)
            let e2 = decodeError(fixed, v.dialect)
            #expect(e2 != nil, "\(v.name) [\(v.dialect)] cut at \(k) with size fixed decoded")
            if let e2 { #expect(e2.offset <= k && e2.offset >= 0, "\(e2)") }
            let tree2 = Fcall.fieldTree(fixed, dialect: v.dialect)
            #expect(tree2.error == e2)
            #expect(tree2.fcall == nil)
            #expect(leavesCoverFrame(tree2, fixed.count), "\(v.name) cut at \(k)")
        }
    }

    @Test func shortFrames() {
        #expect(decodeError([], .l) == DecodeError(offset: 0, field: "size", reason: "needs 4 bytes, only 0 left"))
        #expect(decodeError([5, 0, 0], .l)?.field == "size")
        // size agrees with a 5-byte frame, but the tag is missing.
        #expect(decodeError([5, 0, 0, 0, 0x78], .l) == DecodeError(offset: 5, field: "tag", reason: "needs 2 bytes, only 0 left"))
        // A 7-byte header of a message that needs a body.
        #expect(decodeError([7, 0, 0, 0, 0x78, 1, 0], .l) == DecodeError(offset: 7, field: "fid", reason: "needs 4 bytes, only 0 left"))
    }

    @Test func lyingSizeField() {
        let f = golden("Tclunk", .l)
        for lie: UInt32 in [0, 6, 10, 12, 0xFFFF_FFFF] {
            var g = f
            for i in 0..<4 { g[i] = UInt8(truncatingIfNeeded: lie >> (8 * UInt32(i))) }
            let e = decodeError(g, .l)
            #expect(e == DecodeError(offset: 0, field: "size", reason: "size field says \(lie) bytes but the frame is 11 bytes"))
            // The tree still shows the fields after reporting the size.
            let tree = Fcall.fieldTree(g, dialect: .l)
            #expect(tree.error == e)
            #expect(tree.node(named: "fid")?.display == "2")
        }
    }

    @Test func lyingElementCounts() {
        var walk = golden("Twalk", .l)          // nwname at 15..<17, two names end at 27
        walk[15] = 0xFF; walk[16] = 0xFF
        #expect(decodeError(walk, .l) == DecodeError(offset: 27, field: "wname[2]", reason: "needs 2 bytes, only 0 left"))

        var rwalk = golden("Rwalk", .l)         // nwqid at 7..<9, two qids end at 35
        rwalk[7] = 0xFF; rwalk[8] = 0xFF
        #expect(decodeError(rwalk, .l) == DecodeError(offset: 35, field: "wqid[2]", reason: "needs 13 bytes, only 0 left"))

        var rread = golden("Rread", .l)          // count at 7..<11, 12 data bytes
        for i in 7..<11 { rread[i] = 0xFF }
        #expect(decodeError(rread, .l) == DecodeError(offset: 11, field: "data",
                                                     reason: "count 4294967295 exceeds the 12 bytes left"))

        var twrite = golden("Twrite", .l)        // count at 19..<23
        twrite[19] = 6
        #expect(decodeError(twrite, .l)?.field == "data")

        var rreaddir = golden("Rreaddir", .l)    // count at 7..<11
        rreaddir[7] = 51
        #expect(decodeError(rreaddir, .l) == DecodeError(offset: 11, field: "data", reason: "count 51 exceeds the 50 bytes left"))
    }

    @Test func stringsPastTheEnd() {
        var v = golden("Tversion", .l)           // version length at 11..<13, 8 bytes follow
        v[11] = 0xFF
        #expect(decodeError(v, .l) == DecodeError(offset: 11, field: "version", reason: "string length 255 exceeds the 8 bytes left"))
        var s = golden("Rstat", .p9)             // name length of the stat at offset 50
        s[50] = 0x40
        #expect(decodeError(s, .p9)?.field == "stat.name")
    }

    @Test func statSizesMustAgree() {
        var n = golden("Rstat", .p9)              // n[2] at 7
        n[7] = 0x40
        #expect(decodeError(n, .p9) == DecodeError(offset: 7, field: "n", reason: "n is 64 but the stat occupies 65 bytes"))
        var inner = golden("Rstat", .p9)          // the stat's size[2] at 9
        inner[9] = 0x3E
        #expect(decodeError(inner, .p9)?.field == "stat.size")
        // A .u stat read as 9P2000 has 14 bytes the size covers but the fields do not.
        #expect(decodeError(golden("Rstat", .u), .p9)?.field == "stat.size")
    }

    @Test func moreThanSixteenWalkElementsStillDecode() throws {
        let names = (0..<17).map { P9String("d\($0)") }
        let f = Fcall(tag: 1, .twalk(Twalk(fid: 1, newfid: 2, wnames: names)))
        #expect(try Fcall.decode(f.encode(dialect: .l), dialect: .l) == f)
        let r = Fcall(tag: 1, .rwalk(Rwalk(wqids: Array(repeating: GoldenVectors.qidDir, count: 17))))
        #expect(try Fcall.decode(r.encode(dialect: .l), dialect: .l) == r)
    }

    @Test func invalidUTF8NamesRoundTripAndAreEscaped() throws {
        let bad = P9String(bytes: [0xFF, 0xFE])
        let f = Fcall(tag: 3, .twalk(Twalk(fid: 1, newfid: 2, wnames: [bad, "a\nb", "ok"])))
        let back = try Fcall.decode(f.encode(dialect: .u), dialect: .u)
        #expect(back == f)
        if case .twalk(let w) = back.message { #expect(w.wnames[0].bytes == [0xFF, 0xFE]) }
        #expect(f.canonicalLine == #"Twalk tag 3 fid 1 newfid 2 nwname 3 0:'\xff\xfe' 1:'a\nb' 2:ok"#)
    }

    @Test func unknownTypeCodesKeepTheirBytes() throws {
        for code: UInt8 in [0, 1, 5, 6, 10, 28, 99, 106, 128, 200, 255] {
            let frame: [UInt8] = [10, 0, 0, 0, code, 7, 0, 0xAA, 0xBB, 0xCC]
            let f = try Fcall.decode(frame, dialect: .l)
            #expect(f == Fcall(tag: 7, .unknown(type: code, body: [0xAA, 0xBB, 0xCC])))
            #expect(f.message.type == MessageType(rawValue: code))
            #expect(f.encode(dialect: .l) == frame)
        }
    }

    @Test func trailingBytesAreAnError() {
        let f = withSizeFixed(golden("Tclunk", .l) + [1, 2, 3])
        let e = decodeError(f, .l)
        #expect(e == DecodeError(offset: 11, field: "trailing", reason: "3 trailing bytes after a complete Tclunk body"))
        let tree = Fcall.fieldTree(f, dialect: .l)
        #expect(tree.error == e)
        #expect(tree.leaves.last?.name == "trailing")
        #expect(tree.leaves.last?.range == 11..<14)
        #expect(tree.node(named: "fid")?.range == 7..<11)
    }

    @Test func dialectMismatches() throws {
        // .u/.L Tattach read as 9P2000: n_uname is left over.
        #expect(decodeError(golden("Tattach", .u), .p9)?.field == "trailing")
        // 9P2000 Tattach read as .L: n_uname is missing.
        #expect(decodeError(golden("Tattach", .p9), .l) == DecodeError(offset: 25, field: "n_uname", reason: "needs 4 bytes, only 0 left"))
        // .L codes decode under 9P2000 too (codes do not overlap).
        #expect(try Fcall.decode(golden("Tlopen", .l), dialect: .p9).message == .tlopen(Tlopen(fid: 2, flags: .largefile)))
        #expect(try Fcall.decode(golden("Rlerror", .l), dialect: .u).message == .rlerror(Rlerror(ecode: .ENOENT)))
        // Rerror under .L: errno read when exactly 4 bytes follow ename.
        #expect(try Fcall.decode(golden("Rerror", .u), dialect: .l).message == .rerror(Rerror(ename: "not found", errno: 2)))
        #expect(try Fcall.decode(golden("Rerror", .p9), dialect: .l).message == .rerror(Rerror(ename: "not found")))
        // Tcreate and stat under .L: the .u tail is read when present.
        if case .tcreate(let c) = try Fcall.decode(golden("Tcreate", .u), dialect: .l).message { #expect(c.extension == "target") }
        if case .tcreate(let c) = try Fcall.decode(golden("Tcreate", .p9), dialect: .l).message { #expect(c.extension == nil) }
        if case .rstat(let s) = try Fcall.decode(golden("Rstat", .u), dialect: .l).message { #expect(s.stat.unix?.nUid == 1000) }
        if case .rstat(let s) = try Fcall.decode(golden("Rstat", .p9), dialect: .l).message { #expect(s.stat.unix == nil) }
        // A .u Rerror read as 9P2000 has 4 trailing bytes.
        #expect(decodeError(golden("Rerror", .u), .p9)?.field == "trailing")
    }

    @Test func errnoAloneRerrorUnderL() throws {
        // nfs-ganesha answers every error of a 9P2000.L session with Rerror (107) whose body is errno[4] alone,
        // as the Linux client and Wireshark read a .L Rerror. It was "malformed at byte 7 (ename): string length
        // 95 exceeds the 2 bytes left"; ENOENT (02 00 00 00) read as a 2-byte ename of two NULs.
        let eopnotsupp: [UInt8] = [0x0b, 0, 0, 0, 107, 0, 0, 95, 0, 0, 0]
        let f = try Fcall.decode(eopnotsupp, dialect: .l)
        #expect(f.message == .rerror(Rerror(ename: nil, errno: 95)))
        #expect(f.canonicalLine == "Rerror tag 0 errno 95 EOPNOTSUPP")
        #expect(f.encode(dialect: .l) == eopnotsupp)
        let enoent: [UInt8] = [0x0b, 0, 0, 0, 107, 1, 0, 2, 0, 0, 0]
        #expect(try Fcall.decode(enoent, dialect: .l).message == .rerror(Rerror(ename: nil, errno: 2)))
        if case .rerror(let e) = try Fcall.decode(enoent, dialect: .l).message { #expect(e.text == "No such file or directory") }
        // The field tree covers the body as errno.
        #expect(Fcall.fieldTree(eopnotsupp, dialect: .l).node(named: "errno")?.range == 7..<11)
        // Not in 9P2000.u or 9P2000, whose Rerror always begins with ename.
        #expect(decodeError(eopnotsupp, .u)?.field == "ename")
        #expect(decodeError(eopnotsupp, .p9)?.field == "ename")
        // Encoded in another dialect, an errno-only Rerror gets an empty ename, and stays well-formed.
        let alone = Fcall(tag: 0, .rerror(Rerror(ename: nil, errno: 95)))
        #expect(try Fcall.decode(alone.encode(dialect: .u), dialect: .u).message == .rerror(Rerror(ename: "", errno: 95)))
        let neither = Fcall(tag: 0, .rerror(Rerror(ename: nil)))
        #expect(try Fcall.decode(neither.encode(dialect: .p9), dialect: .p9).message == .rerror(Rerror(ename: "")))
        #expect(try Fcall.decode(neither.encode(dialect: .l), dialect: .l).message == .rerror(Rerror(ename: "")))
    }

    @Test func encodeFillsRequiredDialectFieldsWhenNil() throws {
        let a = Fcall(tag: 1, .tattach(Tattach(fid: 0, uname: "u", aname: "")))
        let back = try Fcall.decode(a.encode(dialect: .l), dialect: .l)
        if case .tattach(let t) = back.message { #expect(t.nUname == NineP.noUname) } else { Issue.record("not a Tattach") }
        let e = Fcall(tag: 1, .rerror(Rerror(ename: "x")))
        if case .rerror(let r) = try Fcall.decode(e.encode(dialect: .u), dialect: .u).message { #expect(r.errno == 0) }
        // Present optionals are written whatever the dialect.
        let withN = Fcall(tag: 1, .tattach(Tattach(fid: 0, uname: "u", aname: "", nUname: 5)))
        #expect(withN.encode(dialect: .p9).count == a.encode(dialect: .p9).count + 4)
    }

    @Test func direntDecodeErrors() {
        var data = GoldenVectors.direntData
        data.removeLast()
        #expect(throws: DecodeError(offset: 47, field: "dirent[1].name", reason: "string length 1 exceeds the 0 bytes left")) {
            try Dirent.decodeAll(data)
        }
        #expect(throws: DecodeError.self) { try Stat.decodeAll([1, 0, 0], dialect: .p9) }
        #expect(throws: DecodeError.self) { try Stat.decode([], dialect: .p9) }
    }
}
