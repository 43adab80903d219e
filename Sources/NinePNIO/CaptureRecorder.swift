import NinePCapture
import NinePSession
import NinePWire
#if canImport(Glibc)
import Glibc
#endif

/// Turns proxy events into a ninescope pcapng capture (NinePCapture's `PcapngWriter`) appended to a
/// `CaptureFileSink`. Garbage runs are written as stream bytes too (marked malformed), so the capture holds
/// exactly the bytes that travelled. Thread-safe; call `record` from the event consumer.
///
/// Records are built in one buffer that is reused, and handed to the file (which copies them) every
/// `chunkSize` bytes: recording allocates nothing per batch, and what the file copies was written a moment
/// before, so it is still in the CPU's cache. (Building a whole run of events in a fresh array cost a 4 MiB
/// allocation per run of bulk traffic and, where the allocator returned it to the kernel each time, a page
/// fault per 4 KiB: `ninescope bench-trace --batch 512` of a 256 MiB diodcat spent 27 µs per message on the
/// capture, against 7.6 with batches of 8; with the reused buffer 7.1, with 131k page faults in all instead
/// of 461k.)
///
/// The payload of a large segment (≥ `spliceBytes`) is not copied into that buffer: the buffer gets the
/// bytes around it, and the file copies the payload straight from the frame into its place
/// (`PcapngWriter.appendFrame(…splicing:splices:)`), so the bulk of the traffic is copied once on its way
/// to the disk instead of twice.
///
/// With a `CaptureRotation` the capture is cut into files: once the current file holds `fileSize` bytes
/// (at the end of a frame), or before the first event `fileDuration` or more after its first, it is
/// finished and the next one begins with its own headers and a continuation record for every connection
/// still open (addresses, the version and msize it negotiated, and the fids in use with their paths and
/// states); with `keep`, the oldest file beyond that many is deleted. To know those, a rotating recorder
/// runs a tracker of its own over what it records (a streaming one: it holds only what is outstanding),
/// which costs the recording thread about as much again as the decoding part of the trace.
///
/// With a `dataLimit`, each Rread's and Twrite's data is kept only up to that many bytes (every other field
/// and message whole): the frame is recorded as a snap length leaves one (`TruncatedFrame.keepingData`,
/// `PcapngWriter`'s cut frames), which readers show as cut. A trace of the protocol without the bulk of
/// the files' contents.
public final class CaptureRecorder: Sendable {
    public let file: CaptureFileSink
    public let rotation: CaptureRotation?
    /// The most bytes of each read's and write's data recorded (nil: all).
    public let dataLimit: Int?
    private struct State {
        var writer: PcapngWriter
        var out: [UInt8] = []
        /// Payloads left out of `out` (segments of at least `spliceBytes`), and the frames they come from.
        var splices: [PayloadSplice] = []
        var sources: [[UInt8]] = []
        /// Bytes the spliced payloads add to `out`.
        var splicedBytes = 0
        /// With rotation: the current file's number and the bytes handed to it, and the tracker that knows
        /// the open connections, their versions and fids.
        var fileNumber = 1
        var fileBytes = 0
        /// The files of the capture still on disk, oldest first (the one file without rotation).
        var kept: [String] = []
        var tracker: SessionTracker?
        /// The time of the current file's first event (nil until it has one).
        var fileBegan: Int64?
    }
    private let state: Locked<State>
    /// Records are handed to the file once this many bytes are built (a frame's records are never split).
    static let chunkSize = 256 << 10
    /// The buffer's usual capacity: a chunk and one more 64 KiB frame's records.
    static let usualCapacity = chunkSize + (64 << 10)
    /// Segments with at least this many payload bytes are not copied into the records' buffer: the file
    /// copies their payload straight from the frame (one copy of the bulk of the traffic instead of two;
    /// smaller ones are copied with their headers, which costs less than handing them over apart).
    static let spliceBytes = 2048

    /// Writes the pcapng section and interface headers at once. With `rotation`, `file` must have been
    /// opened as the capture's first file (`rotation.path(ofFile: 1, began:)`).
    public init(file: CaptureFileSink, options: PcapngWriterOptions = PcapngWriterOptions(),
                rotation: CaptureRotation? = nil, dataLimit: Int? = nil) {
        self.file = file
        self.rotation = rotation
        self.dataLimit = dataLimit
        var options = options
        options.dataLimit = dataLimit   // said in each file's section header
        let w = PcapngWriter(options: options)
        let header = w.header()
        file.append(header)
        var initial = State(writer: w)
        initial.fileBytes = header.count
        initial.kept = [file.path]
        if rotation != nil { initial.tracker = SessionTracker(configuration: .lineTrace()) }
        initial.out.reserveCapacity(Self.usualCapacity)
        self.state = Locked(initial)
    }

    public func record(_ events: [ProxyEvent]) {
        // Under the lock: batches are recorded, and reach the file, in the order they come.
        state.withLock { s in
            for e in events {
                if let rotation, let began = s.fileBegan, rotation.isOver(began: began, now: e.at) {
                    nextFile(&s, rotation, t: e.at)
                }
                switch e {
                case .opened(let c, let client, let upstream, let t):
                    let info = ProxyEvent.connectionInfo(client: client, upstream: upstream)
                    s.out += s.writer.open(conn: c, clientAddress: info.client, upstreamAddress: info.upstream, t: t)
                case .frame(let c, let d, let t, let bytes, let marks):
                    if let dataLimit, let kept = TruncatedFrame.keepingData(bytes, upTo: dataLimit) {
                        appendFrame(&s, conn: c, direction: d, t: t, bytes: kept, marks: marks.union(.truncated))
                    } else {
                        appendFrame(&s, conn: c, direction: d, t: t, bytes: bytes, marks: marks)
                    }
                case .garbage(let c, let d, let t, let bytes, let reason):
                    appendFrame(&s, conn: c, direction: d, t: t, bytes: bytes, marks: [.malformed], why: reason)
                case .closed(let c, let reason, let t):
                    var reset = false
                    if case .reset = reason { reset = true }
                    // Why, as the trace shows it: `decode` and `view` then show the close as the trace did.
                    s.out += s.writer.close(conn: c, reset: reset, reason: reason.shownReason.errorText, t: t)
                }
                _ = s.tracker?.handle(e.sessionEvent)
                if s.out.count + s.splicedBytes >= Self.chunkSize { hand(&s) }
                if let rotation {
                    if s.fileBegan == nil { s.fileBegan = e.at }
                    if rotation.isFull(bytes: s.fileBytes + s.out.count + s.splicedBytes) {
                        nextFile(&s, rotation, t: e.at)
                    }
                }
            }
            hand(&s)
            // A live reader at the end of a pipe gets the batch now, not at the next periodic write.
            if file.isStream { file.writeQueued() }
        }
    }

    /// The files of the capture so far: the one path, or with rotation the kept files' paths.
    public var files: [String] { state.withLock { $0.kept } }

    /// How many files the capture has begun (1 without rotation).
    public var filesBegun: Int { state.withLock { $0.fileNumber } }

    /// Ends the capture's file in good order (its end record, `PcapngWriter.endRecord`, saying `why`), before
    /// the file is closed: a reader then knows nothing is missing at its end.
    public func finish(why: String) {
        state.withLock { s in
            s.out += s.writer.endRecord(t: WallClock.nowNanos(), why: why)
            hand(&s)
        }
    }

    /// Finishes the current file and begins the next (see the type's notes).
    private func nextFile(_ s: inout State, _ rotation: CaptureRotation, t: Int64) {
        // A capture that stopped (a failed write) stays as it is: no new file, none of its files deleted.
        guard file.lastError == nil else { return }
        s.out += s.writer.endRecord(t: t, why: "continued in the next file")
        hand(&s)
        // On failure the capture stops there (the file says so to whoever listens); once closed, it is done.
        let next = rotation.path(ofFile: s.fileNumber + 1, began: t)
        guard (try? file.switchFile(to: next)) == true else { return }
        s.fileNumber += 1
        s.kept.append(next)
        s.fileBytes = 0
        s.fileBegan = nil
        s.out += s.writer.header()
        if let tracker = s.tracker {
            for c in tracker.connections.sorted(by: { $0.id < $1.id }) {
                let fids = tracker.fidTable(on: c.id).map(Self.recordedFid)
                s.out += s.writer.continuation(conn: c.id, clientAddress: c.info?.client,
                                               upstreamAddress: c.info?.upstream, version: c.negotiatedVersion,
                                               msize: c.msize, fids: fids, t: t)
            }
        }
        hand(&s)
        if let keep = rotation.keep, s.kept.count > keep {
            for old in s.kept.prefix(s.kept.count - keep) { _ = unlink(old) }
            s.kept.removeFirst(s.kept.count - keep)
        }
    }

    /// A live fid as a continuation record carries it.
    static func recordedFid(_ f: FidEntry) -> RecordedFid {
        let root: RecordedFid.Root
        switch f.path?.root {
        case .attach(let aname, _)?: root = .attach(aname: aname)
        case .auth?: root = .auth
        case .unknown?, nil: root = .unknown
        }
        return RecordedFid(fid: f.fid, state: f.state.description, root: root, elements: f.path?.elements ?? [],
                           qid: f.qid, opened: f.openMode, iounit: f.iounit, uname: f.uname, nUname: f.nUname,
                           xattr: f.xattr, deleted: f.path?.isDeleted ?? false)
    }

    private func appendFrame(_ s: inout State, conn: ConnectionID, direction: Direction, t: Int64, bytes: [UInt8],
                             marks: FrameMarks, why: String? = nil) {
        let before = s.splices.count
        s.writer.appendFrame(conn: conn, direction: direction, t: t, bytes: bytes, marks: marks, why: why, to: &s.out,
                             splicing: Self.spliceBytes, splices: &s.splices)
        for splice in s.splices[before...] {
            s.sources.append(bytes)
            s.splicedBytes += splice.range.count
        }
    }

    /// Gives the built records to the file, with the spliced payloads in their places, and empties the
    /// buffer (keeping its memory, unless one huge frame made it grow far beyond its usual size).
    private func hand(_ s: inout State) {
        guard !s.out.isEmpty else { return }
        s.fileBytes += s.out.count + s.splicedBytes
        s.out.withUnsafeBytes { built in
            var from = 0
            for (splice, source) in zip(s.splices, s.sources) {
                if splice.at > from { file.append(copying: UnsafeRawBufferPointer(rebasing: built[from..<splice.at])) }
                source.withUnsafeBytes { file.append(copying: UnsafeRawBufferPointer(rebasing: $0[splice.range])) }
                from = splice.at
            }
            if from < built.count { file.append(copying: UnsafeRawBufferPointer(rebasing: built[from...])) }
        }
        s.splices.removeAll(keepingCapacity: true)
        s.sources.removeAll(keepingCapacity: true)
        s.splicedBytes = 0
        if s.out.capacity > 4 * Self.chunkSize {
            s.out = []
            s.out.reserveCapacity(Self.usualCapacity)
        } else {
            s.out.removeAll(keepingCapacity: true)
        }
    }
}

extension CaptureRecorder {
    /// Opens a capture: one file at `path`, or with `rotation` its first file (begun now), after deleting
    /// the files an earlier capture left in the same series (names `rotation.number(ofFileAt:)` knows),
    /// which would otherwise read as part of this one. Returns the paths deleted, in order.
    public static func start(path: String, rotation: CaptureRotation?, options: PcapngWriterOptions,
                             dataLimit: Int? = nil) throws -> (recorder: CaptureRecorder, removed: [String]) {
        guard let rotation else {
            return (CaptureRecorder(file: try CaptureFileSink(path: path), options: options, dataLimit: dataLimit), [])
        }
        let slash = rotation.path.lastIndex(of: "/")
        let directory = slash.map { String(rotation.path[...$0]) } ?? ""
        var removed: [String] = []
        if let dir = opendir(directory.isEmpty ? "." : directory) {
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                let earlier = directory + name
                if rotation.number(ofFileAt: earlier) != nil { removed.append(earlier) }
            }
            closedir(dir)
        }
        removed.sort()
        removed = removed.filter { unlink($0) == 0 }
        let sink = try CaptureFileSink(path: rotation.path(ofFile: 1, began: WallClock.nowNanos()))
        return (CaptureRecorder(file: sink, options: options, rotation: rotation, dataLimit: dataLimit), removed)
    }
}
