/// Reads either capture format, chosen by the file's magic number.
///
///     var reader = try CaptureReader(bytes: fileBytes)
///     while let packet = reader.next() { … }
///     if reader.truncatedTail { … }
///
/// Streaming: pass the first chunk (at least 4 bytes) to `init`, drain `next()`, then `append(_:)` each
/// further chunk and drain again. `truncatedTail` after the last chunk means the file ends mid-block.
public struct CaptureReader: IteratorProtocol, Sendable {
    // Exactly one is non-nil. Optionals (not an enum) so that `append` mutates the buffer in place.
    var pcap: PcapReader?
    var pcapng: PcapngReader?

    /// Fails when the bytes are too short to identify or carry no pcap/pcapng magic.
    public init(bytes: [UInt8]) throws(CaptureError) {
        guard let magic = bytes.u32(0, bigEndian: true) else { throw .tooShort(count: bytes.count) }
        if magic == PcapngReader.sectionHeaderBlockType {
            pcapng = try PcapngReader(bytes: bytes)
        } else {
            pcap = try PcapReader(bytes: bytes)
        }
    }

    public var format: CaptureFormat { pcapng == nil ? .pcap : .pcapng }

    public mutating func next() -> CapturedPacket? {
        pcapng != nil ? pcapng?.next() : pcap?.next()
    }

    /// Adds the next bytes of the file; reading resumes where it stopped.
    public mutating func append(_ more: [UInt8]) {
        if pcapng != nil { pcapng?.append(more) } else { pcap?.append(more) }
    }

    public var truncatedTail: Bool { pcapng?.truncatedTail ?? pcap?.truncatedTail ?? false }

    /// The capture-format version of a file ninescope wrote (its first section header's comment
    /// `ninescope capture-format=N`); nil for other files.
    public var ninescopeFormatVersion: Int? {
        pcapng?.sections.first?.comments.lazy.compactMap { CaptureComment.parse($0)?["capture-format"].flatMap { Int($0) } }.first
    }

    /// A ninescope capture of a format that ends with an end record (2 on), read to its end without one: its
    /// writer never finished it (killed, or still writing). Ask once the whole file is read.
    public var lacksEndRecord: Bool {
        (ninescopeFormatVersion ?? 0) >= 2 && endRecord == nil && !truncatedTail
    }

    /// The end record ninescope writes when it finishes a file in good order (`PcapngWriter.endRecord`), once
    /// read: its comment, `ninescope ev=end why=…`. A ninescope capture without one was not finished: its
    /// writer was killed, or is still writing it.
    public var endRecord: String? { pcapng?.endRecord }

    public var warnings: [CaptureWarning] { pcapng?.warnings ?? pcap?.warnings ?? [] }

    /// Packets returned so far.
    public var packetCount: Int { pcapng?.packetCount ?? pcap?.packetCount ?? 0 }

    /// pcapng section headers met so far (empty for pcap).
    public var sections: [PcapngSection] { pcapng?.sections ?? [] }
}
