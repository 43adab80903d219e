import NinePWire

extension Message {
    /// The message with every fid field passed through `map` (fid, newfid, afid, dfid, olddirfid …;
    /// `NOFID` is left alone). Replies and fid-less requests come back unchanged.
    public func mappingFids(_ map: (Fid) -> Fid) -> Message {
        func f(_ fid: Fid) -> Fid { fid == .nofid ? fid : map(fid) }
        switch self {
        case .tauth(var m): m.afid = f(m.afid); return .tauth(m)
        case .tattach(var m): m.fid = f(m.fid); m.afid = f(m.afid); return .tattach(m)
        case .twalk(var m): m.fid = f(m.fid); m.newfid = f(m.newfid); return .twalk(m)
        case .topen(var m): m.fid = f(m.fid); return .topen(m)
        case .tcreate(var m): m.fid = f(m.fid); return .tcreate(m)
        case .tread(var m): m.fid = f(m.fid); return .tread(m)
        case .twrite(var m): m.fid = f(m.fid); return .twrite(m)
        case .tclunk(var m): m.fid = f(m.fid); return .tclunk(m)
        case .tremove(var m): m.fid = f(m.fid); return .tremove(m)
        case .tstat(var m): m.fid = f(m.fid); return .tstat(m)
        case .twstat(var m): m.fid = f(m.fid); return .twstat(m)
        case .tstatfs(var m): m.fid = f(m.fid); return .tstatfs(m)
        case .tlopen(var m): m.fid = f(m.fid); return .tlopen(m)
        case .tlcreate(var m): m.fid = f(m.fid); return .tlcreate(m)
        case .tsymlink(var m): m.fid = f(m.fid); return .tsymlink(m)
        case .tmknod(var m): m.dfid = f(m.dfid); return .tmknod(m)
        case .trename(var m): m.fid = f(m.fid); m.dfid = f(m.dfid); return .trename(m)
        case .treadlink(var m): m.fid = f(m.fid); return .treadlink(m)
        case .tgetattr(var m): m.fid = f(m.fid); return .tgetattr(m)
        case .tsetattr(var m): m.fid = f(m.fid); return .tsetattr(m)
        case .txattrwalk(var m): m.fid = f(m.fid); m.newfid = f(m.newfid); return .txattrwalk(m)
        case .txattrcreate(var m): m.fid = f(m.fid); return .txattrcreate(m)
        case .treaddir(var m): m.fid = f(m.fid); return .treaddir(m)
        case .tfsync(var m): m.fid = f(m.fid); return .tfsync(m)
        case .tlock(var m): m.fid = f(m.fid); return .tlock(m)
        case .tgetlock(var m): m.fid = f(m.fid); return .tgetlock(m)
        case .tlink(var m): m.dfid = f(m.dfid); m.fid = f(m.fid); return .tlink(m)
        case .tmkdir(var m): m.dfid = f(m.dfid); return .tmkdir(m)
        case .trenameat(var m):
            m.olddirfid = f(m.olddirfid)
            m.newdirfid = f(m.newdirfid)
            return .trenameat(m)
        case .tunlinkat(var m): m.dirfid = f(m.dirfid); return .tunlinkat(m)
        default: return self
        }
    }
}
