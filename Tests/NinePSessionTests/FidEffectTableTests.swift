@testable import NinePSession
import NinePTestSupport
import NinePWire
import Testing

/// `fidEffect` and `ioCount` answer most messages from the type code alone; their tables must agree with
/// the full switches, for a message of every type and dialect.
@Suite struct FidEffectTableTests {
    @Test func effectTableListsExactlyTheTypesWithAnEffect() {
        var withEffect = Set<UInt8>()
        for v in goldenVectors {
            let m = v.fcall.message
            let code = m.typeCode
            #expect((m.fidEffectOfAnyType != nil) == Message.hasFidEffect[Int(code)], "\(v.name)")
            #expect((m.fidEffect != nil) == (m.fidEffectOfAnyType != nil), "\(v.name)")
            if m.fidEffect != nil { withEffect.insert(code) }
        }
        // Every type the table lists appears among the vectors (so the check above covered it).
        let listed = Set((0..<256).filter { Message.hasFidEffect[$0] }.map { UInt8($0) })
        #expect(withEffect == listed)
    }

    @Test func ioCountComesFromReadsWritesAndReaddirs() {
        for v in goldenVectors {
            let m = v.fcall.message
            let io: Set<MessageType> = [.tread, .twrite, .treaddir]
            #expect((m.ioCount != nil) == io.contains(m.type ?? .rerror), "\(v.name)")
        }
    }
}
