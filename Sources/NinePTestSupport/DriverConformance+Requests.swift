import NinePServer
import NinePWire

/// Typed request helpers: each sends one request and returns the useful part of its reply, throwing
/// `NinePReplyError` for an error reply and `ConformanceFailure` for an unexpected reply type.
extension NinePTestClient {
    @discardableResult
    public func version(msize: UInt32 = 8192, _ version: String = "9P2000.L") async throws -> Rversion {
        let tag = await send(.tversion(Tversion(msize: msize, version: P9String(version))), tag: .notag)
        guard let r = await reply(to: tag) else { throw ConformanceFailure("no Rversion") }
        guard case .rversion(let v) = r.message else { throw ConformanceFailure("expected Rversion, got \(r.message.type?.name ?? "?")") }
        return v
    }

    @discardableResult
    public func attach(_ fid: Fid, uname: String = "tester", aname: String = "") async throws -> Qid {
        let n: UInt32? = dialect == .p9 ? nil : NineP.noUname
        guard case .rattach(let r) = try await call(.tattach(Tattach(fid: fid, uname: P9String(uname), aname: P9String(aname), nUname: n)))
        else { throw ConformanceFailure("expected Rattach") }
        return r.qid
    }

    /// Twalk; returns the qids of the Rwalk (fewer than names on a partial walk).
    public func walk(_ fid: Fid, _ newfid: Fid, _ names: [String]) async throws -> [Qid] {
        guard case .rwalk(let r) = try await call(.twalk(Twalk(fid: fid, newfid: newfid, wnames: names.map { P9String($0) })))
        else { throw ConformanceFailure("expected Rwalk") }
        return r.wqids
    }

    /// Walks `path` ("a/b/c") from `fid` to a fresh fid, requiring every element to be walked.
    public func walkTo(_ fid: Fid, _ path: String) async throws -> Fid {
        let names = path.split(separator: "/").map(String.init)
        let nf = freshFid()
        let q = try await walk(fid, nf, names)
        guard q.count == names.count else { throw ConformanceFailure("partial walk to \(path): \(q.count) of \(names.count)") }
        return nf
    }

    @discardableResult
    public func lopen(_ fid: Fid, _ flags: LOpenFlags = .rdonly) async throws -> Rlopen {
        guard case .rlopen(let r) = try await call(.tlopen(Tlopen(fid: fid, flags: flags))) else { throw ConformanceFailure("expected Rlopen") }
        return r
    }

    @discardableResult
    public func lcreate(_ fid: Fid, _ name: String, flags: LOpenFlags = .rdwr, mode: UInt32 = 0o644) async throws -> Rlcreate {
        guard case .rlcreate(let r) = try await call(.tlcreate(Tlcreate(fid: fid, name: P9String(name), flags: flags, mode: mode, gid: 0)))
        else { throw ConformanceFailure("expected Rlcreate") }
        return r
    }

    public func read(_ fid: Fid, offset: UInt64 = 0, count: UInt32 = 4096) async throws -> [UInt8] {
        guard case .rread(let r) = try await call(.tread(Tread(fid: fid, offset: offset, count: count))) else { throw ConformanceFailure("expected Rread") }
        return r.data
    }

    @discardableResult
    public func write(_ fid: Fid, offset: UInt64 = 0, _ data: [UInt8]) async throws -> UInt32 {
        guard case .rwrite(let r) = try await call(.twrite(Twrite(fid: fid, offset: offset, data: data))) else { throw ConformanceFailure("expected Rwrite") }
        return r.count
    }

    public func clunk(_ fid: Fid) async throws {
        guard case .rclunk = try await call(.tclunk(Tclunk(fid: fid))) else { throw ConformanceFailure("expected Rclunk") }
    }

    public func readdir(_ fid: Fid, offset: UInt64 = 0, count: UInt32 = 4096) async throws -> [Dirent] {
        guard case .rreaddir(let r) = try await call(.treaddir(Treaddir(fid: fid, offset: offset, count: count))) else { throw ConformanceFailure("expected Rreaddir") }
        if r.payload.count > Int(count) { throw ConformanceFailure("Rreaddir carries \(r.payload.count) bytes for count \(count)") }
        return try Dirent.decodeAll(r.payload)
    }

    /// Every entry of the directory `fid` (opened here), reading with `count` bytes per Treaddir.
    public func listDirectory(_ fid: Fid, count: UInt32 = 4096) async throws -> [Dirent] {
        let d = try await walkTo(fid, "")
        try await lopen(d, LOpenFlags.rdonly.union(.directory))
        var all: [Dirent] = []
        var offset: UInt64 = 0
        for _ in 0..<10_000 {
            let part = try await readdir(d, offset: offset, count: count)
            guard let last = part.last else { break }
            all += part
            offset = last.offset
        }
        try await clunk(d)
        return all
    }

    public func getattr(_ fid: Fid, _ mask: GetattrMask = .all) async throws -> Rgetattr {
        guard case .rgetattr(let r) = try await call(.tgetattr(Tgetattr(fid: fid, requestMask: mask))) else { throw ConformanceFailure("expected Rgetattr") }
        return r
    }

    public func mkdir(_ dfid: Fid, _ name: String, mode: UInt32 = 0o755) async throws -> Qid {
        guard case .rmkdir(let r) = try await call(.tmkdir(Tmkdir(dfid: dfid, name: P9String(name), mode: mode, gid: 0))) else { throw ConformanceFailure("expected Rmkdir") }
        return r.qid
    }

    public func symlink(_ dfid: Fid, _ name: String, target: String) async throws -> Qid {
        guard case .rsymlink(let r) = try await call(.tsymlink(Tsymlink(fid: dfid, name: P9String(name), symtgt: P9String(target), gid: 0)))
        else { throw ConformanceFailure("expected Rsymlink") }
        return r.qid
    }

    public func link(_ dfid: Fid, _ fid: Fid, _ name: String) async throws {
        guard case .rlink = try await call(.tlink(Tlink(dfid: dfid, fid: fid, name: P9String(name)))) else { throw ConformanceFailure("expected Rlink") }
    }

    public func unlinkat(_ dfid: Fid, _ name: String, removeDir: Bool = false) async throws {
        let flags = removeDir ? Tunlinkat.removeDir : 0
        guard case .runlinkat = try await call(.tunlinkat(Tunlinkat(dirfid: dfid, name: P9String(name), flags: flags)))
        else { throw ConformanceFailure("expected Runlinkat") }
    }

    public func readlink(_ fid: Fid) async throws -> String {
        guard case .rreadlink(let r) = try await call(.treadlink(Treadlink(fid: fid))) else { throw ConformanceFailure("expected Rreadlink") }
        return r.target.string
    }

    /// Expects `message` to fail; returns the errno of the error reply.
    public func expectError(_ message: Message) async throws -> Errno? {
        let r = try await rpc(message)
        guard r.type?.isError == true else {
            throw ConformanceFailure("\(message.type?.name ?? "request") succeeded (\(r.type?.name ?? "?")) but should fail")
        }
        return NinePReplyError(request: message.type, reply: r).errno
    }

    /// Creates a file `name` in directory `dfid` holding `contents` (walks a clone, Tlcreate, write, clunk).
    public func createFile(_ dfid: Fid, _ name: String, contents: [UInt8] = []) async throws {
        let f = try await walkTo(dfid, "")
        try await lcreate(f, name)
        if !contents.isEmpty { try await write(f, contents) }
        try await clunk(f)
    }
}
