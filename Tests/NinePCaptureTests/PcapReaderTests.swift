import Testing
@testable import NinePCapture

@Suite struct PcapReaderTests {
    static let packetA = Fix.packet(toServer: true, seq: 1000, ack: 5000, payload: Fix.tversion)
    static let packetB = Fix.packet(toServer: false, seq: 5000, ack: 1021, payload: Fix.rversion)

    static func sample(big: Bool, nano: Bool) -> [UInt8] {
        Fix.pcap(big: big, nano: nano, records: [
            (sec: 1_700_000_000, frac: nano ? 123_456_789 : 123_456, data: packetA),
            (sec: 1_700_000_001, frac: 7, data: packetB),
        ])
    }

    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func readsBothByteOrdersAndResolutions(big: Bool, nano: Bool) throws {
        var reader = try PcapReader(bytes: Self.sample(big: big, nano: nano))
        #expect(reader.bigEndian == big)
        #expect(reader.nanosecondResolution == nano)
        #expect(reader.linkType == .ethernet)
        #expect(reader.versionMajor == 2 && reader.versionMinor == 4)
        let packets = reader.readAll()
        #expect(packets.count == 2)
        #expect(packets.map(\.data) == [Self.packetA, Self.packetB])
        #expect(packets.map(\.number) == [1, 2])
        #expect(packets[0].fileOffset == 24)
        #expect(packets[0].timestampNanos == 1_700_000_000_000_000_000 + (nano ? 123_456_789 : 123_456_000))
        #expect(packets[1].timestampNanos == 1_700_000_001_000_000_000 + (nano ? 7 : 7000))
        #expect(!reader.truncatedTail)
        #expect(reader.warnings.isEmpty)
    }

    @Test func rejectsForeignMagic() {
        #expect(throws: CaptureError.unrecognizedFormat(magic: 0x504B_0304)) {
            _ = try PcapReader(bytes: [0x50, 0x4B, 0x03, 0x04] + [UInt8](repeating: 0, count: 40))
        }
        #expect(throws: CaptureError.tooShort(count: 2)) { _ = try CaptureReader(bytes: [0xD4, 0xC3]) }
    }

    /// Cutting the file at every byte offset never traps and returns exactly the records that fit.
    @Test(arguments: [false, true])
    func truncatedAtEveryOffset(big: Bool) throws {
        let file = Self.sample(big: big, nano: true)
        let firstEnd = 24 + 16 + Self.packetA.count
        for cut in 0..<file.count {
            var reader = try PcapReader(bytes: Array(file[..<cut]))
            let packets = reader.readAll()
            let expected = cut >= firstEnd ? 1 : 0
            #expect(packets.count == expected, "cut at \(cut)")
            let isBoundary = cut == 24 || cut == firstEnd
            #expect(reader.truncatedTail == !isBoundary, "cut at \(cut)")
            if !isBoundary {
                let offset = cut < 24 ? 0 : (cut < firstEnd ? 24 : firstEnd)
                #expect(reader.warnings.map(\.message) == ["capture ends mid-block at offset \(offset)"], "cut \(cut)")
            }
        }
    }

    @Test func linkTypeIgnoresFCSBits() throws {
        var file = Fix.pcap(big: false, nano: false, linkType: 113, records: [])
        file[23] = 0x10 // FCS-present flag in the high bits of the link-type field
        let reader = try PcapReader(bytes: file)
        #expect(reader.linkType == .linuxSLL)
    }
}
