import CNCursesW
import TUICore

extension CursesBackend {
    /// A character read from the terminal (not a curses key code).
    func characterEvent(_ code: wint_t) -> InputEvent? {
        guard let scalar = Unicode.Scalar(UInt32(code)) else { return nil }
        if scalar == "\u{1B}" {
            return escapeEvent()
        }
        return KeyChord(terminalInput: scalar).map(InputEvent.key)
    }

    /// After ESC: if another key is already waiting it was sent with ESC (alt/meta
    /// prefix), otherwise ESC was pressed alone (curses already waited `escapeDelay`).
    private func escapeEvent() -> InputEvent {
        wtimeout(ns_stdscr(), 0)
        var next: wint_t = 0
        switch wget_wch(ns_stdscr(), &next) {
        case OK:
            if let scalar = Unicode.Scalar(UInt32(next)), scalar != "\u{1B}",
               let chord = KeyChord(terminalInput: scalar) {
                return .key(KeyChord(chord.key, modifiers: chord.modifiers.union(.alt)))
            }
            unget_wch(wchar_t(bitPattern: next))
        case KEY_CODE_YES:
            if case .key(let chord)? = keyCodeEvent(Int32(bitPattern: next)) {
                return .key(KeyChord(chord.key, modifiers: chord.modifiers.union(.alt)))
            }
            ungetch(Int32(bitPattern: next))
        default:
            break
        }
        return .key(.escape)
    }

    /// A curses key code (KEY_*), including resize and mouse reports.
    func keyCodeEvent(_ code: Int32) -> InputEvent? {
        switch code {
        case KEY_RESIZE: return .resize(size)
        case KEY_MOUSE: return mouseEvent()
        default: break
        }
        if code > ns_key_f(0), code <= ns_key_f(63) {
            return .key(KeyChord(.function(Int(code - ns_key_f(0)))))
        }
        if let chord = CursesBackend.keyCodes[code] {
            return .key(chord)
        }
        // Extended keys defined by the terminal description (e.g. kUP5 for ctrl-up).
        if let name = keyname(code), let chord = KeyChord(terminfoName: String(cString: name)) {
            return .key(chord)
        }
        return nil
    }

    static let keyCodes: [Int32: KeyChord] = [
        KEY_UP: .up, KEY_DOWN: .down, KEY_LEFT: .left, KEY_RIGHT: .right,
        KEY_HOME: .home, KEY_END: .end, KEY_LL: .end,
        KEY_PPAGE: .pageUp, KEY_NPAGE: .pageDown,
        KEY_DC: .delete, KEY_IC: KeyChord(.insert), KEY_BACKSPACE: .backspace,
        KEY_ENTER: .enter, KEY_BTAB: .backTab,
        KEY_SR: KeyChord(.up, modifiers: .shift), KEY_SF: KeyChord(.down, modifiers: .shift),
        KEY_SLEFT: KeyChord(.left, modifiers: .shift), KEY_SRIGHT: KeyChord(.right, modifiers: .shift),
        KEY_SHOME: KeyChord(.home, modifiers: .shift), KEY_SEND: KeyChord(.end, modifiers: .shift),
        KEY_SDC: KeyChord(.delete, modifiers: .shift), KEY_SIC: KeyChord(.insert, modifiers: .shift),
        KEY_SNEXT: KeyChord(.pageDown, modifiers: .shift), KEY_SPREVIOUS: KeyChord(.pageUp, modifiers: .shift),
    ]

    private func mouseEvent() -> InputEvent? {
        var event = MEVENT()
        guard getmouse(&event) == OK else { return nil }
        let state = event.bstate
        var modifiers: Modifiers = []
        if state & ns_button_ctrl() != 0 { modifiers.insert(.ctrl) }
        if state & ns_button_shift() != 0 { modifiers.insert(.shift) }
        if state & ns_button_alt() != 0 { modifiers.insert(.alt) }
        let position = Point(x: Int(event.x), y: Int(event.y))
        let action: MouseEvent.Action
        if state & ns_button_pressed(4) != 0 {
            action = .scrollUp
        } else if state & ns_button_pressed(5) != 0 {
            action = .scrollDown
        } else if state & ns_button_double_clicked(1) != 0 {
            action = .doubleClick(.left)
        } else if state & (ns_button_pressed(1) | ns_button_clicked(1)) != 0 {
            action = .click(.left)
        } else if state & (ns_button_pressed(2) | ns_button_clicked(2)) != 0 {
            action = .click(.middle)
        } else if state & (ns_button_pressed(3) | ns_button_clicked(3)) != 0 {
            action = .click(.right)
        } else {
            return nil
        }
        return .mouse(MouseEvent(action, at: position, modifiers: modifiers))
    }
}
