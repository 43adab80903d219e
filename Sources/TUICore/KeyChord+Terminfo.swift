/// Names of extended (modified) keys as terminfo reports them.
extension KeyChord {
    /// The chord for an xterm-style extended terminfo key name such as `kUP5` (ctrl-up),
    /// `kRIT3` (alt-right), `kDN2` (shift-down), `kHOM6` (ctrl-shift-home), `kNXT5`
    /// (ctrl-pgdn), `kDC5` (ctrl-delete). The digit is xterm's modifier parameter:
    /// 1 + (shift ? 1 : 0) + (alt ? 2 : 0) + (ctrl ? 4 : 0). Nil for any other name.
    public init?(terminfoName name: String) {
        guard name.hasPrefix("k"), name.count >= 3, let last = name.last, let digit = last.wholeNumberValue,
              last.isASCII, (2...8).contains(digit) else { return nil }
        let base = name.dropFirst().dropLast()
        let keys: [Substring: Key] = [
            "UP": .up, "DN": .down, "LFT": .left, "RIT": .right, "HOM": .home, "END": .end,
            "NXT": .pageDown, "PRV": .pageUp, "DC": .delete, "IC": .insert,
        ]
        guard let key = keys[base] else { return nil }
        let bits = digit - 1
        var modifiers: Modifiers = []
        if bits & 1 != 0 { modifiers.insert(.shift) }
        if bits & 2 != 0 { modifiers.insert(.alt) }
        if bits & 4 != 0 { modifiers.insert(.ctrl) }
        self.init(key, modifiers: modifiers)
    }

    /// Escape sequences for Home and End that terminals send whatever their terminfo entry says: the VT220
    /// family's `ESC [ 1 ~` / `ESC [ 4 ~` (tmux and screen send these inside, even under
    /// TERM=xterm-256color, whose entry names `ESC O H` / `ESC O F`) and rxvt's `ESC [ 7 ~` / `ESC [ 8 ~`.
    /// A backend that decodes keys from terminfo teaches it these where the entry names none.
    public static let homeEndSequences: [(sequence: String, key: Key)] = [
        ("\u{1B}[1~", .home), ("\u{1B}[4~", .end), ("\u{1B}[7~", .home), ("\u{1B}[8~", .end),
    ]
}
