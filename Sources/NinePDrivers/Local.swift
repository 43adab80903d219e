#if canImport(Glibc)
import Glibc
import NinePServer
import NinePWire

/// Thin Glibc helpers for `LocalDriver` (Linux values; constants Glibc's Swift module does not export).
enum Local {
    static let O_PATH: Int32 = 0o10000000
    static let AT_EMPTY_PATH: Int32 = 0x1000
    static let UTIME_NOW: Int = (1 << 30) - 1
    static let UTIME_OMIT: Int = (1 << 30) - 2

    /// The calling thread's errno as a Linux Errno (this driver only builds on Linux, where they agree); EIO
    /// when a call failed without setting it, since an Rlerror with ecode 0 reads as success (errno-zero).
    static func lastError() -> Errno { errno == 0 ? .EIO : Errno(UInt32(errno)) }

    @discardableResult
    static func check(_ result: Int32) throws(Errno) -> Int32 {
        if result < 0 { throw lastError() }
        return result
    }

    /// A single path element: not empty, not `.` or `..`, no `/` or NUL.
    static func checkName(_ name: P9String) throws(Errno) {
        let b = name.bytes
        if b.isEmpty || b.contains(0) { throw .ENOENT }
        if b.contains(0x2F) || b == [0x2E] || b == [0x2E, 0x2E] { throw .EACCES }
        if b.count > 255 { throw .ENAMETOOLONG }
    }

    @discardableResult
    static func withName<T>(_ name: P9String, _ body: (UnsafePointer<CChar>) throws(Errno) -> T) throws(Errno) -> T {
        var c = name.bytes.map { CChar(bitPattern: $0) }
        c.append(0)
        return try c.withUnsafeBufferPointer { (p) throws(Errno) -> T in try body(p.baseAddress!) }
    }

    static func openat(_ dir: Int32, _ name: P9String, _ flags: Int32, _ mode: mode_t = 0) throws(Errno) -> Int32 {
        try withName(name) { (n) throws(Errno) -> Int32 in try check(Glibc.openat(dir, n, flags, mode)) }
    }

    /// lstat of what the descriptor refers to.
    static func stat(_ fd: Int32) throws(Errno) -> Glibc.stat {
        var st = Glibc.stat()
        try check(fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
        return st
    }

    /// statx(2): (directory, path, flags, wanted fields, a `struct statx` of 256 bytes). Not in Glibc's
    /// Swift module; looked up once.
    typealias StatX = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UInt32, UnsafeMutableRawPointer) -> Int32
    static let statxCall: StatX? = symbol("statx")
    static let STATX_BASIC_STATS: UInt32 = 0x7FF
    static let STATX_BTIME: UInt32 = 0x800

    /// lstat of what the descriptor refers to, with its birth time where the file system keeps one: one
    /// statx call (`struct statx` read at its UAPI offsets), or fstatat where statx is missing.
    static func statWithBirth(_ fd: Int32) throws(Errno) -> (stat: Glibc.stat, birth: FileTime?) {
        guard let call = statxCall else { return (try stat(fd), nil) }
        return try withUnsafeTemporaryAllocation(byteCount: 256, alignment: 8) { (raw) throws(Errno) -> (stat: Glibc.stat, birth: FileTime?) in
            let p = raw.baseAddress!
            if call(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS | STATX_BTIME, p) != 0 {
                if errno == ENOSYS { return (try stat(fd), nil) }
                throw lastError()
            }
            func u16(_ o: Int) -> UInt16 { p.load(fromByteOffset: o, as: UInt16.self) }
            func u32(_ o: Int) -> UInt32 { p.load(fromByteOffset: o, as: UInt32.self) }
            func u64(_ o: Int) -> UInt64 { p.load(fromByteOffset: o, as: UInt64.self) }
            // struct statx_timestamp: __s64 tv_sec, __u32 tv_nsec, __s32 reserved.
            func time(_ o: Int) -> timespec { timespec(tv_sec: Int(Int64(bitPattern: u64(o))), tv_nsec: Int(u32(o + 8))) }
            var st = Glibc.stat()
            st.st_blksize = blksize_t(u32(4))
            st.st_nlink = nlink_t(u32(16))
            st.st_uid = u32(20)
            st.st_gid = u32(24)
            st.st_mode = mode_t(u16(28))
            st.st_ino = ino_t(u64(32))
            st.st_size = off_t(Int64(bitPattern: u64(40)))
            st.st_blocks = blkcnt_t(Int64(bitPattern: u64(48)))
            st.st_atim = time(64)
            st.st_ctim = time(96)
            st.st_mtim = time(112)
            st.st_rdev = dev_t(DeviceNumber.make(major: u32(128), minor: u32(132)))
            st.st_dev = dev_t(DeviceNumber.make(major: u32(136), minor: u32(140)))
            let b = time(80)
            let birth = u32(0) & STATX_BTIME != 0
                ? FileTime(sec: UInt64(max(0, b.tv_sec)), nsec: UInt64(max(0, b.tv_nsec))) : nil
            return (st, birth)
        }
    }

    static func statAt(_ dir: Int32, _ name: P9String) throws(Errno) -> Glibc.stat {
        var st = Glibc.stat()
        try withName(name) { (n) throws(Errno) in try check(fstatat(dir, n, &st, AT_SYMLINK_NOFOLLOW)) }
        return st
    }

    /// Runs `body` on a thread of its own: the calls that may wait for another process or for the disk
    /// — opening a FIFO, reading or writing a pipe, a socket or a device, O_SYNC writes, fsync — instead of
    /// the caller's executor, which for the server is a connection's event loop that every other
    /// connection on it shares. Not a dispatch queue: its pool has about one thread per CPU, and waits
    /// there (two FIFOs read at once on two CPUs) held up every other job for a second until it grew.
    /// These calls are rare and slow, so a thread's start (tens of µs) costs nothing that shows.
    static func blocking(_ body: @escaping @Sendable () -> Void) {
        final class Job: Sendable {
            let body: @Sendable () -> Void
            init(_ body: @escaping @Sendable () -> Void) { self.body = body }
        }
        let job = Unmanaged.passRetained(Job(body)).toOpaque()
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { argument in
            // A write into a FIFO whose readers have gone fails with EPIPE here instead of signalling
            // the whole process (the signal stays pending on this thread, which then ends).
            var pipeSignal = sigset_t()
            sigemptyset(&pipeSignal)
            sigaddset(&pipeSignal, SIGPIPE)
            pthread_sigmask(SIG_BLOCK, &pipeSignal, nil)
            Unmanaged<Job>.fromOpaque(argument!).takeRetainedValue().body()
            return nil
        }, job)
        if started == 0 {
            pthread_detach(thread)
        } else {
            // No thread to be had (a process or system limit): run it here rather than not at all.
            Unmanaged<Job>.fromOpaque(job).takeRetainedValue().body()
        }
    }

    /// `work` on a thread of its own (`blocking`), its outcome awaited.
    static func onThread<T: Sendable>(_ work: @escaping @Sendable () throws(Errno) -> T) async -> Result<T, Errno> {
        await withCheckedContinuation { continuation in
            blocking {
                do throws(Errno) { continuation.resume(returning: .success(try work())) } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
    }

    static func offload<T: Sendable>(_ work: @escaping @Sendable () throws(Errno) -> T) async throws(Errno) -> T {
        try await onThread(work).get()
    }

    /// `body` with the bytes of `data`, its typed error passed through (`withUnsafeBytes` rethrows untyped).
    static func withBytes<T>(_ data: [UInt8], _ body: (UnsafeRawBufferPointer) throws(Errno) -> T) throws(Errno) -> T {
        try data.withUnsafeBytes { (b) -> Result<T, Errno> in
            do throws(Errno) { return .success(try body(b)) } catch { return .failure(error) }
        }.get()
    }

    /// pread, or read where the file has no offsets (a pipe, a socket, a terminal: ESPIPE). -1 and errno
    /// on failure.
    static func read(_ fd: Int32, _ base: UnsafeMutableRawPointer, _ count: Int, at offset: UInt64) -> Int {
        let n = pread(fd, base, count, off_t(offset))
        return n < 0 && errno == ESPIPE ? Glibc.read(fd, base, count) : n
    }

    /// pwrite, or write where the file has no offsets.
    static func write(_ fd: Int32, _ base: UnsafeRawPointer?, _ count: Int, at offset: UInt64) -> Int {
        let n = pwrite(fd, base, count, off_t(offset))
        return n < 0 && errno == ESPIPE ? Glibc.write(fd, base, count) : n
    }

    /// 9P2000.L open flags → host open flags, bit by bit (CREATE/EXCL are the server's business; NOFOLLOW
    /// cannot apply to a /proc reopen; DIRECT and NOATIME are dropped as host policy).
    static func hostFlags(_ f: LOpenFlags) -> Int32 {
        var h: Int32 = switch f.accessMode {
        case LOpenFlags.wronly.rawValue: O_WRONLY
        case LOpenFlags.rdwr.rawValue: O_RDWR
        default: O_RDONLY
        }
        if f.contains(.trunc) { h |= O_TRUNC }
        if f.contains(.append) { h |= O_APPEND }
        if f.contains(.nonblock) { h |= O_NONBLOCK }
        if f.contains(.dsync) { h |= O_DSYNC }
        if f.contains(.sync) { h |= O_SYNC }
        if f.contains(.directory) { h |= O_DIRECTORY }
        return h | O_CLOEXEC
    }

    // xattr calls are not in Glibc's Swift module; look them up once.
    typealias GetX = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeMutableRawPointer?, Int) -> Int
    typealias ListX = @convention(c) (UnsafePointer<CChar>, UnsafeMutablePointer<CChar>?, Int) -> Int
    typealias SetX = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeRawPointer?, Int, Int32) -> Int32
    typealias RemoveX = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>) -> Int32
    static let getxattr: GetX? = symbol("getxattr")
    static let listxattr: ListX? = symbol("listxattr")
    static let setxattr: SetX? = symbol("setxattr")
    static let removexattr: RemoveX? = symbol("removexattr")
    // The same on a path's last element itself, never following it.
    static let lgetxattr: GetX? = symbol("lgetxattr")
    static let llistxattr: ListX? = symbol("llistxattr")
    static let lsetxattr: SetX? = symbol("lsetxattr")
    static let lremovexattr: RemoveX? = symbol("lremovexattr")

    static func symbol<T>(_ name: String) -> T? {
        guard let p = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
        return unsafeBitCast(p, to: T.self)
    }
}
#endif
