import NinePServer
import NinePWire

/// Serves `Main` for every attach name except `ctl`, which gets a tiny control tree like diod's:
/// ```
/// /zero   reads return `count` zero bytes (never end of file); writes are refused (EACCES)
/// /null   reads return end of file; writes are accepted and discarded
/// ```
/// diod's own clients attach `ctl` by default (`diodcat`, `diodls`) and `diodload` copies `ctl:zero` to
/// `ctl:null`, so this lets them run against any ninescope driver. Faults from a `FaultDriver` wrapped
/// around this driver apply to both trees.
public final class CtlTreeDriver<Main: FileSystemDriver>: FileSystemDriver {
    /// The attach name that selects the control tree.
    public static var ctlName: String { "ctl" }

    public enum CtlItem: UInt64, Sendable, CaseIterable {
        case root = 1, zero = 2, null = 3
        var name: P9String { self == .zero ? "zero" : self == .null ? "null" : "/" }
        var mode: UInt32 { self == .root ? FileType.directory.rawValue | 0o555 : FileType.regular.rawValue | 0o666 }
        var qid: Qid { Qid.derived(mode: mode, path: 0x6374_6C00_0000 | rawValue) }
    }

    public enum Node: Sendable {
        case main(Main.Node)
        case ctl(CtlItem)
    }

    public enum OpenFile: Sendable {
        case main(Main.OpenFile)
        case ctl(CtlItem)
    }

    public let main: Main

    public init(main: Main) { self.main = main }

    public var requestHook: RequestHook? { main.requestHook }

    func attributes(_ item: CtlItem) -> NodeAttributes {
        NodeAttributes(qid: item.qid, mode: item.mode, nlink: item == .root ? 2 : 1)
    }

    // MARK: Session, names and attributes

    public func attach(_ request: AttachRequest) async throws(Errno) -> Node {
        if request.aname.string == Self.ctlName { return .ctl(.root) }
        return .main(try await main.attach(request))
    }

    public func lookup(_ directory: Node, name: P9String) async throws(Errno) -> Node {
        switch directory {
        case .main(let n): return .main(try await main.lookup(n, name: name))
        case .ctl(.root):
            guard let item = CtlItem.allCases.first(where: { $0 != .root && $0.name == name }) else { throw .ENOENT }
            return .ctl(item)
        case .ctl: throw .ENOTDIR
        }
    }

    public func lookupWithQid(_ directory: Node, name: P9String) async throws(Errno) -> (node: Node, qid: Qid) {
        guard case .main(let n) = directory else {
            let node = try await lookup(directory, name: name)
            return (node, try await qid(of: node))
        }
        let (child, qid) = try await main.lookupWithQid(n, name: name)
        return (.main(child), qid)
    }

    public func qid(of node: Node) async throws(Errno) -> Qid {
        switch node {
        case .main(let n): try await main.qid(of: n)
        case .ctl(let i): i.qid
        }
    }

    public func getattr(_ node: Node) async throws(Errno) -> NodeAttributes {
        switch node {
        case .main(let n): try await main.getattr(n)
        case .ctl(let i): attributes(i)
        }
    }

    public func getattr(open file: OpenFile) async throws(Errno) -> NodeAttributes {
        switch file {
        case .main(let f): try await main.getattr(open: f)
        case .ctl(let i): attributes(i)
        }
    }

    public func setattr(_ node: Node, _ changes: AttributeChanges) async throws(Errno) {
        guard case .main(let n) = node else { throw .EPERM }
        try await main.setattr(n, changes)
    }

    public func statfs(_ node: Node) async throws(Errno) -> FileSystemStats {
        guard case .main(let n) = node else {
            return FileSystemStats(type: 0x0102_1997, bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 3, ffree: 0,
                                   fsid: 0x6374_6C00, namelen: 255)
        }
        return try await main.statfs(n)
    }

    // MARK: Open files

    public func open(_ node: Node, flags: LOpenFlags) async throws(Errno) -> OpenFile {
        switch node {
        case .main(let n): return .main(try await main.open(n, flags: flags))
        case .ctl(.root):
            if flags.allowsWrite { throw .EISDIR }
            return .ctl(.root)
        case .ctl(let i):
            if flags.contains(.directory) { throw .ENOTDIR }
            return .ctl(i)
        }
    }

    public func read(_ file: OpenFile, offset: UInt64, count: UInt32) async throws(Errno) -> [UInt8] {
        switch file {
        case .main(let f): try await main.read(f, offset: offset, count: count)
        case .ctl(.zero): [UInt8](repeating: 0, count: Int(count))
        case .ctl(.null): []
        case .ctl(.root): throw .EISDIR
        }
    }

    public func read(_ file: OpenFile, offset: UInt64, count: UInt32, headroom: Int) async throws(Errno) -> [UInt8] {
        if case .main(let f) = file { return try await main.read(f, offset: offset, count: count, headroom: headroom) }
        return Self.withHeadroom(headroom, try await read(file, offset: offset, count: count))
    }

    public func canReadNow(_ file: OpenFile) -> Bool { servesAtOnce(file, main.canReadNow) }

    /// Whether `readNow`/`writeNow` serve `file`: zero's and null's at once, the main tree's as its driver says.
    private func servesAtOnce(_ file: OpenFile, _ inMain: (Main.OpenFile) -> Bool) -> Bool {
        switch file {
        case .main(let f): inMain(f)
        case .ctl(.zero), .ctl(.null): true
        case .ctl(.root): false
        }
    }

    public func readNow(_ file: OpenFile, offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        switch file {
        case .main(let f): return try main.readNow(f, offset: offset, into: buffer)
        case .ctl(.zero):
            buffer.initializeMemory(as: UInt8.self, repeating: 0)
            return buffer.count
        case .ctl(.null): return 0
        case .ctl(.root): throw .EISDIR
        }
    }

    public func write(_ file: OpenFile, offset: UInt64, data: [UInt8]) async throws(Errno) -> UInt32 {
        switch file {
        case .main(let f): try await main.write(f, offset: offset, data: data)
        case .ctl(.null): UInt32(data.count)
        case .ctl(.zero): throw .EACCES
        case .ctl(.root): throw .EISDIR
        }
    }

    public func canWriteNow(_ file: OpenFile) -> Bool { servesAtOnce(file, main.canWriteNow) }

    public func writeNow(_ file: OpenFile, offset: UInt64, from data: UnsafeRawBufferPointer) throws(Errno) -> UInt32 {
        switch file {
        case .main(let f): return try main.writeNow(f, offset: offset, from: data)
        case .ctl(.null): return UInt32(data.count)
        case .ctl(.zero): throw .EACCES
        case .ctl(.root): throw .EISDIR
        }
    }

    public func readdir(_ file: OpenFile, after cookie: UInt64, limit: Int) async throws(Errno) -> [DirectoryEntry] {
        switch file {
        case .main(let f): return try await main.readdir(f, after: cookie, limit: limit)
        case .ctl(.root):
            let all: [(P9String, CtlItem)] = [(".", .root), ("..", .root), ("zero", .zero), ("null", .null)]
            return all.enumerated().dropFirst(Int(min(cookie, 4))).prefix(limit).map { n, e in
                DirectoryEntry(name: e.0, qid: e.1.qid, type: e.1 == .root ? .directory : .regular,
                               cookie: UInt64(n + 1), attributes: attributes(e.1))
            }
        case .ctl: throw .ENOTDIR
        }
    }

    public func fsync(_ file: OpenFile, dataOnly: Bool) async throws(Errno) {
        if case .main(let f) = file { try await main.fsync(f, dataOnly: dataOnly) }
    }

    public func close(_ file: OpenFile) async {
        if case .main(let f) = file { await main.close(f) }
    }

    // MARK: Namespace changes (the control tree is fixed)

    public func create(in directory: Node, name: P9String, flags: LOpenFlags, mode: UInt32, gid: UInt32) async throws(Errno) -> (node: Node, file: OpenFile) {
        guard case .main(let d) = directory else { throw .EPERM }
        let r = try await main.create(in: d, name: name, flags: flags, mode: mode, gid: gid)
        return (.main(r.node), .main(r.file))
    }

    public func mkdir(in directory: Node, name: P9String, mode: UInt32, gid: UInt32) async throws(Errno) -> Node {
        guard case .main(let d) = directory else { throw .EPERM }
        return .main(try await main.mkdir(in: d, name: name, mode: mode, gid: gid))
    }

    public func symlink(in directory: Node, name: P9String, target: P9String, gid: UInt32) async throws(Errno) -> Node {
        guard case .main(let d) = directory else { throw .EPERM }
        return .main(try await main.symlink(in: d, name: name, target: target, gid: gid))
    }

    public func readlink(_ node: Node) async throws(Errno) -> P9String {
        guard case .main(let n) = node else { throw .EINVAL }
        return try await main.readlink(n)
    }

    public func mknod(in directory: Node, name: P9String, mode: UInt32, major: UInt32, minor: UInt32, gid: UInt32) async throws(Errno) -> Node {
        guard case .main(let d) = directory else { throw .EPERM }
        return .main(try await main.mknod(in: d, name: name, mode: mode, major: major, minor: minor, gid: gid))
    }

    public func link(_ node: Node, in directory: Node, name: P9String) async throws(Errno) {
        guard case .main(let n) = node, case .main(let d) = directory else { throw .EXDEV }
        try await main.link(n, in: d, name: name)
    }

    public func rename(from oldDirectory: Node, _ oldName: P9String, to newDirectory: Node, _ newName: P9String) async throws(Errno) {
        guard case .main(let o) = oldDirectory, case .main(let n) = newDirectory else { throw .EXDEV }
        try await main.rename(from: o, oldName, to: n, newName)
    }

    public func unlink(in directory: Node, name: P9String, removeDirectory: Bool) async throws(Errno) {
        guard case .main(let d) = directory else { throw .EPERM }
        try await main.unlink(in: d, name: name, removeDirectory: removeDirectory)
    }

    // MARK: Extended attributes and locks

    public func getxattr(_ node: Node, name: P9String) async throws(Errno) -> [UInt8] {
        guard case .main(let n) = node else { throw .ENODATA }
        return try await main.getxattr(n, name: name)
    }

    public func listxattr(_ node: Node) async throws(Errno) -> [P9String] {
        guard case .main(let n) = node else { return [] }
        return try await main.listxattr(n)
    }

    public func setxattr(_ node: Node, name: P9String, value: [UInt8], flags: XattrFlags) async throws(Errno) {
        guard case .main(let n) = node else { throw .EPERM }
        try await main.setxattr(n, name: name, value: value, flags: flags)
    }

    public func removexattr(_ node: Node, name: P9String) async throws(Errno) {
        guard case .main(let n) = node else { throw .ENODATA }
        try await main.removexattr(n, name: name)
    }

    public func lock(_ file: OpenFile, _ request: LockRequest) async throws(Errno) -> LockStatus {
        guard case .main(let f) = file else { return .success }
        return try await main.lock(f, request)
    }

    public func getlock(_ file: OpenFile, _ request: LockRequest) async throws(Errno) -> LockRequest {
        guard case .main(let f) = file else { var r = request; r.type = .unlck; return r }
        return try await main.getlock(f, request)
    }
}
