import NinePTestSupport
import NinePSession
import NinePWire
import Testing

@Suite struct AllocatorTests {
    @Test func tagsComeFromTheReservedRangeAndNeverNotag() {
        var a = TagAllocator()
        #expect(a.range == 0xF000...0xFFFE)
        let t = a.allocate()!
        #expect(t != .notag)
        #expect(a.isReserved(t) && a.isAllocated(t))
        var all = TagAllocator(range: 0xFFFD...0xFFFF)
        #expect(all.range == 0xFFFD...0xFFFE, "NOTAG is clipped off")
        let got = [all.allocate(), all.allocate(), all.allocate()]
        #expect(got.compactMap { $0 }.sorted() == [0xFFFD, 0xFFFE])
        #expect(got[2] == nil, "exhausted")
    }

    @Test func tagsSkipPendingAndAllocatedAndReuseLate() {
        var a = TagAllocator(range: 10...13)
        let first = a.allocate(avoiding: [13, 11])
        #expect(first == 12)
        #expect(a.allocate(avoiding: [13, 11]) == 10)
        #expect(a.allocate(avoiding: [13, 11]) == nil)
        a.release(12)
        #expect(a.allocated == [10])
        // Round-robin: the next pick continues below the last one before coming back to 12.
        #expect(a.allocate() == 13)
        #expect(a.allocate() == 12)
        #expect(a.allocate() == 11)
        #expect(a.allocate() == nil)
    }

    @Test func tagConflicts() {
        var a = TagAllocator()
        let t = a.allocate()!
        #expect(a.conflict(withClientTag: t) == .collidesWithAllocated)
        #expect(a.conflict(withClientTag: Tag(0xF001)) == .inReservedRange)
        #expect(a.conflict(withClientTag: 0) == nil)
        #expect(a.conflict(withClientTag: .notag) == nil)
        a.release(t)
        #expect(a.conflict(withClientTag: t) == .inReservedRange)
    }

    @Test func fidsComeFromTheReservedRangeAndNeverNofid() {
        var a = FidAllocator()
        let f = a.allocate()!
        #expect(f != .nofid && f == 0xFFFF_FFFE)
        #expect(a.conflict(withClientFid: f) == .collidesWithAllocated)
        #expect(a.conflict(withClientFid: 0xFFFF_0000) == .inReservedRange)
        #expect(a.conflict(withClientFid: 7) == nil)
        var tiny = FidAllocator(range: 0xFFFF_FFFE...0xFFFF_FFFF)
        #expect(tiny.allocate() == 0xFFFF_FFFE)
        #expect(tiny.allocate() == nil)
        tiny.release(0xFFFF_FFFE)
        #expect(tiny.allocate(avoiding: [0xFFFF_FFFE]) == nil, "a fid the client uses is never handed out")
    }

    /// Random client tags/fids (some inside the reserved range) and random injections: an allocated number
    /// is never one the client has in use at that moment, nor one already handed out.
    @Test(arguments: [1, 2, 3, 42])
    func randomScenariosNeverCollide(seed: UInt64) {
        var rng = SplitMix(seed: seed)
        var tags = TagAllocator(range: 0xFFF0...0xFFFE)
        var fids = FidAllocator(range: 100...120)
        var clientTags = Set<Tag>(), clientFids = Set<Fid>()
        var ours = Set<Tag>(), ourFids = Set<Fid>()
        for _ in 0..<2000 {
            switch rng.next() % 6 {
            case 0: clientTags.insert(Tag(UInt16.random(in: 0xFFE0...0xFFFE, using: &rng)))
            case 1: if let t = clientTags.randomElement(using: &rng) { clientTags.remove(t) }
            case 2:
                if let t = tags.allocate(avoiding: clientTags) {
                    #expect(!clientTags.contains(t))
                    #expect(!ours.contains(t))
                    #expect(t != .notag)
                    ours.insert(t)
                }
            case 3:
                if let t = ours.randomElement(using: &rng) { ours.remove(t); tags.release(t) }
                if let f = ourFids.randomElement(using: &rng) { ourFids.remove(f); fids.release(f) }
            case 4: clientFids.insert(Fid(UInt32.random(in: 90...125, using: &rng)))
            default:
                if let f = fids.allocate(avoiding: clientFids) {
                    #expect(!clientFids.contains(f))
                    #expect(!ourFids.contains(f))
                    #expect((100...120).contains(f.rawValue))
                    ourFids.insert(f)
                }
                if let f = clientFids.randomElement(using: &rng) { clientFids.remove(f) }
            }
            #expect(tags.allocated == ours)
            #expect(fids.allocated == ourFids)
        }
    }

    /// The proxy's loop: inject with numbers picked against the tracker's view of the client.
    @Test func injectionAgainstALiveTracker() {
        var h = Harness(wire: .l, configuration: .init(reservedTags: TagAllocator.defaultRange,
                                                       reservedFids: FidAllocator.defaultRange))
        h.version()
        h.attach(0, fid: 0)
        // The client has a request pending on the tag our allocator would pick first, and a fid there too.
        h.t(0xFFFE, .tgetattr(Tgetattr(fid: 0, requestMask: .basic)))
        #expect(h.anomalies.map(\.kind) == [.clientUsedReservedTag])
        var tags = TagAllocator(), fids = FidAllocator()
        let tag = tags.allocate(avoiding: h.tracker.pendingTags(on: h.conn))!
        let fid = fids.allocate(avoiding: h.tracker.liveFids(on: h.conn))!
        #expect(tag != 0xFFFE)
        #expect(!h.tracker.pendingTags(on: h.conn).contains(tag))
        let inj = h.t(tag, .twalk(Twalk(fid: 0, newfid: fid, wnames: [])), marks: .injected)
        #expect(inj.anomalies.isEmpty)
        let reply = h.r(tag, .rwalk(Rwalk(wqids: [])))
        #expect(reply.exchange?.isInjected == true)
        #expect(h.tracker.fid(fid, on: h.conn)?.path?.description == "/")
        tags.release(tag)
        #expect(tags.allocated.isEmpty)
    }
}
