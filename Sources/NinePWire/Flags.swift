/// Flag words and enumerations carried in messages (MESSAGES.md "Constants").

/// Classic open mode (`mode[1]` of Topen/Tcreate): access in the low 2 bits, plus OTRUNC/ORCLOSE
/// (and Linux's .u OAPPEND 0x80). Unknown bits are preserved.
public struct OpenMode: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let read = OpenMode(rawValue: 0)     // OREAD
    public static let write = OpenMode(rawValue: 1)    // OWRITE
    public static let readWrite = OpenMode(rawValue: 2) // ORDWR
    public static let exec = OpenMode(rawValue: 3)     // OEXEC
    public static let truncBit: UInt8 = 0x10            // OTRUNC
    public static let rexecBit: UInt8 = 0x20            // OREXEC (Linux)
    public static let rcloseBit: UInt8 = 0x40           // ORCLOSE
    public static let appendBit: UInt8 = 0x80           // OAPPEND (Linux .u)
    public var access: UInt8 { rawValue & 3 }
    public var truncate: Bool { rawValue & OpenMode.truncBit != 0 }
    public var removeOnClose: Bool { rawValue & OpenMode.rcloseBit != 0 }
}

/// Plan 9 directory mode / Tcreate perm (DM bits + rwx permission bits).
public struct DirMode: OptionSet, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let dir = DirMode(rawValue: 0x8000_0000)
    public static let append = DirMode(rawValue: 0x4000_0000)
    public static let excl = DirMode(rawValue: 0x2000_0000)
    public static let mount = DirMode(rawValue: 0x1000_0000)
    public static let auth = DirMode(rawValue: 0x0800_0000)
    public static let tmp = DirMode(rawValue: 0x0400_0000)
    public static let symlink = DirMode(rawValue: 0x0200_0000)
    public static let link = DirMode(rawValue: 0x0100_0000)
    public static let device = DirMode(rawValue: 0x0080_0000)
    public static let namedPipe = DirMode(rawValue: 0x0020_0000)
    public static let socket = DirMode(rawValue: 0x0010_0000)
    public static let setuid = DirMode(rawValue: 0x0008_0000)
    public static let setgid = DirMode(rawValue: 0x0004_0000)
    public static let setvtx = DirMode(rawValue: 0x0001_0000)
    public var permissions: UInt32 { rawValue & 0o777 }
}

/// 9P2000.L open flags (Tlopen/Tlcreate `flags[4]`), Linux P9_DOTL_* values. Unknown bits are preserved.
public struct LOpenFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let rdonly: LOpenFlags = []
    public static let wronly = LOpenFlags(rawValue: 0o1)
    public static let rdwr = LOpenFlags(rawValue: 0o2)
    public static let noaccess = LOpenFlags(rawValue: 0o3)
    public static let create = LOpenFlags(rawValue: 0o100)
    public static let excl = LOpenFlags(rawValue: 0o200)
    public static let noctty = LOpenFlags(rawValue: 0o400)
    public static let trunc = LOpenFlags(rawValue: 0o1000)
    public static let append = LOpenFlags(rawValue: 0o2000)
    public static let nonblock = LOpenFlags(rawValue: 0o4000)
    public static let dsync = LOpenFlags(rawValue: 0o10000)
    public static let fasync = LOpenFlags(rawValue: 0o20000)
    public static let direct = LOpenFlags(rawValue: 0o40000)
    public static let largefile = LOpenFlags(rawValue: 0o100000)
    public static let directory = LOpenFlags(rawValue: 0o200000)
    public static let nofollow = LOpenFlags(rawValue: 0o400000)
    public static let noatime = LOpenFlags(rawValue: 0o1000000)
    public static let cloexec = LOpenFlags(rawValue: 0o2000000)
    public static let sync = LOpenFlags(rawValue: 0o4000000)
    public var accessMode: UInt32 { rawValue & 3 }
    /// Names of the bits, for display and the request grammar ("RDONLY", "CREATE", …).
    public static let bitNames: [(String, UInt32)] = [
        ("CREATE", 0o100), ("EXCL", 0o200), ("NOCTTY", 0o400), ("TRUNC", 0o1000), ("APPEND", 0o2000),
        ("NONBLOCK", 0o4000), ("DSYNC", 0o10000), ("FASYNC", 0o20000), ("DIRECT", 0o40000),
        ("LARGEFILE", 0o100000), ("DIRECTORY", 0o200000), ("NOFOLLOW", 0o400000), ("NOATIME", 0o1000000),
        ("CLOEXEC", 0o2000000), ("SYNC", 0o4000000),
    ]
    public static let accessNames = ["RDONLY", "WRONLY", "RDWR", "NOACCESS"]
}

/// Tgetattr request_mask / Rgetattr valid (P9_GETATTR_*).
public struct GetattrMask: OptionSet, Hashable, Sendable {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static let mode = GetattrMask(rawValue: 0x1)
    public static let nlink = GetattrMask(rawValue: 0x2)
    public static let uid = GetattrMask(rawValue: 0x4)
    public static let gid = GetattrMask(rawValue: 0x8)
    public static let rdev = GetattrMask(rawValue: 0x10)
    public static let atime = GetattrMask(rawValue: 0x20)
    public static let mtime = GetattrMask(rawValue: 0x40)
    public static let ctime = GetattrMask(rawValue: 0x80)
    public static let ino = GetattrMask(rawValue: 0x100)
    public static let size = GetattrMask(rawValue: 0x200)
    public static let blocks = GetattrMask(rawValue: 0x400)
    public static let btime = GetattrMask(rawValue: 0x800)
    public static let gen = GetattrMask(rawValue: 0x1000)
    public static let dataVersion = GetattrMask(rawValue: 0x2000)
    public static let basic = GetattrMask(rawValue: 0x7FF)
    public static let all = GetattrMask(rawValue: 0x3FFF)
    public static let bitNames: [(String, UInt64)] = [
        ("MODE", 0x1), ("NLINK", 0x2), ("UID", 0x4), ("GID", 0x8), ("RDEV", 0x10), ("ATIME", 0x20),
        ("MTIME", 0x40), ("CTIME", 0x80), ("INO", 0x100), ("SIZE", 0x200), ("BLOCKS", 0x400),
        ("BTIME", 0x800), ("GEN", 0x1000), ("DATA_VERSION", 0x2000),
    ]
}

/// Tsetattr valid (P9_SETATTR_*).
public struct SetattrValid: OptionSet, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let mode = SetattrValid(rawValue: 0x1)
    public static let uid = SetattrValid(rawValue: 0x2)
    public static let gid = SetattrValid(rawValue: 0x4)
    public static let size = SetattrValid(rawValue: 0x8)
    public static let atime = SetattrValid(rawValue: 0x10)
    public static let mtime = SetattrValid(rawValue: 0x20)
    public static let ctime = SetattrValid(rawValue: 0x40)
    public static let atimeSet = SetattrValid(rawValue: 0x80)
    public static let mtimeSet = SetattrValid(rawValue: 0x100)
    public static let bitNames: [(String, UInt32)] = [
        ("MODE", 0x1), ("UID", 0x2), ("GID", 0x4), ("SIZE", 0x8), ("ATIME", 0x10), ("MTIME", 0x20),
        ("CTIME", 0x40), ("ATIME_SET", 0x80), ("MTIME_SET", 0x100),
    ]
}

/// Lock type (`type[1]`): RDLCK 0, WRLCK 1, UNLCK 2; other values preserved.
public struct LockType: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let rdlck = LockType(rawValue: 0)
    public static let wrlck = LockType(rawValue: 1)
    public static let unlck = LockType(rawValue: 2)
    public var name: String { ["RDLCK", "WRLCK", "UNLCK"].indices.contains(Int(rawValue)) ? ["RDLCK", "WRLCK", "UNLCK"][Int(rawValue)] : String(rawValue) }
}
/// Tlock flags: BLOCK 1, RECLAIM 2.
public struct LockFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let block = LockFlags(rawValue: 1)
    public static let reclaim = LockFlags(rawValue: 2)
}
/// Rlock status: SUCCESS 0, BLOCKED 1, ERROR 2, GRACE 3.
public struct LockStatus: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let success = LockStatus(rawValue: 0)
    public static let blocked = LockStatus(rawValue: 1)
    public static let error = LockStatus(rawValue: 2)
    public static let grace = LockStatus(rawValue: 3)
    public var name: String { ["SUCCESS", "BLOCKED", "ERROR", "GRACE"].indices.contains(Int(rawValue)) ? ["SUCCESS", "BLOCKED", "ERROR", "GRACE"][Int(rawValue)] : String(rawValue) }
}

/// A Linux errno number as carried by Rlerror (and .u Rerror). Values are Linux's (asm-generic),
/// not the host's: never pass a host errno through without translating.
public struct Errno: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ v: UInt32) { self.rawValue = v }
    public static let EPERM = Errno(1), ENOENT = Errno(2), EINTR = Errno(4), EIO = Errno(5), ENXIO = Errno(6)
    public static let E2BIG = Errno(7), EBADF = Errno(9), EAGAIN = Errno(11), ENOMEM = Errno(12), EACCES = Errno(13)
    public static let EFAULT = Errno(14), EBUSY = Errno(16), EEXIST = Errno(17), EXDEV = Errno(18), ENODEV = Errno(19)
    public static let ENOTDIR = Errno(20), EISDIR = Errno(21), EINVAL = Errno(22), ENFILE = Errno(23), EMFILE = Errno(24)
    public static let ENOTTY = Errno(25), EFBIG = Errno(27), ENOSPC = Errno(28), ESPIPE = Errno(29), EROFS = Errno(30)
    public static let EMLINK = Errno(31), EPIPE = Errno(32), ERANGE = Errno(34), EDEADLK = Errno(35)
    public static let ENAMETOOLONG = Errno(36), ENOLCK = Errno(37), ENOSYS = Errno(38), ENOTEMPTY = Errno(39)
    public static let ELOOP = Errno(40), ENODATA = Errno(61), EPROTO = Errno(71), EBADMSG = Errno(74)
    public static let EOVERFLOW = Errno(75), EILSEQ = Errno(84), EMSGSIZE = Errno(90), EOPNOTSUPP = Errno(95)

    /// Symbolic name, number, and the C library's text for it (`strerror`), which is what a 9P2000 or
    /// 9P2000.u server puts in Rerror's `ename` and what the Linux 9P client maps back to the errno (it
    /// compares the whole text, letter case included; any other text becomes "unknown error").
    static let table: [(String, UInt32, String)] = [
        ("EPERM", 1, "Operation not permitted"), ("ENOENT", 2, "No such file or directory"),
        ("EINTR", 4, "Interrupted system call"), ("EIO", 5, "Input/output error"),
        ("ENXIO", 6, "No such device or address"), ("E2BIG", 7, "Argument list too long"),
        ("EBADF", 9, "Bad file descriptor"), ("EAGAIN", 11, "Resource temporarily unavailable"),
        ("ENOMEM", 12, "Cannot allocate memory"), ("EACCES", 13, "Permission denied"), ("EFAULT", 14, "Bad address"),
        ("EBUSY", 16, "Device or resource busy"), ("EEXIST", 17, "File exists"),
        ("EXDEV", 18, "Invalid cross-device link"), ("ENODEV", 19, "No such device"),
        ("ENOTDIR", 20, "Not a directory"), ("EISDIR", 21, "Is a directory"), ("EINVAL", 22, "Invalid argument"),
        ("ENFILE", 23, "Too many open files in system"), ("EMFILE", 24, "Too many open files"),
        ("ENOTTY", 25, "Inappropriate ioctl for device"), ("EFBIG", 27, "File too large"),
        ("ENOSPC", 28, "No space left on device"), ("ESPIPE", 29, "Illegal seek"),
        ("EROFS", 30, "Read-only file system"), ("EMLINK", 31, "Too many links"), ("EPIPE", 32, "Broken pipe"),
        ("ERANGE", 34, "Numerical result out of range"), ("EDEADLK", 35, "Resource deadlock avoided"),
        ("ENAMETOOLONG", 36, "File name too long"), ("ENOLCK", 37, "No locks available"),
        ("ENOSYS", 38, "Function not implemented"), ("ENOTEMPTY", 39, "Directory not empty"),
        ("ELOOP", 40, "Too many levels of symbolic links"), ("ENODATA", 61, "No data available"),
        ("EPROTO", 71, "Protocol error"), ("EBADMSG", 74, "Bad message"),
        ("EOVERFLOW", 75, "Value too large for defined data type"),
        ("EILSEQ", 84, "Invalid or incomplete multibyte or wide character"), ("EMSGSIZE", 90, "Message too long"),
        ("EOPNOTSUPP", 95, "Operation not supported"),
    ]
    /// Error texts of Plan 9's file servers (and the texts ninescope's own server sent before it used the C
    /// library's), each with the errno the Linux 9P client maps it to; read back only (`init(message:)`).
    static let classicTexts: [(String, UInt32)] = [
        ("file does not exist", 2), ("file not found", 2), ("directory entry not found", 2),
        ("illegal path element", 2), ("file already exists", 17), ("file or directory already exists", 17),
        ("directory is not empty", 39), ("not owner", 13), ("i/o error", 5), ("interrupted", 4),
        ("fid unknown or out of range", 9), ("unknown fid", 9), ("bad use of fid", 9), ("fid already in use", 9),
        ("read only file system", 30), ("file is read only", 30), ("file system is full", 28),
        ("illegal mode", 22), ("illegal name", 36), ("protocol botch", 71), ("wstat prohibited", 1),
        ("out of memory", 12), ("cross-device link", 18), ("result out of range", 34),
    ]
    /// Symbolic name ("ENOENT"), or nil when the number is not in our table.
    public var name: String? { Errno.table.first { $0.1 == rawValue }?.0 }
    /// The C library's text ("No such file or directory"): what a 9P2000 or 9P2000.u server sends as
    /// Rerror's `ename` (see `table`); "error N" for a number not in the table.
    public var text: String { Errno.table.first { $0.1 == rawValue }?.2 ?? "error \(rawValue)" }
    /// The text as shown after the symbolic name ("no such file or directory").
    public var message: String {
        let t = text
        guard let first = t.first, t.dropFirst().first?.isUppercase != true else { return t }
        return first.lowercased() + t.dropFirst()
    }
    /// Looks up a symbolic name ("ENOENT", case-insensitive) or a decimal number.
    public init?(name: String) {
        if let n = UInt32(name) { self.rawValue = n; return }
        guard let e = Errno.table.first(where: { $0.0 == name.uppercased() }) else { return nil }
        self.rawValue = e.1
    }
    /// The errno a 9P2000 Rerror's `ename` stands for (letter case aside): the C library's texts and Plan 9
    /// file servers' common ones (`classicTexts`); nil for any other text.
    public init?(message: String) {
        let m = message.lowercased()
        if let e = Errno.table.first(where: { $0.2.lowercased() == m }) { self.rawValue = e.1; return }
        guard let e = Errno.classicTexts.first(where: { $0.0 == m }) else { return nil }
        self.rawValue = e.1
    }
    public var description: String { name ?? String(rawValue) }
}
