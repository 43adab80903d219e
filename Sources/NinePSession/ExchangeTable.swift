import NinePWire

/// The tracker's exchange records by id; ids count up from 0 and are never reused.
///
/// A tracker that keeps its messages (the inspector, `view`) keeps every record, in a `ChunkedArray`. A
/// streaming tracker (`retainFrames == false`: the headless proxy, `decode`) keeps only the records it
/// may still need and `retire`s the others once their exchange is settled, so that its memory follows
/// what is outstanding rather than everything that has passed: a proxy left tracing a busy mount for a
/// day must not grow by a record per request (it grew ~25 bytes a message before).
///
/// Streaming storage: a ring indexed by id holds the ids from `base` on; `base` moves past retired
/// records as they come to the front. Exchanges are mostly settled in the order they began, so the ring
/// stays short and a lookup is an array index, as in the chunked array. A record still held when the ring
/// is full and it is the oldest (a request the server keeps waiting, a flush race) moves to `overflow`, a
/// hash map, so that one slow request does not pin everything after it.
struct ExchangeTable: Sendable {
    let keepsAll: Bool
    private var all = ChunkedArray<ExchangeRecord>()
    private var ring: [ExchangeRecord?] = []
    private var base = 0
    private var overflow = IntKeyMap<Int, ExchangeRecord>()
    private var held = 0
    /// Records made so far (the next id).
    private(set) var count = 0

    /// The ring grows up to this many slots before old records move to `overflow`.
    static let ringLimit = 4096

    init(keepsAll: Bool) {
        self.keepsAll = keepsAll
    }

    /// Records held now: every one when keeping all (but those `forget` dropped), else those not retired.
    var heldCount: Int { keepsAll ? all.heldIndices.count + overflow.count : held }

    /// Keeping all: the first id of the dense part (records below it were forgotten, but for those moved to
    /// `overflow`).
    var firstHeld: Int { keepsAll ? all.firstHeld : base }

    /// Whether `id`'s record is held (made, and not retired).
    func contains(_ id: Int) -> Bool {
        if keepsAll { return all.heldIndices.contains(id) || (id >= 0 && id < all.firstHeld && overflow.contains(id)) }
        guard id >= 0 && id < count else { return false }
        return id >= base ? ring[id & (ring.count - 1)] != nil : overflow.contains(id)
    }

    /// Adds the record of exchange `count`.
    mutating func append(_ record: ExchangeRecord) {
        if keepsAll {
            all.append(record)
        } else {
            if count - base >= ring.count { makeRoom() }
            ring[count & (ring.count - 1)] = record
            held += 1
        }
        count += 1
    }

    /// A held record; reading or changing a retired one traps, as an index past an array's end does.
    subscript(id: Int) -> ExchangeRecord {
        get {
            if keepsAll { return id >= all.firstHeld ? all[id] : overflow[present: id] }
            if id >= base {
                guard let r = ring[id & (ring.count - 1)], id < count else {
                    preconditionFailure("exchange \(id) is not held")
                }
                return r
            }
            return overflow[present: id]
        }
        _modify {
            if keepsAll {
                if id >= all.firstHeld { yield &all[id] } else { yield &overflow[present: id] }
            } else if id >= base {
                precondition(id < count && ring[id & (ring.count - 1)] != nil, "exchange \(id) is not held")
                yield &ring[id & (ring.count - 1)]!
            } else {
                yield &overflow[present: id]
            }
        }
    }

    /// Keeping all: drops the records below `id` (rounded down to a piece of the dense array) but those
    /// `keep` names, which move to `overflow`; records kept by an earlier call that `keep` no longer names
    /// go too. Returns the new first id of the dense part.
    @discardableResult
    mutating func forget(below id: Int, keep: (Int) -> Bool) -> Int {
        guard keepsAll else { return base }
        for old in overflow.keyList where !keep(old) { _ = overflow.removeValue(forKey: old) }
        let end = ChunkedArray<ExchangeRecord>.pieceStart(min(id, count))
        var i = all.firstHeld
        while i < end {
            if keep(i) { overflow[i] = all[i] }
            i += 1
        }
        return all.release(below: end)
    }

    /// Drops a settled exchange's record (a no-op when keeping all).
    mutating func retire(_ id: Int) {
        guard !keepsAll else { return }
        if id >= base {
            let i = id & (ring.count - 1)
            guard id < count, ring[i] != nil else { return }
            ring[i] = nil
            held -= 1
            advance()
        } else if overflow.removeValue(forKey: id) != nil {
            held -= 1
        }
    }

    /// Moves `base` past retired records.
    private mutating func advance() {
        guard !ring.isEmpty else { return }
        let mask = ring.count - 1
        while base < count, ring[base & mask] == nil { base += 1 }
    }

    /// Frees the slot for id `count`: doubles the ring while it is under `ringLimit`, else moves the
    /// oldest held record to `overflow`.
    private mutating func makeRoom() {
        advance()
        guard count - base >= ring.count else { return }
        if ring.count < Self.ringLimit {
            let old = ring, oldMask = old.count - 1
            ring = Array(repeating: nil, count: max(64, old.count * 2))
            let mask = ring.count - 1
            for id in base..<count { ring[id & mask] = old[id & oldMask] }
            return
        }
        let mask = ring.count - 1
        overflow[base] = ring[base & mask]
        ring[base & mask] = nil
        base += 1
        advance()
    }
}
