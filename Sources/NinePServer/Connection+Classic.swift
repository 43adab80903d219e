import NinePWire

/// Tstat and Twstat (stat(5)) for 9P2000 and 9P2000.u.
extension Connection {
    func stat(_ t: Tstat) async throws -> Message {
        let e = try entry(t.fid)
        let a = try await attributes(of: e)
        let target = (dialect == .u && a.fileType == .symlink) ? try? await driver.readlink(e.node) : nil
        return .rstat(Rstat(stat: makeStat(a, name: e.name, symlinkTarget: target)))
    }

    /// A classic stat from driver attributes. Owner names are the decimal ids (this server has no user
    /// database); 9P2000.u adds the numeric ids and the extension (symlink target, "b/c major minor").
    func makeStat(_ a: NodeAttributes, name: P9String, symlinkTarget: P9String?) -> Stat {
        let unix = dialect == .u
        var mode = DirMode(rawValue: a.mode & 0o777)
        var ext: P9String = ""
        switch a.fileType {
        case .directory: mode.insert(.dir)
        case .symlink: if unix { mode.insert(.symlink); ext = symlinkTarget ?? "" }
        case .characterDevice, .blockDevice:
            if unix {
                mode.insert(.device)
                let kind = a.fileType == .blockDevice ? "b" : "c"
                ext = P9String("\(kind) \(DeviceNumber.major(a.rdev)) \(DeviceNumber.minor(a.rdev))")
            }
        case .fifo: if unix { mode.insert(.namedPipe) }
        case .socket: if unix { mode.insert(.socket) }
        case .regular, nil: break
        }
        if unix {
            if a.mode & 0o4000 != 0 { mode.insert(.setuid) }
            if a.mode & 0o2000 != 0 { mode.insert(.setgid) }
            if a.mode & 0o1000 != 0 { mode.insert(.setvtx) }
        }
        return Stat(qid: a.qid, mode: mode,
                    atime: UInt32(clamping: a.atime.sec), mtime: UInt32(clamping: a.mtime.sec),
                    length: a.isDirectory ? 0 : a.size, name: name,
                    uid: P9String(String(a.uid)), gid: P9String(String(a.gid)), muid: "",
                    unix: unix ? Stat.UnixStat(extension: ext, nUid: a.uid, nGid: a.gid, nMuid: NineP.noUname) : nil)
    }

    /// stat(5) wstat: fields with "don't touch" values (~0, empty strings) are left alone; a wstat that
    /// touches nothing asks for the file to be synced. A new name renames within the same directory.
    func wstat(_ t: Twstat) async throws -> Message {
        let e = try entry(t.fid)
        let st = t.stat
        try await refuseFixedChanges(st, of: e)
        var c = AttributeChanges()
        if st.mode.rawValue != UInt32.max {
            guard st.mode.contains(.dir) == e.isDirectory else { throw ServerError(.EINVAL, "cannot change DMDIR") }
            try Self.refuseUnkeptBits(st.mode)
            c.mode = st.mode.permissions | (dialect == .u ? Self.unixBits(st.mode) : 0)
        }
        if st.atime != UInt32.max { c.atime = .set(FileTime(sec: UInt64(st.atime))) }
        if st.mtime != UInt32.max { c.mtime = .set(FileTime(sec: UInt64(st.mtime))) }
        // stat(5): setting a directory's length to anything but zero is an error; zero is no change.
        if st.length != UInt64.max, !(e.isDirectory && st.length == 0) {
            guard !e.isDirectory else { throw ServerError(.EISDIR, "a directory's length can only be 0") }
            c.size = st.length
        }
        // 9P2000.u changes the owner (Linux's chown sends n_uid); 9P2000 cannot (refused above).
        c.uid = dialect == .u ? try Self.owner(st.unix?.nUid, st.uid) : nil
        c.gid = try Self.owner(st.unix?.nGid, st.gid)
        let rename = !st.name.isEmpty && st.name != e.name
        if c.isEmpty && !rename {
            if let o = e.opened { try await driver.fsync(o.file, dataOnly: false) }
            return .rwstat
        }
        try requireWritable()
        // stat(5): all the changes happen or none does, so a rename that cannot be is refused before setattr.
        let parent = e.ancestors.last
        if rename {
            guard parent != nil else { throw ServerError(.EBUSY, "cannot rename the root") }
            try refuseDotName(st.name, .EBUSY)   // as Trename and rename(2)
            try validateNewName(st.name)
        }
        if !c.isEmpty { try await driver.setattr(e.node, c) }
        if rename, let parent {
            try await driver.rename(from: parent.node, e.name, to: parent.node, st.name)
            renamed(from: parent.qid.path, e.name, to: e.ancestors, st.name)
        }
        return .rwstat
    }

    /// stat(5): "None of the other data can be altered by a wstat and attempts to change them will trigger an
    /// error. In particular, it is illegal to attempt to change the owner of a file." type, dev, qid and muid
    /// (and in 9P2000 the owner) must be "don't touch" or the value the file has; checked before anything
    /// changes, so a refused wstat changes nothing. A muid that names a user attached on this connection is
    /// no change either: it says who modifies the file, which is what muid records (this server keeps none).
    /// Linux's client renames with a wstat whose muid is its mount's uname (`v9fs_vfs_rename` in 9P2000 and
    /// 9P2000.u), the uname of the mount's first attach, whichever user's attach the fid descends from.
    private func refuseFixedChanges(_ st: Stat, of e: Entry) async throws {
        let ownerGiven = dialect != .u && !st.uid.isEmpty
        guard st.type != .max || st.dev != .max || st.qid.type.rawValue != 0xFF || st.qid.version != .max
                || st.qid.path != .max || !st.muid.isEmpty || ownerGiven else { return }
        let cur = makeStat(try await attributes(of: e), name: e.name, symlinkTarget: nil)
        func changes<T: Equatable>(_ new: T, _ dontTouch: T, _ old: T) -> Bool { new != dontTouch && new != old }
        let attempted: [(Bool, String)] = [
            (changes(st.type, .max, cur.type), "type"), (changes(st.dev, .max, cur.dev), "dev"),
            (changes(st.qid.type.rawValue, 0xFF, cur.qid.type.rawValue), "qid.type"),
            (changes(st.qid.version, .max, cur.qid.version), "qid.version"),
            (changes(st.qid.path, .max, cur.qid.path), "qid.path"),
            (changes(st.muid, "", cur.muid) && !isAttachedUser(st.muid), "muid"),
        ]
        if let field = attempted.first(where: \.0)?.1 { throw ServerError(.EINVAL, "wstat cannot change \(field)") }
        if ownerGiven && st.uid != cur.uid { throw ServerError(.EPERM, "wstat cannot change the owner") }
    }

    /// DMAPPEND, DMEXCL and DMTMP ask for what the drivers' POSIX files cannot keep (append-only and
    /// exclusive-use files, files left out of backups): refused with a reason rather than dropped, so that
    /// a client does not go on as if its file were append-only or exclusive.
    static func refuseUnkeptBits(_ mode: DirMode) throws(ServerError) {
        let unkept = mode.intersection([.append, .excl, .tmp])
        guard unkept.isEmpty else {
            throw ServerError(.EINVAL, "this server keeps no " + unkept.names.filter { $0.hasPrefix("DM") }.joined(separator: "|")
                                + " files")
        }
    }

    /// Whether `uname` is the uname of an attach on this connection (of a fid still in use).
    private func isAttachedUser(_ uname: P9String) -> Bool {
        fids.values.contains { slot in
            if case .live(let e) = slot { e.user.uname == uname } else { false }
        }
    }

    /// A numeric owner from a .u id (~0 = don't touch) or a decimal name ("" = don't touch).
    static func owner(_ numeric: UInt32?, _ name: P9String) throws(ServerError) -> UInt32? {
        if let n = numeric, n != NineP.noUname { return n }
        if name.isEmpty { return nil }
        guard let n = UInt32(name.string) else { throw ServerError(.EPERM, "unknown user \(name.escaped)") }
        return n
    }
}
