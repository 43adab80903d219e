import Foundation
import InspectorCore
@testable import InspectorUI
import Testing
import TUICore

@Suite struct ThemeTests {
    static let themesDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Themes")

    static func themeFiles() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: themesDirectory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "toml" }.sorted { $0.path < $1.path }
    }

    @Test func everyThemeFileDefinesEveryRole() throws {
        let files = try Self.themeFiles()
        #expect(files.count >= 4)
        for file in files {
            let theme = try ThemeLoader.file(file.path)
            #expect(theme.missingRoles.isEmpty, "\(file.lastPathComponent) lacks \(theme.missingRoles.map(\.rawValue))")
            #expect(theme.name + ".toml" == file.lastPathComponent)
        }
    }

    @Test func theRequiredThemesExist() throws {
        let names = Set(try Self.themeFiles().map { $0.deletingPathExtension().lastPathComponent })
        #expect(names.isSuperset(of: ["dark", "light", "high-contrast", "16color"]))
    }

    @Test func builtInThemesAreTheFiles() throws {
        for file in try Self.themeFiles() {
            let name = file.deletingPathExtension().lastPathComponent
            let builtIn = BuiltinThemes.sources.first { $0.name == name }
            #expect(builtIn != nil, "\(name) is not built in")
            let text = try String(contentsOf: file, encoding: .utf8)
            #expect(builtIn?.toml == String(text.dropLast(text.hasSuffix("\n") ? 1 : 0)),
                    "\(name): BuiltinThemes.swift is stale; regenerate it from Themes/")
        }
        #expect(BuiltinThemes.sources.count == (try Self.themeFiles()).count)
    }

    @Test func sixteenColourThemeUsesOnlyANSIColours() throws {
        let theme = try ThemeLoader.file(Self.themesDirectory.appendingPathComponent("16color.toml").path)
        for role in ThemeRole.allCases {
            let s = theme.style(role)
            for c in [s.fg, s.bg] {
                #expect(c == .default || c.ansiIndex != nil, "\(role): \(c)")
            }
        }
    }

    @Test func themesTellStatesApart() throws {
        for name in ThemeLoader.builtinNames {
            let theme = try #require(ThemeLoader.builtin(name))
            let states: [ThemeRole] = [.listPending, .listOk, .listError, .listFlushed, .listInjected, .listAnomaly]
            let styles = states.map { theme.resolved($0) }
            #expect(Set(styles).count == states.count, "\(name): two row states look the same")
            let selected = theme.resolved(.listOk).merged(with: theme.style(.listSelected))
            #expect(selected != theme.resolved(.listOk), "\(name): the selection is invisible")
        }
    }

    @Test func noColorDropsColoursButKeepsDistinctions() throws {
        let theme = try ThemeLoader.load(nil, environment: ["NO_COLOR": "1"], searchDirectories: [])
        for role in ThemeRole.allCases {
            #expect(theme.style(role).fg == .default && theme.style(role).bg == .default, "\(role)")
        }
        #expect(theme.style(.listSelected).attrs.contains(.reverse))
        #expect(theme.style(.hexHighlight).attrs.contains(.reverse))
        let colored = try ThemeLoader.load(nil, environment: ["NO_COLOR": ""], searchDirectories: [])
        #expect(colored.style(.listError).fg != .default)
    }

    @Test func loadByNameOrPath() throws {
        #expect(try ThemeLoader.load("light", environment: [:], searchDirectories: []).name == "light")
        let path = Self.themesDirectory.appendingPathComponent("high-contrast.toml").path
        #expect(try ThemeLoader.load(path, environment: [:], searchDirectories: []).name == "high-contrast")
        #expect(throws: ThemeError.self) { try ThemeLoader.load("nope", environment: [:], searchDirectories: []) }
        // A user directory wins over the built-in theme of the same name.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ninescope-themes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "name = \"mine\"\n[roles]\nnormal = { fg = \"red\" }\n".write(to: dir.appendingPathComponent("dark.toml"),
                                                                          atomically: true, encoding: .utf8)
        let mine = try ThemeLoader.load("dark", environment: [:], searchDirectories: [dir.path])
        #expect(mine.name == "mine")
        #expect(mine.style(.listError).fg == .red)  // missing roles fall back to normal
    }

    /// A theme file that cannot be read names the file and the plain reason; a name that is nowhere says
    /// where it was looked for.
    @Test func loadErrorsSayWhereAndWhy() {
        func message(_ spec: String, _ dirs: [String]) -> String {
            do {
                _ = try ThemeLoader.load(spec, environment: [:], searchDirectories: dirs)
                return ""
            } catch {
                return error.description
            }
        }
        #expect(message("/nonexistent/dark.toml", [])
                == "theme /nonexistent/dark.toml: cannot read: No such file or directory")
        #expect(message("/tmp/", []) == "theme /tmp/: cannot read: Is a directory")
        let missing = message("nope", ["/nonexistent/themes"])
        #expect(missing.contains("no nope.toml in /nonexistent/themes"), "\(missing)")
        #expect(missing.contains("$NINESCOPE_THEMES") && missing.contains("~/.config/ninescope/themes"), "\(missing)")
        #expect(missing.contains("built in: "), "\(missing)")
    }

    /// Saving (`:w`) to where no file can be written says why, in the C library's words.
    @Test func writeErrorsGiveTheReason() throws {
        func failure(_ path: String) -> String {
            do {
                try FileAccess.write(Data("x".utf8), toFile: path)
                return ""
            } catch {
                return error.description
            }
        }
        #expect(failure("/nonexistent/dir/x.pcapng") == "cannot write /nonexistent/dir/x.pcapng: No such file or directory")
        #expect(failure("/tmp") == "cannot write /tmp: Is a directory")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ninescope-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try FileAccess.write(Data("saved".utf8), toFile: path)
        #expect(try FileAccess.readText(path) == "saved")
    }

    @Test func parseErrorsNameTheProblem() {
        func message(_ toml: String) -> String? {
            do {
                _ = try Theme.parse(toml: toml)
                return nil
            } catch {
                return error.message
            }
        }
        #expect(message("name = \"x\"\n[roles]\n\"list.bogus\" = { fg = \"red\" }")?.contains("unknown role 'list.bogus'") == true)
        #expect(message("name = \"x\"\n[roles]\nnormal = { fg = \"purpleish\" }")?.contains("bad fg colour") == true)
        #expect(message("name = \"x\"\n[roles]\nnormal = { attrs = [\"blinky\"] }")?.contains("unknown attribute") == true)
        // A role whose text would not show (the same fg and bg) is refused; default on both is the terminal's.
        #expect(message("name = \"x\"\n[roles]\nnormal = { fg = \"red\", bg = \"red\" }")?
                    .contains("role normal: fg and bg are both red") == true)
        #expect(message("name = \"x\"\n[roles]\nnormal = { fg = \"default\", bg = \"default\" }") == nil)
        #expect(message("name = \"x\"\n[roles]\nnormal = { colour = \"red\" }")?.contains("unknown key(s) colour") == true)
        #expect(message("[roles]\nnormal = {}")?.contains("missing name") == true)
        #expect(message("name = \"x\"\ncolours = 16\n[roles]")?.contains("unknown key 'colours'") == true)
        #expect(message("name = \"x\"\n[roles\n")?.contains("line") == true)
    }

    /// An error about a value the TOML parser accepted names the line it is on, however the file spells
    /// the role (inline table, `[roles.x]` section, dotted or quoted key), as a syntax error does.
    @Test func valueErrorsNameTheirLine() {
        func message(_ toml: String) -> String {
            do {
                _ = try Theme.parse(toml: toml, source: "t.toml")
                return "accepted"
            } catch {
                return error.description
            }
        }
        let head = "name = \"x\"\n# a comment = 1\n\n[roles]\nnormal = { fg = \"default\" }\n"
        #expect(message(head + "header = { fg = \"purpleish\" }\n")
                == "theme t.toml: role header: bad fg colour \"purpleish\" at line 6")
        #expect(message(head + "[roles.header]\nfg = \"red\"\n  bg = \"nope\"  # typo\n")
                == "theme t.toml: role header: bad bg colour \"nope\" at line 8")
        #expect(message(head + "list.pending = { attrs = [\"blinky\"] }\n")
                .hasSuffix("unknown attribute \"blinky\" at line 6"))
        #expect(message(head + "\"list.bogus\" = { fg = \"red\" }\n").hasSuffix("unknown role 'list.bogus' at line 6"))
        #expect(message(head + "[roles.list]\npending = { fg = \"red\" }\nbogus = { fg = \"red\" }\n")
                .hasSuffix("unknown role 'list.bogus' at line 8"))
        #expect(message(head + "header = { colour = \"red\" }\n").hasSuffix("unknown key(s) colour (use fg, bg, attrs) at line 6"))
        #expect(message(head + "header = { fg = \"red\", bg = \"red\" }\n").hasSuffix("its text would not show at line 6"))
        #expect(message(head + "list.pending = { fg = \"red\" }\n\"list.pending\" = { fg = \"blue\" }\n")
                .hasSuffix("role list.pending is set twice at line 7"))
        #expect(message("name = \"x\"\n\ncolours = 16\n[roles]\n") == "theme t.toml: unknown key 'colours' (expected name, description, [roles]) at line 3")
        #expect(message("name = 3\n[roles]\n") == "theme t.toml: name must be a string at line 1")
        #expect(message("[roles]\nnormal = {}") == "theme t.toml: missing name = \"…\"")
    }

    @Test func dottedKeysWorkToo() throws {
        let theme = try Theme.parse(toml: "name = \"d\"\n[roles]\nlist.error = { fg = \"red\", attrs = [\"bold\"] }\n")
        #expect(theme.style(.listError) == Style(fg: .red, attrs: .bold))
    }

    @Test func tomlRoundTrips() throws {
        for name in ThemeLoader.builtinNames {
            let theme = try #require(ThemeLoader.builtin(name))
            let again = try Theme.parse(toml: theme.toml)
            #expect(again.styles == theme.styles, "\(name)")
        }
    }
}
