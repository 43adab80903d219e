/// A key for `IntKeyMap`: equal keys give equal `intKey`s. Integer keys (tags, fids, connection ids,
/// counters) are their own `intKey`; a compound key packs or mixes its parts into one.
public protocol IntKey: Equatable {
    var intKey: UInt64 { get }
}

extension Tag: IntKey { @inlinable public var intKey: UInt64 { UInt64(rawValue) } }
extension Fid: IntKey { @inlinable public var intKey: UInt64 { UInt64(rawValue) } }
extension ConnectionID: IntKey { @inlinable public var intKey: UInt64 { UInt64(rawValue) } }
extension Int: IntKey { @inlinable public var intKey: UInt64 { UInt64(bitPattern: Int64(self)) } }
extension UInt16: IntKey { @inlinable public var intKey: UInt64 { UInt64(self) } }
extension UInt32: IntKey { @inlinable public var intKey: UInt64 { UInt64(self) } }

/// A hash map for lookups made per message or per packet (the tracker's pending requests by tag and by
/// exchange and its live fids, the capture reader's connections and streams, the capture writer's
/// connections and encoded comments). Keys are integers hashed
/// by one multiplication (Fibonacci hashing), where `Dictionary` runs SipHash
/// with a per-process seed for every lookup, insert and removal; the keys come from the traffic, and a
/// client that picks colliding tags or fids only slows its own connection's tracking down (each
/// connection has tables of its own).
///
/// Open addressing with linear probing; removal shifts the following entries back (no tombstones), so a
/// table that sees millions of inserts and removals stays as short as its live entries. Iteration order is
/// unspecified (callers sort when order matters).
public struct IntKeyMap<Key: IntKey, Value> {
    @usableFromInline var keys: [Key?] = []
    @usableFromInline var values: [Value?] = []
    @usableFromInline var shift: UInt64 = 64
    @usableFromInline var storedCount = 0
    @inlinable public var count: Int { storedCount }

    public init() {}

    @inlinable public var isEmpty: Bool { count == 0 }

    @inlinable func home(_ key: Key) -> Int {
        Int(truncatingIfNeeded: (key.intKey &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// The slot holding `key`, or the empty slot where it would go (the table is never full).
    @inlinable func slot(of key: Key) -> (index: Int, found: Bool) {
        let mask = keys.count - 1
        var i = home(key)
        while let k = keys[i] {
            if k == key { return (i, true) }
            i = (i + 1) & mask
        }
        return (i, false)
    }

    @inlinable public subscript(key: Key) -> Value? {
        get {
            guard count > 0 else { return nil }
            let s = slot(of: key)
            return s.found ? values[s.index] : nil
        }
        set {
            if let v = newValue { insert(key, v) } else { removeValue(forKey: key) }
        }
    }

    @inlinable public func contains(_ key: Key) -> Bool { count > 0 && slot(of: key).found }

    /// The slot for `key`, claimed (key stored and counted) when it was free; grows the table first when
    /// one more entry would fill it past three quarters.
    @inlinable mutating func claimSlot(for key: Key) -> (index: Int, isNew: Bool) {
        if keys.isEmpty || (count + 1) * 4 > keys.count * 3 { grow() }
        let s = slot(of: key)
        if !s.found {
            keys[s.index] = key
            storedCount += 1
        }
        return (s.index, !s.found)
    }

    @inlinable mutating func insert(_ key: Key, _ value: Value) {
        let s = claimSlot(for: key)
        values[s.index] = value
    }

    @inlinable @discardableResult
    public mutating func removeValue(forKey key: Key) -> Value? {
        guard count > 0 else { return nil }
        let s = slot(of: key)
        guard s.found else { return nil }
        let old = values[s.index].take()
        keys[s.index] = nil
        storedCount -= 1
        // Moves back every entry of the probe run after the hole that may sit there (its home is not in
        // the cyclic range (hole, j]), so lookups never stop early at the hole.
        let mask = keys.count - 1
        var hole = s.index
        var j = (hole + 1) & mask
        while let k = keys[j] {
            let h = home(k)
            let reachable = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j)
            if !reachable {
                keys[hole] = k
                values[hole] = values[j].take()
                keys[j] = nil
                hole = j
            }
            j = (j + 1) & mask
        }
        return old
    }

    @inlinable public mutating func removeAll() {
        guard count > 0 else { return }
        for i in keys.indices { keys[i] = nil; values[i] = nil }
        storedCount = 0
    }

    @inlinable mutating func grow() {
        let capacity = max(8, keys.count * 2)
        let oldKeys = keys, oldValues = values
        keys = Array(repeating: nil, count: capacity)
        values = Array(repeating: nil, count: capacity)
        shift = UInt64(64 - capacity.trailingZeroBitCount)
        storedCount = 0
        for (i, k) in oldKeys.enumerated() {
            if let k, let v = oldValues[i] { insert(k, v) }
        }
    }

    /// The entries, in no particular order.
    public var entries: [(key: Key, value: Value)] {
        var result: [(key: Key, value: Value)] = []
        result.reserveCapacity(count)
        for (i, k) in keys.enumerated() {
            if let k, let v = values[i] { result.append((k, v)) }
        }
        return result
    }

    public var keyList: [Key] { entries.map(\.key) }
    public var valueList: [Value] { entries.map(\.value) }

    /// Changes the value under `key` in place (inserting `make()` first when the key is absent).
    @inlinable public mutating func modify<R>(_ key: Key, default make: () -> Value,
                                              _ body: (inout Value) throws -> R) rethrows -> R {
        let s = claimSlot(for: key)
        if s.isNew { values[s.index] = make() }
        return try body(&values[s.index]!)
    }

    /// The value under a key that is present (an absent key traps), readable and changeable in place.
    @inlinable public subscript(present key: Key) -> Value {
        get {
            let s = count > 0 ? slot(of: key) : (index: 0, found: false)
            precondition(s.found, "IntKeyMap: key not present")
            return values[s.index]!
        }
        _modify {
            let s = count > 0 ? slot(of: key) : (index: 0, found: false)
            precondition(s.found, "IntKeyMap: key not present")
            yield &values[s.index]!
        }
    }

    /// Changes the value under `key` in place; nil (and `body` not called) when the key is absent.
    @inlinable public mutating func modify<R>(_ key: Key, _ body: (inout Value) throws -> R) rethrows -> R? {
        guard count > 0 else { return nil }
        let s = slot(of: key)
        guard s.found else { return nil }
        return try body(&values[s.index]!)
    }
}

extension IntKeyMap where Key: Comparable {
    /// The entries ordered by key.
    public var sortedEntries: [(key: Key, value: Value)] { entries.sorted { $0.key < $1.key } }
}

extension IntKeyMap: Sendable where Key: Sendable, Value: Sendable {}

/// A set of keys over `IntKeyMap`.
public struct IntKeySet<Key: IntKey> {
    @usableFromInline var map = IntKeyMap<Key, Bool>()
    public init() {}
    @inlinable public var count: Int { map.count }
    @inlinable public var isEmpty: Bool { map.isEmpty }
    @inlinable public func contains(_ key: Key) -> Bool { map.contains(key) }
    @inlinable public mutating func insert(_ key: Key) { map[key] = true }
    /// Removes `key`; true when it was there.
    @inlinable @discardableResult public mutating func remove(_ key: Key) -> Bool {
        map.removeValue(forKey: key) != nil
    }
    @inlinable public mutating func removeAll() { map.removeAll() }
    public var elements: [Key] { map.keyList }
}

extension IntKeySet where Key: Comparable {
    public func sorted() -> [Key] { map.keyList.sorted() }
}

extension IntKeySet: Sendable where Key: Sendable {}
