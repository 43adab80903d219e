/// Reads a classic pcap file held in memory: both byte orders, microsecond (0xA1B2C3D4) and nanosecond
/// (0xA1B23C4D) magic. Every read is bounds-checked; a file cut short yields every complete record before
/// the cut, then `truncatedTail` becomes true with a warning "capture ends mid-block at offset N".
///
///     var reader = try PcapReader(bytes: fileBytes)
///     while let packet = reader.next() { … }
public struct PcapReader: IteratorProtocol, Sendable {
    public static let microsecondMagic: UInt32 = 0xA1B2_C3D4
    public static let nanosecondMagic: UInt32 = 0xA1B2_3C4D
    static let headerLength = 24
    static let recordHeaderLength = 16

    public let bytes: [UInt8]
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
    private var offset = 0
    private var finished = false

    /// Fails only when the first four bytes are not a pcap magic number. Fewer than 24 bytes of a pcap
    /// file is a truncated file (no packets, `truncatedTail`), not an error.
    public init(bytes: [UInt8]) throws(CaptureError) {
        self.bytes = bytes
        guard bytes.count >= 4 else {
            markTruncated(at: 0)
            return
        }
        let raw = bytes.u32(0, bigEndian: true) ?? 0
        switch raw {
        case Self.microsecondMagic: bigEndian = true
        case Self.nanosecondMagic: bigEndian = true; nanosecondResolution = true
        case Self.microsecondMagic.byteSwapped: bigEndian = false
        case Self.nanosecondMagic.byteSwapped: bigEndian = false; nanosecondResolution = true
        default: throw .unrecognizedFormat(magic: raw)
        }
        guard bytes.count >= Self.headerLength else {
            markTruncated(at: 0)
            return
        }
        versionMajor = bytes.u16(4, bigEndian: bigEndian) ?? 0
        versionMinor = bytes.u16(6, bigEndian: bigEndian) ?? 0
        snapLength = bytes.u32(16, bigEndian: bigEndian) ?? 0
        // Low 16 bits are the link type; higher bits carry FCS information we do not need.
        linkType = LinkType(rawValue: (bytes.u32(20, bigEndian: bigEndian) ?? 0) & 0xFFFF)
        offset = Self.headerLength
    }

    /// The next complete packet record, or nil at the end (check `truncatedTail` then).
    public mutating func next() -> CapturedPacket? {
        guard !finished else { return nil }
        if offset >= bytes.count {
            finished = true
            return nil
        }
        let start = offset
        guard let seconds = bytes.u32(start, bigEndian: bigEndian),
              let fraction = bytes.u32(start + 4, bigEndian: bigEndian),
              let included = bytes.u32(start + 8, bigEndian: bigEndian),
              let original = bytes.u32(start + 12, bigEndian: bigEndian),
              let data = bytes.bytes(start + Self.recordHeaderLength, Int(included)) else {
            markTruncated(at: start)
            return nil
        }
        offset = start + Self.recordHeaderLength + Int(included)
        packetCount += 1
        let nanos = Timestamps.nanos(seconds: UInt64(seconds), fraction: UInt64(fraction),
                                     decimals: nanosecondResolution ? 9 : 6)
        return CapturedPacket(number: packetCount, fileOffset: start, timestampNanos: nanos, linkType: linkType,
                              data: data, originalLength: Int(original))
    }

    /// Every remaining packet.
    public mutating func readAll() -> [CapturedPacket] {
        var packets: [CapturedPacket] = []
        while let packet = next() { packets.append(packet) }
        return packets
    }

    private mutating func markTruncated(at offset: Int) {
        finished = true
        truncatedTail = true
        warnings.append(CaptureWarning(offset: offset, message: "capture ends mid-block at offset \(offset)"))
    }
}
