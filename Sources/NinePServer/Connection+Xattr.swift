import NinePWire

/// Txattrwalk and Txattrcreate (9P2000.L): reads and writes of xattr values through a fid.
extension Connection {
    /// Binds newfid to the value of xattr `name` (or, for an empty name, the NUL-terminated list of names),
    /// to be read with Tread.
    func xattrwalk(_ t: Txattrwalk) async throws -> Message {
        let e = try entry(t.fid)
        let cloning = t.newfid != t.fid
        switch e.state {
        case .walked: break
        // The Linux client asks an open fid for a file's xattrs (fgetxattr, or any getxattr while the
        // file is open: it prefers the inode's open fids), as diod and QEMU answer; the new fid is the
        // xattr's, the open one stays as it was.
        case .open where cloning: break
        default: throw ServerError(.EBADF, "fid is open")
        }
        let token = cloning ? try reserve(t.newfid) : 0
        do {
            let value: [UInt8]
            if t.name.isEmpty {
                value = try await driver.listxattr(e.node).flatMap { $0.bytes + [0] }
            } else {
                value = try await driver.getxattr(e.node, name: t.name)
            }
            var x = e
            x.state = .xattrRead(value)
            x.serial = nextSerial()
            if cloning {
                guard bind(t.newfid, token: token, x) else { throw ServerError.unknownFid }
            } else {
                let bound = x
                guard update(t.fid, serial: e.serial, { $0 = bound }) else { throw ServerError.unknownFid }
            }
            return .rxattrwalk(Rxattrwalk(size: UInt64(value.count)))
        } catch {
            if cloning { unreserve(t.newfid, token: token) }
            throw error
        }
    }

    /// Turns fid into an xattr-write fid: the value of `attrSize` bytes is written with Twrite and set
    /// when the fid is clunked (a size of 0 removes the attribute, as the Linux client does for removexattr).
    func xattrcreate(_ t: Txattrcreate) async throws -> Message {
        let e = try entry(t.fid)
        guard case .walked = e.state else { throw ServerError(.EBADF, "fid is open") }
        try requireWritable()
        guard !t.name.isEmpty else { throw ServerError(.EINVAL, "empty xattr name") }
        guard t.attrSize <= config.maxXattrSize else { throw ServerError(.E2BIG) }
        let x = XattrWrite(name: t.name, flags: XattrFlags(rawValue: t.flags),
                           value: [UInt8](repeating: 0, count: Int(t.attrSize)))
        guard update(t.fid, serial: e.serial, { $0.state = .xattrWrite(x) }) else { throw ServerError.unknownFid }
        return .rxattrcreate
    }
}
