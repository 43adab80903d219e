import Foundation
import NinePCapture
import NinePSession
import NinePTestSupport
import NinePWire
import Testing
@testable import NinePNIO

/// The capture recorder (`CaptureRecorder`) over real files: the bytes it writes, captures cut into files
/// (size, time, a ring) and a pipe's live reader.
@Suite(.timeLimit(.minutes(2))) struct CaptureRecorderTests {
    /// The recorder hands the file its records in chunks from one reused buffer: the file holds exactly what
    /// the pure writer makes of the same events, across chunk boundaries, a frame larger than several chunks,
    /// batches of every size, and in both file modes.
    @Test(arguments: [true, false]) func recordedBytesAreTheWritersBytes(direct: Bool) throws {
        let path = tempPath("rec-bytes-\(direct)") + ".pcapng"
        let sink = try CaptureFileSink(path: path, flushEvery: .seconds(3600), directIO: direct)
        let options = PcapngWriterOptions(toolVersion: "test")
        let recorder = CaptureRecorder(file: sink, options: options)
        var writer = PcapngWriter(options: options)
        var expected = writer.header()
        var rng = SplitMix(seed: direct ? 21 : 22)
        var events: [ProxyEvent] = []
        let t0: Int64 = 1_700_000_000_000_000_000
        for k in 0..<400 {
            let c = NinePWire.ConnectionID(UInt32(k % 3))
            let t = t0 + Int64(k)
            switch k {
            case 0, 1, 2:
                events.append(.opened(conn: c, client: .tcp(host: "127.0.0.1", port: 40000 + UInt16(k)),
                                      upstream: .unix(path: "/tmp/s"), at: t))
            case 397, 398, 399:
                events.append(.closed(conn: c, reason: k == 398 ? .reset(.client) : .eof, at: t))
            case 200:
                events.append(.frame(conn: c, direction: .toClient, at: t,
                                     bytes: F.rread(1, Array(repeating: 0xAB, count: 5 * CaptureRecorder.chunkSize)),
                                     marks: []))
            case 250:
                events.append(.garbage(conn: c, direction: .toServer, at: t, bytes: [0xFF, 0xFF, 0xFF, 0xFF, 1],
                                       reason: "test"))
            default:
                let size = rng.next() % 4 == 0 ? Int(rng.next() % 70_000) : Int(rng.next() % 300)
                let data = (0..<size).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                events.append(.frame(conn: c, direction: k % 2 == 0 ? .toServer : .toClient, at: t,
                                     bytes: k % 2 == 0 ? F.twrite(UInt16(k), data) : F.rread(UInt16(k), data),
                                     marks: k % 5 == 0 ? [.injected] : []))
            }
        }
        for e in events {
            switch e {
            case .opened(let c, let client, let upstream, let t):
                let info = ProxyEvent.connectionInfo(client: client, upstream: upstream)
                expected += writer.open(conn: c, clientAddress: info.client, upstreamAddress: info.upstream, t: t)
            case .frame(let c, let d, let t, let bytes, let marks):
                expected += writer.frame(conn: c, direction: d, t: t, bytes: bytes, marks: marks)
            case .garbage(let c, let d, let t, let bytes, let reason):
                expected += writer.frame(conn: c, direction: d, t: t, bytes: bytes, marks: [.malformed], why: reason)
            case .closed(let c, let reason, let t):
                var reset = false
                if case .reset = reason { reset = true }
                expected += writer.close(conn: c, reset: reset, reason: reason == .eof ? nil : "\(reason)", t: t)
            }
        }
        #expect(expected.count > 8 * CaptureRecorder.chunkSize)
        var i = 0
        while i < events.count {
            let n = [1, 2, 7, 50, 512][Int(rng.next() % 5)]
            recorder.record(Array(events[i..<min(events.count, i + n)]))
            i += n
        }
        try sink.close()
        #expect(sink.bytesAppended == expected.count)
        let same = holds(path, expected)
        #expect(same)
        try? FileManager.default.removeItem(atPath: path)
    }

    @Test func recordedProxyEventsReadBackAsTheSameConversation() throws {
        let path = tempPath("rec") + ".pcapng"
        let sink = try CaptureFileSink(path: path)
        let recorder = CaptureRecorder(file: sink)
        let c = NinePWire.ConnectionID(3)
        let t0: Int64 = 1_700_000_000_000_000_000
        let big = F.rread(2, Array(repeating: 0xCD, count: 100_000))
        recorder.record([
            .opened(conn: c, client: .tcp(host: "127.0.0.1", port: 40001), upstream: .tcp(host: "127.0.0.1", port: 5640), at: t0),
            .frame(conn: c, direction: .toServer, at: t0 + 1, bytes: F.tversion(), marks: []),
            .frame(conn: c, direction: .toClient, at: t0 + 2, bytes: F.rversion(), marks: []),
            .frame(conn: c, direction: .toServer, at: t0 + 3, bytes: F.tread(2), marks: [.injected]),
            .frame(conn: c, direction: .toClient, at: t0 + 4, bytes: big, marks: [.intercepted]),
            .closed(conn: c, reason: .eof, at: t0 + 5),
        ])
        try sink.close()
        let contents = try NinePCapture.CaptureFile.decode(Array(try #require(FileManager.default.contents(atPath: path))))
        var toServer: [UInt8] = [], toClient: [UInt8] = []
        var opened = false, closed = false
        for e in contents.events {
            switch e {
            case .open: opened = true
            case .data(_, let d, _, let bytes, _): if d == .toServer { toServer += bytes } else { toClient += bytes }
            case .close: closed = true
            case .gap: Issue.record("gap in a recorded capture")
            }
        }
        #expect(opened && closed)
        #expect(toServer == F.tversion() + F.tread(2))
        #expect(toClient == F.rversion() + big)
        #expect(contents.ninescopeFormatVersion != nil)
        try? FileManager.default.removeItem(atPath: path)
    }

    /// With a data limit (`proxy --capture-data`), a long Rread is recorded cut after that much data, as a
    /// snap length cuts a packet: read back, its bytes, then a hole for the rest; the marks it had are kept;
    /// every other frame whole.
    @Test func aDataLimitRecordsLongReadsCut() throws {
        let path = tempPath("rec-cut") + ".pcapng"
        let sink = try CaptureFileSink(path: path)
        let recorder = CaptureRecorder(file: sink, dataLimit: 8)
        let c = NinePWire.ConnectionID(3)
        let big = F.rread(2, Array(repeating: 0xCD, count: 100_000)), small = F.rread(3, [1, 2, 3])
        recorder.record([
            .opened(conn: c, client: .tcp(host: "127.0.0.1", port: 40001), upstream: .tcp(host: "127.0.0.1", port: 5640), at: 1),
            .frame(conn: c, direction: .toServer, at: 2, bytes: F.tread(2), marks: []),
            .frame(conn: c, direction: .toClient, at: 3, bytes: big, marks: [.intercepted]),
            .frame(conn: c, direction: .toServer, at: 4, bytes: F.tread(3), marks: []),
            .frame(conn: c, direction: .toClient, at: 5, bytes: small, marks: []),
        ])
        try sink.close()
        let file = Array(try #require(FileManager.default.contents(atPath: path)))
        #expect(file.count < 2_000, "\(file.count) bytes")
        let contents = try NinePCapture.CaptureFile.decode(file)
        var seen: [String] = []
        for e in contents.events {
            switch e {
            case .data(_, let d, _, let bytes, let metadata):
                seen.append("\(d.token) \(bytes == Array(big.prefix(19)) ? "cut" : bytes == small ? "small" : "\(bytes.count)")"
                            + (metadata?.marks.isEmpty == false ? " \(metadata!.marks)" : ""))
            case .gap(_, let d, let n, _): seen.append("gap \(d.token) \(n)")
            default: break
            }
        }
        // The 100,011-byte frame spans two segments (MSS 65,495): a hole for the rest of each.
        #expect(contents.sections.first?.comments.contains("ninescope capture-format=2 capture-data=8") == true,
                "\(contents.sections.first?.comments ?? [])")
        #expect(seen == ["c2s 23", "s2c cut intercepted", "gap s2c \(65_495 - 19)", "gap s2c \(big.count - 65_495)",
                         "c2s 23", "s2c small"])
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Events recorded with a `CaptureRotation` of 64 KiB: the earlier capture's files in the series are
    /// deleted at start; every file is a whole capture that reads alone (a connection open at a cut comes
    /// back with its addresses and the version and msize it negotiated) and holds at least the size asked
    /// for, at most one frame's records more; read one after another they are the recorded conversation,
    /// each connection opened once.
    @Test func aRotatedCaptureIsCutIntoWholeCapturesThatReadAsOne() throws {
        let dir = Peers.tempDir("rotate")
        let fileSize = 64 << 10
        let rotation = CaptureRotation(path: dir + "/ring.pcapng", fileSize: fileSize)
        let stale = (1...30).map { rotation.path(ofFile: $0, began: 1_700_000_000_000_000_000 + Int64($0) * 1_000_000_000) }
        for path in stale + [dir + "/ring.pcapng", dir + "/ring_00001.pcapng"] {
            _ = FileManager.default.createFile(atPath: path, contents: Data("stale".utf8))
        }
        let (recorder, removed) = try CaptureRecorder.start(path: rotation.path, rotation: rotation,
                                                            options: PcapngWriterOptions())
        #expect(removed == stale, "only the earlier capture's files")
        let c = NinePWire.ConnectionID(3), d = NinePWire.ConnectionID(4)
        let t0: Int64 = 1_700_000_000_000_000_000
        var sent: [UInt8] = [], received: [UInt8] = []
        recorder.record([
            .opened(conn: c, client: .tcp(host: "127.0.0.1", port: 40001), upstream: .tcp(host: "127.0.0.1", port: 5640), at: t0),
            .frame(conn: c, direction: .toServer, at: t0 + 1, bytes: F.tversion("9P2000.u", msize: 9000), marks: []),
            .frame(conn: c, direction: .toClient, at: t0 + 2, bytes: F.rversion("9P2000.u", msize: 8192), marks: []),
        ])
        sent += F.tversion("9P2000.u", msize: 9000)
        received += F.rversion("9P2000.u", msize: 8192)
        // The fids the reads use: an attach and a walk, in the first file only.
        let setUp: [(Direction, [UInt8])] = [
            (.toServer, F.frame(1, .tattach(Tattach(fid: 0, uname: "me", aname: "/srv", nUname: 0)), .u)),
            (.toClient, F.frame(1, .rattach(Rattach(qid: Qid(type: .dir, path: 1))), .u)),
            (.toServer, F.frame(1, .twalk(Twalk(fid: 0, newfid: 1, wnames: ["data", "big"])), .u)),
            (.toClient, F.frame(1, .rwalk(Rwalk(wqids: [Qid(type: .dir, path: 2), Qid(path: 3)])), .u)),
            (.toServer, F.frame(1, .topen(Topen(fid: 1, mode: OpenMode(rawValue: 0x10))), .u)),
            (.toClient, F.frame(1, .ropen(Ropen(qid: Qid(version: 7, path: 3), iounit: 4096)), .u)),
        ]
        recorder.record(setUp.map { .frame(conn: c, direction: $0.0, at: t0 + 3, bytes: $0.1, marks: []) })
        for (d, bytes) in setUp { if d == .toServer { sent += bytes } else { received += bytes } }
        var largestFrame = 0
        for i in 0..<60 {
            let tag = UInt16(i % 7)
            let read = F.rread(tag, (0..<(1000 + i * 97)).map { UInt8(truncatingIfNeeded: $0 &+ i) })
            largestFrame = max(largestFrame, read.count)
            var batch: [ProxyEvent] = [
                .frame(conn: c, direction: .toServer, at: t0 + 10 + Int64(i), bytes: F.tread(tag), marks: []),
                .frame(conn: c, direction: .toClient, at: t0 + 10 + Int64(i), bytes: read, marks: []),
            ]
            sent += F.tread(tag)
            received += read
            if i == 20 { batch.append(.opened(conn: d, client: nil, upstream: .tcp(host: "127.0.0.1", port: 5640), at: t0 + 30)) }
            if i == 40 { batch.append(.closed(conn: d, reason: .eof, at: t0 + 50)) }
            recorder.record(batch)
        }
        recorder.record([.closed(conn: c, reason: .eof, at: t0 + 100)])
        try recorder.file.close()

        let files = recorder.files
        #expect(files.count == recorder.filesBegun && files.count >= 4, "\(files.count) files")
        #expect(files.map { rotation.number(ofFileAt: $0) } == Array(1...files.count))
        let present = try FileManager.default.contentsOfDirectory(atPath: dir).sorted().map { dir + "/" + $0 }
        #expect(present == [dir + "/ring.pcapng", dir + "/ring_00001.pcapng"] + files,
                "no file of the earlier capture is left, and no other file is touched")
        var all: [UInt8] = []
        var sizes = 0
        for (n, file) in files.enumerated() {
            let bytes = Array(try #require(FileManager.default.contents(atPath: file)))
            sizes += bytes.count
            all += bytes
            if n < files.count - 1 {
                #expect(bytes.count >= fileSize && bytes.count <= fileSize + largestFrame + 4096,
                        "file \(n + 1): \(bytes.count) bytes")
            }
            let alone = try NinePCapture.CaptureFile.decode(bytes)
            #expect(alone.warnings.isEmpty, "file \(n + 1): \(alone.warnings)")
            #expect(!alone.events.contains { if case .gap = $0 { true } else { false } }, "file \(n + 1)")
            guard n > 0, let opened = alone.events.first(where: { $0.conn == c }) else { continue }
            guard case .open(_, _, _, _, let metadata) = opened else {
                Issue.record("file \(n + 1): connection 3 does not begin with an open: \(opened)")
                continue
            }
            #expect(metadata?.version == "9P2000.u" && metadata?.msize == 8192, "file \(n + 1): \(String(describing: metadata))")
            #expect(metadata?.fids == [RecordedFid(fid: 0, state: "attached", root: .attach(aname: "/srv"), elements: [],
                                                   qid: Qid(type: .dir, path: 1), uname: "me", nUname: 0),
                                       RecordedFid(fid: 1, state: "open", root: .attach(aname: "/srv"),
                                                   elements: ["data", "big"], qid: Qid(version: 7, path: 3),
                                                   opened: .classic(OpenMode(rawValue: 0x10)), iounit: 4096,
                                                   uname: "me", nUname: 0)], "file \(n + 1)")
            #expect(metadata?.clientAddress == "127.0.0.1:40001" && metadata?.upstreamAddress == "127.0.0.1:5640")
        }
        #expect(sizes == recorder.file.bytesWritten)
        let together = try NinePCapture.CaptureFile.decode(all)
        var toServer: [UInt8] = [], toClient: [UInt8] = []
        var opens: [NinePWire.ConnectionID] = [], closes: [NinePWire.ConnectionID] = []
        for e in together.events {
            switch e {
            case .open(let conn, _, _, _, _): opens.append(conn)
            case .data(let conn, let dir, _, let bytes, _) where conn == c:
                if dir == .toServer { toServer += bytes } else { toClient += bytes }
            case .close(let conn, _, _, _): closes.append(conn)
            case .gap: Issue.record("gap where the files meet")
            default: break
            }
        }
        #expect(opens == [c, d] && closes == [d, c], "opens \(opens), closes \(closes)")
        #expect(toServer == sent)
        #expect(toClient == received)
    }

    /// With `keep`, only the newest files stay: the oldest is deleted as each new one begins.
    @Test func aRotatedCaptureKeepsOnlyTheNewestFiles() throws {
        let dir = Peers.tempDir("ring")
        let rotation = CaptureRotation(path: dir + "/keep", fileSize: 64 << 10, keep: 2)
        let (recorder, _) = try CaptureRecorder.start(path: rotation.path, rotation: rotation, options: PcapngWriterOptions())
        let c = NinePWire.ConnectionID(1)
        for i in 0..<40 {
            recorder.record([.frame(conn: c, direction: .toClient, at: Int64(i), bytes: F.rread(1, Array(repeating: 7, count: 10_000)),
                                    marks: [])])
        }
        try recorder.file.close()
        let begun = recorder.filesBegun
        #expect(begun >= 5, "\(begun) files")
        #expect(recorder.files.map { rotation.number(ofFileAt: $0) } == [begun - 1, begun])
        let present = try FileManager.default.contentsOfDirectory(atPath: dir).sorted().map { dir + "/" + $0 }
        #expect(present == recorder.files)
    }

    /// `fileDuration`: the first event that far or further after a file's first begins the next file, so
    /// events 0.4 s apart with 1 s files give files of three events each, and a long silence no empty file.
    @Test func aCaptureCutByTimeHoldsWhatCameWithinEachSpan() throws {
        let dir = Peers.tempDir("ring-time")
        let rotation = CaptureRotation(path: dir + "/t.pcapng", fileDuration: 1_000_000_000)
        let (recorder, _) = try CaptureRecorder.start(path: rotation.path, rotation: rotation, options: PcapngWriterOptions())
        let c = NinePWire.ConnectionID(1)
        let t0: Int64 = 1_700_000_000_000_000_000
        let times = (0..<9).map { t0 + Int64($0) * 400_000_000 } + [t0 + 3_600_000_000_000]
        for t in times {
            recorder.record([.frame(conn: c, direction: .toServer, at: t, bytes: F.tread(1), marks: [])])
        }
        try recorder.file.close()
        let perFile = try recorder.files.map { file -> [Int64] in
            let contents = try NinePCapture.CaptureFile.decode(Array(try #require(FileManager.default.contents(atPath: file))))
            return contents.events.compactMap { e in
                if case .data(_, _, let t, _, _) = e { return t - t0 } else { return nil }
            }
        }
        let ms: Int64 = 1_000_000
        #expect(perFile == [[0, 400 * ms, 800 * ms], [1200 * ms, 1600 * ms, 2000 * ms], [2400 * ms, 2800 * ms, 3200 * ms],
                            [3_600_000 * ms]], "\(perFile)")
    }

    /// A rotated capture whose next file cannot be made stops there, as after a failed write: it begins no
    /// further file and deletes none of its own, even with `keep` and the size passed again and again.
    @Test func aRotatedCaptureThatFailsStopsWithoutDeletingItsFiles() throws {
        let dir = Peers.tempDir("ring-fail")
        let rotation = CaptureRotation(path: dir + "/cap.pcapng", fileSize: 64 << 10, keep: 1)
        let (recorder, _) = try CaptureRecorder.start(path: rotation.path, rotation: rotation, options: PcapngWriterOptions())
        let c = NinePWire.ConnectionID(1)
        var t: Int64 = 0
        func record(_ frames: Int) {
            for _ in 0..<frames {
                t += 1
                recorder.record([.frame(conn: c, direction: .toClient, at: t, bytes: F.rread(1, Array(repeating: 3, count: 10_000)),
                                        marks: [])])
            }
        }
        record(3)
        try FileManager.default.removeItem(atPath: dir)   // the next file cannot be created
        record(5)
        #expect(recorder.file.lastError?.operation == "open", "\(String(describing: recorder.file.lastError))")
        let first = try #require(recorder.files.first)
        #expect(recorder.filesBegun == 1 && recorder.files.count == 1 && rotation.number(ofFileAt: first) == 1)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: first, contents: Data("kept".utf8))
        record(20)
        #expect(recorder.filesBegun == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).map { dir + "/" + $0 } == [first])
        #expect(FileManager.default.contents(atPath: first) == Data("kept".utf8))
        #expect(throws: CaptureFileError.self) { try recorder.file.close() }
    }

    /// A FIFO is a stream: each recorded batch reaches its reader at once, long before the periodic write
    /// (an hour here), so Wireshark reading it live shows each packet as it comes; a regular file is not.
    @Test func aPipesReaderGetsEachBatchAtOnce() throws {
        let dir = Peers.tempDir("fifo")
        let fifo = dir + "/live"
        #expect(mkfifo(fifo, 0o600) == 0)
        let readEnd = open(fifo, O_RDONLY | O_NONBLOCK)
        #expect(readEnd >= 0)
        defer { close(readEnd) }
        let sink = try CaptureFileSink(path: fifo, flushEvery: .seconds(3600))
        #expect(sink.isStream)
        #expect(try !CaptureFileSink(path: dir + "/file", flushEvery: .seconds(3600)).isStream)
        let recorder = CaptureRecorder(file: sink)
        func available() -> [UInt8] {
            var out: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = read(readEnd, &buffer, buffer.count)
                guard n > 0 else { return out }
                out += buffer[0..<n]
            }
        }
        let header = available()
        recorder.record([.frame(conn: 1, direction: .toServer, at: 1, bytes: F.tversion(), marks: [])])
        let first = available()
        #expect(!first.isEmpty, "the batch waits for the periodic write")
        recorder.record([.frame(conn: 1, direction: .toClient, at: 2, bytes: F.rversion(), marks: [])])
        let second = available()
        #expect(!second.isEmpty)
        try sink.close()
        let contents = try NinePCapture.CaptureFile.decode(header + first + second + available())
        let frames = contents.events.compactMap { e -> [UInt8]? in
            if case .data(_, _, _, let bytes, _) = e { return bytes } else { return nil }
        }
        #expect(frames == [F.tversion(), F.rversion()])
    }

    /// A fid whose file lost its name is recorded as such in a continuation file's list of fids.
    @Test func aContinuationRecordsThatAFidsPathIsDeleted() {
        var path = FidPath(root: .attach(aname: "/srv"), elements: ["tmp", "x"])
        path.isDeleted = true
        let entry = FidEntry(fid: 4, conn: ConnectionID(1), generation: 0, path: path, qid: nil, state: .open,
                             openMode: nil, iounit: nil, xattr: nil, uname: nil, nUname: nil, createdBy: nil,
                             endedBy: nil, lastUsedIndex: nil, useCount: 1)
        let recorded = CaptureRecorder.recordedFid(entry)
        #expect(recorded.deleted && recorded.elements == ["tmp", "x"])
        #expect(RecordedFid.encode([recorded]) == ["4:open:a=%2Fsrv/tmp/x;d=1"])
        path.isDeleted = false
        var live = entry
        live.path = path
        #expect(!CaptureRecorder.recordedFid(live).deleted)
    }
}
