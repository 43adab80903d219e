import NinePSession
import NinePWire

/// Deterministic 9P2000.L traffic as tracker events, for tests, screenshots and benchmarks: a mount and a
/// small workload with every state the inspector shows (ok, error, pending, flushed, injected, anomaly).
/// Time advances by `step` per frame from `start`; nothing here reads a clock.
public struct SampleTraffic: Sendable {
    public var conn: ConnectionID
    public var now: Int64
    public var step: Int64
    public var dialect: Dialect
    public private(set) var events: [SessionEvent] = []

    public init(conn: ConnectionID = 1, start: Int64 = 1_700_000_000_000_000_000, step: Int64 = 100_000,
                dialect: Dialect = .l) {
        self.conn = conn
        self.now = start
        self.step = step
        self.dialect = dialect
    }

    public mutating func open(client: String = "tcp!127.0.0.1!40001", upstream: String = "tcp!127.0.0.1!564") {
        events.append(.connectionOpened(conn: conn, at: now, info: ConnectionInfo(client: client, upstream: upstream)))
    }

    /// A request from the client (or from ninescope, with `marks: .injected`).
    public mutating func t(_ tag: UInt16, _ m: Message, marks: FrameMarks = []) {
        now += step
        events.append(.frame(conn: conn, direction: .toServer, at: now,
                             bytes: Fcall(tag: Tag(tag), m).encode(dialect: dialect), marks: marks))
    }

    /// A reply from the server, `after` ns later than the last frame (default: one step).
    public mutating func r(_ tag: UInt16, _ m: Message, after: Int64? = nil, marks: FrameMarks = []) {
        now += after ?? step
        events.append(.frame(conn: conn, direction: .toClient, at: now,
                             bytes: Fcall(tag: Tag(tag), m).encode(dialect: dialect), marks: marks))
    }

    public mutating func close(_ reason: CloseReason = .eof) {
        now += step
        events.append(.connectionClosed(conn: conn, at: now, reason: reason))
    }

    static func dir(_ path: UInt64) -> Qid { Qid(type: .dir, version: 0, path: path) }
    static func file(_ path: UInt64) -> Qid { Qid(type: .file, version: 1, path: path) }

    /// Directory data for Rreaddir: `qid[13] offset[8] type[1] name[s]` per entry.
    public static func dirents(_ entries: [(name: String, qid: Qid)]) -> [UInt8] {
        var out: [UInt8] = []
        func le<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        for (i, e) in entries.enumerated() {
            out.append(e.qid.type.rawValue)
            le(e.qid.version)
            le(e.qid.path)
            le(UInt64(i + 1))
            out.append(e.qid.type.contains(.dir) ? 4 : 8)
            le(UInt16(e.name.utf8.count))
            out += Array(e.name.utf8)
        }
        return out
    }

    /// A Tversion (9P2000.L, msize 8192) and its Rversion.
    public mutating func version() {
        t(0xFFFF, .tversion(Tversion(msize: 8192, version: "9P2000.L")))
        r(0xFFFF, .rversion(Rversion(msize: 8192, version: "9P2000.L")))
    }

    /// A Tattach of `fid` on tag `tag` and its Rattach: the root, a directory of path 1 (`after` as in `r`).
    public mutating func attach(fid: Fid, tag: UInt16 = 1, uname: P9String = "", aname: P9String = "",
                                nUname: UInt32 = 0, after: Int64? = nil) {
        t(tag, .tattach(Tattach(fid: fid, afid: .nofid, uname: uname, aname: aname, nUname: nUname)))
        r(tag, .rattach(Rattach(qid: Self.dir(1))), after: after)
    }

    /// Tversion/Tattach and the walk/open/read/write/readdir/error workload (20 exchanges), leaving one
    /// request pending (a slow read on `tag 7`), one flushed, one injected and one anomaly (a clunk of an
    /// unknown fid).
    public mutating func mountAndWorkload() {
        version()
        attach(fid: 0, uname: "glenda", nUname: 1000, after: 180_000)
        t(1, .twalk(Twalk(fid: 0, newfid: 1, wnames: ["usr", "lib"])))
        r(1, .rwalk(Rwalk(wqids: [Self.dir(2), Self.dir(3)])), after: 95_000)
        t(1, .tlopen(Tlopen(fid: 1, flags: [.directory])))
        r(1, .rlopen(Rlopen(qid: Self.dir(3), iounit: 8168)))
        t(1, .treaddir(Treaddir(fid: 1, offset: 0, count: 8168)))
        r(1, .rreaddir(Rreaddir(data: Self.dirents([("9p", Self.dir(4)), ("libc.so", Self.file(5)),
                                                     ("日本語.txt", Self.file(6))]))), after: 420_000)
        t(2, .twalk(Twalk(fid: 0, newfid: 2, wnames: ["etc", "passwd"])))
        r(2, .rwalk(Rwalk(wqids: [Self.dir(7), Self.file(8)])))
        t(2, .tgetattr(Tgetattr(fid: 2, requestMask: .basic)))
        r(2, .rgetattr(Rgetattr(valid: .basic, qid: Self.file(8), mode: 0o100644, nlink: 1, size: 1024)))
        t(3, .tlopen(Tlopen(fid: 2, flags: [])))
        r(3, .rlopen(Rlopen(qid: Self.file(8), iounit: 8168)))
        t(3, .tread(Tread(fid: 2, offset: 0, count: 4096)))
        r(3, .rread(Rread(data: Array("root:x:0:0:root:/root:/bin/sh\nglenda:x:1000:1000::/usr/glenda:/bin/rc\n".utf8))),
          after: 2_500_000)
        t(4, .twalk(Twalk(fid: 0, newfid: 3, wnames: ["nonexistent"])))
        r(4, .rlerror(Rlerror(ecode: .ENOENT)))
        t(4, .tclunk(Tclunk(fid: 2)))
        r(4, .rclunk)
        t(5, .twalk(Twalk(fid: 0, newfid: 4, wnames: ["tmp"])))
        r(5, .rwalk(Rwalk(wqids: [Self.dir(9)])))
        t(5, .tlcreate(Tlcreate(fid: 4, name: "log", flags: [.wronly, .create], mode: 0o644, gid: 1000)))
        r(5, .rlcreate(Rlcreate(qid: Self.file(10), iounit: 8168)))
        t(6, .twrite(Twrite(fid: 4, offset: 0, data: Array("hello, 9P\n".utf8))))
        r(6, .rwrite(Rwrite(count: 10)), after: 1_200_000)
        t(7, .tread(Tread(fid: 1, offset: 0, count: 64)))          // stays pending (a slow server)
        t(8, .treaddir(Treaddir(fid: 1, offset: 3, count: 8168)))  // flushed below
        t(9, .tflush(Tflush(oldtag: 8)))
        r(9, .rflush, after: 300_000)
        t(0xF000, .tgetattr(Tgetattr(fid: 0, requestMask: .all)), marks: .injected)
        r(0xF000, .rgetattr(Rgetattr(valid: .basic, qid: Self.dir(1), mode: 0o40755, nlink: 3)),
          marks: .intercepted)
        t(10, .tclunk(Tclunk(fid: 99)))                            // unknown fid: an anomaly
        r(10, .rlerror(Rlerror(ecode: .EBADF)))
        t(11, .tstatfs(Tstatfs(fid: 0)))
        r(11, .rstatfs(Rstatfs(type: 0x01021997, bsize: 4096, blocks: 1000, bfree: 500, bavail: 500,
                               files: 100, ffree: 50, fsid: 7, namelen: 255)))
    }

    /// The sample session: open, mount, workload.
    public static func session(conn: ConnectionID = 1, start: Int64 = 1_700_000_000_000_000_000) -> [SessionEvent] {
        var s = SampleTraffic(conn: conn, start: start)
        s.open()
        s.mountAndWorkload()
        return s.events
    }

    /// A long session for benchmarks: a mount, then `exchanges` walk/getattr/read/clunk exchanges on
    /// fresh fids (a few errors among them).
    public static func bulk(exchanges: Int, conn: ConnectionID = 1, start: Int64 = 1_700_000_000_000_000_000)
        -> [SessionEvent] {
        var s = SampleTraffic(conn: conn, start: start, step: 20_000)
        s.open()
        s.t(0xFFFF, .tversion(Tversion(msize: 65536, version: "9P2000.L")))
        s.r(0xFFFF, .rversion(Rversion(msize: 65536, version: "9P2000.L")))
        s.t(1, .tattach(Tattach(fid: 0, afid: .nofid, uname: "bench", aname: "", nUname: 1000)))
        s.r(1, .rattach(Rattach(qid: dir(1))))
        var n = 0
        var fid: UInt32 = 1
        while n < exchanges {
            let tag = UInt16(truncatingIfNeeded: n % 60_000 + 1)
            switch n % 4 {
            case 0:
                s.t(tag, .twalk(Twalk(fid: 0, newfid: Fid(fid), wnames: ["data", P9String("file\(n % 1000)")])))
                if n % 97 == 0 {
                    s.r(tag, .rlerror(Rlerror(ecode: .ENOENT)))
                } else {
                    s.r(tag, .rwalk(Rwalk(wqids: [dir(2), file(UInt64(n))])))
                }
            case 1: s.t(tag, .tgetattr(Tgetattr(fid: Fid(fid), requestMask: .basic)))
                s.r(tag, .rgetattr(Rgetattr(valid: .basic, qid: file(UInt64(n)), mode: 0o100644, size: 4096)))
            case 2: s.t(tag, .tread(Tread(fid: Fid(fid), offset: 0, count: 64)))
                s.r(tag, .rread(Rread(data: Array(repeating: UInt8(0x61 + n % 26), count: 64))))
            default:
                s.t(tag, .tclunk(Tclunk(fid: Fid(fid))))
                s.r(tag, .rclunk)
                fid = fid % 100_000 + 1
            }
            n += 1
        }
        return s.events
    }
}
