import NinePWire
import Testing
@testable import NinePCapture

/// Feeding a file in chunks gives exactly what reading it whole gives.
@Suite struct StreamingReaderTests {
    static func readInChunks(_ file: [UInt8], chunk: Int) throws -> (packets: [CapturedPacket], reader: CaptureReader) {
        let first = max(4, chunk)
        var reader = try CaptureReader(bytes: Array(file.prefix(first)))
        var packets: [CapturedPacket] = []
        var position = first
        while true {
            while let packet = reader.next() { packets.append(packet) }
            guard position < file.count else { break }
            reader.append(Array(file[position..<min(file.count, position + chunk)]))
            position += chunk
        }
        return (packets, reader)
    }

    static func whole(_ file: [UInt8]) throws -> (packets: [CapturedPacket], reader: CaptureReader) {
        var reader = try CaptureReader(bytes: file)
        var packets: [CapturedPacket] = []
        while let packet = reader.next() { packets.append(packet) }
        return (packets, reader)
    }

    static let pcapFile = PcapReaderTests.sample(big: true, nano: false)
    static let pcapngFile = PcapngReaderTests.sample(big: false)
        + Fix.shb(true, userappl: "second") + Fix.idb(true, linkType: 101) + Fix.epb(true, units: 5, data: [0x45, 1])

    @Test(arguments: [1, 3, 16, 100, 4096])
    func chunkedReadsMatchWholeReads(chunk: Int) throws {
        for file in [Self.pcapFile, Self.pcapngFile] {
            let expected = try Self.whole(file)
            let streamed = try Self.readInChunks(file, chunk: chunk)
            #expect(streamed.packets == expected.packets)
            #expect(!streamed.reader.truncatedTail)
            #expect(streamed.reader.warnings.isEmpty)
            #expect(streamed.reader.sections == expected.reader.sections)
        }
    }

    @Test(arguments: [1, 5, 64])
    func chunkedTruncatedFileReportsTheSameTail(chunk: Int) throws {
        for file in [Self.pcapFile, Self.pcapngFile] {
            let cut = Array(file.dropLast(3))
            let expected = try Self.whole(cut)
            let streamed = try Self.readInChunks(cut, chunk: chunk)
            #expect(streamed.packets == expected.packets)
            #expect(streamed.reader.truncatedTail)
            #expect(streamed.reader.warnings == expected.reader.warnings)
            #expect(streamed.reader.warnings.count == 1)
        }
    }

    /// Large files: consumed bytes are dropped from the buffer, file offsets stay absolute.
    @Test func largeOwnCaptureInChunks() throws {
        var writer = PcapngWriter(options: PcapngWriterOptions(maxSegmentSize: 1000))
        var file = writer.header()
        for id in 0..<4 {
            file += writer.frame(conn: ConnectionID(UInt32(id)), direction: .toServer, t: Int64(id),
                                 bytes: Fix.twrite(tag: 1, data: RoundTripTests.big))
        }
        let expected = try Self.whole(file)
        let streamed = try Self.readInChunks(file, chunk: 10_007)
        #expect(streamed.packets == expected.packets)
        #expect(streamed.packets.last?.fileOffset == expected.packets.last?.fileOffset)
        #expect(streamed.reader.pcapng?.stream.base ?? 0 > 0) // the buffer was compacted
    }

    @Test func streamingStartWithLessThanAHeader() throws {
        var pcap = try PcapReader(bytes: Array(Self.pcapFile.prefix(10)))
        #expect(pcap.next() == nil)
        #expect(pcap.truncatedTail)
        pcap.append(Array(Self.pcapFile.dropFirst(10)))
        #expect(pcap.readAll().count == 2)
        #expect(!pcap.truncatedTail && pcap.warnings.isEmpty)

        var ng = try PcapngReader(bytes: [])
        #expect(ng.truncatedTail)
        ng.append(Self.pcapngFile)
        #expect(ng.readAll().count == 4)
        #expect(!ng.truncatedTail && ng.warnings.isEmpty)

        var notNg = try PcapngReader(bytes: [1])
        notNg.append([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13])
        #expect(notNg.next() == nil)
        #expect(notNg.warnings.map(\.message) == ["not a pcapng file"])
    }
}
