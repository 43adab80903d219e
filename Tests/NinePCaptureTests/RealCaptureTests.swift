import NinePWire
import Testing
@testable import NinePCapture

@Suite struct RealCaptureTests {
    /// 9P message types in the order their frames complete, walking both directions' streams.
    static func messageTypes(_ events: [CaptureEvent]) -> [UInt8] {
        var buffers: [Direction: [UInt8]] = [:]
        var types: [UInt8] = []
        for event in events {
            guard case .data(_, let direction, _, let bytes, _) = event else { continue }
            var buffer = buffers[direction, default: []] + bytes
            while buffer.count >= 7 {
                let size = Int(buffer[0]) | Int(buffer[1]) << 8 | Int(buffer[2]) << 16 | Int(buffer[3]) << 24
                guard size >= 7, buffer.count >= size else { break }
                types.append(buffer[4])
                buffer.removeFirst(size)
            }
            buffers[direction] = buffer
        }
        return types
    }

    @Test func tcpdumpCaptureOfDiodMatchesTshark() throws {
        let contents = try CaptureFile.decode(DiodCapture.bytes,
                                              options: ReassemblyOptions(ninePPorts: [DiodCapture.serverPort]))
        #expect(contents.format == .pcap)
        #expect(contents.packetCount == 26)
        #expect(contents.warnings.isEmpty)
        #expect(contents.events.opens.map(\.server.port) == [DiodCapture.serverPort])
        #expect(contents.events.closes.map(\.reset) == [false])
        #expect(contents.events.gaps.isEmpty)
        #expect(Self.messageTypes(contents.events) == DiodCapture.tsharkMessageTypes)
    }

    /// Every prefix of a real file: no trap, and the messages found are a prefix of the full list.
    @Test func everyPrefixOfTheRealCapture() throws {
        let file = DiodCapture.bytes
        for cut in 4..<file.count {
            let contents = try CaptureFile.decode(Array(file[..<cut]),
                                                  options: ReassemblyOptions(ninePPorts: [DiodCapture.serverPort]))
            let types = Self.messageTypes(contents.events)
            #expect(Array(DiodCapture.tsharkMessageTypes.prefix(types.count)) == types, "cut \(cut)")
        }
    }
}
