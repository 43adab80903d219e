/// Reads a pcapng file held in memory: section header blocks in either byte order (and several sections,
/// each with its own byte order and interfaces), interface description blocks (if_tsresol, if_tsoffset),
/// enhanced, simple and obsolete packet blocks; every other block type is skipped. Every read is
/// bounds-checked; a file cut short yields every complete packet before the cut, then `truncatedTail`
/// becomes true with a warning "capture ends mid-block at offset N". Streaming works as for `PcapReader`:
/// `append(_:)` the next chunk after `next()` returned nil.
public struct PcapngReader: IteratorProtocol, Sendable {
    public static let sectionHeaderBlockType: UInt32 = 0x0A0D_0D0A
    public static let byteOrderMagic: UInt32 = 0x1A2B_3C4D

    enum BlockType {
        static let interfaceDescription: UInt32 = 1
        static let obsoletePacket: UInt32 = 2
        static let simplePacket: UInt32 = 3
        static let enhancedPacket: UInt32 = 6
        static let interfaceStatistics: UInt32 = 5
    }

    /// The comment of the end record ninescope writes when it finishes a capture file in good order (an
    /// interface statistics block whose comment is `ninescope ev=end …`), once read; nil before (and for
    /// files that have none: other tools', or a capture whose writer was killed).
    public internal(set) var endRecord: String?

    /// Section headers met so far (the first is read by `init`).
    public internal(set) var sections: [PcapngSection] = []
    /// Interfaces of the current section, in id order.
    public internal(set) var interfaces: [PcapngInterface] = []
    public private(set) var truncatedTail = false
    public private(set) var warnings: [CaptureWarning] = []
    public private(set) var packetCount = 0

    var stream: ByteStream
    var bytes: [UInt8] { stream.buffer }
    var bigEndian = false
    private var finished = false
    private var started = false
    private var lastTimestamp: Int64 = 0

    /// Fails when the bytes do not start with a section header block or its version is not 1.x.
    /// Fewer than 12 bytes of one is a truncated file (no packets, `truncatedTail`), not an error.
    public init(bytes: [UInt8]) throws(CaptureError) {
        stream = ByteStream(bytes)
        guard let type = bytes.u32(0, bigEndian: true) else {
            markTruncated(at: 0)
            return
        }
        guard type == Self.sectionHeaderBlockType else { throw .unrecognizedFormat(magic: type) }
        if let magic = bytes.u32(8, bigEndian: true), magic != Self.byteOrderMagic,
           magic != Self.byteOrderMagic.byteSwapped {
            throw .unrecognizedFormat(magic: magic)
        }
        let big = bytes.u32(8, bigEndian: true) == Self.byteOrderMagic
        if let major = bytes.u16(12, bigEndian: big), major != 1 {
            throw .unsupportedVersion(major: major, minor: bytes.u16(14, bigEndian: big) ?? 0)
        }
        // Read the first section header now so `sections` is filled before the first packet.
        readBlocks(stopAfterSectionHeader: true)
    }

    /// The next complete packet, or nil at the end (check `truncatedTail` then).
    public mutating func next() -> CapturedPacket? {
        readBlocks(stopAfterSectionHeader: false)
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

    /// Every remaining packet.
    public mutating func readAll() -> [CapturedPacket] {
        var packets: [CapturedPacket] = []
        while let packet = next() { packets.append(packet) }
        return packets
    }

    @discardableResult
    private mutating func readBlocks(stopAfterSectionHeader: Bool) -> CapturedPacket? {
        while !finished {
            let start = stream.offset
            if start >= bytes.count { return nil }
            if !started, bytes.u32(start, bigEndian: true) != Self.sectionHeaderBlockType, bytes.has(start, 4) {
                stop(at: start, "not a pcapng file")
                return nil
            }
            guard let rawType = bytes.u32(start, bigEndian: true), bytes.has(start, 12) else {
                markTruncated(at: start)
                return nil
            }
            if rawType == Self.sectionHeaderBlockType {
                let magic = bytes.u32(start + 8, bigEndian: true)
                if magic == Self.byteOrderMagic {
                    bigEndian = true
                } else if magic == Self.byteOrderMagic.byteSwapped {
                    bigEndian = false
                } else {
                    stop(at: start, "section header with bad byte-order magic at offset \(stream.base + start)")
                    return nil
                }
            }
            let type = bytes.u32(start, bigEndian: bigEndian) ?? 0
            let length = Int(bytes.u32(start + 4, bigEndian: bigEndian) ?? 0)
            guard length >= 12, length % 4 == 0 else {
                stop(at: start, "invalid block length \(length) at offset \(stream.base + start)")
                return nil
            }
            guard bytes.has(start, length) else {
                markTruncated(at: start)
                return nil
            }
            if bytes.u32(start + length - 4, bigEndian: bigEndian) != UInt32(length) {
                warn(at: start, "block at offset \(stream.base + start): trailing length differs from leading length")
            }
            stream.offset = start + length
            let body = (start + 8)..<(start + length - 4)
            switch type {
            case Self.sectionHeaderBlockType:
                started = true
                guard readSectionHeader(body: body, blockOffset: start) else { return nil }
                if stopAfterSectionHeader { return nil }
            case BlockType.interfaceDescription:
                readInterfaceDescription(body: body, blockOffset: start)
            case BlockType.enhancedPacket, BlockType.obsoletePacket, BlockType.simplePacket:
                if let packet = readPacket(type: type, body: body, blockOffset: start) { return packet }
            case BlockType.interfaceStatistics:
                readInterfaceStatistics(body: body, blockOffset: start)
            default:
                continue // NRB, DSB, custom and unknown blocks carry nothing we need.
            }
        }
        return nil
    }

    /// Block offsets inside the reader are buffer offsets; these helpers turn them into file offsets.
    mutating func markTruncated(at offset: Int) {
        finished = true
        truncatedTail = true
        let fileOffset = stream.base + offset
        warnings.append(CaptureWarning(offset: fileOffset, message: "capture ends mid-block at offset \(fileOffset)"))
    }

    mutating func stop(at offset: Int, _ message: String) {
        finished = true
        warnings.append(CaptureWarning(offset: stream.base + offset, message: message))
    }

    mutating func warn(at offset: Int, packet: Int? = nil, _ message: String) {
        warnings.append(CaptureWarning(offset: stream.base + offset, packet: packet, message: message))
    }

    mutating func nextPacketNumber() -> Int {
        packetCount += 1
        return packetCount
    }

    mutating func stamp(_ nanos: Int64?) -> Int64 {
        if let nanos { lastTimestamp = nanos }
        return lastTimestamp
    }
}

/// What a pcapng section header block says.
public struct PcapngSection: Hashable, Sendable {
    public var fileOffset: Int
    public var bigEndian: Bool
    public var versionMajor: UInt16
    public var versionMinor: UInt16
    /// shb_userappl, e.g. "ninescope 0.1.0" or "Dumpcap (Wireshark) 4.0.17".
    public var userApplication: String?
    public var hardware: String?
    public var operatingSystem: String?
    /// opt_comment values.
    public var comments: [String]
}

/// What a pcapng interface description block says.
public struct PcapngInterface: Hashable, Sendable {
    public var linkType: LinkType
    public var snapLength: UInt32
    /// if_tsresol byte: high bit clear = 10^-n s units, set = 2^-n; default 6 (microseconds).
    public var timestampResolution: UInt8
    /// if_tsoffset in seconds.
    public var timestampOffsetSeconds: Int64
    public var name: String?
    public var interfaceDescription: String?
}
