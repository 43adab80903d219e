import Testing

@Test func NinePREPLTestsPlaceholder() { #expect(Bool(true)) }
