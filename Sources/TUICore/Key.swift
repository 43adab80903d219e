/// A key, without modifiers. `KeyChord` adds ctrl/alt/shift.
public enum Key: Hashable, Sendable {
    /// A printable character (never a control character: those are chords such as `ctrl-a`,
    /// `enter`, `tab`, `esc`, `backspace`).
    case character(Character)
    case enter, tab, backspace, escape, delete, insert
    case up, down, left, right
    case home, end, pageUp, pageDown
    /// F1 … F63 (`function(1)` is F1).
    case function(Int)
}

/// Modifier keys held with a key.
public struct Modifiers: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let ctrl = Modifiers(rawValue: 1 << 0)
    public static let alt = Modifiers(rawValue: 1 << 1)
    public static let shift = Modifiers(rawValue: 1 << 2)
}
