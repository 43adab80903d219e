import Testing

@Test func IntegrationTestsPlaceholder() { #expect(Bool(true)) }
