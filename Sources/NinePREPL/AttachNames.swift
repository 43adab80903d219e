import NinePWire

/// The names every replayed Tattach and Tauth carries instead of the captured ones (`replay --uname`,
/// `--aname`, `--n-uname`): a capture replayed to another server, whose export path or users differ.
public struct AttachNames: Hashable, Sendable {
    public var uname: String?
    public var aname: String?
    /// 9P2000.u's and 9P2000.L's numeric user; put only into messages that carry one.
    public var nUname: UInt32?

    public init(uname: String? = nil, aname: String? = nil, nUname: UInt32? = nil) {
        self.uname = uname; self.aname = aname; self.nUname = nUname
    }

    /// `m` with these names in place of its own (any other message unchanged).
    public func apply(to m: Message) -> Message {
        switch m {
        case .tattach(var a):
            replace(&a.uname, &a.aname, &a.nUname)
            return .tattach(a)
        case .tauth(var a):
            replace(&a.uname, &a.aname, &a.nUname)
            return .tauth(a)
        default:
            return m
        }
    }

    /// A Tattach or Tauth the capture cut (`TruncatedFrame.cutAttach`) made whole with these names: those
    /// given replace the captured ones, as in every other; nil when a field the capture cut is not given.
    public func complete(_ cut: TruncatedFrame.CutAttach) -> Fcall? {
        guard let u = uname.map({ P9String($0) }) ?? cut.uname, let a = aname.map({ P9String($0) }) ?? cut.aname
        else { return nil }
        var n: UInt32? = nil
        if cut.hasNUname {
            guard let given = nUname ?? cut.nUname else { return nil }
            n = given
        }
        let message: Message = cut.isAuth ? .tauth(Tauth(afid: cut.fid, uname: u, aname: a, nUname: n))
                                          : .tattach(Tattach(fid: cut.fid, afid: cut.afid, uname: u, aname: a, nUname: n))
        return Fcall(tag: cut.tag, message)
    }

    private func replace(_ u: inout P9String, _ a: inout P9String, _ n: inout UInt32?) {
        if let uname { u = P9String(uname) }
        if let aname { a = P9String(aname) }
        if let nUname, n != nil { n = nUname }
    }
}
