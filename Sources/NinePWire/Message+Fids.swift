/// Which fids a request touches, for the session tracker. Replies touch none (their meaning depends on the
/// request), so all three lists are empty for R-messages and `.unknown`.
extension Message {
    /// Fids the request references that must already exist, in wire order: `fid`, `dfid`, `olddirfid` …
    /// Tattach's `afid` counts when it is not NOFID; Twalk/Txattrwalk `fid` counts (and `newfid` too when it
    /// equals `fid`, since the existing fid is then reused).
    public var fidsUsed: [Fid] {
        switch self {
        case .tattach(let m): return m.afid == .nofid ? [] : [m.afid]
        case .twalk(let m): return [m.fid]
        case .txattrwalk(let m): return [m.fid]
        case .topen(let m): return [m.fid]
        case .tcreate(let m): return [m.fid]
        case .tread(let m): return [m.fid]
        case .twrite(let m): return [m.fid]
        case .tclunk(let m): return [m.fid]
        case .tremove(let m): return [m.fid]
        case .tstat(let m): return [m.fid]
        case .twstat(let m): return [m.fid]
        case .tstatfs(let m): return [m.fid]
        case .tlopen(let m): return [m.fid]
        case .tlcreate(let m): return [m.fid]
        case .tsymlink(let m): return [m.fid]
        case .tmknod(let m): return [m.dfid]
        case .trename(let m): return [m.fid, m.dfid]
        case .treadlink(let m): return [m.fid]
        case .tgetattr(let m): return [m.fid]
        case .tsetattr(let m): return [m.fid]
        case .txattrcreate(let m): return [m.fid]
        case .treaddir(let m): return [m.fid]
        case .tfsync(let m): return [m.fid]
        case .tlock(let m): return [m.fid]
        case .tgetlock(let m): return [m.fid]
        case .tlink(let m): return [m.dfid, m.fid]
        case .tmkdir(let m): return [m.dfid]
        case .trenameat(let m): return [m.olddirfid, m.newdirfid]
        case .tunlinkat(let m): return [m.dirfid]
        default: return []
        }
    }

    /// Fids the request brings into existence if it succeeds: Tauth `afid`, Tattach `fid`, Twalk and
    /// Txattrwalk `newfid` when it differs from `fid` (a Twalk that walks fewer than all names creates
    /// nothing; the tracker decides that from the reply).
    public var fidsCreated: [Fid] {
        switch self {
        case .tauth(let m): return [m.afid]
        case .tattach(let m): return [m.fid]
        case .twalk(let m): return m.newfid == m.fid ? [] : [m.newfid]
        case .txattrwalk(let m): return m.newfid == m.fid ? [] : [m.newfid]
        default: return []
        }
    }

    /// The fid the request opens if it succeeds: Topen, Tcreate, Tlopen, Tlcreate.
    public var fidOpened: Fid? {
        switch self {
        case .topen(let m): m.fid
        case .tcreate(let m): m.fid
        case .tlopen(let m): m.fid
        case .tlcreate(let m): m.fid
        default: nil
        }
    }

    /// Fids that are gone after the request whatever the reply (clunk(5), remove(5)): Tclunk, Tremove.
    public var fidsReleased: [Fid] {
        switch self {
        case .tclunk(let m): return [m.fid]
        case .tremove(let m): return [m.fid]
        default: return []
        }
    }
}
