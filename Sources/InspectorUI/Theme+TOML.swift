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
        for key in table.keys where !["name", "description", "roles"].contains(key) {
            throw ThemeError(source: source, message: "unknown key '\(key)' (expected name, description, [roles])")
        }
        guard let name = table["name"]?.string else {
            throw ThemeError(source: source, message: "missing name = \"…\"")
        }
        let summary = table["description"]?.string ?? ""
        guard let roles = table["roles"]?.table else {
            throw ThemeError(source: source, message: "missing [roles] table")
        }
        var styles: [ThemeRole: Style] = [:]
        try collect(roles, prefix: "", into: &styles, source: source)
        return Theme(name: name, summary: summary, styles: styles)
    }

    private static let styleKeys: Set<String> = ["fg", "bg", "attrs"]

    /// Walks `[roles]`: a table named after a role is that role's style (its sub-tables, if any, are
    /// longer role names: `status` → `status.error`); any other table is a level of dotted role names
    /// (`list` → `list.pending`).
    private static func collect(_ table: TOMLTable, prefix: String, into styles: inout [ThemeRole: Style],
                                source: String) throws(ThemeError) {
        for key in table.keys {
            let name = prefix.isEmpty ? key : prefix + "." + key
            guard let value = table[key]?.table else {
                if prefix.isEmpty || ThemeRole(rawValue: prefix) == nil {
                    throw ThemeError(source: source, message: "role \(name) must be a table like { fg = \"red\" }")
                }
                continue  // a style key of the enclosing role, read by `style`
            }
            let subTables = value.keys.filter { value[$0]?.table != nil }
            if ThemeRole(rawValue: name) != nil {
                let bad = Set(value.keys).subtracting(styleKeys).subtracting(subTables).sorted()
                guard bad.isEmpty else {
                    throw ThemeError(source: source,
                                     message: "role \(name): unknown key(s) \(bad.joined(separator: ", ")) (use fg, bg, attrs)")
                }
                if styles[ThemeRole(rawValue: name)!] != nil {
                    throw ThemeError(source: source, message: "role \(name) is set twice")
                }
                styles[ThemeRole(rawValue: name)!] = try style(value, role: name, source: source)
                if !subTables.isEmpty { try collect(value, prefix: name, into: &styles, source: source) }
            } else if !value.keys.isEmpty, subTables.count == value.keys.count {
                try collect(value, prefix: name, into: &styles, source: source)
            } else {
                throw ThemeError(source: source, message: "unknown role '\(name)'")
            }
        }
    }

    private static func style(_ t: TOMLTable, role: String, source: String) throws(ThemeError) -> Style {
        func color(_ key: String) throws(ThemeError) -> Color {
            guard let value = t[key] else { return .default }
            guard let text = value.string, let c = Color(text) else {
                throw ThemeError(source: source, message: "role \(role): bad \(key) colour \(value.debugDescription)")
            }
            return c
        }
        var attrs: Attributes = []
        if let value = t["attrs"] {
            guard let array = value.array else {
                throw ThemeError(source: source, message: "role \(role): attrs must be a list like [\"bold\"]")
            }
            for item in array {
                guard let name = item.string, let a = Attributes(name: name) else {
                    throw ThemeError(source: source, message: "role \(role): unknown attribute \(item.debugDescription)")
                }
                attrs.insert(a)
            }
        }
        let (fg, bg) = (try color("fg"), try color("bg"))
        if fg == bg && fg != .default {
            throw ThemeError(source: source, message: "role \(role): fg and bg are both \(fg): its text would not show")
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
