import Testing
import TUICore

@Suite struct KeyChordTests {
    @Test(arguments: [
        ("j", KeyChord("j")),
        ("G", KeyChord("G")),
        ("?", KeyChord("?")),
        ("space", KeyChord(" ")),
        ("ctrl-f", KeyChord(.character("f"), modifiers: .ctrl)),
        ("alt-x", KeyChord(.character("x"), modifiers: .alt)),
        ("enter", KeyChord(.enter)),
        ("esc", KeyChord(.escape)),
        ("tab", KeyChord(.tab)),
        ("shift-tab", KeyChord(.tab, modifiers: .shift)),
        ("backspace", KeyChord(.backspace)),
        ("delete", KeyChord(.delete)),
        ("insert", KeyChord(.insert)),
        ("up", KeyChord(.up)), ("down", KeyChord(.down)), ("left", KeyChord(.left)), ("right", KeyChord(.right)),
        ("home", KeyChord(.home)), ("end", KeyChord(.end)),
        ("pgup", KeyChord(.pageUp)), ("pgdn", KeyChord(.pageDown)),
        ("f1", KeyChord(.function(1))), ("f12", KeyChord(.function(12))),
        ("-", KeyChord("-")),
        ("ctrl--", KeyChord(.character("-"), modifiers: .ctrl)),
        ("ctrl-alt-delete", KeyChord(.delete, modifiers: [.ctrl, .alt])),
        ("shift-up", KeyChord(.up, modifiers: .shift)),
        ("ctrl-space", KeyChord(.character(" "), modifiers: .ctrl)),
    ] as [(String, KeyChord)])
    func canonicalNamesParseAndPrint(name: String, chord: KeyChord) throws {
        #expect(KeyChord(name) == chord)
        #expect(chord.description == name)
    }

    @Test(arguments: [
        ("shift-g", "G"), ("s-g", "G"), ("shift-G", "G"),
        ("ctrl-F", "ctrl-f"), ("C-f", "ctrl-f"), ("control-f", "ctrl-f"), ("^F", "ctrl-f"), ("^f", "ctrl-f"),
        ("ctrl-i", "tab"), ("ctrl-m", "enter"), ("ctrl-[", "esc"), ("^[", "esc"), ("ctrl-@", "ctrl-space"),
        ("Return", "enter"), ("ESCAPE", "esc"), ("PgDn", "pgdn"), ("pagedown", "pgdn"), ("pageup", "pgup"),
        ("backtab", "shift-tab"), ("F5", "f5"), ("M-x", "alt-x"), ("meta-x", "alt-x"),
        ("shift-ctrl-alt-left", "ctrl-alt-shift-left"), ("minus", "-"), ("spc", "space"),
        ("alt-ctrl-i", "alt-tab"),
    ])
    func aliasesNormalize(alias: String, canonical: String) {
        #expect(KeyChord(alias)?.description == canonical)
        #expect(KeyChord(alias) == KeyChord(canonical))
    }

    @Test(arguments: ["", "ctrl-", "hyper-x", "f0", "f64", "fx", "pgdown2", "ctrl-nothing", "---", "\u{1B}"])
    func invalidNamesAreRejected(name: String) {
        #expect(KeyChord(name) == nil)
        #expect(throws: KeyChordParseError.self) { try KeyChord.parse(name) }
    }

    @Test func parseErrorSaysWhy() {
        do {
            _ = try KeyChord.parse("hyper-x")
            Issue.record("expected a parse error")
        } catch {
            #expect(error.description.contains("hyper"))
        }
    }

    @Test func everyPrintedChordParsesBack() {
        var chords: [KeyChord] = []
        let keys: [Key] = [.enter, .tab, .backspace, .escape, .delete, .insert, .up, .down, .left, .right,
                           .home, .end, .pageUp, .pageDown, .function(1), .function(63),
                           .character("a"), .character("Z"), .character("-"), .character(" "),
                           .character("é"), .character("漢"), .character("^"), .character("[")]
        let modifierSets: [Modifiers] = [[], .ctrl, .alt, .shift, [.ctrl, .alt], [.ctrl, .shift], [.alt, .shift],
                                         [.ctrl, .alt, .shift]]
        for key in keys {
            for modifiers in modifierSets {
                chords.append(KeyChord(key, modifiers: modifiers))
            }
        }
        for chord in chords {
            #expect(KeyChord(chord.description) == chord, "\(chord)")
        }
    }

    @Test func terminalInputMapsControlBytes() {
        #expect(KeyChord(terminalInput: "\r") == .enter)
        #expect(KeyChord(terminalInput: "\t") == .tab)
        #expect(KeyChord(terminalInput: "\u{1B}") == .escape)
        #expect(KeyChord(terminalInput: "\u{7F}") == .backspace)
        #expect(KeyChord(terminalInput: "\u{08}")?.description == "ctrl-h")
        #expect(KeyChord(terminalInput: "\u{06}")?.description == "ctrl-f")
        #expect(KeyChord(terminalInput: "\n")?.description == "ctrl-j")
        #expect(KeyChord(terminalInput: "\u{00}")?.description == "ctrl-space")
        #expect(KeyChord(terminalInput: "\u{1C}")?.description == "ctrl-\\")
        #expect(KeyChord(terminalInput: "q") == KeyChord("q"))
        #expect(KeyChord(terminalInput: "\u{85}") == nil)
    }

    @Test func chordsWorkAsDictionaryKeys() {
        let bindings: [KeyChord: String] = [KeyChord("ctrl-f")!: "page.down", KeyChord("G")!: "list.bottom"]
        #expect(bindings[KeyChord(.character("F"), modifiers: .ctrl)] == "page.down")
        #expect(bindings[KeyChord(.character("g"), modifiers: .shift)] == "list.bottom")
        #expect(bindings[KeyChord("g")] == nil)
    }
}

@Suite struct TerminfoKeyNameTests {
    @Test(arguments: [
        ("kUP5", "ctrl-up"), ("kDN2", "shift-down"), ("kLFT3", "alt-left"), ("kRIT6", "ctrl-shift-right"),
        ("kHOM7", "ctrl-alt-home"), ("kEND8", "ctrl-alt-shift-end"), ("kNXT5", "ctrl-pgdn"), ("kPRV3", "alt-pgup"),
        ("kDC5", "ctrl-delete"), ("kIC2", "shift-insert"),
    ])
    func extendedNames(name: String, chord: String) {
        #expect(KeyChord(terminfoName: name)?.description == chord)
    }

    @Test(arguments: ["kUP", "kUP1", "kUP9", "kFOO5", "KEY_UP", "", "k5"])
    func otherNamesAreNotKeys(name: String) {
        #expect(KeyChord(terminfoName: name) == nil)
    }
}
