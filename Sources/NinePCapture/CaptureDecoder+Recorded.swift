import NinePWire
// The exact path for packets that carry ninescope's own metadata comments.

extension CaptureDecoder {
    struct FrameBuffer {
        var bytes: [UInt8] = []
        var timestampNanos: Int64 = 0
        var marks: FrameMarks = []
        var why: String?
        /// Whether a hole (bytes the capture lacks) fell inside it: then it is not a whole event.
        var holed = false
    }

    struct RecordedConnection {
        var id: ConnectionID
        var closed = false
        var expected: [Direction: UInt32] = [:]
        var buffers: [Direction: FrameBuffer] = [:]

        mutating func flush(_ direction: Direction, into events: inout [CaptureEvent]) {
            guard let buffer = buffers[direction], !buffer.bytes.isEmpty else { return }
            events.append(.data(conn: id, direction: direction, timestampNanos: buffer.timestampNanos,
                                bytes: buffer.bytes, metadata: CaptureMetadata(marks: buffer.marks,
                                                                              isWholeEvent: !buffer.holed,
                                                                              garbageReason: buffer.why)))
            buffers[direction] = nil
        }

        mutating func flushBuffers(into events: inout [CaptureEvent]) {
            for direction in Direction.allCases { flush(direction, into: &events) }
        }
    }

    mutating func processRecorded(_ segment: TCPSegment, packet: CapturedPacket, recordedID: UInt32,
                                  direction: Direction, fields: [String: String]) -> [CaptureEvent] {
        var events: [CaptureEvent] = []
        let t = packet.timestampNanos
        var connection: RecordedConnection
        // Taken out of the table while it changes, so that its frame buffers have one owner and grow in place
        // (a copy left in the table made every append copy the frame so far).
        if let existing = recorded.removeValue(forKey: recordedID) {
            connection = existing
        } else {
            connection = RecordedConnection(id: allocateID(preferring: recordedID))
            let (client, server) = direction == .toServer ? (segment.source, segment.destination)
                                                          : (segment.destination, segment.source)
            var fids: [RecordedFid] = []
            if fields["ev"] == "continue" {
                for comment in packet.comments {
                    if let list = CaptureComment.parse(comment)?["fids"] { fids += RecordedFid.decode(list) }
                }
            }
            let metadata = CaptureMetadata(clientAddress: fields["client"], upstreamAddress: fields["upstream"],
                                           version: fields["version"], msize: fields["msize"].flatMap { UInt32($0) },
                                           fids: fids, recordedFromOpen: fields["ev"] == "open")
            events.append(.open(conn: connection.id, client: client, server: server, timestampNanos: t,
                                metadata: metadata))
        }
        if connection.closed {
            recorded[recordedID] = connection
            return []
        }
        var sequence = segment.sequenceNumber
        if segment.flags.contains(.syn) {
            sequence &+= 1
            if connection.expected[direction] == nil { connection.expected[direction] = sequence }
        }
        var payload = segment.payload
        // Bytes the segment carried that the capture does not hold (a snap length cut it, e.g. `editcap -s`).
        var missing = segment.declaredPayloadLength - payload.count
        if !payload.isEmpty || missing > 0 {
            if let expected = connection.expected[direction] {
                let delta = Int(Int32(bitPattern: sequence &- expected))
                if delta > 0 {
                    connection.buffers[direction]?.holed = true
                    connection.flush(direction, into: &events)
                    events.append(.gap(conn: connection.id, direction: direction, missingBytes: delta,
                                       timestampNanos: t))
                } else if delta < 0 {
                    let behind = -delta
                    payload = behind >= payload.count ? [] : Array(payload[behind...])
                    missing = max(0, missing - max(0, behind - segment.payload.count))
                    sequence = expected
                }
            }
            let (index, total) = Self.segmentPosition(fields["seg"])
            if index == 1 { connection.flush(direction, into: &events) }
            if !payload.isEmpty {
                var buffer = connection.buffers.removeValue(forKey: direction) ?? FrameBuffer()
                if buffer.bytes.isEmpty {
                    buffer.timestampNanos = t
                    buffer.marks = CaptureComment.marks(from: fields["marks"] ?? "")
                    buffer.why = fields["why"]
                    buffer.holed = index != 1
                    if index < total, let size = Self.frameSize(payload, segments: total) {
                        // The first of a frame's segments: room for the whole frame at once, so that it is
                        // kept in an allocation of its size (a viewer holds every frame) and never moved.
                        buffer.bytes.reserveCapacity(size)
                        buffer.bytes += payload
                    } else {
                        buffer.bytes = payload
                    }
                } else {
                    buffer.bytes += payload
                }
                connection.buffers[direction] = buffer
                connection.expected[direction] = sequence &+ UInt32(truncatingIfNeeded: payload.count)
            }
            if missing > 0 {
                // What was captured goes first, then the hole, at once (not when the next segment shows it).
                connection.buffers[direction]?.holed = true
                connection.flush(direction, into: &events)
                events.append(.gap(conn: connection.id, direction: direction, missingBytes: missing, timestampNanos: t))
                connection.expected[direction] = sequence &+ UInt32(truncatingIfNeeded: payload.count + missing)
            }
            if index >= total { connection.flush(direction, into: &events) }
        }
        if segment.flags.contains(.rst) || segment.flags.contains(.fin) {
            connection.flushBuffers(into: &events)
            events.append(.close(conn: connection.id, reset: segment.flags.contains(.rst), reason: fields["why"],
                                 timestampNanos: t))
            connection.closed = true
        }
        recorded[recordedID] = connection
        return events
    }

    /// The size a frame's first segment gives (its `size[4]`), when `segments` segments the size of this first
    /// one can hold it; nil otherwise (a malformed frame's lying size reserves nothing).
    static func frameSize(_ first: [UInt8], segments: Int) -> Int? {
        guard let size = FrameHeader(first).map({ Int($0.size) }), size > first.count, size <= first.count * segments,
              size <= Int(NineP.defaultMaxFrameSize) else {
            return nil
        }
        return size
    }

    /// `i/n` → (i, n); a missing or malformed value counts as a whole frame (1/1).
    static func segmentPosition(_ text: String?) -> (Int, Int) {
        guard let text, let slash = text.firstIndex(of: "/"),
              let index = Int(text[..<slash]), let total = Int(text[text.index(after: slash)...]),
              index >= 1, total >= index else {
            return (1, 1)
        }
        return (index, total)
    }
}
