/// The name of an inspector command: `list.down`, `exchange.flush`, `view.hex.toggle`.
public struct CommandName: RawRepresentable, Hashable, Comparable, Sendable, ExpressibleByStringLiteral,
    CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }
    public static func < (a: CommandName, b: CommandName) -> Bool { a.rawValue < b.rawValue }
}

/// Help groups, in the order help shows them.
public enum CommandGroup: String, Hashable, Sendable, CaseIterable {
    case moving = "Moving"
    case views = "Views"
    case exchanges = "Acting on the session"
    case filtering = "Filter and search"
    case app = "Application"
}

/// One command: its name, what it does, how the `:` prompt may call it, and its argument if any.
public struct Command: Hashable, Sendable {
    public var name: CommandName
    public var summary: String
    public var group: CommandGroup
    /// Short names accepted at the `:` prompt besides the full name (`stats`, `q`).
    public var aliases: [String]
    /// The argument's placeholder (`EXPR`, `PATH`, `REQUEST`), nil when the command takes none.
    public var argument: String?
    /// For commands with an argument: whether it may be omitted (the app then asks for it).
    public var argumentOptional: Bool

    public init(_ name: CommandName, _ summary: String, group: CommandGroup, aliases: [String] = [],
                argument: String? = nil, argumentOptional: Bool = true) {
        self.name = name; self.summary = summary; self.group = group; self.aliases = aliases
        self.argument = argument; self.argumentOptional = argumentOptional
    }
}

/// A key bound to a command. `key` is a key chord's canonical text (`j`, `G`, `ctrl-f`, `pgdn`,
/// `shift-tab`, `f1`, `space`), as TUICore's `KeyChord` prints it.
public struct KeyBinding: Hashable, Sendable {
    public var key: String
    public var command: CommandName
    public init(_ key: String, _ command: CommandName) { self.key = key; self.command = command }
}

extension CommandName {
    public static let listDown: CommandName = "list.down"
    public static let listUp: CommandName = "list.up"
    public static let listPageDown: CommandName = "list.pageDown"
    public static let listPageUp: CommandName = "list.pageUp"
    public static let listHalfPageDown: CommandName = "list.halfPageDown"
    public static let listHalfPageUp: CommandName = "list.halfPageUp"
    public static let listTop: CommandName = "list.top"
    public static let listBottom: CommandName = "list.bottom"
    public static let listOpen: CommandName = "list.open"
    public static let exchangeNext: CommandName = "exchange.next"
    public static let exchangePrevious: CommandName = "exchange.previous"
    public static let exchangeGoto: CommandName = "exchange.goto"
    public static let exchangeFlush: CommandName = "exchange.flush"
    public static let exchangeInject: CommandName = "exchange.inject"
    public static let captureSave: CommandName = "capture.save"
    /// `capture.save` over a file that exists (`:w! FILE`), which `capture.save` refuses.
    public static let captureSaveOver: CommandName = "capture.saveOver"
    public static let proxyFaults: CommandName = "proxy.faults"
    public static let viewHexToggle: CommandName = "view.hex.toggle"
    public static let viewCycle: CommandName = "view.cycle"
    public static let viewFids: CommandName = "view.fids"
    public static let viewStats: CommandName = "view.stats"
    public static let viewAnomalies: CommandName = "view.anomalies"
    public static let viewConnections: CommandName = "view.connections"
    public static let viewHelp: CommandName = "view.help"
    public static let viewBack: CommandName = "view.back"
    public static let viewClose: CommandName = "view.close"
    public static let viewTheme: CommandName = "view.theme"
    public static let filterEdit: CommandName = "filter.edit"
    public static let filterClear: CommandName = "filter.clear"
    public static let searchEdit: CommandName = "search.edit"
    public static let searchNext: CommandName = "search.next"
    public static let searchPrevious: CommandName = "search.previous"
    public static let promptCommand: CommandName = "prompt.command"
    public static let appRedraw: CommandName = "app.redraw"
    public static let appQuit: CommandName = "app.quit"
    public static let appSuspend: CommandName = "app.suspend"
}
