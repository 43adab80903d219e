// Block bodies of pcapng: section headers, interface descriptions and packet blocks, plus options.

extension PcapngReader {
    struct Option {
        var code: UInt16
        var value: [UInt8]
        var text: String {
            var trimmed = value
            while trimmed.last == 0 { trimmed.removeLast() }
            return String(decoding: trimmed, as: UTF8.self)
        }
    }

    /// Options from `range` up to opt_endofopt or the end of the range.
    mutating func options(in range: Range<Int>, blockOffset: Int) -> [Option] {
        var result: [Option] = []
        var cursor = range.lowerBound
        while cursor + 4 <= range.upperBound {
            let code = bytes.u16(cursor, bigEndian: bigEndian) ?? 0
            let length = Int(bytes.u16(cursor + 2, bigEndian: bigEndian) ?? 0)
            if code == 0 { break }
            guard cursor + 4 + length <= range.upperBound, let value = bytes.bytes(cursor + 4, length) else {
                warn(at: blockOffset, "block at offset \(stream.base + blockOffset): option \(code) runs past the block")
                break
            }
            result.append(Option(code: code, value: value))
            cursor += 4 + (length + 3) / 4 * 4
        }
        return result
    }

    /// An interface statistics block: only ninescope's end record matters (`endRecord`); its comment follows
    /// the interface id and timestamp (12 bytes). A shorter body holds no options.
    mutating func readInterfaceStatistics(body: Range<Int>, blockOffset: Int) {
        guard body.count > 12 else { return }
        for option in options(in: (body.lowerBound + 12)..<body.upperBound, blockOffset: blockOffset) where option.code == 1 {
            if CaptureComment.parse(option.text)?["ev"] == "end" { endRecord = option.text }
        }
    }

    /// Returns false when reading must stop (unsupported version).
    mutating func readSectionHeader(body: Range<Int>, blockOffset: Int) -> Bool {
        guard body.count >= 16 else {
            stop(at: blockOffset, "section header too short at offset \(stream.base + blockOffset)")
            return false
        }
        let major = bytes.u16(body.lowerBound + 4, bigEndian: bigEndian) ?? 0
        let minor = bytes.u16(body.lowerBound + 6, bigEndian: bigEndian) ?? 0
        guard major == 1 else {
            stop(at: blockOffset, "unsupported pcapng version \(major).\(minor) at offset \(stream.base + blockOffset)")
            return false
        }
        var section = PcapngSection(fileOffset: stream.base + blockOffset, bigEndian: bigEndian, versionMajor: major,
                                    versionMinor: minor, userApplication: nil, hardware: nil,
                                    operatingSystem: nil, comments: [])
        for option in options(in: (body.lowerBound + 16)..<body.upperBound, blockOffset: blockOffset) {
            switch option.code {
            case 1: section.comments.append(option.text)
            case 2: section.hardware = option.text
            case 3: section.operatingSystem = option.text
            case 4: section.userApplication = option.text
            default: break
            }
        }
        sections.append(section)
        interfaces = []
        return true
    }

    mutating func readInterfaceDescription(body: Range<Int>, blockOffset: Int) {
        guard body.count >= 8 else {
            warn(at: blockOffset, "interface description too short at offset \(stream.base + blockOffset)")
            // Keep interface numbering aligned with the writer's.
            interfaces.append(PcapngInterface(linkType: LinkType(rawValue: 0xFFFF), snapLength: 0,
                                              timestampResolution: 6, timestampOffsetSeconds: 0))
            return
        }
        var interface = PcapngInterface(
            linkType: LinkType(rawValue: UInt32(bytes.u16(body.lowerBound, bigEndian: bigEndian) ?? 0)),
            snapLength: bytes.u32(body.lowerBound + 4, bigEndian: bigEndian) ?? 0,
            timestampResolution: 6, timestampOffsetSeconds: 0)
        for option in options(in: (body.lowerBound + 8)..<body.upperBound, blockOffset: blockOffset) {
            switch option.code {
            case 2: interface.name = option.text
            case 3: interface.interfaceDescription = option.text
            case 9: if let value = option.value.first { interface.timestampResolution = value }
            case 14:
                if let raw = option.value.u64(0, bigEndian: bigEndian) {
                    interface.timestampOffsetSeconds = Int64(bitPattern: raw)
                }
            default: break
            }
        }
        interfaces.append(interface)
    }

    /// EPB, OPB or SPB → packet; nil (with a warning) when the block is inconsistent.
    mutating func readPacket(type: UInt32, body: Range<Int>, blockOffset: Int) -> CapturedPacket? {
        let b = body.lowerBound
        let interfaceID: Int
        var units: UInt64? = nil
        let captured: Int
        let original: Int
        let dataStart: Int
        switch type {
        case BlockType.simplePacket:
            guard body.count >= 4, let declared = bytes.u32(b, bigEndian: bigEndian) else {
                return corrupt(blockOffset, "simple packet block too short")
            }
            interfaceID = 0
            original = Int(declared)
            var available = body.count - 4
            if let snap = interfaces.first?.snapLength, snap > 0 { available = min(available, Int(snap)) }
            captured = min(original, available)
            dataStart = b + 4
        case BlockType.enhancedPacket:
            guard body.count >= 20 else { return corrupt(blockOffset, "enhanced packet block too short") }
            interfaceID = Int(bytes.u32(b, bigEndian: bigEndian) ?? 0)
            units = UInt64(bytes.u32(b + 4, bigEndian: bigEndian) ?? 0) << 32
                | UInt64(bytes.u32(b + 8, bigEndian: bigEndian) ?? 0)
            captured = Int(bytes.u32(b + 12, bigEndian: bigEndian) ?? 0)
            original = Int(bytes.u32(b + 16, bigEndian: bigEndian) ?? 0)
            dataStart = b + 20
        default: // obsolete packet block
            guard body.count >= 20 else { return corrupt(blockOffset, "obsolete packet block too short") }
            interfaceID = Int(bytes.u16(b, bigEndian: bigEndian) ?? 0)
            units = UInt64(bytes.u32(b + 4, bigEndian: bigEndian) ?? 0) << 32
                | UInt64(bytes.u32(b + 8, bigEndian: bigEndian) ?? 0)
            captured = Int(bytes.u32(b + 12, bigEndian: bigEndian) ?? 0)
            original = Int(bytes.u32(b + 16, bigEndian: bigEndian) ?? 0)
            dataStart = b + 20
        }
        guard captured <= body.upperBound - dataStart, let data = bytes.bytes(dataStart, captured) else {
            return corrupt(blockOffset, "packet data runs past the block")
        }
        guard interfaceID < interfaces.count else {
            return corrupt(blockOffset, "packet names interface \(interfaceID), which is not described")
        }
        let interface = interfaces[interfaceID]
        var comments: [String] = []
        var flags: UInt32? = nil
        if type != BlockType.simplePacket {
            let optionStart = dataStart + (captured + 3) / 4 * 4
            if optionStart < body.upperBound {
                for option in options(in: optionStart..<body.upperBound, blockOffset: blockOffset) {
                    switch option.code {
                    case 1: comments.append(option.text)
                    case 2: flags = option.value.u32(0, bigEndian: bigEndian)
                    default: break
                    }
                }
            }
        }
        let nanos = stamp(units.map {
            Timestamps.nanos(units: $0, tsresol: interface.timestampResolution,
                             offsetSeconds: interface.timestampOffsetSeconds)
        })
        return CapturedPacket(number: nextPacketNumber(), fileOffset: stream.base + blockOffset, timestampNanos: nanos,
                              linkType: interface.linkType, data: data, originalLength: original,
                              interfaceID: interfaceID, section: max(0, sections.count - 1),
                              comments: comments, flags: flags)
    }

    private mutating func corrupt(_ blockOffset: Int, _ message: String) -> CapturedPacket? {
        let number = nextPacketNumber() // keep numbering aligned with tshark's frame.number
        warn(at: blockOffset, packet: number, "block at offset \(stream.base + blockOffset): \(message); skipped")
        return nil
    }
}
