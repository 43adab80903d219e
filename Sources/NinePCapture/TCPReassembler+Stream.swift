import NinePWire
// Per-direction sequence tracking for TCPReassembler.

extension TCPReassembler {
    /// A contiguous run of bytes waiting for the bytes before it; `missing`: bytes after them that the
    /// segment carried but the capture does not hold (a snap length cut it).
    struct Pending {
        var start: Int64
        var bytes: [UInt8]
        var missing: Int = 0
        var timestampNanos: Int64
        var end: Int64 { start + Int64(bytes.count + missing) }
    }

    /// Stream output before it is labelled with connection and direction.
    enum Output {
        case data([UInt8], Int64)
        case gap(Int, Int64)
    }

    /// One direction of a connection. Positions are 64-bit "unwrapped" sequence numbers.
    struct StreamState {
        /// Position of the next byte to deliver; nil until the direction's first segment.
        var next: Int64?
        var synSequence: UInt32?
        var pending: [Pending] = []
        var pendingBytes = 0
        var finAt: Int64?

        var finished: Bool {
            guard let finAt, let next else { return false }
            return next >= finAt
        }

        /// The 64-bit position of `sequence` closest to `reference`.
        static func unwrap(_ sequence: UInt32, near reference: Int64) -> Int64 {
            reference + Int64(Int32(bitPattern: sequence &- UInt32(truncatingIfNeeded: reference)))
        }

        /// `missing`: bytes of the segment after `bytes` that the capture does not hold (a snap length cut the
        /// packet): delivered as a gap right after the bytes, so that a reader knows at once where they end.
        mutating func insert(at start: Int64, _ bytes: [UInt8], missing: Int = 0, t: Int64, maxBuffered: Int,
                             into out: inout [Output]) {
            guard let next, !bytes.isEmpty || missing > 0 else { return }
            let piece = Pending(start: start, bytes: bytes, missing: missing, timestampNanos: t)
            if piece.end <= next { return } // retransmission of delivered bytes
            if start <= next {
                deliver(piece, from: next, into: &out)
                self.next = piece.end
                drain(into: &out)
                return
            }
            var low = 0, high = pending.count
            while low < high {
                let mid = (low + high) / 2
                if pending[mid].start <= start { low = mid + 1 } else { high = mid }
            }
            pending.insert(piece, at: low)
            pendingBytes += bytes.count
            while pendingBytes > maxBuffered, let first = pending.first, let current = self.next {
                out.append(.gap(Int(first.start - current), t))
                self.next = first.start
                drain(into: &out)
            }
        }

        /// Delivers waiting segments that now start at or before `next`.
        mutating func drain(into out: inout [Output]) {
            guard var position = next else { return }
            while let first = pending.first, first.start <= position {
                pending.removeFirst()
                pendingBytes -= first.bytes.count
                if first.end > position {
                    deliver(first, from: position, into: &out)
                    position = first.end
                }
            }
            next = position
        }

        /// Delivers what of `piece` lies at or after `position` (which is within it): its bytes, then its
        /// missing tail as a gap.
        private func deliver(_ piece: Pending, from position: Int64, into out: inout [Output]) {
            let bytesEnd = piece.start + Int64(piece.bytes.count)
            if position < bytesEnd {
                out.append(.data(Array(piece.bytes[Int(position - piece.start)...]), piece.timestampNanos))
            }
            let missing = Int(piece.end - max(position, bytesEnd))
            if missing > 0 { out.append(.gap(missing, piece.timestampNanos)) }
        }

        /// Declares everything before `limit` that has not arrived lost, delivering what has.
        mutating func flush(upTo limit: Int64, t: Int64, into out: inout [Output]) {
            drain(into: &out)
            while let current = next, current < limit {
                if let first = pending.first, first.start < limit {
                    out.append(.gap(Int(first.start - current), t))
                    next = first.start
                    drain(into: &out)
                } else {
                    out.append(.gap(Int(limit - current), t))
                    next = limit
                }
            }
        }

        /// Declares every hole before buffered bytes lost and delivers them all.
        mutating func flushAll(t: Int64, into out: inout [Output]) {
            drain(into: &out)
            while let first = pending.first, let current = next {
                out.append(.gap(Int(first.start - current), t))
                next = first.start
                drain(into: &out)
            }
        }
    }
}

extension TCPReassembler.Flow {
    func stream(from source: Endpoint) -> TCPReassembler.StreamState {
        source == client ? toServer : toClient
    }

    subscript(direction: Direction) -> TCPReassembler.StreamState {
        get { direction == .toServer ? toServer : toClient }
        set { if direction == .toServer { toServer = newValue } else { toClient = newValue } }
    }

    func label(_ output: [TCPReassembler.Output], _ direction: Direction, into events: inout [CaptureEvent]) {
        for item in output {
            switch item {
            case .data(let bytes, let t):
                events.append(.data(conn: id, direction: direction, timestampNanos: t, bytes: bytes, metadata: nil))
            case .gap(let count, let t):
                if count > 0 {
                    events.append(.gap(conn: id, direction: direction, missingBytes: count, timestampNanos: t))
                }
            }
        }
    }

    mutating func flushAll(t: Int64, into events: inout [CaptureEvent]) {
        for direction in Direction.allCases {
            var output: [TCPReassembler.Output] = []
            self[direction].flushAll(t: t, into: &output)
            label(output, direction, into: &events)
        }
    }

    /// `scratch`: an array to collect the stream's output in, kept by the caller from segment to segment.
    mutating func apply(_ segment: TCPSegment, t: Int64, maxBuffered: Int, events: inout [CaptureEvent],
                        warnings: inout [CaptureWarning], packet: Int?, scratch output: inout [TCPReassembler.Output]) {
        let direction: Direction = segment.source == client ? .toServer : .toClient
        let flags = segment.flags
        if flags.contains(.rst) {
            flushAll(t: t, into: &events)
            events.append(.close(conn: id, reset: true, reason: direction == .toServer ? "reset by client" : "reset by server",
                                 timestampNanos: t))
            closed = true
            return
        }
        var stream = self[direction]
        output.removeAll(keepingCapacity: true)
        if flags.contains(.syn), stream.next == nil {
            stream.synSequence = segment.sequenceNumber
        }
        let dataSequence = segment.sequenceNumber &+ (flags.contains(.syn) ? 1 : 0)
        if stream.next == nil { stream.next = Int64(dataSequence) }
        let start = TCPReassembler.StreamState.unwrap(dataSequence, near: stream.next ?? 0)
        stream.insert(at: start, segment.payload, missing: segment.declaredPayloadLength - segment.payload.count, t: t,
                      maxBuffered: maxBuffered, into: &output)
        if flags.contains(.fin), stream.finAt == nil {
            stream.finAt = start + Int64(segment.declaredPayloadLength)
            if firstFIN == nil { firstFIN = direction }
        }
        self[direction] = stream
        label(output, direction, into: &events)

        // The peer's acknowledgment tells us which of its bytes were sent: anything below it that never
        // arrived was lost by the capture.
        var peer = self[direction.reversed]
        if flags.contains(.ack), let peerNext = peer.next {
            let acknowledged = TCPReassembler.StreamState.unwrap(segment.acknowledgmentNumber, near: peerNext)
            let limit = min(acknowledged, peer.finAt ?? Int64.max)
            if limit > peerNext {
                output.removeAll(keepingCapacity: true)
                peer.flush(upTo: limit, t: t, into: &output)
                self[direction.reversed] = peer
                label(output, direction.reversed, into: &events)
            }
        }
        if toServer.finished && toClient.finished {
            events.append(.close(conn: id, reset: false, reason: firstFIN == .toClient ? "closed by server" : nil,
                                 timestampNanos: t))
            closed = true
        }
    }
}
