/// One decoded 9P message: the tag from the header plus the typed body.
/// (Plan 9 calls this an Fcall.) Encoding/decoding lives in `Fcall+Codec.swift`.
public struct Fcall: Hashable, Sendable {
    public var tag: Tag
    public var message: Message
    public init(tag: Tag, _ message: Message) { self.tag = tag; self.message = message }
}

/// Every message of 9P2000, 9P2000.u and 9P2000.L. Dialect-dependent fields are optionals
/// (nil when the dialect does not carry them), so one value encodes identically in each dialect.
///
/// The cases whose bodies are larger than 48 bytes (Rgetattr 160, Twstat 108, Rstat 100, Tsetattr 64,
/// Rstatfs 60) are `indirect`: their body lives in a box of its own, so a `Message` is 48 bytes instead of
/// 161. Every message is moved several times between the decoder and the tracker's store (optional, result,
/// `Fcall`, the traced message), and at 161 bytes each move was a `memmove` call: 17% of the headless
/// trace's time on a `diodload -g` capture (Tgetattr/Rgetattr). With the boxes the trace's CPU per message
/// went from 1049–1092 ns to 852–858 (`ninescope bench-trace`, three alternating runs), one allocation per
/// boxed message included. `MessageLayoutTests` keeps the size from growing back.
public enum Message: Hashable, Sendable {
    // Classic 9P2000 (+ .u fields)
    case tversion(Tversion), rversion(Rversion)
    case tauth(Tauth), rauth(Rauth)
    case tattach(Tattach), rattach(Rattach)
    case rerror(Rerror)
    case tflush(Tflush), rflush
    case twalk(Twalk), rwalk(Rwalk)
    case topen(Topen), ropen(Ropen)
    case tcreate(Tcreate), rcreate(Rcreate)
    case tread(Tread), rread(Rread)
    case twrite(Twrite), rwrite(Rwrite)
    case tclunk(Tclunk), rclunk
    case tremove(Tremove), rremove
    case tstat(Tstat)
    indirect case rstat(Rstat)
    indirect case twstat(Twstat)
    case rwstat
    // 9P2000.L
    case rlerror(Rlerror)
    case tstatfs(Tstatfs)
    indirect case rstatfs(Rstatfs)
    case tlopen(Tlopen), rlopen(Rlopen)
    case tlcreate(Tlcreate), rlcreate(Rlcreate)
    case tsymlink(Tsymlink), rsymlink(Rsymlink)
    case tmknod(Tmknod), rmknod(Rmknod)
    case trename(Trename), rrename
    case treadlink(Treadlink), rreadlink(Rreadlink)
    case tgetattr(Tgetattr)
    indirect case rgetattr(Rgetattr)
    indirect case tsetattr(Tsetattr)
    case rsetattr
    case txattrwalk(Txattrwalk), rxattrwalk(Rxattrwalk)
    case txattrcreate(Txattrcreate), rxattrcreate
    case treaddir(Treaddir), rreaddir(Rreaddir)
    case tfsync(Tfsync), rfsync
    case tlock(Tlock), rlock(Rlock)
    case tgetlock(Tgetlock), rgetlock(Rgetlock)
    case tlink(Tlink), rlink
    case tmkdir(Tmkdir), rmkdir(Rmkdir)
    case trenameat(Trenameat), rrenameat
    case tunlinkat(Tunlinkat), runlinkat
    /// A message whose type code is not one we know (or not legal on the wire, like Terror/Tlerror):
    /// the type code and the raw body bytes after the tag.
    case unknown(type: UInt8, body: [UInt8])
}

// MARK: - Classic messages (version(5), attach(5), walk(5), open(5), read(5), stat(5) …)

public struct Tversion: Hashable, Sendable {
    public var msize: UInt32; public var version: P9String
    public init(msize: UInt32, version: P9String) { self.msize = msize; self.version = version }
}
public struct Rversion: Hashable, Sendable {
    public var msize: UInt32; public var version: P9String
    public init(msize: UInt32, version: P9String) { self.msize = msize; self.version = version }
}
/// `nUname` is present in 9P2000.u and 9P2000.L, nil in 9P2000.
public struct Tauth: Hashable, Sendable {
    public var afid: Fid; public var uname: P9String; public var aname: P9String; public var nUname: UInt32?
    public init(afid: Fid, uname: P9String, aname: P9String, nUname: UInt32? = nil) {
        self.afid = afid; self.uname = uname; self.aname = aname; self.nUname = nUname
    }
}
public struct Rauth: Hashable, Sendable {
    public var aqid: Qid
    public init(aqid: Qid) { self.aqid = aqid }
}
public struct Tattach: Hashable, Sendable {
    public var fid: Fid; public var afid: Fid; public var uname: P9String; public var aname: P9String; public var nUname: UInt32?
    public init(fid: Fid, afid: Fid = .nofid, uname: P9String, aname: P9String, nUname: UInt32? = nil) {
        self.fid = fid; self.afid = afid; self.uname = uname; self.aname = aname; self.nUname = nUname
    }
}
public struct Rattach: Hashable, Sendable {
    public var qid: Qid
    public init(qid: Qid) { self.qid = qid }
}
/// `errno` is present in 9P2000.u only. `ename` is nil in the one layout without it: under 9P2000.L, where
/// Rerror is not legal, a body of `errno[4]` alone (nfs-ganesha answers every error so; the Linux client and
/// Wireshark read a .L Rerror that way).
public struct Rerror: Hashable, Sendable {
    public var ename: P9String?; public var errno: UInt32?
    public init(ename: P9String?, errno: UInt32? = nil) { self.ename = ename; self.errno = errno }
    /// `ename`, or the C library's text for `errno` when the reply carried no ename ("" without either).
    public var text: String { ename?.string ?? errno.map { Errno($0).text } ?? "" }
}
public struct Tflush: Hashable, Sendable {
    public var oldtag: Tag
    public init(oldtag: Tag) { self.oldtag = oldtag }
}
public struct Twalk: Hashable, Sendable {
    public var fid: Fid; public var newfid: Fid; public var wnames: [P9String]
    public init(fid: Fid, newfid: Fid, wnames: [P9String]) { self.fid = fid; self.newfid = newfid; self.wnames = wnames }
}
public struct Rwalk: Hashable, Sendable {
    public var wqids: [Qid]
    public init(wqids: [Qid]) { self.wqids = wqids }
}
public struct Topen: Hashable, Sendable {
    public var fid: Fid; public var mode: OpenMode
    public init(fid: Fid, mode: OpenMode) { self.fid = fid; self.mode = mode }
}
public struct Ropen: Hashable, Sendable {
    public var qid: Qid; public var iounit: UInt32
    public init(qid: Qid, iounit: UInt32) { self.qid = qid; self.iounit = iounit }
}
/// `extension` is present in 9P2000.u only.
public struct Tcreate: Hashable, Sendable {
    public var fid: Fid; public var name: P9String; public var perm: DirMode; public var mode: OpenMode; public var `extension`: P9String?
    public init(fid: Fid, name: P9String, perm: DirMode, mode: OpenMode, extension: P9String? = nil) {
        self.fid = fid; self.name = name; self.perm = perm; self.mode = mode; self.extension = `extension`
    }
}
public struct Rcreate: Hashable, Sendable {
    public var qid: Qid; public var iounit: UInt32
    public init(qid: Qid, iounit: UInt32) { self.qid = qid; self.iounit = iounit }
}
public struct Tread: Hashable, Sendable {
    public var fid: Fid; public var offset: UInt64; public var count: UInt32
    public init(fid: Fid, offset: UInt64, count: UInt32) { self.fid = fid; self.offset = offset; self.count = count }
}
/// `count` on the wire is `data.count`.
public struct Rread: Hashable, Sendable {
    /// The data, shared with the frame it was decoded from (see `DataBytes`).
    public var payload: DataBytes
    /// The data as an array of its own (a copy when it is shared with a frame).
    public var data: [UInt8] { get { payload.array } set { payload = DataBytes(newValue) } }
    public init(data: [UInt8]) { self.payload = DataBytes(data) }
    public init(payload: DataBytes) { self.payload = payload }
}
public struct Twrite: Hashable, Sendable {
    public var fid: Fid; public var offset: UInt64
    /// The data, shared with the frame it was decoded from (see `DataBytes`).
    public var payload: DataBytes
    /// The data as an array of its own (a copy when it is shared with a frame).
    public var data: [UInt8] { get { payload.array } set { payload = DataBytes(newValue) } }
    public init(fid: Fid, offset: UInt64, data: [UInt8]) { self.init(fid: fid, offset: offset, payload: DataBytes(data)) }
    public init(fid: Fid, offset: UInt64, payload: DataBytes) { self.fid = fid; self.offset = offset; self.payload = payload }
}
public struct Rwrite: Hashable, Sendable {
    public var count: UInt32
    public init(count: UInt32) { self.count = count }
}
public struct Tclunk: Hashable, Sendable {
    public var fid: Fid
    public init(fid: Fid) { self.fid = fid }
}
public struct Tremove: Hashable, Sendable {
    public var fid: Fid
    public init(fid: Fid) { self.fid = fid }
}
public struct Tstat: Hashable, Sendable {
    public var fid: Fid
    public init(fid: Fid) { self.fid = fid }
}
/// Wire: `n[2] stat[n]` ("the size appears twice", stat(5)).
public struct Rstat: Hashable, Sendable {
    public var stat: Stat
    public init(stat: Stat) { self.stat = stat }
}
public struct Twstat: Hashable, Sendable {
    public var fid: Fid; public var stat: Stat
    public init(fid: Fid, stat: Stat) { self.fid = fid; self.stat = stat }
}

/// The machine-independent directory entry (stat(5)); `.u` adds `unix`.
/// Wire: `size[2] type[2] dev[4] qid[13] mode[4] atime[4] mtime[4] length[8] name[s] uid[s] gid[s] muid[s]`
/// then, in 9P2000.u, `extension[s] n_uid[4] n_gid[4] n_muid[4]`.
public struct Stat: Hashable, Sendable {
    public var type: UInt16; public var dev: UInt32; public var qid: Qid; public var mode: DirMode
    public var atime: UInt32; public var mtime: UInt32; public var length: UInt64
    public var name: P9String; public var uid: P9String; public var gid: P9String; public var muid: P9String
    public var unix: UnixStat?
    public init(type: UInt16 = 0, dev: UInt32 = 0, qid: Qid, mode: DirMode, atime: UInt32, mtime: UInt32, length: UInt64,
                name: P9String, uid: P9String, gid: P9String, muid: P9String, unix: UnixStat? = nil) {
        self.type = type; self.dev = dev; self.qid = qid; self.mode = mode; self.atime = atime; self.mtime = mtime
        self.length = length; self.name = name; self.uid = uid; self.gid = gid; self.muid = muid; self.unix = unix
    }
    /// The 9P2000.u additions to stat.
    public struct UnixStat: Hashable, Sendable {
        public var `extension`: P9String; public var nUid: UInt32; public var nGid: UInt32; public var nMuid: UInt32
        public init(extension: P9String, nUid: UInt32, nGid: UInt32, nMuid: UInt32) {
            self.extension = `extension`; self.nUid = nUid; self.nGid = nGid; self.nMuid = nMuid
        }
    }
}

extension Message {
    /// The error reply `errno` makes in `dialect`: Rlerror in 9P2000.L; Rerror with `text` (the C library's
    /// text for the errno when nil) in 9P2000, and the errno too in 9P2000.u.
    public static func errorReply(_ errno: Errno, text: String? = nil, dialect: Dialect) -> Message {
        switch dialect {
        case .l: .rlerror(Rlerror(ecode: errno))
        case .u: .rerror(Rerror(ename: P9String(text ?? errno.text), errno: errno.rawValue))
        case .p9: .rerror(Rerror(ename: P9String(text ?? errno.text)))
        }
    }
}
