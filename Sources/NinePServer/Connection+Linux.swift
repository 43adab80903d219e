import NinePWire

/// The 9P2000.L requests that map one-to-one onto driver calls.
extension Connection {
    func getattr(_ t: Tgetattr) async throws -> Message {
        let a = try await attributes(of: try entry(t.fid))
        return .rgetattr(Rgetattr(
            valid: a.valid, qid: a.qid, mode: a.mode, uid: a.uid, gid: a.gid, nlink: a.nlink, rdev: a.rdev,
            size: a.size, blksize: a.blksize, blocks: a.blocks,
            atimeSec: a.atime.sec, atimeNsec: a.atime.nsec, mtimeSec: a.mtime.sec, mtimeNsec: a.mtime.nsec,
            ctimeSec: a.ctime.sec, ctimeNsec: a.ctime.nsec, btimeSec: a.btime.sec, btimeNsec: a.btime.nsec,
            gen: a.gen, dataVersion: a.dataVersion))
    }

    /// Attributes of a fid: through its open file when it has one (works after unlink), else its node.
    func attributes(of e: Entry) async throws -> NodeAttributes {
        if let o = e.opened {
            do throws(Errno) {
                return try await driver.getattr(open: o.file)
            } catch {
                if error != .EOPNOTSUPP { throw error }
            }
        }
        return try await driver.getattr(e.node)
    }

    func setattr(_ t: Tsetattr) async throws -> Message {
        let e = try entry(t.fid)
        try requireWritable()
        let v = t.valid
        var c = AttributeChanges()
        if v.contains(.mode) { c.mode = t.mode & 0o7777 }
        if v.contains(.uid) { c.uid = t.uid }
        if v.contains(.gid) { c.gid = t.gid }
        if v.contains(.size) { c.size = t.size }
        if v.contains(.atime) { c.atime = v.contains(.atimeSet) ? .set(FileTime(sec: t.atimeSec, nsec: t.atimeNsec)) : .now }
        if v.contains(.mtime) { c.mtime = v.contains(.mtimeSet) ? .set(FileTime(sec: t.mtimeSec, nsec: t.mtimeNsec)) : .now }
        if v.contains(.ctime) { c.ctime = true }
        if !c.isEmpty { try await driver.setattr(e.node, c) }
        return .rsetattr
    }

    func statfs(_ t: Tstatfs) async throws -> Message {
        let s = try await driver.statfs(try entry(t.fid).node)
        return .rstatfs(Rstatfs(type: s.type, bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail,
                                files: s.files, ffree: s.ffree, fsid: s.fsid, namelen: s.namelen))
    }

    /// A directory fid for a request that adds a name to it.
    private func creationDirectory(_ fid: Fid, _ name: P9String) throws(ServerError) -> Entry {
        let d = try directoryEntry(fid)
        try validateNewName(name)
        try requireWritable()
        return d
    }

    func mkdir(_ t: Tmkdir) async throws -> Message {
        let d = try creationDirectory(t.dfid, t.name)
        let node = try await driver.mkdir(in: d.node, name: t.name, mode: t.mode & 0o7777, gid: t.gid)
        return .rmkdir(Rmkdir(qid: try await driver.qid(of: node)))
    }

    func symlink(_ t: Tsymlink) async throws -> Message {
        let d = try creationDirectory(t.fid, t.name)
        // symlink(2): an empty target names nothing.
        guard !t.symtgt.bytes.isEmpty else { throw ServerError(.ENOENT, "a symlink's target may not be empty") }
        let node = try await driver.symlink(in: d.node, name: t.name, target: t.symtgt, gid: t.gid)
        return .rsymlink(Rsymlink(qid: try await driver.qid(of: node)))
    }

    /// mknod(2)'s types: no type is a regular file, a directory EPERM (mkdir makes those), a symlink or
    /// an unknown type EINVAL.
    func mknod(_ t: Tmknod) async throws -> Message {
        let d = try creationDirectory(t.dfid, t.name)
        let mode = t.mode & FileType.mask == 0 ? t.mode | FileType.regular.rawValue : t.mode
        switch FileType(mode: mode) {
        case .directory?: throw ServerError(.EPERM, "mknod does not make directories (Tmkdir does)")
        case .symlink?, nil: throw ServerError(.EINVAL, "mknod needs a device, fifo, socket or regular type")
        default: break
        }
        let node = try await driver.mknod(in: d.node, name: t.name, mode: mode, major: t.major, minor: t.minor, gid: t.gid)
        return .rmknod(Rmknod(qid: try await driver.qid(of: node)))
    }

    func readlink(_ t: Treadlink) async throws -> Message {
        .rreadlink(Rreadlink(target: try await driver.readlink(try entry(t.fid).node)))
    }

    func link(_ t: Tlink) async throws -> Message {
        let d = try creationDirectory(t.dfid, t.name)
        let target = try entry(t.fid)
        guard !target.isDirectory else { throw ServerError(.EPERM) }
        try await driver.link(target.node, in: d.node, name: t.name)
        return .rlink
    }

    func rename(_ t: Trename) async throws -> Message {
        let e = try entry(t.fid)
        try refuseDotName(t.name, .EBUSY)
        let d = try creationDirectory(t.dfid, t.name)
        guard let parent = e.ancestors.last else { throw ServerError(.EBUSY, "cannot rename the root") }
        try await driver.rename(from: parent.node, e.name, to: d.node, t.name)
        renamed(from: parent.qid.path, e.name, to: steps(through: d), t.name)
        return .rrename
    }

    func renameat(_ t: Trenameat) async throws -> Message {
        let old = try directoryEntry(t.olddirfid)
        // rename(2) of or onto `.` or `..` is EBUSY, whichever side names it.
        try refuseDotName(t.oldname, .EBUSY)
        try refuseDotName(t.newname, .EBUSY)
        try validateNewName(t.oldname)
        let new = try creationDirectory(t.newdirfid, t.newname)
        try await driver.rename(from: old.node, t.oldname, to: new.node, t.newname)
        renamed(from: old.qid.path, t.oldname, to: steps(through: new), t.newname)
        return .rrenameat
    }

    /// unlinkat(2)'s answers for `.` and `..`: without AT_REMOVEDIR EISDIR (they are directories), with it
    /// EINVAL for `.` and ENOTEMPTY for `..`.
    func unlinkat(_ t: Tunlinkat) async throws -> Message {
        guard t.flags & ~Tunlinkat.removeDir == 0 else { throw ServerError(.EINVAL, "unknown unlinkat flags") }
        let removeDirectory = t.flags & Tunlinkat.removeDir != 0
        _ = try directoryEntry(t.dirfid)
        try refuseDotName(t.name, removeDirectory ? .EINVAL : .EISDIR, dotDot: removeDirectory ? .ENOTEMPTY : .EISDIR)
        let d = try creationDirectory(t.dirfid, t.name)
        try await driver.unlink(in: d.node, name: t.name, removeDirectory: removeDirectory)
        return .runlinkat
    }

    func fsync(_ t: Tfsync) async throws -> Message {
        let (_, o) = try openedEntry(t.fid)
        try await driver.fsync(o.file, dataOnly: t.datasync != 0)
        return .rfsync
    }

    func lock(_ t: Tlock) async throws -> Message {
        let (_, o) = try openedEntry(t.fid)
        let req = LockRequest(type: t.type, flags: t.flags, start: t.start, length: t.length, procId: t.procId, clientId: t.clientId,
                              session: lockSession)
        guard [LockType.rdlck, .wrlck, .unlck].contains(t.type) else { throw ServerError(.EINVAL, "bad lock type") }
        return .rlock(Rlock(status: try await driver.lock(o.file, req)))
    }

    func getlock(_ t: Tgetlock) async throws -> Message {
        let (_, o) = try openedEntry(t.fid)
        var req = LockRequest(type: t.type, start: t.start, length: t.length, procId: t.procId, clientId: t.clientId,
                              session: lockSession)
        // The Linux client sends every fcntl(F_GETLK) as type UNLCK, whatever lock the program asked about
        // (it tests its own locks first and sends what that left): taken as the question about a write lock,
        // answered with any other owner's lock on the range, or UNLCK. diod answers EINVAL, which F_GETLK then
        // returns to the program. Any other type is EINVAL.
        guard [LockType.rdlck, .wrlck, .unlck].contains(t.type) else { throw ServerError(.EINVAL, "bad lock type") }
        if req.type == .unlck { req.type = .wrlck }
        let r = try await driver.getlock(o.file, req)
        return .rgetlock(Rgetlock(type: r.type, start: r.start, length: r.length, procId: r.procId, clientId: r.clientId))
    }

    /// This connection, as the owner of its locks with Tlock's client_id and proc_id: its locks are released
    /// (its open files closed) before it goes, so no later connection takes the number while they are held.
    nonisolated var lockSession: UInt64 { UInt64(UInt(bitPattern: ObjectIdentifier(self))) }
}
