import NinePWire

/// What completion may know about the session.
public struct CompletionContext {
    public var dialect: Dialect
    /// Live fids, and the path elements each one is at below the attach root (when known), each escaped as
    /// a word.
    public var fids: [Fid: [String]]
    /// Outstanding tags.
    public var pendingTags: [Tag]
    /// Names in a remote directory given as `/a/b`, as typed (escapes and quotes as in the line: the engine
    /// resolves them, `Tokenizer.typedBytes`); each name escaped as a word (`Tokenizer.escapedWord`), a
    /// trailing `/` marking a directory; nil when unknown. The engine answers from a cache filled by
    /// walk+readdir.
    public var remoteNames: (_ directory: String) -> [String]?

    public init(dialect: Dialect = .l, fids: [Fid: [String]] = [:], pendingTags: [Tag] = [],
                remoteNames: @escaping (_ directory: String) -> [String]? = { _ in nil }) {
        self.dialect = dialect; self.fids = fids; self.pendingTags = pendingTags; self.remoteNames = remoteNames
    }
}

/// Tab completion over the grammar table: command and message names, field names (`newfid=`),
/// symbolic values (`rdwr|create`), fids and tags from the session, and remote path names.
public enum Completer {
    /// Settings `set` knows.
    public static let settings = ["datalimit", "catlimit", "msize", "dialect", "root", "timeout"]

    /// Full replacement words for the word that ends at `cursor` (a `Character` offset).
    public static func complete(line: String, cursor: Int, context: CompletionContext) -> [String] {
        let chars = Array(line)
        let prefix = String(chars[..<min(max(0, cursor), chars.count)])
        var words = Tokenizer.typedWords(prefix)
        let current = words.popLast() ?? ""
        guard let head = words.first else { return commandWords(current) }
        let command = head.hasPrefix("-") ? String(head.dropFirst()) : head
        let args = Array(words.dropFirst())
        let candidates = arguments(command: command, args: args, current: current, context: context)
        return candidates.filter { $0.hasPrefix(current) }
    }

    static func commandWords(_ current: String) -> [String] {
        let marker = current.hasPrefix("-") ? "-" : ""
        let base = String(current.dropFirst(marker.count))
        var names = CommandSpec.all.map(\.name)
        names += MessageSchema.all.filter { $0.isRequest && $0.builder != nil }.map(\.name)
        var seen: Set<String> = []
        return names.filter { $0.hasPrefix(base) || $0.lowercased().hasPrefix(base.lowercased()) }
            .filter { seen.insert($0).inserted }
            .map { marker + $0 }
            .filter { $0.hasPrefix(current) }
    }

    static func arguments(command: String, args: [String], current: String, context: CompletionContext) -> [String] {
        if let type = MessageType(name: command), type.isRequest, let schema = MessageSchema.schema(for: type) {
            return rawField(schema, args: args, current: current, context: context)
        }
        let lower = command.lowercased()
        switch lower {
        case "help":
            guard args.isEmpty else { return [] }
            return commandWords(current) + MessageSchema.all.filter { !$0.isRequest }.map(\.name).filter { $0.hasPrefix(current) }
        case "set":
            if args.isEmpty { return settings }
            if args.count == 1 && args[0] == "dialect" { return Dialect.allCases.map(\.rawValue) }
            if args.count == 1 && args[0] == "root" { return fidWords(context) }
            return []
        case "wait", "flush":
            return args.isEmpty ? context.pendingTags.sorted().map { String($0.rawValue) } : []
        case "expect":
            return expectWords(args: args, current: current)
        case "ls", "cat":
            return args.isEmpty ? paths(current, context) : []
        case "put":
            return args.count == 1 ? paths(current, context) : []
        case "stat":
            if args.isEmpty && (current.isEmpty || !current.first!.isNumber) {
                return paths(current, context) + (current.isEmpty ? fidWords(context) : [])
            }
        default: break
        }
        guard let spec = CommandSpec.named(lower), let schema = spec.schema else { return [] }
        if current.contains("=") { return valueWords(schema, current: current, context: context) }
        let positionalIndex = args.filter { !$0.contains("=") }.count
        var out: [String] = []
        if positionalIndex < spec.positional.count || spec.tail != .single {
            let name = positionalIndex < spec.positional.count ? spec.positional[positionalIndex] : spec.positional.last!
            if let field = schema.field(named: name) {
                if field.type == .strings && schema.type == .twalk {
                    out += walkNames(args: args, current: current, context: context)
                } else if Self.makesFid(schema.type, field.name) {
                    out += newFidWords(context)
                } else {
                    out += symbolWords(field.type, current: current, context: context)
                }
            }
        }
        if !current.isEmpty && current.first!.isLetter {
            let given = Set(args.compactMap { $0.split(separator: "=").first.map { String($0).lowercased() } })
            out += schema.fields.filter { !$0.derived && !given.contains($0.name) }.map { $0.name + "=" } + ["tag="]
            out += spec.extraKeys.map { $0 + "=" }
        }
        return out
    }

    static func rawField(_ schema: MessageSchema, args: [String], current: String, context: CompletionContext) -> [String] {
        if current.contains("=") { return valueWords(schema, current: current, context: context) }
        let given = Set(args.compactMap { $0.split(separator: "=").first.map { String($0).lowercased() } })
        return schema.fields.filter { !$0.derived && !given.contains($0.name) && ($0.dialects?.contains(context.dialect) ?? true) }
            .map { $0.name + "=" } + (given.contains("tag") ? [] : ["tag="])
    }

    /// `field=partial` → `field=value` candidates.
    static func valueWords(_ schema: MessageSchema, current: String, context: CompletionContext) -> [String] {
        let parts = current.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        let key = String(parts[0])
        let value = parts.count > 1 ? String(parts[1]) : ""
        if key.lowercased() == "tag" { return context.pendingTags.map { "tag=\($0.rawValue)" } }
        guard let field = schema.field(named: key) else { return [] }
        if Self.makesFid(schema.type, field.name) { return newFidWords(context).map { key + "=" + $0 } }
        return symbolWords(field.type, current: value, context: context).map { key + "=" + $0 }
    }

    /// Whether the field names a fid the request makes (Twalk's and Txattrwalk's newfid, Tattach's fid,
    /// Tauth's afid): one not in use, as `Message.fidsCreated` has it.
    static func makesFid(_ type: MessageType, _ field: String) -> Bool {
        switch (type, field) {
        case (.twalk, "newfid"), (.txattrwalk, "newfid"), (.tattach, "fid"), (.tauth, "afid"): true
        default: false
        }
    }

    /// For a fid the request makes: the lowest number not in use (the ones in use would be refused).
    static func newFidWords(_ context: CompletionContext) -> [String] {
        var n: UInt32 = 0
        while context.fids[Fid(n)] != nil && n < Fid.nofid.rawValue - 1 { n += 1 }
        return [String(n)]
    }

    /// Values for a field type: fids, symbols (completing the part after the last `|`).
    static func symbolWords(_ type: FieldType, current: String, context: CompletionContext) -> [String] {
        switch type {
        case .fid: return fidWords(context)
        case .tag: return context.pendingTags.sorted().map { String($0.rawValue) }
        default:
            let symbols = type.symbols.map(\.0).filter { !$0.hasPrefix("o") || type != .openMode }
            guard !symbols.isEmpty else { return [] }
            let head: String
            if type.isBitSet, let bar = current.lastIndex(of: "|") { head = String(current[...bar]) } else { head = "" }
            let lowered = current.lowercased() == current
            return symbols.map { head + (lowered ? $0 : $0.uppercased()) }
        }
    }

    static func fidWords(_ context: CompletionContext) -> [String] {
        context.fids.keys.sorted().map { String($0.rawValue) }
    }

    static func expectWords(args: [String], current: String) -> [String] {
        if args.isEmpty {
            return ["ok", "error"] + MessageSchema.all.filter { !$0.isRequest }.map(\.name)
        }
        guard let type = MessageType(name: args[0]), let schema = MessageSchema.schema(for: type) else { return [] }
        if current.contains("=") {
            let key = String(current.split(separator: "=", maxSplits: 1)[0]).trimmingSuffix("~!")
            guard let field = schema.field(named: key) else { return [] }
            let op = current.contains("~=") ? "~=" : current.contains("!=") ? "!=" : "="
            return symbolWords(field.type, current: "", context: CompletionContext()).map { key + op + $0 }
        }
        var out = schema.fields.map { $0.name + "=" }
        if args.count == 1, let first = schema.fields.first(where: { !$0.derived }) {
            out += symbolWords(first.type, current: current, context: CompletionContext())
        }
        return out
    }

    /// Remote path candidates: the directory part of `current` listed through the context.
    static func paths(_ current: String, _ context: CompletionContext) -> [String] {
        let dir: String
        let shownDir: String
        if let slash = current.lastIndex(of: "/") {
            shownDir = String(current[...slash])
            dir = shownDir == "/" ? "/" : String(shownDir.dropLast())
        } else {
            shownDir = ""; dir = "/"
        }
        let normalized = dir.hasPrefix("/") ? dir : "/" + dir
        guard let names = context.remoteNames(normalized) else { return [] }
        return names.map { shownDir + $0 }
    }

    /// Names for `walk FID NEWFID a b …`: the directory is the fid's path plus the names before.
    static func walkNames(args: [String], current: String, context: CompletionContext) -> [String] {
        let positional = args.filter { !$0.contains("=") }
        guard positional.count >= 2, let n = ValueParser.integer(positional[0]), n <= UInt64(UInt32.max),
              let base = context.fids[Fid(UInt32(n))] else { return [] }
        let elements = base + positional.dropFirst(2)
        let dir = "/" + elements.joined(separator: "/")
        guard let names = context.remoteNames(dir) else { return [] }
        return names.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
    }
}

extension String {
    func trimmingSuffix(_ chars: String) -> String {
        var s = self
        while let last = s.last, chars.contains(last) { s.removeLast() }
        return s
    }
}
