import NinePServer
import NinePWire
import Synchronization

/// A 9P client for tests: sends encoded frames through a ``NinePTestTransport`` (a `ServerConnection` in
/// process, or a socket) and decodes the replies. Replies are matched by tag (they may come out of order);
/// `replies` logs every reply in the order the server sent it. Waits are bounded (`waitLimit`) so a
/// missing reply fails instead of hanging.
public actor NinePTestClient {
    /// Where requests go.
    public nonisolated let transport: any NinePTestTransport
    /// The in-process server connection (only for clients made with ``connect(driver:config:dialect:)``).
    public nonisolated var connection: ServerConnection {
        guard let c = transport as? ServerConnection else { preconditionFailure("not an in-process test client") }
        return c
    }
    /// The dialect used to encode requests and decode replies (set from Rversion).
    public private(set) var dialect: Dialect
    /// Every reply received, in order.
    public private(set) var replies: [Fcall] = []
    /// Reply frames that did not decode.
    public private(set) var undecodable: [[UInt8]] = []
    /// Set when the server asked for the connection to be closed.
    public private(set) var closeReason: CloseReason?
    public var waitLimit: Duration = .seconds(30)

    private var inbox: [Tag: [Fcall]] = [:]
    private var waiters: [Tag: (id: Int, continuation: CheckedContinuation<Fcall?, Never>)] = [:]
    private var waitCounter = 0
    private var finished = false
    private var tagCounter: UInt16 = 0
    private let fidCounter = Mutex<UInt32>(100)

    private init(transport: any NinePTestTransport, dialect: Dialect) {
        self.transport = transport
        self.dialect = dialect
    }

    /// A client on a fresh server connection for `driver`. Requests are encoded in `dialect` (also before
    /// Tversion, which looks the same in every dialect).
    public static func connect<D: FileSystemDriver>(driver: D, config: ServerConfig = ServerConfig(),
                                                    dialect: Dialect = .l, inPlace: Bool = false) async -> NinePTestClient {
        let (conn, output) = ServerConnection.makeStream(driver: driver, config: config, inPlace: inPlace)
        return connect(transport: conn, output: output, dialect: dialect)
    }

    /// A client on any transport; `output` carries the server's frames (and close request, if the
    /// transport knows it) and finishes when the connection ends.
    public static func connect(transport: any NinePTestTransport, output: AsyncStream<ServerOutput>,
                               dialect: Dialect = .l) -> NinePTestClient {
        let client = NinePTestClient(transport: transport, dialect: dialect)
        Task {
            for await o in output { await client.deliver(o) }
            await client.finish()
        }
        return client
    }

    /// Closes the connection from the client's side (see ``NinePTestTransport/close()``).
    public func close() async { await transport.close() }

    /// True once the server's output has ended (it closed the connection, or the client did).
    public var hasEnded: Bool { finished }

    private var decodeDialect: Dialect = .p9

    private func deliver(_ output: ServerOutput) {
        switch output {
        case .shouldClose(let r):
            closeReason = r
            finish()
        case .frame(let bytes):
            guard let f = try? Fcall.decode(bytes, dialect: decodeDialect) else {
                undecodable.append(bytes)
                return
            }
            if case .rversion(let v) = f.message, let d = Dialect(version: v.version.string), v.version.string == d.rawValue {
                decodeDialect = d
                dialect = d
            }
            replies.append(f)
            if let w = waiters.removeValue(forKey: f.tag) {
                w.continuation.resume(returning: f)
            } else {
                inbox[f.tag, default: []].append(f)
            }
        }
    }

    private var closeWaiters: [CheckedContinuation<CloseReason?, Never>] = []

    /// Waits (at most `waitLimit`) until the server has asked to close or the output ended; returns the
    /// close reason, nil if there was none.
    public func waitForClose() async -> CloseReason? {
        if finished { return closeReason }
        let limit = waitLimit
        Task { [weak self] in
            try? await Task.sleep(for: limit)
            await self?.releaseCloseWaiters()
        }
        return await withCheckedContinuation { closeWaiters.append($0) }
    }

    private func releaseCloseWaiters() {
        for w in closeWaiters { w.resume(returning: closeReason) }
        closeWaiters = []
    }

    private func finish() {
        finished = true
        releaseCloseWaiters()
        for (_, w) in waiters { w.continuation.resume(returning: nil) }
        waiters = [:]
    }

    private func timeout(_ tag: Tag, id: Int) {
        guard let w = waiters[tag], w.id == id else { return }
        waiters[tag] = nil
        w.continuation.resume(returning: nil)
    }

    // MARK: Sending

    /// A tag not used by any request this client has sent and not yet seen answered.
    public func freshTag() -> Tag {
        tagCounter = tagCounter == 0xFFFE ? 0 : tagCounter + 1
        return Tag(tagCounter)
    }

    /// A fid number this client has not handed out before.
    public nonisolated func freshFid() -> Fid {
        fidCounter.withLock { n in
            n += 1
            return Fid(n)
        }
    }

    /// Sends a request without waiting for its reply; returns its tag.
    @discardableResult
    public func send(_ message: Message, tag: Tag? = nil) async -> Tag {
        let t = tag ?? freshTag()
        // Until the Rversion, replies are read in the dialect offered (a .L client reads an error as Rlerror).
        if case .tversion(let v) = message, let d = Dialect(version: v.version.string), v.version.string == d.rawValue {
            decodeDialect = d
        }
        await transport.send(frame: Fcall(tag: t, message).encode(dialect: dialect))
        return t
    }

    /// Sends raw bytes as one frame.
    public func sendRaw(_ frame: [UInt8]) async { await transport.send(frame: frame) }

    /// The next reply carrying `tag` (or nil if none arrives within `waitLimit` or the server closed).
    public func reply(to tag: Tag) async -> Fcall? {
        if var q = inbox[tag], !q.isEmpty {
            let f = q.removeFirst()
            inbox[tag] = q.isEmpty ? nil : q
            return f
        }
        if finished { return nil }
        waitCounter += 1
        let id = waitCounter
        let limit = waitLimit
        Task { [weak self] in
            try? await Task.sleep(for: limit)
            await self?.timeout(tag, id: id)
        }
        return await withCheckedContinuation { c in waiters[tag] = (id, c) }
    }

    /// Sends a request and returns the body of its reply (error replies included).
    public func rpc(_ message: Message) async throws -> Message {
        let tag = await send(message)
        guard let r = await reply(to: tag) else {
            throw ConformanceFailure("no reply to \(message.type?.name ?? "request") tag \(tag.rawValue)" + (closeReason.map { " (closed: \($0))" } ?? ""))
        }
        return r.message
    }

    /// Sends a request and returns its successful reply; an error reply throws `NinePReplyError`.
    public func call(_ message: Message) async throws -> Message {
        let r = try await rpc(message)
        if r.type?.isError == true { throw NinePReplyError(request: message.type, reply: r) }
        return r
    }

    /// Replies (in order) whose tag is `tag`.
    public func replies(tagged tag: Tag) -> [Fcall] { replies.filter { $0.tag == tag } }
}

/// An error reply (Rlerror or Rerror) to a request.
public struct NinePReplyError: Error, CustomStringConvertible {
    public var request: MessageType?
    public var reply: Message
    /// The errno carried (Rlerror ecode, .u Rerror errno) or recovered from a classic ename.
    public var errno: Errno? {
        switch reply {
        case .rlerror(let e): e.ecode
        case .rerror(let e): e.errno.map { Errno($0) } ?? e.ename.flatMap { Errno(message: $0.string) }
        default: nil
        }
    }
    public var ename: String? { if case .rerror(let e) = reply { e.ename?.string } else { nil } }
    public var description: String { "\(request?.name ?? "request") failed: \(errno?.description ?? "?") \(ename ?? "")" }
}
