import NinePTestSupport
import Testing
import NinePWire
import PropertyBased

/// Checks shared by the property tests: a frame's leaves cover every byte exactly once, in order.
func leavesCoverFrame(_ tree: FieldTree, _ count: Int) -> Bool {
    var next = 0
    for leaf in tree.leaves {
        guard leaf.range.lowerBound == next else { return false }   // contiguous, no overlap (empty data allowed)
        next = leaf.range.upperBound
    }
    return next == count
}

@Suite struct RoundTripPropertyTests {
    @Test func randomMessagesOfAllTypesRoundTrip() async {
        await propertyCheck(count: 2000, input: RandomMessages.generator) { s in
            let frame = s.fcall.encode(dialect: s.dialect)
            let size = Int(frame[0]) | Int(frame[1]) << 8 | Int(frame[2]) << 16 | Int(frame[3]) << 24
            #expect(size == frame.count)
            #expect(frame[4] == s.fcall.message.typeCode)
            #expect(frame[5] == UInt8(s.fcall.tag.rawValue & 0xFF) && frame[6] == UInt8(s.fcall.tag.rawValue >> 8))
            #expect(throws: Never.self) {
                let back = try Fcall.decode(frame, dialect: s.dialect)
                #expect(back == s.fcall, "\(s)")
            }
        }
    }

    @Test func fieldTreeOfRandomMessagesCoversEveryByteAndAgreesWithDecode() async {
        await propertyCheck(count: 1000, input: RandomMessages.generator) { s in
            let frame = s.fcall.encode(dialect: s.dialect)
            let tree = Fcall.fieldTree(frame, dialect: s.dialect)
            #expect(tree.error == nil, "\(s)")
            #expect(tree.fcall == s.fcall)
            #expect(leavesCoverFrame(tree, frame.count), "\(s)")
            #expect(tree.roots.map(\.name).prefix(3) == ["size", "type", "tag"])
        }
    }

    /// Every type gets a fair share: loop over each type explicitly with a fixed seed.
    @Test(arguments: RandomMessages.buildableTypes.map(\.rawValue) + [0])
    func everyTypeRoundTripsInEachOfItsDialects(_ code: UInt8) throws {
        let type = MessageType(rawValue: code)
        var g = SplitMix(seed: UInt64(code) &* 7919)
        for _ in 0..<60 {
            let (f, d) = RandomMessages.fcall(type, &g)
            let frame = f.encode(dialect: d)
            let back = try Fcall.decode(frame, dialect: d)
            #expect(back == f, "[\(d)] \(f.canonicalLine)")
            #expect(back.encode(dialect: d) == frame)
            let line = f.canonicalLine
            #expect(line.hasPrefix(f.message.name + " tag "))
            #expect(!line.contains("\n"))
            #expect(f.jsonLine.hasPrefix("{\"message\":\"\(f.message.name)\","))
        }
    }

    @Test func statAndDirentHelpersRoundTrip() throws {
        var g = SplitMix(seed: 42)
        for _ in 0..<300 {
            let d = Dialect.allCases.randomElement(using: &g)!
            let stats = (0..<Int.random(in: 0...4, using: &g)).map { _ in RandomMessages.stat(&g, d) }
            let data = Stat.encodeAll(stats, dialect: d)
            #expect(try Stat.decodeAll(data, dialect: d) == stats)
            if let first = stats.first {
                #expect(try Stat.decode(first.encode(dialect: d), dialect: d) == first)
            }
            let entries = RandomMessages.dirents(&g)
            #expect(try Dirent.decodeAll(Dirent.encodeAll(entries)) == entries)
            #expect(Dirent.encodeAll(entries).count == entries.reduce(0) { $0 + $1.wireSize })
        }
    }
}
