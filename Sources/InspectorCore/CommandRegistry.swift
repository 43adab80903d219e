import Collections

/// Every inspector command and the one key map, as data. Key bindings, the `:` prompt and the help
/// screen all read this registry.
public struct CommandRegistry: Sendable {
    public let commands: OrderedDictionary<CommandName, Command>
    public let bindings: [KeyBinding]
    private let byKey: [String: CommandName]
    private let byAlias: [String: CommandName]

    /// Builds a registry. Later bindings of the same key win (so a user map can override).
    public init(commands: [Command], bindings: [KeyBinding]) {
        var table: OrderedDictionary<CommandName, Command> = [:]
        var aliases: [String: CommandName] = [:]
        for c in commands {
            table[c.name] = c
            aliases[c.name.rawValue.lowercased()] = c.name
            for a in c.aliases { aliases[a.lowercased()] = c.name }
        }
        var keys: [String: CommandName] = [:]
        for b in bindings { keys[b.key] = b.command }
        self.commands = table
        self.bindings = bindings
        self.byKey = keys
        self.byAlias = aliases
    }

    public func command(named name: CommandName) -> Command? { commands[name] }

    /// The command bound to a key (by its canonical chord text), if any.
    public func command(forKey key: String) -> CommandName? { byKey[key] }

    /// The keys bound to a command, in binding order.
    public func keys(for name: CommandName) -> [String] {
        bindings.filter { $0.command == name && byKey[$0.key] == name }.map(\.key)
    }

    /// The command a word typed at the `:` prompt names (full name or alias, any case).
    public func command(forWord word: String) -> CommandName? { byAlias[word.lowercased()] }

    /// Every name and alias the `:` prompt accepts, sorted (for completion).
    public var promptWords: [String] {
        commands.values.flatMap { [$0.name.rawValue] + $0.aliases }.sorted()
    }

    // MARK: - The `:` prompt

    /// What a line typed at the `:` prompt asks for.
    public enum PromptAction: Hashable, Sendable {
        case none
        /// A command, with the rest of the line as its argument (nil when none was typed).
        case command(CommandName, argument: String?)
        /// Not a command: a request to inject, in the REPL's grammar (`walk 0 100 etc passwd`).
        case inject(String)
    }

    /// Resolves a `:` line. The first word names a command (full name or alias) — unless that command
    /// takes no argument and one was given, in which case the line is a request to inject (so
    /// `:flush` flushes the selected exchange while `:flush 3` injects `Tflush oldtag=3`).
    public func resolve(_ line: String) -> PromptAction {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        guard !trimmed.allSatisfy({ $0 == " " || $0 == "\t" }) else { return .none }
        let word = trimmed.prefix { $0 != " " && $0 != "\t" }
        let rest = trimmed.dropFirst(word.count).drop { $0 == " " || $0 == "\t" }
        let argument = rest.isEmpty ? nil : String(rest.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
        if let name = command(forWord: String(word)), let spec = commands[name] {
            if spec.argument != nil || argument == nil { return .command(name, argument: argument) }
        }
        return .inject(String(trimmed))
    }

    // MARK: - Help

    public struct HelpEntry: Hashable, Sendable {
        public var keys: [String]
        public var command: CommandName
        public var usage: String
        public var summary: String
    }

    public struct HelpSection: Hashable, Sendable {
        public var title: String
        public var entries: [HelpEntry]
    }

    /// Help generated from the registry: one section per group, commands in registry order.
    public var helpSections: [HelpSection] {
        CommandGroup.allCases.compactMap { group in
            let entries = commands.values.filter { $0.group == group }.map { c in
                var usage = ":" + (c.aliases.first ?? c.name.rawValue)
                if let arg = c.argument { usage += c.argumentOptional ? " [\(arg)]" : " \(arg)" }
                return HelpEntry(keys: keys(for: c.name), command: c.name, usage: usage, summary: c.summary)
            }
            return entries.isEmpty ? nil : HelpSection(title: group.rawValue, entries: entries)
        }
    }

    /// Lines describing the filter language, for the help screen.
    public static let filterHelp: [(syntax: String, meaning: String)] = [
        ("Twalk  Rlerror", "request or reply of that type"),
        ("fid:3  tag:5  conn:2", "fid named by the request, tag, connection"),
        ("path:/usr", "fid path /usr or below it"),
        ("user:nobody  user:65534", "the request's fid is that user's (uname or n_uname)"),
        ("errno:ENOENT", "error reply with that errno"),
        ("error pending flushed", "state of the exchange"),
        ("injected anomaly ok malformed cut", "more states (cut: a frame the capture cut)"),
        ("fault", "what a proxy --fault rule acted on"),
        ("anomaly:fid-leak", "named by an anomaly of that kind (the A view's)"),
        ("x:114-130  x:114-  x:114", "exchanges by number: a range, from one on, one"),
        ("latency>10ms", "also < <= >= =; units ns us ms s m h, as shown: 1m23s"),
        ("size>=64k", "either message's bytes; also k m g, as shown: 1.22K"),
        ("word  \"two words\"", "text in either message's line"),
        ("a and b, a b, a or b", "combine; not a, !a, ( … )"),
    ]
}

extension CommandRegistry {
    /// The inspector's commands.
    public static let standardCommands: [Command] = [
        Command(.listDown, "Select the next item", group: .moving, aliases: ["down"]),
        Command(.listUp, "Select the previous item", group: .moving, aliases: ["up"]),
        Command(.listPageDown, "Page down", group: .moving),
        Command(.listPageUp, "Page up", group: .moving),
        Command(.listHalfPageDown, "Half a page down", group: .moving),
        Command(.listHalfPageUp, "Half a page up", group: .moving),
        Command(.listTop, "Go to the first item", group: .moving, aliases: ["top"]),
        Command(.listBottom, "Go to the last item and follow new exchanges", group: .moving, aliases: ["bottom"]),
        Command(.listOpen, "Open: exchange detail, or a table row's exchanges",
                group: .moving, aliases: ["open"]),
        Command(.exchangeNext, "Next exchange (also from the detail view)", group: .moving, aliases: ["next"]),
        Command(.exchangePrevious, "Previous exchange (also from the detail view)", group: .moving, aliases: ["prev"]),
        Command(.exchangeGoto, "Go to message #N (decode's numbers) or exchange xN",
                group: .moving, aliases: ["goto", "go"], argument: "#N|xN"),
        Command(.viewHexToggle, "Show or hide the hex dump in the detail view", group: .views, aliases: ["hex"]),
        Command(.viewCycle, "Detail view: jump between request and reply", group: .views, aliases: ["cycle"]),
        Command(.viewFids, "Fid table of the selected connection", group: .views, aliases: ["fids"]),
        Command(.viewStats, "Statistics per message type and connection", group: .views, aliases: ["stats"]),
        Command(.viewAnomalies, "Protocol anomalies found by the tracker", group: .views, aliases: ["anomalies"]),
        Command(.viewConnections, "Connections (err: exchanges the filter error finds)", group: .views, aliases: ["connections", "conns"]),
        Command(.viewHelp, "This help", group: .views, aliases: ["help"]),
        Command(.viewBack, "Close the view (in the list: clear the filter)", group: .views, aliases: ["back"]),
        Command(.viewClose, "Close the view; quit from the exchange list", group: .views, aliases: ["close"]),
        Command(.viewTheme, "Switch the colour theme", group: .views, aliases: ["theme"], argument: "NAME|PATH",
                argumentOptional: false),
        Command(.exchangeFlush, "Send Tflush for the selected pending exchange", group: .exchanges,
                aliases: ["flush"]),
        Command(.exchangeInject, "Inject a request (REPL grammar) into the connection",
                group: .exchanges, aliases: ["inject"], argument: "REQUEST"),
        Command(.captureSave, "Save the session to a pcapng capture (not over a file that exists)",
                group: .exchanges, aliases: ["save", "w"], argument: "PATH"),
        Command(.captureSaveOver, "Save the session to a pcapng capture, over the file if it exists",
                group: .exchanges, aliases: ["save!", "w!"], argument: "PATH"),
        Command(.proxyFaults, "Show, set (as proxy --fault) or turn off fault rules",
                group: .exchanges, aliases: ["fault", "faults"], argument: "SPEC|off"),
        Command(.promptCommand, "Run a command, or inject: :walk 0 100 etc passwd",
                group: .exchanges),
        Command(.filterEdit, "Filter the exchange list (empty: show all)", group: .filtering, aliases: ["filter"],
                argument: "EXPR"),
        Command(.filterClear, "Clear the filter", group: .filtering, aliases: ["nofilter"]),
        Command(.searchEdit, "Search: jump to the next exchange matching EXPR", group: .filtering,
                aliases: ["search"], argument: "EXPR"),
        Command(.searchNext, "Jump to the next match of the search", group: .filtering),
        Command(.searchPrevious, "Jump to the previous match of the search", group: .filtering),
        Command(.appRedraw, "Redraw the screen", group: .app, aliases: ["redraw"]),
        Command(.appQuit, "Quit", group: .app, aliases: ["quit", "q"]),
        Command(.appSuspend, "Stop ninescope and go back to the shell (fg brings it back)", group: .app,
                aliases: ["suspend"]),
    ]

    /// The key map: vi keys and arrows.
    public static let standardBindings: [KeyBinding] = [
        KeyBinding("j", .listDown), KeyBinding("down", .listDown),
        KeyBinding("k", .listUp), KeyBinding("up", .listUp),
        KeyBinding("ctrl-f", .listPageDown), KeyBinding("pgdn", .listPageDown), KeyBinding("space", .listPageDown),
        KeyBinding("ctrl-b", .listPageUp), KeyBinding("pgup", .listPageUp),
        KeyBinding("ctrl-d", .listHalfPageDown), KeyBinding("ctrl-u", .listHalfPageUp),
        KeyBinding("g", .listTop), KeyBinding("home", .listTop),
        KeyBinding("G", .listBottom), KeyBinding("end", .listBottom),
        KeyBinding("enter", .listOpen), KeyBinding("right", .listOpen),
        KeyBinding("J", .exchangeNext), KeyBinding("K", .exchangePrevious), KeyBinding("ctrl-g", .exchangeGoto),
        KeyBinding("x", .viewHexToggle), KeyBinding("tab", .viewCycle), KeyBinding("shift-tab", .viewCycle),
        KeyBinding("F", .viewFids), KeyBinding("S", .viewStats), KeyBinding("A", .viewAnomalies),
        KeyBinding("C", .viewConnections), KeyBinding("?", .viewHelp), KeyBinding("f1", .viewHelp),
        KeyBinding("esc", .viewBack), KeyBinding("left", .viewBack), KeyBinding("backspace", .viewBack),
        KeyBinding("q", .viewClose),
        KeyBinding("f", .exchangeFlush), KeyBinding("i", .exchangeInject), KeyBinding("s", .captureSave),
        KeyBinding(":", .promptCommand),
        KeyBinding("/", .filterEdit), KeyBinding("c", .filterClear),
        KeyBinding("\\", .searchEdit), KeyBinding("n", .searchNext), KeyBinding("N", .searchPrevious),
        KeyBinding("ctrl-l", .appRedraw), KeyBinding("Q", .appQuit), KeyBinding("ctrl-c", .appQuit),
        KeyBinding("ctrl-z", .appSuspend),
    ]

    public static let standard = CommandRegistry(commands: standardCommands, bindings: standardBindings)
}
