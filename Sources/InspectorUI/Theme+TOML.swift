import InspectorCore
import TOMLKit
import TUICore

/// Why a theme could not be loaded.
public struct ThemeError: Error, Hashable, Sendable, CustomStringConvertible {
    public var source: String
    public var message: String
    public init(source: String, message: String) { self.source = source; self.message = message }
    public var description: String { "theme \(source): \(message)" }
}

extension Theme {
    /// Parses a theme file:
    ///
    /// ```toml
    /// name = "dark"
    /// description = "light text on a dark background"
    /// [roles]
    /// normal = { fg = "default", bg = "default" }
    /// header = { fg = "black", bg = "cyan", attrs = ["bold"] }
    /// list.pending = { fg = "yellow" }          # dotted keys, or "list.pending" quoted
    /// ```
    /// Colours: `default`, ANSI names (`red`, `bright-red`), `color0`…`color255`, `#rrggbb`.
    /// Attributes: bold, dim, underline, reverse, italic, blink. Unknown roles, colours, attributes or
    /// keys are errors (typos should not pass silently); missing roles are allowed here and reported by
    /// `missingRoles`.
    public static func parse(toml text: String, source: String = "<theme>") throws(ThemeError) -> Theme {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ThemeError(source: source, message: "\(error.description) at line \(error.source.begin.line)")
        } catch {
            throw ThemeError(source: source, message: "\(error)")
        }
        let doc = Document(source: source, text: text)
        for key in table.keys where !["name", "description", "roles"].contains(key) {
            throw doc.error("unknown key '\(key)' (expected name, description, [roles])", at: key)
        }
        guard let name = table["name"]?.string else {
            throw doc.error(table["name"] == nil ? "missing name = \"…\"" : "name must be a string", at: "name")
        }
        let summary = table["description"]?.string ?? ""
        guard let roles = table["roles"]?.table else {
            throw doc.error(table["roles"] == nil ? "missing [roles] table" : "roles must be a table", at: "roles")
        }
        var styles: [ThemeRole: Style] = [:]
        try collect(roles, prefix: "", into: &styles, doc: doc)
        return Theme(name: name, summary: summary, styles: styles)
    }

    private static let styleKeys: Set<String> = ["fg", "bg", "attrs"]

    /// The file being read, so that an error about a value can say on which line it is.
    private struct Document {
        let source: String
        let text: String

        /// An error about the value of the dotted key `path` (from the document's top), with its line
        /// when it can be found; `last`: its last occurrence (a value given twice).
        func error(_ message: String, at path: String?, last: Bool = false) -> ThemeError {
            guard let path, let line = TOMLKeyLines.line(of: path, in: text, last: last) else {
                return ThemeError(source: source, message: message)
            }
            return ThemeError(source: source, message: "\(message) at line \(line)")
        }
    }

    /// Walks `[roles]`: a table named after a role is that role's style (its sub-tables, if any, are
    /// longer role names: `status` → `status.error`); any other table is a level of dotted role names
    /// (`list` → `list.pending`).
    private static func collect(_ table: TOMLTable, prefix: String, into styles: inout [ThemeRole: Style],
                                doc: Document) throws(ThemeError) {
        for key in table.keys {
            let name = prefix.isEmpty ? key : prefix + "." + key
            guard let value = table[key]?.table else {
                if prefix.isEmpty || ThemeRole(rawValue: prefix) == nil {
                    throw doc.error("role \(name) must be a table like { fg = \"red\" }", at: "roles.\(name)")
                }
                continue  // a style key of the enclosing role, read by `style`
            }
            let subTables = value.keys.filter { value[$0]?.table != nil }
            if ThemeRole(rawValue: name) != nil {
                let bad = Set(value.keys).subtracting(styleKeys).subtracting(subTables).sorted()
                guard bad.isEmpty else {
                    throw doc.error("role \(name): unknown key(s) \(bad.joined(separator: ", ")) (use fg, bg, attrs)",
                                    at: "roles.\(name).\(bad[0])")
                }
                if styles[ThemeRole(rawValue: name)!] != nil {
                    throw doc.error("role \(name) is set twice", at: "roles.\(name)", last: true)
                }
                styles[ThemeRole(rawValue: name)!] = try style(value, role: name, doc: doc)
                if !subTables.isEmpty { try collect(value, prefix: name, into: &styles, doc: doc) }
            } else if !value.keys.isEmpty, subTables.count == value.keys.count {
                try collect(value, prefix: name, into: &styles, doc: doc)
            } else {
                throw doc.error("unknown role '\(name)'", at: "roles.\(name)")
            }
        }
    }

    private static func style(_ t: TOMLTable, role: String, doc: Document) throws(ThemeError) -> Style {
        func color(_ key: String) throws(ThemeError) -> Color {
            guard let value = t[key] else { return .default }
            guard let text = value.string, let c = Color(text) else {
                throw doc.error("role \(role): bad \(key) colour \(value.debugDescription)", at: "roles.\(role).\(key)")
            }
            return c
        }
        var attrs: Attributes = []
        if let value = t["attrs"] {
            guard let array = value.array else {
                throw doc.error("role \(role): attrs must be a list like [\"bold\"]", at: "roles.\(role).attrs")
            }
            for item in array {
                guard let name = item.string, let a = Attributes(name: name) else {
                    throw doc.error("role \(role): unknown attribute \(item.debugDescription)", at: "roles.\(role).attrs")
                }
                attrs.insert(a)
            }
        }
        let (fg, bg) = (try color("fg"), try color("bg"))
        if fg == bg && fg != .default {
            throw doc.error("role \(role): fg and bg are both \(fg): its text would not show", at: "roles.\(role).bg")
        }
        return Style(fg: fg, bg: bg, attrs: attrs)
    }

    /// The theme as TOML, every role in `ThemeRole` order (used to write new themes).
    public var toml: String {
        var out = "name = \"\(name)\"\n"
        if !summary.isEmpty { out += "description = \"\(summary)\"\n" }
        out += "\n[roles]\n"
        for role in ThemeRole.allCases {
            let s = style(role)
            var parts: [String] = []
            if s.fg != .default { parts.append("fg = \"\(s.fg)\"") }
            if s.bg != .default { parts.append("bg = \"\(s.bg)\"") }
            if !s.attrs.isEmpty { parts.append("attrs = [" + s.attrs.names.map { "\"\($0)\"" }.joined(separator: ", ") + "]") }
            out += "\"\(role.rawValue)\" = { \(parts.joined(separator: ", ")) }\n"
        }
        return out
    }
}
