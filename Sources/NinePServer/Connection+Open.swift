import NinePWire

/// Tlopen, Topen, Tlcreate, Tcreate (open(5), 9P2000.L lopen/lcreate).
extension Connection {
    var iounit: UInt32 { config.iounit ?? (msize > UInt32(NineP.ioHeaderSize) ? msize - UInt32(NineP.ioHeaderSize) : 0) }

    func lopen(_ t: Tlopen) async throws -> Message {
        let flags = t.flags.subtracting([.create, .excl])
        let (qid, iounit) = try await openFid(t.fid, flags: flags, removeOnClose: false)
        return .rlopen(Rlopen(qid: qid, iounit: iounit))
    }

    func open(_ t: Topen) async throws -> Message {
        let (qid, iounit) = try await openFid(t.fid, flags: Self.lflags(t.mode), removeOnClose: t.mode.removeOnClose)
        return .ropen(Ropen(qid: qid, iounit: iounit))
    }

    /// Classic open mode → 9P2000.L flags: OREAD/OWRITE/ORDWR (OEXEC reads), OTRUNC, and Linux's .u OAPPEND.
    static func lflags(_ mode: OpenMode) -> LOpenFlags {
        var f: LOpenFlags = switch mode.access {
        case 1: .wronly
        case 2: .rdwr
        default: .rdonly
        }
        if mode.truncate { f.insert(.trunc) }
        if mode.rawValue & OpenMode.appendBit != 0 { f.insert(.append) }
        return f
    }

    private func openFid(_ fid: Fid, flags: LOpenFlags, removeOnClose: Bool) async throws -> (Qid, UInt32) {
        let e = try entry(fid)
        guard case .walked = e.state else { throw ServerError(.EBADF, "fid is already open") }
        let writes = flags.accessMode == LOpenFlags.wronly.rawValue || flags.accessMode == LOpenFlags.rdwr.rawValue
        if e.isDirectory && (writes || flags.contains(.trunc)) { throw ServerError(.EISDIR) }
        // open(5): a directory may not be removed on close.
        if e.isDirectory && removeOnClose { throw ServerError(.EISDIR, "a directory cannot be removed on close") }
        if writes || flags.contains(.trunc) || removeOnClose { try requireWritable() }
        if removeOnClose && e.isRoot { throw ServerError(.EBUSY, "cannot remove the root") }
        update(fid, serial: e.serial) { $0.state = .busy }
        let file: OpenFile
        let qid: Qid
        do {
            file = try await driver.open(e.node, flags: flags)
            qid = (try? await driver.qid(of: e.node)) ?? e.qid
        } catch {
            update(fid, serial: e.serial) { $0.state = .walked }
            throw error
        }
        let opened = Opened(file: file, flags: flags, isDirectory: e.isDirectory, removeOnClose: removeOnClose)
        guard update(fid, serial: e.serial, { $0.state = .open(opened); $0.qid = qid }) else {
            await driver.close(file)
            throw ServerError.unknownFid
        }
        return (qid, iounit)
    }

    /// Tlcreate is open(2) with O_CREAT: without O_EXCL a file that exists already is opened (a Linux
    /// client sends Tlcreate when its cache says the name is not there: another client made it since, or
    /// a guest mounted with cache=loose is behind the host), as diod and QEMU do; with O_EXCL it is EEXIST.
    func lcreate(_ t: Tlcreate) async throws -> Message {
        let (qid, iounit) = try await createFile(t.fid, name: t.name, flags: t.flags.subtracting([.create, .excl]),
                                                 mode: t.mode & 0o7777, gid: t.gid, removeOnClose: false,
                                                 openExisting: !t.flags.contains(.excl))
        return .rlcreate(Rlcreate(qid: qid, iounit: iounit))
    }

    /// Creates a regular file in the directory `fid` refers to; `fid` then refers to the new open file.
    /// `openExisting`: a file already there under `name` is opened with `flags` instead (a directory is
    /// EISDIR, a symlink ELOOP: the server never follows one), as open(2) with O_CREAT and no O_EXCL does.
    private func createFile(_ fid: Fid, name: P9String, flags: LOpenFlags, mode: UInt32, gid: UInt32,
                            removeOnClose: Bool, openExisting: Bool = false) async throws -> (Qid, UInt32) {
        let e = try entry(fid)
        guard case .walked = e.state else { throw ServerError(.EBADF, "fid is already open") }
        guard e.isDirectory else { throw ServerError(.ENOTDIR) }
        try validateNewName(name)
        try requireWritable()
        update(fid, serial: e.serial) { $0.state = .busy }
        let created: (node: Node, file: OpenFile)
        let qid: Qid
        do {
            do {
                created = try await driver.create(in: e.node, name: name, flags: flags, mode: mode, gid: gid)
            } catch .EEXIST where openExisting {
                created = try await openExistingFile(in: e.node, name: name, flags: flags)
            }
            qid = try await driver.qid(of: created.node)
        } catch {
            update(fid, serial: e.serial) { $0.state = .walked }
            throw error
        }
        let opened = Opened(file: created.file, flags: flags, isDirectory: false, removeOnClose: removeOnClose)
        let parent = steps(through: e)
        guard update(fid, serial: e.serial, {
            $0.node = created.node; $0.qid = qid; $0.ancestors = parent; $0.name = name; $0.state = .open(opened)
        }) else {
            await driver.close(created.file)
            throw ServerError.unknownFid
        }
        return (qid, iounit)
    }

    /// The file `name` in `directory`, opened with `flags` (Tlcreate without O_EXCL of a name taken).
    private func openExistingFile(in directory: Node, name: P9String, flags: LOpenFlags) async throws(Errno)
        -> (node: Node, file: OpenFile) {
        let node = try await driver.lookup(directory, name: name)
        switch FileType(mode: try await driver.getattr(node).mode) {
        case .directory: throw .EISDIR
        case .symlink: throw .ELOOP
        default: break
        }
        return (node, try await driver.open(node, flags: flags))
    }

    /// Classic Tcreate: perm's DM bits choose a directory, a file or (9P2000.u) a symlink, hard link,
    /// device, fifo or socket (from `extension`). Files and directories are then open with `mode`; the
    /// special files are not opened (fid refers to them). In 9P2000 the permissions are narrowed by the
    /// directory's as create(5) says (a file's `perm & (~0666 | (dir.perm & 0666))`, a directory's with
    /// 0777); in 9P2000.u they are taken as they are, as a Unix server takes a mode (the client has applied
    /// its umask).
    func create(_ t: Tcreate) async throws -> Message {
        var perm = t.perm
        try Self.refuseUnkeptBits(perm)
        let special: DirMode = [.symlink, .link, .device, .namedPipe, .socket]
        if dialect == .p9, perm.intersection(special).isEmpty {
            let parent = try entry(t.fid)
            if case .walked = parent.state, parent.isDirectory {
                let dirPerm = try await driver.getattr(parent.node).mode & 0o777
                let mask: UInt32 = perm.contains(.dir) ? 0o777 : 0o666
                perm = DirMode(rawValue: perm.rawValue & (~mask | (dirPerm & mask)))
            }
        }
        if perm.intersection(special).isEmpty && !perm.contains(.dir) {
            var mode = perm.permissions
            if dialect == .u { mode |= Self.unixBits(perm) }
            let (qid, iounit) = try await createFile(t.fid, name: t.name, flags: Self.lflags(t.mode), mode: mode,
                                                     gid: NineP.noUname, removeOnClose: t.mode.removeOnClose)
            return .rcreate(Rcreate(qid: qid, iounit: iounit))
        }
        let e = try entry(t.fid)
        guard case .walked = e.state else { throw ServerError(.EBADF, "fid is already open") }
        guard e.isDirectory else { throw ServerError(.ENOTDIR) }
        try validateNewName(t.name)
        // open(5): a directory cannot be written, truncated or removed on close; refused before anything is
        // made, so a failed create leaves no directory behind and fid still names the parent.
        if perm.contains(.dir) { try Self.requireDirectoryMode(t.mode) }
        try requireWritable()
        let gid = NineP.noUname
        let node: Node
        if perm.contains(.dir) {
            node = try await driver.mkdir(in: e.node, name: t.name, mode: perm.permissions, gid: gid)
        } else if dialect != .u {
            throw ServerError(.EINVAL, "special files need 9P2000.u")
        } else if perm.contains(.symlink) {
            node = try await driver.symlink(in: e.node, name: t.name, target: t.extension ?? "", gid: gid)
        } else if perm.contains(.link) {
            let text = (t.extension ?? "").string.trimmingSuffix("\n")
            guard let n = UInt32(text) else { throw ServerError(.EINVAL, "bad hard link extension") }
            let target = try entry(Fid(n))
            try await driver.link(target.node, in: e.node, name: t.name)
            node = try await driver.lookup(e.node, name: t.name)
        } else {
            let (type, major, minor) = try Self.deviceSpec(perm, t.extension ?? "")
            node = try await driver.mknod(in: e.node, name: t.name, mode: type.rawValue | perm.permissions,
                                          major: major, minor: minor, gid: gid)
        }
        let qid = try await driver.qid(of: node)
        let parent = steps(through: e)
        let fresh = nextSerial()
        guard update(t.fid, serial: e.serial, {
            $0.node = node; $0.qid = qid; $0.ancestors = parent; $0.name = t.name; $0.serial = fresh
        }) else { throw ServerError.unknownFid }
        if perm.contains(.dir) {
            let (q, iounit) = try await openFid(t.fid, flags: Self.lflags(t.mode), removeOnClose: t.mode.removeOnClose)
            return .rcreate(Rcreate(qid: q, iounit: iounit))
        }
        return .rcreate(Rcreate(qid: qid, iounit: 0))
    }

    /// open(5): "It is illegal to write a directory, truncate it, or attempt to remove it on close."
    static func requireDirectoryMode(_ mode: OpenMode) throws(ServerError) {
        if mode.access == 1 || mode.access == 2 { throw ServerError(.EISDIR, "a directory cannot be opened for writing") }
        if mode.truncate { throw ServerError(.EISDIR, "a directory cannot be truncated") }
        if mode.removeOnClose { throw ServerError(.EISDIR, "a directory cannot be removed on close") }
    }

    /// setuid/setgid/sticky from 9P2000.u DM bits.
    static func unixBits(_ perm: DirMode) -> UInt32 {
        (perm.contains(.setuid) ? 0o4000 : 0) | (perm.contains(.setgid) ? 0o2000 : 0) | (perm.contains(.setvtx) ? 0o1000 : 0)
    }

    /// Device/fifo/socket from DM bits and the .u extension ("b 1 2", "c 1 2", "").
    static func deviceSpec(_ perm: DirMode, _ ext: P9String) throws(ServerError) -> (FileType, UInt32, UInt32) {
        if perm.contains(.namedPipe) { return (.fifo, 0, 0) }
        if perm.contains(.socket) { return (.socket, 0, 0) }
        let parts = ext.string.split(separator: " ")
        guard parts.count == 3, let major = UInt32(parts[1]), let minor = UInt32(parts[2]),
              parts[0] == "b" || parts[0] == "c" else { throw ServerError(.EINVAL, "bad device extension") }
        return (parts[0] == "b" ? .blockDevice : .characterDevice, major, minor)
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
