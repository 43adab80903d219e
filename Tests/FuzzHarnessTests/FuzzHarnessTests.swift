import Foundation
import NinePTestSupport
import NinescopeFuzzHarness
import Testing

/// The fuzz harness (Fuzz/Harness) run on its seeds: every property it checks holds for the seeds made
/// from each capture in Captures/, for the typed examples in Fuzz/seeds/ and for the inputs in
/// Fuzz/regressions/ (each once broke a property) — the inputs `make fuzz` starts from. So the harness
/// compiles with the code it checks, and what broke once stays fixed.
@Suite struct FuzzHarnessTests {
    static func files(in directory: String, ending suffix: String = "") -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(suffix) }.sorted().map { directory + "/" + $0 }
    }

    static func seeds() -> [FuzzSeeds.Seed] {
        var seeds: [FuzzSeeds.Seed] = []
        for (n, path) in files(in: Peers.repoRoot + "/Captures", ending: ".pcapng").enumerated() {
            let bytes = [UInt8](FileManager.default.contents(atPath: path) ?? Data())
            seeds += FuzzSeeds.fromCapture(named: "\(n)", bytes: bytes)
        }
        for path in files(in: Peers.repoRoot + "/Fuzz/seeds") {
            let name = String(path.split(separator: "/").last!)
            seeds.append(FuzzSeeds.typed(named: name, text: [UInt8](FileManager.default.contents(atPath: path)!)))
        }
        for path in files(in: Peers.repoRoot + "/Fuzz/regressions") {
            let name = String(path.split(separator: "/").last!)
            seeds.append(FuzzSeeds.Seed(name: name, input: [UInt8](FileManager.default.contents(atPath: path)!)))
        }
        return seeds
    }

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
