#if canImport(Glibc)
import Glibc
import NinePServer
import NinePWire
import Synchronization

extension LocalDriver {
    /// An open host descriptor (and, for directories, its DIR stream); closed when the last reference
    /// goes, so a read still running when the fid is clunked keeps a valid descriptor.
    public final class OpenFile: Sendable {
        let fd: Int32
        let handle: UInt64
        let flags: LOpenFlags
        let isDirectory: Bool
        /// A regular file: its reads and writes finish without waiting for anyone, so they may run on the
        /// caller's executor. Anything else (a FIFO, a socket, a device) may block until another process
        /// acts, and is read and written on `Local.blocking`.
        let isRegular: Bool
        let lockNode: UInt64
        /// Directory stream state (DIR* as an address), serialised by the mutex.
        let stream: Mutex<UInt>

        init(fd: Int32, handle: UInt64, flags: LOpenFlags, type: FileType?, lockNode: UInt64) {
            self.fd = fd; self.handle = handle; self.flags = flags; self.lockNode = lockNode
            self.isDirectory = type == .directory
            self.isRegular = type == .regular
            self.stream = Mutex(0)
        }
        deinit {
            let dir = stream.withLock { $0 }
            if dir != 0, let p = OpaquePointer(bitPattern: dir) { closedir(p) } else { Glibc.close(fd) }
        }
    }

    func nextHandle() -> UInt64 { handles.withLock { $0 += 1; return $0 } }

    /// Opens the inode `node` holds through /proc/self/fd (never a path lookup). Opening a FIFO waits for
    /// the other end (and a device may wait too): those are opened on `Local.blocking`, so that one client
    /// opening a FIFO nobody writes to does not stall every connection sharing its event loop.
    func reopen(_ node: Node, _ flags: LOpenFlags) async throws(Errno) -> OpenFile {
        let st = try Local.stat(node.fd)
        let type = FileType(mode: UInt32(st.st_mode))
        if type == .symlink { throw .ELOOP }
        if flags.contains(.directory) && type != .directory { throw .ENOTDIR }
        if type == .directory && flags.allowsWrite { throw .EISDIR }
        let path = node.procPath, hostFlags = Local.hostFlags(flags)
        if type == .regular || type == .directory {
            let fd = try Local.check(Glibc.open(path, hostFlags))
            return OpenFile(fd: fd, handle: nextHandle(), flags: flags, type: type, lockNode: qid(st).path)
        }
        let fd = try await openWaiting(path, hostFlags, type: type)
        // Its reads and writes wait in poll(2), where an interrupt can end them (LocalDriver+Waiting).
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        return OpenFile(fd: fd, handle: nextHandle(), flags: flags, type: type, lockNode: qid(st).path)
    }

    public func open(_ node: Node, flags: LOpenFlags) async throws(Errno) -> OpenFile { try await reopen(node, flags) }

    public func getattr(open file: OpenFile) async throws(Errno) -> NodeAttributes {
        let (st, birth) = try Local.statWithBirth(file.fd)
        return attributes(st, birth: birth)
    }

    public func read(_ file: OpenFile, offset: UInt64, count: UInt32) async throws(Errno) -> [UInt8] {
        try await read(file, offset: offset, count: count, headroom: 0)
    }

    public func read(_ file: OpenFile, offset: UInt64, count: UInt32, headroom: Int) async throws(Errno) -> [UInt8] {
        if file.isDirectory { throw .EISDIR }
        if file.isRegular { return try Self.readArray(file, offset: offset, count: count, headroom: headroom) }
        return try await Local.interruptible { (interrupt) throws(Errno) in
            try Self.readWaiting(file, offset: offset, count: count, headroom: headroom, interrupt)
        }
    }

    /// `count` bytes at `offset` after `headroom` zero bytes, in one array. No zero-fill of the data:
    /// only the bytes read (and the zeroed headroom) become the array's contents.
    static func readArray(_ file: OpenFile, offset: UInt64, count: UInt32, headroom: Int) throws(Errno) -> [UInt8] {
        let headroom = max(0, headroom)
        var failure: Int32 = 0
        let buf = [UInt8](unsafeUninitializedCapacity: headroom + Int(count)) { raw, initialized in
            for i in 0..<headroom { raw[i] = 0 }
            guard offset <= UInt64(Int64.max) else { failure = EINVAL; initialized = 0; return }
            let n = Local.read(file.fd, raw.baseAddress! + headroom, Int(count), at: offset)
            if n < 0 { failure = errno; initialized = 0 } else { initialized = headroom + n }
        }
        if failure != 0 { throw Errno(UInt32(failure)) }
        return buf
    }

    /// Regular files only: anything else may wait for another process, and `readNow` runs on the caller's
    /// executor.
    public func canReadNow(_ file: OpenFile) -> Bool { file.isRegular }

    public func readNow(_ file: OpenFile, offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        if file.isDirectory { throw .EISDIR }
        guard offset <= UInt64(Int64.max) else { throw .EINVAL }
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        let n = Local.read(file.fd, base, buffer.count, at: offset)
        if n < 0 { throw Local.lastError() }
        return n
    }

    public func write(_ file: OpenFile, offset: UInt64, data: [UInt8]) async throws(Errno) -> UInt32 {
        if canWriteNow(file) {
            return try Local.withBytes(data) { (b) throws(Errno) in try writeNow(file, offset: offset, from: b) }
        }
        if file.isRegular {   // opened for synchronous writes: they wait for the disk
            return try await Local.offload { () throws(Errno) in
                try Local.withBytes(data) { (b) throws(Errno) in try Self.writeBytes(file, offset: offset, b) }
            }
        }
        return try await Local.interruptible { (interrupt) throws(Errno) in
            try Local.withBytes(data) { (b) throws(Errno) in try Self.writeWaiting(file, offset: offset, b, interrupt) }
        }
    }

    /// A regular file not opened for synchronous writes (O_SYNC, O_DSYNC wait for the disk; those writes,
    /// like a FIFO's or a device's, run on `Local.blocking`).
    public func canWriteNow(_ file: OpenFile) -> Bool {
        file.isRegular && !file.flags.contains(.dsync) && !file.flags.contains(.sync)
    }

    public func writeNow(_ file: OpenFile, offset: UInt64, from data: UnsafeRawBufferPointer) throws(Errno) -> UInt32 {
        try Self.writeBytes(file, offset: offset, data)
    }

    static func writeBytes(_ file: OpenFile, offset: UInt64, _ data: UnsafeRawBufferPointer) throws(Errno) -> UInt32 {
        guard offset <= UInt64(Int64.max) else { throw .EINVAL }
        let n = Local.write(file.fd, data.baseAddress, data.count, at: offset)
        if n < 0 { throw Local.lastError() }
        return UInt32(n)
    }

    public func readdir(_ file: OpenFile, after cookie: UInt64, limit: Int) async throws(Errno) -> [DirectoryEntry] {
        guard file.isDirectory else { throw .ENOTDIR }
        return try file.stream.withLock { (addr: inout UInt) throws(Errno) -> [DirectoryEntry] in
            if addr == 0 {
                guard let d = fdopendir(file.fd) else { throw Local.lastError() }
                addr = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(d)))
            }
            guard let dir = OpaquePointer(bitPattern: addr) else { throw .EBADF }
            if cookie == 0 { rewinddir(dir) } else { seekdir(dir, Int(truncatingIfNeeded: cookie)) }
            let dfd = dirfd(dir)
            var out: [DirectoryEntry] = []
            while out.count < limit {
                errno = 0
                guard let ent = Glibc.readdir(dir) else {
                    if errno != 0 { throw Local.lastError() }
                    break
                }
                let name = withUnsafeBytes(of: ent.pointee.d_name) { raw in
                    P9String(bytes: Array(raw.prefix { $0 != 0 }))
                }
                let next = UInt64(bitPattern: Int64(ent.pointee.d_off))
                var st: stat
                do throws(Errno) {
                    st = try Local.statAt(dfd, name)
                } catch {
                    if error == .ENOENT { continue }   // removed while listing
                    throw error
                }
                if name.bytes == [0x2E, 0x2E], isRoot(try Local.stat(dfd)) { st = try Local.stat(dfd) }
                let attrs = attributes(st)
                out.append(DirectoryEntry(name: name, qid: attrs.qid, type: attrs.fileType ?? .regular,
                                          cookie: next, attributes: attrs))
            }
            return out
        }
    }

    /// On `Local.blocking`: flushing to the disk can take long.
    public func fsync(_ file: OpenFile, dataOnly: Bool) async throws(Errno) {
        _ = try await Local.offload { () throws(Errno) in try Local.check(dataOnly ? fdatasync(file.fd) : Glibc.fsync(file.fd)) }
    }

    public func close(_ file: OpenFile) async {
        lockTable.withLock { $0.release(handle: file.handle) }
    }

    public func lock(_ file: OpenFile, _ r: LockRequest) async throws(Errno) -> LockStatus {
        try lockTable.withLock { (t) throws(Errno) -> LockStatus in
            try t.apply(node: file.lockNode, handle: file.handle, canWrite: file.flags.allowsWrite, r)
        }
    }

    public func getlock(_ file: OpenFile, _ r: LockRequest) async throws(Errno) -> LockRequest {
        lockTable.withLock { $0.test(node: file.lockNode, r) }
    }
}
#endif
