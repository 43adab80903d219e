import Testing

@Test func NinePWireTestsPlaceholder() { #expect(Bool(true)) }
