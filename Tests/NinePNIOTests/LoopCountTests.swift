import NinePNIO
import Testing

@Suite struct LoopCountTests {
    /// Once the shared group is in use, a loop count can no longer be suggested: the call says so instead
    /// of stopping the process (NIO's own setter traps then).
    @Test func suggestingAfterUseChangesNothing() {
        _ = NinePSockets.group
        #expect(NinePSockets.suggestLoopCount(3) == false)
        #expect(NinePSockets.suggestLoopCount(0) == false)
    }
}
