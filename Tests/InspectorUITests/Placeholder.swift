import Testing

@Test func InspectorUITestsPlaceholder() { #expect(Bool(true)) }
