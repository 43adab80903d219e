import Testing
import TUICore

@Suite struct DisplayWidthTests {
    @Test(arguments: [
        ("a", 1), (" ", 1), ("~", 1),
        ("é", 1),                      // precomposed
        ("e\u{301}", 1),               // base + combining acute
        ("漢", 2), ("한", 2), ("あ", 2), ("ア", 2),
        ("ｱ", 1),                      // halfwidth katakana
        ("Ａ", 2),                     // fullwidth A
        ("\u{3000}", 2),               // ideographic space
        ("😀", 2), ("🚀", 2), ("⌚", 2),
        ("❤", 1), ("❤\u{FE0F}", 2),    // text default; emoji presentation selector widens
        ("👍🏽", 2),                    // emoji + skin tone modifier
        ("👨‍👩‍👧", 2),                   // ZWJ family sequence
        ("🇫🇷", 2),                     // regional-indicator pair (flag)
        ("\u{1100}\u{1161}\u{11A8}", 2), // conjoining jamo syllable
        ("\u{200B}", 0),               // zero width space
        ("\u{AD}", 1),                 // soft hyphen is shown
        ("\t", 1), ("\u{1B}", 1),      // controls: one replacement cell
        ("Ω", 1), ("→", 1), ("█", 1),
        ("𠀀", 2),                     // CJK extension B (plane 2)
    ] as [(Character, Int)])
    func characterWidth(character: Character, expected: Int) {
        #expect(displayWidth(of: character) == expected, "\(character.unicodeScalars.map { String($0.value, radix: 16) })")
    }

    @Test(arguments: [
        (0x41, 1), (0x00, 0), (0x07, -1), (0x1B, -1), (0x7F, -1), (0x85, -1), (0x9F, -1), (0xA0, 1),
        (0x0301, 0), (0x20DD, 0),      // combining acute, enclosing circle
        (0x200D, 0), (0xFEFF, 0),      // ZWJ, BOM (format)
        (0x1160, 0), (0x11FF, 0),      // Hangul medial vowel / final consonant
        (0x1100, 2), (0x115F, 2), (0x1160, 0),
        (0x2E80, 2), (0x303E, 2), (0x303F, 1), (0x3041, 2),
        (0x4E00, 2), (0x9FFF, 2), (0xA4C6, 2), (0xA4D0, 1),
        (0xAC00, 2), (0xD7A3, 2), (0xD7A4, 1),
        (0xFF01, 2), (0xFF60, 2), (0xFF61, 1), (0xFFE0, 2), (0xFFE6, 2), (0xFFE8, 1),
        (0x1F300, 2), (0x1F321, 1), (0x1F600, 2), (0x1F64F, 2), (0x1F650, 1), (0x1F9FF, 2),
        (0x20000, 2), (0x2FFFD, 2), (0x30000, 2), (0xE0001, 0),
    ] as [(UInt32, Int)])
    func scalarWidth(value: UInt32, expected: Int) {
        let scalar = Unicode.Scalar(value)!
        #expect(displayWidth(of: scalar) == expected, "U+\(String(value, radix: 16))")
    }

    @Test func stringWidthSumsCharacters() {
        #expect(displayWidth(of: "") == 0)
        #expect(displayWidth(of: "abc") == 3)
        #expect(displayWidth(of: "a漢b😀") == 6)
        #expect("日本語".displayWidth == 6)
        #expect(displayWidth(of: "x\u{200B}y") == 2)
    }

    @Test func truncationRespectsWideCharacters() {
        #expect("hello".truncated(toDisplayWidth: 10) == "hello")
        #expect("hello world".truncated(toDisplayWidth: 5) == "hell…")
        #expect("hello world".truncated(toDisplayWidth: 5, ellipsis: "") == "hello")
        // 漢字語 is 6 columns; 4 columns leave room for 漢 plus the 1-column ellipsis.
        #expect("漢字語".truncated(toDisplayWidth: 4) == "漢…")
        #expect("漢字語".truncated(toDisplayWidth: 3, ellipsis: "") == "漢")
        #expect("abc".truncated(toDisplayWidth: 0) == "")
    }

    @Test func wrappingBreaksAtBlanksWithinTheWidth() {
        #expect("short".wrapped(toDisplayWidth: 10) == ["short"])
        #expect("the quick brown fox".wrapped(toDisplayWidth: 10) == ["the quick", "brown fox"])
        #expect("the quick brown fox".wrapped(toDisplayWidth: 9) == ["the quick", "brown fox"])
        #expect("the quick brown fox".wrapped(toDisplayWidth: 8) == ["the", "quick", "brown", "fox"])
        // A word wider than the line is broken where it must; wide characters count two columns.
        #expect("abcdefghij kl".wrapped(toDisplayWidth: 4) == ["abcd", "efgh", "ij", "kl"])
        #expect("漢字語 漢字".wrapped(toDisplayWidth: 5) == ["漢字", "語", "漢字"])
        #expect("".wrapped(toDisplayWidth: 5) == [""])
        // Every line fits, and the words come back in order.
        let text = "'..' at the attach root /srv:/ (name 0 of the walk) gave qid (0000000000f844d1 0 d), not the root's"
        for width in 6...40 {
            let lines = text.wrapped(toDisplayWidth: width)
            #expect(lines.allSatisfy { $0.displayWidth <= width }, "\(width): \(lines)")
            #expect(lines.joined() .filter { $0 != " " } == text.filter { $0 != " " }, "\(width)")
        }
    }

    @Test func paddingFillsToExactWidth() {
        #expect("ab".padded(toDisplayWidth: 4) == "ab  ")
        #expect("漢".padded(toDisplayWidth: 3) == "漢 ")
        #expect("漢字".padded(toDisplayWidth: 3) == "漢 ")
        #expect("ab".leftPadded(toDisplayWidth: 4) == "  ab")
    }
}
