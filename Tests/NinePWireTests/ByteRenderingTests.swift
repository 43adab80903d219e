import Testing
import NinePWire
import NinePTestSupport

/// The byte-level renderers the trace writers use instead of building Strings must give exactly the
/// bytes of their String counterparts.
@Suite struct ByteRenderingTests {
    @Test func decimalTextMatchesStringConversion() {
        var rng = SplitMix(seed: 42)
        var values: [UInt64] = [0, 1, 9, 10, 11, 99, 100, 101, 65_535, 4_294_967_295, 4_294_967_296,
                                9_999_999_999_999_999_999, 10_000_000_000_000_000_000, UInt64.max, UInt64.max - 1]
        var power: UInt64 = 1
        for _ in 1...19 { power *= 10; values += [power - 1, power, power + 1] }   // every digit count's edges
        for _ in 0..<2_000 { values.append(rng.next() >> (rng.next() % 64)) }
        for v in values {
            var out: [UInt8] = [0x41]          // appends, keeps what was there
            DecimalText.append(v, to: &out)
            #expect(out == [0x41] + Array(String(v).utf8), "\(v)")
            #expect(DecimalText.count(v) == String(v).count, "\(v)")
            // Written into a wider field: zero-padded on the left (as the trace's clock uses it).
            let width = String(v).count + Int(v % 3)
            let padded = [UInt8](unsafeUninitializedCapacity: width) { b, n in
                DecimalText.write(v, digits: width, to: b.baseAddress!)
                n = width
            }
            #expect(padded == Array(repeating: 0x30, count: width - String(v).count) + Array(String(v).utf8), "\(v)")
        }
    }

    @Test func appendEscapedMatchesEscaped() {
        var rng = SplitMix(seed: 7)
        var samples: [[UInt8]] = [[], Array("usr".utf8), Array("a b".utf8), Array("back\\slash".utf8), [0x0A, 0x09, 0x0D],
                                  [0x1B, 0x7F], [0xFF, 0xFE], Array("é✓𝄞".utf8), [0xE2, 0x80, 0x8B], [0xC3], Array("it's".utf8)]
        for _ in 0..<3_000 {
            let n = Int(rng.next() % 12)
            samples.append((0..<n).map { _ in
                // Mostly printable ASCII, some controls and high bytes.
                let r = rng.next() % 10
                return r < 7 ? UInt8(0x20 + rng.next() % 95) : UInt8(truncatingIfNeeded: rng.next())
            })
        }
        for bytes in samples {
            let s = P9String(bytes: bytes)
            var out: [UInt8] = [0x2F]
            s.appendEscaped(to: &out)
            #expect(out == [0x2F] + Array(s.escaped.utf8), "\(bytes)")
        }
    }

    /// Which dialects define which codes (9P2000.L's codes are its own; open/create/stat/wstat and Rerror
    /// belong to the classic dialects), and the set, the per-dialect test and `isDialectSpecific` agree.
    @Test func dialectMembership() {
        let classic: Set<MessageType> = [.topen, .ropen, .tcreate, .rcreate, .tstat, .rstat, .twstat, .rwstat, .rerror]
        for code in 0...255 {
            guard let t = MessageType(rawValue: UInt8(code)) else { continue }
            let expected: Set<Dialect> = code >= 6 && code <= 77 ? [.l] : classic.contains(t) ? [.p9, .u] : [.p9, .u, .l]
            #expect(t.dialects == expected, "\(t.name)")
            for d in Dialect.allCases { #expect(t.isDefined(in: d) == expected.contains(d), "\(t.name) \(d)") }
            #expect(t.isDialectSpecific == (expected.count < Dialect.allCases.count), "\(t.name)")
        }
        #expect(MessageType.tlopen.dialects == [.l] && MessageType.twalk.dialects.count == 3)
    }
}
