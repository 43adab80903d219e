import Testing
import NinePWire
import NinePTestSupport

@Suite struct GoldenVectorTests {
    @Test(arguments: goldenVectors.indices)
    func encodeMatchesHandWrittenBytes(_ i: Int) throws {
        let v = goldenVectors[i]
        let expected = GoldenVectors.bytes(fromHex: v.hex)
        let encoded = v.fcall.encode(dialect: v.dialect)
        #expect(encoded == expected, "\(v.name) [\(v.dialect)] \(v.fcall.canonicalLine)")
        // The size field counts the whole frame.
        let size = Int(expected[0]) | Int(expected[1]) << 8 | Int(expected[2]) << 16 | Int(expected[3]) << 24
        #expect(size == expected.count, "\(v.name) [\(v.dialect)]: hand-written size field")
        #expect(expected[4] == v.fcall.message.typeCode)
        let decoded = try Fcall.decode(expected, dialect: v.dialect)
        #expect(decoded == v.fcall, "\(v.name) [\(v.dialect)]")
        #expect(try Fcall.decode(encoded, dialect: v.dialect) == v.fcall)
        // The pointer-based entry point agrees.
        let viaPointer = try expected.withUnsafeBytes { buf throws(DecodeError) in try Fcall.decode(buf, dialect: v.dialect) }
        #expect(viaPointer == v.fcall)
    }

    @Test func everyMessageOfEveryDialectHasAVector() {
        for type in MessageType.allCases where type != .terror && type != .tlerror {
            for dialect in type.dialects {
                let found = goldenVectors.contains { $0.dialect == dialect && $0.fcall.message.typeCode == type.rawValue }
                #expect(found, "no golden vector for \(type.name) in \(dialect)")
            }
        }
        // And the names agree with the manual names.
        for v in goldenVectors {
            #expect(v.fcall.message.name == v.name)
        }
    }

    @Test func tversionExampleFromMessagesMd() throws {
        let f = Fcall(tag: .notag, .tversion(Tversion(msize: 8192, version: "9P2000.L")))
        let bytes: [UInt8] = [0x15, 0, 0, 0, 0x64, 0xFF, 0xFF, 0x00, 0x20, 0, 0, 0x08, 0x00,
                              0x39, 0x50, 0x32, 0x30, 0x30, 0x30, 0x2E, 0x4C]
        #expect(f.encode(dialect: .l) == bytes)
        #expect(bytes.count == 21)
        #expect(try Fcall.decode(bytes, dialect: .l) == f)
    }

    @Test func direntHelpersMatchTheHandWrittenData() throws {
        #expect(Dirent.encodeAll(GoldenVectors.dirents) == GoldenVectors.direntData)
        #expect(try Dirent.decodeAll(GoldenVectors.direntData) == GoldenVectors.dirents)
        #expect(try Dirent.decodeAll([]) == [])
        #expect(GoldenVectors.dirents.map(\.wireSize) == [25, 25])
    }
}
