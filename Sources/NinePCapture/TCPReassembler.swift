import NinePWire
/// Options for turning TCP segments into ordered byte streams.
public struct ReassemblyOptions: Hashable, Sendable {
    /// Ports that mark the 9P server side of a connection (default: 564).
    public var ninePPorts: Set<UInt16>
    /// When true, connections with neither port in `ninePPorts` are ignored entirely.
    public var onlyNinePPorts: Bool
    /// Out-of-order bytes buffered per direction before the missing bytes in front of them are declared
    /// lost (reported as `.gap`).
    public var maxBufferedBytes: Int

    public init(ninePPorts: Set<UInt16> = [564], onlyNinePPorts: Bool = false, maxBufferedBytes: Int = 16 << 20) {
        self.ninePPorts = ninePPorts
        self.onlyNinePPorts = onlyNinePPorts
        self.maxBufferedBytes = maxBufferedBytes
    }
}

/// Reassembles TCP conversations (keyed by 4-tuple) into ordered `CaptureEvent`s.
///
/// Rules:
/// - Connection ids are 1, 2, 3, … in order of each connection's first segment. A SYN (without ACK) on a
///   4-tuple that is closed, or whose earlier SYN had another sequence number, starts a new connection.
/// - Client and server: the side whose port is in `ninePPorts` is the server when exactly one side's is;
///   otherwise the sender of a first-seen SYN is the client (of a SYN+ACK, the server); otherwise the side
///   with the lower port is the server; with equal ports, the destination of the first segment.
/// - Each direction starts at its SYN's sequence number + 1, or, without a SYN (capture started
///   mid-stream), at the first sequence number seen in that direction; earlier bytes are ignored.
/// - Bytes are delivered in sequence order (32-bit wrap-around handled). Retransmitted bytes are dropped;
///   overlapping segments contribute only their new bytes (the first copy of a byte wins). Out-of-order
///   segments wait until the bytes before them arrive.
/// - Lost bytes: when the peer acknowledges bytes never seen, when more than `maxBufferedBytes` wait, on a
///   RST, and at `finish()`, the missing range is reported as `.gap` and delivery resumes after it.
/// - `.close(reset: false)` once both directions' FINs are reached; `.close(reset: true)` at the first RST.
///   The reason names the server when it hung up first (`closed by server`: its FIN came first) and the
///   side that sent a RST (`reset by client`, `reset by server`); a client's orderly hang-up has none.
///   Connections still open at the end of the capture get no `.close`.
public struct TCPReassembler: Sendable {
    public var options: ReassemblyOptions
    public private(set) var warnings: [CaptureWarning] = []
    var flows = IntKeyMap<FlowKey, Flow>()
    var nextID: UInt32 = 1
    /// A stream's output for the segment at hand (kept, emptied, from segment to segment).
    var scratch: [Output] = []

    public init(options: ReassemblyOptions = ReassemblyOptions()) {
        self.options = options
    }

    struct FlowKey: IntKey {
        var low: Endpoint
        var high: Endpoint
        init(_ a: Endpoint, _ b: Endpoint) {
            low = min(a, b)
            high = max(a, b)
        }
        /// Both endpoints mixed into one word (the table compares whole keys; this only spreads them).
        var intKey: UInt64 { Self.mix(low) &* 0xFF51_AFD7_ED55_8CCD ^ Self.mix(high) }
        private static func mix(_ e: Endpoint) -> UInt64 {
            switch e.address {
            case .v4(let a): return UInt64(a) << 16 | UInt64(e.port)
            case .v6(let high, let low):
                return (high &* 0xC4CE_B9FE_1A85_EC53 ^ low) << 16 ^ (low >> 48) ^ UInt64(e.port)
            }
        }
    }

    struct Flow {
        var id: ConnectionID
        var client: Endpoint
        var server: Endpoint
        var toServer = StreamState()
        var toClient = StreamState()
        var closed = false
        /// The direction of the first FIN seen: who hung up first.
        var firstFIN: Direction?
    }

    /// Feeds one segment seen at `timestampNanos`; returns the events it completes. `packet` (the frame
    /// number) only labels warnings.
    public mutating func process(_ segment: TCPSegment, timestampNanos t: Int64, packet: Int? = nil) -> [CaptureEvent] {
        var events: [CaptureEvent] = []
        process(segment, timestampNanos: t, packet: packet, into: &events)
        return events
    }

    /// `process`, appending the events to `events` (a caller that reuses one array makes no allocation
    /// per segment for them).
    public mutating func process(_ segment: TCPSegment, timestampNanos t: Int64, packet: Int? = nil,
                                 into events: inout [CaptureEvent]) {
        let ports = options.ninePPorts
        if options.onlyNinePPorts,
           !ports.contains(segment.source.port), !ports.contains(segment.destination.port) {
            return
        }
        let key = FlowKey(segment.source, segment.destination)
        let isOpeningSYN = segment.flags.contains(.syn) && !segment.flags.contains(.ack)
        // The common case, a segment of an open connection: the flow is changed in place in the table
        // (copied out and stored back, its buffers would be copied whenever they hold bytes).
        if !isOpeningSYN {
            let maxBuffered = options.maxBufferedBytes
            let applied = flows.modify(key) { flow -> Bool in
                guard !flow.closed else { return false }
                flow.apply(segment, t: t, maxBuffered: maxBuffered, events: &events, warnings: &warnings,
                           packet: packet, scratch: &scratch)
                return true
            }
            if applied == true { return }
        }
        var flow: Flow
        if let existing = flows[key] {
            if existing.closed {
                guard isOpeningSYN else { return } // stray ACK/FIN/RST after the end
                flow = newFlow(for: segment, t: t, events: &events)
            } else if isOpeningSYN,
                      existing.stream(from: segment.source).synSequence != segment.sequenceNumber {
                var old = existing
                warnings.append(CaptureWarning(packet: packet, message:
                    "connection \(old.id.rawValue): new SYN on its 4-tuple before it closed; starting a new connection"))
                old.flushAll(t: t, into: &events)
                events.append(.close(conn: old.id, reset: false, reason: nil, timestampNanos: t))
                flow = newFlow(for: segment, t: t, events: &events)
            } else {
                flow = existing
            }
        } else {
            flow = newFlow(for: segment, t: t, events: &events)
        }
        flow.apply(segment, t: t, maxBuffered: options.maxBufferedBytes, events: &events,
                   warnings: &warnings, packet: packet, scratch: &scratch)
        flows[key] = flow
    }

    /// Ends the capture: every connection still open reports its missing bytes as gaps and delivers what it
    /// buffered. No `.close` is emitted for them.
    public mutating func finish(timestampNanos t: Int64) -> [CaptureEvent] {
        var events: [CaptureEvent] = []
        for key in flows.entries.sorted(by: { $0.value.id < $1.value.id }).map(\.key) {
            flows.modify(key) { flow in
                if !flow.closed { flow.flushAll(t: t, into: &events) }
            }
        }
        return events
    }

    private mutating func newFlow(for segment: TCPSegment, t: Int64, events: inout [CaptureEvent]) -> Flow {
        let (client, server) = Self.roles(for: segment, ninePPorts: options.ninePPorts)
        let id = ConnectionID(nextID)
        nextID &+= 1
        events.append(.open(conn: id, client: client, server: server, timestampNanos: t, metadata: nil))
        return Flow(id: id, client: client, server: server)
    }

    /// The documented client/server rule (see the type's comment).
    static func roles(for segment: TCPSegment, ninePPorts: Set<UInt16>) -> (client: Endpoint, server: Endpoint) {
        let source = segment.source, destination = segment.destination
        let sourceIsServer = ninePPorts.contains(source.port)
        let destinationIsServer = ninePPorts.contains(destination.port)
        if destinationIsServer != sourceIsServer {
            return destinationIsServer ? (source, destination) : (destination, source)
        }
        if segment.flags.contains(.syn) {
            return segment.flags.contains(.ack) ? (destination, source) : (source, destination)
        }
        if source.port != destination.port {
            return source.port < destination.port ? (destination, source) : (source, destination)
        }
        return (source, destination)
    }
}
