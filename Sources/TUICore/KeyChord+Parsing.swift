/// The text form of key chords: parsing and printing.
extension KeyChord: LosslessStringConvertible {
    /// Parses a chord name (see the type's documentation). Modifier prefixes, in any order:
    /// `ctrl-` (`c-`, `control-`, `^X` for ctrl-x), `alt-` (`a-`, `meta-`, `m-`), `shift-`
    /// (`s-`). Key names other than single characters are case-insensitive; aliases:
    /// `return`/`ret`/`cr` = `enter`, `escape` = `esc`, `bs` = `backspace`, `del` = `delete`,
    /// `ins` = `insert`, `pageup`/`prior` = `pgup`, `pagedown`/`next` = `pgdn`, `backtab` =
    /// `shift-tab`, `spc` = `space`, `minus` = `-`; `F1` = `f1`. Returns nil for anything else.
    public init?(_ description: String) {
        guard let chord = try? KeyChord.parse(description) else { return nil }
        self = chord
    }

    /// Like `init?(_:)` but says what is wrong.
    public static func parse(_ text: String) throws(KeyChordParseError) -> KeyChord {
        guard !text.isEmpty else { throw KeyChordParseError(text: text, reason: "empty key name") }
        // `^X` shorthand for ctrl-x.
        if text.count == 2, text.first == "^", let last = text.last, last.isASCII, !last.isWhitespace {
            return KeyChord(.character(last), modifiers: .ctrl)
        }
        var keyName: Substring
        var modifierNames: [Substring]
        if text == "-" {
            keyName = "-"
            modifierNames = []
        } else if text.hasSuffix("--") {
            keyName = "-"
            modifierNames = text.dropLast(2).split(separator: "-", omittingEmptySubsequences: false)
        } else {
            let parts = text.split(separator: "-", omittingEmptySubsequences: false)
            keyName = parts.last!
            modifierNames = Array(parts.dropLast())
        }
        var modifiers: Modifiers = []
        for name in modifierNames {
            guard let modifier = modifierAliases[name.lowercased()] else {
                throw KeyChordParseError(text: text, reason: "unknown modifier '\(name)'")
            }
            modifiers.insert(modifier)
        }
        guard let key = KeyChord.key(named: keyName) else {
            throw KeyChordParseError(text: text, reason: "unknown key '\(keyName)'")
        }
        if key == .tab && keyName.lowercased() == "backtab" { modifiers.insert(.shift) }
        return KeyChord(key, modifiers: modifiers)
    }

    /// The canonical name: modifiers in the order `ctrl-`, `alt-`, `shift-`, then the key.
    public var description: String {
        var result = ""
        if modifiers.contains(.ctrl) { result += "ctrl-" }
        if modifiers.contains(.alt) { result += "alt-" }
        if modifiers.contains(.shift) { result += "shift-" }
        return result + KeyChord.name(of: key)
    }

    static let modifierAliases: [String: Modifiers] = [
        "ctrl": .ctrl, "c": .ctrl, "control": .ctrl,
        "alt": .alt, "a": .alt, "meta": .alt, "m": .alt,
        "shift": .shift, "s": .shift,
    ]

    static let namedKeys: [String: Key] = [
        "enter": .enter, "return": .enter, "ret": .enter, "cr": .enter,
        "tab": .tab, "backtab": .tab,
        "backspace": .backspace, "bs": .backspace,
        "esc": .escape, "escape": .escape,
        "delete": .delete, "del": .delete,
        "insert": .insert, "ins": .insert,
        "up": .up, "down": .down, "left": .left, "right": .right,
        "home": .home, "end": .end,
        "pgup": .pageUp, "pageup": .pageUp, "prior": .pageUp,
        "pgdn": .pageDown, "pagedown": .pageDown, "next": .pageDown,
        "space": .character(" "), "spc": .character(" "),
        "minus": .character("-"),
    ]

    static func key(named name: Substring) -> Key? {
        if name.count == 1, let c = name.first {
            if c.unicodeScalars.first.map(isControl) ?? true { return nil }
            return .character(c)
        }
        let lower = name.lowercased()
        if let key = namedKeys[lower] { return key }
        if lower.hasPrefix("f"), let n = Int(lower.dropFirst()), (1...63).contains(n),
           lower.dropFirst().allSatisfy(\.isASCII) {
            return .function(n)
        }
        return nil
    }

    static func name(of key: Key) -> String {
        switch key {
        case .character(" "): return "space"
        case .character(let c): return String(c)
        case .enter: return "enter"
        case .tab: return "tab"
        case .backspace: return "backspace"
        case .escape: return "esc"
        case .delete: return "delete"
        case .insert: return "insert"
        case .up: return "up"
        case .down: return "down"
        case .left: return "left"
        case .right: return "right"
        case .home: return "home"
        case .end: return "end"
        case .pageUp: return "pgup"
        case .pageDown: return "pgdn"
        case .function(let n): return "f\(n)"
        }
    }
}

/// Why a key chord name did not parse.
public struct KeyChordParseError: Error, Hashable, Sendable, CustomStringConvertible {
    public let text: String
    public let reason: String

    public var description: String { "bad key '\(text)': \(reason)" }
}
