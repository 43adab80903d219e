/// The recording `WireSource` behind `Fcall.fieldTree`: reads through a `FastReader` (so errors are
/// identical to `Fcall.decode`'s) and records one node per field.
struct TreeReader: WireSource {
    var fast: FastReader
    let prefix: String
    private var roots: [FieldNode] = []
    private var stack: [(node: FieldNode, start: Int)] = []

    init(_ buf: UnsafeRawBufferPointer, origin: Int, prefix: String) {
        fast = FastReader(buf, origin: origin)
        self.prefix = prefix
    }

    var offset: Int { fast.offset }
    var remaining: Int { fast.remaining }

    func error(at offset: Int, _ f: WireField, _ reason: String) -> DecodeError { fast.error(at: offset, f, reason) }

    private var currentPrefix: String { stack.last?.node.name ?? prefix }

    private func qualified(_ label: String) -> String {
        let p = currentPrefix
        return p.isEmpty ? label : p + "." + label
    }

    private mutating func append(_ n: FieldNode) {
        if stack.isEmpty { roots.append(n) } else { stack[stack.count - 1].node.children.append(n) }
    }

    private mutating func leaf(_ f: WireField, _ start: Int, _ value: FieldNode.Value, _ display: String) {
        let label = f.label
        append(FieldNode(name: qualified(label), label: label, range: start..<offset, value: value, display: display))
    }

    private mutating func unsigned(_ f: WireField, _ start: Int, _ v: UInt64) {
        let (value, display) = TreeReader.render(v, f.format)
        leaf(f, start, value, display)
        switch f.format {
        case .posixMode: amendLast { $0.note = FieldNotes.posixMode(UInt32(truncatingIfNeeded: v)) }
        case .seconds: amendLast { $0.note = FieldNotes.date(seconds: v, nanoseconds: nil) }
        case .nanoseconds:
            // The seconds field just before it (`atime_sec`, then `atime_nsec`) gets the whole time.
            amendLast(1) { node in
                if case .unsigned(let seconds) = node.value, node.note != nil || seconds == 0 {
                    node.note = FieldNotes.date(seconds: seconds, nanoseconds: v)
                }
            }
        default: break
        }
    }

    /// Changes the node `back` places before the last one appended at the current level.
    private mutating func amendLast(_ back: Int = 0, _ change: (inout FieldNode) -> Void) {
        if stack.isEmpty {
            guard roots.count > back else { return }
            change(&roots[roots.count - 1 - back])
        } else {
            let top = stack.count - 1
            guard stack[top].node.children.count > back else { return }
            change(&stack[top].node.children[stack[top].node.children.count - 1 - back])
        }
    }

    static func render(_ v: UInt64, _ format: FieldFormat) -> (FieldNode.Value, String) {
        func flags(_ names: [String]) -> (FieldNode.Value, String) { (.flags(raw: v, names: names), Fmt.flags(v, names)) }
        func named(_ name: String?) -> (FieldNode.Value, String) { (.enumerated(raw: v, name: name), Fmt.enumerated(v, name)) }
        switch format {
        case .dec, .size, .count, .seconds, .nanoseconds: return (.unsigned(v), String(v))
        case .hex: return (.unsigned(v), Fmt.hex(v))
        case .posixMode: return (.unsigned(v), Fmt.octal(UInt32(truncatingIfNeeded: v)))
        case .nUname: return (.unsigned(v), Fmt.nUname(UInt32(truncatingIfNeeded: v)))
        case .fid: let f = Fid(UInt32(truncatingIfNeeded: v)); return (.fid(f), f.description)
        case .tag: let t = Tag(UInt16(truncatingIfNeeded: v)); return (.tag(t), t.description)
        case .msgType: return named(MessageType(rawValue: UInt8(truncatingIfNeeded: v))?.name)
        case .errno: return named(Errno(UInt32(truncatingIfNeeded: v)).name)
        case .lockType: return named(LockType(rawValue: UInt8(truncatingIfNeeded: v)).knownName)
        case .lockStatus: return named(LockStatus(rawValue: UInt8(truncatingIfNeeded: v)).knownName)
        case .direntType: return named(Dirent.typeName(UInt8(truncatingIfNeeded: v)))
        case .openMode: return flags(OpenMode(rawValue: UInt8(truncatingIfNeeded: v)).names)
        case .dirMode: return flags(DirMode(rawValue: UInt32(truncatingIfNeeded: v)).names)
        case .lopenFlags: return flags(LOpenFlags(rawValue: UInt32(truncatingIfNeeded: v)).names)
        case .getattrMask: return flags(GetattrMask(rawValue: v).names)
        case .setattrValid: return flags(SetattrValid(rawValue: UInt32(truncatingIfNeeded: v)).names)
        case .lockFlags: return flags(LockFlags(rawValue: UInt32(truncatingIfNeeded: v)).names)
        case .unlinkFlags: return flags(Tunlinkat.flagNames(UInt32(truncatingIfNeeded: v)))
        case .xattrFlags: return flags(Txattrcreate.flagNames(UInt32(truncatingIfNeeded: v)))
        }
    }

    mutating func u8(_ f: WireField) throws(DecodeError) -> UInt8 {
        let s = offset; let v = try fast.u8(f); unsigned(f, s, UInt64(v)); return v
    }
    mutating func u16(_ f: WireField) throws(DecodeError) -> UInt16 {
        let s = offset; let v = try fast.u16(f); unsigned(f, s, UInt64(v)); return v
    }
    mutating func u32(_ f: WireField) throws(DecodeError) -> UInt32 {
        let s = offset; let v = try fast.u32(f); unsigned(f, s, UInt64(v)); return v
    }
    mutating func u64(_ f: WireField) throws(DecodeError) -> UInt64 {
        let s = offset; let v = try fast.u64(f); unsigned(f, s, v); return v
    }
    mutating func string(_ f: WireField) throws(DecodeError) -> P9String {
        let s = offset; let v = try fast.string(f); leaf(f, s, .string(v), Fmt.quoted(v)); return v
    }
    mutating func qid(_ f: WireField) throws(DecodeError) -> Qid {
        let s = offset
        let q = try fast.qid(f)
        let label = f.label
        let name = qualified(label)
        let children = [
            FieldNode(name: name + ".type", label: "type", range: s..<(s + 1),
                      value: .flags(raw: UInt64(q.type.rawValue), names: q.type.names),
                      display: Fmt.flags(UInt64(q.type.rawValue), q.type.names)),
            FieldNode(name: name + ".version", label: "version", range: (s + 1)..<(s + 5),
                      value: .unsigned(UInt64(q.version)), display: String(q.version)),
            FieldNode(name: name + ".path", label: "path", range: (s + 5)..<(s + 13),
                      value: .unsigned(q.path), display: Fmt.hex(q.path)),
        ]
        append(FieldNode(name: name, label: label, range: s..<offset, value: .qid(q), display: Fmt.qid(q), children: children))
        return q
    }
    mutating func bytes(_ count: Int, _ f: WireField, content: DataContent) throws(DecodeError) -> [UInt8] {
        let s = offset
        let v = try fast.bytes(count, f, content: content)
        let label = f.label
        let name = qualified(label)
        var children: [FieldNode] = []
        if !v.isEmpty {
            switch content {
            case .raw: break
            case .dirents: children = TreeReader.entries(v, origin: s, prefix: name) { r throws(DecodeError) in _ = try Dirent.decodeAll(&r) }
            case .stats(let d): children = TreeReader.entries(v, origin: s, prefix: name) { r throws(DecodeError) in _ = try Stat.decodeAll(&r, d) }
            }
        }
        append(FieldNode(name: name, label: label, range: s..<offset, value: .bytes(count: v.count, prefix: Array(v.prefix(Fmt.dataLimit))),
                         display: Fmt.data(v), children: children))
        return v
    }

    /// The entry nodes of directory data, or none unless the whole run parses.
    static func entries(_ data: [UInt8], origin: Int, prefix: String,
                        _ parse: (inout TreeReader) throws(DecodeError) -> Void) -> [FieldNode] {
        data.withUnsafeBytes { buf in
            var sub = TreeReader(buf, origin: origin, prefix: prefix)
            do throws(DecodeError) { try parse(&sub) } catch { return [] }
            return sub.finish(restName: "undecoded")
        }
    }

    mutating func beginGroup(_ f: WireField) {
        fast.beginGroup(f)
        let label = f.label
        stack.append((FieldNode(name: qualified(label), label: label, range: offset..<offset, value: .group, display: ""), offset))
    }

    mutating func endGroup() {
        fast.endGroup()
        guard let top = stack.popLast() else { return }
        var node = top.node
        node.range = top.start..<offset
        if let n = node.children.first(where: { $0.label == "name" }) { node.display = n.display }
        append(node)
    }

    /// Closes any open groups at the current offset and covers the bytes not read with one leaf.
    mutating func finish(restName: String) -> [FieldNode] {
        while !stack.isEmpty {
            if stack[stack.count - 1].node.children.isEmpty { stack.removeLast() } else { endGroup() }
        }
        let consumedEnd = fast.pos
        if consumedEnd < fast.end {
            let rest = Array(UnsafeRawBufferPointer(rebasing: fast.base[consumedEnd..<fast.end]))
            let s = offset
            let name = prefix.isEmpty ? restName : prefix + "." + restName
            roots.append(FieldNode(name: name, label: restName, range: s..<(s + rest.count),
                                   value: .bytes(count: rest.count, prefix: Array(rest.prefix(Fmt.dataLimit))),
                                   display: Fmt.data(rest)))
        }
        return roots
    }
}
