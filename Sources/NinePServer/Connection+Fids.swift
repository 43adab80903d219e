import NinePWire

/// The per-connection fid table: what each fid refers to and what state it is in.
extension Connection {
    /// One element of the path from the attach root to a fid's node.
    struct PathStep: Sendable {
        var node: Node
        var qid: Qid
        var name: P9String
    }

    struct Opened: Sendable {
        var file: OpenFile
        var flags: LOpenFlags
        var isDirectory: Bool
        /// ORCLOSE: remove the file when the fid is clunked.
        var removeOnClose: Bool
        /// Classic directory reads: byte offset reached so far and the driver cookie to continue from.
        var dirOffset: UInt64 = 0
        var dirCookie: UInt64 = 0

        var canRead: Bool { flags.accessMode == LOpenFlags.rdonly.rawValue || flags.accessMode == LOpenFlags.rdwr.rawValue }
        var canWrite: Bool { flags.accessMode == LOpenFlags.wronly.rawValue || flags.accessMode == LOpenFlags.rdwr.rawValue }
    }

    /// Txattrcreate state: the value is written with Twrite and set at Tclunk.
    struct XattrWrite: Sendable {
        var name: P9String
        var flags: XattrFlags
        var value: [UInt8]
        var written: UInt64 = 0
    }

    enum FidState: Sendable {
        /// Walked or attached, not opened.
        case walked
        /// An open or create is in progress.
        case busy
        case open(Opened)
        /// Txattrwalk result, read with Tread.
        case xattrRead([UInt8])
        case xattrWrite(XattrWrite)
    }

    struct Entry: Sendable {
        var node: Node
        var qid: Qid
        /// Ancestors from the attach root down to the parent (empty at the root).
        var ancestors: [PathStep]
        /// Name in the parent ("/" at the root).
        var name: P9String
        var user: AttachRequest
        var state: FidState
        /// Unique per binding: tells a handler whether the fid it saw before an await is still the same.
        var serial: UInt64

        var isRoot: Bool { ancestors.isEmpty }
        var isDirectory: Bool { qid.type.contains(.dir) }
        var opened: Opened? { if case .open(let o) = state { o } else { nil } }
    }

    enum FidSlot: Sendable {
        /// Claimed by a request in progress (attach, walk, xattrwalk) with this token.
        case reserved(UInt64)
        case live(Entry)

        var openFile: OpenFile? {
            if case .live(let e) = self, case .open(let o) = e.state { return o.file }
            return nil
        }
    }

    // MARK: Lookup and binding

    /// The live entry for `fid`, or EBADF.
    func entry(_ fid: Fid) throws(ServerError) -> Entry {
        guard case .live(let e)? = fids[fid] else { throw .unknownFid }
        return e
    }

    /// The live entry, if it is still the binding with `serial`.
    func current(_ fid: Fid, serial: UInt64) -> Entry? {
        guard case .live(let e)? = fids[fid], e.serial == serial else { return nil }
        return e
    }

    /// Mutates the entry if it is still the binding with `serial`; false when it is gone or replaced.
    @discardableResult
    func update(_ fid: Fid, serial: UInt64, _ change: (inout Entry) -> Void) -> Bool {
        guard case .live(var e)? = fids[fid], e.serial == serial else { return false }
        change(&e)
        fids[fid] = .live(e)
        return true
    }

    /// Claims an unused fid number for a request in progress; returns the reservation token.
    func reserve(_ fid: Fid) throws(ServerError) -> UInt64 {
        guard fid != .nofid else { throw ServerError(.EBADF, "NOFID cannot be bound") }
        guard fids[fid] == nil else { throw .fidInUse }
        guard fids.count < config.maxFids else { throw ServerError(.EMFILE, "too many fids (limit \(config.maxFids))") }
        let token = nextSerial()
        fids[fid] = .reserved(token)
        return token
    }

    /// Turns a reservation into a live entry. False (and nothing bound) when the reservation was lost
    /// (Tversion or shutdown in between).
    func bind(_ fid: Fid, token: UInt64, _ entry: Entry) -> Bool {
        guard case .reserved(let t)? = fids[fid], t == token else { return false }
        fids[fid] = .live(entry)
        return true
    }

    func unreserve(_ fid: Fid, token: UInt64) {
        if case .reserved(let t)? = fids[fid], t == token { fids[fid] = nil }
    }

    /// Removes a fid from the table and returns its entry (clunk, remove).
    func take(_ fid: Fid) throws(ServerError) -> Entry {
        let e = try entry(fid)
        fids[fid] = nil
        return e
    }

    // MARK: Checks shared by handlers

    func requireWritable() throws(ServerError) {
        if config.readOnly { throw .readOnly }
    }

    /// A walked (not opened) fid that refers to a directory.
    func directoryEntry(_ fid: Fid) throws(ServerError) -> Entry {
        let e = try entry(fid)
        guard e.isDirectory else { throw ServerError(.ENOTDIR) }
        return e
    }

    /// An opened fid.
    func openedEntry(_ fid: Fid) throws(ServerError) -> (Entry, Opened) {
        let e = try entry(fid)
        guard let o = e.opened else { throw ServerError(.EBADF, "fid is not open") }
        return (e, o)
    }

    /// A name that a create-type request may make: one path element.
    func validateNewName(_ name: P9String) throws(ServerError) {
        let b = name.bytes
        if b.isEmpty || b.contains(0x2F) || b.contains(0) { throw ServerError(.EINVAL, "invalid file name") }
        try refuseDotName(name, .EEXIST)   // mkdir(2) and the like
        if b.count > 255 { throw ServerError(.ENAMETOOLONG) }
    }

    /// `.` and `..` as the name a request acts on, refused as Linux refuses them for that call: with `dot`
    /// for `.`, and `dotDot` (else `dot`) for `..`.
    func refuseDotName(_ name: P9String, _ dot: Errno, dotDot: Errno? = nil) throws(ServerError) {
        switch name.bytes {
        case [0x2E]: throw ServerError(dot)
        case [0x2E, 0x2E]: throw ServerError(dotDot ?? dot)
        default: break
        }
    }

    /// After a rename done on this connection, point fids that named the old name at the new one.
    func renamed(from oldParent: UInt64, _ oldName: P9String, to newParent: [PathStep], _ newName: P9String) {
        guard !newParent.isEmpty else { return }
        for (fid, slot) in fids {
            guard case .live(var e) = slot, e.ancestors.last?.qid.path == oldParent, e.name == oldName else { continue }
            e.ancestors = newParent
            e.name = newName
            fids[fid] = .live(e)
        }
    }

    /// The path steps of `e` plus `e` itself: the ancestors of a child of `e`.
    func steps(through e: Entry) -> [PathStep] {
        e.ancestors + [PathStep(node: e.node, qid: e.qid, name: e.name)]
    }
}
