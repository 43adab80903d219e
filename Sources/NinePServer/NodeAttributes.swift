import NinePWire

/// A point in time as seconds and nanoseconds since the Unix epoch.
public struct FileTime: Hashable, Sendable, Comparable {
    public var sec: UInt64
    public var nsec: UInt64
    public init(sec: UInt64, nsec: UInt64 = 0) { self.sec = sec; self.nsec = nsec }
    public static let zero = FileTime(sec: 0)
    public static func < (a: FileTime, b: FileTime) -> Bool { (a.sec, a.nsec) < (b.sec, b.nsec) }
}

/// What a driver reports about a node: the fields of Rgetattr, which the server also turns into a
/// classic `Stat` for 9P2000 and 9P2000.u.
public struct NodeAttributes: Hashable, Sendable {
    public var qid: Qid
    /// Linux `st_mode`, type bits included (`0o100644`, `0o040755`, …).
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var nlink: UInt64
    public var rdev: UInt64
    public var size: UInt64
    public var blksize: UInt64
    public var blocks: UInt64
    public var atime: FileTime
    public var mtime: FileTime
    public var ctime: FileTime
    public var btime: FileTime
    public var gen: UInt64
    public var dataVersion: UInt64
    /// Which fields are meaningful (Rgetattr `valid`); `.basic` by default.
    public var valid: GetattrMask

    public init(qid: Qid, mode: UInt32, uid: UInt32 = 0, gid: UInt32 = 0, nlink: UInt64 = 1, rdev: UInt64 = 0,
                size: UInt64 = 0, blksize: UInt64 = 4096, blocks: UInt64 = 0, atime: FileTime = .zero,
                mtime: FileTime = .zero, ctime: FileTime = .zero, btime: FileTime = .zero, gen: UInt64 = 0,
                dataVersion: UInt64 = 0, valid: GetattrMask = .basic) {
        self.qid = qid; self.mode = mode; self.uid = uid; self.gid = gid; self.nlink = nlink; self.rdev = rdev
        self.size = size; self.blksize = blksize; self.blocks = blocks; self.atime = atime; self.mtime = mtime
        self.ctime = ctime; self.btime = btime; self.gen = gen; self.dataVersion = dataVersion; self.valid = valid
    }

    /// The object's kind, from `mode`.
    public var fileType: FileType? { FileType(mode: mode) }
    public var isDirectory: Bool { fileType == .directory }
}

/// Changes requested by Tsetattr (or a classic Twstat); nil fields stay as they are.
public struct AttributeChanges: Hashable, Sendable {
    /// How a time field changes: to the server's current time, or to a given time.
    public enum TimeChange: Hashable, Sendable {
        case now
        case set(FileTime)
    }
    /// New permission bits (`0o7777`); the file type bits are ignored.
    public var mode: UInt32?
    public var uid: UInt32?
    public var gid: UInt32?
    /// New length (truncate or extend).
    public var size: UInt64?
    public var atime: TimeChange?
    public var mtime: TimeChange?
    /// Tsetattr's CTIME bit: update ctime (drivers normally do so for any change anyway).
    public var ctime: Bool

    public init(mode: UInt32? = nil, uid: UInt32? = nil, gid: UInt32? = nil, size: UInt64? = nil,
                atime: TimeChange? = nil, mtime: TimeChange? = nil, ctime: Bool = false) {
        self.mode = mode; self.uid = uid; self.gid = gid; self.size = size
        self.atime = atime; self.mtime = mtime; self.ctime = ctime
    }
    public var isEmpty: Bool { self == AttributeChanges() }
}

/// Filesystem-wide numbers (Rstatfs, after Linux statfs(2)).
public struct FileSystemStats: Hashable, Sendable {
    public var type: UInt32
    public var bsize: UInt32
    public var blocks: UInt64
    public var bfree: UInt64
    public var bavail: UInt64
    public var files: UInt64
    public var ffree: UInt64
    public var fsid: UInt64
    public var namelen: UInt32
    public init(type: UInt32 = 0x01021997, bsize: UInt32 = 4096, blocks: UInt64 = 0, bfree: UInt64 = 0,
                bavail: UInt64 = 0, files: UInt64 = 0, ffree: UInt64 = 0, fsid: UInt64 = 0, namelen: UInt32 = 255) {
        self.type = type; self.bsize = bsize; self.blocks = blocks; self.bfree = bfree; self.bavail = bavail
        self.files = files; self.ffree = ffree; self.fsid = fsid; self.namelen = namelen
    }
}
