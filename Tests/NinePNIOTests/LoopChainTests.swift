import NinePServer
import NinePTestSupport
import NinePWire
@testable import NinePNIO
import Testing

/// `LoopChain`, the check that tells a proxy whose upstream leads back to it, fed as a proxy feeds it.
@Suite struct LoopChainTests {
    static let ms: Int64 = 1_000_000
    static let tversion = F.tversion()

    /// Connection `i` of a loop through a forwarder on this machine: accepted when connection `i - 1`
    /// dialled, dials at once, is up soon after, and gets its Tversion (the one the first client sent) a
    /// moment later. Returns what `version` said.
    @discardableResult
    static func hop(_ chain: inout LoopChain, _ i: UInt32, at t: Int64, frame: [UInt8] = tversion,
                    dials: Bool = true) -> LoopChain.Verdict? {
        _ = chain.accepted(ConnectionID(i), at: t, from: .thisMachine)
        if dials {
            chain.dialed(ConnectionID(i), at: t + 100_000)
            chain.connected(ConnectionID(i), to: .thisMachine)
        }
        chain.clientSpoke(ConnectionID(i))
        return chain.version(ConnectionID(i), frame: frame, at: t + 200_000)
    }

    /// Sixteen links call for a probe; the probe's Tversion coming back in makes the loop certain, and
    /// then the loop's next connection is closed at once.
    @Test func theSixteenthLinkIsProbedAndTheProbeComingBackIsALoop() throws {
        var chain = LoopChain(nonce: 0x9f)
        for i in 0..<16 as Range<UInt32> {
            #expect(Self.hop(&chain, i, at: Int64(i) * Self.ms) == nil, "connection \(i)")
        }
        let probe = chain.probeFrame(1)
        #expect(Self.hop(&chain, 16, at: 16 * Self.ms) == .probe(frame: probe))
        #expect(try Fcall.decode(probe, dialect: .l).message == .tversion(Tversion(msize: 8192,
                                                                                 version: "ninescope-loop-check.9f.1")))
        // The loop's next hop, before the probe is back: not probed again.
        #expect(Self.hop(&chain, 17, at: 17 * Self.ms) == nil)
        // The probe comes back in, as connection 18's first message.
        _ = chain.accepted(18, at: 18 * Self.ms, from: .thisMachine)
        guard case .loop(let found)? = chain.version(18, frame: probe, at: 18 * Self.ms + 100) else {
            Issue.record("the probe came back and no loop")
            return
        }
        #expect(found.chain == (0...16).map { ConnectionID($0) })
        #expect(found.links == 16)
        #expect(found.probe == 18 && found.isNew)
        #expect(found.closing == (0...16).map { ConnectionID($0) } + [18])
        #expect(found.span == 16 * Self.ms)
        #expect(found.description == "c0 → c1 → … → c16: the Tversion came back in through the upstream 16 times in "
                + "16.0 ms, and ninescope's own Tversion came back in as c18's")
        // Now certain: the loop's next connection is closed at once.
        guard case .loop(let next)? = Self.hop(&chain, 19, at: 19 * Self.ms) else {
            Issue.record("the loop's next connection was let through")
            return
        }
        #expect(next.isNew == false && next.links == 18 && next.chain.last == 19)
    }

    /// A probe a server answers (or that ends, or is never made) ends its chain's test: no loop; a chain
    /// later is probed again.
    @Test func anAnsweredProbeIsNoLoop() {
        var chain = LoopChain(hops: 4)
        for i in 0..<4 as Range<UInt32> { Self.hop(&chain, i, at: Int64(i) * Self.ms) }
        guard case .probe(let probe)? = Self.hop(&chain, 4, at: 4 * Self.ms) else {
            Issue.record("no probe")
            return
        }
        chain.probeEnded(probe)
        _ = chain.accepted(30, at: 5 * Self.ms)
        #expect(chain.version(30, frame: probe, at: 5 * Self.ms) == nil)
        // The answered chain goes on growing (a burst of like clients): never probed again.
        for i in 5..<40 as Range<UInt32> { #expect(Self.hop(&chain, i, at: Int64(i) * Self.ms) == nil) }
        // A chain of its own is (after the window, the old one forgotten).
        for i in 400..<404 as Range<UInt32> { #expect(Self.hop(&chain, i, at: Int64(i) * Self.ms) == nil) }
        #expect(Self.hop(&chain, 404, at: 404 * Self.ms) == .probe(frame: chain.probeFrame(2)))
        // Unanswered past its timeout, a probe is forgotten: coming back after it, it says nothing.
        var slow = LoopChain(hops: 1, probeTimeout: 10 * Self.ms)
        Self.hop(&slow, 0, at: 0)
        #expect(Self.hop(&slow, 1, at: Self.ms) == .probe(frame: slow.probeFrame(1)))
        _ = slow.accepted(9, at: 50 * Self.ms)
        #expect(slow.version(9, frame: slow.probeFrame(1), at: 50 * Self.ms) == nil)
    }

    /// For `hold` after a loop is found, a new client's upstream waits for its first bytes; then not.
    @Test func aFoundLoopHoldsNewDialsForAWhile() {
        var chain = LoopChain(hops: 2, window: 100 * Self.ms, hold: 500 * Self.ms)
        #expect(chain.accepted(50, at: 0) == .dial)
        for i in 0..<3 as Range<UInt32> { Self.hop(&chain, i, at: Int64(i) * Self.ms) }
        #expect(chain.accepted(51, at: 3 * Self.ms) == .hold)
        #expect(chain.accepted(52, at: 400 * Self.ms) == .hold)
        #expect(chain.accepted(53, at: 503 * Self.ms) == .dial)
    }

    /// A server that answers breaks the chain there: the upstream that spoke is no one's parent.
    @Test func anUpstreamThatAnswersIsNoLink() {
        var chain = LoopChain()
        var foundAt: UInt32?
        for i in 0..<30 as Range<UInt32> {
            _ = chain.accepted(ConnectionID(i), at: Int64(i) * Self.ms)
            chain.dialed(ConnectionID(i), at: Int64(i) * Self.ms + 100_000)
            if case .probe? = chain.version(ConnectionID(i), frame: Self.tversion, at: Int64(i) * Self.ms + 200_000) {
                foundAt = i
                break
            }
            if i == 3 { chain.upstreamSpoke(3) }
        }
        // 0…3 link; 4 starts a new chain (3 spoke, 0–2 have children), probed at its sixteenth link.
        #expect(foundAt == 20)
    }

    /// Like clients of a working server, one after another: each upstream answers the Tversion before the
    /// next client's comes. Never a loop.
    @Test func likeClientsOfAWorkingServerAreNoLoop() {
        var chain = LoopChain()
        for i in 0..<100 as Range<UInt32> {
            let t = Int64(i) * Self.ms
            #expect(Self.hop(&chain, i, at: t) == nil)
            chain.upstreamSpoke(ConnectionID(i))
        }
    }

    /// Many like clients at once (a load generator), all accepted before any dialled: no links at all.
    @Test func aBurstOfLikeClientsIsNoLoop() {
        var chain = LoopChain()
        for i in 0..<64 as Range<UInt32> { #expect(chain.accepted(ConnectionID(i), at: Int64(i) * 1000) == .dial) }
        for i in 0..<64 as Range<UInt32> { chain.dialed(ConnectionID(i), at: Self.ms + Int64(i) * 1000) }
        for i in 0..<64 as Range<UInt32> {
            #expect(chain.version(ConnectionID(i), frame: Self.tversion, at: 2 * Self.ms + Int64(i) * 1000) == nil)
        }
    }

    /// Many like clients at once, through to a distant server that answers a Tversion only after 50 ms:
    /// each came after the one before dialled, and each Tversion after the one before, unanswered. From
    /// another host than the server's, no links; from the server's own host, they look like a loop (the
    /// known limit: sixteen such clients in a row are needed).
    @Test func likeClientsOfADistantServerAtOnceAreNoLoopFromAnotherHost() {
        func run(clients: LoopChain.Host) -> LoopChain.Verdict? {
            var chain = LoopChain(hops: 2)
            var found: LoopChain.Verdict?
            for i in 0..<64 as Range<UInt32> {
                let t = Int64(i) * 100_000
                #expect(chain.accepted(ConnectionID(i), at: t, from: clients) == .dial)
                chain.dialed(ConnectionID(i), at: t + 1000)
                chain.clientSpoke(ConnectionID(i))
            }
            for i in 0..<64 as Range<UInt32> {
                chain.connected(ConnectionID(i), to: .other([192, 0, 2, 9]))
                let t = Int64(i) * 100_000 + 50 * Self.ms
                found = found ?? chain.version(ConnectionID(i), frame: Self.tversion, at: t)
            }
            return found
        }
        #expect(run(clients: .other([198, 51, 100, 7])) == nil)
        // (Probed: the server answers the probe, and nothing is closed.)
        #expect(run(clients: .other([192, 0, 2, 9])) == .probe(frame: LoopChain().probeFrame(1)))
    }

    @Test func otherBytesOrALateTversionOrAnEarlyClientAreNoLink() {
        // Each client's Tversion differs (msize): no two are one frame.
        var chain = LoopChain()
        for i in 0..<20 as Range<UInt32> {
            #expect(Self.hop(&chain, i, at: Int64(i) * Self.ms, frame: F.tversion(msize: 8192 + i)) == nil)
        }
        // The same frame, but each 300 ms after the one before (the window is 250 ms).
        var slow = LoopChain()
        for i in 0..<20 as Range<UInt32> { #expect(Self.hop(&slow, i, at: Int64(i) * 300 * Self.ms) == nil) }
        // A client accepted before the other connection dialled, or after it ended, cannot have come
        // through it; one accepted between the two can (one link is a loop here).
        var one = LoopChain(hops: 1)
        _ = one.accepted(0, at: 0)
        _ = one.version(0, frame: Self.tversion, at: 2)
        _ = one.accepted(1, at: 5)
        one.dialed(0, at: 6)
        #expect(one.version(1, frame: Self.tversion, at: 7) == nil)
        _ = one.accepted(2, at: 8)
        #expect(one.version(2, frame: Self.tversion, at: 9) == .probe(frame: one.probeFrame(1)))
        var ended = LoopChain(hops: 1)
        Self.hop(&ended, 0, at: 0)
        ended.closed(0, at: Self.ms)
        #expect(Self.hop(&ended, 1, at: 2 * Self.ms) == nil)
    }

    /// The chain's connections are closed as soon as the loop is certain; the next one still links to
    /// the last.
    @Test func closedConnectionsStayParentsForTheWindowThenGo() {
        var chain = LoopChain(hops: 8)
        for i in 0..<9 as Range<UInt32> { Self.hop(&chain, i, at: Int64(i) * Self.ms) }
        _ = chain.accepted(9, at: 9 * Self.ms)   // on its way in when the chain is closed
        _ = chain.accepted(50, at: 9 * Self.ms)
        _ = chain.version(50, frame: chain.probeFrame(1), at: 9 * Self.ms)   // the probe back: certain
        for i in 0..<9 as Range<UInt32> { chain.closed(ConnectionID(i), at: 9 * Self.ms + 1) }
        chain.closed(50, at: 9 * Self.ms + 1)
        chain.dialed(9, at: 10 * Self.ms)
        guard case .loop(let found)? = chain.version(9, frame: Self.tversion, at: 10 * Self.ms) else {
            Issue.record("the loop's next connection was let through")
            return
        }
        #expect(found.links == 9)
        chain.closed(9, at: 11 * Self.ms)
        #expect(chain.remembered == 11)
        // One that never sent a Tversion is kept too (it may be a silent link's parent); one whose upstream
        // spoke is forgotten when it ends.
        _ = chain.accepted(100, at: 12 * Self.ms)
        chain.closed(100, at: 13 * Self.ms)
        Self.hop(&chain, 101, at: 14 * Self.ms, frame: [1, 2, 3])
        chain.upstreamSpoke(101)
        chain.closed(101, at: 15 * Self.ms)
        #expect(chain.remembered == 12)
        // After the window every ended connection is let go of.
        _ = chain.accepted(200, at: 2_000 * Self.ms)
        _ = chain.version(200, frame: [9], at: 2_000 * Self.ms)
        #expect(chain.remembered == 1)
    }

    /// A thousand ordinary connections, each answered, leave nothing behind.
    @Test func ordinaryConnectionsAreNotKept() {
        var chain = LoopChain()
        for i in 0..<1000 as Range<UInt32> {
            let t = Int64(i) * Self.ms
            Self.hop(&chain, i, at: t)
            chain.upstreamSpoke(ConnectionID(i))
            chain.closed(ConnectionID(i), at: t + 500_000)
        }
        #expect(chain.remembered == 0)
    }

    /// Silent clients, each accepted a millisecond after the connection before it dialled (a loop whose
    /// clients say nothing: `nc -z`, or a client that waits): probed at the 64th link, held from there.
    @Test func aSilentChainIsSuspectedAndHoldsTheDials() {
        var chain = LoopChain()
        for i in 0..<64 as Range<UInt32> {
            #expect(chain.accepted(ConnectionID(i), at: Int64(i) * Self.ms) == .dial, "connection \(i)")
            chain.dialed(ConnectionID(i), at: Int64(i) * Self.ms + 1000)
            if i % 2 == 0 { chain.closed(ConnectionID(i), at: Int64(i) * Self.ms + 500_000) }   // hung up at once
        }
        #expect(chain.accepted(64, at: 64 * Self.ms) == .holdProbing(probe: chain.probeFrame(1)))
        // Tested once: the next is held without another probe.
        #expect(chain.accepted(65, at: 65 * Self.ms) == .hold)
        // The probe back in: a loop, its chain the silent clients.
        _ = chain.accepted(66, at: 66 * Self.ms)
        guard case .loop(let found)? = chain.version(66, frame: chain.probeFrame(1), at: 66 * Self.ms) else {
            Issue.record("the probe came back and no loop")
            return
        }
        #expect(found.silent && found.chain == (0...64).map { ConnectionID($0) } && found.probe == 66)
        // A silent chain whose test a server answered (a pool opened before it speaks) is not tested again,
        // however long it grows, nor held past the hold.
        var pool = LoopChain()
        for i in 0..<65 as Range<UInt32> {
            _ = pool.accepted(ConnectionID(i), at: Int64(i) * Self.ms)
            pool.dialed(ConnectionID(i), at: Int64(i) * Self.ms + 1000)
        }
        pool.probeEnded(pool.probeFrame(1))
        for i in 65..<2000 as Range<UInt32> {
            let admission = pool.accepted(ConnectionID(i), at: Int64(i) * Self.ms)
            #expect(admission == (i < 1064 ? .hold : .dial), "client \(i)")
            pool.dialed(ConnectionID(i), at: Int64(i) * Self.ms + 1000)
        }
        #expect(found.description == "c0 → c1 → … → c64: 65 clients in a row, each accepted just after the one before "
                + "dialled the upstream, in 64.0 ms, none of them saying a word, and ninescope's own Tversion came "
                + "back in as c66's")
    }

    /// A client that speaks breaks the silent chain; so does a gap longer than the silent window, and a
    /// client from another host than the upstream's.
    @Test func aSilentChainIsBrokenByAWordOrAPause() {
        var chain = LoopChain()
        var suspectedAt: UInt32?
        for i in 0..<200 as Range<UInt32> {
            let t = Int64(i) * Self.ms
            if case .holdProbing = chain.accepted(ConnectionID(i), at: t) {
                suspectedAt = i
                break
            }
            chain.dialed(ConnectionID(i), at: t + 1000)
            if i == 30 { chain.clientSpoke(30) }
        }
        #expect(suspectedAt == 95)   // 31…95: 64 links
        var slow = LoopChain()
        for i in 0..<200 as Range<UInt32> {
            let t = Int64(i) * 11 * Self.ms
            #expect(slow.accepted(ConnectionID(i), at: t) == .dial)
            slow.dialed(ConnectionID(i), at: t)
        }
        // Clients from another host than the upstream's: no forwarder there sent them.
        var elsewhere = LoopChain()
        for i in 0..<200 as Range<UInt32> {
            let t = Int64(i) * Self.ms
            #expect(elsewhere.accepted(ConnectionID(i), at: t, from: .other([198, 51, 100, 7])) == .dial)
            elsewhere.dialed(ConnectionID(i), at: t)
            elsewhere.connected(ConnectionID(i), to: .other([192, 0, 2, 9]))
        }
    }

    /// Random connections coming and going, in any order of events: every chain found ends at the
    /// connection that found it, runs through distinct connections, has at least `hops` links; and once
    /// everything has ended and the window has passed, nothing is kept.
    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func randomTrafficKeepsItsPromises(seed: UInt64) {
        var rng = SplitMix(seed: seed)
        var chain = LoopChain(hops: 3, window: 5 * Self.ms, hold: 3 * Self.ms, silentHops: 4,
                              silentWindow: 2 * Self.ms)
        var open: [ConnectionID] = []
        var next: UInt32 = 0
        var t: Int64 = 0
        let frames = [F.tversion(), F.tversion(msize: 8192)]
        var founds = 0, suspicions = 0
        for _ in 0..<20_000 {
            t += Int64(rng.next() % 300_000)
            let pick = rng.next() % 7
            if pick == 0 || open.isEmpty {
                let c = ConnectionID(next)
                next += 1
                let host: LoopChain.Host? = rng.next() % 4 == 0 ? .other([10, 0, 0, 1]) : .thisMachine
                let admission = chain.accepted(c, at: t, from: host)
                if case .holdProbing = admission { suspicions += 1 }
                if admission == .dial { chain.dialed(c, at: t) }   // as the proxy does
                open.append(c)
                continue
            }
            let c = open[Int(rng.next() % UInt64(open.count))]
            switch pick {
            case 1: chain.dialed(c, at: t)
            case 2: chain.connected(c, to: rng.next() % 4 == 0 ? nil : .thisMachine)
            case 3: chain.clientSpoke(c)
            case 4: if rng.next() % 8 == 0 { chain.upstreamSpoke(c) }
            case 5:
                switch chain.version(c, frame: frames[Int(rng.next() % 2)], at: t) {
                case .probe?: founds += 1
                case .loop?: Issue.record("a loop with no probe back")   // (no probe ever comes back here)
                case nil: break
                }
            default:
                chain.closed(c, at: t)
                open.removeAll { $0 == c }
            }
        }
        #expect(founds > 0 && suspicions > 0, "found \(founds), suspected \(suspicions)")
        for c in open { chain.closed(c, at: t) }
        _ = chain.accepted(ConnectionID(next), at: t + 10 * Self.ms)
        _ = chain.version(ConnectionID(next), frame: [0], at: t + 10 * Self.ms)
        #expect(chain.remembered == 1)
    }
}
