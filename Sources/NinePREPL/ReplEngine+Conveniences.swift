import NinePWire
import NinePSession

/// Why a convenience stopped.
enum ConvenienceError: Error {
    case errorReply(String)
    case failed(String)
}

extension ReplEngine {
    /// Runs a convenience; its errors become outcomes.
    func convenience(_ body: () async throws(ConvenienceError) -> Void) async -> CommandOutcome {
        do {
            try await body()
            return .ok
        } catch {
            switch error {
            case .errorReply(let line): emit(.error, "failed: " + line); return .errorReply(line)
            case .failed(let why): return fail(why)
            }
        }
    }

    /// Sends one request and returns its successful reply.
    func step(_ message: Message, quiet: Bool = false) async throws(ConvenienceError) -> Fcall {
        switch await sendRequest(Request(message), background: false, quiet: quiet) {
        case .reply(let f)?:
            if f.message.type?.isError == true { throw .errorReply(f.canonicalLine) }
            return f
        case .malformed(let line)?: throw .failed("malformed reply: " + line)
        case .gone(let why)?: throw .failed(why)
        case nil: throw .failed("no reply")
        }
    }

    func root() throws(ConvenienceError) -> Fid {
        guard let r = rootFid else { throw .failed("no attach since the connection or the last version: attach FID UNAME ANAME first (or set root FID)") }
        return r
    }

    func scratchFid() throws(ConvenienceError) -> Fid {
        let live = tracker.liveFids(on: conn)
        var n: UInt32 = 1000
        while live.contains(Fid(n)) || scratchFids.contains(Fid(n)) {
            guard n < Fid.nofid.rawValue - 1 else { throw .failed("no free fid") }
            n += 1
        }
        scratchFids.insert(Fid(n))
        return Fid(n)
    }

    func releaseScratch(_ fid: Fid) { scratchFids.remove(fid) }

    /// Path elements of `path` ("/a//b/./c" → a b c), split on its bytes.
    static func elements(_ path: P9String) -> [P9String] {
        path.bytes.split(separator: 0x2F).filter { $0 != [0x2E] }.map { P9String(bytes: Array($0)) }
    }

    /// Walks from the root to `path` as `fid` (in chunks of 16 names).
    func walk(to path: P9String, as fid: Fid, quiet: Bool = false) async throws(ConvenienceError) {
        let names = Self.elements(path)
        let from = try root()
        var done = 0
        var first = true
        repeat {
            let chunk = Array(names[done..<min(names.count, done + NineP.maxWalkElements)])
            let reply = try await step(.twalk(Twalk(fid: first ? from : fid, newfid: fid, wnames: chunk)), quiet: quiet)
            guard case .rwalk(let r) = reply.message else { throw .failed("unexpected reply " + reply.canonicalLine) }
            if r.wqids.count < chunk.count {
                if !first { try? await clunk(fid, quiet: quiet) }
                releaseScratch(fid)
                let missing = chunk[r.wqids.count]
                throw .failed("\(path.escaped): '\(missing.escaped)' not found (walked \(done + r.wqids.count) of \(names.count) names)")
            }
            done += chunk.count
            first = false
        } while done < names.count
    }

    func clunk(_ fid: Fid, quiet: Bool = false) async throws(ConvenienceError) {
        defer { releaseScratch(fid) }
        _ = try await step(.tclunk(Tclunk(fid: fid)), quiet: quiet)
    }

    /// Runs `body` with `fid` walked to `path`, clunking it afterwards whatever happens.
    func withFid<T>(at path: P9String, quiet: Bool = false,
                    _ body: (Fid) async throws(ConvenienceError) -> T) async throws(ConvenienceError) -> T {
        let fid = try scratchFid()
        do {
            try await walk(to: path, as: fid, quiet: quiet)
        } catch {
            releaseScratch(fid)
            throw error
        }
        let result: T
        do {
            result = try await body(fid)
        } catch {
            try? await clunk(fid, quiet: quiet)
            throw error
        }
        try await clunk(fid, quiet: quiet)
        return result
    }

    /// Opens `fid` for reading; returns the iounit.
    func openForReading(_ fid: Fid, directory: Bool, quiet: Bool) async throws(ConvenienceError) -> UInt32 {
        if dialect == .l {
            let r = try await step(.tlopen(Tlopen(fid: fid, flags: LOpenFlags(rawValue: 0))), quiet: quiet)
            if case .rlopen(let o) = r.message { return o.iounit }
        } else {
            let r = try await step(.topen(Topen(fid: fid, mode: .read)), quiet: quiet)
            if case .ropen(let o) = r.message { return o.iounit }
        }
        return 0
    }

    func chunkSize(_ iounit: UInt32) -> UInt32 {
        iounit > 0 ? iounit : max(1, msize > UInt32(NineP.ioHeaderSize) ? msize - UInt32(NineP.ioHeaderSize) : 1)
    }

    /// Lists a remote directory: (name, isDirectory) in server order, names as the server sent their bytes.
    func listDirectory(_ path: P9String, quiet: Bool) async throws(ConvenienceError) -> [(P9String, Bool)] {
        try await withFid(at: path, quiet: quiet) { (fid: Fid) async throws(ConvenienceError) -> [(P9String, Bool)] in
            let count = chunkSize(try await openForReading(fid, directory: true, quiet: quiet))
            var out: [(P9String, Bool)] = []
            var offset: UInt64 = 0
            if dialect == .l {
                while true {
                    let r = try await step(.treaddir(Treaddir(fid: fid, offset: offset, count: count)), quiet: quiet)
                    guard case .rreaddir(let d) = r.message, !d.payload.isEmpty else { break }
                    guard let entries = try? Dirent.decodeAll(d.payload), let last = entries.last else {
                        throw .failed("\(path.escaped): the directory entries do not decode")
                    }
                    out += entries.map { ($0.name, $0.type == 4 || $0.qid.type.contains(.dir)) }
                    offset = last.offset
                }
            } else {
                while true {
                    let r = try await step(.tread(Tread(fid: fid, offset: offset, count: count)), quiet: quiet)
                    guard case .rread(let d) = r.message, !d.payload.isEmpty else { break }
                    guard let stats = try? Stat.decodeAll(d.payload, dialect: dialect) else {
                        throw .failed("\(path.escaped): the directory entries do not decode")
                    }
                    out += stats.map { ($0.name, $0.mode.contains(.dir)) }
                    offset += UInt64(d.payload.count)
                }
            }
            return out
        }
    }

    func ls(_ path: P9String) async -> CommandOutcome {
        await convenience { () async throws(ConvenienceError) in
            let entries = try await listDirectory(path, quiet: false)
            for (name, isDir) in entries where name != "." && name != ".." {
                emit(.info, "   " + name.escaped + (isDir ? "/" : ""))
            }
        }
    }

    /// Reads the whole file and shows its first `catLimit` bytes (all when 0): a large file is read to
    /// its end (every Tread shown) without being held, or dumped, whole.
    func cat(_ path: P9String) async -> CommandOutcome {
        let limit = config.catLimit > 0 ? config.catLimit : Int.max
        return await convenience { () async throws(ConvenienceError) in
            let (content, total) = try await withFid(at: path) { (fid: Fid) async throws(ConvenienceError) -> ([UInt8], UInt64) in
                let count = chunkSize(try await openForReading(fid, directory: false, quiet: false))
                var shown: [UInt8] = []
                var offset: UInt64 = 0
                while true {
                    let r = try await step(.tread(Tread(fid: fid, offset: offset, count: count)))
                    guard case .rread(let d) = r.message, !d.payload.isEmpty else { break }
                    offset += UInt64(d.payload.count)
                    if shown.count < limit { shown += d.payload.prefix(limit - shown.count) }
                }
                return (shown, offset)
            }
            for line in Self.contentLines(content) { emit(.info, line) }
            if total > UInt64(content.count) {
                emit(.info, "   … \(total - UInt64(content.count)) more bytes not shown (\(total) in all; set catlimit N shows N, 0 all)")
            }
        }
    }

    /// File content for display: escaped text lines, or a hex dump for binary data.
    static func contentLines(_ b: [UInt8]) -> [String] {
        if ValueFormatter.isText(b) {
            var lines = b.split(separator: 0x0A, omittingEmptySubsequences: false).map { P9String(bytes: Array($0)).escaped }
            if lines.last == "" { lines.removeLast() }
            return lines
        }
        return stride(from: 0, to: b.count, by: 16).map { i in
            let row = b[i..<min(b.count, i + 16)]
            let offset = String(i, radix: 16)
            return String(repeating: "0", count: max(0, 8 - offset.count)) + offset + "  "
                + row.map { P9StringHex.hex2($0) }.joined(separator: " ")
        }
    }

    func stat(_ path: P9String) async -> CommandOutcome {
        await convenience { () async throws(ConvenienceError) in
            let reply = try await withFid(at: path) { (fid: Fid) async throws(ConvenienceError) -> Fcall in
                if dialect == .l {
                    return try await step(.tgetattr(Tgetattr(fid: fid, requestMask: .all)))
                }
                return try await step(.tstat(Tstat(fid: fid)))
            }
            guard let schema = MessageSchema.schema(of: reply.message), let fields = schema.namedValues(of: reply.message) else { return }
            StatLines.lines(fields, dataLimit: config.dataLimit).forEach { emit(.info, $0) }
        }
    }

    func put(_ local: String, _ remote: P9String) async -> CommandOutcome {
        let content: [UInt8]
        do { content = try await env.readLocalFile(local) } catch { return fail("\(local): \(error)") }
        var elements = Self.elements(remote)
        guard let name = elements.popLast() else { return fail("put: \(remote.escaped) names no file") }
        let dir = P9String(bytes: [0x2F] + Array(elements.map(\.bytes).joined(separator: [0x2F])))
        return await convenience { () async throws(ConvenienceError) in
            try await withFid(at: dir) { (fid: Fid) async throws(ConvenienceError) in
                var iounit: UInt32 = 0
                var target = fid
                var extra: Fid?
                do throws(ConvenienceError) {
                    if dialect == .l {
                        let r = try await step(.tlcreate(Tlcreate(fid: fid, name: name, flags: LOpenFlags(rawValue: 0o1101),
                                                                  mode: 0o644, gid: 0)))
                        if case .rlcreate(let c) = r.message { iounit = c.iounit }
                    } else {
                        let r = try await step(.tcreate(Tcreate(fid: fid, name: name, perm: DirMode(rawValue: 0o644),
                                                                mode: OpenMode(rawValue: OpenMode.write.rawValue | OpenMode.truncBit),
                                                                extension: dialect == .u ? "" : nil)))
                        if case .rcreate(let c) = r.message { iounit = c.iounit }
                    }
                } catch .errorReply {
                    // The file may exist: open it for writing, truncated, instead.
                    let f = try scratchFid()
                    extra = f
                    do throws(ConvenienceError) {
                        let w = try await step(.twalk(Twalk(fid: fid, newfid: f, wnames: [name])))
                        guard case .rwalk(let r) = w.message, r.wqids.count == 1 else {
                            releaseScratch(f); extra = nil
                            throw .failed("\(remote.escaped): cannot create or open")
                        }
                        let o = try await step(dialect == .l ? .tlopen(Tlopen(fid: f, flags: LOpenFlags(rawValue: 0o1001)))
                                                             : .topen(Topen(fid: f, mode: OpenMode(rawValue: OpenMode.write.rawValue | OpenMode.truncBit))))
                        if case .rlopen(let x) = o.message { iounit = x.iounit }
                        if case .ropen(let x) = o.message { iounit = x.iounit }
                    } catch {
                        if let e = extra { try? await clunk(e) }
                        throw error
                    }
                    target = f
                }
                let size = Int(chunkSize(iounit))
                var offset = 0
                do throws(ConvenienceError) {
                    while offset < content.count {
                        let piece = Array(content[offset..<min(content.count, offset + size)])
                        let r = try await step(.twrite(Twrite(fid: target, offset: UInt64(offset), data: piece)))
                        guard case .rwrite(let w) = r.message, w.count > 0 else { throw .failed("\(remote.escaped): short write") }
                        offset += Int(w.count)
                    }
                } catch {
                    if let e = extra { try? await clunk(e) }
                    throw error
                }
                if let e = extra { try await clunk(e) }
                emit(.info, "   wrote \(content.count) bytes to \(remote.escaped)")
            }
        }
    }

    // MARK: - Completion

    /// Completion candidates; remote directory names are fetched (quietly, via walk+readdir) and cached.
    public func complete(line: String, cursor: Int) async -> [String] {
        var requested: String?
        let probe = completionContext { dir in requested = dir; return nil }
        let first = Completer.complete(line: line, cursor: cursor, context: probe)
        guard let dir = requested else { return first }
        if remoteCache[dir] == nil, rootFid != nil, transport != nil {
            if let entries = try? await listDirectory(P9String(bytes: Tokenizer.typedBytes(dir)), quiet: true) {
                var names: [String] = []
                for (name, isDir) in entries where name != "." && name != ".." {
                    names.append(Tokenizer.escapedWord(name.bytes) + (isDir ? "/" : ""))
                }
                remoteCache[dir] = names
            }
        }
        let cache = remoteCache
        return Completer.complete(line: line, cursor: cursor, context: completionContext { cache[$0] })
    }

    /// The session facts completion uses.
    public func completionContext(remoteNames: @escaping (String) -> [String]? = { _ in nil }) -> CompletionContext {
        var fids: [Fid: [String]] = [:]
        for e in tracker.fidTable(on: conn) {
            fids[e.fid] = e.path?.elements.map { Tokenizer.escapedWord($0.bytes) } ?? []
        }
        return CompletionContext(dialect: dialect, fids: fids, pendingTags: tracker.pendingTags(on: conn).sorted(),
                                 remoteNames: remoteNames)
    }
}
