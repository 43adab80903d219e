import NinePWire

extension RequestParser {
    /// A `key=value` word split at its first unquoted `=`, when `key` looks like a field name.
    struct Assignment {
        var key: String
        var keyToken: Token
        var value: Token
    }

    static func assignment(_ t: Token) -> Assignment? {
        guard let i = t.firstUnquoted(UInt8(ascii: "=")), i > 0 else { return nil }
        let key = t.prefix(upTo: i)
        guard !key.hasQuoting, let first = key.text.first, first.isLetter,
              key.text.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }) else { return nil }
        return Assignment(key: key.text, keyToken: key, value: t.suffix(after: i))
    }

    /// The raw form: every word is `field=value`.
    func buildRaw(_ schema: MessageSchema, _ args: [Token], lineEnd: Int) throws(ParseError) -> Request {
        var values: [String: FieldValue] = [:]
        var tag: Tag?
        for t in args {
            guard let a = Self.assignment(t) else {
                throw ParseError(column: t.column, expected: "FIELD=VALUE (fields: \(fieldList(schema)))", found: t.text)
            }
            if a.key.lowercased() == "tag" {
                tag = Tag(UInt16(try ValueParser.number(a.value, as: .tag))); continue
            }
            try assign(a, schema: schema, into: &values)
        }
        applyContextDefaults(schema.type, friendly: false, &values)
        return try finish(schema, values, tag: tag)
    }

    /// A friendly form: positional words then optional `field=value` words.
    func buildFriendly(_ spec: CommandSpec, _ args: [Token], lineEnd: Int) throws(ParseError) -> Request {
        guard let schema = spec.schema else {
            throw ParseError(column: 1, expected: "a request command", found: spec.name)
        }
        var values: [String: FieldValue] = [:]
        var extras: [String: Token] = [:]
        var tag: Tag?
        var positional: [Token] = []
        for t in args {
            if let a = Self.assignment(t) {
                let key = a.key.lowercased()
                if key == "tag" { tag = Tag(UInt16(try ValueParser.number(a.value, as: .tag))); continue }
                if spec.extraKeys.contains(key) { extras[key] = a.value; continue }
                if schema.field(named: a.key) != nil { try assign(a, schema: schema, into: &values); continue }
            }
            positional.append(t)
        }
        // Positional words fill the listed fields in order; the tail takes what is left.
        var index = 0
        for (i, name) in spec.positional.enumerated() {
            guard let field = schema.field(named: name) else { continue }
            let isLast = i == spec.positional.count - 1
            if index >= positional.count {
                if i < spec.required {
                    throw ParseError(column: args.last?.endColumn ?? lineEnd, expected: "\(name.uppercased()): \(field.type.expectation) (usage: \(spec.usage))")
                }
                break
            }
            if values[field.name] != nil {
                throw ParseError(column: positional[index].column, expected: "each field once",
                                 found: positional[index].text, message: "\(field.name) is also given as \(field.name)=")
            }
            if isLast && spec.tail == .list {
                values[field.name] = try listValue(Array(positional[index...]), field)
                index = positional.count
            } else if isLast && spec.tail == .rest {
                let rest = Array(positional[index...])
                values[field.name] = try ValueParser.parse(rest.count == 1 ? rest[0] : joined(rest), as: field.type)
                index = positional.count
            } else {
                values[field.name] = try ValueParser.parse(positional[index], as: field.type)
                index += 1
            }
        }
        if index < positional.count {
            let extra = positional[index]
            throw ParseError(column: extra.column, expected: "end of line or FIELD=VALUE (usage: \(spec.usage))", found: extra.text)
        }
        if schema.type == .tsetattr { try applySetattr(extras, &values) }
        for (k, v) in spec.defaults where values[k] == nil { values[k] = v }
        applyContextDefaults(schema.type, friendly: true, &values)
        return try finish(schema, values, tag: tag)
    }

    func listValue(_ words: [Token], _ field: FieldSpec) throws(ParseError) -> FieldValue {
        switch field.type {
        case .strings: return .strings(words.map { P9String(bytes: $0.bytes) })
        case .qids:
            var out: [Qid] = []
            for w in words { if case .qids(let q) = try ValueParser.parse(w, as: .qids) { out += q } }
            return .qids(out)
        default:
            return try ValueParser.parse(joined(words), as: field.type)
        }
    }

    /// Several words as one, separated by single (quoted) spaces.
    func joined(_ words: [Token]) -> Token {
        var units: [Token.Unit] = []
        for (i, w) in words.enumerated() {
            if i > 0 { units.append(.init(byte: 0x20, quoted: true, column: w.column - 1)) }
            units += w.units
        }
        return Token(units: units, column: words.first?.column ?? 1, endColumn: words.last?.endColumn ?? 1)
    }

    func fieldList(_ schema: MessageSchema) -> String {
        let names = schema.fields.filter { !$0.derived && isInDialect($0) }.map(\.name)
        return names.isEmpty ? "none" : names.joined(separator: " ")
    }

    func isInDialect(_ f: FieldSpec) -> Bool { f.dialects.map { $0.contains(dialect) } ?? true }

    func assign(_ a: Assignment, schema: MessageSchema, into values: inout [String: FieldValue]) throws(ParseError) {
        let dotted = a.key.split(separator: ".", maxSplits: 1).map(String.init)
        guard let field = schema.field(named: dotted[0]) else {
            throw ParseError(column: a.keyToken.column, expected: "a field of \(schema.name): \(fieldList(schema))",
                             found: a.key, message: "unknown field")
        }
        if field.derived {
            throw ParseError(column: a.keyToken.column, expected: "a settable field (\(fieldList(schema)))", found: a.key,
                             message: "\(field.name) is computed from the other fields; use hex for inconsistent frames")
        }
        if !isInDialect(field) {
            throw ParseError(column: a.keyToken.column, expected: "a field of \(schema.name) in \(dialect)", found: a.key,
                             message: "\(field.name) is not sent in \(dialect)")
        }
        if dotted.count == 2 {
            guard field.type == .qid else {
                throw ParseError(column: a.keyToken.column, expected: "a field name", found: a.key)
            }
            var q: Qid
            if case .qid(let existing)? = values[field.name] { q = existing }
            else if case .qid(let d)? = field.defaultValue { q = d } else { q = Qid(path: 0) }
            try QidPart.set(dotted[1], of: &q, from: a.value, keyColumn: a.keyToken.column)
            values[field.name] = .qid(q)
            return
        }
        if values[field.name] != nil {
            throw ParseError(column: a.keyToken.column, expected: "each field once", found: a.key, message: "\(field.name) given twice")
        }
        values[field.name] = try ValueParser.parse(a.value, as: field.type)
    }

    func applyContextDefaults(_ type: MessageType, friendly: Bool, _ values: inout [String: FieldValue]) {
        switch type {
        case .tversion:
            if values["msize"] == nil { values["msize"] = .u(proposedMsize) }
            if values["version"] == nil { values["version"] = .bytes(Array(proposedDialect.rawValue.utf8)) }
        case .tread, .treaddir:
            if friendly && values["count"] == nil { values["count"] = .u(msize > 24 ? msize - 24 : 0) }
        default: break
        }
    }

    /// setattr's friendly keys: `atime=now|SEC[.NSEC]`, `mtime=…`, `ctime=now`; `valid` follows the
    /// fields given unless set explicitly.
    func applySetattr(_ extras: [String: Token], _ values: inout [String: FieldValue]) throws(ParseError) {
        for which in ["atime", "mtime"] {
            guard let t = extras[which] else { continue }
            if t.text.lowercased() == "now" { values["\(which)_now"] = .zero; continue }
            let parts = t.split(onUnquoted: UInt8(ascii: "."))
            guard parts.count <= 2, let sec = ValueParser.integer(parts[0].text),
                  parts.count == 1 || ValueParser.integer(parts[1].text) != nil else {
                throw ParseError(column: t.column, expected: "now or SECONDS[.NANOSECONDS]", found: t.text)
            }
            values["\(which)_sec"] = .u(sec)
            if parts.count == 2 {
                // Digits after the point are a fraction of a second.
                let digits = String(parts[1].text.prefix(9))
                let padded = digits + String(repeating: "0", count: 9 - digits.count)
                values["\(which)_nsec"] = .u(UInt64(padded) ?? 0)
            }
        }
        if let t = extras["ctime"], t.text.lowercased() != "now" {
            throw ParseError(column: t.column, expected: "now (the server sets ctime)", found: t.text)
        }
        guard values["valid"] == nil else {
            values["atime_now"] = nil; values["mtime_now"] = nil
            return
        }
        var valid: UInt64 = 0
        let bits: [(String, UInt64)] = [("mode", 0x1), ("uid", 0x2), ("gid", 0x4), ("size", 0x8)]
        for (k, b) in bits where values[k] != nil { valid |= b }
        if values["atime_now"] != nil { valid |= 0x10 }
        if values["mtime_now"] != nil { valid |= 0x20 }
        if values["atime_sec"] != nil || values["atime_nsec"] != nil { valid |= 0x10 | 0x80 }
        if values["mtime_sec"] != nil || values["mtime_nsec"] != nil { valid |= 0x20 | 0x100 }
        if extras["ctime"] != nil { valid |= 0x40 }
        values["atime_now"] = nil; values["mtime_now"] = nil
        values["valid"] = .u(valid)
    }

    func finish(_ schema: MessageSchema, _ given: [String: FieldValue], tag: Tag?) throws(ParseError) -> Request {
        var values = given
        for f in schema.fields where values[f.name] == nil && !f.derived {
            if let d = f.defaultValue { values[f.name] = d }
            else if isInDialect(f) {
                throw ParseError(column: 1, expected: "\(f.name)=VALUE (\(f.type.expectation))", message: "\(schema.name) needs \(f.name)")
            }
        }
        guard let message = schema.build(values, dialect: dialect) else {
            throw ParseError(column: 1, expected: "a T-message", found: schema.name)
        }
        return Request(message, tag: tag)
    }
}

/// `qid.type`, `qid.version`, `qid.path` sub-fields.
enum QidPart {
    static let names = ["type", "version", "path"]

    static func set(_ part: String, of q: inout Qid, from t: Token, keyColumn: Int) throws(ParseError) {
        switch part.lowercased() {
        case "type":
            if case .qid(let parsed) = try ValueParser.parse(Token(units: t.units + colonZero(t), column: t.column, endColumn: t.endColumn), as: .qid) {
                q.type = parsed.type
            }
        case "version":
            let v = try ValueParser.number(t, as: .u32); q.version = UInt32(v)
        case "path":
            q.path = try ValueParser.number(t, as: .u64)
        default:
            throw ParseError(column: keyColumn, expected: "qid.type, qid.version or qid.path", found: "qid." + part)
        }
    }

    /// Appends `:0:0` so a bare type parses as a qid.
    static func colonZero(_ t: Token) -> [Token.Unit] {
        Array(":0:0".utf8).map { Token.Unit(byte: $0, quoted: false, column: t.endColumn) }
    }

    static func get(_ part: String, of q: Qid) -> FieldValue? {
        switch part.lowercased() {
        case "type": return .u(q.type.rawValue)
        case "version": return .u(q.version)
        case "path": return .u(q.path)
        default: return nil
        }
    }
}
