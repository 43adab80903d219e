import Testing
@testable import NinePNIO

/// `proxy` and `serve` raise their soft descriptor limit to the hard one: never lower, never past the
/// kernel's ceiling, and an unlimited hard limit only as far as that ceiling.
@Suite struct OpenFileLimitTests {
    @Test func theSoftLimitGoesUpToTheHardOne() {
        #expect(OpenFileLimit.raisedSoftLimit(soft: 1024, hard: 524_288, kernelCeiling: 1_048_576) == 524_288)
        #expect(OpenFileLimit.raisedSoftLimit(soft: 1024, hard: 524_288, kernelCeiling: nil) == 524_288)
        #expect(OpenFileLimit.raisedSoftLimit(soft: 1024, hard: 4096, kernelCeiling: 1_048_576) == 4096)
    }

    @Test func anUnlimitedHardLimitStopsAtTheKernelsCeiling() {
        #expect(OpenFileLimit.raisedSoftLimit(soft: 1024, hard: .max, kernelCeiling: 1_048_576) == 1_048_576)
        #expect(OpenFileLimit.raisedSoftLimit(soft: 1024, hard: .max, kernelCeiling: nil) == 1024)
        #expect(OpenFileLimit.raisedSoftLimit(soft: 4096, hard: 2_000_000, kernelCeiling: 1_048_576) == 1_048_576)
    }

    @Test func neverLower() {
        #expect(OpenFileLimit.raisedSoftLimit(soft: 4096, hard: 4096, kernelCeiling: 1024) == 4096)
        #expect(OpenFileLimit.raisedSoftLimit(soft: .max, hard: .max, kernelCeiling: 1_048_576) == .max)
    }

    /// In this process: after raising, the soft limit is the hard one (or the ceiling), and the text for
    /// running out names both.
    @Test func raisingInThisProcess() throws {
        let before = try #require(OpenFileLimit.current)
        let after = try #require(OpenFileLimit.raiseToHard())
        #expect(after >= before.soft)
        #expect(after == OpenFileLimit.raisedSoftLimit(soft: before.soft, hard: before.hard,
                                                       kernelCeiling: OpenFileLimit.kernelCeiling))
        #expect(OpenFileLimit.current?.soft == after)
        let hard = before.hard == .max ? "unlimited" : String(before.hard)
        let text = OpenFileLimit.exhaustedText("Too many open files")
        #expect(text.hasPrefix("Too many open files (this process may hold "), "\(text)")
        #expect(text.contains("hard limit \(hard)"), "\(text)")
    }
}
