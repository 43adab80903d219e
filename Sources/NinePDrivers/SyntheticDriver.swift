import NinePServer
import NinePWire
import Synchronization

/// A scripted, read-mostly tree for tests and experiments.
///
/// It holds QEMU's 9pfs synth test tree (names from hw/9pfs/9p-synth.h) and a few experiment files:
/// ```
/// /WALK0/WALK1/…/WALK15   nested directories (walk tests)
/// /LOPEN                  an empty file to open
/// /WRITE                  a file that accepts writes (reads return what was written last)
/// /FLUSH                  writing a 0 byte completes at once; any other byte blocks until the request is
///                         flushed or cancelled (then it fails with EINTR and gets no reply)
/// /ReadDirDir/ReadDirFile0 … ReadDirFile99   a directory of 100 empty files
/// /SLOW                   reads take `options.slowReadDelay`
/// /FAIL                   opens fine, reads and writes fail with `options.failErrno`
/// /SPARSE                 `options.sparseSize` bytes (1 TiB by default) of zeros, read-only
/// ```
/// Namespace changes are not supported (the protocol's EOPNOTSUPP defaults).
public final class SyntheticDriver: FileSystemDriver {
    public struct Options: Sendable {
        public var slowReadDelay: Duration
        public var failErrno: Errno
        public var sparseSize: UInt64
        public init(slowReadDelay: Duration = .milliseconds(200), failErrno: Errno = .EIO, sparseSize: UInt64 = 1 << 40) {
            self.slowReadDelay = slowReadDelay; self.failErrno = failErrno; self.sparseSize = sparseSize
        }
    }

    /// Names used by QEMU's synth tests.
    public static let walkPrefix = "WALK", lopenFile = "LOPEN", writeFile = "WRITE", flushFile = "FLUSH"
    public static let readDirDir = "ReadDirDir", readDirFilePrefix = "ReadDirFile", readDirFileCount = 100
    public static let slowFile = "SLOW", failFile = "FAIL", sparseFile = "SPARSE"

    enum Kind: Sendable { case directory, empty, write, flush, slow, fail, sparse }

    struct Item: Sendable {
        var name: P9String
        var parent: Int
        var kind: Kind
        var children: [Int] = []
    }

    public struct Node: Hashable, Sendable { let index: Int }
    public struct OpenFile: Hashable, Sendable { let index: Int }

    let items: [Item]
    public let options: Options
    private let written = Mutex<[UInt8]>([])
    /// Base of qid paths, so they do not look like small inode numbers.
    static let qidBase: UInt64 = 0x5359_4E00_0000

    public init(options: Options = Options()) {
        self.options = options
        var items = [Item(name: "/", parent: 0, kind: .directory)]
        func add(_ name: String, _ parent: Int, _ kind: Kind) -> Int {
            items.append(Item(name: P9String(name), parent: parent, kind: kind))
            items[parent].children.append(items.count - 1)
            return items.count - 1
        }
        var dir = 0
        for i in 0..<NineP.maxWalkElements { dir = add("\(Self.walkPrefix)\(i)", dir, .directory) }
        _ = add(Self.lopenFile, 0, .empty)
        _ = add(Self.writeFile, 0, .write)
        _ = add(Self.flushFile, 0, .flush)
        let rd = add(Self.readDirDir, 0, .directory)
        for i in 0..<Self.readDirFileCount { _ = add("\(Self.readDirFilePrefix)\(i)", rd, .empty) }
        _ = add(Self.slowFile, 0, .slow)
        _ = add(Self.failFile, 0, .fail)
        _ = add(Self.sparseFile, 0, .sparse)
        self.items = items
    }

    func item(_ i: Int) throws(Errno) -> Item {
        guard items.indices.contains(i) else { throw .ENOENT }
        return items[i]
    }

    func attributes(_ i: Int) throws(Errno) -> NodeAttributes {
        let it = try item(i)
        let mode: UInt32
        let size: UInt64
        switch it.kind {
        case .directory: mode = FileType.directory.rawValue | 0o555; size = 0
        case .write, .flush: mode = FileType.regular.rawValue | 0o666; size = it.kind == .write ? UInt64(written.withLock { $0.count }) : 0
        case .sparse: mode = FileType.regular.rawValue | 0o444; size = options.sparseSize
        case .empty, .slow, .fail: mode = FileType.regular.rawValue | 0o444; size = it.kind == .slow ? 5 : 0
        }
        let nlink: UInt64 = it.kind == .directory ? 2 + UInt64(it.children.filter { items[$0].kind == .directory }.count) : 1
        return NodeAttributes(qid: Qid.derived(mode: mode, path: Self.qidBase + UInt64(i)), mode: mode, nlink: nlink,
                              size: size, blocks: 0)
    }

    public func attach(_ request: AttachRequest) async throws(Errno) -> Node { Node(index: 0) }

    public func lookup(_ directory: Node, name: P9String) async throws(Errno) -> Node {
        let d = try item(directory.index)
        guard d.kind == .directory else { throw .ENOTDIR }
        if name.bytes == [0x2E] { return directory }
        if name.bytes == [0x2E, 0x2E] { return Node(index: d.parent) }
        guard let c = d.children.first(where: { items[$0].name == name }) else { throw .ENOENT }
        return Node(index: c)
    }

    public func getattr(_ node: Node) async throws(Errno) -> NodeAttributes { try attributes(node.index) }

    public func statfs(_ node: Node) async throws(Errno) -> FileSystemStats {
        FileSystemStats(type: 0x5359_4E54, bsize: 4096, files: UInt64(items.count), fsid: Self.qidBase)
    }

    public func open(_ node: Node, flags: LOpenFlags) async throws(Errno) -> OpenFile {
        let it = try item(node.index)
        let writes = flags.accessMode == LOpenFlags.wronly.rawValue || flags.accessMode == LOpenFlags.rdwr.rawValue
        if it.kind == .directory && writes { throw .EISDIR }
        // Truncating is writing (open(2) and open(5) truncate whatever the access mode): refused where
        // writing is, and /WRITE is emptied.
        let truncates = flags.contains(.trunc) && it.kind != .directory
        if (writes || truncates) && ![.write, .flush, .fail].contains(it.kind) { throw .EACCES }
        if flags.contains(.directory) && it.kind != .directory { throw .ENOTDIR }
        if truncates && it.kind == .write { written.withLock { $0 = [] } }
        return OpenFile(index: node.index)
    }

    public func read(_ file: OpenFile, offset: UInt64, count: UInt32) async throws(Errno) -> [UInt8] {
        switch try item(file.index).kind {
        case .directory: throw .EISDIR
        case .empty, .flush: return []
        case .write: return written.withLock { Self.slice($0, offset, count) }
        case .fail: throw options.failErrno
        case .slow:
            do { try await Task.sleep(for: options.slowReadDelay) } catch { throw .EINTR }
            return Self.slice(Array("slow\n".utf8), offset, count)
        case .sparse:
            guard offset < options.sparseSize else { return [] }
            return [UInt8](repeating: 0, count: Int(min(UInt64(count), options.sparseSize - offset)))
        }
    }

    static func slice(_ data: [UInt8], _ offset: UInt64, _ count: UInt32) -> [UInt8] {
        guard offset < UInt64(data.count) else { return [] }
        return Array(data[Int(offset)..<min(data.count, Int(offset) + Int(count))])
    }

    public func write(_ file: OpenFile, offset: UInt64, data: [UInt8]) async throws(Errno) -> UInt32 {
        switch try item(file.index).kind {
        case .write:
            written.withLock { buf in
                let end = Int(min(offset, 1 << 20)) + data.count
                if buf.count < end { buf += [UInt8](repeating: 0, count: end - buf.count) }
                buf.replaceSubrange(Int(min(offset, 1 << 20))..<end, with: data)
            }
            return UInt32(data.count)
        case .flush:
            if data.first == 0 || data.isEmpty { return UInt32(data.count) }
            // Block until the request is flushed (its task cancelled).
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
            throw .EINTR
        case .fail: throw options.failErrno
        case .directory: throw .EISDIR
        default: throw .EBADF
        }
    }

    public func readdir(_ file: OpenFile, after cookie: UInt64, limit: Int) async throws(Errno) -> [DirectoryEntry] {
        let d = try item(file.index)
        guard d.kind == .directory else { throw .ENOTDIR }
        let all: [(P9String, Int)] = [(".", file.index), ("..", d.parent)] + d.children.map { (items[$0].name, $0) }
        var out: [DirectoryEntry] = []
        for (n, (name, idx)) in all.enumerated() where UInt64(n + 1) > cookie {
            guard out.count < limit else { break }
            let a = try attributes(idx)
            out.append(DirectoryEntry(name: name, qid: a.qid, type: a.fileType ?? .regular, cookie: UInt64(n + 1), attributes: a))
        }
        return out
    }

    public func fsync(_ file: OpenFile, dataOnly: Bool) async throws(Errno) {}
}
