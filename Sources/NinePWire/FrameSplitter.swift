/// Splits a 9P byte stream, arriving in arbitrary pieces (one byte at a time included), into frames.
///
/// A frame is `size[4] type[1] tag[2] body`, `size` counting the whole frame. A size below 7 or above
/// `maxFrameSize` cannot be a frame: the splitter reports it and then resynchronises by scanning for the
/// next plausible header (a size in range followed by a known message type), reporting the bytes it
/// skipped. It never traps and never allocates more than one frame of at most `maxFrameSize` bytes
/// (a lying size only makes it wait for more input).
public struct FrameSplitter: Sendable {
    public enum Event: Hashable, Sendable {
        /// A complete frame, size field included.
        case frame([UInt8])
        /// Bytes that could not be framed (after an impossible size). `reason` says why.
        case garbage(bytes: [UInt8], reason: String)
    }

    public var maxFrameSize: UInt32
    private var buffer: [UInt8] = []
    private var start = 0
    private var resyncing = false

    public init(maxFrameSize: UInt32 = NineP.defaultMaxFrameSize) {
        self.maxFrameSize = maxFrameSize
    }

    /// Bytes received but not yet part of a complete frame.
    public var bufferedCount: Int { buffer.count - start }

    public mutating func append<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// `append(bytes)` for the common case of a segment holding exactly one frame while nothing is
    /// buffered: that frame is returned as it is (no copy in and out of the buffer) and `next()` then has
    /// nothing more. Otherwise the bytes are appended and nil is returned: call `next()` as usual.
    public mutating func appendTakingWholeFrame(_ bytes: [UInt8]) -> [UInt8]? {
        if !resyncing, start == buffer.count, bytes.count >= NineP.headerSize {
            let size = UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24
            if UInt64(size) == UInt64(bytes.count), size <= maxFrameSize { return bytes }
        }
        append(bytes)
        return nil
    }

    /// The next frame or garbage event, or nil when more bytes are needed.
    public mutating func next() -> Event? {
        let avail = buffer.count - start
        if resyncing {
            return resync()
        }
        guard avail >= 4 else { return nil }
        let size = readSize(at: start)
        if size < UInt32(NineP.headerSize) || size > maxFrameSize {
            resyncing = true
            let reason = size < UInt32(NineP.headerSize)
                ? "frame size \(size) is below the 7-byte minimum"
                : "frame size \(size) exceeds the limit \(maxFrameSize)"
            // Report the impossible size field itself, then look for the next header.
            let bad = Array(buffer[start..<(start + 4)])
            start += 4
            return .garbage(bytes: bad, reason: reason)
        }
        guard avail >= Int(size) else { return nil }
        let frame = Array(buffer[start..<(start + Int(size))])
        start += Int(size)
        return .frame(frame)
    }

    /// Drains all currently available events.
    public mutating func drain() -> [Event] {
        var out: [Event] = []
        while let e = next() { out.append(e) }
        return out
    }

    /// Whatever is buffered at end of stream (an incomplete frame), as garbage, and resets.
    public mutating func finish() -> Event? {
        defer { buffer.removeAll(); start = 0; resyncing = false }
        guard bufferedCount > 0 else { return nil }
        return .garbage(bytes: Array(buffer[start...]), reason: "stream ended inside a frame (\(bufferedCount) bytes)")
    }

    private func readSize(at i: Int) -> UInt32 {
        UInt32(buffer[i]) | UInt32(buffer[i + 1]) << 8 | UInt32(buffer[i + 2]) << 16 | UInt32(buffer[i + 3]) << 24
    }

    private func plausibleHeader(at i: Int) -> Bool? {
        guard buffer.count - i >= 5 else { return nil }
        let size = readSize(at: i)
        guard size >= UInt32(NineP.headerSize), size <= maxFrameSize else { return false }
        return MessageType(rawValue: buffer[i + 4]) != nil
    }

    private mutating func resync() -> Event? {
        var i = start
        while i < buffer.count {
            guard let ok = plausibleHeader(at: i) else { break }   // need more bytes to judge
            if ok { break }
            i += 1
        }
        if i == start {
            if plausibleHeader(at: i) == true { resyncing = false; return next() }
            return nil
        }
        let skipped = Array(buffer[start..<i])
        start = i
        if plausibleHeader(at: i) == true { resyncing = false }
        return .garbage(bytes: skipped, reason: "skipped \(skipped.count) bytes looking for a frame header")
    }
}

/// The fixed header of a frame, readable without decoding the body.
public struct FrameHeader: Hashable, Sendable {
    public var size: UInt32
    public var type: UInt8
    public var tag: Tag
    public init(size: UInt32, type: UInt8, tag: Tag) { self.size = size; self.type = type; self.tag = tag }

    /// Parses the first 7 bytes; nil when fewer are given.
    public init?<C: RandomAccessCollection>(_ bytes: C) where C.Element == UInt8, C.Index == Int {
        guard bytes.count >= NineP.headerSize else { return nil }
        let b = bytes.startIndex
        size = UInt32(bytes[b]) | UInt32(bytes[b + 1]) << 8 | UInt32(bytes[b + 2]) << 16 | UInt32(bytes[b + 3]) << 24
        type = bytes[b + 4]
        tag = Tag(UInt16(bytes[b + 5]) | UInt16(bytes[b + 6]) << 8)
    }
    public var messageType: MessageType? { MessageType(rawValue: type) }
}
