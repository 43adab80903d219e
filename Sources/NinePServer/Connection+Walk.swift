import NinePWire

/// Tattach and Twalk (attach(5), walk(5)).
extension Connection {
    func attach(_ t: Tattach) async throws -> Message {
        guard t.afid == .nofid else { throw ServerError(.EINVAL, "authentication not required") }
        let token = try reserve(t.fid)
        do {
            let user = AttachRequest(uname: t.uname, aname: t.aname,
                                     nUname: t.nUname == NineP.noUname ? nil : t.nUname)
            let root = try await driver.attach(user)
            let qid = try await driver.qid(of: root)
            let e = Entry(node: root, qid: qid, ancestors: [], name: "/", user: user, state: .walked, serial: nextSerial())
            guard bind(t.fid, token: token, e) else { throw ServerError.unknownFid }
            return .rattach(Rattach(qid: qid))
        } catch {
            unreserve(t.fid, token: token)
            throw error
        }
    }

    /// walk(5): elements are walked in order; if the first fails the walk fails, if a later one fails the
    /// reply lists the qids walked so far and newfid is not created. nwname 0 clones; newfid may equal fid.
    /// `..` at the attach root stays at the root; `.` stays put; the driver never sees either. The new fid
    /// is never open, whatever `fid` was.
    func walk(_ t: Twalk) async throws -> Message {
        let start = try entry(t.fid)
        switch start.state {
        case .walked: break
        // 9P2000.L, as diod and QEMU serve it: an open fid may be walked from into a new fid (diodls -l
        // walks from its open directory). walk(5)'s rule still holds for 9P2000/.u and for walks in place.
        case .open where dialect == .l && t.newfid != t.fid: break
        default: throw ServerError(.EBADF, "cannot walk an open fid")
        }
        guard t.wnames.count <= NineP.maxWalkElements else {
            throw ServerError(.EINVAL, "walk of \(t.wnames.count) names exceeds \(NineP.maxWalkElements)")
        }
        let cloning = t.newfid != t.fid
        let token = cloning ? try reserve(t.newfid) : 0
        var cur = start
        var wqids: [Qid] = []
        for (i, name) in t.wnames.enumerated() {
            do {
                if Task.isCancelled { throw Errno.EINTR }
                try await step(&cur, name)
            } catch {
                if cloning { unreserve(t.newfid, token: token) }
                if i == 0 { throw error }
                return .rwalk(Rwalk(wqids: wqids))
            }
            wqids.append(cur.qid)
        }
        cur.state = .walked
        cur.serial = nextSerial()
        if cloning {
            guard bind(t.newfid, token: token, cur) else { throw ServerError.unknownFid }
        } else {
            let moved = cur
            guard update(t.fid, serial: start.serial, { $0 = moved }) else { throw ServerError.unknownFid }
        }
        return .rwalk(Rwalk(wqids: wqids))
    }

    /// One walk element.
    private func step(_ cur: inout Entry, _ name: P9String) async throws {
        let b = name.bytes
        guard cur.isDirectory else { throw ServerError(.ENOTDIR) }
        if b == [0x2E] { return }
        if b == [0x2E, 0x2E] {
            guard let parent = cur.ancestors.popLast() else { return }   // `..` at the root is the root
            cur.node = parent.node
            cur.name = parent.name
            cur.qid = (try? await driver.qid(of: parent.node)) ?? parent.qid
            return
        }
        if b.isEmpty || b.contains(0x2F) || b.contains(0) { throw ServerError(.ENOENT) }
        let (child, qid) = try await driver.lookupWithQid(cur.node, name: name)
        cur.ancestors.append(PathStep(node: cur.node, qid: cur.qid, name: cur.name))
        cur.node = child
        cur.qid = qid
        cur.name = name
    }
}
