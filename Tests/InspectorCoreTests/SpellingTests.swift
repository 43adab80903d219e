import Testing
@testable import InspectorCore

/// Two neighbouring letters swapped are one slip (`wlak`, `fitler`), as are a letter left out, added or
/// changed; a short word gets one edit of slack, a longer one two; nothing close gives no guess.
@Test func spellingFindsTheWordMeant() {
    #expect(Spelling.editDistance("wlak", "walk") == 1)
    #expect(Spelling.editDistance("fitler", "filter") == 1)
    #expect(Spelling.editDistance("walk", "walk") == 0)
    #expect(Spelling.editDistance("", "abc") == 3)
    #expect(Spelling.editDistance("kitten", "sitting") == 3)
    let words = ["walk", "wait", "write", "filter", "version"]
    #expect(Spelling.nearest(to: "wlak", among: words) == "walk")
    #expect(Spelling.nearest(to: "WALK", among: words) == "walk")
    #expect(Spelling.nearest(to: "fitler", among: words) == "filter")
    #expect(Spelling.nearest(to: "vrsn", among: words) == nil)
    #expect(Spelling.nearest(to: "frobnicate", among: words) == nil)
}
