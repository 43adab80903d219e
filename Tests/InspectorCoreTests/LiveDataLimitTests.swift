@testable import InspectorCore
import NinePCapture
import NinePSession
import NinePWire
import Testing

/// What the live view keeps of each read's and write's data (`proxy --view-data`).
@Suite struct LiveDataLimitTests {
    static func frame(_ tag: UInt16, _ m: Message, _ direction: Direction = .toClient, marks: FrameMarks = []) -> SessionEvent {
        .frame(conn: 1, direction: direction, at: 5_000, bytes: Fcall(tag: Tag(tag), m).encode(dialect: .l), marks: marks)
    }

    static func parts(_ e: SessionEvent) -> (bytes: [UInt8], marks: FrameMarks)? {
        guard case .frame(_, _, _, let bytes, let marks) = e else { return nil }
        return (bytes, marks)
    }

    @Test func parsing() {
        #expect(LiveDataLimit(parsing: "4096") == LiveDataLimit(bytes: 4096))
        #expect(LiveDataLimit(parsing: "0") == LiveDataLimit(bytes: 0))
        #expect(LiveDataLimit(parsing: "all") == .all)
        #expect(LiveDataLimit(parsing: "-1") == nil)
        #expect(LiveDataLimit(parsing: "4k") == nil)
        #expect(LiveDataLimit(parsing: "") == nil)
        #expect(LiveDataLimit.standard.description == "4096" && LiveDataLimit.all.description == "all")
    }

    @Test func readsAndWritesAreCutOtherFramesKeptWhole() throws {
        let data = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let limit = LiveDataLimit(bytes: 100)
        let rread = Self.frame(3, .rread(Rread(data: data)))
        let full = try #require(Self.parts(rread))
        let kept = try #require(Self.parts(limit.kept(rread)))
        #expect(kept.bytes == Array(full.bytes.prefix(NineP.headerSize + 4 + 100)))
        #expect(kept.marks == [.truncated, .trimmed])
        #expect(TruncatedFrame.frameSize(kept.bytes, marks: kept.marks) == full.bytes.count)

        let twrite = Self.frame(4, .twrite(Twrite(fid: 7, offset: 1 << 33, data: data)), .toServer, marks: [.injected])
        let fullWrite = try #require(Self.parts(twrite))
        let keptWrite = try #require(Self.parts(limit.kept(twrite)))
        #expect(keptWrite.bytes == Array(fullWrite.bytes.prefix(NineP.headerSize + 16 + 100)))
        #expect(keptWrite.marks == [.injected, .truncated, .trimmed])

        // Kept whole: data within the limit, other messages (a .L directory read included), a frame already
        // cut, and everything with `all`.
        let unchanged: [SessionEvent] = [
            Self.frame(5, .rread(Rread(data: Array(data.prefix(100))))),
            Self.frame(6, .rreaddir(Rreaddir(data: data))),
            Self.frame(7, .rwalk(Rwalk(wqids: [Qid(path: 1)]))),
            .frame(conn: 1, direction: .toClient, at: 1, bytes: Array(full.bytes.prefix(50)), marks: [.truncated]),
        ]
        for e in unchanged {
            let before = try #require(Self.parts(e)), after = try #require(Self.parts(limit.kept(e)))
            #expect(before.bytes == after.bytes && before.marks == after.marks)
        }
        let all = try #require(Self.parts(LiveDataLimit.all.kept(rread)))
        #expect(all.bytes == full.bytes && all.marks.isEmpty)
        let zero = try #require(Self.parts(LiveDataLimit(bytes: 0).kept(rread)))
        #expect(zero.bytes.count == NineP.headerSize + 4)
    }

    /// In the model, a cut read pairs with its request as a whole one does: the same state, the frame's
    /// full size, its count; marked cut; and the tracker keeps only what was kept.
    /// `view` keeps everything unless the capture is more than half of memory.
    @Test func viewingKeepsAllUnlessTheCaptureWouldCrowdMemory() {
        let gib: UInt64 = 1 << 30
        #expect(LiveDataLimit.forViewing(captureBytes: 64 << 20, physicalMemory: 24 * gib) == .all)
        #expect(LiveDataLimit.forViewing(captureBytes: 12 * gib, physicalMemory: 24 * gib) == .all)
        #expect(LiveDataLimit.forViewing(captureBytes: 12 * gib + 1, physicalMemory: 24 * gib) == .standard)
        #expect(LiveDataLimit.forViewing(captureBytes: 3 * gib, physicalMemory: 4 * gib) == .standard)
    }

    @Test func aCutReadIsTheSameExchange() throws {
        var rows: [ExchangeRow] = []
        var models: [InspectorModel] = []
        for limit in [LiveDataLimit.all, LiveDataLimit(bytes: 64)] {
            var s = LiveSessionTests.mounted()
            s.t(2, .twalk(Twalk(fid: 0, newfid: 1, wnames: ["f"])))
            s.r(2, .rwalk(Rwalk(wqids: [Qid(path: 2)])))
            s.t(3, .tlopen(Tlopen(fid: 1, flags: .rdonly)))
            s.r(3, .rlopen(Rlopen(qid: Qid(path: 2), iounit: 0)))
            s.t(4, .tread(Tread(fid: 1, offset: 0, count: 8000)))
            s.r(4, .rread(Rread(data: [UInt8](repeating: 0x61, count: 8000))))
            var model = InspectorModel()
            model.handle(s.events.map { limit.kept($0) })
            rows.append(model.store[model.store.count - 1])
            models.append(model)
        }
        let (whole, cut) = (rows[0], rows[1])
        #expect(whole.replyType == .rread && cut.replyType == .rread)
        #expect(cut.status == whole.status && cut.displayState == whole.displayState && cut.displayState == .ok)
        #expect(cut.replyBytes == whole.replyBytes && whole.replyBytes == UInt32(NineP.headerSize + 4 + 8000))
        #expect(cut.flags.contains(.truncated) && !whole.flags.contains(.truncated))
        #expect(!cut.flags.contains(.malformed))
        let reply = try #require(models[1].messages(ofRow: models[1].store.count - 1).reply)
        #expect(reply.bytes.count == NineP.headerSize + 4 + 64)
        #expect(reply.frameSize == NineP.headerSize + 4 + 8000)
        #expect(models[1].text(ofRow: models[1].store.count - 1).contains("count 8000"))
        // Said to be cut by the view, not the capture (which holds it whole).
        #expect(reply.canonicalLine.hasSuffix("(cut: 75 of 8011 bytes kept)"), "\(reply.canonicalLine)")
        #expect(ExchangeFormatter.listText(reply.canonicalLine).hasPrefix("(cut) Rread count 8000 "))
        #expect(TracedMessage.truncation(reply.bytes, marks: reply.marks).reason
                == "cut by the view (--view-data): 75 of 8011 bytes kept")
    }

    /// Saved, a frame the view cut is written as a snap length cuts a packet, without the view's mark: read
    /// back it is a frame the capture cut.
    @Test func aSavedCutFrameIsCutByTheCapture() throws {
        let data = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let kept = try #require(Self.parts(LiveDataLimit(bytes: 100).kept(Self.frame(3, .rread(Rread(data: data))))))
        var writer = PcapngWriter()
        var file = writer.header()
        file += writer.open(conn: 1, clientAddress: "127.0.0.1:1", upstreamAddress: "127.0.0.1:2", t: 1)
        file += writer.frame(conn: 1, direction: .toClient, t: 2, bytes: kept.bytes, marks: kept.marks)
        let back = try CaptureFile.decode(file)
        let frames = back.events.compactMap { e -> (Int, CaptureMetadata?)? in
            if case .data(_, _, _, let bytes, let metadata) = e { return (bytes.count, metadata) }
            return nil
        }
        #expect(frames.count == 1 && frames.first?.0 == kept.bytes.count)
        #expect(frames.first?.1?.marks.contains(.trimmed) != true, "\(frames)")
    }
}
