/// A key plus modifiers, with a stable text form used by key bindings stored as data:
/// `j`, `G`, `?`, `space`, `ctrl-f`, `alt-x`, `enter`, `esc`, `tab`, `shift-tab`, `backspace`,
/// `delete`, `insert`, `up`, `down`, `left`, `right`, `home`, `end`, `pgup`, `pgdn`, `f1`…`f63`.
///
/// Chords are normalized on creation so that two chords a terminal cannot tell apart compare
/// equal: `shift-g` is `G`; `ctrl-F` is `ctrl-f`; `ctrl-i` is `tab`, `ctrl-m` is `enter`,
/// `ctrl-[` is `esc`; `ctrl-@` is `ctrl-space`. Printing a chord gives its canonical name, and
/// parsing that name gives the same chord back.
public struct KeyChord: Hashable, Sendable {
    public let key: Key
    public let modifiers: Modifiers

    public init(_ key: Key, modifiers: Modifiers = []) {
        (self.key, self.modifiers) = KeyChord.normalize(key, modifiers)
    }

    /// A plain character key: `KeyChord("j")`.
    public init(_ character: Character) {
        self.init(.character(character))
    }

    /// `ctrl-<character>`.
    public static func ctrl(_ character: Character) -> KeyChord {
        KeyChord(.character(character), modifiers: .ctrl)
    }

    /// `alt-<character>`.
    public static func alt(_ character: Character) -> KeyChord {
        KeyChord(.character(character), modifiers: .alt)
    }

    public static let enter = KeyChord(.enter)
    public static let tab = KeyChord(.tab)
    public static let backTab = KeyChord(.tab, modifiers: .shift)
    public static let escape = KeyChord(.escape)
    public static let backspace = KeyChord(.backspace)
    public static let delete = KeyChord(.delete)
    public static let up = KeyChord(.up)
    public static let down = KeyChord(.down)
    public static let left = KeyChord(.left)
    public static let right = KeyChord(.right)
    public static let home = KeyChord(.home)
    public static let end = KeyChord(.end)
    public static let pageUp = KeyChord(.pageUp)
    public static let pageDown = KeyChord(.pageDown)

    /// The chord a terminal means by sending the single character `scalar` (no escape
    /// sequence): CR → `enter`, TAB → `tab`, ESC → `esc`, DEL and BS… see below, other C0
    /// controls → `ctrl-<letter>`, NUL → `ctrl-space`, printable → the character.
    /// DEL (0x7F) is `backspace`; BS (0x08) is `ctrl-h`; LF (0x0A) is `ctrl-j` (raw mode keeps
    /// Enter as CR). C1 controls give nil.
    public init?(terminalInput scalar: Unicode.Scalar) {
        let v = scalar.value
        switch v {
        case 0x0D: self = .enter
        case 0x09: self = .tab
        case 0x1B: self = .escape
        case 0x7F: self = .backspace
        case 0x00: self = .ctrl(" ")
        case 0x01...0x1A: self = .ctrl(Character(Unicode.Scalar(v + 0x60)!))
        case 0x1C...0x1F: self = .ctrl(Character(Unicode.Scalar(v + 0x40)!))
        case 0x80..<0xA0: return nil
        default: self.init(Character(scalar))
        }
    }

    static func normalize(_ key: Key, _ modifiers: Modifiers) -> (Key, Modifiers) {
        var modifiers = modifiers
        guard case .character(let c) = key else { return (key, modifiers) }
        // Control characters as keys: map onto their chords.
        if c.unicodeScalars.count == 1, let scalar = c.unicodeScalars.first, isControl(scalar),
           let chord = KeyChord(terminalInput: scalar) {
            return (chord.key, chord.modifiers.union(modifiers))
        }
        var character = c
        if modifiers.contains(.shift), character.isLetter, character.isCased {
            modifiers.remove(.shift)
            character = Character(character.uppercased())
        }
        if modifiers.contains(.ctrl) {
            if character.isLetter, character.isASCII { character = Character(character.lowercased()) }
            if character == "@" { character = " " }
            if modifiers == .ctrl || modifiers == [.ctrl, .alt] {
                let rest = modifiers.subtracting(.ctrl)
                switch character {
                case "i": return (.tab, rest)
                case "m": return (.enter, rest)
                case "[": return (.escape, rest)
                default: break
                }
            }
        }
        return (.character(character), modifiers)
    }
}
