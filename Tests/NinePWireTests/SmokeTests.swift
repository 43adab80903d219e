import Testing
import NinePWire

@Test func tversionExampleFromMessagesMd() throws {
    let f = Fcall(tag: .notag, .tversion(Tversion(msize: 8192, version: "9P2000.L")))
    let hex = "15 00 00 00 64 ff ff 00 20 00 00 08 00 39 50 32 30 30 30 2e 4c"
    let expected = hex.split(separator: " ").map { UInt8($0, radix: 16)! }
    #expect(f.encode(dialect: .l) == expected)
    #expect(try Fcall.decode(expected, dialect: .l) == f)
}
