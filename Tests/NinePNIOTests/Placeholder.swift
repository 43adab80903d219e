import Testing

@Test func NinePNIOTestsPlaceholder() { #expect(Bool(true)) }
