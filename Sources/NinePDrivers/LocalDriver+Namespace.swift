#if canImport(Glibc)
import Glibc
import NinePServer
import NinePWire

/// Creating, linking, renaming and removing names, always relative to a held directory descriptor
/// with a single-element name; xattrs through /proc/self/fd (a symlink's own through its directory's).
extension LocalDriver {
    /// The object `name` in `dir`, without following a symlink there; a symlink's node remembers where it
    /// was found (`Node.place`).
    func node(in dir: Node, _ name: P9String) throws(Errno) -> Node { try nodeAndStat(in: dir, name).node }

    /// The node for `name` in `dir` and the stat that told whether it is a symlink (which the node then
    /// remembers the place of).
    func nodeAndStat(in dir: Node, _ name: P9String) throws(Errno) -> (node: Node, stat: Glibc.stat) {
        let fd = try Local.openat(dir.fd, name, Local.O_PATH | O_NOFOLLOW | O_CLOEXEC)
        let st: Glibc.stat
        do throws(Errno) { st = try Local.stat(fd) } catch {
            Glibc.close(fd)
            throw error
        }
        let isLink = FileType(mode: UInt32(st.st_mode)) == .symlink
        return (Node(fd: fd, place: isLink ? Place(directory: dir, name: name) : nil), st)
    }

    func applyGid(_ node: Node, _ gid: UInt32) {
        guard gid != NineP.noUname else { return }
        _ = fchownat(node.fd, "", uid_t.max, gid_t(gid), Local.AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)
    }

    /// Gives a new object exactly the permissions the client asked for, as diod and QEMU do: the host
    /// narrows them by this process's umask (the client has applied its own already), and the change of
    /// group in `applyGid` drops setuid and setgid. A directory keeps the setuid and setgid bits mkdir gave
    /// it (a setgid parent's), as mkdir(2) ignores them in the mode on a local file system.
    func settleMode(_ node: Node, asked mode: UInt32, isDirectory: Bool = false) {
        guard let st = try? Local.stat(node.fd) else { return }
        let have = UInt32(st.st_mode) & 0o7777
        let want = isDirectory ? (mode & 0o1777) | (have & 0o6000) : mode & 0o7777
        guard have != want else { return }
        _ = fchmodat(AT_FDCWD, node.procPath, mode_t(want), 0)
    }

    public func create(in directory: Node, name: P9String, flags: LOpenFlags, mode: UInt32, gid: UInt32) async throws(Errno) -> (node: Node, file: OpenFile) {
        try Local.checkName(name)
        let host = (Local.hostFlags(flags) & ~O_DIRECTORY) | O_CREAT | O_EXCL | O_NOFOLLOW
        let fd = try Local.openat(directory.fd, name, host, mode_t(mode & 0o7777))
        // The node is the inode just created, taken from the open descriptor (not by name again).
        let pfd = Glibc.open("/proc/self/fd/\(fd)", Local.O_PATH | O_CLOEXEC)
        guard pfd >= 0 else { let e = Local.lastError(); Glibc.close(fd); throw e }
        let node = Node(fd: pfd)
        applyGid(node, gid)
        settleMode(node, asked: mode)
        let st = try Local.stat(pfd)
        return (node, OpenFile(fd: fd, handle: nextHandle(), flags: flags, type: .regular, lockNode: qid(st).path))
    }

    public func mkdir(in directory: Node, name: P9String, mode: UInt32, gid: UInt32) async throws(Errno) -> Node {
        try Local.checkName(name)
        try Local.withName(name) { (n) throws(Errno) in try Local.check(mkdirat(directory.fd, n, mode_t(mode & 0o7777))) }
        let node = try node(in: directory, name)
        applyGid(node, gid)
        settleMode(node, asked: mode, isDirectory: true)
        return node
    }

    public func symlink(in directory: Node, name: P9String, target: P9String, gid: UInt32) async throws(Errno) -> Node {
        try Local.checkName(name)
        guard !target.bytes.isEmpty, !target.bytes.contains(0) else { throw .EINVAL }
        try Local.withName(target) { (t) throws(Errno) in
            try Local.withName(name) { (n) throws(Errno) in try Local.check(symlinkat(t, directory.fd, n)) }
        }
        let node = try node(in: directory, name)
        applyGid(node, gid)
        return node
    }

    public func readlink(_ node: Node) async throws(Errno) -> P9String {
        let st = try Local.stat(node.fd)
        guard FileType(mode: UInt32(st.st_mode)) == .symlink else { throw .EINVAL }
        var buf = [CChar](repeating: 0, count: 4097)
        let n = readlinkat(node.fd, "", &buf, 4096)
        if n < 0 { throw Local.lastError() }
        return P9String(bytes: buf[0..<n].map { UInt8(bitPattern: $0) })
    }

    public func mknod(in directory: Node, name: P9String, mode: UInt32, major: UInt32, minor: UInt32, gid: UInt32) async throws(Errno) -> Node {
        try Local.checkName(name)
        guard let type = FileType(mode: mode), type != .directory, type != .symlink else { throw .EINVAL }
        let dev = dev_t(DeviceNumber.make(major: major, minor: minor))
        try Local.withName(name) { (n) throws(Errno) in
            try Local.check(mknodat(directory.fd, n, mode_t(type.rawValue | (mode & 0o7777)), dev))
        }
        let node = try node(in: directory, name)
        applyGid(node, gid)
        settleMode(node, asked: mode)
        return node
    }

    public func link(_ node: Node, in directory: Node, name: P9String) async throws(Errno) {
        try Local.checkName(name)
        let st = try Local.stat(node.fd)
        let type = FileType(mode: UInt32(st.st_mode))
        if type == .directory { throw .EPERM }
        try Local.withName(name) { (n) throws(Errno) in
            if type == .symlink {
                // Never follow: link the symlink itself, by its name in its directory (linkat without
                // AT_SYMLINK_FOLLOW), or else through its descriptor (AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH).
                if let (path, _) = try? ownPath(node) {
                    try Local.check(linkat(AT_FDCWD, path, directory.fd, n, 0))
                } else {
                    try Local.check(linkat(node.fd, "", directory.fd, n, Local.AT_EMPTY_PATH))
                }
            } else {
                // Following the /proc magic link reaches the held (non-symlink) inode itself, never a path.
                try Local.check(linkat(AT_FDCWD, node.procPath, directory.fd, n, AT_SYMLINK_FOLLOW))
            }
        }
    }

    public func rename(from oldDirectory: Node, _ oldName: P9String, to newDirectory: Node, _ newName: P9String) async throws(Errno) {
        try Local.checkName(oldName)
        try Local.checkName(newName)
        try Local.withName(oldName) { (o) throws(Errno) in
            try Local.withName(newName) { (n) throws(Errno) in try Local.check(renameat(oldDirectory.fd, o, newDirectory.fd, n)) }
        }
    }

    public func unlink(in directory: Node, name: P9String, removeDirectory: Bool) async throws(Errno) {
        try Local.checkName(name)
        try Local.withName(name) { (n) throws(Errno) in
            try Local.check(unlinkat(directory.fd, n, removeDirectory ? AT_REMOVEDIR : 0))
        }
    }

    // MARK: Extended attributes

    public func getxattr(_ node: Node, name: P9String) async throws(Errno) -> [UInt8] {
        let (path, follow) = try ownPath(node)
        guard let get = follow ? Local.getxattr : Local.lgetxattr else { throw .EOPNOTSUPP }
        return try Local.withName(name) { (n) throws(Errno) -> [UInt8] in
            let size = get(path, n, nil, 0)
            if size < 0 { throw Local.lastError() }
            var buf = [UInt8](repeating: 0, count: size)
            let got = buf.withUnsafeMutableBytes { get(path, n, $0.baseAddress, size) }
            if got < 0 { throw Local.lastError() }
            return Array(buf.prefix(got))
        }
    }

    public func listxattr(_ node: Node) async throws(Errno) -> [P9String] {
        let (path, follow) = try ownPath(node)
        guard let list = follow ? Local.listxattr : Local.llistxattr else { throw .EOPNOTSUPP }
        let size = list(path, nil, 0)
        if size < 0 { throw Local.lastError() }
        var buf = [CChar](repeating: 0, count: size)
        let got = list(path, &buf, size)
        if got < 0 { throw Local.lastError() }
        return buf.prefix(got).split(separator: 0).map { P9String(bytes: $0.map { UInt8(bitPattern: $0) }) }
    }

    public func setxattr(_ node: Node, name: P9String, value: [UInt8], flags: XattrFlags) async throws(Errno) {
        let (path, follow) = try ownPath(node)
        guard let set = follow ? Local.setxattr : Local.lsetxattr else { throw .EOPNOTSUPP }
        try Local.withName(name) { (n) throws(Errno) in
            try Local.check(value.withUnsafeBytes { set(path, n, $0.baseAddress, value.count, Int32(bitPattern: flags.rawValue)) })
        }
    }

    public func removexattr(_ node: Node, name: P9String) async throws(Errno) {
        let (path, follow) = try ownPath(node)
        guard let remove = follow ? Local.removexattr : Local.lremovexattr else { throw .EOPNOTSUPP }
        try Local.withName(name) { (n) throws(Errno) in try Local.check(remove(path, n)) }
    }
}
#endif
