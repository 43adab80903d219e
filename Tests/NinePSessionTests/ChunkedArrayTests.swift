@testable import NinePSession
import NinePWire
import Testing

/// The tracker's append-only record store: indices stay valid across its pieces, changes land in place,
/// and a copy is independent.
@Suite struct ChunkedArrayTests {
    @Test func appendsReadsAndChangesAcrossPieces() {
        var a = ChunkedArray<Int>()
        var reference: [Int] = []
        for i in 0..<10_000 { a.append(i * 3); reference.append(i * 3) }
        #expect(a.count == reference.count)
        #expect(a.indices == reference.indices)
        for i in stride(from: 0, to: 10_000, by: 7) { a[i] += 1; reference[i] += 1 }
        #expect(a.indices.map { a[$0] } == reference)
        let snapshot = a
        a[4095] = -1
        a[4096] = -2
        a.append(99)
        #expect(snapshot[4095] == reference[4095] && snapshot[4096] == reference[4096])
        #expect(snapshot.count == 10_000)
        #expect(a[4095] == -1 && a[4096] == -2 && a[10_000] == 99 && a.count == 10_001)
    }

    /// A tracker with more exchanges than one piece holds still pairs and reports each of them.
    @Test func trackerPairsThousandsOfExchanges() {
        var h = Harness(wire: .l)
        h.version()
        h.attach(0, fid: 0)
        for i in 0..<9_000 {
            let tag = Tag(rawValue: UInt16(i % 60))
            h.t(tag, .tgetattr(Tgetattr(fid: 0, requestMask: .basic)))
            h.r(tag, .rgetattr(Rgetattr(valid: .basic, qid: Qid(type: .dir, path: 1))))
        }
        #expect(h.anomalies.isEmpty)
        #expect(h.summary.exchangeCount == 9_002)
        #expect(h.tracker.exchange(ExchangeID(9_001))?.status == .ok)
        #expect(h.tracker.exchange(ExchangeID(5_000))?.replyIndex == MessageIndex(10_001))
    }
}
