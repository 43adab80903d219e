import ArgumentParser
import Foundation
import InspectorCore
import NinePCapture
import NinePSession

/// A capture file read for `decode` and `replay`: packets → TCP reassembly → 9P framing, each framed
/// session event handed on in order. Reader and reassembly warnings go to standard error, named by file.
enum CaptureInput {
    /// Calls `body` with every session event of `file`; 9P is looked for on `ports` (564 when empty).
    /// Returns whether the file ended mid-record (cut short, or still being written).
    @discardableResult
    static func forEachEvent(file: String, ports: [UInt16], _ body: (SessionEvent) -> Void) throws -> Bool {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ValidationError("cannot read '\(file)'")
        }
        var reader: CaptureReader
        do { reader = try CaptureReader(bytes: [UInt8](data)) } catch {
            throw ValidationError("'\(file)' is not a pcap or pcapng capture: \(error)")
        }
        var options = ReassemblyOptions()
        if !ports.isEmpty { options.ninePPorts = Set(ports) }
        var decoder = CaptureDecoder(options: options)
        var ingest = CaptureIngest()
        while let packet = reader.next() {
            for ce in decoder.process(packet) { for se in ingest.ingest(ce) { body(se) } }
        }
        for ce in decoder.finish() { for se in ingest.ingest(ce) { body(se) } }
        for se in ingest.finish() { body(se) }
        for w in reader.warnings + decoder.warnings { printError("ninescope: \(file): \(w)") }
        return reader.truncatedTail
    }
}
