/// 9P2000.L message bodies (9p2000.L-protocol.md, MESSAGES.md). Field names follow the protocol text,
/// multi-word names in lowerCamel (`request_mask` → `requestMask`).

public struct Rlerror: Hashable, Sendable {
    public var ecode: Errno
    public init(ecode: Errno) { self.ecode = ecode }
}
public struct Tstatfs: Hashable, Sendable {
    public var fid: Fid
    public init(fid: Fid) { self.fid = fid }
}
public struct Rstatfs: Hashable, Sendable {
    public var type: UInt32; public var bsize: UInt32; public var blocks: UInt64; public var bfree: UInt64
    public var bavail: UInt64; public var files: UInt64; public var ffree: UInt64; public var fsid: UInt64; public var namelen: UInt32
    public init(type: UInt32, bsize: UInt32, blocks: UInt64, bfree: UInt64, bavail: UInt64, files: UInt64,
                ffree: UInt64, fsid: UInt64, namelen: UInt32) {
        self.type = type; self.bsize = bsize; self.blocks = blocks; self.bfree = bfree; self.bavail = bavail
        self.files = files; self.ffree = ffree; self.fsid = fsid; self.namelen = namelen
    }
}
public struct Tlopen: Hashable, Sendable {
    public var fid: Fid; public var flags: LOpenFlags
    public init(fid: Fid, flags: LOpenFlags) { self.fid = fid; self.flags = flags }
}
public struct Rlopen: Hashable, Sendable {
    public var qid: Qid; public var iounit: UInt32
    public init(qid: Qid, iounit: UInt32) { self.qid = qid; self.iounit = iounit }
}
public struct Tlcreate: Hashable, Sendable {
    public var fid: Fid; public var name: P9String; public var flags: LOpenFlags; public var mode: UInt32; public var gid: UInt32
    public init(fid: Fid, name: P9String, flags: LOpenFlags, mode: UInt32, gid: UInt32) {
        self.fid = fid; self.name = name; self.flags = flags; self.mode = mode; self.gid = gid
    }
}
public struct Rlcreate: Hashable, Sendable {
    public var qid: Qid; public var iounit: UInt32
    public init(qid: Qid, iounit: UInt32) { self.qid = qid; self.iounit = iounit }
}
public struct Tsymlink: Hashable, Sendable {
    public var fid: Fid; public var name: P9String; public var symtgt: P9String; public var gid: UInt32
    public init(fid: Fid, name: P9String, symtgt: P9String, gid: UInt32) {
        self.fid = fid; self.name = name; self.symtgt = symtgt; self.gid = gid
    }
}
public struct Rsymlink: Hashable, Sendable {
    public var qid: Qid
    public init(qid: Qid) { self.qid = qid }
}
public struct Tmknod: Hashable, Sendable {
    public var dfid: Fid; public var name: P9String; public var mode: UInt32; public var major: UInt32; public var minor: UInt32; public var gid: UInt32
    public init(dfid: Fid, name: P9String, mode: UInt32, major: UInt32, minor: UInt32, gid: UInt32) {
        self.dfid = dfid; self.name = name; self.mode = mode; self.major = major; self.minor = minor; self.gid = gid
    }
}
public struct Rmknod: Hashable, Sendable {
    public var qid: Qid
    public init(qid: Qid) { self.qid = qid }
}
public struct Trename: Hashable, Sendable {
    public var fid: Fid; public var dfid: Fid; public var name: P9String
    public init(fid: Fid, dfid: Fid, name: P9String) { self.fid = fid; self.dfid = dfid; self.name = name }
}
public struct Treadlink: Hashable, Sendable {
    public var fid: Fid
    public init(fid: Fid) { self.fid = fid }
}
public struct Rreadlink: Hashable, Sendable {
    public var target: P9String
    public init(target: P9String) { self.target = target }
}
public struct Tgetattr: Hashable, Sendable {
    public var fid: Fid; public var requestMask: GetattrMask
    public init(fid: Fid, requestMask: GetattrMask) { self.fid = fid; self.requestMask = requestMask }
}
public struct Rgetattr: Hashable, Sendable {
    public var valid: GetattrMask; public var qid: Qid; public var mode: UInt32; public var uid: UInt32; public var gid: UInt32
    public var nlink: UInt64; public var rdev: UInt64; public var size: UInt64; public var blksize: UInt64; public var blocks: UInt64
    public var atimeSec: UInt64; public var atimeNsec: UInt64; public var mtimeSec: UInt64; public var mtimeNsec: UInt64
    public var ctimeSec: UInt64; public var ctimeNsec: UInt64; public var btimeSec: UInt64; public var btimeNsec: UInt64
    public var gen: UInt64; public var dataVersion: UInt64
    public init(valid: GetattrMask, qid: Qid, mode: UInt32 = 0, uid: UInt32 = 0, gid: UInt32 = 0, nlink: UInt64 = 0,
                rdev: UInt64 = 0, size: UInt64 = 0, blksize: UInt64 = 0, blocks: UInt64 = 0,
                atimeSec: UInt64 = 0, atimeNsec: UInt64 = 0, mtimeSec: UInt64 = 0, mtimeNsec: UInt64 = 0,
                ctimeSec: UInt64 = 0, ctimeNsec: UInt64 = 0, btimeSec: UInt64 = 0, btimeNsec: UInt64 = 0,
                gen: UInt64 = 0, dataVersion: UInt64 = 0) {
        self.valid = valid; self.qid = qid; self.mode = mode; self.uid = uid; self.gid = gid; self.nlink = nlink
        self.rdev = rdev; self.size = size; self.blksize = blksize; self.blocks = blocks
        self.atimeSec = atimeSec; self.atimeNsec = atimeNsec; self.mtimeSec = mtimeSec; self.mtimeNsec = mtimeNsec
        self.ctimeSec = ctimeSec; self.ctimeNsec = ctimeNsec; self.btimeSec = btimeSec; self.btimeNsec = btimeNsec
        self.gen = gen; self.dataVersion = dataVersion
    }
}
public struct Tsetattr: Hashable, Sendable {
    public var fid: Fid; public var valid: SetattrValid; public var mode: UInt32; public var uid: UInt32; public var gid: UInt32
    public var size: UInt64; public var atimeSec: UInt64; public var atimeNsec: UInt64; public var mtimeSec: UInt64; public var mtimeNsec: UInt64
    public init(fid: Fid, valid: SetattrValid, mode: UInt32 = 0, uid: UInt32 = 0, gid: UInt32 = 0, size: UInt64 = 0,
                atimeSec: UInt64 = 0, atimeNsec: UInt64 = 0, mtimeSec: UInt64 = 0, mtimeNsec: UInt64 = 0) {
        self.fid = fid; self.valid = valid; self.mode = mode; self.uid = uid; self.gid = gid; self.size = size
        self.atimeSec = atimeSec; self.atimeNsec = atimeNsec; self.mtimeSec = mtimeSec; self.mtimeNsec = mtimeNsec
    }
}
public struct Txattrwalk: Hashable, Sendable {
    public var fid: Fid; public var newfid: Fid; public var name: P9String
    public init(fid: Fid, newfid: Fid, name: P9String) { self.fid = fid; self.newfid = newfid; self.name = name }
}
public struct Rxattrwalk: Hashable, Sendable {
    public var size: UInt64
    public init(size: UInt64) { self.size = size }
}
public struct Txattrcreate: Hashable, Sendable {
    public var fid: Fid; public var name: P9String; public var attrSize: UInt64; public var flags: UInt32
    public init(fid: Fid, name: P9String, attrSize: UInt64, flags: UInt32) {
        self.fid = fid; self.name = name; self.attrSize = attrSize; self.flags = flags
    }
}
public struct Treaddir: Hashable, Sendable {
    public var fid: Fid; public var offset: UInt64; public var count: UInt32
    public init(fid: Fid, offset: UInt64, count: UInt32) { self.fid = fid; self.offset = offset; self.count = count }
}
/// Wire: `count[4] data[count]`; `data` holds packed dirents. Kept raw so any bytes round-trip;
/// `Dirent.decodeAll(_:)` / `Dirent.encodeAll(_:)` convert.
public struct Rreaddir: Hashable, Sendable {
    /// The packed entries, shared with the frame they were decoded from (see `DataBytes`).
    public var payload: DataBytes
    /// The packed entries as an array of their own (a copy when they are shared with a frame).
    public var data: [UInt8] { get { payload.array } set { payload = DataBytes(newValue) } }
    public init(data: [UInt8]) { self.payload = DataBytes(data) }
    public init(payload: DataBytes) { self.payload = payload }
}
/// A .L directory entry: `qid[13] offset[8] type[1] name[s]`.
public struct Dirent: Hashable, Sendable {
    public var qid: Qid; public var offset: UInt64; public var type: UInt8; public var name: P9String
    public init(qid: Qid, offset: UInt64, type: UInt8, name: P9String) {
        self.qid = qid; self.offset = offset; self.type = type; self.name = name
    }
}
public struct Tfsync: Hashable, Sendable {
    public var fid: Fid; public var datasync: UInt32
    public init(fid: Fid, datasync: UInt32) { self.fid = fid; self.datasync = datasync }
}
public struct Tlock: Hashable, Sendable {
    public var fid: Fid; public var type: LockType; public var flags: LockFlags; public var start: UInt64; public var length: UInt64
    public var procId: UInt32; public var clientId: P9String
    public init(fid: Fid, type: LockType, flags: LockFlags, start: UInt64, length: UInt64, procId: UInt32, clientId: P9String) {
        self.fid = fid; self.type = type; self.flags = flags; self.start = start; self.length = length
        self.procId = procId; self.clientId = clientId
    }
}
public struct Rlock: Hashable, Sendable {
    public var status: LockStatus
    public init(status: LockStatus) { self.status = status }
}
public struct Tgetlock: Hashable, Sendable {
    public var fid: Fid; public var type: LockType; public var start: UInt64; public var length: UInt64
    public var procId: UInt32; public var clientId: P9String
    public init(fid: Fid, type: LockType, start: UInt64, length: UInt64, procId: UInt32, clientId: P9String) {
        self.fid = fid; self.type = type; self.start = start; self.length = length; self.procId = procId; self.clientId = clientId
    }
}
public struct Rgetlock: Hashable, Sendable {
    public var type: LockType; public var start: UInt64; public var length: UInt64; public var procId: UInt32; public var clientId: P9String
    public init(type: LockType, start: UInt64, length: UInt64, procId: UInt32, clientId: P9String) {
        self.type = type; self.start = start; self.length = length; self.procId = procId; self.clientId = clientId
    }
}
public struct Tlink: Hashable, Sendable {
    public var dfid: Fid; public var fid: Fid; public var name: P9String
    public init(dfid: Fid, fid: Fid, name: P9String) { self.dfid = dfid; self.fid = fid; self.name = name }
}
public struct Tmkdir: Hashable, Sendable {
    public var dfid: Fid; public var name: P9String; public var mode: UInt32; public var gid: UInt32
    public init(dfid: Fid, name: P9String, mode: UInt32, gid: UInt32) { self.dfid = dfid; self.name = name; self.mode = mode; self.gid = gid }
}
public struct Rmkdir: Hashable, Sendable {
    public var qid: Qid
    public init(qid: Qid) { self.qid = qid }
}
public struct Trenameat: Hashable, Sendable {
    public var olddirfid: Fid; public var oldname: P9String; public var newdirfid: Fid; public var newname: P9String
    public init(olddirfid: Fid, oldname: P9String, newdirfid: Fid, newname: P9String) {
        self.olddirfid = olddirfid; self.oldname = oldname; self.newdirfid = newdirfid; self.newname = newname
    }
}
public struct Tunlinkat: Hashable, Sendable {
    public var dirfid: Fid; public var name: P9String; public var flags: UInt32
    public init(dirfid: Fid, name: P9String, flags: UInt32) { self.dirfid = dirfid; self.name = name; self.flags = flags }
    public static let removeDir: UInt32 = 0x200   // P9_DOTL_AT_REMOVEDIR
}
