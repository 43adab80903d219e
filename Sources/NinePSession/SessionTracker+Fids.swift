import NinePWire

extension SessionTracker {
    /// Applies a request's fid effect once its reply came. Fids change only on success, except that
    /// Tclunk and Tremove end the fid on any reply. Returns the path node to log with the reply.
    /// `walked`: an Rwalk's `nwqid` when `reply` holds fewer qids (a capture cut it).
    mutating func apply(_ c: inout ConnState, _ out: inout TrackerOutput, _ effect: FidEffect, success: Bool,
                        reply: Message?, walked: Int? = nil, id: Int, info: PendingInfo, index: Int,
                        at: Int64) -> Int32 {
        let xid = ExchangeID(id)
        let requestIndex = exchangeRecords[id].requestIndex
        switch effect {
        case let .clunk(fid):
            releaseAnswered(&c, fid, by: id)
            end(&c, &out, fid, state: .clunked, by: xid)
            return info.pathNode
        case let .remove(fid):
            releaseAnswered(&c, fid, by: id)
            end(&c, &out, fid, state: success ? .removed : .clunked, by: xid)
            // Other fids that held the file (or, for a directory, what was in it) keep it nameless.
            if success { markDeleted(&c, &out, at: info.pathNode) }
            return info.pathNode
        default:
            break
        }
        guard success, let reply else { return info.pathNode }
        switch (effect, reply) {
        case let (.attach(fid, aname, uname, nUname), .rattach(r)):
            let node = paths.root(.attach(aname: aname, user: AttachUser(uname: uname, nUname: nUname)))
            c.rootQids[node] = r.qid
            create(&c, &out, fid, FidRecord(
                fid: fid, generation: 0, pathNode: node, qid: r.qid, state: .attached, openMode: nil, iounit: nil,
                xattr: nil, uname: uname, nUname: nUname, createdBy: xid, endedBy: nil,
                lastUsedIndex: requestIndex, createdIndex: requestIndex, useCount: 1), by: xid)
            return node
        case let (.auth(afid, uname, nUname), .rauth(r)):
            let node = paths.root(.auth)
            create(&c, &out, afid, FidRecord(
                fid: afid, generation: 0, pathNode: node, qid: r.aqid, state: .auth, openMode: nil, iounit: nil,
                xattr: nil, uname: uname, nUname: nUname, createdBy: xid, endedBy: nil,
                lastUsedIndex: requestIndex, createdIndex: requestIndex, useCount: 1), by: xid)
            return node
        case let (.walk(fid, newfid, names), .rwalk(r)):
            let count = walked ?? r.wqids.count
            if count > NineP.maxWalkElements {
                report(&c, &out, .walkTooLong, messageIndex: index, exchange: id, tag: nil, fid: fid, at: at,
                       "Rwalk with \(count) qids (at most \(NineP.maxWalkElements))")
            }
            if count > names.count || (count == 0 && !names.isEmpty) {
                report(&c, &out, .badRwalk, messageIndex: index, exchange: id, tag: nil, fid: fid, at: at,
                       count > names.count
                       ? "Rwalk with \(count) qids answers a walk of \(names.count) name\(names.count == 1 ? "" : "s")"
                       : "Rwalk with no qids answers a walk of \(names.count) names (walk(5): nwqid cannot be zero "
                         + "unless nwname is; a first name that cannot be walked is an error)")
            }
            // walk(5): each name but the last is walked from the directory the one before it reached, so a qid
            // followed by another is a directory's (nfs-ganesha gives every wqid the last name's qid).
            if count <= names.count, let i = r.wqids.dropLast().firstIndex(where: { !$0.type.contains(.dir) }) {
                report(&c, &out, .badRwalk, messageIndex: index, exchange: id, tag: nil, fid: fid, at: at,
                       "Rwalk's qid \(i) for '\(names[i].escaped)', \(r.wqids[i].canonicalText), is not a directory's, "
                       + "yet the walk went on to '\(names[i + 1].escaped)' (walk(5): each name but the last is walked "
                       + "from a directory)")
            }
            // A walk naming `..` is checked at the attach root (and walked with the escape kept, if any).
            let checked = names.contains(where: { $0.bytes == [0x2E, 0x2E] })
                ? walkCheckingRoot(&c, &out, from: info.pathNode, names: names, qids: r.wqids, index: index, id: id,
                                   fid: fid, at: at)
                : nil
            guard count == names.count else { return info.pathNode }   // partial: newfid not made
            let node = checked ?? paths.walk(info.pathNode, names)
            let source = c.liveFids[fid].map { c.fidRecords[$0] }
            // The last qid, unless the capture cut it off (then not known).
            let qid = count == r.wqids.count ? r.wqids.last ?? source?.qid : nil
            if newfid == fid, let s = c.liveFids[fid] {
                c.fidRecords[s].pathNode = node
                c.fidRecords[s].qid = qid
                if c.fidRecords[s].state == .attached || c.fidRecords[s].state == .adopted {
                    c.fidRecords[s].state = .walked
                }
                note(&out, fid: c.fidRecords[s], conn: c.id)
            } else {
                create(&c, &out, newfid, FidRecord(
                    fid: newfid, generation: 0, pathNode: node, qid: qid, state: .walked, openMode: nil, iounit: nil,
                    xattr: nil, uname: source?.uname, nUname: source?.nUname, createdBy: xid, endedBy: nil,
                    lastUsedIndex: requestIndex, createdIndex: requestIndex, useCount: 1), by: xid)
            }
            return node
        case let (.open(fid, mode), _):
            guard let (qid, iounit) = reply.openResult else { break }
            update(&c, &out, fid) {
                $0.state = .open; $0.openMode = mode; $0.qid = qid; $0.iounit = iounit
            }
        case let (.create(fid, name, mode), _):
            guard let (qid, iounit) = reply.openResult else { break }
            let node = paths.child(info.pathNode, name)
            update(&c, &out, fid) {
                $0.pathNode = node; $0.state = .open; $0.openMode = mode; $0.qid = qid; $0.iounit = iounit
            }
            return node
        case let (.xattrwalk(fid, newfid, name), .rxattrwalk(r)):
            let source = c.liveFids[fid].map { c.fidRecords[$0] }
            let xattr = XattrInfo(name: name, size: r.size)
            if newfid == fid {
                update(&c, &out, fid) { $0.state = .xattr; $0.xattr = xattr }
            } else {
                create(&c, &out, newfid, FidRecord(
                    fid: newfid, generation: 0, pathNode: info.pathNode, qid: source?.qid, state: .xattr,
                    openMode: nil, iounit: nil, xattr: xattr, uname: source?.uname, nUname: source?.nUname,
                    createdBy: xid, endedBy: nil, lastUsedIndex: requestIndex, createdIndex: requestIndex,
                    useCount: 1), by: xid)
            }
        case let (.xattrcreate(fid, name, size), .rxattrcreate):
            update(&c, &out, fid) { $0.state = .xattr; $0.xattr = XattrInfo(name: name, size: size) }
        case let (.rename(fid, dfid, name), .rrename):
            guard let f = c.liveFids[fid] else { break }
            let oldNode = c.fidRecords[f].pathNode
            let dirNode = c.liveFids[dfid].map { c.fidRecords[$0].pathNode } ?? paths.root(.unknown)
            let newNode = paths.child(dirNode, name)
            rename(&c, &out, from: oldNode, to: newNode)
            return newNode
        case let (.renameat(olddirfid, oldname, newdirfid, newname), .rrenameat):
            guard let o = c.liveFids[olddirfid], let n = c.liveFids[newdirfid] else { break }
            let oldNode = paths.child(c.fidRecords[o].pathNode, oldname)
            let newNode = paths.child(c.fidRecords[n].pathNode, newname)
            rename(&c, &out, from: oldNode, to: newNode)
        case let (.wstatRename(fid, name), .rwstat):
            // wstat(5): the new name is in the same directory. A fid at a root or at a deleted path has no
            // directory entry the tracker knows to rename.
            guard let f = c.liveFids[fid] else { break }
            let oldNode = c.fidRecords[f].pathNode
            guard !paths.isDeleted(oldNode), let dir = paths.parent(oldNode) else { break }
            let newNode = paths.child(dir, name)
            rename(&c, &out, from: oldNode, to: newNode)
            return newNode
        case let (.unlinkat(dirfid, name), .runlinkat):
            guard let d = c.liveFids[dirfid], let node = paths.existingChild(c.fidRecords[d].pathNode, name) else {
                break
            }
            markDeleted(&c, &out, at: node)
        default:
            break
        }
        return info.pathNode
    }

    /// walk(5): a walk of `..` in the root directory is a walk of no names, so its qid is the root's. A
    /// server answering with another qid (diod serving an export without a chroot returns its parent's) lets
    /// the client out of the tree it attached to: said once per walk, at the first such name, and that `..`
    /// is kept in the path (`/srv:/..`), where the fid now is. Returns the node the names lead to.
    mutating func walkCheckingRoot(_ c: inout ConnState, _ out: inout TrackerOutput, from start: Int32,
                                   names: [P9String], qids: [Qid], index: Int, id: Int, fid: Fid,
                                   at: Int64) -> Int32 {
        var node = start
        var reported = false
        for (i, name) in names.enumerated() {
            var escaped = false
            if i < qids.count, name.bytes == [0x2E, 0x2E], paths.isAttachRoot(node), let root = c.rootQids[node],
               qids[i].path != root.path || qids[i].type != root.type {
                escaped = true
                if !reported {
                    reported = true
                    let place = paths.path(node)?.description ?? "/"
                    report(&c, &out, .walkLeftRoot, messageIndex: index, exchange: id, tag: nil, fid: fid, at: at,
                           "'..' at the attach root \(place) (name \(i) of the walk) gave qid \(qids[i].canonicalText), "
                           + "not the root's \(root.canonicalText): the server let the client out of the tree it "
                           + "attached (walk(5): '..' in the root is the root)")
                }
            }
            node = paths.child(node, name, literal: escaped)
        }
        return node
    }

    /// The Tclunk or Tremove `id` of `fid` is answered: it no longer makes a use of the fid use-after-clunk
    /// (a later one's entry stays).
    mutating func releaseAnswered(_ c: inout ConnState, _ fid: Fid, by id: Int) {
        if c.releasing[fid] == id { _ = c.releasing.removeValue(forKey: fid) }
    }

    /// A fid brought into use; an existing live record under the same number is ended first (the
    /// newfid-in-use anomaly was reported at the request).
    mutating func create(_ c: inout ConnState, _ out: inout TrackerOutput, _ fid: Fid, _ record: FidRecord,
                         by xid: ExchangeID) {
        if c.liveFids[fid] != nil { end(&c, &out, fid, state: .clunked, by: xid) }
        var record = record
        record.injected = exchangeRecords.contains(xid.rawValue) && exchangeRecords[xid.rawValue].isInjected
        let r = storeFid(&c, record)
        note(&out, fid: c.fidRecords[r], conn: c.id)
    }

    /// Stores a new live fid record (its generation counts the connection's records) and returns its slot.
    /// Streaming (frames not retained), the slot of an ended record is reused: nothing asks for the
    /// history, and a connection that walks and clunks a fid per file must not grow a record per file.
    mutating func storeFid(_ c: inout ConnState, _ record: FidRecord) -> Int {
        var rec = record
        rec.generation = c.fidsCreated
        c.fidsCreated += 1
        let r: Int
        if let free = c.freeFidSlots.popLast() {
            r = free
            c.fidRecords[r] = rec
        } else {
            r = c.fidRecords.count
            c.fidRecords.append(rec)
        }
        c.liveFids[record.fid] = r
        return r
    }

    mutating func end(_ c: inout ConnState, _ out: inout TrackerOutput, _ fid: Fid, state: FidState, by xid: ExchangeID) {
        guard let r = c.liveFids.removeValue(forKey: fid) else { return }
        c.fidRecords[r].state = state
        c.fidRecords[r].endedBy = xid
        note(&out, fid: c.fidRecords[r], conn: c.id)
        if !configuration.retainFrames { c.freeFidSlots.append(r) }
    }

    mutating func update(_ c: inout ConnState, _ out: inout TrackerOutput, _ fid: Fid, _ body: (inout FidRecord) -> Void) {
        guard let r = c.liveFids[fid] else { return }
        body(&c.fidRecords[r])
        note(&out, fid: c.fidRecords[r], conn: c.id)
    }

    /// After a rename: what was at `to` (a file renamed over, an empty directory) lost its name, and every
    /// live fid at or below `from` now lives at or below `to`.
    mutating func rename(_ c: inout ConnState, _ out: inout TrackerOutput, from: Int32, to: Int32) {
        guard from != to else { return }   // rename(2): a rename onto itself does nothing
        markDeleted(&c, &out, at: to)
        move(&c, &out, from: from, to: to)
    }

    /// Every live fid at or below `from` now lives at or below `to` (a deleted path stays deleted).
    mutating func move(_ c: inout ConnState, _ out: inout TrackerOutput, from: Int32, to: Int32) {
        for (_, r) in c.liveFids.sortedEntries {
            let node = c.fidRecords[r].pathNode
            guard let suffix = paths.suffix(of: node, below: from) else { continue }
            let moved = paths.walk(to, suffix)
            c.fidRecords[r].pathNode = paths.isDeleted(node) ? paths.deleted(moved) : moved
            note(&out, fid: c.fidRecords[r], conn: c.id)
        }
    }

    /// The file at `node` lost its name (removed, unlinked, renamed over): every live fid at or below it now
    /// holds a deleted path (`FidPath.isDeleted`), as Linux shows an open file whose name is gone.
    mutating func markDeleted(_ c: inout ConnState, _ out: inout TrackerOutput, at node: Int32) {
        guard node != PathStore.none, !paths.isDeleted(node) else { return }
        for (_, r) in c.liveFids.sortedEntries {
            let held = c.fidRecords[r].pathNode
            guard let suffix = paths.suffix(of: held, below: node) else { continue }
            c.fidRecords[r].pathNode = paths.walk(paths.deleted(node), suffix)
            note(&out, fid: c.fidRecords[r], conn: c.id)
        }
    }

    func fidEntry(_ r: FidRecord, conn: ConnectionID) -> FidEntry {
        FidEntry(fid: r.fid, conn: conn, generation: r.generation, path: paths.path(r.pathNode), qid: r.qid,
                 state: r.state, openMode: r.openMode, iounit: r.iounit, xattr: r.xattr, uname: r.uname,
                 nUname: r.nUname, createdBy: r.createdBy, endedBy: r.endedBy, lastUsedIndex: r.lastUsedIndex,
                 useCount: r.useCount)
    }
}

extension Message {
    /// qid and iounit of Ropen, Rcreate, Rlopen, Rlcreate.
    var openResult: (Qid, UInt32)? {
        switch self {
        case .ropen(let r): (r.qid, r.iounit)
        case .rcreate(let r): (r.qid, r.iounit)
        case .rlopen(let r): (r.qid, r.iounit)
        case .rlcreate(let r): (r.qid, r.iounit)
        default: nil
        }
    }
}
