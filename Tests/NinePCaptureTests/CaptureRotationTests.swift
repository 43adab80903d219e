import NinePWire
import Testing
@testable import NinePCapture

@Suite struct CaptureRotationTests {
    /// Names as Wireshark's file sets have them (`PREFIX_NNNNN_YYYYMMDDHHMMSS.EXT`, the time in UTC), and
    /// only such names of the same capture are taken for its files.
    @Test func filesAreNamedAsAWiresharkFileSet() {
        let began: Int64 = 1_796_447_593_930_364_396   // 2026-12-05 05:13:13.93 UTC
        let trace = CaptureRotation(path: "trace.pcapng", fileSize: 1 << 20)
        #expect(trace.path(ofFile: 1, began: began) == "trace_00001_20261205051313.pcapng")
        #expect(CaptureRotation(path: "/var/tmp/a.b/cap", fileSize: 1 << 20).path(ofFile: 12, began: began)
                == "/var/tmp/a.b/cap_00012_20261205051313")
        #expect(CaptureRotation(path: "dir/.hidden", fileSize: 1 << 20).path(ofFile: 3, began: 0)
                == "dir/.hidden_00003_19700101000000")
        #expect(CaptureRotation(path: "x.tar.pcapng", fileSize: 1 << 20).path(ofFile: 123_456, began: began)
                == "x.tar_123456_20261205051313.pcapng")
        #expect(trace.number(ofFileAt: "trace_00042_20261205051313.pcapng") == 42)
        #expect(trace.number(ofFileAt: "trace_123456_20261205051313.pcapng") == 123_456)
        for other in ["trace.pcapng", "trace_00042_2026120505131.pcapng", "trace_00042_20261205051313.pcap",
                      "trace_0004x_20261205051313.pcapng", "trace__20261205051313.pcapng", "tracer_00042_20261205051313.pcapng",
                      "dir/trace_00042_20261205051313.pcapng", "trace_00042-20261205051313.pcapng"] {
            #expect(trace.number(ofFileAt: other) == nil, "\(other)")
        }
        #expect(CaptureRotation(path: "d/cap", fileSize: 1).number(ofFileAt: "d/cap_00007_19700101000000") == 7)
    }

    /// The UTC time in names, against dates worked out by hand: the epoch, a leap day, the last second of
    /// a century year that is not a leap year, a far year (2255), and before the epoch.
    @Test func namesCarryTheUTCTime() {
        let cases: [(Int64, String)] = [
            (0, "19700101000000"), (951_782_400, "20000229000000"), (4_107_542_399, "21000228235959"),
            (4_107_542_400, "21000301000000"), (9_000_000_000, "22550314160000"), (-1, "19691231235959"),
            (1_709_164_800, "20240229000000"),
        ]
        for (seconds, text) in cases {
            #expect(CaptureRotation.timestamp(seconds * 1_000_000_000) == text, "\(seconds)")
        }
        #expect(CaptureRotation.timestamp(-1) == "19691231235959", "a nanosecond before the epoch")
    }

    @Test func sizesAreReadAsPeopleWriteThem() {
        let cases: [(String, Int?)] = [
            ("65536", 65536), ("64K", 64 << 10), ("64k", 64 << 10), ("64KiB", 64 << 10), ("64KB", 64 << 10),
            ("100M", 100 << 20), ("1G", 1 << 30), ("1.5G", 3 << 29), ("2T", 2 << 40), (" 8M ", 8 << 20),
            ("10B", 10), ("0", nil), ("", nil), ("M", nil), ("B", nil), ("-5M", nil), ("1..5M", nil), ("5X", nil),
            ("1e6", nil), ("0.0001K", nil), ("12 M", nil),
        ]
        for (text, bytes) in cases {
            #expect(CaptureRotation.parseSize(text) == bytes, "'\(text)'")
        }
        #expect(CaptureRotation.sizeText(256 << 10) == "256 KiB")
        #expect(CaptureRotation.sizeText(100 << 20) == "100 MiB")
        #expect(CaptureRotation.sizeText(3 << 29) == "1536 MiB")
        #expect(CaptureRotation.sizeText(1 << 30) == "1 GiB")
        #expect(CaptureRotation.sizeText(65_537) == "65537 bytes")
    }

    @Test func timeSpansAreReadAsPeopleWriteThem() {
        let s: Int64 = 1_000_000_000
        let cases: [(String, Int64?)] = [
            ("30s", 30 * s), ("30", 30 * s), ("10m", 600 * s), ("1h", 3600 * s), ("1.5h", 5400 * s), ("2d", 172_800 * s),
            ("1H", 3600 * s), (" 5m ", 300 * s), ("0.5s", s / 2), ("", nil), ("h", nil), ("-1h", nil), ("0", nil),
            ("10x", nil), ("1..2s", nil), ("1 h", nil),
        ]
        for (text, nanos) in cases {
            #expect(CaptureRotation.parseDuration(text) == nanos, "'\(text)'")
        }
        #expect(CaptureRotation.durationText(3600 * s) == "1h")
        #expect(CaptureRotation.durationText(5400 * s) == "90m")
        #expect(CaptureRotation.durationText(86_400 * s) == "1d")
        #expect(CaptureRotation.durationText(45 * s) == "45s")
        #expect(CaptureRotation.durationText(s / 2) == "0.5s")
    }

    /// A file is full at its size; an event the duration or more after a file's first belongs in the next.
    @Test func aFileEndsAtItsSizeOrItsDuration() {
        let bySize = CaptureRotation(path: "t", fileSize: 1000)
        #expect(!bySize.isFull(bytes: 999) && bySize.isFull(bytes: 1000) && !bySize.isOver(began: 0, now: 1 << 60))
        let byTime = CaptureRotation(path: "t", fileDuration: 5_000)
        #expect(!byTime.isOver(began: 10_000, now: 14_999) && byTime.isOver(began: 10_000, now: 15_000))
        #expect(!byTime.isFull(bytes: 1 << 40))
        let both = CaptureRotation(path: "t", fileSize: 1000, fileDuration: 5_000)
        #expect(both.isFull(bytes: 1000) && both.isOver(began: 0, now: 5_000))
    }

    /// A file that begins mid-capture: its header, then a continuation packet for a connection left open,
    /// then more frames. Alone it reads as that connection, opened with its addresses, version and msize,
    /// and its frames whole; after the first file (concatenated) the connection goes on, opened once, with
    /// no gap. tshark sees a pure ACK (checked in the integration tests).
    @Test func aContinuationPacketCarriesAnOpenConnectionIntoTheNextFile() throws {
        var writer = PcapngWriter()
        let c = ConnectionID(5)
        let frames: [[UInt8]] = [[11, 0, 0, 0, 100, 0xFF, 0xFF, 0, 32, 0, 0], [9, 0, 0, 0, 120, 1, 0, 7, 7]]
        var first = writer.header()
        first += writer.open(conn: c, clientAddress: "127.0.0.1:5000", upstreamAddress: "unix:/run/9p", t: 1)
        first += writer.frame(conn: c, direction: .toServer, t: 2, bytes: frames[0])
        var second = writer.header()
        second += writer.continuation(conn: c, clientAddress: "127.0.0.1:5000", upstreamAddress: "unix:/run/9p",
                                      version: "9P2000.L", msize: 65536, t: 3)
        #expect(writer.continuation(conn: 6, clientAddress: nil, upstreamAddress: nil, version: nil, msize: nil, t: 3).isEmpty,
                "nothing for a connection not open")
        second += writer.frame(conn: c, direction: .toClient, t: 4, bytes: frames[1])
        second += writer.close(conn: c, t: 5)

        let alone = try CaptureFile.decode(second)
        #expect(alone.warnings.isEmpty)
        guard alone.events.count == 3, case .open(let conn, _, _, let t, let metadata) = alone.events[0],
              case .data(_, .toClient, _, let bytes, _) = alone.events[1], case .close = alone.events[2] else {
            Issue.record("\(alone.events)")
            return
        }
        #expect(conn == c && t == 3 && bytes == frames[1])
        #expect(metadata == CaptureMetadata(clientAddress: "127.0.0.1:5000", upstreamAddress: "unix:/run/9p",
                                            version: "9P2000.L", msize: 65536))
        let together = try CaptureFile.decode(first + second)
        #expect(together.warnings.isEmpty)
        let kinds = together.events.map { e -> String in
            switch e {
            case .open: "open"
            case .data(_, let d, _, let b, _): "\(d == .toServer ? "c2s" : "s2c") \(b.count)"
            case .gap: "gap"
            case .close: "close"
            }
        }
        #expect(kinds == ["open", "c2s 11", "s2c 9", "close"])
    }

    /// Recorded fids survive the trip through the comment text, whatever bytes their names hold, and a list
    /// too long for one pcapng option is cut into pieces that read back as the whole list.
    @Test func recordedFidsReadBackExactly() {
        let odd = P9String(bytes: [0x2C, 0x3A, 0x2F, 0x25, 0x3D, 0x20, 0xFF, 0x00, 0x61])   // , : / % = space 0xFF NUL a
        let fids: [RecordedFid] = [
            RecordedFid(fid: 0, state: "attached", root: .attach(aname: "/srv/export"), elements: []),
            RecordedFid(fid: 7, state: "open", root: .attach(aname: ""), elements: ["usr", "bin", odd]),
            RecordedFid(fid: 9, state: "adopted", root: .unknown, elements: [".."]),
            RecordedFid(fid: 4_294_967_294, state: "auth", root: .auth, elements: []),
            // Everything else the tracker knew of a fid, names as odd as the path's.
            RecordedFid(fid: 11, state: "open", root: .attach(aname: "/srv"), elements: ["a;b=c"],
                        qid: Qid(type: [.dir, .tmp], version: 0xFFFF_FFFF, path: 0xFFFF_FFFF_FFFF_FFFF),
                        opened: .dotL(LOpenFlags(rawValue: 0o100002)), iounit: 65_512, uname: P9String(bytes: odd.bytes),
                        nUname: 4_294_967_295),
            RecordedFid(fid: 12, state: "open", root: .attach(aname: ""), elements: [],
                        qid: Qid(path: 0), opened: .classic(OpenMode(rawValue: 0x12)), iounit: 0),
            RecordedFid(fid: 13, state: "xattr", root: .attach(aname: "/srv"), elements: ["f"],
                        uname: "", xattr: XattrInfo(name: P9String(bytes: [0x75, 0x2E, 0x3B, 0x2E] + odd.bytes), size: 12)),
            // A fid whose file lost its name (unlinked while open).
            RecordedFid(fid: 14, state: "open", root: .attach(aname: ""), elements: ["tmp", "x"],
                        opened: .dotL(LOpenFlags(rawValue: 2)), deleted: true),
        ]
        let pieces = RecordedFid.encode(fids)
        #expect(pieces.count == 1)
        #expect(pieces.allSatisfy { $0.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F } }, "\(pieces)")
        #expect(RecordedFid.decode(pieces[0]) == fids)
        let many = (0..<3000).map { RecordedFid(fid: Fid(UInt32($0)), state: "walked", root: .attach(aname: "/srv"),
                                                  elements: [P9String("dir\($0 % 10)"), P9String("file-\($0)")]) }
        let cut = RecordedFid.encode(many, pieceBytes: 1000)
        #expect(cut.count > 50 && cut.allSatisfy { $0.utf8.count <= 1000 })
        #expect(cut.flatMap { RecordedFid.decode($0) } == many)
        #expect(RecordedFid.decode("x:open:u,5:open:bad,6:open:a=%ZZ,8:walked:u/ok") ==
                [RecordedFid(fid: 8, state: "walked", root: .unknown, elements: ["ok"])], "malformed entries left out")
        #expect(RecordedFid.decode("1:open:u;q=zz.0.1,2:open:u;o=x1,3:open:u;i=-1,4:open:u;x=big.n,5:open:u;n,"
                                    + "6:open:u;u=%Z1,7:open:u/f;later=1;i=5") ==
                [RecordedFid(fid: 7, state: "open", root: .unknown, elements: ["f"], iounit: 5)],
                "an entry with a malformed field is left out; a key from a later version is ignored")
    }

    /// The continuation packet carries the fids in further comments of the same block, as many as it takes
    /// (here about 200 kB of them, beyond one option's 65,535 bytes); the file read alone returns them
    /// with the connection.
    @Test func aContinuationPacketCarriesTheFidsInUse() throws {
        var writer = PcapngWriter()
        let c = ConnectionID(2)
        _ = writer.header()
        _ = writer.open(conn: c, clientAddress: "a", upstreamAddress: "b", t: 1)
        let fids = (0..<4000).map { RecordedFid(fid: Fid(UInt32($0)), state: "open", root: .attach(aname: "/export"),
                                                 elements: [P9String("directory-\($0 % 97)"),
                                                            P9String("file-number-\($0)")]) }
        var file = writer.header()
        file += writer.continuation(conn: c, clientAddress: "a", upstreamAddress: "b", version: "9P2000.L",
                                    msize: 8192, fids: fids, t: 2)
        #expect(file.count > 150_000)
        file += writer.frame(conn: c, direction: .toServer, t: 3, bytes: [7, 0, 0, 0, 120, 1, 0])
        let contents = try CaptureFile.decode(file)
        #expect(contents.warnings.isEmpty, "\(contents.warnings)")
        guard case .open(_, _, _, _, let metadata)? = contents.events.first else {
            Issue.record("\(contents.events.prefix(2))")
            return
        }
        #expect(metadata?.fids == fids)
        #expect(metadata?.version == "9P2000.L" && metadata?.msize == 8192)
        #expect(contents.events.count == 2, "the frame after it")
    }
}

