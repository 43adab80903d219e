import Foundation
import InspectorCore

/// Finds the theme `--theme NAME|PATH` asks for and applies `NO_COLOR`.
public enum ThemeLoader {
    /// The themes built into the binary (the same files as `Themes/`).
    public static var builtinNames: [String] { BuiltinThemes.sources.map(\.name) }

    public static let defaultName = "dark"

    /// A built-in theme by name.
    public static func builtin(_ name: String) -> Theme? {
        guard let source = BuiltinThemes.sources.first(where: { $0.name == name }) else { return nil }
        return try? Theme.parse(toml: source.toml, source: name)
    }

    /// The default theme (dark).
    public static var defaultTheme: Theme {
        builtin(defaultName) ?? Theme(name: "plain", styles: [:])
    }

    /// Resolves a theme:
    /// - nil: the default (`dark`);
    /// - a PATH (contains `/` or ends in `.toml`): that file;
    /// - a NAME: `NAME.toml` in `searchDirectories` (first found wins), else the built-in theme of that name.
    ///
    /// When `environment["NO_COLOR"]` is set and not empty (https://no-color.org), colours are dropped.
    public static func load(_ spec: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
                            searchDirectories: [String]? = nil) throws(ThemeError) -> Theme {
        let theme = try find(spec, searchDirectories: searchDirectories ?? defaultDirectories(environment))
        if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return theme.withoutColor() }
        return theme
    }

    /// `$NINESCOPE_THEMES`, then `$XDG_CONFIG_HOME/ninescope/themes` (or `~/.config/ninescope/themes`).
    public static func defaultDirectories(_ environment: [String: String]) -> [String] {
        var dirs: [String] = []
        if let d = environment["NINESCOPE_THEMES"], !d.isEmpty { dirs.append(d) }
        if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty {
            dirs.append(xdg + "/ninescope/themes")
        } else if let home = environment["HOME"], !home.isEmpty {
            dirs.append(home + "/.config/ninescope/themes")
        }
        return dirs
    }

    static func find(_ spec: String?, searchDirectories: [String]) throws(ThemeError) -> Theme {
        guard let spec, !spec.isEmpty else { return defaultTheme }
        if spec.contains("/") || spec.hasSuffix(".toml") { return try file(spec) }
        for dir in searchDirectories {
            let path = dir + "/" + spec + ".toml"
            if FileManager.default.fileExists(atPath: path) { return try file(path) }
        }
        if let theme = builtin(spec) { return theme }
        let looked = searchDirectories.isEmpty ? "no theme directory"
            : "no \(spec).toml in " + searchDirectories.joined(separator: ", ")
        throw ThemeError(source: spec, message: "no such theme (\(looked); a NAME is looked for as NAME.toml in "
                         + "$NINESCOPE_THEMES, then $XDG_CONFIG_HOME/ninescope/themes or ~/.config/ninescope/themes; "
                         + "built in: \(builtinNames.joined(separator: ", ")))")
    }

    /// Loads a theme file.
    public static func file(_ path: String) throws(ThemeError) -> Theme {
        let text: String
        do {
            text = try FileAccess.readText(path)
        } catch {
            throw ThemeError(source: path, message: "cannot read: \(error.reason)")
        }
        return try Theme.parse(toml: text, source: path)
    }
}
