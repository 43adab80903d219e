import Testing
import NinePWire
import NinePTestSupport

/// Data fields decoded from a frame share the frame's storage, and behave as the bytes they hold.
@Suite struct DataBytesTests {
    /// The address of the first byte of `bytes`' storage.
    private func address(_ bytes: [UInt8]) -> UInt {
        bytes.withUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
    }
    private func address(_ bytes: DataBytes) -> UInt {
        bytes.withUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
    }

    private func pattern(_ n: Int, seed: UInt64) -> [UInt8] {
        var rng = SplitMix(seed: seed)
        return (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    }

    @Test func decodedReadWriteAndReaddirDataShareTheFrame() throws {
        let data = pattern(65_536, seed: 1)
        let cases: [(Fcall, Int)] = [
            (Fcall(tag: Tag(1), .rread(Rread(data: data))), 11),
            (Fcall(tag: Tag(2), .twrite(Twrite(fid: Fid(7), offset: 4096, data: data))), 23),
            (Fcall(tag: Tag(3), .rreaddir(Rreaddir(data: Array(data.prefix(1000))))), 11),
        ]
        for (fcall, headerSize) in cases {
            let frame = fcall.encode(dialect: .l)
            let decoded = try Fcall.decode(frame, dialect: .l)
            #expect(decoded == fcall)
            let payload: DataBytes
            switch decoded.message {
            case .rread(let m): payload = m.payload
            case .twrite(let m): payload = m.payload
            case .rreaddir(let m): payload = m.payload
            default: Issue.record("decoded as \(decoded.message)"); continue
            }
            // No copy: the data is the frame's own bytes after the header.
            #expect(address(payload) == address(frame) + UInt(headerSize))
            #expect(payload.count == frame.count - headerSize)
            #expect(Array(payload) == Array(frame[headerSize...]))
            // And encodes back to the same frame.
            #expect(decoded.encode(dialect: .l) == frame)
        }
    }

    @Test func decodingBorrowedBytesCopiesTheData() throws {
        let frame = Fcall(tag: Tag(1), .rread(Rread(data: pattern(300, seed: 2)))).encode(dialect: .l)
        var payload: DataBytes = []
        var borrowed: UInt = 0
        try frame.withUnsafeBytes { raw in
            borrowed = UInt(bitPattern: raw.baseAddress)
            guard case .rread(let m) = try Fcall.decode(raw, dialect: .l).message else {
                Issue.record("not an Rread"); return
            }
            payload = m.payload
        }
        // The borrowed buffer may go away after the call: the data must be a copy of its own.
        #expect(address(payload) != borrowed + 11)
        #expect(Array(payload) == Array(frame[11...]))
    }

    @Test func sharedAndOwnBytesAreEqualAndHashAlike() {
        let frame = pattern(64, seed: 3)
        let shared = DataBytes(sharing: frame, range: 10..<30)
        let own = DataBytes(Array(frame[10..<30]))
        #expect(shared == own)
        #expect(shared.hashValue == own.hashValue)
        #expect(shared != DataBytes(Array(frame[11..<31])))
        #expect(shared != DataBytes(Array(frame[10..<29])))
        #expect(Set([shared, own]).count == 1)
        // Indexed from 0 whatever the range.
        #expect(shared.startIndex == 0 && shared.endIndex == 20)
        #expect(shared[0] == frame[10] && shared[19] == frame[29])
        #expect(shared.array == Array(frame[10..<30]))
        #expect(Array(shared.reversed()) == Array(frame[10..<30].reversed()))
        // A whole array is handed back as it is.
        #expect(address(DataBytes(frame).array) == address(frame))
    }

    @Test func messagesCompareByContentNotStorage() throws {
        let data = pattern(500, seed: 4)
        let frame = Fcall(tag: Tag(9), .rread(Rread(data: data))).encode(dialect: .l)
        let decoded = try Fcall.decode(frame, dialect: .p9)
        #expect(decoded == Fcall(tag: Tag(9), .rread(Rread(data: data))))
        #expect(decoded != Fcall(tag: Tag(9), .rread(Rread(data: Array(data.dropLast())))))
        guard case .rread(var m) = decoded.message else { Issue.record("not an Rread"); return }
        #expect(m.data == data)
        m.data = [1, 2, 3]
        #expect(m.payload == [1, 2, 3])
        #expect(m.payload.array == [1, 2, 3])
    }

    @Test func canonicalAndJSONShowSharedDataAsTheyShowOwnData() throws {
        let text = Array("hello, world\n".utf8) + pattern(40, seed: 5)
        let own = Fcall(tag: Tag(4), .twrite(Twrite(fid: Fid(1), offset: 0, data: text)))
        let decoded = try Fcall.decode(own.encode(dialect: .l), dialect: .l)
        #expect(decoded.canonicalLine == own.canonicalLine)
        #expect(decoded.canonicalLine.contains("count " + String(text.count)))
        #expect(decoded.jsonLine == own.jsonLine)
    }
}
