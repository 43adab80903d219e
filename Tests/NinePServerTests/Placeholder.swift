import Testing

@Test func NinePServerTestsPlaceholder() { #expect(Bool(true)) }
