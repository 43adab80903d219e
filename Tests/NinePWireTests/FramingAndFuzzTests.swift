import Testing
import NinePWire
import NinePTestSupport

@Suite struct FramingAndFuzzTests {
    static let frames: [[UInt8]] = goldenVectors.map { GoldenVectors.bytes(fromHex: $0.hex) }
    static let stream: [UInt8] = frames.flatMap { $0 }

    func collect(_ pieces: [ArraySlice<UInt8>]) -> [FrameSplitter.Event] {
        var s = FrameSplitter()
        var events: [FrameSplitter.Event] = []
        for p in pieces {
            s.append(p)
            events += s.drain()
        }
        if let tail = s.finish() { events.append(tail) }
        return events
    }

    @Test func dripFeedOneByteAtATime() {
        let events = collect(Self.stream.indices.map { Self.stream[$0...$0] })
        #expect(events == Self.frames.map { .frame($0) })
    }

    @Test func randomPieces() {
        var g = SplitMix(seed: 7)
        for _ in 0..<50 {
            var pieces: [ArraySlice<UInt8>] = []
            var i = 0
            while i < Self.stream.count {
                let n = Int.random(in: 0...40, using: &g)
                let j = min(Self.stream.count, i + n)
                pieces.append(Self.stream[i..<j])
                i = j
            }
            #expect(collect(pieces) == Self.frames.map { .frame($0) })
        }
    }

    /// `appendTakingWholeFrame` gives exactly the events of `append` + `drain`, whatever the pieces (whole
    /// frames, parts, several frames, garbage), and takes a lone whole frame without buffering it.
    @Test func wholeFrameShortcutMatchesAppend() {
        var g = SplitMix(seed: 11)
        let withGarbage = Self.stream + [0, 0, 0, 0, 0xEE] + Self.frames[0] + [9, 0]
        for round in 0..<60 {
            var pieces: [[UInt8]] = []
            var i = 0
            let source = round % 2 == 0 ? Self.stream : withGarbage
            if round % 3 == 0 {
                pieces = Self.frames                                  // one frame per piece
            } else {
                while i < source.count {
                    let j = min(source.count, i + Int.random(in: 1...60, using: &g))
                    pieces.append(Array(source[i..<j]))
                    i = j
                }
            }
            var plain = FrameSplitter(), fast = FrameSplitter()
            var expected: [FrameSplitter.Event] = [], got: [FrameSplitter.Event] = []
            var shortcuts = 0
            for p in pieces {
                plain.append(p)
                expected += plain.drain()
                if let whole = fast.appendTakingWholeFrame(p) {
                    shortcuts += 1
                    got.append(.frame(whole))
                    #expect(fast.bufferedCount == 0 && fast.next() == nil)
                }
                got += fast.drain()
            }
            if let tail = plain.finish() { expected.append(tail) }
            if let tail = fast.finish() { got.append(tail) }
            #expect(got == expected, "round \(round)")
            if round % 3 == 0 { #expect(shortcuts == Self.frames.count) }
        }
    }

    @Test func framesDecodeAfterSplitting() throws {
        var s = FrameSplitter()
        s.append(Self.stream)
        let events = s.drain()
        #expect(events.count == goldenVectors.count)
        for (e, v) in zip(events, goldenVectors) {
            guard case .frame(let f) = e else { Issue.record("garbage: \(e)"); continue }
            #expect(try Fcall.decode(f, dialect: v.dialect) == v.fcall)
        }
    }

    @Test func impossibleSizeResynchronises() {
        let clunk = golden("Tclunk", .l)
        let flush = golden("Tflush", .l)
        var s = FrameSplitter()
        s.append(clunk + [0, 0, 0, 0, 0xEE] + flush)
        let events = s.drain()
        #expect(events.first == .frame(clunk))
        #expect(events.last == .frame(flush))
        let garbage = events.dropFirst().dropLast().flatMap { e -> [UInt8] in
            if case .garbage(let b, _) = e { return b } else { return [0xFF, 0xFF] }
        }
        #expect(garbage == [0, 0, 0, 0, 0xEE])
        // A frame cut by the end of the stream is reported, not lost.
        var t = FrameSplitter()
        t.append(clunk.prefix(9))
        #expect(t.drain().isEmpty)
        if case .garbage(let b, _)? = t.finish() { #expect(b == Array(clunk.prefix(9))) } else { Issue.record("no tail") }
    }

    /// A size field no frame can have opens one run with the bytes skipped after it (one event, one line,
    /// saying both); bytes left when the stream ends while looking for a header are skipped bytes, not a
    /// frame cut short.
    @Test func aBadSizeFieldAndTheBytesAfterItAreOneRun() {
        let http = Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        let version = golden("Tversion", .l)
        var s = FrameSplitter()
        s.append(http + version)
        #expect(s.drain() == [.garbage(bytes: http, reason: "frame size 542393671 exceeds the limit 16777216, and no frame header in the 23 bytes after it"),
                              .frame(version)])
        var one = FrameSplitter()
        one.append([3, 0, 0, 0, 0xEE] + version)
        #expect(one.drain() == [.garbage(bytes: [3, 0, 0, 0, 0xEE],
                                         reason: "frame size 3 is below the 7-byte minimum, and no frame header in the byte after it"),
                                .frame(version)])
        var tail = FrameSplitter()
        tail.append(http)
        // The last 4 bytes wait (they could begin a header) until the stream ends.
        #expect(tail.drain() == [.garbage(bytes: Array(http.prefix(23)),
                                          reason: "frame size 542393671 exceeds the limit 16777216, and no frame header in the 19 bytes after it")])
        #expect(tail.finish() == .garbage(bytes: Array(http.suffix(4)), reason: "skipped 4 bytes looking for a frame header"))
    }

    /// Random bytes, with the size field corrected half of the time and a known type most of the time:
    /// decoding never traps; a decoded frame re-encodes to the same bytes; the field tree agrees.
    @Test func randomBytesNeverTrap() {
        var g = SplitMix(seed: 0x9e3779b9)
        let types = MessageType.allCases.map(\.rawValue)
        var decoded = 0
        for round in 0..<20_000 {
            var f = (0..<Int.random(in: 0...72, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) }
            if f.count >= 5 && Int.random(in: 0..<10, using: &g) < 8 { f[4] = types.randomElement(using: &g)! }
            if f.count >= 4 && Bool.random(using: &g) { f = withSizeFixed(f) }
            // Keep strings and counts small sometimes so bodies can parse.
            if f.count >= 9 && Bool.random(using: &g) { f[8] = 0; f[7] = UInt8.random(in: 0...3, using: &g) }
            let d = Dialect.allCases[round % 3]
            checkTotal(f, d, &decoded)
        }
        #expect(decoded > 200, "too few random frames decoded (\(decoded)) for the round-trip check to mean much")
    }

    /// Golden frames with one to three bytes changed.
    @Test func mutatedGoldenFramesNeverTrap() {
        var g = SplitMix(seed: 99)
        var decoded = 0
        for _ in 0..<20_000 {
            let i = Int.random(in: 0..<goldenVectors.count, using: &g)
            var f = Self.frames[i]
            for _ in 0..<Int.random(in: 1...3, using: &g) {
                f[Int.random(in: 0..<f.count, using: &g)] = UInt8.random(in: 0...255, using: &g)
            }
            if Bool.random(using: &g) { f = withSizeFixed(f) }
            checkTotal(f, goldenVectors[i].dialect, &decoded)
        }
        #expect(decoded > 1000)
    }

    func checkTotal(_ f: [UInt8], _ d: Dialect, _ decoded: inout Int) {
        let tree = Fcall.fieldTree(f, dialect: d)
        #expect(leavesCoverFrame(tree, f.count))
        do {
            let m = try Fcall.decode(f, dialect: d)
            decoded += 1
            #expect(m.encode(dialect: d) == f, "\(m.canonicalLine)")
            #expect(tree.error == nil && tree.fcall == m)
            _ = m.canonicalLine
            _ = m.jsonLine
        } catch {
            #expect(tree.error == error)
            #expect(error.offset >= 0 && error.offset <= f.count)
            #expect(!error.field.isEmpty && !error.reason.isEmpty)
        }
    }
}
