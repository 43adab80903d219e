import Testing
import NinePWire
import NinePTestSupport

@Suite struct FlagsAndFidsTests {
    @Test func lopenFlagsParseAndName() {
        #expect(LOpenFlags(parsing: "RDONLY|LARGEFILE") == .largefile)
        #expect(LOpenFlags(parsing: "O_WRONLY|O_CREAT")?.rawValue == 0x41)
        #expect(LOpenFlags(parsing: "wronly, create trunc")?.rawValue == 0x241)
        #expect(LOpenFlags(parsing: "P9_DOTL_DIRECTORY")?.rawValue == 0x10000)
        #expect(LOpenFlags(parsing: "0x8000") == .largefile)
        #expect(LOpenFlags(parsing: "bogus") == nil)
        #expect(LOpenFlags(parsing: "") == nil)
        #expect(LOpenFlags(rawValue: 0x98800).names == ["RDONLY", "NONBLOCK", "LARGEFILE", "DIRECTORY", "CLOEXEC"])
        #expect(LOpenFlags(rawValue: 0x8041).symbolic == "WRONLY|CREATE|LARGEFILE")
        // Names parse back to the same value.
        for raw: UInt32 in [0, 1, 2, 3, 0x98800, 0x8241, 0x1F_FFC3, 0x0400_0001] {
            let f = LOpenFlags(rawValue: raw)
            #expect(LOpenFlags(parsing: f.symbolic) == f, "\(f.symbolic)")
        }
    }

    @Test func getattrAndSetattr() {
        #expect(GetattrMask(parsing: "basic") == .basic)
        #expect(GetattrMask(parsing: "ALL") == .all)
        #expect(GetattrMask(parsing: "mode|size")?.rawValue == 0x201)
        #expect(GetattrMask(parsing: "P9_GETATTR_GEN") == .gen)
        #expect(GetattrMask.all.names == ["ALL"])
        #expect(GetattrMask.basic.names == ["BASIC"])
        #expect(GetattrMask(rawValue: 0x17FF).names == ["BASIC", "GEN"])
        #expect(GetattrMask(rawValue: 0x201).names == ["MODE", "SIZE"])
        #expect(GetattrMask(rawValue: 0x4000_0000_0000).names == ["0x400000000000"])
        #expect(GetattrMask(rawValue: 0).symbolic == "0")
        #expect(SetattrValid(parsing: "P9_SETATTR_MODE|size")?.rawValue == 0x9)
        #expect(SetattrValid(rawValue: 0x180).names == ["ATIME_SET", "MTIME_SET"])
        #expect(SetattrValid(parsing: "nope") == nil)
    }

    @Test func classicModes() {
        #expect(OpenMode(parsing: "OREAD|OTRUNC")?.rawValue == 0x10)
        #expect(OpenMode(parsing: "write")?.rawValue == 1)
        #expect(OpenMode(parsing: "rdwr|rclose")?.rawValue == 0x42)
        #expect(OpenMode(rawValue: 0x93).names == ["OEXEC", "OTRUNC", "OAPPEND"])
        #expect(OpenMode(rawValue: 0x05).names == ["OWRITE", "0x4"])
        #expect(DirMode(parsing: "DMDIR|0755")?.rawValue == 0x8000_01ED)
        #expect(DirMode(parsing: "dir|append|0644")?.rawValue == 0xC000_01A4)
        #expect(DirMode(rawValue: 0x8000_01ED).names == ["DMDIR", "0755"])
        #expect(DirMode(rawValue: 0o4).names == ["0004"])
        #expect(QidType(rawValue: 0x82).names == ["QTDIR", "QTSYMLINK"])
        #expect(QidType(rawValue: 0xFF).letters == "dalmAtLH")
        #expect(QidType.file.letters == "")
    }

    @Test func locksAndMisc() {
        #expect(LockType(parsing: "wrlck") == .wrlck)
        #expect(LockType(parsing: "F_UNLCK") == .unlck)
        #expect(LockType(parsing: "7")?.rawValue == 7)
        #expect(LockType(parsing: "x") == nil)
        #expect(LockStatus(parsing: "blocked") == .blocked)
        #expect(LockFlags(parsing: "BLOCK") == .block)
        #expect(LockFlags(rawValue: 3).names == ["BLOCK", "RECLAIM"])
        #expect(LockType(rawValue: 9).knownName == nil)
        #expect(Tunlinkat.parseFlags("AT_REMOVEDIR") == 0x200)
        #expect(Tunlinkat.parseFlags("0") == 0)
        #expect(Tunlinkat.flagNames(0x201) == ["REMOVEDIR", "0x1"])
        #expect(NineP.parseNumber("0755") == 0o755)
        #expect(NineP.parseNumber("0x10") == 16)
        #expect(NineP.parseNumber("0o17") == 15)
        #expect(NineP.parseNumber("10") == 10)
        #expect(NineP.parseNumber("0") == 0)
        #expect(NineP.parseNumber("x") == nil)
        #expect(Dirent.typeName(10) == "DT_LNK")
        #expect(Dirent.typeName(3) == nil)
    }

    /// The texts a classic Rerror carries: the C library's, exactly (the Linux client compares them letter for
    /// letter), read back to their errno in any letter case, as are Plan 9 file servers' common texts.
    @Test func errnoTexts() {
        #expect(Errno.ENOENT.text == "No such file or directory")
        #expect(Errno.ENOENT.message == "no such file or directory")
        #expect(Errno.EIO.text == "Input/output error")
        #expect(Errno.EROFS.text == "Read-only file system")
        #expect(Errno.EMSGSIZE.name == "EMSGSIZE")
        #expect(Errno(4321).text == "error 4321")
        var numbers: Set<UInt32> = []
        for number in UInt32(1)...200 {
            let e = Errno(number)
            guard let name = e.name else { continue }
            numbers.insert(number)
            #expect(Errno(message: e.text) == e, "\(name): \(e.text)")
            #expect(Errno(message: e.message) == e, "\(name): \(e.message)")
            #expect(Errno(message: e.text.uppercased()) == e)
            #expect(Errno(name: name) == e)
            #expect(e.text.first?.isUppercase == true && e.message.first?.isLowercase == true, "\(name)")
        }
        #expect(numbers.count >= 40)
        #expect(Errno(message: "file does not exist") == .ENOENT)
        #expect(Errno(message: "file already exists") == .EEXIST)
        #expect(Errno(message: "interrupted") == .EINTR)
        #expect(Errno(message: "i/o error") == .EIO)
        #expect(Errno(message: "no such thing") == nil)
    }

    @Test func messageTypeNames() {
        #expect(MessageType.twalk.name == "Twalk")
        #expect(MessageType(name: "rlerror") == .rlerror)
        #expect(MessageType(name: "TXATTRWALK") == .txattrwalk)
        #expect(MessageType(name: "Tnope") == nil)
        #expect(MessageType.allCases.allSatisfy { MessageType(name: $0.name) == $0 })
        #expect(Message.rflush.name == "Rflush")
        #expect(Message.unknown(type: 98, body: []).name == "type98")
        #expect(Message.tclunk(Tclunk(fid: 1)).isRequest)
        #expect(!Message.rclunk.isRequest)
    }

    @Test func fidsUsedCreatedReleased() throws {
        func msg(_ name: String, _ d: Dialect = .l, index: Int = 0) throws -> Message {
            try Fcall.decode(golden(name, d, index: index), dialect: d).message
        }
        let walk = try msg("Twalk")
        #expect(walk.fidsUsed == [1] && walk.fidsCreated == [2] && walk.fidsReleased == [])
        let clone = try msg("Twalk", index: 1)   // newfid == fid
        #expect(clone.fidsUsed == [1] && clone.fidsCreated == [])
        let attach = try msg("Tattach")
        #expect(attach.fidsUsed == [] && attach.fidsCreated == [1])
        let auth = try msg("Tauth")
        #expect(auth.fidsCreated == [5] && auth.fidsUsed == [])
        let withAuth = Message.tattach(Tattach(fid: 3, afid: 5, uname: "", aname: ""))
        #expect(withAuth.fidsUsed == [5] && withAuth.fidsCreated == [3])
        #expect(try msg("Trenameat").fidsUsed == [1, 2])
        #expect(try msg("Tlink").fidsUsed == [1, 2])
        #expect(try msg("Trename").fidsUsed == [2, 1])
        #expect(try msg("Txattrwalk").fidsCreated == [3])
        #expect(try msg("Tunlinkat").fidsUsed == [1])
        #expect(try msg("Tclunk").fidsReleased == [2])
        #expect(try msg("Tremove").fidsReleased == [3])
        #expect(try msg("Tversion").fidsUsed == [])
        // Replies touch no fids.
        for v in goldenVectors where !v.fcall.message.isRequest {
            #expect(v.fcall.message.fidsUsed.isEmpty && v.fcall.message.fidsCreated.isEmpty)
        }
        // Every request that carries a fid field names it (cross-check with the field tree).
        for v in goldenVectors where v.fcall.message.isRequest && v.fcall.message.type != nil {
            let tree = Fcall.fieldTree(GoldenVectors.bytes(fromHex: v.hex), dialect: v.dialect)
            let fidFields = Set(tree.leaves.compactMap { leaf -> Fid? in
                if case .fid(let f) = leaf.value, f != .nofid { return f } else { return nil }
            })
            let m = v.fcall.message
            #expect(fidFields == Set(m.fidsUsed + m.fidsCreated), "\(v.name): \(fidFields)")
        }
    }
}
