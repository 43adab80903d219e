import NinePWire
import Testing

/// `Message` keeps its large bodies in boxes (`indirect` cases), so that the value moved between the
/// decoder, the tracker and the trace stays small (see the type's notes for what that saves). The boxed
/// cases round-trip with every other type in `RoundTripPropertyTests`.
@Suite struct MessageLayoutTests {
    @Test func aMessageStaysSmall() {
        // A case added with a body over 48 bytes, or a boxed case made inline again, makes it grow
        // (161 bytes with every body inline).
        #expect(MemoryLayout<Message>.size <= 48, "Message is \(MemoryLayout<Message>.size) bytes")
        #expect(MemoryLayout<Fcall>.size <= 56, "Fcall is \(MemoryLayout<Fcall>.size) bytes")
    }

    @Test func changingACopyOfABoxedBodyLeavesTheOriginal() {
        let original = Message.rgetattr(Rgetattr(valid: .basic, qid: Qid(type: .dir, version: 1, path: 2), size: 10))
        var copy = original
        if case .rgetattr(var body) = copy {
            body.size = 99
            copy = .rgetattr(body)
        }
        guard case .rgetattr(let before) = original, case .rgetattr(let after) = copy else {
            Issue.record("the case changed")
            return
        }
        #expect(before.size == 10)
        #expect(after.size == 99)
        #expect(original != copy)
    }
}
