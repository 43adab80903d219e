import NinePWire

/// The one interface between the 9P server and a filesystem (after QEMU's 9pfs `FileOperations`).
///
/// The server owns 9P's meaning — versions, fids, walks, open modes, iounit, directory packing, flush,
/// dialect-specific errors — and calls a driver with filesystem-shaped requests only. A driver never sees
/// a fid, a tag or a message; it sees nodes (what a walked fid refers to) and open files.
///
/// Rules for implementers:
/// - Every method is `async` and may be called concurrently, from several connections at once.
/// - Failures are Linux errno values (`Errno.ENOENT`, …), never host errno numbers.
/// - Every requirement except ``attach(_:)``, ``lookup(_:name:)`` and ``getattr(_:)`` has a default that
///   fails with `EOPNOTSUPP` (`ENOSYS` for ``statfs(_:)``), so a small driver stays small.
/// - Names passed in are single path elements: never empty, never `.` or `..`, never containing `/` or NUL
///   (the server resolves `.` and `..` itself and refuses the rest). Drivers that touch a real filesystem
///   should still check.
/// - Long operations should honour task cancellation: the server cancels the request's task when the
///   client flushes it (Tflush) or disconnects. Throw `EINTR` when cancelled.
/// - `Node` is what a fid refers to; it may outlive the object (after unlink) and then fails with ENOENT
///   or keeps working, as the driver can. `OpenFile` is what open/create returns; I/O goes through it
///   and must keep working after the name is unlinked.
/// - ``close(_:)`` is called exactly once for every `OpenFile` handed out, when its fid is clunked or the
///   connection ends. An in-flight read or write on the same handle may still be running then, so a
///   driver that owns OS resources should release them when the last reference goes (e.g. in `deinit`).
public protocol FileSystemDriver: Sendable {
    /// A reference to a filesystem object, as held by a walked fid.
    associatedtype Node: Sendable
    /// A handle to an opened object, as held by an open fid.
    associatedtype OpenFile: Sendable

    // MARK: Session

    /// The root node for Tattach. `aname` selects a tree when the driver serves several.
    func attach(_ request: AttachRequest) async throws(Errno) -> Node

    /// An optional hook the server awaits before handling each request (except Tversion and Tflush), in the
    /// request's task: throwing fails the request with that errno; suspending delays it (a flush cancels
    /// the wait); `.closeConnection` drops the connection with the request unanswered, as a server that
    /// dies would. Used by fault injection (`FaultDriver`); nil (the default) costs nothing.
    var requestHook: RequestHook? { get }

    // MARK: Names and attributes

    /// The child `name` of `directory`, without following a symlink at `name`. ENOENT when absent,
    /// ENOTDIR when `directory` is not a directory.
    func lookup(_ directory: Node, name: P9String) async throws(Errno) -> Node
    /// ``lookup(_:name:)`` and the child's ``qid(of:)`` together, as a walk needs them: a driver that learns
    /// the qid while looking the name up (the local driver's lookup stats the object anyway) answers both
    /// from that, one system call fewer per walked name. Optional: the default calls the two.
    func lookupWithQid(_ directory: Node, name: P9String) async throws(Errno) -> (node: Node, qid: Qid)
    /// The node's qid. Default: `getattr(node).qid`. Qid paths must be unique among all live objects the
    /// driver serves (mix the device number in when several filesystems are involved).
    func qid(of node: Node) async throws(Errno) -> Qid
    /// The node's attributes (lstat-like: a symlink reports itself).
    func getattr(_ node: Node) async throws(Errno) -> NodeAttributes
    /// Attributes of an open file (fstat-like); keeps working after unlink where the driver can.
    /// Default: EOPNOTSUPP (the server then falls back to ``getattr(_:)`` on the fid's node).
    func getattr(open file: OpenFile) async throws(Errno) -> NodeAttributes
    /// Changes attributes (chmod, chown, truncate, utimes).
    func setattr(_ node: Node, _ changes: AttributeChanges) async throws(Errno)
    /// Filesystem numbers for the filesystem holding `node`.
    func statfs(_ node: Node) async throws(Errno) -> FileSystemStats

    // MARK: Open files

    /// Opens `node`. `flags` are 9P2000.L open flags (Linux values): access mode, TRUNC, APPEND, DIRECTORY,
    /// NOFOLLOW, SYNC, … (the server has removed CREATE and EXCL). Opening a symlink fails (ELOOP). TRUNC
    /// empties a regular file whatever the access mode (Linux open(2); 9P2000's OREAD|OTRUNC arrives so).
    func open(_ node: Node, flags: LOpenFlags) async throws(Errno) -> OpenFile
    /// Up to `count` bytes at `offset`; fewer (or none) at end of file.
    func read(_ file: OpenFile, offset: UInt64, count: UInt32) async throws(Errno) -> [UInt8]
    /// `read`, into an array whose first `headroom` bytes are left for the caller: the server puts the
    /// Rread header there, so a driver reading from a file descriptor reads straight into the reply frame
    /// (one copy of every payload less). Optional: the default calls `read` and copies.
    func read(_ file: OpenFile, offset: UInt64, count: UInt32, headroom: Int) async throws(Errno) -> [UInt8]
    /// Whether `readNow` works for `file`. Optional: the default is false.
    func canReadNow(_ file: OpenFile) -> Bool
    /// Reads up to `buffer.count` bytes at `offset` straight into `buffer`, synchronously (so it may run
    /// while the transport holds its own buffer open), and returns how many it read: for a driver reading
    /// from a file descriptor, a Tread's data then goes from the file into the socket's buffer with no
    /// copy in between. Called only when `canReadNow(file)`. Optional: the default throws EOPNOTSUPP.
    func readNow(_ file: OpenFile, offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int
    /// Writes `data` at `offset` (at the end for files opened with APPEND); returns the bytes written.
    func write(_ file: OpenFile, offset: UInt64, data: [UInt8]) async throws(Errno) -> UInt32
    /// Whether `writeNow` works for `file`. Optional: the default is false.
    func canWriteNow(_ file: OpenFile) -> Bool
    /// `write`, synchronously, from bytes the transport still holds: a Twrite's data then goes from the
    /// socket's buffer to the file with no copy in between. Called only when `canWriteNow(file)`.
    /// Optional: the default throws EOPNOTSUPP.
    func writeNow(_ file: OpenFile, offset: UInt64, from data: UnsafeRawBufferPointer) throws(Errno) -> UInt32
    /// Entries of an open directory that come after `cookie` (0 = from the start), at most `limit` of them;
    /// an empty result means the end. Include `.` and `..` first (at the root `..` is the root itself); the
    /// server drops them for classic directory reads.
    func readdir(_ file: OpenFile, after cookie: UInt64, limit: Int) async throws(Errno) -> [DirectoryEntry]
    /// fsync (or fdatasync when `dataOnly`).
    func fsync(_ file: OpenFile, dataOnly: Bool) async throws(Errno)
    /// The open file is no longer used by the server (see the rules above). Default: nothing.
    func close(_ file: OpenFile) async

    // MARK: Namespace changes

    /// Creates and opens a regular file `name` in `directory` (Tlcreate, classic Tcreate). `mode` holds
    /// the permission bits; EEXIST when the name exists.
    func create(in directory: Node, name: P9String, flags: LOpenFlags, mode: UInt32, gid: UInt32) async throws(Errno) -> (node: Node, file: OpenFile)
    func mkdir(in directory: Node, name: P9String, mode: UInt32, gid: UInt32) async throws(Errno) -> Node
    func symlink(in directory: Node, name: P9String, target: P9String, gid: UInt32) async throws(Errno) -> Node
    /// The target of a symlink (EINVAL for anything else).
    func readlink(_ node: Node) async throws(Errno) -> P9String
    /// Creates a device, fifo or socket; `mode` includes the `S_IF*` type bits.
    func mknod(in directory: Node, name: P9String, mode: UInt32, major: UInt32, minor: UInt32, gid: UInt32) async throws(Errno) -> Node
    /// A hard link `name` in `directory` to `node` (EPERM for directories).
    func link(_ node: Node, in directory: Node, name: P9String) async throws(Errno)
    /// renameat(2): moves `oldName` in `oldDirectory` to `newName` in `newDirectory`, replacing a
    /// compatible existing target.
    func rename(from oldDirectory: Node, _ oldName: P9String, to newDirectory: Node, _ newName: P9String) async throws(Errno)
    /// unlinkat(2); `removeDirectory` = AT_REMOVEDIR (rmdir semantics: ENOTEMPTY, ENOTDIR).
    func unlink(in directory: Node, name: P9String, removeDirectory: Bool) async throws(Errno)

    // MARK: Extended attributes

    /// ENODATA when absent.
    func getxattr(_ node: Node, name: P9String) async throws(Errno) -> [UInt8]
    func listxattr(_ node: Node) async throws(Errno) -> [P9String]
    func setxattr(_ node: Node, name: P9String, value: [UInt8], flags: XattrFlags) async throws(Errno)
    /// ENODATA when absent.
    func removexattr(_ node: Node, name: P9String) async throws(Errno)

    // MARK: Locks

    /// Sets or clears (type UNLCK) a POSIX byte-range lock. Never blocks: a conflict answers `.blocked`
    /// (the Linux client retries when it asked with the BLOCK flag).
    func lock(_ file: OpenFile, _ request: LockRequest) async throws(Errno) -> LockStatus
    /// The first lock that would conflict with `request`, or `request` with type UNLCK when none would.
    func getlock(_ file: OpenFile, _ request: LockRequest) async throws(Errno) -> LockRequest
}

/// See ``FileSystemDriver/requestHook``.
public typealias RequestHook = @Sendable (MessageType) async throws(Errno) -> RequestVerdict

/// What a ``RequestHook`` decides about a request it let through.
public enum RequestVerdict: Hashable, Sendable {
    /// Handle the request.
    case proceed
    /// Close the connection now, this request and every other one unanswered; the text says why
    /// (``CloseReason/fault(_:)``).
    case closeConnection(String)
}

extension FileSystemDriver {
    public var requestHook: RequestHook? { nil }
    public func qid(of node: Node) async throws(Errno) -> Qid { try await getattr(node).qid }
    public func lookupWithQid(_ directory: Node, name: P9String) async throws(Errno) -> (node: Node, qid: Qid) {
        let node = try await lookup(directory, name: name)
        return (node, try await qid(of: node))
    }
    public func getattr(open file: OpenFile) async throws(Errno) -> NodeAttributes { throw .EOPNOTSUPP }
    public func setattr(_ node: Node, _ changes: AttributeChanges) async throws(Errno) { throw .EOPNOTSUPP }
    public func statfs(_ node: Node) async throws(Errno) -> FileSystemStats { throw .ENOSYS }
    public func open(_ node: Node, flags: LOpenFlags) async throws(Errno) -> OpenFile { throw .EOPNOTSUPP }
    public func read(_ file: OpenFile, offset: UInt64, count: UInt32) async throws(Errno) -> [UInt8] { throw .EOPNOTSUPP }
    public func read(_ file: OpenFile, offset: UInt64, count: UInt32, headroom: Int) async throws(Errno) -> [UInt8] {
        Self.withHeadroom(headroom, try await read(file, offset: offset, count: count))
    }
    public func canReadNow(_ file: OpenFile) -> Bool { false }
    public func readNow(_ file: OpenFile, offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        throw .EOPNOTSUPP
    }

    /// `headroom` zero bytes followed by `data`: what `read(_:offset:count:headroom:)` returns for data
    /// read some other way.
    public static func withHeadroom(_ headroom: Int, _ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: headroom)
        out.reserveCapacity(headroom + data.count)
        out.append(contentsOf: data)
        return out
    }
    public func write(_ file: OpenFile, offset: UInt64, data: [UInt8]) async throws(Errno) -> UInt32 { throw .EOPNOTSUPP }
    public func canWriteNow(_ file: OpenFile) -> Bool { false }
    public func writeNow(_ file: OpenFile, offset: UInt64, from data: UnsafeRawBufferPointer) throws(Errno) -> UInt32 {
        throw .EOPNOTSUPP
    }
    public func readdir(_ file: OpenFile, after cookie: UInt64, limit: Int) async throws(Errno) -> [DirectoryEntry] { throw .EOPNOTSUPP }
    public func fsync(_ file: OpenFile, dataOnly: Bool) async throws(Errno) { throw .EOPNOTSUPP }
    public func close(_ file: OpenFile) async {}
    public func create(in directory: Node, name: P9String, flags: LOpenFlags, mode: UInt32, gid: UInt32) async throws(Errno) -> (node: Node, file: OpenFile) { throw .EOPNOTSUPP }
    public func mkdir(in directory: Node, name: P9String, mode: UInt32, gid: UInt32) async throws(Errno) -> Node { throw .EOPNOTSUPP }
    public func symlink(in directory: Node, name: P9String, target: P9String, gid: UInt32) async throws(Errno) -> Node { throw .EOPNOTSUPP }
    public func readlink(_ node: Node) async throws(Errno) -> P9String { throw .EOPNOTSUPP }
    public func mknod(in directory: Node, name: P9String, mode: UInt32, major: UInt32, minor: UInt32, gid: UInt32) async throws(Errno) -> Node { throw .EOPNOTSUPP }
    public func link(_ node: Node, in directory: Node, name: P9String) async throws(Errno) { throw .EOPNOTSUPP }
    public func rename(from oldDirectory: Node, _ oldName: P9String, to newDirectory: Node, _ newName: P9String) async throws(Errno) { throw .EOPNOTSUPP }
    public func unlink(in directory: Node, name: P9String, removeDirectory: Bool) async throws(Errno) { throw .EOPNOTSUPP }
    public func getxattr(_ node: Node, name: P9String) async throws(Errno) -> [UInt8] { throw .EOPNOTSUPP }
    public func listxattr(_ node: Node) async throws(Errno) -> [P9String] { throw .EOPNOTSUPP }
    public func setxattr(_ node: Node, name: P9String, value: [UInt8], flags: XattrFlags) async throws(Errno) { throw .EOPNOTSUPP }
    public func removexattr(_ node: Node, name: P9String) async throws(Errno) { throw .EOPNOTSUPP }
    public func lock(_ file: OpenFile, _ request: LockRequest) async throws(Errno) -> LockStatus { throw .EOPNOTSUPP }
    public func getlock(_ file: OpenFile, _ request: LockRequest) async throws(Errno) -> LockRequest { throw .EOPNOTSUPP }
}

// Errors thrown by drivers are plain Linux errno values. (This conformance belongs in NinePWire; it lives
// here until NinePWire declares it.)
extension Errno: Error {}
