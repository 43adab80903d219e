import ArgumentParser
import Foundation
import InspectorCore
import NinePCapture
import NinePSession

/// A capture read for `decode`, `replay` and `view`: packets → TCP reassembly → 9P framing, each framed
/// session event handed on in order.
enum CaptureInput {
    /// What reading a capture found besides its events.
    struct Outcome {
        /// The file ended mid-record (cut short, or still being written).
        var truncated: Bool
        /// Reader and reassembly warnings, in order.
        var warnings: [CaptureWarning]
    }

    /// Calls `body` with every session event of the capture in `bytes`; 9P is looked for on `ports` (564
    /// when empty). `keepGoing` is asked before each packet: false stops early. Throws when the bytes are
    /// not a pcap or pcapng capture.
    static func events(in bytes: [UInt8], ports: [UInt16], keepGoing: () -> Bool = { true },
                       _ body: (SessionEvent) -> Void) throws -> Outcome {
        var reader = try CaptureReader(bytes: bytes)
        var options = ReassemblyOptions()
        if !ports.isEmpty { options.ninePPorts = Set(ports) }
        var decoder = CaptureDecoder(options: options)
        var ingest = CaptureIngest()
        while keepGoing(), let packet = reader.next() {
            for ce in decoder.process(packet) { ingest.ingest(ce, body) }
        }
        for ce in decoder.finish() { ingest.ingest(ce, body) }
        for se in ingest.finish() { body(se) }
        return Outcome(truncated: reader.truncatedTail, warnings: reader.warnings + decoder.warnings)
    }

    /// `events(in:)` for a file, its warnings printed to standard error named by the file. Returns whether
    /// the file ended mid-record.
    @discardableResult
    static func forEachEvent(file: String, ports: [UInt16], _ body: (SessionEvent) -> Void) throws -> Bool {
        let bytes = try readFile(file)
        let outcome: Outcome
        do { outcome = try events(in: bytes, ports: ports, body) } catch {
            throw ValidationError("'\(file)' is not a pcap or pcapng capture: \(error)")
        }
        for w in outcome.warnings { printError("ninescope: \(file): \(w)") }
        return outcome.truncated
    }

    /// The whole file, read straight into one array (no intermediate `Data` and copy: captures run to
    /// hundreds of megabytes).
    static func readFile(_ path: String) throws -> [UInt8] {
        func failure(_ code: Int32) -> ValidationError {
            ValidationError("cannot read '\(path)': \(String(cString: strerror(code)))")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure(errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw failure(errno) }
        // One read of the whole file, usually; the spare byte tells a file that grew meanwhile, which is
        // read on into a buffer twice as large.
        var bytes: [UInt8] = []
        var capacity = max(Int(st.st_size), 0) + 1
        while true {
            var error: Int32 = 0
            bytes = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
                var filled = buffer.initialize(from: bytes).1
                while filled < capacity {
                    let n = read(fd, buffer.baseAddress! + filled, capacity - filled)
                    if n < 0 { if errno == EINTR { continue }; error = errno; break }
                    if n == 0 { break }
                    filled += n
                }
                initialized = filled
            }
            if error != 0 { throw failure(error) }
            if bytes.count < capacity { return bytes }
            capacity *= 2
        }
    }
}
