import NinePWire

/// Help text, generated from `CommandSpec.all` and `MessageSchema.all`.
public enum GrammarHelp {
    /// One line per command: usage and summary.
    public static func overview() -> [String] {
        var lines = ["Requests (friendly form; the raw form Tname field=value… names every field):"]
        let width = CommandSpec.all.map { $0.usage.count }.max() ?? 0
        func line(_ c: CommandSpec) -> String {
            "  " + c.usage + String(repeating: " ", count: max(1, width - c.usage.count + 2)) + c.summary
        }
        lines += CommandSpec.requests.map(line)
        lines.append("Conveniences (print every message they send):")
        lines += CommandSpec.conveniences.map(line)
        lines.append("  stat PATH" + String(repeating: " ", count: max(1, width - 7)) + "walk, getattr (or Tstat), clunk")
        lines.append("REPL:")
        lines += CommandSpec.metas.map(line)
        lines.append("Every request also takes FIELD=VALUE words (the message's field names) and tag=N. A trailing &")
        lines.append("sends without waiting; a leading - lets a script go on after an error. Numbers: 10, 0x1f, 0755 (octal),")
        lines.append("-1 or ~0 (all ones). help COMMAND or help Tname/Rname shows a message's fields.")
        return lines
    }

    /// Details of a command or message name; nil when unknown.
    public static func topic(_ word: String) -> [String]? {
        if let type = MessageType(name: word), let schema = MessageSchema.schema(for: type) {
            return message(schema)
        }
        guard let spec = CommandSpec.named(word) else { return nil }
        var lines = ["usage: " + spec.fullUsage, "  " + spec.summary]
        if let schema = spec.schema {
            lines += message(schema).map { "  " + $0 }
        }
        return lines
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
