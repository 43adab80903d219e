import NIOCore
import NIOEmbedded
import NinePWire
import Testing
@testable import NinePNIO

/// `NinePFrameDecoder` in a pipeline (`EmbeddedChannel`): frames out whatever the split, fatal errors for
/// sizes that cannot be trusted.
@Suite struct FrameDecoderTests {
    func channel(max: UInt32 = 1 << 20) -> EmbeddedChannel {
        EmbeddedChannel(handler: ByteToMessageHandler(NinePFrameDecoder(maxFrameSize: max)))
    }

    func readFrames(_ ch: EmbeddedChannel) throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        while let b = try ch.readInbound(as: ByteBuffer.self) { out.append(Array(b.readableBytesView)) }
        return out
    }

    @Test func dripFedBytesComeOutAsWholeFrames() throws {
        let frames = [F.tversion(), F.tread(1), F.twrite(2, Array(repeating: 3, count: 1000)), [7, 0, 0, 0, 0xEE, 1, 0]]
        let ch = channel()
        var got: [[UInt8]] = []
        for byte in frames.joined() {
            try ch.writeInbound(ByteBuffer(bytes: [byte]))
            got += try readFrames(ch)
        }
        #expect(got == frames)
        #expect(try ch.finish().isClean)
    }

    @Test func manyFramesInOneRead() throws {
        let frames = (0..<50).map { F.tread(UInt16($0), count: UInt32($0)) }
        let ch = channel()
        try ch.writeInbound(ByteBuffer(bytes: Array(frames.joined())))
        #expect(try readFrames(ch) == frames)
    }

    @Test func frameAboveTheLimitIsAnError() throws {
        let ch = channel(max: 100)
        #expect(throws: NinePFramingError.frameTooLarge(size: 1023, limit: 100)) {
            try ch.writeInbound(ByteBuffer(bytes: F.twrite(1, Array(repeating: 0, count: 1000))))
        }
    }

    @Test func frameBelowTheHeaderIsAnError() throws {
        let ch = channel()
        #expect(throws: NinePFramingError.frameTooSmall(size: 6)) {
            try ch.writeInbound(ByteBuffer(bytes: [6, 0, 0, 0, 1, 2]))
        }
    }

    @Test func streamEndingInsideAFrameIsAnError() throws {
        let ch = channel()
        let frame = F.tread(1)
        try ch.writeInbound(ByteBuffer(bytes: Array(frame[0..<9])))
        #expect(try readFrames(ch).isEmpty)
        #expect(throws: NinePFramingError.truncated(buffered: 9)) { _ = try ch.finish() }
    }
}
