import NinePTestSupport
import NinePWire
import PropertyBased

/// Random messages of every type, with the dialect-dependent optionals set the way the chosen dialect
/// decodes them (so decode(encode(m)) == m must hold exactly).
enum RandomMessages {
    /// Every type code we can build a value for: all known codes except Terror/Tlerror, plus `.unknown`.
    static let buildableTypes: [MessageType] = MessageType.allCases.filter { $0 != .terror && $0 != .tlerror }

    static func fcall<G: RandomNumberGenerator>(_ type: MessageType?, _ g: inout G) -> (Fcall, Dialect) {
        let tag = Tag(UInt16.random(in: 0...UInt16.max, using: &g))
        let dialect: Dialect
        if let t = type { dialect = t.dialects.randomElement(using: &g)! } else { dialect = Dialect.allCases.randomElement(using: &g)! }
        let m = message(type, dialect, &g)
        return (Fcall(tag: tag, m), dialect)
    }

    static func any<G: RandomNumberGenerator>(_ g: inout G) -> (Fcall, Dialect) {
        let pick = Int.random(in: 0...buildableTypes.count, using: &g)
        return fcall(pick == buildableTypes.count ? nil : buildableTypes[pick], &g)
    }

    /// A PropertyBased generator of (frame value, dialect) over all types.
    static let generator = Generator<Sample, Shrink.None<Sample>>(run: { rng in
        var g = AnyRNG(base: rng)
        let (f, d) = any(&g)
        rng = g.base
        return Sample(fcall: f, dialect: d)
    })

    struct Sample: Sendable, CustomStringConvertible {
        var fcall: Fcall
        var dialect: Dialect
        var description: String { "[\(dialect)] \(fcall.canonicalLine)" }
    }

    struct AnyRNG: RandomNumberGenerator {
        var base: any SeededRandomNumberGenerator
        mutating func next() -> UInt64 { base.next() }
    }

    static func u8<G: RandomNumberGenerator>(_ g: inout G) -> UInt8 { UInt8.random(in: 0...UInt8.max, using: &g) }
    static func u16<G: RandomNumberGenerator>(_ g: inout G) -> UInt16 { UInt16.random(in: 0...UInt16.max, using: &g) }
    /// Biased towards edge values.
    static func u32<G: RandomNumberGenerator>(_ g: inout G) -> UInt32 {
        switch Int.random(in: 0..<6, using: &g) {
        case 0: return 0
        case 1: return ~0
        default: return UInt32.random(in: 0...UInt32.max, using: &g)
        }
    }
    static func u64<G: RandomNumberGenerator>(_ g: inout G) -> UInt64 {
        switch Int.random(in: 0..<6, using: &g) {
        case 0: return 0
        case 1: return ~0
        default: return UInt64.random(in: 0...UInt64.max, using: &g)
        }
    }
    static func fid<G: RandomNumberGenerator>(_ g: inout G) -> Fid { Fid(u32(&g)) }
    static func bytes<G: RandomNumberGenerator>(_ g: inout G, max: Int = 40) -> [UInt8] {
        (0..<Int.random(in: 0...max, using: &g)).map { _ in u8(&g) }
    }
    /// ASCII, UTF-8 text, or arbitrary (often invalid) bytes.
    static func str<G: RandomNumberGenerator>(_ g: inout G) -> P9String {
        switch Int.random(in: 0..<4, using: &g) {
        case 0: return P9String(["", "usr", "bin", "9P2000.L", "a b", "it's", "é"].randomElement(using: &g)!)
        case 1: return P9String(bytes: bytes(&g, max: 24))
        case 2: return P9String(String((0..<Int.random(in: 0...12, using: &g)).map { _ in
            Character(Unicode.Scalar(UInt8.random(in: 0x20...0x7E, using: &g))) }))
        default: return P9String("naïve-日本-\(u16(&g))")
        }
    }
    static func qid<G: RandomNumberGenerator>(_ g: inout G) -> Qid {
        Qid(type: QidType(rawValue: u8(&g)), version: u32(&g), path: u64(&g))
    }
    static func stat<G: RandomNumberGenerator>(_ g: inout G, _ d: Dialect) -> Stat {
        let withUnix = d == .u || (d == .l && Bool.random(using: &g))
        return Stat(type: u16(&g), dev: u32(&g), qid: qid(&g), mode: DirMode(rawValue: u32(&g)), atime: u32(&g),
                    mtime: u32(&g), length: u64(&g), name: str(&g), uid: str(&g), gid: str(&g), muid: str(&g),
                    unix: withUnix ? Stat.UnixStat(extension: str(&g), nUid: u32(&g), nGid: u32(&g), nMuid: u32(&g)) : nil)
    }
    static func dirents<G: RandomNumberGenerator>(_ g: inout G) -> [Dirent] {
        (0..<Int.random(in: 0...5, using: &g)).map { _ in Dirent(qid: qid(&g), offset: u64(&g), type: u8(&g), name: str(&g)) }
    }

    // swiftlint:disable:next cyclomatic_complexity function_body_length
    static func message<G: RandomNumberGenerator>(_ type: MessageType?, _ d: Dialect, _ g: inout G) -> Message {
        guard let type else {
            let known = Set(buildableTypes.map(\.rawValue))
            var code = u8(&g)
            while known.contains(code) { code = u8(&g) }
            return .unknown(type: code, body: bytes(&g))
        }
        let nUname: UInt32? = d == .p9 ? nil : u32(&g)
        switch type {
        case .tversion: return .tversion(Tversion(msize: u32(&g), version: str(&g)))
        case .rversion: return .rversion(Rversion(msize: u32(&g), version: str(&g)))
        case .tauth: return .tauth(Tauth(afid: fid(&g), uname: str(&g), aname: str(&g), nUname: nUname))
        case .rauth: return .rauth(Rauth(aqid: qid(&g)))
        case .tattach: return .tattach(Tattach(fid: fid(&g), afid: fid(&g), uname: str(&g), aname: str(&g), nUname: nUname))
        case .rattach: return .rattach(Rattach(qid: qid(&g)))
        case .rerror: return .rerror(Rerror(ename: str(&g), errno: d == .u ? u32(&g) : nil))
        case .tflush: return .tflush(Tflush(oldtag: Tag(u16(&g))))
        case .rflush: return .rflush
        case .twalk: return .twalk(Twalk(fid: fid(&g), newfid: fid(&g), wnames: (0..<Int.random(in: 0...20, using: &g)).map { _ in str(&g) }))
        case .rwalk: return .rwalk(Rwalk(wqids: (0..<Int.random(in: 0...20, using: &g)).map { _ in qid(&g) }))
        case .topen: return .topen(Topen(fid: fid(&g), mode: OpenMode(rawValue: u8(&g))))
        case .ropen: return .ropen(Ropen(qid: qid(&g), iounit: u32(&g)))
        case .tcreate:
            return .tcreate(Tcreate(fid: fid(&g), name: str(&g), perm: DirMode(rawValue: u32(&g)), mode: OpenMode(rawValue: u8(&g)),
                                    extension: d == .u ? str(&g) : nil))
        case .rcreate: return .rcreate(Rcreate(qid: qid(&g), iounit: u32(&g)))
        case .tread: return .tread(Tread(fid: fid(&g), offset: u64(&g), count: u32(&g)))
        case .rread: return .rread(Rread(data: bytes(&g, max: 200)))
        case .twrite: return .twrite(Twrite(fid: fid(&g), offset: u64(&g), data: bytes(&g, max: 200)))
        case .rwrite: return .rwrite(Rwrite(count: u32(&g)))
        case .tclunk: return .tclunk(Tclunk(fid: fid(&g)))
        case .rclunk: return .rclunk
        case .tremove: return .tremove(Tremove(fid: fid(&g)))
        case .rremove: return .rremove
        case .tstat: return .tstat(Tstat(fid: fid(&g)))
        case .rstat: return .rstat(Rstat(stat: stat(&g, d)))
        case .twstat: return .twstat(Twstat(fid: fid(&g), stat: stat(&g, d)))
        case .rwstat: return .rwstat
        case .rlerror: return .rlerror(Rlerror(ecode: Errno(u32(&g))))
        case .tstatfs: return .tstatfs(Tstatfs(fid: fid(&g)))
        case .rstatfs:
            return .rstatfs(Rstatfs(type: u32(&g), bsize: u32(&g), blocks: u64(&g), bfree: u64(&g), bavail: u64(&g),
                                    files: u64(&g), ffree: u64(&g), fsid: u64(&g), namelen: u32(&g)))
        case .tlopen: return .tlopen(Tlopen(fid: fid(&g), flags: LOpenFlags(rawValue: u32(&g))))
        case .rlopen: return .rlopen(Rlopen(qid: qid(&g), iounit: u32(&g)))
        case .tlcreate: return .tlcreate(Tlcreate(fid: fid(&g), name: str(&g), flags: LOpenFlags(rawValue: u32(&g)), mode: u32(&g), gid: u32(&g)))
        case .rlcreate: return .rlcreate(Rlcreate(qid: qid(&g), iounit: u32(&g)))
        case .tsymlink: return .tsymlink(Tsymlink(fid: fid(&g), name: str(&g), symtgt: str(&g), gid: u32(&g)))
        case .rsymlink: return .rsymlink(Rsymlink(qid: qid(&g)))
        case .tmknod: return .tmknod(Tmknod(dfid: fid(&g), name: str(&g), mode: u32(&g), major: u32(&g), minor: u32(&g), gid: u32(&g)))
        case .rmknod: return .rmknod(Rmknod(qid: qid(&g)))
        case .trename: return .trename(Trename(fid: fid(&g), dfid: fid(&g), name: str(&g)))
        case .rrename: return .rrename
        case .treadlink: return .treadlink(Treadlink(fid: fid(&g)))
        case .rreadlink: return .rreadlink(Rreadlink(target: str(&g)))
        case .tgetattr: return .tgetattr(Tgetattr(fid: fid(&g), requestMask: GetattrMask(rawValue: u64(&g))))
        case .rgetattr:
            return .rgetattr(Rgetattr(valid: GetattrMask(rawValue: u64(&g)), qid: qid(&g), mode: u32(&g), uid: u32(&g), gid: u32(&g),
                                      nlink: u64(&g), rdev: u64(&g), size: u64(&g), blksize: u64(&g), blocks: u64(&g),
                                      atimeSec: u64(&g), atimeNsec: u64(&g), mtimeSec: u64(&g), mtimeNsec: u64(&g),
                                      ctimeSec: u64(&g), ctimeNsec: u64(&g), btimeSec: u64(&g), btimeNsec: u64(&g),
                                      gen: u64(&g), dataVersion: u64(&g)))
        case .tsetattr:
            return .tsetattr(Tsetattr(fid: fid(&g), valid: SetattrValid(rawValue: u32(&g)), mode: u32(&g), uid: u32(&g), gid: u32(&g),
                                      size: u64(&g), atimeSec: u64(&g), atimeNsec: u64(&g), mtimeSec: u64(&g), mtimeNsec: u64(&g)))
        case .rsetattr: return .rsetattr
        case .txattrwalk: return .txattrwalk(Txattrwalk(fid: fid(&g), newfid: fid(&g), name: str(&g)))
        case .rxattrwalk: return .rxattrwalk(Rxattrwalk(size: u64(&g)))
        case .txattrcreate: return .txattrcreate(Txattrcreate(fid: fid(&g), name: str(&g), attrSize: u64(&g), flags: u32(&g)))
        case .rxattrcreate: return .rxattrcreate
        case .treaddir: return .treaddir(Treaddir(fid: fid(&g), offset: u64(&g), count: u32(&g)))
        case .rreaddir:
            return .rreaddir(Rreaddir(data: Bool.random(using: &g) ? Dirent.encodeAll(dirents(&g)) : bytes(&g, max: 80)))
        case .tfsync: return .tfsync(Tfsync(fid: fid(&g), datasync: u32(&g)))
        case .rfsync: return .rfsync
        case .tlock:
            return .tlock(Tlock(fid: fid(&g), type: LockType(rawValue: u8(&g)), flags: LockFlags(rawValue: u32(&g)), start: u64(&g),
                                length: u64(&g), procId: u32(&g), clientId: str(&g)))
        case .rlock: return .rlock(Rlock(status: LockStatus(rawValue: u8(&g))))
        case .tgetlock:
            return .tgetlock(Tgetlock(fid: fid(&g), type: LockType(rawValue: u8(&g)), start: u64(&g), length: u64(&g),
                                      procId: u32(&g), clientId: str(&g)))
        case .rgetlock:
            return .rgetlock(Rgetlock(type: LockType(rawValue: u8(&g)), start: u64(&g), length: u64(&g), procId: u32(&g), clientId: str(&g)))
        case .tlink: return .tlink(Tlink(dfid: fid(&g), fid: fid(&g), name: str(&g)))
        case .rlink: return .rlink
        case .tmkdir: return .tmkdir(Tmkdir(dfid: fid(&g), name: str(&g), mode: u32(&g), gid: u32(&g)))
        case .rmkdir: return .rmkdir(Rmkdir(qid: qid(&g)))
        case .trenameat: return .trenameat(Trenameat(olddirfid: fid(&g), oldname: str(&g), newdirfid: fid(&g), newname: str(&g)))
        case .rrenameat: return .rrenameat
        case .tunlinkat: return .tunlinkat(Tunlinkat(dirfid: fid(&g), name: str(&g), flags: u32(&g)))
        case .runlinkat: return .runlinkat
        case .terror, .tlerror: return .unknown(type: type.rawValue, body: bytes(&g))
        }
    }
}

