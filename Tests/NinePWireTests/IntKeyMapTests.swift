import Testing
import NinePWire
import NinePTestSupport

/// `IntKeyMap` against `Dictionary` as the reference, under random inserts, updates, removals and
/// clears, with keys drawn so that probe runs are long, wrap around the table's end and get holes punched
/// in them (removal shifts entries back instead of leaving tombstones).
@Suite struct IntKeyMapTests {
    /// A key whose `intKey` is chosen by the test: several keys share one, so they collide on purpose.
    struct CollidingKey: IntKey, Hashable, Comparable {
        var id: Int
        var intKey: UInt64 { UInt64(id % 7) }
        static func < (a: Self, b: Self) -> Bool { a.id < b.id }
    }

    @Test func agreesWithDictionaryUnderRandomOperations() {
        var rng = SplitMix(seed: 7)
        for keySpace in [4, 50, 1_000, 70_000] {
            var map = IntKeyMap<Int, Int>()
            var reference: [Int: Int] = [:]
            for step in 0..<20_000 {
                let key = Int(rng.next() % UInt64(keySpace))
                switch rng.next() % 10 {
                case 0..<5:
                    map[key] = step; reference[key] = step
                case 5..<9:
                    #expect(map.removeValue(forKey: key) == reference.removeValue(forKey: key))
                default:
                    if rng.next() % 200 == 0 { map.removeAll(); reference.removeAll() }
                }
                #expect(map[key] == reference[key])
                #expect(map.count == reference.count)
            }
            #expect(map.sortedEntries.map(\.key) == reference.keys.sorted(), "keys, key space \(keySpace)")
            for (k, v) in reference { #expect(map[k] == v) }
            #expect(map.contains(keySpace) == false)
        }
    }

    @Test func collidingKeysStayDistinctThroughRemovals() {
        var map = IntKeyMap<CollidingKey, String>()
        var reference: [CollidingKey: String] = [:]
        var rng = SplitMix(seed: 11)
        for step in 0..<5_000 {
            let key = CollidingKey(id: Int(rng.next() % 60))
            if rng.next() % 3 == 0 {
                #expect(map.removeValue(forKey: key) == reference.removeValue(forKey: key))
            } else {
                map[key] = "v\(step)"; reference[key] = "v\(step)"
            }
            if step % 97 == 0 {
                for id in 0..<60 {
                    let k = CollidingKey(id: id)
                    #expect(map[k] == reference[k], "step \(step) key \(id)")
                }
            }
        }
        #expect(map.count == reference.count)
    }

    @Test func modifyChangesInPlaceAndInsertsDefaults() {
        var map = IntKeyMap<UInt32, [Int]>()
        for i in 0..<100 { map.modify(UInt32(i % 10), default: { [] }) { $0.append(i) } }
        #expect(map.count == 10)
        #expect(map[3] == [3, 13, 23, 33, 43, 53, 63, 73, 83, 93])
        #expect(map.modify(99) { $0.append(1) } == nil)
        #expect(map[99] == nil)
        #expect(map.modify(3) { $0.count } == 10)
    }

    @Test func setAgreesWithSet() {
        var rng = SplitMix(seed: 3)
        var set = IntKeySet<NinePWire.Tag>()
        var reference = Set<NinePWire.Tag>()
        for _ in 0..<10_000 {
            let t = NinePWire.Tag(rawValue: UInt16(rng.next() % 300))
            if rng.next() % 2 == 0 { set.insert(t); reference.insert(t) } else { #expect(set.remove(t) == (reference.remove(t) != nil)) }
            #expect(set.contains(t) == reference.contains(t))
        }
        #expect(set.sorted() == reference.sorted())
        #expect(set.count == reference.count)
    }
}
