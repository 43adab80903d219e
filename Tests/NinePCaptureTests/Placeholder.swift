import Testing

@Test func NinePCaptureTestsPlaceholder() { #expect(Bool(true)) }
