import NinePSession
import NinePWire

/// Turns a request the user typed (`walk 0 100 etc passwd`) into a frame that is safe to inject into a
/// client's live connection: the tag comes from the reserved range (never one the client uses), and
/// every fid the user names that is not one of the client's live fids — the fids the request creates
/// above all — is mapped to a fid from the reserved range, consistently, so `walk 0 100 …` then
/// `lopen 100` use the same real fid. The client's own fids may be read through (walked from, stat'ed)
/// but not changed: clunking, removing, opening or walking one in place is refused.
///
/// Pure: it sees the session through a tracker snapshot and keeps its own allocations.
public struct InjectionPlanner: Sendable {
    public struct Plan: Hashable, Sendable, CustomStringConvertible {
        public var fcall: Fcall
        public var frame: [UInt8]
        public var dialect: Dialect
        /// User fid → fid on the wire, for the fids that were mapped.
        public var mappedFids: [Fid: Fid]

        /// `Twalk tag 61439 fid 0 newfid 4294901759 … (fid 100 → 4294901759)`.
        public var description: String {
            let notes = mappedFids.sorted { $0.key < $1.key }.map { "fid \($0.key) → \($0.value)" }
            return fcall.canonicalLine + (notes.isEmpty ? "" : " (" + notes.joined(separator: ", ") + ")")
        }
    }

    public enum Refusal: Error, Hashable, Sendable, CustomStringConvertible {
        case noConnection(ConnectionID)
        case notARequest(String)
        case clientFid(Fid, String)
        case tagsExhausted
        case fidsExhausted

        public var description: String {
            switch self {
            // Injection goes to the selected exchange's connection: say how to pick another.
            case .noConnection(let c): "\(c) is not open: select an exchange of an open connection to inject into it"
            case .notARequest(let why): why
            case .clientFid(let fid, let op): "fid \(fid) is the client's: injecting \(op) on it would change the client's session (walk a copy first: walk \(fid) 100)"
            case .tagsExhausted: "no free tag in the reserved range"
            case .fidsExhausted: "no free fid in the reserved range"
            }
        }
    }

    private var tags: [ConnectionID: TagAllocator] = [:]
    private var fids: [ConnectionID: FidAllocator] = [:]
    /// Per connection: user fid → reserved fid.
    public private(set) var fidMaps: [ConnectionID: [Fid: Fid]] = [:]

    public init() {}

    /// Plans one injection into `conn`.
    public mutating func plan(_ message: Message, conn: ConnectionID, tracker: SessionTracker) throws(Refusal) -> Plan {
        guard let c = tracker.connection(conn), c.isOpen else { throw .noConnection(conn) }
        switch message {
        case .tversion:
            throw .notARequest("Tversion would reset the client's session; it cannot be injected")
        case .tflush:
            throw .notARequest("flush a client request with exchange.flush (f), which answers the client properly")
        default:
            guard message.isRequest, message.type != nil else { throw .notARequest("only T-messages can be injected") }
        }
        releaseFinished(conn: conn, tracker: tracker)

        // The client's fids (live and not ours).
        var tagAllocator = tags[conn] ?? TagAllocator()
        var fidAllocator = fids[conn] ?? FidAllocator()
        var map = fidMaps[conn] ?? [:]
        let live = tracker.liveFids(on: conn)
        let clientFids = live.filter { !fidAllocator.isReserved($0) }

        let refs = message.fidRefs
        if let op = Self.changesFid(message), let fid = refs.primary, clientFids.contains(fid), map[fid] == nil {
            throw .clientFid(fid, op)
        }
        var exhausted = false
        var used: [Fid: Fid] = [:]
        let mapped = message.mappingFids { fid in
            if let wire = map[fid] {
                used[fid] = wire
                return wire
            }
            if clientFids.contains(fid) && fid != refs.creates { return fid }
            guard let wire = fidAllocator.allocate(avoiding: live) else {
                exhausted = true
                return fid
            }
            map[fid] = wire
            used[fid] = wire
            return wire
        }
        if exhausted { throw .fidsExhausted }
        guard let tag = tagAllocator.allocate(avoiding: tracker.pendingTags(on: conn)) else { throw .tagsExhausted }
        tags[conn] = tagAllocator
        fids[conn] = fidAllocator
        fidMaps[conn] = map
        let fcall = Fcall(tag: tag, mapped)
        return Plan(fcall: fcall, frame: fcall.encode(dialect: c.dialect), dialect: c.dialect, mappedFids: used)
    }

    /// Frees tags no longer pending and fids the tracker saw end (clunked, removed …).
    private mutating func releaseFinished(conn: ConnectionID, tracker: SessionTracker) {
        if var t = tags[conn] {
            let pending = tracker.pendingTags(on: conn)
            for tag in t.allocated where !pending.contains(tag) { t.release(tag) }
            tags[conn] = t
        }
        guard var allocator = fids[conn], var map = fidMaps[conn] else { return }
        let history = tracker.fidTable(on: conn, includingHistory: true)
        for (user, wire) in map {
            if let last = history.last(where: { $0.fid == wire }), !last.isLive {
                map[user] = nil
                allocator.release(wire)
            }
        }
        fids[conn] = allocator
        fidMaps[conn] = map
    }

    /// Requests that change the fid they name (so must not touch a client's fid).
    static func changesFid(_ m: Message) -> String? {
        switch m {
        case .tclunk: "Tclunk"
        case .tremove: "Tremove"
        case .topen: "Topen"
        case .tlopen: "Tlopen"
        case .tcreate: "Tcreate"
        case .tlcreate: "Tlcreate"
        case .txattrcreate: "Txattrcreate"
        case .twalk(let w) where w.fid == w.newfid: "Twalk with newfid = fid"
        default: nil
        }
    }
}
