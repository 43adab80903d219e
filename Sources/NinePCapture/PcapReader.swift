/// Reads a classic pcap file: both byte orders, microsecond (0xA1B2C3D4) and nanosecond (0xA1B23C4D) magic.
/// Every read is bounds-checked; a file cut short yields every complete record before the cut, then
/// `truncatedTail` becomes true with a warning "capture ends mid-block at offset N".
///
/// Whole file in memory:
///
///     var reader = try PcapReader(bytes: fileBytes)
///     while let packet = reader.next() { … }
///
/// Streaming: start with the first chunk, call `next()` until nil, `append(_:)` the next chunk, and so on;
/// `truncatedTail` then means "waiting for the rest of a record" until the final chunk.
public struct PcapReader: IteratorProtocol, Sendable {
    public static let microsecondMagic: UInt32 = 0xA1B2_C3D4
    public static let nanosecondMagic: UInt32 = 0xA1B2_3C4D
    static let headerLength = 24
    static let recordHeaderLength = 16

    /// True when the file's integers are big-endian.
    public private(set) var bigEndian = false
    /// True for the nanosecond-resolution variant.
    public private(set) var nanosecondResolution = false
    public private(set) var versionMajor: UInt16 = 0
    public private(set) var versionMinor: UInt16 = 0
    public private(set) var snapLength: UInt32 = 0
    public private(set) var linkType = LinkType(rawValue: 0xFFFF)
    /// True once the reader met a record (or the header) cut short by the end of the bytes.
    public private(set) var truncatedTail = false
    public private(set) var warnings: [CaptureWarning] = []
    /// Number of packets returned so far.
    public private(set) var packetCount = 0

    var stream: ByteStream
    private var headerRead = false
    private var finished = false

    /// Fails only when the first four bytes are not a pcap magic number. Fewer than 24 bytes of a pcap
    /// file is a truncated file (no packets, `truncatedTail`), not an error.
    public init(bytes: [UInt8]) throws(CaptureError) {
        stream = ByteStream(bytes)
        if let raw = bytes.u32(0, bigEndian: true), Self.byteOrder(magic: raw) == nil {
            throw .unrecognizedFormat(magic: raw)
        }
        readHeader()
    }

    /// (big-endian, nanoseconds) for a pcap magic read as big-endian.
    static func byteOrder(magic: UInt32) -> (Bool, Bool)? {
        switch magic {
        case microsecondMagic: return (true, false)
        case nanosecondMagic: return (true, true)
        case microsecondMagic.byteSwapped: return (false, false)
        case nanosecondMagic.byteSwapped: return (false, true)
        default: return nil
        }
    }

    /// Adds the next bytes of the file; reading resumes where it stopped.
    public mutating func append(_ more: [UInt8]) {
        stream.append(more)
        if truncatedTail {
            truncatedTail = false
            finished = false
            warnings.removeLast()
        }
    }

    /// The next complete packet record, or nil at the end (check `truncatedTail` then).
    public mutating func next() -> CapturedPacket? {
        if !headerRead { readHeader() }
        guard !finished else { return nil }
        let bytes = stream.buffer
        let start = stream.offset
        if start >= bytes.count {
            return nil
        }
        guard let seconds = bytes.u32(start, bigEndian: bigEndian),
              let fraction = bytes.u32(start + 4, bigEndian: bigEndian),
              let included = bytes.u32(start + 8, bigEndian: bigEndian),
              let original = bytes.u32(start + 12, bigEndian: bigEndian),
              let data = bytes.bytes(start + Self.recordHeaderLength, Int(included)) else {
            markTruncated(at: start)
            return nil
        }
        stream.offset = start + Self.recordHeaderLength + Int(included)
        packetCount += 1
        let nanos = Timestamps.nanos(seconds: UInt64(seconds), fraction: UInt64(fraction),
                                     decimals: nanosecondResolution ? 9 : 6)
        return CapturedPacket(number: packetCount, fileOffset: stream.base + start, timestampNanos: nanos,
                              linkType: linkType, data: data, originalLength: Int(original))
    }

    /// Every remaining packet.
    public mutating func readAll() -> [CapturedPacket] {
        var packets: [CapturedPacket] = []
        while let packet = next() { packets.append(packet) }
        return packets
    }

    private mutating func readHeader() {
        let bytes = stream.buffer
        guard bytes.count >= Self.headerLength else {
            if !truncatedTail { markTruncated(at: 0) }
            return
        }
        guard let (big, nano) = Self.byteOrder(magic: bytes.u32(0, bigEndian: true) ?? 0) else {
            finished = true
            warnings.append(CaptureWarning(offset: 0, message: "not a pcap file"))
            return
        }
        bigEndian = big
        nanosecondResolution = nano
        versionMajor = bytes.u16(4, bigEndian: bigEndian) ?? 0
        versionMinor = bytes.u16(6, bigEndian: bigEndian) ?? 0
        snapLength = bytes.u32(16, bigEndian: bigEndian) ?? 0
        // Low 16 bits are the link type; higher bits carry FCS information we do not need.
        linkType = LinkType(rawValue: (bytes.u32(20, bigEndian: bigEndian) ?? 0) & 0xFFFF)
        stream.offset = Self.headerLength
        headerRead = true
    }

    private mutating func markTruncated(at offset: Int) {
        finished = true
        truncatedTail = true
        let fileOffset = stream.base + offset
        warnings.append(CaptureWarning(offset: fileOffset, message: "capture ends mid-block at offset \(fileOffset)"))
    }
}

/// A growing window onto a file's bytes: `buffer[0]` is at file offset `base`; bytes before `offset` are
/// consumed and dropped once enough of them pile up.
struct ByteStream: Sendable {
    var buffer: [UInt8]
    var base = 0
    var offset = 0

    init(_ bytes: [UInt8]) { buffer = bytes }

    mutating func append(_ more: [UInt8]) {
        if offset >= 1 << 16, offset >= buffer.count / 2 {
            buffer.removeSubrange(0..<offset)
            base += offset
            offset = 0
        }
        buffer += more
    }
}
