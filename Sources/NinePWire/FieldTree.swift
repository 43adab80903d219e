/// Field byte spans of one frame, for the decode tree and the hex view's field highlight.

extension FieldNode {
    /// The value of one field, typed enough for the UI to style it. (Nested so it does not collide with
    /// NinePREPL's `FieldValue`.)
    public enum Value: Hashable, Sendable {
        /// A group whose meaning is in its children (a stat entry, a dirent).
        case group
        case unsigned(UInt64)
        case fid(Fid)
        case tag(Tag)
        case string(P9String)
        /// A run of bytes: its length and its first bytes (at most 64).
        case bytes(count: Int, prefix: [UInt8])
        /// A flag word with the names of its bits (`RDONLY`, `LARGEFILE`; unknown bits as one hex name).
        case flags(raw: UInt64, names: [String])
        /// A number with a symbolic meaning (errno, lock type, message type); `name` nil when unknown.
        case enumerated(raw: UInt64, name: String?)
        case qid(Qid)
    }
}

/// One field: its manual name, the bytes it occupies in the frame, its value and how it reads.
public struct FieldNode: Hashable, Sendable {
    /// Qualified name: `size`, `tag`, `wname[0]`, `wqid[1].path`, `stat.qid.type`, `data.dirent[2].name`.
    public var name: String
    /// Last component of `name`: `path`, `wname[0]`.
    public var label: String
    /// Byte offsets within the frame.
    public var range: Range<Int>
    public var value: Value
    /// The value as shown in the canonical line (`NOFID`, `'usr'`, `0x8000 RDONLY|LARGEFILE`, `(… 0 d)`).
    public var display: String
    /// Sub-fields: a qid's type/version/path, a stat's fields, the dirents or stat entries of directory data.
    public var children: [FieldNode]
    /// What the number means to a person, where the number alone does not say (`FieldNotes`): a POSIX
    /// mode's file type and permissions, a time's date. Shown beside `display`, not in the canonical line.
    public var note: String?

    public init(name: String, label: String, range: Range<Int>, value: Value, display: String,
                children: [FieldNode] = [], note: String? = nil) {
        self.note = note
        self.name = name; self.label = label; self.range = range; self.value = value; self.display = display
        self.children = children
    }

    public var isLeaf: Bool { children.isEmpty }
}

/// The fields of one frame. The leaves cover every byte of the frame exactly once, in order: bytes that
/// could not be decoded (after an error) form a final leaf named `undecoded` (or `trailing` for bytes
/// after a complete body).
public struct FieldTree: Hashable, Sendable {
    /// Top-level fields in frame order: `size`, `type`, `tag`, then the body fields.
    public var roots: [FieldNode]
    /// Why decoding stopped early; equal to the error `Fcall.decode` throws for the same frame and dialect.
    public var error: DecodeError?
    /// The decoded message when there was no error.
    public var fcall: Fcall?
    /// The frame length.
    public var frameCount: Int

    public init(roots: [FieldNode], error: DecodeError?, fcall: Fcall?, frameCount: Int) {
        self.roots = roots; self.error = error; self.fcall = fcall; self.frameCount = frameCount
    }

    /// The leaves in frame order.
    public var leaves: [FieldNode] {
        var out: [FieldNode] = []
        func walk(_ n: FieldNode) {
            if n.children.isEmpty { out.append(n) } else { n.children.forEach(walk) }
        }
        roots.forEach(walk)
        return out
    }

    /// Every node, depth-first (parents before children).
    public var allNodes: [FieldNode] {
        var out: [FieldNode] = []
        func walk(_ n: FieldNode) { out.append(n); n.children.forEach(walk) }
        roots.forEach(walk)
        return out
    }

    /// The chain of nodes containing `offset`, outermost first (empty when no node covers it).
    public func path(at offset: Int) -> [FieldNode] {
        var out: [FieldNode] = []
        var level = roots
        while let n = level.first(where: { $0.range.contains(offset) }) {
            out.append(n)
            level = n.children
        }
        return out
    }

    /// The node with this qualified name (`wqid[1].path`), if any.
    public func node(named name: String) -> FieldNode? {
        allNodes.first { $0.name == name }
    }
}

extension Fcall {
    /// The field tree of a frame (never throws): every field with its byte span, value and display text,
    /// plus the `DecodeError` if decoding stopped early (fields decoded so far are kept, so the UI can
    /// show partial decodes of malformed frames). When the size field disagrees with the frame length the
    /// error is reported and the rest of the frame is still decoded for display. Directory data (Rreaddir,
    /// and 9P2000/.u Rread data that parses completely as stat entries) gets one child per entry.
    /// `cut`: the frame is the first bytes of a longer one (a capture cut it; `FrameMarks.truncated`): its
    /// size field is not held against its length, and where the bytes end is no error: the last, partial
    /// field is shown as `<field> (cut)` (`data (cut)`).
    public static func fieldTree(_ frame: [UInt8], dialect: Dialect, cut: Bool = false) -> FieldTree {
        frame.withUnsafeBytes { buf in
            var r = TreeReader(buf, origin: 0, prefix: "")
            var error: DecodeError?
            var fcall: Fcall?
            let declared = cut ? FrameHeader(frame).map { Int($0.size) } : nil
            do throws(DecodeError) {
                fcall = try decodeFrameForTree(&r, frameCount: declared ?? frame.count, dialect: dialect,
                                               firstError: &error)
            } catch let e {
                if error == nil { error = e }
                fcall = nil
            }
            if error != nil { fcall = nil }
            if cut, let e = error {
                return FieldTree(roots: r.finish(restName: e.field + " (cut)"), error: nil, fcall: nil,
                                 frameCount: frame.count)
            }
            let trailing = error?.field == "trailing"
            var roots = r.finish(restName: trailing ? "trailing" : "undecoded")
            if frame.count > 4, frame[4] == MessageType.twstat.rawValue { markDontTouch(&roots) }
            return FieldTree(roots: roots, error: error, fcall: fcall, frameCount: frame.count)
        }
    }

    /// A Twstat's stat fields that ask the server to leave a value alone (stat(5): a number all of whose
    /// bits are set, an empty string; a qid all of whose fields are) get the note "don't touch".
    static func markDontTouch(_ nodes: inout [FieldNode]) {
        func dontTouch(_ n: FieldNode) -> Bool {
            switch n.value {
            case .group: return false
            case .string(let s): return s.isEmpty
            case .qid: return !n.children.isEmpty && n.children.allSatisfy(dontTouch)
            default:
                guard (1...8).contains(n.range.count) else { return false }
                let ones = n.range.count == 8 ? UInt64.max : (UInt64(1) << (8 * n.range.count)) - 1
                switch n.value {
                case .unsigned(let v), .flags(let v, _), .enumerated(let v, _): return v == ones
                default: return false
                }
            }
        }
        for i in nodes.indices where nodes[i].name == "stat" || nodes[i].name.hasPrefix("stat.") {
            if dontTouch(nodes[i]) { nodes[i].note = "don't touch" }
            markDontTouch(&nodes[i].children)
        }
    }

    /// Like `decodeFrame`, but a size mismatch is recorded in `firstError` and decoding goes on.
    static func decodeFrameForTree(_ r: inout TreeReader, frameCount: Int, dialect: Dialect,
                                   firstError: inout DecodeError?) throws(DecodeError) -> Fcall {
        let sizeField = WireField("size", .size)
        let size = try r.u32(sizeField)
        if UInt64(size) != UInt64(frameCount) {
            firstError = r.error(at: 0, sizeField, "size field says \(size) bytes but the frame is \(frameCount) bytes")
        }
        let type = try r.u8(WireField("type", .msgType))
        let tag = try r.tag(WireField("tag", .tag))
        let message = try Message.decodeBody(type: type, &r, dialect: dialect)
        guard r.remaining == 0 else {
            throw r.error(at: r.offset, WireField("trailing"),
                          "\(r.remaining) trailing bytes after a complete \(Message.name(ofType: type)) body")
        }
        return Fcall(tag: tag, message)
    }
}

extension FieldTree {
    /// A cut frame's body fields that its captured bytes hold whole (of `fieldTree(_:dialect:cut: true)`): the
    /// header (`size`, type, `tag`), the field the cut fell in (`… (cut)`) and undecoded bytes left out.
    var wholeBodyFields: [FieldNode] {
        roots.filter { !["size", "type", "tag", "undecoded", "trailing"].contains($0.name) && !$0.name.hasSuffix(" (cut)") }
    }
}
