import Testing

@Test func TUICoreTestsPlaceholder() { #expect(Bool(true)) }
