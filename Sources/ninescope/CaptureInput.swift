import ArgumentParser
import Foundation
import InspectorCore
import NinePCapture
import NinePSession

/// A capture read for `decode`, `replay` and `view`: packets → TCP reassembly → 9P framing, each framed
/// session event handed on in order.
enum CaptureInput {
    /// Refuses capture files and `--port` values that cannot be meant (a usage error, for `validate()`): a
    /// file given twice (by one name or two: it would be read twice, every message shown twice as one
    /// capture), port 0 (no TCP connection has it). A file that cannot be read is left for reading to say.
    static func checkOptions(files: [String], ports: [UInt16]) throws {
        if ports.contains(0) {
            throw ValidationError("--port 0: no TCP connection uses port 0; give the port 9P runs on (1…65535)")
        }
        var seen: [String: String] = [:]   // identity (device and inode, or the name) → the name it was given as
        for file in files {
            var st = stat()
            let identity = file != "-" && stat(file, &st) == 0 ? "\(st.st_dev):\(st.st_ino)" : "name:" + file
            if let first = seen[identity] {
                throw ValidationError("'\(file)' is given twice" + (first == file ? "" : " (also as '\(first)')")
                                      + ": the files are read once each, in order, as one capture")
            }
            seen[identity] = file
        }
    }

    /// What reading a capture found besides its events.
    struct Outcome {
        /// The file ended mid-record (cut short, or still being written).
        var truncated: Bool
        /// A ninescope capture that ends at a record's end but without the end record a finished file has:
        /// its writer was killed, or is still writing it (`CaptureReader.lacksEndRecord`).
        var unfinished: Bool
        /// Reader and reassembly warnings, in order.
        var warnings: [CaptureWarning]
    }

    /// Captures read one after another as one: the files of a capture cut into several (`proxy
    /// --capture-size`), whose connections, sequence numbers and fids go on from file to file.
    struct Stream {
        private var decoder: CaptureDecoder
        private var ingest = CaptureIngest()
        private var events: [CaptureEvent] = []
        private var decoderWarningsSeen = 0

        init(ports: [UInt16]) {
            var options = ReassemblyOptions()
            if !ports.isEmpty { options.ninePPorts = Set(ports) }
            decoder = CaptureDecoder(options: options)
        }

        /// Calls `body` with every session event of one capture that arrives in pieces: `first` (at least
        /// its first 4 bytes), then whatever `more` returns until it returns nil (end of file); 9P is looked
        /// for on the stream's `ports` (564 when empty). `keepGoing` is asked before each packet: false stops
        /// early. Throws when the bytes are not a pcap or pcapng capture. The outcome's warnings are those
        /// met in this capture.
        mutating func read(first: [UInt8], more: () throws -> [UInt8]?, keepGoing: () -> Bool = { true },
                           _ body: (SessionEvent) -> Void) throws -> Outcome {
            var reader = try CaptureReader(bytes: first)
            while keepGoing() {
                guard let packet = reader.next() else {
                    guard let chunk = try more() else { break }
                    reader.append(chunk)
                    continue
                }
                events.removeAll(keepingCapacity: true)
                decoder.process(packet, into: &events)
                for ce in events { ingest.ingest(ce, body) }
            }
            return Outcome(truncated: reader.truncatedTail, unfinished: keepGoing() && reader.lacksEndRecord,
                           warnings: reader.warnings + newDecoderWarnings())
        }

        /// Connections skipped as not 9P so far, and the first of them as its warning says it.
        var skipped: (count: Int, first: String?) { (decoder.skippedCount, decoder.firstSkipped) }

        /// Ends the stream (what is still buffered is handed on); returns the warnings that came of it.
        mutating func finish(_ body: (SessionEvent) -> Void) -> [CaptureWarning] {
            for ce in decoder.finish() { ingest.ingest(ce, body) }
            for se in ingest.finish() { body(se) }
            return newDecoderWarnings()
        }

        private mutating func newDecoderWarnings() -> [CaptureWarning] {
            let all = decoder.warnings
            defer { decoderWarningsSeen = all.count }
            return Array(all[decoderWarningsSeen...])
        }
    }

    /// What is said of a capture file that ends inside a record (`Outcome.truncated`).
    static let truncatedNote = "the capture ends mid-record (cut short or still being written)"

    /// What is said of a ninescope capture without its end record. tshark -w, editcap and Wireshark's Save
    /// As copy the section header (ninescope's, format 2) and every packet with its comments, but not the
    /// end record, and leave no mark of their own: such a file cannot be told from an unfinished one.
    static let unfinishedNote = "the capture has no end record: the proxy writing it did not finish it (it was killed, "
        + "or is still writing: it holds what was written up to the last flush, once a second), or a program that "
        + "leaves that record out rewrote it (tshark -w, editcap, Wireshark's Save As)"

    /// The session events of a capture file (`Stream`), its warnings printed to standard error named by the
    /// file. Returns whether the file ended mid-record. The file is read in pieces as decoding goes
    /// (`ChunkedFile`).
    @discardableResult
    static func forEachEvent(file: String, ports: [UInt16], _ body: (SessionEvent) -> Void) throws -> Bool {
        try !forEachEvent(files: [file], ports: ports, body).isEmpty
    }

    /// `forEachEvent(file:…)` for captures read one after another as one stream (`Stream`); returns the
    /// files that ended mid-record.
    /// `beforeWaiting` is called when the input is about to wait for more bytes (standard input, before its
    /// writer has sent them): the time to hand on what was decoded so far.
    static func forEachEvent(files: [String], ports: [UInt16], beforeWaiting: () -> Void = {},
                             _ body: (SessionEvent) -> Void) throws -> [String] {
        var stream = Stream(ports: ports)
        var truncated: [String] = []
        var lastName = ""
        for file in files {
            let input = try ChunkedFile(path: file)
            lastName = input.path
            let first = try input.next(atLeast: 4) ?? []
            let outcome: Outcome
            let more = { () throws -> [UInt8]? in
                if input.wouldWait { beforeWaiting() }
                return try input.next(atLeast: 1)
            }
            do {
                outcome = try stream.read(first: first, more: more, body)
            } catch let error where error is ValidationError || error is InputError {
                throw error
            } catch {
                throw InputError.notACapture(input.path, error)
            }
            // (A cut file's reader warning, "ends mid-block", is said by the caller as its mid-record note.)
            for w in outcome.warnings where !(outcome.truncated && w.message.hasPrefix("capture ends mid-block")) {
                printError("ninescope: \(input.path): \(w)")
            }
            if outcome.truncated { truncated.append(input.path) }
            if outcome.unfinished { printError("ninescope: \(input.path): \(Self.unfinishedNote)") }
        }
        for w in stream.finish(body) { printError("ninescope: \(lastName): \(w)") }
        return truncated
    }

    /// A capture file read in 1 MiB pieces as decoding goes: no wait for the whole file before the first
    /// event, and no fresh memory (a page fault per 4 KiB) for a copy of all of it. `decode`, `replay` and
    /// `view` all read captures through it.
    final class ChunkedFile: @unchecked Sendable {
        // @unchecked: used by one thread at a time (`view` opens it, then hands it to its loading task).
        let path: String
        private let fd: Int32
        /// Not a regular file (a pipe, a socket, a terminal): a read may wait for a writer.
        private let canWait: Bool
        /// 1 MiB; NINESCOPE_READ_CHUNK=N (at least 4, the size of a capture's magic number) sets another size
        /// (tests use small odd sizes, so that records and blocks straddle the pieces).
        static let chunkSize: Int = {
            if let v = ProcessInfo.processInfo.environment["NINESCOPE_READ_CHUNK"], let n = Int(v), n >= 4 { return n }
            return 1 << 20
        }()

        /// `path`, or for `-` standard input (a capture piped in: `zcat trace.pcapng.gz | ninescope decode -`,
        /// or a live one: `tcpdump -U -w - … | ninescope decode -`).
        init(path: String) throws {
            self.path = path == "-" ? "standard input" : path
            fd = path == "-" ? dup(0) : open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw Self.failure(self.path, errno) }
            var st = stat()
            canWait = fstat(fd, &st) == 0 && st.st_mode & S_IFMT != S_IFREG
        }

        /// Whether the next read would wait for a writer (a pipe or socket with nothing in it yet); false
        /// for a file, whose reads never wait.
        var wouldWait: Bool {
            guard canWait else { return false }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            return poll(&p, 1, 0) == 0
        }

        deinit { close(fd) }

        private static func failure(_ path: String, _ code: Int32) -> InputError {
            InputError("cannot read '\(path)': \(String(cString: strerror(code)))")
        }

        /// The next piece (up to `chunkSize` bytes, at least `atLeast` unless the file ends first); nil at
        /// the end of the file.
        func next(atLeast: Int) throws -> [UInt8]? {
            var error: Int32 = 0
            let bytes = [UInt8](unsafeUninitializedCapacity: Self.chunkSize) { buffer, initialized in
                var filled = 0
                while filled < max(1, atLeast) {
                    let n = read(fd, buffer.baseAddress! + filled, Self.chunkSize - filled)
                    if n < 0 { if errno == EINTR { continue }; error = errno; break }
                    if n == 0 { break }
                    filled += n
                }
                initialized = filled
            }
            if error != 0 { throw Self.failure(path, error) }
            return bytes.isEmpty ? nil : bytes
        }
    }
}

/// A capture that cannot be read or is not a capture: the command line was right, the input was not, so
/// the message stands alone (no usage text) and the exit status is 1, not the usage error's 64.
struct InputError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }

    static func notACapture(_ file: String, _ error: any Error) -> InputError {
        InputError("'\(file)' is not a pcap or pcapng capture: \(error)")
    }
}
