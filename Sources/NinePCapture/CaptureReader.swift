/// Reads either capture format, chosen by the file's magic number.
///
///     var reader = try CaptureReader(bytes: fileBytes)
///     while let packet = reader.next() { … }
///     if reader.truncatedTail { … }
public struct CaptureReader: IteratorProtocol, Sendable {
    enum Inner: Sendable {
        case pcap(PcapReader)
        case pcapng(PcapngReader)
    }

    var inner: Inner

    /// Fails when the bytes are too short to identify or carry no pcap/pcapng magic.
    public init(bytes: [UInt8]) throws(CaptureError) {
        guard let magic = bytes.u32(0, bigEndian: true) else { throw .tooShort(count: bytes.count) }
        if magic == PcapngReader.sectionHeaderBlockType {
            inner = .pcapng(try PcapngReader(bytes: bytes))
        } else {
            inner = .pcap(try PcapReader(bytes: bytes))
        }
    }

    public var format: CaptureFormat {
        switch inner {
        case .pcap: return .pcap
        case .pcapng: return .pcapng
        }
    }

    public mutating func next() -> CapturedPacket? {
        switch inner {
        case .pcap(var reader):
            let packet = reader.next()
            inner = .pcap(reader)
            return packet
        case .pcapng(var reader):
            let packet = reader.next()
            inner = .pcapng(reader)
            return packet
        }
    }

    public var truncatedTail: Bool {
        switch inner {
        case .pcap(let reader): return reader.truncatedTail
        case .pcapng(let reader): return reader.truncatedTail
        }
    }

    public var warnings: [CaptureWarning] {
        switch inner {
        case .pcap(let reader): return reader.warnings
        case .pcapng(let reader): return reader.warnings
        }
    }

    /// pcapng section headers met so far (empty for pcap).
    public var sections: [PcapngSection] {
        switch inner {
        case .pcap: return []
        case .pcapng(let reader): return reader.sections
        }
    }
}
