import NIOCore
import NinePWire

/// Why a 9P byte stream could not be framed by `NinePFrameDecoder`.
public enum NinePFramingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A size field below the 7-byte header.
    case frameTooSmall(size: UInt32)
    /// A size field above the limit (the msize in force, or the configured maximum).
    case frameTooLarge(size: UInt32, limit: UInt32)
    /// The stream ended inside a frame.
    case truncated(buffered: Int)

    public var description: String {
        switch self {
        case .frameTooSmall(let s): return "frame size \(s) is below the 7-byte minimum"
        case .frameTooLarge(let s, let l): return "frame size \(s) exceeds the limit \(l)"
        case .truncated(let n): return "stream ended inside a frame (\(n) bytes)"
        }
    }
}

/// Splits a 9P byte stream into frames (`size[4]` included), one `ByteBuffer` per frame (a slice of the
/// input where possible: no copy). A size below 7 or above `maxFrameSize` is a fatal error: nothing can
/// be trusted after it, and waiting for a lying size would buffer without bound. Use it with
/// `ByteToMessageHandler`; the server adapter and the client connection do. (The proxy does not: it must
/// pass any bytes through, and frames them itself.)
public struct NinePFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    /// Largest frame accepted. May be lowered once an msize is negotiated.
    public var maxFrameSize: UInt32

    public init(maxFrameSize: UInt32 = NineP.defaultMaxFrameSize) {
        self.maxFrameSize = maxFrameSize
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try NinePFrameDecoder.nextFrame(&buffer, maxFrameSize: maxFrameSize) else {
            return .needMoreData
        }
        context.fireChannelRead(NIOAny(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer,
                                    seenEOF: Bool) throws -> DecodingState {
        while let frame = try NinePFrameDecoder.nextFrame(&buffer, maxFrameSize: maxFrameSize) {
            context.fireChannelRead(NIOAny(frame))
        }
        if buffer.readableBytes > 0 {
            let n = buffer.readableBytes
            buffer.moveReaderIndex(forwardBy: n)
            throw NinePFramingError.truncated(buffered: n)
        }
        return .needMoreData
    }

    /// Takes one complete frame off the front of `buffer`, nil when more bytes are needed.
    static func nextFrame(_ buffer: inout ByteBuffer, maxFrameSize: UInt32) throws -> ByteBuffer? {
        guard let size = buffer.getInteger(at: buffer.readerIndex, endianness: .little, as: UInt32.self) else {
            return nil
        }
        guard size >= UInt32(NineP.headerSize) else { throw NinePFramingError.frameTooSmall(size: size) }
        guard size <= maxFrameSize else { throw NinePFramingError.frameTooLarge(size: size, limit: maxFrameSize) }
        return buffer.readSlice(length: Int(size))
    }
}
