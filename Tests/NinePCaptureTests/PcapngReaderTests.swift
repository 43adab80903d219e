import Testing
@testable import NinePCapture

@Suite struct PcapngReaderTests {
    static let data1 = Fix.packet(toServer: true, seq: 1, payload: Fix.tversion)
    static let data2 = Fix.packet(toServer: false, seq: 9, payload: Fix.rversion)

    static func sample(big: Bool) -> [UInt8] {
        Fix.shb(big, userappl: "handmade 1.0", comments: ["first section"])
            + Fix.idb(big, tsresol: 9)
            + Fix.block(0x0000_0BAD, [1, 2, 3, 4, 5, 6, 7, 8], big) // unknown block: skipped
            + Fix.epb(big, units: 1_700_000_000_123_456_789, data: data1, comments: ["hello", "world"], flags: 1)
            + Fix.block(5, [UInt8](repeating: 0, count: 16), big) // interface statistics: skipped
            + Fix.spb(big, data: data2)
            + Fix.opb(big, units: 1_700_000_002_000_000_000, data: data1)
    }

    @Test(arguments: [false, true])
    func readsEveryPacketBlockKind(big: Bool) throws {
        var reader = try PcapngReader(bytes: Self.sample(big: big))
        #expect(reader.sections.count == 1)
        #expect(reader.sections[0].bigEndian == big)
        #expect(reader.sections[0].userApplication == "handmade 1.0")
        #expect(reader.sections[0].comments == ["first section"])
        let packets = reader.readAll()
        #expect(packets.map(\.data) == [Self.data1, Self.data2, Self.data1])
        #expect(packets.map(\.number) == [1, 2, 3])
        #expect(packets[0].timestampNanos == 1_700_000_000_123_456_789)
        #expect(packets[0].comments == ["hello", "world"])
        #expect(packets[0].flags == 1)
        #expect(packets[0].linkType == .ethernet)
        // A simple packet block has no timestamp: it inherits the previous packet's.
        #expect(packets[1].timestampNanos == 1_700_000_000_123_456_789)
        #expect(packets[2].timestampNanos == 1_700_000_002_000_000_000)
        #expect(!reader.truncatedTail)
        #expect(reader.warnings.isEmpty)
        #expect(reader.interfaces.first?.timestampResolution == 9)
    }

    /// Interface statistics blocks (dumpcap writes one at the end) are read only for ninescope's end record:
    /// one too short to hold its interface id and timestamp, or holding no comment, is passed over, never a
    /// trap; the end record's comment is found after the 12 fixed bytes.
    @Test func interfaceStatisticsBlocksOfAnyLengthAreReadSafely() throws {
        let end = PcapngWriter(options: PcapngWriterOptions()).endRecord(t: 5, why: "proxy stopped")
        for big in [false, true] {
            let file = Fix.shb(big) + Fix.idb(big, tsresol: 9)
                + Fix.block(5, [], big) + Fix.block(5, [0, 0, 0, 0], big) + Fix.block(5, Array(repeating: 0, count: 12), big)
                + Fix.epb(big, units: 1, data: Self.data1)
            var reader = try PcapngReader(bytes: file)
            #expect(reader.readAll().count == 1)
            #expect(reader.endRecord == nil)
            #expect(reader.warnings.isEmpty, "\(reader.warnings)")
        }
        var ours = try PcapngReader(bytes: PcapngWriter(options: PcapngWriterOptions()).header() + end)
        #expect(ours.readAll().isEmpty)
        #expect(ours.endRecord == "ninescope ev=end why=proxy%20stopped")
    }

    @Test func timestampResolutions() throws {
        // Default microseconds, milliseconds, 2^-10 s with a +100 s offset.
        let file = Fix.shb(false) + Fix.idb(false) + Fix.idb(false, tsresol: 3)
            + Fix.idb(false, tsresol: 0x80 | 10, tsoffset: 100)
            + Fix.epb(false, interface: 0, units: 1_500_000, data: [1])
            + Fix.epb(false, interface: 1, units: 2_250, data: [2])
            + Fix.epb(false, interface: 2, units: 3 * 1024 + 512, data: [3])
        var reader = try PcapngReader(bytes: file)
        let times = reader.readAll().map(\.timestampNanos)
        #expect(times == [1_500_000_000, 2_250_000_000, 103_500_000_000])
    }

    @Test func severalSectionsWithDifferentByteOrders() throws {
        let file = Fix.shb(false, userappl: "one") + Fix.idb(false, linkType: 1)
            + Fix.epb(false, units: 10, data: Self.data1)
            + Fix.shb(true, userappl: "two") + Fix.idb(true, linkType: 101, tsresol: 9)
            + Fix.epb(true, units: 20, data: [0x45])
        var reader = try PcapngReader(bytes: file)
        let packets = reader.readAll()
        #expect(reader.sections.map(\.userApplication) == ["one", "two"])
        #expect(reader.sections.map(\.bigEndian) == [false, true])
        #expect(packets.map(\.linkType) == [.ethernet, .raw])
        #expect(packets.map(\.section) == [0, 1])
        #expect(packets.map(\.timestampNanos) == [10_000, 20])
    }

    @Test func packetNamingUndescribedInterfaceIsSkippedWithWarning() throws {
        let file = Fix.shb(false) + Fix.idb(false) + Fix.epb(false, interface: 3, units: 1, data: [1])
            + Fix.epb(false, units: 2, data: [2])
        var reader = try PcapngReader(bytes: file)
        let packets = reader.readAll()
        #expect(packets.map(\.data) == [[2]])
        #expect(packets.map(\.number) == [2])
        #expect(reader.warnings.count == 1)
        #expect(reader.warnings.first?.message.contains("interface 3") == true)
    }

    @Test func invalidBlockLengthStopsWithWarning() throws {
        var file = Fix.shb(false) + Fix.idb(false) + Fix.epb(false, units: 1, data: [1])
        let bad = file.count
        file += Fix.le32(6) + Fix.le32(13) + [UInt8](repeating: 0, count: 20)
        var reader = try PcapngReader(bytes: file)
        #expect(reader.readAll().count == 1)
        #expect(!reader.truncatedTail)
        #expect(reader.warnings.map(\.message) == ["invalid block length 13 at offset \(bad)"])
    }

    @Test func rejectsWrongMagicAndVersion() {
        #expect(throws: CaptureError.self) { _ = try PcapngReader(bytes: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) }
        var v2 = Fix.shb(false)
        v2[12] = 2
        #expect(throws: CaptureError.unsupportedVersion(major: 2, minor: 0)) { _ = try PcapngReader(bytes: v2) }
    }

    /// Cutting the file at every byte offset never traps and returns exactly the blocks that fit.
    @Test(arguments: [false, true])
    func truncatedAtEveryOffset(big: Bool) throws {
        let shb = Fix.shb(big, userappl: "x"), idb = Fix.idb(big, tsresol: 9)
        let epb1 = Fix.epb(big, units: 1, data: Self.data1, comments: ["c"])
        let epb2 = Fix.epb(big, units: 2, data: Self.data2)
        let file = shb + idb + epb1 + epb2
        let boundaries = [0, shb.count, shb.count + idb.count, shb.count + idb.count + epb1.count, file.count]
        for cut in 0..<file.count {
            var reader = try PcapngReader(bytes: Array(file[..<cut]))
            let packets = reader.readAll()
            let expected = cut >= boundaries[3] ? 1 : 0
            #expect(packets.count == expected, "cut at \(cut)")
            if expected == 1 { #expect(packets[0].data == Self.data1) }
            let isBoundary = boundaries.contains(cut) && cut > 0
            #expect(reader.truncatedTail == !isBoundary, "cut at \(cut)")
            if !isBoundary {
                let start = boundaries.last(where: { $0 <= cut }) ?? 0
                #expect(reader.warnings.last?.message == "capture ends mid-block at offset \(start)", "cut \(cut)")
            }
        }
    }

    @Test func captureReaderPicksFormat() throws {
        let ng = try CaptureReader(bytes: Self.sample(big: false))
        #expect(ng.format == .pcapng)
        let classic = try CaptureReader(bytes: PcapReaderTests.sample(big: true, nano: false))
        #expect(classic.format == .pcap)
    }
}
