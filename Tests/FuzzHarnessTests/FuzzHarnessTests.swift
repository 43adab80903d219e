import Foundation
#if canImport(Glibc)
import Glibc
#endif
import NinePTestSupport
import NinescopeFuzzHarness
import Testing

/// The fuzz harness (Fuzz/Harness) run on its seeds: every property it checks holds for the seeds made
/// from each capture in Captures/, for the typed examples in Fuzz/seeds/ and for the inputs in
/// Fuzz/regressions/ (each once broke a property) — the inputs `make fuzz` starts from. So the harness
/// compiles with the code it checks, and what broke once stays fixed.
@Suite struct FuzzHarnessTests {
    /// Where the mutated input being run is written.
    static let lastInput = (NSTemporaryDirectory() as NSString).appendingPathComponent("ninescope-fuzz-harness-input")

    static func seeds() -> [FuzzSeeds.Seed] { FuzzSeeds.all(root: Peers.repoRoot) }

    @Test func everySeedKeepsEveryProperty() async throws {
        let seeds = Self.seeds()
        // Every part gets inputs from the captures (the first byte picks the part).
        #expect(Set(seeds.map { $0.input[0] % 8 }) == Set(0..<8))
        #expect(seeds.count > 500)
        #expect(seeds.contains { $0.name == "replay-lost-rversion" })
        for seed in seeds {
            let broken = await FuzzHarness.brokenProperties(seed.input)
            #expect(broken.isEmpty, "\(seed.name): \(broken)")
        }
    }

    /// Each seed changed a few ways (bytes flipped, inserted, removed, repeated, the end cut off), with a
    /// fixed random sequence: the same inputs every run, far from well formed, checked for every property
    /// (and for not trapping) on every build, between the runs of `make fuzz`. Each input is written to
    /// `lastInput` before it runs, so the one a trap stopped at can be run again
    /// (`.build-fuzz/release/NinescopeFuzz FILE`) or kept in Fuzz/regressions/.
    @Test func mutatedSeedsKeepEveryProperty() async throws {
        var random = SplitMix(seed: 0x9e37_79b9)
        var count = 0
        let last = open(Self.lastInput, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        try #require(last >= 0)
        defer { close(last) }
        for seed in Self.seeds() {
            for _ in 0..<16 {
                let mutant = Self.mutate(seed.input, &random)
                _ = mutant.withUnsafeBytes { pwrite(last, $0.baseAddress, $0.count, 0) }
                _ = ftruncate(last, off_t(mutant.count))
                let broken = await FuzzHarness.brokenProperties(mutant)
                #expect(broken.isEmpty, "\(seed.name), mutated to \(mutant): \(broken)")
                count += 1
            }
        }
        #expect(count > 15_000)
    }

    /// `input` with one to four changes after its first byte (which picks the part).
    static func mutate(_ input: [UInt8], _ random: inout SplitMix) -> [UInt8] {
        var bytes = input
        for _ in 0..<(1 + Int(random.next() % 4)) where bytes.count > 1 {
            let at = 1 + Int(random.next() % UInt64(bytes.count - 1))
            switch random.next() % 5 {
            case 0: bytes[at] ^= UInt8(1 << (random.next() % 8))
            case 1: bytes[at] = UInt8(truncatingIfNeeded: random.next())
            case 2: bytes.insert(contentsOf: [0xFF, 0xFF, 0, 0, UInt8(truncatingIfNeeded: random.next())], at: at)
            case 3:
                let end = min(bytes.count, at + 1 + Int(random.next() % 16))
                if random.next() % 2 == 0 { bytes.removeSubrange(at..<end) }
                else { bytes.insert(contentsOf: bytes[at..<end], at: end) }
            default: bytes.removeSubrange(at...)
            }
        }
        return bytes
    }

    /// The seeds of a capture are made from its frames: the frame part gets each frame as captured.
    @Test func seedsCarryTheCapturesFrames() throws {
        let path = Peers.repoRoot + "/Captures/diod-ls.pcapng"
        let seeds = FuzzSeeds.fromCapture(named: "ls", bytes: [UInt8](FileManager.default.contents(atPath: path)!))
        let frames = seeds.filter { $0.name.hasPrefix("frame-") }.map { Array($0.input.dropFirst()) }
        #expect(frames.count > 10)
        for frame in frames {
            let size = Int(frame[0]) | Int(frame[1]) << 8 | Int(frame[2]) << 16 | Int(frame[3]) << 24
            #expect(size == frame.count)
        }
        #expect(frames.first?[4] == 100, "the first frame is the Tversion")
        #expect(FuzzSeeds.fromCapture(named: "junk", bytes: Array("not a capture".utf8)).filter {
            $0.name.hasPrefix("frame-")
        }.isEmpty)
    }

    /// A broken property is reported with its text, and the others go on being checked.
    @Test func brokenPropertiesAreCollected() async {
        let broken = await FuzzHarness.brokenProperties([3, 0x61])   // any input: the checks below run after
        #expect(broken.isEmpty)
        let collected = await FuzzHarness.collecting {
            FuzzHarness.check(true, "holds")
            FuzzHarness.check(false, "first")
            FuzzHarness.check(false, "second")
        }
        #expect(collected == ["first", "second"])
    }
}
