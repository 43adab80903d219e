import InspectorCore
import TUICore

/// What a prompt is for.
public enum PromptKind: String, Hashable, Sendable {
    case filter, search, command, inject, save

    var label: String {
        switch self {
        case .filter: "filter: "
        case .search: "search: "
        case .command: ":"
        case .inject: "inject: "
        case .save: "save to: "
        }
    }
}

/// A one-line editor for the bottom prompt: insert, delete, move, history, completion.
struct PromptState: Hashable {
    var kind: PromptKind
    var text: [Character]
    var cursor: Int
    /// How many entries back in history the text came from (0: the user's own text).
    var historyStep = 0
    var draft: [Character] = []
    /// A parse problem of the current text (filters and searches are checked as you type).
    var error: FilterError?

    init(kind: PromptKind, text: String = "") {
        self.kind = kind
        self.text = Array(text)
        self.cursor = self.text.count
    }

    var string: String { String(text) }

    enum Outcome: Equatable {
        case editing
        case submit(String)
        case cancel
    }

    /// Applies an editing key. `history` is the list for this prompt; `complete` gives completions for
    /// the text so far.
    mutating func handle(_ key: KeyChord, history: History, complete: (String) -> [String]) -> Outcome {
        let k = key.description
        switch k {
        case "enter": return .submit(string)
        case "esc", "ctrl-c", "ctrl-g": return .cancel
        case "backspace", "ctrl-h":
            if cursor > 0 {
                text.remove(at: cursor - 1)
                cursor -= 1
            } else if text.isEmpty {
                return .cancel
            }
        case "delete", "ctrl-d":
            if cursor < text.count { text.remove(at: cursor) }
        case "left", "ctrl-b": cursor = max(0, cursor - 1)
        case "right", "ctrl-f": cursor = min(text.count, cursor + 1)
        case "home", "ctrl-a": cursor = 0
        case "end", "ctrl-e": cursor = text.count
        case "ctrl-u":
            text.removeSubrange(0..<cursor)
            cursor = 0
        case "ctrl-k": text.removeSubrange(cursor..<text.count)
        case "ctrl-w":
            var start = cursor
            while start > 0, text[start - 1] == " " { start -= 1 }
            while start > 0, text[start - 1] != " " { start -= 1 }
            text.removeSubrange(start..<cursor)
            cursor = start
        case "up", "ctrl-p": recall(history, step: historyStep + 1)
        case "down", "ctrl-n": recall(history, step: historyStep - 1)
        case "tab":
            let candidates = complete(String(text[..<cursor]))
            if let first = candidates.first {
                let common = candidates.dropFirst().reduce(first) { $0.sharedPrefix(with: $1) }
                let replacement = Array(common.count > cursor ? common : first)
                text = replacement + text[cursor...]
                cursor = replacement.count
            }
        default:
            if case .character(let c) = key.key, key.modifiers.subtracting(.shift).isEmpty {
                text.insert(c, at: cursor)
                cursor += 1
                historyStep = 0
            }
        }
        return .editing
    }

    private mutating func recall(_ history: History, step: Int) {
        if step == 0 {
            text = draft
        } else if let entry = history.entry(stepsBack: step) {
            if historyStep == 0 { draft = text }
            text = Array(entry)
        } else {
            return
        }
        historyStep = step
        cursor = text.count
    }

    /// Draws the prompt on one row; returns the cursor's column. A filter error's column is underlined.
    func draw(into canvas: inout Canvas, y: Int, theme: Theme) -> Int {
        canvas.fillRow(y, role: .prompt, theme: theme)
        let x0 = canvas.draw(kind.label, role: .prompt, y: y, theme: theme)
        // Scroll long text so the cursor stays visible.
        let available = max(1, canvas.width - x0 - 1)
        var skip = 0
        while skip < cursor, String(text[skip..<cursor]).displayWidth > available { skip += 1 }
        let shown = Array(text[skip...])
        canvas.draw(String(shown), role: .prompt, x: x0, y: y, theme: theme)
        if let error {
            let column = error.column - 1 - skip
            if column >= 0, column <= shown.count {
                let x = x0 + String(shown[..<column]).displayWidth
                let mark = column < shown.count ? String(shown[column]) : " "
                canvas.draw(mark, role: .promptError, x: x, y: y, theme: theme, overlay: Style(attrs: .underline))
            }
        }
        return x0 + String(text[skip..<cursor]).displayWidth
    }
}

extension String {
    /// The longest common prefix (by characters).
    func sharedPrefix(with other: String) -> String {
        var out = ""
        for (a, b) in zip(self, other) {
            guard a == b else { break }
            out.append(a)
        }
        return out
    }
}
