import NinePWire

/// The per-connection actor behind ``ServerConnection``: frame intake, version negotiation, tags and
/// flush, request tasks and reply emission. Request handlers live in the `Connection+*.swift` files.
///
/// Every request (except Tversion and Tflush, handled inline) runs in its own task, started with
/// `Task.immediate` so its synchronous admission (fid checks, reservations) happens in arrival order.
/// Handlers run on this actor between driver calls, so they re-check the fid table after every await.
actor Connection<Driver: FileSystemDriver>: ConnectionCore {
    typealias Node = Driver.Node
    typealias OpenFile = Driver.OpenFile

    let driver: Driver
    let config: ServerConfig
    private let emit: @Sendable ([UInt8]) -> Void
    /// Builds an Rread in the transport's buffer (see `ServerConnection.init(driver:config:executor:send:sendInPlace:close:)`).
    let emitInPlace: InPlaceSend?
    private let requestClose: @Sendable (CloseReason) -> Void

    /// Negotiated dialect; nil until a Tversion succeeds.
    var dialect: Dialect?
    var msize: UInt32
    var fids: [Fid: FidSlot] = [:]
    var pending: [Tag: Pending] = [:]
    /// Bumped by Tversion and shutdown: work started in an older generation never answers.
    var generation: UInt64 = 0
    var isClosed = false
    private var serialCounter: UInt64 = 0

    /// The executor the actor runs on: a caller's (a socket's event loop), or else a default actor's.
    nonisolated let unownedExecutor: UnownedSerialExecutor
    /// Keeps that executor alive (`UnownedSerialExecutor` does not).
    private let executorOwner: AnyObject

    struct Pending {
        var task: Task<Void, Never>?
        /// Tflush tags waiting for this request to finish.
        var flushers: [Tag] = []
        /// A Tflush arrived: an error outcome is dropped rather than sent.
        var flushed = false
    }

    init(driver: Driver, config: ServerConfig, executor: (any SerialExecutor)? = nil,
         send: @escaping @Sendable ([UInt8]) -> Void, sendInPlace: InPlaceSend? = nil,
         close: @escaping @Sendable (CloseReason) -> Void) {
        if let executor {
            unownedExecutor = executor.asUnownedSerialExecutor()
            executorOwner = executor
        } else {
            let home = ExecutorHome()
            unownedExecutor = home.unownedExecutor
            executorOwner = home
        }
        self.driver = driver
        self.config = config
        self.emit = send
        self.emitInPlace = sendInPlace
        self.requestClose = close
        self.msize = config.maxMsize
    }

    func negotiated() -> (dialect: Dialect, msize: UInt32)? { dialect.map { ($0, msize) } }
    func fidCount() -> Int { fids.count }
    func pendingCount() -> Int { pending.count }

    func nextSerial() -> UInt64 {
        serialCounter += 1
        return serialCounter
    }

    // MARK: Intake

    nonisolated func receiveAssumingIsolated(frame: [UInt8]) {
        assumeIsolated { c in frame.withUnsafeBytes { c.receive(bytes: $0) } }
    }

    nonisolated func receiveAssumingIsolated(bytes: UnsafeRawBufferPointer) {
        // The closure runs here and now, on this thread, and `receive` copies what it keeps before
        // returning: the borrowed bytes never outlive the call.
        nonisolated(unsafe) let borrowed = bytes
        assumeIsolated { $0.receive(bytes: borrowed) }
    }

    func receive(frame: [UInt8]) {
        frame.withUnsafeBytes { receive(bytes: $0) }
    }

    /// One frame, borrowed (decoding copies what the message keeps).
    func receive(bytes frame: UnsafeRawBufferPointer) {
        guard !isClosed else { return }
        guard frame.count >= NineP.headerSize else {
            fail(.malformedFrame("\(frame.count) bytes, shorter than the 7-byte header"))
            return
        }
        let size = Int(frame[0]) | Int(frame[1]) << 8 | Int(frame[2]) << 16 | Int(frame[3]) << 24
        guard size == frame.count else {
            fail(.malformedFrame("size field says \(size) bytes but the frame has \(frame.count)"))
            return
        }
        let tag = Tag(UInt16(frame[5]) | UInt16(frame[6]) << 8)
        let type = frame[4]
        func typeName() -> String { MessageType(rawValue: type)?.name ?? "type \(type)" }
        let limit = dialect == nil ? config.maxMsize : msize
        if frame.count > Int(limit) {
            sendError(tag, ServerError(.EMSGSIZE, "\(typeName()) of \(frame.count) bytes exceeds msize \(limit)"))
            fail(.frameTooLarge(size: frame.count, msize: limit))
            return
        }
        // Before a dialect is agreed nothing but a Tversion can be decoded (the layouts differ).
        if dialect == nil, type != MessageType.tversion.rawValue {
            sendError(tag, ServerError(.EPROTO, "Tversion must come first"))
            return
        }
        if type == MessageType.twrite.rawValue, writeAtOnce(frame, tag: tag) { return }
        let fcall: Fcall
        do {
            fcall = try Fcall.decode(frame, dialect: dialect ?? .l)
        } catch {
            sendError(tag, ServerError(.EPROTO, "malformed \(typeName()): \(error)"))
            return
        }
        dispatch(fcall)
    }

    private func dispatch(_ fcall: Fcall) {
        let tag = fcall.tag
        if case .tversion(let t) = fcall.message {
            version(tag, t)
            return
        }
        guard let dialect else {
            sendError(tag, ServerError(.EPROTO, "Tversion must come first"))
            return
        }
        guard pending[tag] == nil else {
            sendError(tag, ServerError(.EBUSY, "tag \(tag.rawValue) is already in use"))
            return
        }
        guard let type = fcall.message.type, type.isRequest, type != .tlerror, type.isDefined(in: dialect) else {
            let what = fcall.message.type?.name ?? "message type \(fcall.message.typeCode)"
            sendError(tag, ServerError(.EOPNOTSUPP, "\(what) is not a \(dialect) request"))
            return
        }
        if case .tflush(let t) = fcall.message {
            flush(tag, oldtag: t.oldtag)
            return
        }
        if case .tread(let t) = fcall.message, readAtOnce(t, tag: tag) { return }
        let gen = generation
        pending[tag] = Pending()
        let task = Task.immediate {
            let outcome: Result<Reply, ServerError>
            do {
                if let hook = self.driver.requestHook {
                    let verdict: RequestVerdict
                    do {
                        verdict = try await hook(type)
                    } catch {
                        await self.endFidOfRefused(fcall.message)
                        throw error
                    }
                    if case .closeConnection(let why) = verdict {
                        self.fail(.fault(why))   // the session ends here: no reply to this or any request
                        return
                    }
                }
                if case .tread(let t) = fcall.message {
                    outcome = .success(try await self.readReply(t, tag: tag))
                } else {
                    outcome = .success(.message(try await self.handle(fcall.message)))
                }
            } catch {
                outcome = .failure(ServerError.from(error))
            }
            self.complete(tag, generation: gen, outcome)
        }
        pending[tag]?.task = task
    }

    /// Routes one request (Tversion and Tflush excluded) to its handler.
    private func handle(_ message: Message) async throws -> Message {
        switch message {
        // No authentication: any error answers Tauth (attach(5)); ENOENT, as diod sends, is what diod's
        // clients (diodcat, diodls, diodload) take as "attach without auth" — they give up on any other.
        case .tauth: throw ServerError(.ENOENT, "authentication not required")
        case .tattach(let t): return try await attach(t)
        case .twalk(let t): return try await walk(t)
        case .topen(let t): return try await open(t)
        case .tlopen(let t): return try await lopen(t)
        case .tcreate(let t): return try await create(t)
        case .tlcreate(let t): return try await lcreate(t)
        case .tread(let t): return try await read(t)
        case .twrite(let t): return try await write(t)
        case .tclunk(let t): return try await clunk(t)
        case .tremove(let t): return try await remove(t)
        case .tstat(let t): return try await stat(t)
        case .twstat(let t): return try await wstat(t)
        case .treaddir(let t): return try await readdir(t)
        case .tgetattr(let t): return try await getattr(t)
        case .tsetattr(let t): return try await setattr(t)
        case .tstatfs(let t): return try await statfs(t)
        case .tmkdir(let t): return try await mkdir(t)
        case .tsymlink(let t): return try await symlink(t)
        case .tmknod(let t): return try await mknod(t)
        case .treadlink(let t): return try await readlink(t)
        case .tlink(let t): return try await link(t)
        case .trename(let t): return try await rename(t)
        case .trenameat(let t): return try await renameat(t)
        case .tunlinkat(let t): return try await unlinkat(t)
        case .tfsync(let t): return try await fsync(t)
        case .tlock(let t): return try await lock(t)
        case .tgetlock(let t): return try await getlock(t)
        case .txattrwalk(let t): return try await xattrwalk(t)
        case .txattrcreate(let t): return try await xattrcreate(t)
        default: throw ServerError(.EOPNOTSUPP, "\(message.type?.name ?? "message") is not supported")
        }
    }

    // MARK: Completion and flush

    private func complete(_ tag: Tag, generation gen: UInt64, _ outcome: Result<Reply, ServerError>) {
        guard gen == generation, !isClosed, let p = pending.removeValue(forKey: tag) else { return }
        switch outcome {
        case .success(.message(let message)): send(tag, message)
        case .success(.rreadFrame(let frame)): sendRread(tag, frame)
        case .success(.rreadInPlace(let capacity, let fill)):
            if let error = sendRread(tag, capacity: capacity, fill), !p.flushed { sendError(tag, error) }
        case .failure(let error): if !p.flushed { sendError(tag, error) }
        }
        releaseFlushers(p.flushers)
    }

    /// flush(5): a pending request is cancelled; Rflush goes out once it has finished (after its reply if
    /// it completed anyway, with no reply if it was cancelled). Unknown or finished tags: Rflush at once.
    private func flush(_ tag: Tag, oldtag: Tag) {
        guard oldtag != tag, pending[oldtag] != nil else {
            send(tag, .rflush)
            return
        }
        pending[tag] = Pending()
        pending[oldtag]!.flushed = true
        pending[oldtag]!.flushers.append(tag)
        pending[oldtag]!.task?.cancel()
    }

    private func releaseFlushers(_ tags: [Tag]) {
        for t in tags {
            guard let f = pending.removeValue(forKey: t) else { continue }
            send(t, .rflush)
            releaseFlushers(f.flushers)
        }
    }

    // MARK: Version and session reset

    private func version(_ tag: Tag, _ t: Tversion) {
        resetSession()
        let offered = Dialect(version: t.version.string)
        guard t.msize >= config.minMsize else {
            dialect = nil
            // In the error form of the dialect offered: a 9P2000.L client reads any error reply as Rlerror.
            sendError(tag, ServerError(.EINVAL, "msize \(t.msize) is below the minimum \(config.minMsize)"),
                      dialect: offered.flatMap { config.dialects.contains($0) ? $0 : nil })
            return
        }
        let chosen: Dialect? = if let offered, config.dialects.contains(offered) { offered }
            else if offered != nil, config.dialects.contains(.p9) { .p9 }
            else { nil }
        msize = min(t.msize, config.maxMsize)
        dialect = chosen
        let reply = Fcall(tag: tag, .rversion(Rversion(msize: msize, version: P9String(chosen?.rawValue ?? "unknown"))))
        emit(reply.encode(dialect: chosen ?? .p9))
    }

    /// version(5): abort all outstanding I/O (no replies) and clunk every fid.
    private func resetSession() {
        generation += 1
        for p in pending.values { p.task?.cancel() }
        pending = [:]
        let files = fids.values.compactMap(\.openFile)
        fids = [:]
        if !files.isEmpty {
            let driver = self.driver
            Task { for f in files { await driver.close(f) } }
        }
    }

    func shutdown() async {
        isClosed = true
        generation += 1
        for p in pending.values { p.task?.cancel() }
        pending = [:]
        let files = fids.values.compactMap(\.openFile)
        fids = [:]
        for f in files { await driver.close(f) }
    }

    private func fail(_ reason: CloseReason) {
        guard !isClosed else { return }
        isClosed = true
        requestClose(reason)
        resetSession()
    }

    // MARK: Output

    func send(_ tag: Tag, _ message: Message) {
        guard !isClosed else { return }
        let d = dialect ?? .p9
        let frame = Fcall(tag: tag, message).encode(dialect: d)
        if frame.count > Int(msize) {
            sendError(tag, ServerError(.ERANGE, "reply of \(frame.count) bytes exceeds msize \(msize)"))
            return
        }
        emit(frame)
    }

    /// An Rread frame already complete (built in place by `readReply`): sent as it is, data not copied.
    func sendRread(_ tag: Tag, _ frame: [UInt8]) {
        guard !isClosed else { return }
        if frame.count > Int(msize) {
            sendError(tag, ServerError(.ERANGE, "reply of \(frame.count) bytes exceeds msize \(msize)"))
            return
        }
        emit(frame)
    }

    /// An Rread built in the transport's buffer by `fill` (header and data; see `readReply`). Returns the
    /// error to answer with instead when the read fails (nothing was sent).
    func sendRread(_ tag: Tag, capacity: Int, _ fill: (UnsafeMutableRawBufferPointer) throws(Errno) -> Int)
        -> ServerError? {
        guard !isClosed, let emitInPlace else { return nil }
        if capacity > Int(msize) {
            return ServerError(.ERANGE, "reply of \(capacity) bytes exceeds msize \(msize)")
        }
        do throws(Errno) { try emitInPlace(capacity, fill) } catch { return ServerError(error) }
        return nil
    }

    /// The error reply in the agreed dialect's form (`errorDialect` before one is agreed; 9P2000 if neither).
    /// A 9P2000 Rerror carries the C library's text for the errno, whatever the server's own description:
    /// a client with no errno field (Linux's) maps only those texts back. 9P2000.u carries both.
    func sendError(_ tag: Tag, _ error: ServerError, dialect errorDialect: Dialect? = nil) {
        guard !isClosed else { return }
        let d = dialect ?? errorDialect ?? .p9
        let text = d == .p9 ? error.errno.text : error.text
        emit(Fcall(tag: tag, .errorReply(error.errno, text: text, dialect: d)).encode(dialect: d))
    }
}

/// What a request handler produced: a reply message, or an Rread frame built in place (see
/// `FileSystemDriver.read(_:offset:count:headroom:)`).
enum Reply: Sendable {
    case message(Message)
    case rreadFrame([UInt8])
    /// An Rread of at most `capacity` bytes that `fill` writes, header included, into the transport's
    /// buffer when the reply goes out (the data read there and then: `FileSystemDriver.readNow`).
    case rreadInPlace(capacity: Int, fill: @Sendable (UnsafeMutableRawBufferPointer) throws(Errno) -> Int)
    /// size[4] type[1] tag[2] count[4].
    static let rreadHeaderSize = 11
}

/// A default actor lending its executor to a `Connection` made without one (actors may share executors).
private actor ExecutorHome {}
