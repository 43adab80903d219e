import NinePWire

/// Which reassembled TCP connections carry 9P, for a capture that holds other traffic too (`tcpdump -i
/// any` beside a VM's mount: ssh, DNS over TCP, HTTP …).
///
/// A connection with a port in `ninePPorts` is 9P. Any other is held back (its events kept, in order)
/// until its bytes say: it is 9P when either direction begins with a plausible frame header (a size from
/// 7 to `maxFrameSize` and a known message type), or, for a capture that began mid-stream, when three
/// plausible frames follow one another anywhere in either direction's first `window` bytes; its held
/// events then go on as they came. It is not 9P when neither holds by the time each direction has
/// `window` bytes (or both together twice that), the connection ends, or the capture does: its events are
/// dropped and it is reported (`Skipped`), the first bytes it sent with it. (By chance, random bytes hold
/// a plausible header at about one offset in a thousand; three in a row, at about one in a billion.)
struct NinePStreamSniffer: Sendable {
    /// A connection found not to be 9P.
    struct Skipped: Hashable, Sendable, CustomStringConvertible {
        var client: Endpoint
        var server: Endpoint
        /// The first bytes it carried (client's, else server's), at most 16.
        var firstBytes: [UInt8]

        /// `127.0.0.1:42646 → 127.0.0.1:8099 does not look like 9P (it begins 'GET / HTTP/1.1\r\n'); skipped`.
        var description: String {
            let text = firstBytes.isEmpty ? "it carried no bytes" : "it begins '\(P9String(bytes: firstBytes).escaped)'"
            return "\(client) → \(server) does not look like 9P (\(text)); skipped"
        }
    }

    /// What one direction of a held connection sent, as far as it is looked at.
    private struct Side: Sendable {
        /// Its first bytes, up to `window`.
        var bytes: [UInt8] = []
        /// Its bytes stop being looked at after a hole in them.
        var broken = false
        /// Its bytes were looked through whole and showed no 9P.
        var notNineP = false
    }

    private struct Held: Sendable {
        var client: Endpoint
        var server: Endpoint
        var events: [CaptureEvent] = []
        /// The data bytes in `events`: past twice the window the connection is judged on what was seen,
        /// so that a long connection that is not 9P is never held whole.
        var heldBytes = 0
        var toServer = Side()
        var toClient = Side()

        /// The side `direction` names, changed in place (not copied out and back, which would copy its bytes).
        subscript(direction: Direction) -> Side {
            get { direction == .toServer ? toServer : toClient }
            _modify {
                if direction == .toServer { yield &toServer } else { yield &toClient }
            }
        }
    }

    let ninePPorts: Set<UInt16>
    private let rules: Rules
    /// Connections judged: true for 9P. (Removed when they close.)
    private var decided = IntKeyMap<ConnectionID, Bool>()
    /// Connections not judged yet, with what they sent so far.
    private var held = IntKeyMap<ConnectionID, Held>()

    init(ninePPorts: Set<UInt16>, maxFrameSize: UInt32 = NineP.defaultMaxFrameSize, window: Int = 64 << 10) {
        self.ninePPorts = ninePPorts
        self.rules = Rules(maxFrameSize: maxFrameSize, window: window)
    }

    /// Connections found not to be 9P since `takeSkipped()` was last called.
    private var skipped: [Skipped] = []

    /// The connections found not to be 9P since the last call, in the order they were judged.
    mutating func takeSkipped() -> [Skipped] {
        defer { skipped.removeAll() }
        return skipped
    }

    /// Whether `process` would hand on `events[start...]` as they are: each belongs to a connection judged
    /// 9P and none ends one. The common case, told without copying an event (a decoder then need not take
    /// them out of its array).
    func passesUnchanged(_ events: [CaptureEvent], from start: Int) -> Bool {
        for i in start..<events.count where events[i].isClose || decided[events[i].conn] != true {
            return false
        }
        return true
    }

    /// Hands on `event` (appending to `out`) if its connection is 9P, holds it while that is not known,
    /// drops it if not (and notes the connection for `takeSkipped`).
    mutating func process(_ event: CaptureEvent, into out: inout [CaptureEvent]) {
        let conn = event.conn
        if let nineP = decided[conn] {   // the common case: one lookup
            if nineP { out.append(event) }
            if case .close = event { decided.removeValue(forKey: conn) }
            return
        }
        if case .open(_, let client, let server, _, _) = event {
            if ninePPorts.contains(server.port) || ninePPorts.contains(client.port) {
                decided[conn] = true
                out.append(event)
            } else {
                held[conn] = Held(client: client, server: server, events: [event])
            }
            return
        }
        let rules = rules
        let judged: Bool?? = held.modify(conn) { h -> Bool? in
            h.events.append(event)
            switch event {
            case .data(_, let direction, _, let bytes, _):
                rules.look(at: bytes, &h[direction])
                h.heldBytes += bytes.count
                return rules.judge(&h, ended: h.heldBytes >= 2 * rules.window)
            case .gap(_, let direction, _, _):
                h[direction].broken = true
                return rules.judge(&h, ended: false)
            case .close:
                return rules.judge(&h, ended: true) ?? false
            case .open:
                return nil
            }
        }
        guard let judged else { out.append(event); return }   // never seen open: not this sniffer's to judge
        guard let nineP = judged, let h = held.removeValue(forKey: conn) else { return }
        if nineP { out += h.events } else { skipped.append(Self.skipped(h)) }
        if case .close = event {} else { decided[conn] = nineP }
    }

    /// The end of the capture: each connection still undecided is judged on what it sent.
    mutating func finish(into out: inout [CaptureEvent]) {
        for (conn, entry) in held.sortedEntries {
            var h = entry
            held.removeValue(forKey: conn)
            if rules.judge(&h, ended: true) == true {
                out += h.events
                decided[conn] = true
            } else {
                decided[conn] = false
                skipped.append(Self.skipped(h))
            }
        }
    }

    /// What the judging needs (apart from `self`, which holds the table being changed while it judges).
    private struct Rules: Sendable {
        let maxFrameSize: UInt32
        let window: Int

        func look(at bytes: [UInt8], _ side: inout Side) {
            guard !side.broken, side.bytes.count < window else { return }
            side.bytes += bytes.prefix(window - side.bytes.count)
        }

        /// True: 9P; false: not; nil: not known yet (`ended`: no more bytes will come, so never nil).
        func judge(_ held: inout Held, ended: Bool) -> Bool? {
            for side in [held.toServer, held.toClient] where plausibleHeader(side.bytes, at: 0) == true {
                return true
            }
            if chainFound(&held.toServer, ended: ended) || chainFound(&held.toClient, ended: ended) { return true }
            return held.toServer.notNineP && held.toClient.notNineP ? false : nil
        }

        /// Looks `side` through for a chain of frames, once: when its bytes fill the window, a hole ends
        /// them, or the connection ends. True when it finds one; when not, the side is marked not 9P.
        func chainFound(_ side: inout Side, ended: Bool) -> Bool {
            guard !side.notNineP, ended || side.broken || side.bytes.count >= window else { return false }
            if hasChain(side.bytes) { return true }
            side.notNineP = true
            return false
        }

        /// Whether `bytes` hold a plausible frame header at `i` (nil: fewer than its 5 bytes there).
        func plausibleHeader(_ bytes: [UInt8], at i: Int) -> Bool? {
            guard bytes.count - i >= 5 else { return nil }
            let size = Self.size(bytes, at: i)
            guard size >= UInt32(NineP.headerSize), size <= maxFrameSize else { return false }
            return MessageType(rawValue: bytes[i + 4]) != nil
        }

        /// The little-endian size field at `i` (the caller has checked that its 4 bytes are there).
        static func size(_ bytes: [UInt8], at i: Int) -> UInt32 {
            UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
        }

        /// Three plausible frames one after another, starting anywhere in `bytes`.
        func hasChain(_ bytes: [UInt8]) -> Bool {
            var i = 0
            while i + 5 <= bytes.count {
                var at = i, frames = 0
                while frames < 3, plausibleHeader(bytes, at: at) == true {
                    frames += 1
                    at += Int(Self.size(bytes, at: at))
                }
                if frames == 3 { return true }
                i += 1
            }
            return false
        }
    }

    private static func skipped(_ held: Held) -> Skipped {
        Skipped(client: held.client, server: held.server,
                firstBytes: Array((held.toServer.bytes.isEmpty ? held.toClient.bytes : held.toServer.bytes).prefix(16)))
    }
}
