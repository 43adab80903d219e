import NinePWire
/// Turns captured packets into `CaptureEvent`s.
///
/// Packets whose pcapng comment is ninescope metadata (see `PcapngWriter`) take the exact path: the
/// recorded connection id, direction, marks and addresses are restored and each recorded frame comes back
/// as one `.data` event, whatever its TCP segmentation. All other packets go through `TCPReassembler`.
/// A foreign connection on none of the 9P ports is kept only if its bytes look like 9P
/// (`NinePStreamSniffer`); the first connections skipped are reported as warnings, the rest counted at
/// the end. Foreign connections kept are numbered 1, 2, 3, … in order of first appearance. Connection
/// ids from the two paths never collide: a recorded id already given to a foreign connection is replaced
/// by the lowest free one (only possible in files that mix both kinds of packets).
public struct CaptureDecoder: Sendable {
    public var options: ReassemblyOptions { reassembler.options }
    public private(set) var warnings: [CaptureWarning] = []
    /// Warnings dropped after the first `maxWarnings`.
    public private(set) var suppressedWarnings = 0
    public let maxWarnings: Int

    var reassembler: TCPReassembler
    var reassemblerWarningsSeen = 0
    var foreignIDs = IntKeyMap<ConnectionID, ConnectionID>()
    var recorded: [UInt32: RecordedConnection] = [:]
    var usedIDs: Set<UInt32> = []
    var nextFreeID: UInt32 = 1
    var lastTimestamp: Int64 = 0
    var reportedLinkTypes: Set<UInt32> = []
    /// Packets a snap length cut, and the payload bytes they lack (the first is reported, the rest counted).
    var snapCut = (packets: 0, bytes: 0)
    var sniffer: NinePStreamSniffer
    /// Connections skipped as not 9P (the first `reportedSkips` each have a warning).
    public private(set) var skippedCount = 0
    /// The first connection skipped as not 9P, as its warning says it.
    public private(set) var firstSkipped: String?
    static let reportedSkips = 5

    public init(options: ReassemblyOptions = ReassemblyOptions(), maxWarnings: Int = 1000) {
        self.reassembler = TCPReassembler(options: options)
        self.sniffer = NinePStreamSniffer(ninePPorts: options.ninePPorts)
        self.maxWarnings = maxWarnings
    }

    public mutating func process(_ packet: CapturedPacket) -> [CaptureEvent] {
        var events: [CaptureEvent] = []
        process(packet, into: &events)
        return events
    }

    /// `process`, appending the events to `events` (a caller that reuses one array makes no allocation
    /// per packet for them).
    public mutating func process(_ packet: CapturedPacket, into events: inout [CaptureEvent]) {
        lastTimestamp = max(lastTimestamp, packet.timestampNanos)
        let segment: TCPSegment
        switch PacketDecoder.decode(packet.data, linkType: packet.linkType) {
        case .tcp(let decoded):
            segment = decoded
        case .notTCP:
            return
        case .skipped(let reason):
            if reason.hasPrefix("unsupported link type") {
                guard reportedLinkTypes.insert(packet.linkType.rawValue).inserted else { return }
                warn(packet, reason + " (reported once)")
            } else {
                warn(packet, reason)
            }
            return
        }
        if segment.isFirstFragment {
            warn(packet, "first fragment of a fragmented datagram: only the bytes in this packet are used")
        } else if segment.payload.count < segment.declaredPayloadLength {
            let missing = segment.declaredPayloadLength - segment.payload.count
            if snapCut.packets == 0 {
                warn(packet, "packet cut short: \(missing) payload bytes not in the capture (a snap length, or "
                     + "`proxy --capture-data`; the 9P frames such packets cut are shown with what was captured of "
                     + "them, marked truncated)")
            }
            snapCut.packets += 1
            snapCut.bytes += missing
        }
        for comment in packet.comments {
            if let fields = CaptureComment.parse(comment), let conn = fields["conn"].flatMap({ UInt32($0) }),
               let direction = fields["dir"].flatMap({ CaptureComment.direction(from: $0) }) {
                events += processRecorded(segment, packet: packet, recordedID: conn, direction: direction,
                                          fields: fields)
                return
            }
        }
        let start = events.count
        reassembler.process(segment, timestampNanos: packet.timestampNanos, packet: packet.number, into: &events)
        collectReassemblerWarnings()
        if !sniffer.passesUnchanged(events, from: start) {
            let reassembled = Array(events[start...])
            events.removeSubrange(start...)
            for event in reassembled { sniffer.process(event, into: &events) }
            noteSkipped(packet)
        }
        for i in start..<events.count { events[i] = relabelForeign(events[i]) }
    }

    /// Warnings for the connections the sniffer found not to be 9P (the first few; the rest are counted).
    private mutating func noteSkipped(_ packet: CapturedPacket?) {
        for skipped in sniffer.takeSkipped() {
            skippedCount += 1
            let text = "\(skipped) (`--port \(skipped.server.port)` decodes it as 9P)"
            if firstSkipped == nil { firstSkipped = text }
            if skippedCount <= Self.reportedSkips { warn(packet, text) }
        }
    }

    /// Ends the capture: buffered bytes are delivered (holes before them reported as gaps).
    public mutating func finish() -> [CaptureEvent] {
        var sniffed: [CaptureEvent] = []
        for event in reassembler.finish(timestampNanos: lastTimestamp) { sniffer.process(event, into: &sniffed) }
        sniffer.finish(into: &sniffed)
        collectReassemblerWarnings()
        noteSkipped(nil)
        if skippedCount > Self.reportedSkips {
            warn(nil, "\(skippedCount - Self.reportedSkips) more connections that do not look like 9P skipped "
                 + "(\(skippedCount) in all)")
        }
        var events = sniffed.map { relabelForeign($0) }
        if snapCut.packets > 1 {
            warn(nil, "\(snapCut.packets) packets cut short, \(snapCut.bytes) payload bytes not captured")
        }
        for key in recorded.keys.sorted() {
            guard var connection = recorded[key], !connection.closed else { continue }
            connection.flushBuffers(into: &events)
            recorded[key] = connection
        }
        return events
    }

    mutating func warn(_ packet: CapturedPacket?, _ message: String) {
        guard warnings.count < maxWarnings else {
            suppressedWarnings += 1
            return
        }
        warnings.append(CaptureWarning(offset: packet?.fileOffset, packet: packet?.number, message: message))
    }

    private mutating func collectReassemblerWarnings() {
        let all = reassembler.warnings
        while reassemblerWarningsSeen < all.count {
            let warning = all[reassemblerWarningsSeen]
            reassemblerWarningsSeen += 1
            if warnings.count < maxWarnings { warnings.append(warning) } else { suppressedWarnings += 1 }
        }
    }

    /// `wanted` when still free, else the lowest free id from 1 up.
    mutating func allocateID(preferring wanted: UInt32?) -> ConnectionID {
        if let wanted, !usedIDs.contains(wanted) {
            usedIDs.insert(wanted)
            return ConnectionID(wanted)
        }
        while usedIDs.contains(nextFreeID) { nextFreeID &+= 1 }
        usedIDs.insert(nextFreeID)
        return ConnectionID(nextFreeID)
    }

    private mutating func relabelForeign(_ event: CaptureEvent) -> CaptureEvent {
        let id: ConnectionID
        if case .open(let raw, _, _, _, _) = event {
            id = allocateID(preferring: nil)
            foreignIDs[raw] = id
        } else {
            id = foreignIDs[event.conn] ?? event.conn
        }
        switch event {
        case .open(_, let client, let server, let t, let metadata):
            return .open(conn: id, client: client, server: server, timestampNanos: t, metadata: metadata)
        case .data(_, let direction, let t, let bytes, let metadata):
            return .data(conn: id, direction: direction, timestampNanos: t, bytes: bytes, metadata: metadata)
        case .gap(_, let direction, let missing, let t):
            return .gap(conn: id, direction: direction, missingBytes: missing, timestampNanos: t)
        case .close(_, let reset, let reason, let t):
            return .close(conn: id, reset: reset, reason: reason, timestampNanos: t)
        }
    }
}
