#if canImport(Glibc)
import Glibc
import NinePServer
import NinePWire
import Synchronization

/// Passthrough to a host directory, confined to it.
///
/// Confinement works on file descriptors, never on path strings:
/// - every node is an `O_PATH` descriptor; a lookup is `openat(parent, name, O_PATH|O_NOFOLLOW)` with
///   `name` a single element (no `/`, not `.` or `..`; the server resolves `..` from its own path stack
///   and never goes above the attach root);
/// - symlinks are never followed: they are nodes of their own, served with readlink; opening one fails
///   (ELOOP), so a symlink swapped in during a request is not followed either;
/// - files are reopened through `/proc/self/fd/N`, which names the exact inode already held, and every
///   create-type call (`mkdirat`, `symlinkat`, `renameat`, `unlinkat`, `linkat`, …) works relative to a
///   directory descriptor with a single-element name, so no `..`, symlink, rename or hard link can reach
///   outside the tree.
/// Limit: a directory moved out of the tree by another host process while a client holds it is still
/// reachable through that descriptor (the same holds for QEMU's passthrough).
///
/// Qid paths mix `st_dev` in: each device seen gets a small index placed in the top 16 bits; inode
/// numbers that do not fit the remaining 48 bits get a unique number from a per-(dev, ino) map.
/// Locks are kept in-process (between this server's clients), not with fcntl.
public final class LocalDriver: FileSystemDriver {
    /// A held `O_PATH` descriptor; closed when the last reference goes.
    public final class Node: Sendable {
        let fd: Int32
        /// For a symlink: the directory it was found or made in, and its name there. Calls that act on a
        /// symlink itself (its xattrs, its times) name it through that directory's descriptor with a call
        /// that does not follow a path's last element.
        let place: Place?
        init(fd: Int32, place: Place? = nil) { self.fd = fd; self.place = place }
        deinit { Glibc.close(fd) }
        var procPath: String { "/proc/self/fd/\(fd)" }
    }

    struct Place: Sendable {
        let directory: Node
        let name: P9String
    }

    public let root: String
    let rootNode: Node
    let rootId: (dev: UInt64, ino: UInt64)
    private let ids = Mutex(QidMap())
    let lockTable = Mutex(LockTable())
    let handles = Mutex<UInt64>(0)

    struct QidMap {
        var devices: [UInt64: UInt64] = [:]
        var large: [DevIno: UInt64] = [:]
    }
    struct DevIno: Hashable { var dev: UInt64; var ino: UInt64 }

    /// Opens `root` (which must be a directory; a symlink to one is resolved once, here).
    public init(root: String) throws(Errno) {
        let fd = Glibc.open(root, Local.O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw Local.lastError() }
        self.root = root
        self.rootNode = Node(fd: fd)
        let st = try Local.stat(fd)
        self.rootId = (UInt64(st.st_dev), UInt64(st.st_ino))
    }

    func qid(_ st: stat) -> Qid {
        let dev = UInt64(st.st_dev), ino = UInt64(st.st_ino)
        let path: UInt64 = ids.withLock { m in
            let index: UInt64
            if let i = m.devices[dev] { index = i } else { index = UInt64(m.devices.count); m.devices[dev] = index }
            if ino < (1 << 48) && index < (1 << 15) { return index << 48 | ino }
            let key = DevIno(dev: dev, ino: ino)
            if let p = m.large[key] { return p }
            let p = (1 << 63) | UInt64(m.large.count)
            m.large[key] = p
            return p
        }
        let version = UInt32(truncatingIfNeeded: UInt64(st.st_mtim.tv_sec) ^ UInt64(st.st_mtim.tv_nsec) ^ (UInt64(st.st_size) << 8))
        return Qid.derived(mode: UInt32(st.st_mode), path: path, version: version)
    }

    /// Rgetattr's fields from a stat; with a birth time, `btime` too (and its `valid` bit).
    func attributes(_ st: stat, birth: FileTime? = nil) -> NodeAttributes {
        func t(_ ts: timespec) -> FileTime { FileTime(sec: UInt64(max(0, ts.tv_sec)), nsec: UInt64(max(0, ts.tv_nsec))) }
        return NodeAttributes(qid: qid(st), mode: UInt32(st.st_mode), uid: st.st_uid, gid: st.st_gid, nlink: UInt64(st.st_nlink),
                              rdev: UInt64(st.st_rdev), size: UInt64(max(0, st.st_size)), blksize: UInt64(max(0, st.st_blksize)),
                              blocks: UInt64(max(0, st.st_blocks)), atime: t(st.st_atim), mtime: t(st.st_mtim), ctime: t(st.st_ctim),
                              btime: birth ?? .zero, valid: birth == nil ? .basic : GetattrMask.basic.union(.btime))
    }

    /// A path to act on `node` itself, and whether a call may follow it: `/proc/self/fd/N` (followed) for
    /// anything but a symlink; for a symlink, `/proc/self/fd/D/name` through the directory it was found
    /// in, for the calls that never follow a path's last element (`lgetxattr`, `AT_SYMLINK_NOFOLLOW`), so
    /// what they reach is the symlink in the tree, never its target. EOPNOTSUPP when that name no longer
    /// holds this symlink (renamed or removed since it was looked up).
    /// `known` is the node's stat when the caller has it (a node's type never changes).
    func ownPath(_ node: Node, known: stat? = nil) throws(Errno) -> (path: [CChar], follow: Bool) {
        let st: stat
        if let known { st = known } else { st = try Local.stat(node.fd) }
        guard FileType(mode: UInt32(st.st_mode)) == .symlink else { return (Array(node.procPath.utf8CString), true) }
        guard let place = node.place,
              let now = try? Local.statAt(place.directory.fd, place.name),
              now.st_dev == st.st_dev, now.st_ino == st.st_ino else { throw .EOPNOTSUPP }
        var path = Array("\(place.directory.procPath)/".utf8).map { CChar(bitPattern: $0) }
        path += place.name.bytes.map { CChar(bitPattern: $0) }
        path.append(0)
        return (path, false)
    }

    func isRoot(_ st: stat) -> Bool { UInt64(st.st_dev) == rootId.dev && UInt64(st.st_ino) == rootId.ino }

    // MARK: Names and attributes

    public func attach(_ request: AttachRequest) async throws(Errno) -> Node { rootNode }

    public func lookup(_ directory: Node, name: P9String) async throws(Errno) -> Node {
        try Local.checkName(name)
        return try node(in: directory, name)
    }

    public func lookupWithQid(_ directory: Node, name: P9String) async throws(Errno) -> (node: Node, qid: Qid) {
        try Local.checkName(name)
        let (node, st) = try nodeAndStat(in: directory, name)
        return (node, qid(st))
    }

    public func qid(of node: Node) async throws(Errno) -> Qid { qid(try Local.stat(node.fd)) }

    public func getattr(_ node: Node) async throws(Errno) -> NodeAttributes {
        let (st, birth) = try Local.statWithBirth(node.fd)
        return attributes(st, birth: birth)
    }

    public func setattr(_ node: Node, _ c: AttributeChanges) async throws(Errno) {
        // Stat once: the type of the object a node holds never changes. Mode and size go through
        // `/proc/self/fd/N`, which follows the magic link to the held inode and then, for a symlink, its
        // target (which may lie outside the tree): so both are refused for symlinks first.
        let st = try Local.stat(node.fd)
        let isLink = FileType(mode: UInt32(st.st_mode)) == .symlink
        if let m = c.mode {
            if isLink { throw .EOPNOTSUPP }
            try Local.check(fchmodat(AT_FDCWD, node.procPath, mode_t(m & 0o7777), 0))
        }
        if c.uid != nil || c.gid != nil {
            let u = c.uid.map { uid_t($0) } ?? uid_t.max, g = c.gid.map { gid_t($0) } ?? gid_t.max
            try Local.check(fchownat(node.fd, "", u, g, Local.AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
        }
        if let s = c.size {
            if FileType(mode: UInt32(st.st_mode)) == .directory { throw .EISDIR }
            guard s <= UInt64(Int64.max) else { throw .EINVAL }
            if isLink { throw .EINVAL }
            try Local.check(truncate(node.procPath, off_t(s)))
        }
        if c.atime != nil || c.mtime != nil {
            func spec(_ t: AttributeChanges.TimeChange?) -> timespec {
                switch t {
                case nil: timespec(tv_sec: 0, tv_nsec: Int(Local.UTIME_OMIT))
                case .now?: timespec(tv_sec: 0, tv_nsec: Int(Local.UTIME_NOW))
                case .set(let v)?: timespec(tv_sec: Int(clamping: v.sec), tv_nsec: Int(clamping: v.nsec))
                }
            }
            var times = [spec(c.atime), spec(c.mtime)]
            let (path, follow) = try ownPath(node, known: st)
            try Local.check(utimensat(AT_FDCWD, path, &times, follow ? 0 : AT_SYMLINK_NOFOLLOW))
        }
    }

    public func statfs(_ node: Node) async throws(Errno) -> FileSystemStats {
        var s = statvfs()
        try Local.check(fstatvfs(node.fd, &s))
        return FileSystemStats(type: 0x0102_1997, bsize: UInt32(clamping: s.f_bsize), blocks: UInt64(s.f_blocks),
                               bfree: UInt64(s.f_bfree), bavail: UInt64(s.f_bavail), files: UInt64(s.f_files),
                               ffree: UInt64(s.f_ffree), fsid: UInt64(s.f_fsid), namelen: UInt32(clamping: s.f_namemax))
    }
}
#endif
