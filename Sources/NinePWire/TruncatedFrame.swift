/// What can be told of a frame of which a capture holds only the first bytes (a snap length cut its
/// packets: `tcpdump -s`, `dumpcap -s`, or `ninescope proxy --capture-data`). Such a frame does not decode
/// (its body is incomplete); its line says what the captured bytes hold, and for some messages what it did
/// can still be kept track of (`bookkeeping`).
public enum TruncatedFrame {
    /// The start of a canonical line (see `Fcall.canonicalLine`) for a cut frame: the message's name and
    /// tag, then, for the messages a snap length cuts because they carry data, their fields up to the data
    /// and as much of the data as was captured, always followed by `…`:
    /// `Rread tag 0 count 8168 d75add60…`, `Twrite tag 3 fid 1 offset 0 count 65512 'hello…`,
    /// `Rreaddir tag 5 count 4096 …`; Tattach, Tauth, Twalk, Txattrwalk, Trename and Trenameat with their
    /// names as far as captured (a name cut short ends in `…`, see `bookkeeping`):
    /// `Twalk tag 3 fid 1 newfid 2 nwname 2 0:usr 1:bi… …`; an Rwalk with its count and the qids captured
    /// whole: `Rwalk tag 3 nwqid 6 0:(000000000000002c 0 d) 1:(000000000000002d 0 d) …`; Tcreate and
    /// Tlcreate with the fields captured whole: `Tlcreate tag 4 fid 1 name 'report-…' …`. Other messages:
    /// `Rstat tag 3 …`. (Type code and tag come from the 7-byte header, which a cut frame
    /// always holds.)
    public static func line(_ prefix: [UInt8], dialect: Dialect) -> String {
        guard let header = FrameHeader(prefix) else { return "frame" }
        return prefix.withUnsafeBytes { line(header, CutReader($0), prefix, dialect: dialect) }
    }

    private static func line(_ header: FrameHeader, _ reader: CutReader, _ prefix: [UInt8],
                             dialect: Dialect) -> String {
        let type = MessageType(rawValue: header.type)
        var l = CanonicalLine(type?.name ?? "type" + String(header.type))
        l.tag("tag", header.tag)
        var r = reader
        switch type {
        case .rread?:
            if let count = r.u32() { l.num("count", count); cutData(&l, r.rest(upTo: Int(count))) } else { l.word("…") }
        case .twrite?:
            guard let fid = r.u32() else { l.word("…"); break }
            l.fid("fid", Fid(fid))
            guard let offset = r.u64() else { l.word("…"); break }
            l.num("offset", offset)
            guard let count = r.u32() else { l.word("…"); break }
            l.num("count", count)
            cutData(&l, r.rest(upTo: Int(count)))
        case .rreaddir? where dialect == .l:
            if let count = r.u32() { l.num("count", count) }
            l.word("…")
        case .rwalk?:
            guard let count = r.u16() else { l.word("…"); break }
            l.num("nwqid", count)
            for (i, qid) in r.qids(upTo: Int(count)).enumerated() { l.indexedQid(i, qid) }
            l.word("…")
        case .tcreate?:
            // Its fields as far as captured whole (a cut name ends in `…`).
            guard let fid = r.u32() else { l.word("…"); break }
            l.fid("fid", Fid(fid))
            l.str("name", r.name())
            if let perm = r.u32().map(DirMode.init(rawValue:)) {
                l.flags("perm", UInt64(perm.rawValue), perm.names)
                if let mode = r.u8().map(OpenMode.init(rawValue:)) { l.flags("mode", UInt64(mode.rawValue), mode.names) }
            }
            l.word("…")
        case .tlcreate? where dialect == .l:
            guard let fid = r.u32() else { l.word("…"); break }
            l.fid("fid", Fid(fid))
            l.str("name", r.name())
            if let flags = r.u32().map(LOpenFlags.init(rawValue:)) {
                l.flags("flags", UInt64(flags.rawValue), flags.names)
                if let mode = r.u32() { l.mode("mode", mode) }
            }
            l.word("…")
        case .tattach?, .tauth?, .twalk?, .txattrwalk?, .trename?, .trenameat?:
            // Their names as far as captured (`bookkeeping`: a cut name ends in `…`).
            guard let known = bookkeeping(prefix, dialect: dialect) else { return l.text + wholeFields(prefix, dialect) }
            return known.fcall.canonicalLine + " …"
        default:
            return l.text + wholeFields(prefix, dialect)
        }
        return l.text
    }

    /// ` fid 5 newfid 6 …`: the body fields a cut frame holds whole, as the field tree reads them (a Tversion's
    /// msize, a Tread's fid, offset and count, a Twalk's fids before its names), then `…`.
    private static func wholeFields(_ prefix: [UInt8], _ dialect: Dialect) -> String {
        // (An unknown type's body is one opaque field: nothing of it is whole.)
        guard FrameHeader(prefix)?.messageType != nil else { return " …" }
        var text = ""
        for node in Fcall.fieldTree(prefix, dialect: dialect, cut: true).wholeBodyFields {
            text += " " + node.name + " " + node.display
        }
        return text + " …"
    }

    /// What a cut frame did, as far as its captured bytes tell (`bookkeeping`).
    public struct Bookkeeping: Equatable, Sendable {
        /// The message, its fields as far as captured (see `bookkeeping`).
        public var fcall: Fcall
        /// An Rwalk's `nwqid`: how many of the walk's names the server walked, whether or not their qids were
        /// captured (`fcall` holds those captured whole, which may be fewer); nil for any other message.
        public var walkLength: Int?
        /// Whether the open mode of a Tcreate (`mode[1]`) or a Tlcreate (`flags[4]`) was captured (when it
        /// was not, `fcall` holds zero there); true for every other message.
        public var holdsOpenMode: Bool

        public init(fcall: Fcall, walkLength: Int? = nil, holdsOpenMode: Bool = true) {
            self.fcall = fcall
            self.walkLength = walkLength
            self.holdsOpenMode = holdsOpenMode
        }
    }

    /// What a cut frame did, for keeping track of exchanges and fids (never for showing), when what is
    /// missing does not change what it does:
    /// - the data of an Rread, Twrite or (.L) Rreaddir, every other field whole: the data is the captured
    ///   bytes followed by zeros up to its `count` (a tracker checks counts, not contents);
    /// - names of a Tattach or Tauth (`uname`, `aname`; and a .u/.L `n_uname`, then absent), of a Twalk
    ///   (`wname`s), or the (.L) name of a Txattrwalk or Trename or new name of a Trenameat, the fids and counts
    ///   before them whole: a name cut short is its captured bytes followed by `…`, a name not captured at all
    ///   is `…` (so paths made from them show where they were cut);
    /// - an Rwalk's qids: those captured whole, fewer than its `nwqid` when the capture ended among them
    ///   (`walkLength` says how far the walk went);
    /// - a Tcreate or Tlcreate's name as a Twalk's (a cut name ends in `…`) and every field after it as
    ///   captured or zero (`holdsOpenMode` says whether its mode or flags were captured).
    /// Nil for any other cut (a stat, a getattr): what it did is not known.
    public static func bookkeeping(_ prefix: [UInt8], dialect: Dialect) -> Bookkeeping? {
        guard let header = FrameHeader(prefix), Int(header.size) > prefix.count else { return nil }
        let size = Int(header.size)
        if let data = dataStart(header.messageType, dialect: dialect) {
            guard prefix.count >= data, size <= 64 << 20,
                  let fcall = try? Fcall.decode(prefix + [UInt8](repeating: 0, count: size - prefix.count),
                                                dialect: dialect) else { return nil }
            return Bookkeeping(fcall: fcall)
        }
        return prefix.withUnsafeBytes { names(header, CutReader($0), dialect: dialect) }
    }

    /// The fields of a cut Tattach or Tauth as far as they were captured whole: the fids always; `uname`,
    /// `aname` and (9P2000.u, 9P2000.L) `n_uname` each only when it and every field before it were captured
    /// (nil otherwise). With the names the capture cut given again (`replay --uname --aname --n-uname`) such a
    /// request can be sent again. Nil for any other frame, a whole one, or one cut inside its fids.
    public struct CutAttach: Hashable, Sendable {
        public var tag: Tag
        /// A Tauth (its `afid` is `fid`) rather than a Tattach.
        public var isAuth: Bool
        /// Tattach's `fid`; Tauth's `afid`.
        public var fid: Fid
        /// Tattach's `afid`; `.nofid` for a Tauth.
        public var afid: Fid
        public var uname: P9String?
        public var aname: P9String?
        public var nUname: UInt32?
        /// Whether the dialect's message has an `n_uname` (9P2000.u and 9P2000.L).
        public var hasNUname: Bool

        public init(tag: Tag, isAuth: Bool, fid: Fid, afid: Fid = .nofid, uname: P9String? = nil,
                    aname: P9String? = nil, nUname: UInt32? = nil, hasNUname: Bool) {
            self.tag = tag; self.isAuth = isAuth; self.fid = fid; self.afid = afid
            self.uname = uname; self.aname = aname; self.nUname = nUname; self.hasNUname = hasNUname
        }
    }

    /// `CutAttach` of a cut Tattach or Tauth frame.
    public static func cutAttach(_ prefix: [UInt8], dialect: Dialect) -> CutAttach? {
        guard let header = FrameHeader(prefix), Int(header.size) > prefix.count,
              header.messageType == .tattach || header.messageType == .tauth else { return nil }
        return prefix.withUnsafeBytes { raw -> CutAttach? in
            var r = CutReader(raw)
            let isAuth = header.messageType == .tauth
            guard let fid = r.u32() else { return nil }
            var cut = CutAttach(tag: header.tag, isAuth: isAuth, fid: Fid(fid), hasNUname: dialect != .p9)
            if !isAuth {
                guard let afid = r.u32() else { return nil }
                cut.afid = Fid(afid)
            }
            cut.uname = r.wholeName()
            cut.aname = cut.uname == nil ? nil : r.wholeName()
            cut.nUname = cut.aname == nil || !cut.hasNUname ? nil : r.u32()
            return cut
        }
    }

    /// The size of the frame `bytes` are: their count, or for a frame a capture cut (`marks` holds
    /// `.truncated`) what its size field says (never less than the bytes held).
    public static func frameSize(_ bytes: [UInt8], marks: FrameMarks) -> Int {
        frameSize(held: bytes.count, header: FrameHeader(bytes), marks: marks)
    }

    /// `frameSize` of a frame known by how many of its bytes are held and its header (nil when it has none).
    public static func frameSize(held count: Int, header: FrameHeader?, marks: FrameMarks) -> Int {
        guard marks.contains(.truncated), let header else { return count }
        return max(count, Int(header.size))
    }

    /// `bookkeeping` of a message whose cut part is names (and of an Rwalk).
    private static func names(_ header: FrameHeader, _ reader: CutReader, dialect: Dialect) -> Bookkeeping? {
        var r = reader
        func known(_ message: Message) -> Bookkeeping { Bookkeeping(fcall: Fcall(tag: header.tag, message)) }
        switch header.messageType {
        case .tattach?:
            guard let fid = r.u32(), let afid = r.u32() else { return nil }
            let uname = r.name(), aname = r.name()
            let nUname = dialect == .p9 ? nil : r.u32()
            return known(.tattach(Tattach(fid: Fid(fid), afid: Fid(afid), uname: uname, aname: aname,
                                          nUname: nUname)))
        case .tauth?:
            guard let afid = r.u32() else { return nil }
            let uname = r.name(), aname = r.name()
            let nUname = dialect == .p9 ? nil : r.u32()
            return known(.tauth(Tauth(afid: Fid(afid), uname: uname, aname: aname, nUname: nUname)))
        case .twalk?:
            guard let fid = r.u32(), let newfid = r.u32(), let nwname = r.u16(), nwname <= 16 else { return nil }
            return known(.twalk(Twalk(fid: Fid(fid), newfid: Fid(newfid),
                                      wnames: (0..<Int(nwname)).map { _ in r.name() })))
        case .tcreate?:
            guard let fid = r.u32() else { return nil }
            let name = r.name()
            let perm = r.u32(), mode = perm == nil ? nil : r.u8()
            let ext: P9String? = dialect == .u ? r.name() : nil
            var k = known(.tcreate(Tcreate(fid: Fid(fid), name: name, perm: DirMode(rawValue: perm ?? 0),
                                           mode: OpenMode(rawValue: mode ?? 0), extension: ext)))
            k.holdsOpenMode = mode != nil
            return k
        case .tlcreate? where dialect == .l:
            guard let fid = r.u32() else { return nil }
            let name = r.name()
            let flags = r.u32(), mode = r.u32() ?? 0, gid = r.u32() ?? 0
            var k = known(.tlcreate(Tlcreate(fid: Fid(fid), name: name, flags: LOpenFlags(rawValue: flags ?? 0),
                                             mode: mode, gid: gid)))
            k.holdsOpenMode = flags != nil
            return k
        case .rwalk?:
            guard let nwqid = r.u16() else { return nil }
            var k = known(.rwalk(Rwalk(wqids: r.qids(upTo: Int(nwqid)))))
            k.walkLength = Int(nwqid)
            return k
        case .txattrwalk? where dialect == .l:
            guard let fid = r.u32(), let newfid = r.u32() else { return nil }
            return known(.txattrwalk(Txattrwalk(fid: Fid(fid), newfid: Fid(newfid), name: r.name())))
        case .trename? where dialect == .l:
            guard let fid = r.u32(), let dfid = r.u32() else { return nil }
            return known(.trename(Trename(fid: Fid(fid), dfid: Fid(dfid), name: r.name())))
        case .trenameat? where dialect == .l:
            // The old name must be whole: the new directory's fid follows it.
            guard let olddirfid = r.u32(), let oldname = r.wholeName(), let newdirfid = r.u32() else { return nil }
            return known(.trenameat(Trenameat(olddirfid: Fid(olddirfid), oldname: oldname,
                                              newdirfid: Fid(newdirfid), newname: r.name())))
        default:
            return nil
        }
    }

    /// For a capture that keeps at most `limit` bytes of each read's and write's data (`ninescope proxy
    /// --capture-data`): the first bytes of a whole Rread or Twrite frame whose data is longer, up to and
    /// including `limit` bytes of its data (all its other fields); nil for any other frame, which is kept
    /// whole. (Both messages have the same layout in every dialect.)
    public static func keepingData(_ frame: [UInt8], upTo limit: Int) -> [UInt8]? {
        guard let header = FrameHeader(frame), Int(header.size) == frame.count, header.messageType != .rreaddir,
              let fields = dataStart(header.messageType, dialect: .l) else { return nil }
        let keep = fields + max(0, limit)
        return frame.count > keep ? Array(frame.prefix(keep)) : nil
    }

    /// Where the data of an Rread, a Twrite or a (.L) Rreaddir begins: after the header, `count[4]`, and for
    /// Twrite `fid[4] offset[8]` before it. Nil for any other message.
    static func dataStart(_ type: MessageType?, dialect: Dialect) -> Int? {
        switch type {
        case .rread?: NineP.headerSize + 4
        case .twrite?: NineP.headerSize + 4 + 8 + 4
        case .rreaddir? where dialect == .l: NineP.headerSize + 4
        default: nil
        }
    }

    /// The captured part of a cut data field, shown as data is (`Fcall.canonicalLine`), always ending in `…`.
    private static func cutData(_ l: inout CanonicalLine, _ data: [UInt8]) {
        let shown = Array(data.prefix(Fmt.dataLimit + 1))
        guard !shown.isEmpty else { l.word("…"); return }
        l.data(shown)
        if shown.count <= Fmt.dataLimit { l.buf.append("…") }
    }

    /// The codec's reader (`FastReader`) over the captured bytes, answering nil where they end.
    private struct CutReader {
        var r: FastReader
        init(_ bytes: UnsafeRawBufferPointer) { r = FastReader(bytes, from: NineP.headerSize) }
        private static let field = WireField("cut")

        mutating func u8() -> UInt8? { try? r.u8(Self.field) }
        mutating func u16() -> UInt16? { try? r.u16(Self.field) }
        mutating func u32() -> UInt32? { try? r.u32(Self.field) }
        mutating func u64() -> UInt64? { try? r.u64(Self.field) }

        /// A string field `s[2]`: whole, or its captured bytes followed by `…` when the bytes end inside it,
        /// or `…` alone when they end before it (the reader then stays at the end).
        mutating func name() -> P9String {
            let cutMark = Array("…".utf8)
            guard let length = u16() else { r.pos = r.end; return P9String(bytes: cutMark) }
            let have = min(Int(length), r.remaining)
            let bytes = rest(upTo: have)
            r.pos += have
            return P9String(bytes: have == Int(length) ? bytes : bytes + cutMark)
        }

        /// A string field captured whole; nil when the bytes end inside or before it.
        mutating func wholeName() -> P9String? {
            var ahead = self
            guard let length = ahead.u16(), ahead.r.remaining >= Int(length) else { return nil }
            return name()
        }

        /// Up to `count` qids, as many as were captured whole.
        mutating func qids(upTo count: Int) -> [Qid] {
            var qids: [Qid] = []
            while qids.count < min(count, NineP.maxWalkElements), r.remaining >= Qid.wireSize,
                  let q = try? r.qid(Self.field) {
                qids.append(q)
            }
            return qids
        }

        /// The bytes after the fields read, at most `limit` of them.
        func rest(upTo limit: Int) -> [UInt8] {
            Array(UnsafeRawBufferPointer(rebasing: r.base[r.pos..<(r.pos + min(r.remaining, max(0, limit)))]))
        }
    }
}
