import NinePWire

/// The fids a request names: the one it is "about" (for paths), the ones that must already exist, and
/// the one it brings into use.
public struct FidRefs: Hashable, Sendable {
    /// The fid the message is about: Twalk fid, Tattach fid, Tmkdir dfid, Trenameat olddirfid …
    public var primary: Fid?
    /// Fids that must be in use already (Tattach afid when not NOFID included).
    public var uses: FidList
    /// The fid the request brings into use: Tattach fid, Tauth afid, Twalk/Txattrwalk newfid
    /// (nil when newfid = fid).
    public var creates: Fid?
    public init(primary: Fid?, uses: FidList, creates: Fid?) {
        self.primary = primary; self.uses = uses; self.creates = creates
    }
}

/// None, one or two fids, stored inline (no request names more than two fids that must exist): the
/// tracker asks every request for its fids, and an array would be an allocation each time.
public struct FidList: RandomAccessCollection, Hashable, Sendable, CustomStringConvertible {
    private let firstFid: Fid, secondFid: Fid
    public let count: Int
    public init() { firstFid = .nofid; secondFid = .nofid; count = 0 }
    public init(_ a: Fid) { firstFid = a; secondFid = .nofid; count = 1 }
    public init(_ a: Fid, _ b: Fid) { firstFid = a; secondFid = b; count = 2 }
    public var startIndex: Int { 0 }
    public var endIndex: Int { count }
    public subscript(i: Int) -> Fid {
        precondition(i >= 0 && i < count, "FidList index out of range")
        return i == 0 ? firstFid : secondFid
    }
    public static func == (l: FidList, r: FidList) -> Bool { l.elementsEqual(r) }
    public func hash(into h: inout Hasher) { h.combine(count); for f in self { h.combine(f) } }
    public var description: String { Array(self).description }
}

extension Message {
    /// Which fids this message names (empty for replies, Tversion and Tflush).
    public var fidRefs: FidRefs {
        switch self {
        case .tauth(let m): return FidRefs(primary: m.afid, uses: FidList(), creates: m.afid)
        case .tattach(let m):
            return FidRefs(primary: m.fid, uses: m.afid == .nofid ? FidList() : FidList(m.afid), creates: m.fid)
        case .twalk(let m): return FidRefs(primary: m.fid, uses: FidList(m.fid), creates: m.newfid == m.fid ? nil : m.newfid)
        case .txattrwalk(let m):
            return FidRefs(primary: m.fid, uses: FidList(m.fid), creates: m.newfid == m.fid ? nil : m.newfid)
        case .topen(let m): return .one(m.fid)
        case .tcreate(let m): return .one(m.fid)
        case .tread(let m): return .one(m.fid)
        case .twrite(let m): return .one(m.fid)
        case .tclunk(let m): return .one(m.fid)
        case .tremove(let m): return .one(m.fid)
        case .tstat(let m): return .one(m.fid)
        case .twstat(let m): return .one(m.fid)
        case .tstatfs(let m): return .one(m.fid)
        case .tlopen(let m): return .one(m.fid)
        case .tlcreate(let m): return .one(m.fid)
        case .tsymlink(let m): return .one(m.fid)
        case .tmknod(let m): return .one(m.dfid)
        case .treadlink(let m): return .one(m.fid)
        case .tgetattr(let m): return .one(m.fid)
        case .tsetattr(let m): return .one(m.fid)
        case .txattrcreate(let m): return .one(m.fid)
        case .treaddir(let m): return .one(m.fid)
        case .tfsync(let m): return .one(m.fid)
        case .tlock(let m): return .one(m.fid)
        case .tgetlock(let m): return .one(m.fid)
        case .tmkdir(let m): return .one(m.dfid)
        case .tunlinkat(let m): return .one(m.dirfid)
        case .trename(let m): return FidRefs(primary: m.fid, uses: FidList(m.fid, m.dfid), creates: nil)
        case .tlink(let m): return FidRefs(primary: m.dfid, uses: FidList(m.dfid, m.fid), creates: nil)
        case .trenameat(let m):
            return FidRefs(primary: m.olddirfid, uses: FidList(m.olddirfid, m.newdirfid), creates: nil)
        default: return FidRefs(primary: nil, uses: FidList(), creates: nil)
        }
    }

    /// An Rread's, Rreaddir's or Rwrite's count (nil for other messages).
    var replyCount: UInt32? {
        switch self {
        case .rread(let m): UInt32(truncatingIfNeeded: m.payload.count)
        case .rreaddir(let m): UInt32(truncatingIfNeeded: m.data.count)
        case .rwrite(let m): m.count
        default: nil
        }
    }

    /// The I/O count a Tread/Twrite/Treaddir asks for, with its fid.
    var ioCount: (fid: Fid, count: UInt32)? {
        let code = typeCode
        guard code == MessageType.tread.rawValue || code == MessageType.twrite.rawValue
            || code == MessageType.treaddir.rawValue else { return nil }
        return switch self {
        case .tread(let m): (m.fid, m.count)
        case .twrite(let m): (m.fid, UInt32(truncatingIfNeeded: m.payload.count))
        case .treaddir(let m): (m.fid, m.count)
        default: nil
        }
    }

    /// What the request does to the fid table when it succeeds.
    var fidEffect: FidEffect? {
        // Most requests (Tgetattr, Tread, …) have none: answered from the type code alone, without the
        // copy of the whole message a `switch` binding payloads makes.
        guard Message.hasFidEffect[Int(typeCode)] else { return nil }
        return fidEffectOfAnyType
    }

    /// `fidEffect` without the type-code shortcut (`hasFidEffect` must list exactly the types that have one).
    var fidEffectOfAnyType: FidEffect? {
        switch self {
        case .tattach(let m): .attach(fid: m.fid, aname: m.aname, uname: m.uname, nUname: m.nUname)
        case .tauth(let m): .auth(afid: m.afid, uname: m.uname, nUname: m.nUname)
        case .twalk(let m): .walk(fid: m.fid, newfid: m.newfid, names: m.wnames)
        case .topen(let m): .open(fid: m.fid, mode: .classic(m.mode))
        case .tlopen(let m): .open(fid: m.fid, mode: .dotL(m.flags))
        case .tcreate(let m): .create(fid: m.fid, name: m.name, mode: .classic(m.mode))
        case .tlcreate(let m): .create(fid: m.fid, name: m.name, mode: .dotL(m.flags))
        case .txattrwalk(let m): .xattrwalk(fid: m.fid, newfid: m.newfid, name: m.name)
        case .txattrcreate(let m): .xattrcreate(fid: m.fid, name: m.name, size: m.attrSize)
        case .tclunk(let m): .clunk(fid: m.fid)
        case .tremove(let m): .remove(fid: m.fid)
        case .trename(let m): .rename(fid: m.fid, dfid: m.dfid, name: m.name)
        case .trenameat(let m):
            .renameat(olddirfid: m.olddirfid, oldname: m.oldname, newdirfid: m.newdirfid, newname: m.newname)
        case .tunlinkat(let m): .unlinkat(dirfid: m.dirfid, name: m.name)
        // wstat(5): an empty name leaves the name as it is.
        case .twstat(let m): m.stat.name.isEmpty ? nil : .wstatRename(fid: m.fid, name: m.stat.name)
        default: nil
        }
    }
}

extension FidRefs {
    static func one(_ fid: Fid) -> FidRefs { FidRefs(primary: fid, uses: FidList(fid), creates: nil) }
}

extension Message {
    /// Type codes whose requests have a `fidEffect`.
    static let hasFidEffect: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        let types: [MessageType] = [.tattach, .tauth, .twalk, .topen, .tlopen, .tcreate, .tlcreate, .txattrwalk,
                                    .txattrcreate, .tclunk, .tremove, .trename, .trenameat, .tunlinkat, .twstat]
        for t in types { table[Int(t.rawValue)] = true }
        return table
    }()
}

extension TruncatedFrame.Bookkeeping {
    /// What a cut request does to the fid table when it succeeds: its message's effect, with an open mode
    /// the capture did not hold left unknown.
    var fidEffect: FidEffect? {
        let effect = fcall.message.fidEffect
        guard !holdsOpenMode, case .create(let fid, let name, _)? = effect else { return effect }
        return .create(fid: fid, name: name, mode: nil)
    }
}
