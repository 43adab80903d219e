import Testing
import TUICore

@Suite struct LineCompletionTests {
    @Test func commonPrefix() {
        #expect(LineCompletion.commonPrefix(of: []) == "")
        #expect(LineCompletion.commonPrefix(of: ["walk"]) == "walk")
        #expect(LineCompletion.commonPrefix(of: ["Tlopen", "Tlcreate", "Tlink"]) == "Tl")
        #expect(LineCompletion.commonPrefix(of: ["abc", "xyz"]) == "")
        #expect(LineCompletion.commonPrefix(of: ["漢字", "漢語"]) == "漢")
    }

    @Test func wordStart() {
        #expect(LineCompletion.wordStart(in: "walk 1 2 us", cursor: 11) == 9)
        #expect(LineCompletion.wordStart(in: "walk", cursor: 2) == 0)
        #expect(LineCompletion.wordStart(in: "a b ", cursor: 4) == 4)
        #expect(LineCompletion.wordStart(in: "flags=O_RD", cursor: 10, breaks: [" ", "="]) == 6)
        // A blank escaped or inside quotes is part of the word, as the REPL's tokenizer reads it.
        #expect(LineCompletion.wordStart(in: "cat /my\\ dir/f", cursor: 14) == 4)
        #expect(LineCompletion.wordStart(in: "cat \"/a b/c", cursor: 11) == 4)
        #expect(LineCompletion.wordStart(in: "cat \"/a b\" x", cursor: 12) == 11)
        #expect(LineCompletion.wordStart(in: "cat a\\\\ b", cursor: 9) == 8)   // an escaped backslash, then a blank
    }

    /// A word holding an escaped blank is replaced whole: the REPL's remote name `sp\ ace`.
    @Test func aWordWithAnEscapedBlankIsCompletedWhole() {
        let r = LineCompletion.complete(line: "cat /odd/sp\\ a", cursor: 14, candidates: ["/odd/sp\\ ace"])
        #expect(r.kind == .unique)
        #expect(r.line == "cat /odd/sp\\ ace ")
    }

    @Test func noMatchLeavesLineAlone() {
        let r = LineCompletion.complete(line: "wal", cursor: 3, candidates: ["read", "write"])
        #expect(r.kind == .none)
        #expect(r.line == "wal" && r.cursor == 3)
    }

    @Test func uniqueMatchCompletesAndAddsSpace() {
        let r = LineCompletion.complete(line: "wa", cursor: 2, candidates: ["walk", "read"])
        #expect(r.kind == .unique)
        #expect(r.line == "walk ")
        #expect(r.cursor == 5)
        #expect(r.candidates == ["walk"])
    }

    @Test func uniqueMatchEndingInEqualsOrSlashAddsNoSpace() {
        let r = LineCompletion.complete(line: "Tlopen fl", cursor: 9, candidates: ["flags="])
        #expect(r.line == "Tlopen flags=" && r.cursor == 13)
        let d = LineCompletion.complete(line: "cd us", cursor: 5, candidates: ["usr/"])
        #expect(d.line == "cd usr/")
    }

    @Test func completionInTheMiddleKeepsTheRest() {
        // Cursor after "wa" in "wa 1 2": only the part before the cursor is the word.
        let r = LineCompletion.complete(line: "wa 1 2", cursor: 2, candidates: ["walk"])
        #expect(r.line == "walk 1 2")
        #expect(r.cursor == 4)  // no extra space: a break character already follows
    }

    @Test func severalMatchesExtendToCommonPrefix() {
        let r = LineCompletion.complete(line: "T", cursor: 1, candidates: ["Tlopen", "Tlcreate", "Rlopen"])
        #expect(r.kind == .commonPrefix)
        #expect(r.line == "Tl" && r.cursor == 2)
        #expect(r.candidates == ["Tlopen", "Tlcreate"])
    }

    @Test func ambiguousWithoutProgressListsCandidates() {
        let r = LineCompletion.complete(line: "x Tl", cursor: 4, candidates: ["Tlopen", "Tlcreate", "Tlopen"])
        #expect(r.kind == .ambiguous)
        #expect(r.line == "x Tl" && r.cursor == 4)
        #expect(r.candidates == ["Tlopen", "Tlcreate"])  // deduplicated, order kept
    }

    @Test func emptyWordMatchesEverything() {
        let r = LineCompletion.complete(line: "walk ", cursor: 5, candidates: ["1", "2"])
        #expect(r.kind == .ambiguous)
        #expect(r.word == "")
    }

    @Test func customBreaksCompleteValues() {
        let r = LineCompletion.complete(line: "Tlopen flags=O_RD", cursor: 17, candidates: ["O_RDONLY", "O_RDWR"],
                                        breaks: [" ", "="])
        #expect(r.kind == .ambiguous)  // O_RDONLY and O_RDWR share only "O_RD"
        #expect(r.word == "O_RD")
        #expect(r.line == "Tlopen flags=O_RD")
        let u = LineCompletion.complete(line: "Tlopen flags=O_RDO", cursor: 18, candidates: ["O_RDONLY", "O_RDWR"],
                                        breaks: [" ", "="])
        #expect(u.line == "Tlopen flags=O_RDONLY ")
    }

    @Test func columnsLayout() {
        let lines = LineCompletion.columns(["a", "bb", "ccc", "dddd", "e"], width: 14)
        // Column width = 4 + 2 = 6; (14 + 2) / 6 = 2 columns; 3 rows, filled down then across.
        #expect(lines == ["a     dddd", "bb    e", "ccc"])
        #expect(LineCompletion.columns(["long-name", "other"], width: 5) == ["long-name", "other"])
        #expect(LineCompletion.columns([], width: 80).isEmpty)
    }
}
