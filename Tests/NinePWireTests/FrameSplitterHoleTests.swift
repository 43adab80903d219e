import Testing
import NinePWire
import NinePTestSupport

/// The splitter over a stream with holes of known length (`skip`), as a capture cut by a snap length gives.
@Suite struct FrameSplitterHoleTests {
    static let frames = FramingAndFuzzTests.frames

    /// What the splitter makes of a stream given as pieces: bytes, or a hole of so many bytes.
    enum Piece { case bytes(ArraySlice<UInt8>), hole(Int) }

    static func run(_ pieces: [Piece], wholeFrames: Bool = false) -> [FrameSplitter.Event] {
        var s = FrameSplitter()
        var events: [FrameSplitter.Event] = []
        for p in pieces {
            switch p {
            case .bytes(let b):
                if wholeFrames {
                    // Appends unless it hands the bytes back as one whole frame.
                    if let whole = s.appendTakingWholeFrame(Array(b)) { events.append(.frame(whole)); continue }
                } else {
                    s.append(b)
                }
                events += s.drain()
            case .hole(let n):
                events += s.skip(n)
                events += s.drain()
            }
        }
        while let tail = s.finish() { events.append(tail) }
        return events
    }

    /// Every frame longer than its first `keep` bytes loses the rest to holes, the way a snap length cuts
    /// each packet; the captured bytes and the holes arrive in random pieces, a frame's tail sometimes as
    /// several holes with captured bytes between them (a frame over several cut segments). Each cut frame
    /// comes out as `.truncated` with exactly its first bytes and its size, every other frame whole, in
    /// order, with nothing else; so framing never loses step.
    @Test func framesCutBySnapLengthComeOutCutAndInStep() {
        var g = SplitMix(seed: 41)
        for round in 0..<200 {
            let keep = Int.random(in: 7...40, using: &g)
            var pieces: [Piece] = []
            var expected: [FrameSplitter.Event] = []
            for _ in 0..<Int.random(in: 1...30, using: &g) {
                let f = Self.frames[Int.random(in: 0..<Self.frames.count, using: &g)]
                if f.count <= keep || Bool.random(using: &g) && round % 3 == 0 {
                    expected.append(.frame(f))
                    pieces += Self.split(f[...], &g)
                    continue
                }
                expected.append(.truncated(prefix: Array(f.prefix(keep)), size: UInt32(f.count)))
                pieces += Self.split(f.prefix(keep), &g)
                // The rest: holes, with captured bytes (later segments' first bytes) between them.
                var at = keep
                while at < f.count {
                    let hole = Int.random(in: 1...(f.count - at), using: &g)
                    pieces.append(.hole(hole))
                    at += hole
                    if at < f.count && Bool.random(using: &g) {
                        let n = Int.random(in: 1...(f.count - at), using: &g)
                        pieces += Self.split(f[at..<(at + n)], &g)
                        at += n
                    }
                }
            }
            #expect(Self.run(pieces) == expected, "round \(round)")
            #expect(Self.run(pieces, wholeFrames: true) == expected, "round \(round), whole-frame shortcut")
        }
    }

    static func split(_ bytes: ArraySlice<UInt8>, _ g: inout SplitMix) -> [Piece] {
        var out: [Piece] = []
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let j = min(bytes.endIndex, i + Int.random(in: 1...50, using: &g))
            out.append(.bytes(bytes[i..<j]))
            i = j
        }
        return out
    }

    /// A hole that reaches past the cut frame's end: the frame comes out cut, then framing starts afresh
    /// (what follows the hole is mid-frame: garbage until a plausible header), and a later frame whole.
    @Test func aHoleBeyondTheFrameEndsItAndFramingStartsAfresh() {
        let a = Self.frames.first { $0.count > 20 }!, b = Self.frames.first { $0.count > 12 && $0 != a }!
        let c = Self.frames[0]
        let events = Self.run([.bytes(a.prefix(10)), .hole(a.count - 10 + 5), .bytes(b.dropFirst(5)), .bytes(c[...])])
        #expect(events.first == .truncated(prefix: Array(a.prefix(10)), size: UInt32(a.count)))
        #expect(events.last == .frame(c), "\(events)")
        #expect(events.dropFirst().dropLast().allSatisfy { if case .garbage = $0 { true } else { false } }, "\(events)")
    }

    /// Fewer than 7 bytes before the hole: no header to show. With the size (4–6 bytes) the splitter still
    /// steps over the frame and frames the next one; without it, what was buffered is garbage and framing
    /// starts afresh after the hole.
    @Test func aHoleBeforeTheHeaderIsGarbage() {
        let a = Self.frames.first { $0.count > 20 }!, c = Self.frames[0]
        let sized = Self.run([.bytes(a.prefix(5)), .hole(a.count - 5), .bytes(c[...])])
        #expect(sized == [.garbage(bytes: Array(a.prefix(5)),
                                   reason: "a frame of \(a.count) bytes of which the capture holds only 5"), .frame(c)])
        let unsized = Self.run([.bytes(a.prefix(3)), .hole(a.count - 3), .bytes(c[...])])
        #expect(unsized == [.garbage(bytes: Array(a.prefix(3)),
                                     reason: "partial frame cut by \(a.count - 3) bytes missing from the capture"),
                            .frame(c)])
        #expect(Self.run([.hole(4), .bytes(c[...])]) == [.frame(c)], "a hole between frames")
    }

    /// Frames appended but not yet taken when a hole comes are handed out first, whole.
    @Test func framesNotYetTakenComeBeforeTheHole() {
        let a = Self.frames[0], b = Self.frames.first { $0.count > 20 }!
        var s = FrameSplitter()
        s.append(a + Array(b.prefix(9)))
        #expect(s.skip(b.count - 9) == [.frame(a), .truncated(prefix: Array(b.prefix(9)), size: UInt32(b.count))])
    }

    /// The stream ends inside a cut frame (the connection closed, or the capture ended): the frame comes out
    /// cut at `finish`, once.
    @Test func theStreamEndingInACutFrameGivesItCut() {
        let a = Self.frames.first { $0.count > 40 }!
        var s = FrameSplitter()
        s.append(a.prefix(9))
        #expect(s.skip(3).isEmpty && s.drain().isEmpty, "more of the frame is still to come")
        let rclunk: [UInt8] = [7, 0, 0, 0, 121, 1, 0]
        #expect(s.appendTakingWholeFrame(rclunk) == nil && s.drain().isEmpty,
                "bytes of the cut frame are passed over, not taken as a frame")
        #expect(s.finish() == .truncated(prefix: Array(a.prefix(9)), size: UInt32(a.count)))
        #expect(s.finish() == nil)
    }

    /// Random bytes (golden frames, their pieces, junk) and random holes, in any order: the splitter never
    /// traps, `finish` ends, and every cut frame it reports is a header it read with its size.
    @Test func randomBytesAndHolesNeverTrap() {
        var g = SplitMix(seed: 99)
        for _ in 0..<300 {
            var s = FrameSplitter(maxFrameSize: 1 << 16)
            var events: [FrameSplitter.Event] = []
            for _ in 0..<Int.random(in: 1...40, using: &g) {
                switch Int.random(in: 0..<4, using: &g) {
                case 0: s.append(Self.frames[Int.random(in: 0..<Self.frames.count, using: &g)])
                case 1:
                    let f = Self.frames[Int.random(in: 0..<Self.frames.count, using: &g)]
                    s.append(f.prefix(Int.random(in: 0...f.count, using: &g)))
                case 2: s.append((0..<Int.random(in: 0...30, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) })
                default: events += s.skip(Int.random(in: 0...(Bool.random(using: &g) ? 40 : 200_000), using: &g))
                }
                events += s.drain()
            }
            var ends = 0
            while let e = s.finish() { events.append(e); ends += 1; if ends > 3 { break } }
            #expect(ends <= 2, "finish ends")
            for case .truncated(let prefix, let size) in events {
                #expect(prefix.count >= 7 && Int(size) > prefix.count && FrameHeader(prefix)?.size == size)
            }
        }
    }
}
