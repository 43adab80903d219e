import NinePWire

/// Who attached: a Tattach's `uname` and (9P2000.u/.L) `n_uname`.
public struct AttachUser: Hashable, Sendable, CustomStringConvertible {
    public var uname: P9String
    /// nil when absent (9P2000) or NONUNAME.
    public var nUname: UInt32?
    public init(uname: P9String = "", nUname: UInt32? = nil) {
        self.uname = uname
        self.nUname = nUname == NineP.noUname ? nil : nUname
    }

    /// Whether neither is given.
    public var isEmpty: Bool { uname.isEmpty && nUname == nil }

    /// Both (`glenda(1000)`), the one given (`nobody`, or `65534` when uname is empty, as Linux attaches with
    /// `access=user`), or "" when neither.
    public var description: String {
        var out: [UInt8] = []
        appendDescription(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `description` as UTF-8, appended to `out`.
    public func appendDescription(to out: inout [UInt8]) {
        if !uname.isEmpty { uname.appendEscaped(to: &out) }
        guard let id = nUname else { return }
        if !uname.isEmpty { out.append(0x28) }   // "("
        DecimalText.append(UInt64(id), to: &out)
        if !uname.isEmpty { out.append(0x29) }   // ")"
    }

    /// Whether `name` names this user: the uname (as the wire has it or as escaped for display), the n_uname
    /// as a decimal number, or both as `description` gives them (`glenda(1000)`). Called for every row a
    /// filter looks at, so nothing is built for the common forms.
    public func isNamed(_ name: Substring) -> Bool {
        guard !name.isEmpty else { return false }
        if let id = nUname, UInt32(name) == id { return true }
        if !uname.isEmpty {
            if Self.names(uname, name) { return true }
            if let id = nUname, name.last == ")", let open = name.lastIndex(of: "(") {
                let number = name[name.index(after: open)..<name.index(before: name.endIndex)]
                return UInt32(number) == id && Self.names(uname, name[..<open])
            }
        }
        return false
    }

    public func isNamed(_ name: String) -> Bool { isNamed(name[...]) }

    private static func names(_ uname: P9String, _ name: Substring) -> Bool {
        if name.utf8.elementsEqual(uname.bytes) { return true }
        let plain = uname.bytes.allSatisfy { $0 >= 0x20 && $0 <= 0x7E && $0 != 0x5C }
        return !plain && name == uname.description[...]
    }
}

/// What a fid path is relative to.
public enum PathRoot: Hashable, Sendable {
    /// The root of a Tattach with this `aname`, attached as `user` (a mount with `access=user` attaches once
    /// per user: the same export, a root for each, so that every path says whose it is).
    case attach(aname: P9String, user: AttachUser = AttachUser())
    /// A fid first seen in use (the trace began after it was made): its origin is unknown.
    case unknown
    /// An authentication fid (Tauth afid): not a file.
    case auth
}

/// A fid's path: the attach root plus the names walked from it, `.` and `..` already applied
/// (at the root `..` stays at the root, as walk(5) says; above an unknown root it is kept literally).
public struct FidPath: Hashable, Sendable, CustomStringConvertible {
    /// Who attached the root this path descends from (nil for an unknown or auth root).
    public var user: AttachUser? {
        if case .attach(_, let user) = box.root { return user }
        return nil
    }

    /// Root, elements and (for a path the tracker interns) the rendered description, in one immutable box:
    /// every traced message carries its fid's path, and copying or dropping it is then one reference count
    /// rather than one per array and string in it.
    private final class Box: Sendable {
        let root: PathRoot
        let elements: [P9String]
        let deleted: Bool
        /// `appendDescription`'s bytes, when made (`renderingDescription`).
        let rendered: [UInt8]?
        init(_ root: PathRoot, _ elements: [P9String], deleted: Bool, rendered: [UInt8]? = nil) {
            self.root = root; self.elements = elements; self.deleted = deleted; self.rendered = rendered
        }
    }
    private var box: Box

    public var root: PathRoot {
        get { box.root }
        set { box = Box(newValue, box.elements, deleted: box.deleted) }
    }
    public var elements: [P9String] {
        get { box.elements }
        set { box = Box(box.root, newValue, deleted: box.deleted) }
    }
    /// The name no longer leads to the file the fid holds: while the fid held it, the file was removed
    /// (Tremove of another fid, Tunlinkat) or another was renamed over it (Trename, Trenameat, a Twstat
    /// that renames). Shown as Linux shows such an open file's path, `/tmp/a (deleted)`.
    public var isDeleted: Bool {
        get { box.deleted }
        set { box = Box(box.root, box.elements, deleted: newValue) }
    }

    /// What `description` appends to a deleted path's.
    public static let deletedSuffix = " (deleted)"

    public init(root: PathRoot, elements: [P9String] = [], deleted: Bool = false) {
        box = Box(root, elements, deleted: deleted)
    }

    /// The same path, its description rendered now and kept with it (a change drops it).
    func renderingDescription() -> FidPath {
        var bytes: [UInt8] = []
        appendDescriptionUncached(to: &bytes)
        var p = self
        p.box = Box(box.root, box.elements, deleted: box.deleted, rendered: bytes)
        return p
    }

    public static func == (a: FidPath, b: FidPath) -> Bool {
        a.box === b.box
            || (a.box.root == b.box.root && a.box.elements == b.box.elements && a.box.deleted == b.box.deleted)
    }
    public func hash(into h: inout Hasher) { h.combine(box.root); h.combine(box.elements); h.combine(box.deleted) }

    /// `/usr/bin` for the empty aname; `ANAME:/usr/bin` otherwise; `?/usr/bin` under an unknown root;
    /// `(auth)` for an auth fid; `/tmp/a (deleted)` when `isDeleted`. Names are shown escaped
    /// (`P9String.escaped`).
    public var description: String {
        var bytes: [UInt8] = []
        appendDescription(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `description` as UTF-8, appended to `out` (the same bytes, without the intermediate strings).
    public func appendDescription(to out: inout [UInt8]) {
        if let rendered = box.rendered { out.append(contentsOf: rendered) } else { appendDescriptionUncached(to: &out) }
    }

    private func appendDescriptionUncached(to out: inout [UInt8]) {
        let elements = box.elements
        switch box.root {
        case .attach(let aname, _):
            if !aname.isEmpty { aname.appendEscaped(to: &out); out.append(0x3A) }   // "ANAME:"
        case .unknown:
            out.append(0x3F)                                                         // "?"
        case .auth:
            out.append(contentsOf: "(auth)".utf8)
            if elements.isEmpty { return }
        }
        out.append(0x2F)
        for (i, e) in elements.enumerated() {
            if i > 0 { out.append(0x2F) }
            e.appendEscaped(to: &out)
        }
        if box.deleted { out.append(contentsOf: Self.deletedSuffix.utf8) }
    }

    /// The last element, or nil at the root.
    public var lastElement: P9String? { elements.last }
}

/// Interned paths: a trie of (parent, name) nodes, so a path is stored once however many fids and
/// messages refer to it. Node ids are `Int32`; `PathStore.none` means "no path".
struct PathStore: Sendable {
    static let none: Int32 = -1

    private struct Node: Sendable {
        var parent: Int32
        /// The whole path, built once: every traced message carries its fid's path.
        var path: FidPath
        var root: PathRoot { path.root }
        var depth: Int { path.elements.count }
        /// The last element (empty at a root).
        var name: P9String { path.elements.last ?? P9String(bytes: []) }
    }
    private struct ChildKey: Hashable, Sendable {
        var parent: Int32
        var name: P9String
    }
    private var nodes: [Node] = []
    private var roots: [PathRoot: Int32] = [:]
    private var children: [ChildKey: Int32] = [:]
    /// Per node, its deleted copy (`deleted(_:)`), once made.
    private var deletedCopies: [Int32: Int32] = [:]

    /// The node for a root (created on first use).
    mutating func root(_ r: PathRoot) -> Int32 {
        if let id = roots[r] { return id }
        let id = Int32(nodes.count)
        nodes.append(Node(parent: PathStore.none, path: FidPath(root: r).renderingDescription()))
        roots[r] = id
        return id
    }

    /// `node` with one more element; `..` goes to the parent and `.` stays (Linux and diod walk `.` to the
    /// same directory; Plan 9 file servers have no file named `.`).
    /// `literal`: a `..` the server walked above an attach root (walk-left-root) is kept as a name, since the
    /// fid is then outside the tree; below such a `..`, another `..` is kept too.
    mutating func child(_ node: Int32, _ name: P9String, literal: Bool = false) -> Int32 {
        if node == PathStore.none { return child(root(.unknown), name, literal: literal) }
        if name.bytes == [0x2E] { return node }
        if name.bytes == [0x2E, 0x2E] && !literal {
            let n = nodes[Int(node)]
            if n.depth > 0 && n.name.bytes != [0x2E, 0x2E] { return n.parent }
            if n.depth == 0 && n.root != .unknown { return node }      // `..` of a root is the root (walk(5))
        }
        let key = ChildKey(parent: node, name: name)
        if let id = children[key] { return id }
        let parent = nodes[Int(node)]
        let id = Int32(nodes.count)
        // Below a deleted directory every path is deleted too.
        nodes.append(Node(parent: node, path: FidPath(root: parent.root, elements: parent.path.elements + [name],
                                                      deleted: parent.path.isDeleted).renderingDescription()))
        children[key] = id
        return id
    }

    /// The node `name` leads to from `node`, if one was made (nil for `.`, `..` and names never walked to).
    func existingChild(_ node: Int32, _ name: P9String) -> Int32? {
        guard node != PathStore.none, name.bytes != [0x2E], name.bytes != [0x2E, 0x2E] else { return nil }
        return children[ChildKey(parent: node, name: name)]
    }

    /// `node`'s parent (nil at a root or for `none`).
    func parent(_ node: Int32) -> Int32? {
        guard node != PathStore.none else { return nil }
        let p = nodes[Int(node)].parent
        return p == PathStore.none ? nil : p
    }

    /// Whether `node`'s path is deleted (`FidPath.isDeleted`).
    func isDeleted(_ node: Int32) -> Bool {
        node != PathStore.none && nodes[Int(node)].path.isDeleted
    }

    /// A node with `node`'s path marked deleted: where fids go that held the file once its name was removed
    /// or taken. Its parent is `node`'s, so that `..` from it leads where it led; nothing walks to it by name.
    mutating func deleted(_ node: Int32) -> Int32 {
        guard node != PathStore.none, !isDeleted(node) else { return node }
        if let id = deletedCopies[node] { return id }
        let n = nodes[Int(node)]
        let id = Int32(nodes.count)
        nodes.append(Node(parent: n.parent,
                          path: FidPath(root: n.root, elements: n.path.elements, deleted: true).renderingDescription()))
        deletedCopies[node] = id
        return id
    }

    /// Whether `node` is the root of an attach (not of an unknown or auth fid).
    func isAttachRoot(_ node: Int32) -> Bool {
        guard node != PathStore.none else { return false }
        let n = nodes[Int(node)]
        if case .attach = n.root { return n.depth == 0 }
        return false
    }

    mutating func walk(_ node: Int32, _ names: [P9String]) -> Int32 {
        var n = node
        for name in names { n = child(n, name) }
        return n
    }

    /// The node's whole path (nil for `none`).
    func path(_ node: Int32) -> FidPath? {
        guard node != PathStore.none else { return nil }
        return nodes[Int(node)].path
    }

    /// The element names from `ancestor` down to `node`, or nil when `ancestor` is not an ancestor of
    /// (or equal to) `node`.
    func suffix(of node: Int32, below ancestor: Int32) -> [P9String]? {
        guard node != PathStore.none else { return nil }
        var names: [P9String] = []
        var n = node
        while n != ancestor {
            let rec = nodes[Int(n)]
            if rec.parent == PathStore.none { return nil }
            names.append(rec.name)
            n = rec.parent
        }
        return names.reversed()
    }
}
