import Testing

@Test func InspectorCoreTestsPlaceholder() { #expect(Bool(true)) }
