import NinePWire

/// An `expect` line: an assertion about the last reply — the one to the last request sent without `&`,
/// or anything that arrived after it (a background reply, an Rflush).
///
/// `expect Rwalk nwqid=2`, `expect Rlerror ENOENT`, `expect Rread data='hello'`, `expect Rgetattr
/// size=5 qid.type=file`, `expect Rreaddir names~=foo`, `expect ok` (not an error reply),
/// `expect error` (Rerror or Rlerror). Positional values check the message's non-derived fields in
/// order. Operators: `=`, `!=`, `~=` (contains: a substring of a string or data, an element of a
/// list). `qid.type`, `qid.version`, `qid.path` reach into qids.
public struct ReplyExpectation: Hashable, Sendable {
    public enum Target: Hashable, Sendable {
        case type(MessageType)
        case ok
        case error
    }
    public enum Operator: String, Hashable, Sendable { case equal = "=", notEqual = "!=", contains = "~=" }

    public struct Check: Hashable, Sendable {
        /// Field name as written (possibly `qid.path`).
        public var field: String
        public var op: Operator
        public var value: FieldValue
        public var column: Int
    }

    public var target: Target
    public var checks: [Check]

    public init(target: Target, checks: [Check] = []) { self.target = target; self.checks = checks }

    static func parse(head: Token, _ args: [Token], dialect: Dialect) throws(ParseError) -> ReplyExpectation {
        guard let first = args.first else {
            throw ParseError(column: head.endColumn, expected: "a reply name (Rwalk, Rlerror …), ok or error")
        }
        switch first.text.lowercased() {
        case "ok", "error":
            if args.count > 1 {
                throw ParseError(column: args[1].column, expected: "end of line", found: args[1].text)
            }
            return ReplyExpectation(target: first.text.lowercased() == "ok" ? .ok : .error)
        default: break
        }
        guard let type = MessageType(name: first.text), !type.isRequest, let schema = MessageSchema.schema(for: type) else {
            throw ParseError(column: first.column, expected: "a reply name (Rwalk, Rlerror …), ok or error", found: first.text)
        }
        var checks: [Check] = []
        let positional = schema.fields.filter { !$0.derived }
        var next = 0
        for t in args.dropFirst() {
            if let (key, op, valueToken) = splitCheck(t) {
                let dotted = key.split(separator: ".", maxSplits: 1).map(String.init)
                guard let field = schema.field(named: dotted[0]) else {
                    throw ParseError(column: t.column, expected: "a field of \(schema.name): \(schema.fields.map(\.name).joined(separator: " "))",
                                     found: key, message: "unknown field")
                }
                let value: FieldValue
                if dotted.count == 2 {
                    guard field.type == .qid, QidPart.names.contains(dotted[1].lowercased()) else {
                        throw ParseError(column: t.column, expected: "\(field.name).type, .version or .path", found: key)
                    }
                    var q = Qid(path: 0)
                    try QidPart.set(dotted[1], of: &q, from: valueToken, keyColumn: t.column)
                    value = QidPart.get(dotted[1], of: q) ?? .zero
                } else {
                    value = try checkValue(valueToken, field: field, op: op)
                }
                checks.append(Check(field: dotted.count == 2 ? field.name + "." + dotted[1].lowercased() : field.name,
                                    op: op, value: value, column: t.column))
            } else {
                guard next < positional.count else {
                    throw ParseError(column: t.column, expected: "FIELD=VALUE (no more positional fields in \(schema.name))", found: t.text)
                }
                let field = positional[next]
                next += 1
                checks.append(Check(field: field.name, op: .equal, value: try checkValue(t, field: field, op: .equal), column: t.column))
            }
        }
        return ReplyExpectation(target: .type(type), checks: checks)
    }

    /// `key=value`, `key!=value`, `key~=value`.
    static func splitCheck(_ t: Token) -> (String, Operator, Token)? {
        guard let eq = t.firstUnquoted(UInt8(ascii: "=")), eq > 0 else { return nil }
        var keyEnd = eq
        var op = Operator.equal
        let before = t.units[eq - 1]
        if !before.quoted && before.byte == UInt8(ascii: "!") { op = .notEqual; keyEnd = eq - 1 }
        if !before.quoted && before.byte == UInt8(ascii: "~") { op = .contains; keyEnd = eq - 1 }
        guard keyEnd > 0 else { return nil }
        let key = t.prefix(upTo: keyEnd)
        guard !key.hasQuoting, let c = key.text.first, c.isLetter,
              key.text.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }) else { return nil }
        return (key.text, op, t.suffix(after: eq))
    }

    static func checkValue(_ t: Token, field: FieldSpec, op: Operator) throws(ParseError) -> FieldValue {
        if op == .contains {
            switch field.type {
            case .strings: return .strings([P9String(bytes: t.bytes)])
            case .qids: return try ValueParser.parse(t, as: .qids)
            case .string, .data: return try ValueParser.parse(t, as: field.type)
            default:
                throw ParseError(column: t.column, expected: "= or != for \(field.name)", found: "~=")
            }
        }
        return try ValueParser.parse(t, as: field.type)
    }

    /// Checks `reply`; nil when it holds, else why not.
    public func failure(for reply: Fcall?, dataLimit: Int = 64) -> String? {
        guard let reply else { return "no reply to check" }
        let name = reply.message.type?.name ?? "type \(reply.message.typeCode)"
        let isError = reply.message.type?.isError ?? false
        switch target {
        case .ok: return isError ? "expected a successful reply, got \(name)" : nil
        case .error: return isError ? nil : "expected an error reply, got \(name)"
        case .type(let t):
            guard reply.message.type == t else { return "expected \(t.name), got \(name)" }
        }
        guard let schema = MessageSchema.schema(of: reply.message), let values = schema.values(of: reply.message) else {
            return "cannot read the fields of \(name)"
        }
        for check in checks {
            let dotted = check.field.split(separator: ".", maxSplits: 1).map(String.init)
            guard let index = schema.fields.firstIndex(where: { $0.name == dotted[0] }) else { return "no field \(check.field)" }
            let field = schema.fields[index]
            guard var actual = values[index] else {
                if case .rerror(let e) = reply.message, e.ename == nil, let n = e.errno, field.name == "ename" {
                    // nfs-ganesha's 9P2000.L Rerror: errno[4] alone.
                    let errno = Errno(n).name ?? String(n)
                    return "Rerror has no ename: its body is errno[4] alone (errno \(errno)); check it with errno=\(errno)"
                }
                return "\(name) has no \(check.field) in this dialect"
            }
            var type = field.type
            if dotted.count == 2, case .qid(let q) = actual, let part = QidPart.get(dotted[1], of: q) {
                actual = part
                type = dotted[1] == "path" ? .u64 : (dotted[1] == "version" ? .u32 : .u8)
            }
            let holds: Bool
            switch check.op {
            case .equal: holds = actual == check.value
            case .notEqual: holds = actual != check.value
            case .contains: holds = Self.contains(actual, check.value)
            }
            if !holds {
                let got = ValueFormatter.format(actual, as: type, dataLimit: dataLimit)
                let want = ValueFormatter.format(check.value, as: type, dataLimit: dataLimit)
                return "\(name) \(check.field): expected \(check.op == .equal ? "" : check.op.rawValue + " ")\(want), got \(got)"
            }
        }
        return nil
    }

    static func contains(_ actual: FieldValue, _ needle: FieldValue) -> Bool {
        switch (actual, needle) {
        case (.bytes(let hay), .bytes(let n)):
            guard !n.isEmpty else { return true }
            guard hay.count >= n.count else { return false }
            return (0...(hay.count - n.count)).contains { Array(hay[$0..<($0 + n.count)]) == n }
        case (.strings(let hay), .strings(let n)): return n.allSatisfy(hay.contains)
        case (.qids(let hay), .qids(let n)): return n.allSatisfy(hay.contains)
        default: return false
        }
    }
}
