import NinePWire

/// Tclunk and Tremove (clunk(5), remove(5)): the fid is gone afterwards even when they fail.
extension Connection {
    func clunk(_ t: Tclunk) async throws -> Message {
        let e = try take(t.fid)
        switch e.state {
        case .open(let o):
            await driver.close(o.file)
            if o.removeOnClose { try await removeName(of: e) }
        case .xattrWrite(let x):
            if x.value.isEmpty {
                try await driver.removexattr(e.node, name: x.name)
            } else {
                guard x.written == UInt64(x.value.count) else {
                    throw ServerError(.EINVAL, "xattr value shorter than declared")
                }
                try await driver.setxattr(e.node, name: x.name, value: x.value, flags: x.flags)
            }
        default:
            break
        }
        return .rclunk
    }

    func remove(_ t: Tremove) async throws -> Message {
        let e = try take(t.fid)
        if let o = e.opened { await driver.close(o.file) }
        try requireWritable()
        try await removeName(of: e)
        return .rremove
    }

    /// A request refused before it ran (a fault rule's error): a Tclunk or Tremove still ends its fid
    /// (clunk(5), remove(5): the fid is clunked even when the request fails), without what a successful one
    /// does (nothing is removed, no xattr written); the client may use the number again at once.
    func endFidOfRefused(_ message: Message) async {
        let fid: Fid
        switch message {
        case .tclunk(let t): fid = t.fid
        case .tremove(let t): fid = t.fid
        default: return
        }
        guard let e = try? take(fid) else { return }
        if let o = e.opened { await driver.close(o.file) }
    }

    /// Unlinks the name a fid was reached by, after checking that the name still refers to the same
    /// object (a rename elsewhere must not make us remove a different file).
    func removeName(of e: Entry) async throws {
        guard let parent = e.ancestors.last else { throw ServerError(.EBUSY, "cannot remove the root") }
        guard try await driver.lookupWithQid(parent.node, name: e.name).qid.path == e.qid.path else {
            throw ServerError(.ENOENT)
        }
        try await driver.unlink(in: parent.node, name: e.name, removeDirectory: e.isDirectory)
    }
}
