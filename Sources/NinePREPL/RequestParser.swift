import InspectorCore
import NinePWire

/// Parses REPL lines: friendly request forms (`walk 0 1 usr bin`), the raw form naming fields
/// (`Twalk fid=0 newfid=1 wname=usr,bin tag=5`), conveniences and meta commands.
///
/// Markers: a leading `-` on the command word allows the command to fail in a script; a trailing
/// `&` (its own word or glued to the last one) sends without waiting. `tag=N` may be added to any
/// request. In friendly forms a `key=value` word is a field assignment only when `key` names a field
/// of that message (or `tag`); otherwise it is an ordinary positional word.
///
/// Defaults for omitted fields: those of `MessageSchema` (0, empty strings, afid NOFID, n_uname
/// NONUNAME, Twstat "don't touch"), overridden per friendly command by `CommandSpec.defaults`;
/// Tversion msize/version come from `proposedMsize`/`proposedDialect` (what the next Tversion offers: the
/// settings, which may differ from what the connection negotiated); friendly `read`/`readdir` COUNT is
/// msize − 24.
public struct RequestParser: Sendable {
    public var dialect: Dialect
    public var msize: UInt32
    public var proposedDialect: Dialect
    public var proposedMsize: UInt32

    public init(dialect: Dialect = .l, msize: UInt32 = 8192, proposedDialect: Dialect? = nil, proposedMsize: UInt32? = nil) {
        self.dialect = dialect; self.msize = msize
        self.proposedDialect = proposedDialect ?? dialect; self.proposedMsize = proposedMsize ?? msize
    }

    /// Parses one line; blank lines and comments give a nil command.
    public func parse(_ line: String) throws(ParseError) -> ParsedLine {
        var tokens = try Tokenizer.tokenize(line)
        guard !tokens.isEmpty else { return ParsedLine(command: nil) }
        var background = false
        if let last = tokens.last, let tail = last.units.last, tail.byte == UInt8(ascii: "&"), !tail.quoted {
            background = true
            if last.units.count == 1 {
                tokens.removeLast()
            } else {
                tokens[tokens.count - 1] = Token(units: Array(last.units.dropLast()), column: last.column, endColumn: tail.column)
            }
            guard !tokens.isEmpty else {
                throw ParseError(column: tail.column, expected: "a command before &")
            }
        }
        var allowFailure = false
        var head = tokens[0]
        if head.units.count > 1, head.units[0].byte == UInt8(ascii: "-"), !head.units[0].quoted {
            allowFailure = true
            head = Token(units: Array(head.units.dropFirst()), column: head.column + 1, endColumn: head.endColumn)
        }
        let args = Array(tokens.dropFirst())
        let command = try parseCommand(head, args, lineEnd: line.count + 1)
        if background, case .request = command {} else if background {
            throw ParseError(column: tokens.last!.endColumn, expected: "a request before &",
                             message: "only requests can be sent in the background")
        }
        return ParsedLine(command: command, background: background, allowFailure: allowFailure)
    }

    /// Parses a line that must be a single request (the UI's `:` prompt).
    public func parseRequest(_ line: String) throws(ParseError) -> Request {
        let parsed = try parse(line)
        guard case .request(let r)? = parsed.command else {
            throw ParseError(column: 1, expected: "a request (walk, read, Tgetattr …)", found: line)
        }
        return r
    }

    func parseCommand(_ head: Token, _ args: [Token], lineEnd: Int) throws(ParseError) -> Command {
        let word = head.text
        let lower = word.lowercased()
        if let type = MessageType(name: word), (lower.hasPrefix("t") || lower.hasPrefix("r")) {
            guard type.isRequest, let schema = MessageSchema.schema(for: type), schema.builder != nil else {
                throw ParseError(column: head.column, expected: "a T-message name", found: word,
                                 message: "\(type.name) cannot be sent; use hex for arbitrary frames")
            }
            return .request(try buildRaw(schema, args, lineEnd: lineEnd))
        }
        if lower == "stat", args.count >= 1, !isFidLike(args[0]) {
            try expectCount(args, 1...1, head: head, lineEnd: lineEnd, usage: "stat PATH")
            return .stat(path: P9String(bytes: args[0].bytes))
        }
        guard let spec = CommandSpec.named(lower) else {
            let words = CommandSpec.all.map(\.name) + MessageType.allCases.filter(\.isRequest).map(\.name)
            throw ParseError(column: head.column, expected: "a command (try help)", found: word, message: "unknown command",
                             hint: Spelling.nearest(to: word, among: words).map { "did you mean \($0)?" } ?? "")
        }
        switch spec.kind {
        case .request:
            return .request(try buildFriendly(spec, args, lineEnd: lineEnd))
        case .convenience, .meta:
            return try parseMeta(spec, head, args, lineEnd: lineEnd)
        }
    }

    func isFidLike(_ t: Token) -> Bool {
        (try? ValueParser.number(t, as: .fid)) != nil && !t.text.contains("/")
    }

    func expectCount(_ args: [Token], _ range: ClosedRange<Int>, head: Token, lineEnd: Int, usage: String) throws(ParseError) {
        if args.count < range.lowerBound {
            throw ParseError(column: args.last?.endColumn ?? head.endColumn, expected: "more arguments: \(usage)", found: nil)
        }
        if args.count > range.upperBound {
            let extra = args[range.upperBound]
            throw ParseError(column: extra.column, expected: "end of line (\(usage))", found: extra.text)
        }
    }

    func parseMeta(_ spec: CommandSpec, _ head: Token, _ args: [Token], lineEnd: Int) throws(ParseError) -> Command {
        let usage = spec.usage
        switch spec.name {
        case "help":
            try expectCount(args, 0...1, head: head, lineEnd: lineEnd, usage: usage)
            return .help(topic: args.first?.text)
        case "set":
            if args.isEmpty { return .settings }
            try expectCount(args, 2...2, head: head, lineEnd: lineEnd, usage: usage)
            return .set(name: args[0].text.lowercased(), value: args[1].text)
        case "fids": try expectCount(args, 0...0, head: head, lineEnd: lineEnd, usage: usage); return .fids
        case "pending": try expectCount(args, 0...0, head: head, lineEnd: lineEnd, usage: usage); return .pending
        case "reconnect": try expectCount(args, 0...0, head: head, lineEnd: lineEnd, usage: usage); return .reconnect
        case "quit", "exit": try expectCount(args, 0...0, head: head, lineEnd: lineEnd, usage: usage); return .quit
        case "wait":
            try expectCount(args, 0...1, head: head, lineEnd: lineEnd, usage: usage)
            return .wait(try args.first.map { t throws(ParseError) in Tag(UInt16(try ValueParser.number(t, as: .tag))) })
        case "echo":
            return .echo(args.map(\.text).joined(separator: " "))
        case "hex":
            guard !args.isEmpty else {
                throw ParseError(column: head.endColumn, expected: "hex bytes (e.g. hex 13000000 6c 0100 …)")
            }
            var bytes: [UInt8] = []
            for t in args {
                var t = t
                if t.text.lowercased().hasPrefix("0x") {
                    t = Token(units: Array(t.units.dropFirst(2)), column: t.column + 2, endColumn: t.endColumn)
                }
                bytes += try ValueParser.hex(t)
            }
            return .hex(bytes)
        case "expect":
            return .expect(try ReplyExpectation.parse(head: head, args, dialect: dialect))
        case "ls":
            try expectCount(args, 0...1, head: head, lineEnd: lineEnd, usage: usage)
            return .ls(path: args.first.map { P9String(bytes: $0.bytes) } ?? "/")
        case "cat":
            try expectCount(args, 1...1, head: head, lineEnd: lineEnd, usage: usage)
            return .cat(path: P9String(bytes: args[0].bytes))
        case "put":
            try expectCount(args, 2...2, head: head, lineEnd: lineEnd, usage: usage)
            return .put(local: args[0].text, remote: P9String(bytes: args[1].bytes))
        default:
            throw ParseError(column: head.column, expected: "a command", found: head.text)
        }
    }
}
