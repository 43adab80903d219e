import NinePServer
import NinePWire

/// Creating, linking, renaming and removing names; xattrs.
extension MemoryDriver {
    /// Adds a new inode under `name` in directory `dir`.
    func insert(_ inode: Inode, named name: P9String, in dir: UInt64) throws(Errno) -> UInt64 {
        var d = try directory(dir)
        guard d.children[name] == nil else { throw .EEXIST }
        var n = inode
        if n.gid == NineP.noUname { n.gid = d.gid }
        if n.isDirectory { n.parent = dir }
        let id = try allocate(n)
        d.children[name] = (id, d.nextCookie)
        d.nextCookie += 1
        d.mtime = now(); d.ctime = d.mtime
        d.version &+= 1
        inodes[dir] = d
        return id
    }

    public func create(in directory: Node, name: P9String, flags: LOpenFlags, mode: UInt32, gid: UInt32) async throws(Errno) -> (node: Node, file: OpenFile) {
        var i = Inode(mode: FileType.regular.rawValue | (mode & 0o7777), now: now())
        i.gid = gid
        let id = try insert(i, named: name, in: directory.id)
        let node = Node(id: id)
        return (node, try await open(node, flags: flags.subtracting(.trunc)))
    }

    public func mkdir(in directory: Node, name: P9String, mode: UInt32, gid: UInt32) async throws(Errno) -> Node {
        var i = Inode(mode: FileType.directory.rawValue | (mode & 0o7777), now: now())
        i.gid = gid
        return Node(id: try insert(i, named: name, in: directory.id))
    }

    public func symlink(in directory: Node, name: P9String, target: P9String, gid: UInt32) async throws(Errno) -> Node {
        var i = Inode(mode: FileType.symlink.rawValue | 0o777, now: now())
        i.gid = gid
        i.target = target
        return Node(id: try insert(i, named: name, in: directory.id))
    }

    public func readlink(_ node: Node) async throws(Errno) -> P9String {
        let i = try inode(node.id)
        guard i.type == .symlink else { throw .EINVAL }
        return i.target
    }

    public func mknod(in directory: Node, name: P9String, mode: UInt32, major: UInt32, minor: UInt32, gid: UInt32) async throws(Errno) -> Node {
        guard let type = FileType(mode: mode), type != .directory, type != .symlink else { throw .EINVAL }
        var i = Inode(mode: type.rawValue | (mode & 0o7777), now: now())
        i.gid = gid
        if type == .blockDevice || type == .characterDevice { i.rdev = DeviceNumber.make(major: major, minor: minor) }
        return Node(id: try insert(i, named: name, in: directory.id))
    }

    public func link(_ node: Node, in directory: Node, name: P9String) async throws(Errno) {
        var i = try inode(node.id)
        guard !i.isDirectory else { throw .EPERM }
        guard i.links > 0 else { throw .ENOENT }
        var d = try self.directory(directory.id)
        guard d.children[name] == nil else { throw .EEXIST }
        d.children[name] = (node.id, d.nextCookie)
        d.nextCookie += 1
        d.mtime = now(); d.ctime = d.mtime
        d.version &+= 1
        inodes[directory.id] = d
        i.links += 1
        i.ctime = now()
        inodes[node.id] = i
    }

    public func unlink(in directory: Node, name: P9String, removeDirectory: Bool) async throws(Errno) {
        var d = try self.directory(directory.id)
        guard let child = d.children[name] else { throw .ENOENT }
        let c = try inode(child.id)
        if removeDirectory {
            guard c.isDirectory else { throw .ENOTDIR }
            guard c.children.isEmpty else { throw .ENOTEMPTY }
        } else if c.isDirectory {
            throw .EISDIR
        }
        d.children[name] = nil
        d.mtime = now(); d.ctime = d.mtime
        d.version &+= 1
        inodes[directory.id] = d
        inodes[child.id]?.links -= 1
        inodes[child.id]?.ctime = now()
        collect(child.id)
    }

    public func rename(from oldDirectory: Node, _ oldName: P9String, to newDirectory: Node, _ newName: P9String) async throws(Errno) {
        var src = try directory(oldDirectory.id)
        _ = try directory(newDirectory.id)
        guard let moving = src.children[oldName] else { throw .ENOENT }
        let m = try inode(moving.id)
        if m.isDirectory {
            // The destination must not be inside the directory being moved.
            var cur = newDirectory.id
            while true {
                if cur == moving.id { throw .EINVAL }
                if cur == rootId { break }
                cur = try inode(cur).parent
            }
        }
        if let existing = try directory(newDirectory.id).children[newName] {
            if existing.id == moving.id { return }
            let e = try inode(existing.id)
            if m.isDirectory {
                guard e.isDirectory else { throw .ENOTDIR }
                guard e.children.isEmpty else { throw .ENOTEMPTY }
            } else if e.isDirectory {
                throw .EISDIR
            }
            try await unlink(in: newDirectory, name: newName, removeDirectory: e.isDirectory)
            src = try directory(oldDirectory.id)
        }
        src.children[oldName] = nil
        src.mtime = now(); src.ctime = src.mtime
        src.version &+= 1
        inodes[oldDirectory.id] = src
        var dst = try directory(newDirectory.id)
        dst.children[newName] = (moving.id, dst.nextCookie)
        dst.nextCookie += 1
        dst.mtime = now(); dst.ctime = dst.mtime
        dst.version &+= 1
        inodes[newDirectory.id] = dst
        if m.isDirectory { inodes[moving.id]?.parent = newDirectory.id }
        inodes[moving.id]?.ctime = now()
    }

    // MARK: Extended attributes

    public func getxattr(_ node: Node, name: P9String) async throws(Errno) -> [UInt8] {
        guard let v = try inode(node.id).xattrs[name] else { throw .ENODATA }
        return v
    }

    public func listxattr(_ node: Node) async throws(Errno) -> [P9String] {
        try inode(node.id).xattrs.keys.sorted()
    }

    public func setxattr(_ node: Node, name: P9String, value: [UInt8], flags: XattrFlags) async throws(Errno) {
        var i = try inode(node.id)
        let exists = i.xattrs[name] != nil
        if flags.contains(.create) && exists { throw .EEXIST }
        if flags.contains(.replace) && !exists { throw .ENODATA }
        i.xattrs[name] = value
        i.ctime = now()
        inodes[node.id] = i
    }

    public func removexattr(_ node: Node, name: P9String) async throws(Errno) {
        var i = try inode(node.id)
        guard i.xattrs.removeValue(forKey: name) != nil else { throw .ENODATA }
        i.ctime = now()
        inodes[node.id] = i
    }

    // MARK: Seeding (for `serve`, demos and tests)

    /// Resolves a slash-separated path from the root ("" or "/" is the root).
    func resolve(_ path: String) throws(Errno) -> UInt64 {
        var id = rootId
        for part in path.split(separator: "/") {
            guard let c = try directory(id).children[P9String(String(part))] else { throw .ENOENT }
            id = c.id
        }
        return id
    }

    private func split(_ path: String) throws(Errno) -> (UInt64, P9String) {
        var parts = path.split(separator: "/").map(String.init)
        guard let last = parts.popLast() else { throw .EEXIST }
        return (try resolve(parts.joined(separator: "/")), P9String(last))
    }

    /// Creates directories along `path` as needed (`mkdir -p`).
    public func makeDirectories(_ path: String, mode: UInt32 = 0o755) throws(Errno) {
        var id = rootId
        for part in path.split(separator: "/") {
            let name = P9String(String(part))
            if let c = try directory(id).children[name] { id = c.id; continue }
            id = try insert(Inode(mode: FileType.directory.rawValue | mode, now: now()), named: name, in: id)
        }
    }

    /// Creates (or replaces the contents of) a regular file, making parent directories.
    public func makeFile(_ path: String, contents: [UInt8] = [], mode: UInt32 = 0o644) throws(Errno) {
        try makeDirectories(path.split(separator: "/").dropLast().joined(separator: "/"))
        let (dir, name) = try split(path)
        let id: UInt64
        if let c = try directory(dir).children[name] { id = c.id } else {
            id = try insert(Inode(mode: FileType.regular.rawValue | mode, now: now()), named: name, in: dir)
        }
        inodes[id]?.data = contents
    }

    /// Creates a symlink at `path` pointing at `target`.
    public func makeSymlink(_ path: String, target: String) throws(Errno) {
        let (dir, name) = try split(path)
        var i = Inode(mode: FileType.symlink.rawValue | 0o777, now: now())
        i.target = P9String(target)
        _ = try insert(i, named: name, in: dir)
    }

    /// The contents of the regular file at `path`.
    public func contents(of path: String) throws(Errno) -> [UInt8] {
        try inode(try resolve(path)).data
    }
}
