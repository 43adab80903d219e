#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// close(2), under a name that does not clash with `IOState.close()`.
func systemClose(_ fd: Int32) {
    _ = close(fd)
}

/// The descriptor and, with direct I/O, the staging buffer; only touched under `CaptureFileSink.io`'s lock.
struct IOState: @unchecked Sendable {
    // @unchecked: `staging` is a raw buffer owned by this state, used only under the lock that holds it.
    /// Direct writes use this alignment for memory, file offsets and lengths: 4 KiB, which every Linux
    /// file system and block device that takes O_DIRECT accepts (most need only 512).
    static let alignment = 4096
    var fd: Int32
    /// The aligned staging buffer (nil: buffered writes).
    var staging: UnsafeMutableRawBufferPointer?
    /// Bytes in `staging` not yet written with O_DIRECT; they belong at file offset `offset`.
    var staged = 0
    /// File offset of `staging`'s first byte (a multiple of `alignment`).
    var offset = 0
    /// How many of the `staged` bytes were last written through the page cache (so an idle periodic write
    /// does not write the same tail again).
    var tailOnFile = 0
    /// Tests: direct writes to let through before refusing one (nil: never refuse).
    var refuseAfter: Int?
    /// Bytes written to the earlier files of a capture cut into several (`switchFile(to:)`).
    var writtenBefore = 0

    init(fd: Int32) {
        self.fd = fd
    }

    /// Turns on O_DIRECT if `fd` is a regular file that takes it, with a staging buffer of `stagingSize`.
    mutating func startDirect(stagingSize: Int) {
        #if os(Linux)
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, setDirect(true) else { return }
        let size = (stagingSize + Self.alignment - 1) / Self.alignment * Self.alignment
        var memory: UnsafeMutableRawPointer?
        guard posix_memalign(&memory, Self.alignment, size) == 0, let memory else {
            setDirect(false)
            return
        }
        staging = UnsafeMutableRawBufferPointer(start: memory, count: size)
        #endif
    }

    /// Sets or clears O_DIRECT on `fd`; true when the flag reads back as asked.
    @discardableResult
    func setDirect(_ on: Bool) -> Bool {
        #if os(Linux)
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0 else { return false }
        let wanted = on ? flags | Self.directFlag : flags & ~Self.directFlag
        guard fcntl(fd, F_SETFL, wanted) == 0 else { return false }
        return (fcntl(fd, F_GETFL) & Self.directFlag != 0) == on
        #else
        return false
        #endif
    }

    /// Clears O_DIRECT after a refused direct write; false if it cannot be cleared (then the error stands).
    mutating func fallBackToBuffered() -> Bool {
        guard setDirect(false) else { return false }
        staging = nil   // the caller still holds and frees the memory
        return true
    }

    mutating func close() {
        if fd >= 0 { systemClose(fd); fd = -1 }
        staging?.deallocate()
        staging = nil
    }

    #if os(Linux)
    /// O_DIRECT, which Swift's Glibc module does not export: its value in Linux's fcntl headers for each
    /// architecture (`setDirect` checks that the flag reads back, so a wrong value only means no direct I/O).
    #if arch(arm64) || arch(arm)
    static let directFlag: Int32 = 0o200000
    #elseif arch(powerpc64le) || arch(powerpc64) || arch(powerpc)
    static let directFlag: Int32 = 0o400000
    #else
    static let directFlag: Int32 = 0o40000
    #endif
    #endif
}
