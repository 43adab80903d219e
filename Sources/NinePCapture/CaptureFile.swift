/// Everything a whole capture file holds, as events.
public struct CaptureContents: Hashable, Sendable {
    public var format: CaptureFormat
    public var events: [CaptureEvent]
    public var packetCount: Int
    /// Reader and decoder warnings, in the order they arose.
    public var warnings: [CaptureWarning]
    /// True when the file ends in the middle of a record or block (a capture still being written, or cut).
    public var truncatedTail: Bool
    /// pcapng section headers (empty for pcap).
    public var sections: [PcapngSection]

    /// The capture-format version when the file was written by ninescope (its section header comment
    /// `ninescope capture-format=N`), else nil.
    public var ninescopeFormatVersion: Int? {
        for section in sections {
            for comment in section.comments {
                if let version = CaptureComment.parse(comment)?["capture-format"].flatMap({ Int($0) }) {
                    return version
                }
            }
        }
        return nil
    }
}

public enum CaptureFile {
    /// Reads a whole pcap or pcapng file held in memory and reassembles its TCP conversations.
    /// Throws only when the bytes are no capture at all; damage after the header yields warnings.
    public static func decode(_ bytes: [UInt8], options: ReassemblyOptions = ReassemblyOptions()) throws(CaptureError)
        -> CaptureContents {
        var reader = try CaptureReader(bytes: bytes)
        var decoder = CaptureDecoder(options: options)
        var events: [CaptureEvent] = []
        var count = 0
        while let packet = reader.next() {
            count += 1
            events += decoder.process(packet)
        }
        events += decoder.finish()
        var warnings = reader.warnings + decoder.warnings
        if decoder.suppressedWarnings > 0 {
            warnings.append(CaptureWarning(message: "\(decoder.suppressedWarnings) more warnings suppressed"))
        }
        return CaptureContents(format: reader.format, events: events, packetCount: count, warnings: warnings,
                               truncatedTail: reader.truncatedTail, sections: reader.sections)
    }
}
