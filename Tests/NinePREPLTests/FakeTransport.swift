import Synchronization
import NinePWire
@testable import NinePREPL

/// A thread-safe box for test state.
final class Box<T: Sendable>: Sendable {
    let mutex: Mutex<T>
    init(_ value: T) { mutex = Mutex(value) }
    var value: T { mutex.withLock { $0 } }
    func update<R>(_ f: (inout T) -> R) -> R { mutex.withLock { f(&$0) } }
}

/// An in-process transport: every frame sent is decoded and handed to `respond`, whose replies are
/// encoded and delivered on `incoming`. For unit tests only.
final class FakeTransport: NinePTransport, Sendable {
    typealias Responder = @Sendable (Fcall?, [UInt8]) -> [TransportEvent]
    let incoming: AsyncStream<TransportEvent>
    let continuation: AsyncStream<TransportEvent>.Continuation
    let sent = Box<[[UInt8]]>([])
    let respond: Responder
    let dialect: Box<Dialect>
    let clock: Box<Int64>?
    let replyDelay: Int64

    init(dialect: Dialect = .l, clock: Box<Int64>? = nil, replyDelay: Int64 = 0, respond: @escaping Responder) {
        (incoming, continuation) = AsyncStream.makeStream(of: TransportEvent.self)
        self.respond = respond
        self.dialect = Box(dialect)
        self.clock = clock
        self.replyDelay = replyDelay
    }

    /// One write: recorded whole; each frame in it (whole frames back to back, as a server takes a read
    /// holding several apart), or else the bytes as one, answered in turn.
    func send(_ bytes: [UInt8]) async throws { post(bytes) }

    func post(_ bytes: [UInt8]) {
        sent.update { $0.append(bytes) }
        for frame in ReplEngine.wholeFrames(bytes) ?? [bytes] {
            let fcall = try? Fcall.decode(frame, dialect: dialect.value)
            if case .tversion(let v)? = fcall?.message, let d = Dialect(version: v.version.string) { dialect.update { $0 = d } }
            clock?.update { $0 += replyDelay }
            for event in respond(fcall, frame) { continuation.yield(event) }
        }
    }

    func close() async { continuation.finish() }

    /// Simulates the server going away.
    func drop() { continuation.yield(.closed(reason: "reset by peer")); continuation.finish() }

    var sentFcalls: [Fcall] { sent.value.compactMap { try? Fcall.decode($0, dialect: .l) } }

    static func reply(_ tag: Tag, _ m: Message, _ dialect: Dialect = .l) -> TransportEvent {
        .frame(Fcall(tag: tag, m).encode(dialect: dialect))
    }
}

/// A canned tree for the conveniences: `/hello.txt` ("hello\n"), `/dir/` with `a`, `/big` (100 bytes).
/// Answers only what the tests send; unknown names give Rlerror ENOENT.
final class TinyServer: Sendable {
    struct Node: Sendable { var qid: Qid; var children: [String]; var data: [UInt8] }
    let tree = Box<[String: Node]>([
        "/": Node(qid: Qid(type: .dir, version: 0, path: 1), children: ["hello.txt", "dir", "big"], data: []),
        "/hello.txt": Node(qid: Qid(type: .file, version: 0, path: 2), children: [], data: Array("hello\n".utf8)),
        "/dir": Node(qid: Qid(type: .dir, version: 0, path: 3), children: ["a"], data: []),
        "/dir/a": Node(qid: Qid(type: .file, version: 0, path: 4), children: [], data: []),
        "/big": Node(qid: Qid(type: .file, version: 0, path: 5), children: [], data: Array(repeating: 0x41, count: 100)),
    ])
    let fids = Box<[Fid: String]>([:])
    let serverVersion: String
    /// Requests whose reply is held back (by fid of Tread) until flushed.
    let holdReadsOnFid: Fid?
    let held = Box<[Tag]>([])

    /// The owner named in 9P2000 stat entries (a directory's Tread): its length sets the entries' sizes.
    let owner: String

    /// An attach name refused with EPERM (a server that does not export it).
    let refusedAname: String?

    init(version: String = "9P2000.L", holdReadsOnFid: Fid? = nil, owner: String = "u", refusedAname: String? = nil) {
        self.serverVersion = version; self.holdReadsOnFid = holdReadsOnFid; self.owner = owner
        self.refusedAname = refusedAname
    }

    /// A 9P2000 directory read: the whole stat entries that fit in `count` from `offset`, which must be where
    /// an entry begins.
    func directoryRead(_ path: String, _ node: Node, offset: UInt64, count: UInt32) -> Message {
        var entries: [[UInt8]] = []
        for name in node.children {
            let child = tree.value[Self.join(path, name)]!
            let stat = Stat(qid: child.qid, mode: DirMode(rawValue: child.qid.type.contains(.dir) ? 0o755 | DirMode.dir.rawValue : 0o644),
                            atime: 0, mtime: 0, length: UInt64(child.data.count), name: P9String(name), uid: P9String(owner),
                            gid: P9String(owner), muid: "")
            entries.append(Stat.encodeAll([stat], dialect: .p9))
        }
        var at: UInt64 = 0
        var i = 0
        while at < offset && i < entries.count { at += UInt64(entries[i].count); i += 1 }
        guard at == offset else { return .rerror(Rerror(ename: "bad offset in directory read")) }
        var data: [UInt8] = []
        while i < entries.count && data.count + entries[i].count <= Int(count) { data += entries[i]; i += 1 }
        return .rread(Rread(data: data))
    }

    static func join(_ dir: String, _ name: String) -> String {
        if name == ".." {
            guard let slash = dir.lastIndex(of: "/"), slash != dir.startIndex else { return "/" }
            return String(dir[..<slash])
        }
        return dir == "/" ? "/" + name : dir + "/" + name
    }

    func respond(_ f: Fcall?, _ raw: [UInt8]) -> [TransportEvent] {
        guard let f else {
            let tag = FrameHeader(raw)?.tag ?? Tag(0)
            return [FakeTransport.reply(tag, .rlerror(Rlerror(ecode: .EPROTO)))]
        }
        let err = { (e: Errno) in [FakeTransport.reply(f.tag, .rlerror(Rlerror(ecode: e)))] }
        let ok = { (m: Message) in [FakeTransport.reply(f.tag, m)] }
        switch f.message {
        case .tversion(let v):
            return ok(.rversion(Rversion(msize: min(v.msize, 8192), version: P9String(serverVersion))))
        case .tattach(let a):
            if let refusedAname, a.aname.string == refusedAname { return err(.EPERM) }
            fids.update { $0[a.fid] = "/" }
            return ok(.rattach(Rattach(qid: tree.value["/"]!.qid)))
        case .twalk(let w):
            guard let start = fids.value[w.fid] else { return err(.EBADF) }
            var path = start
            var qids: [Qid] = []
            for n in w.wnames {
                let next = Self.join(path, n.string)
                guard let node = tree.value[next] else { break }
                qids.append(node.qid); path = next
            }
            if !w.wnames.isEmpty && qids.isEmpty { return err(.ENOENT) }
            if qids.count == w.wnames.count { fids.update { $0[w.newfid] = path } }
            return ok(.rwalk(Rwalk(wqids: qids)))
        case .tlopen(let o):
            guard let p = fids.value[o.fid], let node = tree.value[p] else { return err(.EBADF) }
            return ok(.rlopen(Rlopen(qid: node.qid, iounit: 0)))
        case .treaddir(let r):
            guard let p = fids.value[r.fid], let node = tree.value[p] else { return err(.EBADF) }
            guard r.offset == 0 else { return ok(.rreaddir(Rreaddir(data: []))) }
            let entries = node.children.enumerated().map { i, name in
                let child = tree.value[Self.join(p, name)]!
                return Dirent(qid: child.qid, offset: UInt64(i + 1), type: child.qid.type.contains(.dir) ? 4 : 8, name: P9String(name))
            }
            return ok(.rreaddir(Rreaddir(data: Dirent.encodeAll(entries))))
        case .topen(let o):
            guard let p = fids.value[o.fid], let node = tree.value[p] else { return err(.EBADF) }
            return ok(.ropen(Ropen(qid: node.qid, iounit: 0)))
        case .tread(let r):
            if r.fid == holdReadsOnFid { held.update { $0.append(f.tag) }; return [] }
            guard let p = fids.value[r.fid], let node = tree.value[p] else { return err(.EBADF) }
            if node.qid.type.contains(.dir) { return ok(directoryRead(p, node, offset: r.offset, count: r.count)) }
            let start = min(Int(r.offset), node.data.count)
            let end = min(node.data.count, start + Int(r.count))
            return ok(.rread(Rread(data: Array(node.data[start..<end]))))
        case .tflush:
            held.update { $0.removeAll() }
            return ok(.rflush)
        case .tgetattr(let g):
            guard let p = fids.value[g.fid], let node = tree.value[p] else { return err(.EBADF) }
            return ok(.rgetattr(Rgetattr(valid: .basic, qid: node.qid, mode: node.qid.type.contains(.dir) ? 0o40755 : 0o100644,
                                         size: UInt64(node.data.count), mtimeSec: 1_796_624_013, mtimeNsec: 107_246_740)))
        case .tlcreate(let c):
            guard let p = fids.value[c.fid] else { return err(.EBADF) }
            let path = Self.join(p, c.name.string)
            if tree.value[path] != nil && c.flags.rawValue & 0o200 != 0 { return err(.EEXIST) }
            let qid = Qid(type: .file, version: 0, path: UInt64(10 + tree.value.count))
            tree.update {
                $0[path] = Node(qid: qid, children: [], data: [])
                $0[p]!.children.append(c.name.string)
            }
            fids.update { $0[c.fid] = path }
            return ok(.rlcreate(Rlcreate(qid: qid, iounit: 4)))
        case .twrite(let w):
            guard let p = fids.value[w.fid] else { return err(.EBADF) }
            tree.update { t in
                var d = t[p]!.data
                let off = Int(w.offset)
                if d.count < off + w.data.count { d += Array(repeating: 0, count: off + w.data.count - d.count) }
                d.replaceSubrange(off..<(off + w.data.count), with: w.data)
                t[p]!.data = d
            }
            return ok(.rwrite(Rwrite(count: UInt32(w.data.count))))
        case .tclunk(let c):
            guard fids.value[c.fid] != nil else { return err(.EBADF) }
            fids.update { $0[c.fid] = nil }
            return ok(.rclunk)
        default:
            return err(.EOPNOTSUPP)
        }
    }
}

/// An engine wired to a fake transport, collecting output.
struct Harness {
    let engine: ReplEngine
    let output: Box<[ReplOutput]>
    let transports: Box<[FakeTransport]>
    let clock: Box<Int64>

    init(server: TinyServer = TinyServer(), replyDelay: Int64 = 0, timeout: Int64 = 0, dataLimit: Int = 256,
         files: [String: [UInt8]] = [:], terminalColumns: Int? = nil,
         sleep: @escaping @Sendable (Int64) async -> Void = { _ in
             await withCheckedContinuation { (_: CheckedContinuation<Void, Never>) in } }) {
        let output = Box<[ReplOutput]>([])
        let transports = Box<[FakeTransport]>([])
        let clock = Box<Int64>(1_000_000_000)
        var env = ReplEngine.Environment(
            connect: {
                let t = FakeTransport(clock: clock, replyDelay: replyDelay, respond: server.respond)
                transports.update { $0.append(t) }
                return t
            },
            now: { clock.value },
            sleep: sleep,
            readLocalFile: { path in
                guard let data = files[path] else { throw HarnessError.noSuchFile(path) }
                return data
            },
            output: { line in output.update { $0.append(line) } })
        env.terminalColumns = { terminalColumns }
        engine = ReplEngine(configuration: .init(dialect: .l, msize: 8192, dataLimit: dataLimit, replyTimeout: timeout), environment: env)
        self.output = output; self.transports = transports; self.clock = clock
    }

    enum HarnessError: Error { case noSuchFile(String) }

    var lines: [String] { output.value.map(\.text) }
    func clearOutput() { output.update { $0.removeAll() } }
    var transport: FakeTransport { transports.value.last! }

    /// Runs lines, expecting each to succeed.
    func run(_ lines: String...) async -> [CommandOutcome] {
        var out: [CommandOutcome] = []
        for l in lines { out.append(await engine.execute(l)) }
        return out
    }

    /// Connects, negotiates the version and attaches fid 0.
    func start() async throws {
        try await engine.connect()
        _ = await run("version", "attach 0 root")
    }
}
