import NinePServer
import NinePWire

/// A complete filesystem held in memory: directories, regular files, symlinks, hard links, device and
/// fifo nodes, xattrs, POSIX byte-range locks, times, modes and statfs numbers.
///
/// Every attach sees the same tree (aname is ignored). There are no permission checks: every client acts
/// as the owner. Inodes live while a name or an open file refers to them, so an open file keeps working
/// after its last name is unlinked.
public actor MemoryDriver: FileSystemDriver {
    public struct Node: Hashable, Sendable { public let id: UInt64 }
    public struct OpenFile: Hashable, Sendable { public let handle: UInt64; public let node: UInt64 }

    struct Inode {
        var mode: UInt32
        var uid: UInt32 = 0
        var gid: UInt32 = 0
        /// Names referring to this inode (directories: 1, their own entry).
        var links: UInt64 = 1
        var rdev: UInt64 = 0
        var data: [UInt8] = []
        var target: P9String = ""
        /// Directories: name → (inode, cookie); cookies grow with each insertion and never repeat.
        var children: [P9String: (id: UInt64, cookie: UInt64)] = [:]
        var nextCookie: UInt64 = 3
        var parent: UInt64 = 0
        var xattrs: [P9String: [UInt8]] = [:]
        var atime: FileTime, mtime: FileTime, ctime: FileTime, btime: FileTime
        var version: UInt32 = 0
        var openCount = 0

        init(mode: UInt32, now: FileTime) {
            self.mode = mode
            atime = now; mtime = now; ctime = now; btime = now
        }
        var type: FileType? { FileType(mode: mode) }
        var isDirectory: Bool { type == .directory }
    }

    struct Opened {
        var node: UInt64
        var flags: LOpenFlags
    }

    var inodes: [UInt64: Inode] = [:]
    var open: [UInt64: Opened] = [:]
    var locks = LockTable()
    private var nextId: UInt64 = 2
    private var nextHandle: UInt64 = 1
    let rootId: UInt64 = 1
    let clock: @Sendable () -> FileTime
    /// statfs capacity, and the largest file size accepted (EFBIG beyond).
    public let capacity: UInt64
    public let maxFileSize: UInt64
    public let maxInodes: UInt64

    public init(capacity: UInt64 = 1 << 30, maxFileSize: UInt64 = 256 << 20, maxInodes: UInt64 = 1 << 20,
                clock: @escaping @Sendable () -> FileTime = SystemClock.now) {
        self.clock = clock
        self.capacity = capacity
        self.maxFileSize = maxFileSize
        self.maxInodes = maxInodes
        var root = Inode(mode: FileType.directory.rawValue | 0o755, now: clock())
        root.parent = rootId
        inodes[rootId] = root
    }

    func now() -> FileTime { clock() }

    func allocate(_ inode: Inode) throws(Errno) -> UInt64 {
        guard UInt64(inodes.count) < maxInodes else { throw .ENOSPC }
        let id = nextId
        nextId += 1
        inodes[id] = inode
        return id
    }

    func inode(_ id: UInt64) throws(Errno) -> Inode {
        guard let i = inodes[id] else { throw .ENOENT }
        return i
    }

    func directory(_ id: UInt64) throws(Errno) -> Inode {
        let i = try inode(id)
        guard i.isDirectory else { throw .ENOTDIR }
        return i
    }

    /// Drops an inode nobody refers to any more.
    func collect(_ id: UInt64) {
        guard let i = inodes[id], i.links == 0, i.openCount == 0 else { return }
        inodes[id] = nil
    }

    func touch(_ id: UInt64, data: Bool = false) {
        let t = now()
        inodes[id]?.ctime = t
        if data { inodes[id]?.mtime = t; inodes[id]?.version &+= 1 }
    }

    /// Live inodes (named or still open), the root included.
    public var inodeCount: Int { inodes.count }

    var usedBytes: UInt64 { inodes.values.reduce(0) { $0 + UInt64($1.data.count) } }

    // MARK: FileSystemDriver — names and attributes

    public func attach(_ request: AttachRequest) async throws(Errno) -> Node { Node(id: rootId) }

    public func lookup(_ directory: Node, name: P9String) async throws(Errno) -> Node {
        let d = try self.directory(directory.id)
        if name.bytes == [0x2E] { return directory }
        if name.bytes == [0x2E, 0x2E] { return Node(id: d.parent) }
        guard let child = d.children[name] else { throw .ENOENT }
        return Node(id: child.id)
    }

    public func qid(of node: Node) async throws(Errno) -> Qid {
        let i = try inode(node.id)
        return Qid.derived(mode: i.mode, path: node.id, version: i.version)
    }

    public func getattr(_ node: Node) async throws(Errno) -> NodeAttributes { try attributes(node.id) }

    public func getattr(open file: OpenFile) async throws(Errno) -> NodeAttributes { try attributes(file.node) }

    func attributes(_ id: UInt64) throws(Errno) -> NodeAttributes {
        let i = try inode(id)
        let nlink = i.isDirectory ? 2 + UInt64(i.children.values.filter { inodes[$0.id]?.isDirectory == true }.count) : i.links
        let size = i.isDirectory ? 4096 : (i.type == .symlink ? UInt64(i.target.bytes.count) : UInt64(i.data.count))
        return NodeAttributes(qid: Qid.derived(mode: i.mode, path: id, version: i.version), mode: i.mode, uid: i.uid,
                              gid: i.gid, nlink: nlink, rdev: i.rdev, size: size, blksize: 4096,
                              blocks: (UInt64(i.data.count) + 511) / 512, atime: i.atime, mtime: i.mtime,
                              ctime: i.ctime, btime: i.btime, gen: 0, dataVersion: UInt64(i.version),
                              valid: [.basic, .btime, .gen, .dataVersion])
    }

    public func setattr(_ node: Node, _ c: AttributeChanges) async throws(Errno) {
        var i = try inode(node.id)
        let t = now()
        if let m = c.mode { i.mode = (i.mode & FileType.mask) | (m & 0o7777) }
        if let u = c.uid { i.uid = u }
        if let g = c.gid { i.gid = g }
        if let s = c.size {
            guard !i.isDirectory else { throw .EISDIR }
            guard i.type == .regular else { throw .EINVAL }
            guard s <= maxFileSize else { throw .EFBIG }
            try reserveSpace(growingFrom: UInt64(i.data.count), to: s)
            if s < UInt64(i.data.count) { i.data.removeSubrange(Int(s)...) } else { i.data += [UInt8](repeating: 0, count: Int(s) - i.data.count) }
            i.mtime = t
            i.version &+= 1
        }
        switch c.atime { case .now?: i.atime = t; case .set(let v)?: i.atime = v; case nil: break }
        switch c.mtime { case .now?: i.mtime = t; case .set(let v)?: i.mtime = v; case nil: break }
        i.ctime = t
        inodes[node.id] = i
    }

    func reserveSpace(growingFrom old: UInt64, to new: UInt64) throws(Errno) {
        if new > old && usedBytes + (new - old) > capacity { throw .ENOSPC }
    }

    public func statfs(_ node: Node) async throws(Errno) -> FileSystemStats {
        _ = try inode(node.id)
        let used = (usedBytes + 4095) / 4096
        let blocks = capacity / 4096
        let files = UInt64(inodes.count)
        return FileSystemStats(type: 0x0102_1994, bsize: 4096, blocks: blocks, bfree: blocks - min(used, blocks),
                               bavail: blocks - min(used, blocks), files: maxInodes, ffree: maxInodes - min(files, maxInodes),
                               fsid: 0x6E73_6D65_6D00, namelen: 255)
    }

    // MARK: Open files

    public func open(_ node: Node, flags: LOpenFlags) async throws(Errno) -> OpenFile {
        var i = try inode(node.id)
        if i.type == .symlink { throw .ELOOP }
        if flags.contains(.directory) && !i.isDirectory { throw .ENOTDIR }
        let writes = flags.accessMode == LOpenFlags.wronly.rawValue || flags.accessMode == LOpenFlags.rdwr.rawValue
        if i.isDirectory && writes { throw .EISDIR }
        // TRUNC empties a regular file whatever the access mode, as Linux's open(2) does with O_RDONLY|O_TRUNC
        // and open(5) asks of OREAD|OTRUNC (the local driver gets the same from the host).
        if flags.contains(.trunc) && i.type == .regular && !i.data.isEmpty {
            i.data = []
            i.mtime = now(); i.ctime = i.mtime
            i.version &+= 1
        }
        i.openCount += 1
        inodes[node.id] = i
        let handle = nextHandle
        nextHandle += 1
        open[handle] = Opened(node: node.id, flags: flags)
        return OpenFile(handle: handle, node: node.id)
    }

    func opened(_ file: OpenFile) throws(Errno) -> (Opened, Inode) {
        guard let o = open[file.handle] else { throw .EBADF }
        return (o, try inode(o.node))
    }

    public func read(_ file: OpenFile, offset: UInt64, count: UInt32) async throws(Errno) -> [UInt8] {
        let (_, i) = try opened(file)
        if i.isDirectory { throw .EISDIR }
        guard i.type == .regular else { throw .EINVAL }
        guard offset < UInt64(i.data.count) else { return [] }
        let start = Int(offset)
        return Array(i.data[start..<min(i.data.count, start + Int(count))])
    }

    public func write(_ file: OpenFile, offset: UInt64, data: [UInt8]) async throws(Errno) -> UInt32 {
        let (o, i) = try opened(file)
        guard i.type == .regular else { throw i.isDirectory ? .EISDIR : .EINVAL }
        let at = o.flags.contains(.append) ? UInt64(i.data.count) : offset
        let (end, overflow) = at.addingReportingOverflow(UInt64(data.count))
        guard !overflow, end <= maxFileSize else { throw .EFBIG }
        try reserveSpace(growingFrom: UInt64(i.data.count), to: end)
        var n = i
        if end > UInt64(n.data.count) { n.data += [UInt8](repeating: 0, count: Int(end) - n.data.count) }
        n.data.replaceSubrange(Int(at)..<Int(end), with: data)
        n.mtime = now(); n.ctime = n.mtime
        n.version &+= 1
        inodes[o.node] = n
        return UInt32(data.count)
    }

    public func readdir(_ file: OpenFile, after cookie: UInt64, limit: Int) async throws(Errno) -> [DirectoryEntry] {
        let (o, d) = try opened(file)
        guard d.isDirectory else { throw .ENOTDIR }
        var out: [DirectoryEntry] = []
        func add(_ name: P9String, _ id: UInt64, _ c: UInt64) throws(Errno) {
            guard c > cookie, out.count < limit else { return }
            let a = try attributes(id)
            out.append(DirectoryEntry(name: name, qid: a.qid, type: a.fileType ?? .regular, cookie: c, attributes: a))
        }
        try add(".", o.node, 1)
        try add("..", d.parent, 2)
        for (name, child) in d.children.sorted(by: { $0.value.cookie < $1.value.cookie }) where child.cookie > cookie {
            guard out.count < limit else { break }
            try add(name, child.id, child.cookie)
        }
        return out
    }

    public func fsync(_ file: OpenFile, dataOnly: Bool) async throws(Errno) { _ = try opened(file) }

    public func close(_ file: OpenFile) async {
        guard let o = open.removeValue(forKey: file.handle) else { return }
        locks.release(handle: file.handle)
        inodes[o.node]?.openCount -= 1
        collect(o.node)
    }
}
