import Testing

@Test func NinePSessionTestsPlaceholder() { #expect(Bool(true)) }
