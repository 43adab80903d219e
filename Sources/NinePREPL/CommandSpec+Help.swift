import NinePWire
import TUICore

/// Help text, generated from `CommandSpec.all` and `MessageSchema.all`.
public enum GrammarHelp {
    /// One line per command: usage and summary. With the terminal's `width`, a summary that does not fit
    /// wraps under itself (or, on a terminal too narrow for both side by side, goes under its usage), and
    /// the closing paragraph fills the width; without one (a pipe, a script's log) each entry is one line.
    public static func overview(width: Int? = nil) -> [String] {
        let column = (CommandSpec.all.map { $0.usage.count }.max() ?? 0) + 4
        func fit(_ text: String, indent: Int) -> [String] { wrap(text, width: width, indent: indent) }
        func entry(_ head: String, _ summary: String) -> [String] {
            let padded = head + String(repeating: " ", count: max(1, column - head.count))
            guard let width else { return [padded + summary] }
            if column + 30 < width {
                let parts = summary.wrapped(toDisplayWidth: width - 1 - column)
                return [padded + parts[0]] + parts.dropFirst().map { String(repeating: " ", count: column) + $0 }
            }
            return fit(head, indent: 6) + summary.wrapped(toDisplayWidth: max(20, width - 7)).map { "      " + $0 }
        }
        func line(_ c: CommandSpec) -> [String] { entry("  " + c.usage, c.summary) }
        var lines = fit("Requests (friendly form; the raw form Tname field=value… names every field):", indent: 2)
        lines += CommandSpec.requests.flatMap(line)
        lines += fit("Conveniences (print every message they send):", indent: 2)
        lines += CommandSpec.conveniences.flatMap(line)
        lines += entry("  stat PATH", "walk, getattr (or Tstat), clunk")
        lines.append("REPL:")
        lines += CommandSpec.metas.flatMap(line)
        let closing = ["Every request also takes FIELD=VALUE words (the message's field names) and tag=N. A trailing &",
                       "sends without waiting; a leading - lets a script go on after an error. Numbers: 10, 0x1f, 0755 (octal),",
                       "-1 or ~0 (all ones). help COMMAND or help Tname/Rname shows a message's fields."]
        if let width {
            lines += closing.joined(separator: " ").wrapped(toDisplayWidth: max(20, width - 1))
        } else {
            lines += closing
        }
        return lines
    }

    /// Details of a command or message name; nil when unknown. With the terminal's `width`, a line that
    /// does not fit wraps, its continuation indented past the line's own indent.
    public static func topic(_ word: String, width: Int? = nil) -> [String]? {
        let lines: [String]
        if let type = MessageType(name: word), let schema = MessageSchema.schema(for: type) {
            lines = message(schema)
        } else if let spec = CommandSpec.named(word) {
            var all = ["usage: " + spec.fullUsage, "  " + spec.summary]
            if let schema = spec.schema {
                all += message(schema).map { "  " + $0 }
            }
            lines = all
        } else {
            return nil
        }
        return lines.flatMap { wrap($0, width: width, indent: $0.prefix { $0 == " " }.count + 4) }
    }

    /// `text` in lines that fit in `width` columns (one line when there is no width), each after the first
    /// indented by `indent`. The last column is left free: some terminals wrap a line that fills it.
    static func wrap(_ text: String, width: Int?, indent: Int) -> [String] {
        guard let width else { return [text] }
        let first = text.wrapped(toDisplayWidth: max(20, width - 1))
        guard first.count > 1 else { return first }
        let rest = first.dropFirst().joined(separator: " ").wrapped(toDisplayWidth: max(20, width - 1 - indent))
        return [first[0]] + rest.map { String(repeating: " ", count: indent) + $0 }
    }

    /// A message's fields with types, dialects and raw-form defaults.
    public static func message(_ schema: MessageSchema) -> [String] {
        let dialects = schema.type.dialects.sorted { $0.rawValue < $1.rawValue }.map(\.rawValue).joined(separator: ", ")
        var lines = ["\(schema.name) (code \(schema.type.rawValue); \(dialects))"
                     + (schema.isRequest ? "" : " — fields usable in expect")]
        for f in schema.fields {
            var s = "  \(f.name)"
            if !f.aliases.isEmpty { s += " (" + f.aliases.joined(separator: ", ") + ")" }
            s += ": " + f.type.expectation
            if let d = f.dialects { s += "; only in " + d.sorted { $0.rawValue < $1.rawValue }.map(\.rawValue).joined(separator: ", ") }
            if f.derived { s += "; computed" }
            if schema.isRequest && !f.derived {
                if let v = f.defaultValue, !f.note.contains("default") { s += "; default " + ValueFormatter.format(v, as: f.type) }
                else if f.note.isEmpty { s += "; required in the raw form" }
            }
            if !f.note.isEmpty { s += " — " + f.note }
            lines.append(s)
        }
        return lines
    }
}
