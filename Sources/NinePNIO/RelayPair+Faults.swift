import NIOCore
import Synchronization
import NinePServer
import NinePSession
import NinePWire

/// `proxy --fault`: the relay plays a misbehaving server (or network) in front of a real one, with the rules
/// `serve --fault` takes. Per client request a rule picks (Tversion and Tflush are never faulted):
/// - `delay=T:D`: the request goes to the server at once (reported `[.delayed]`: its reply will be held);
///   its reply is held back D before the client gets it (reported `[.delayed]`, at the time it was passed
///   on: the latency the client saw). Other replies pass meanwhile, as 9P allows.
/// - `error=T:ERRNO`: the request never reaches the server (reported `[.dropped]`); the proxy answers it
///   with that error (Rlerror for 9P2000.L, Rerror with the C library's text otherwise; `[.injected]`), so
///   the server's state is what an error means: nothing happened. Tclunk and Tremove are the exception:
///   they end the fid whatever the reply says (clunk(5), remove(5)), so they go to the server, whose reply
///   is dropped and replaced by the error.
/// - `hang=T`: the request never reaches the server and stays pending until the client flushes it (the
///   client's Tflush goes on to the server, which answers it at once: it never saw the request).
/// - `close=T`: the request never reaches the server; the proxy closes both sides then and there, every
///   request outstanding unanswered (reported as the connection's close reason).
/// Delays add up over the rules that fire and come before an error's reply too. A client's Tflush for a
/// request whose reply is being held passes that reply on at once (a server that had answered already), so
/// the client never gets a reply after its Rflush; so does the inspector's flush (`f`).
extension RelayPair {
    struct RequestFault {
        var tag: UInt16
        var type: MessageType
        var rule: FaultSpec.Rule
        var delay: Int64
    }

    struct ReplyFault {
        var tag: UInt16
        var delay: Int64
        /// The error reply that stands in for the server's.
        var replacement: [UInt8]?
    }

    struct HeldReply {
        var bytes: [UInt8]
        var marks: FrameMarks
        var task: Scheduled<Void>?
    }

    /// At a client request's header (not Tversion, not Tflush): what the rules do to it. Nil: forward it
    /// as usual. A request that goes to the server but whose reply a rule holds back (a delay) or replaces
    /// is forwarded marked `[.delayed]`, so that while it waits the trace and the inspector show it as the
    /// rules' doing (`(held by --fault)`), not as a server that has not answered.
    func faultRequest(_ header: FrameHeader) -> FrameDecision? {
        guard let type = MessageType(rawValue: header.type), type != .tversion, type != .tflush else { return nil }
        let tag = header.tag.rawValue
        let plan = faults.plan(for: type, rolling: &dice)
        let ns = FaultSpec.nanoseconds(plan.delay)
        let forwardHeld = FrameDecision(forward: true, collect: options.reportFrames, marks: [.delayed])
        guard let rule = plan.then else {
            guard ns > 0 else { return nil }
            replyDelays[tag] = ns
            return forwardHeld
        }
        if case .error(let e) = rule.action, type == .tclunk || type == .tremove {
            replyErrors[tag] = e
            if ns > 0 { replyDelays[tag] = ns }
            return forwardHeld
        }
        if case .error = rule.action { pending[tag] = nil }
        requestFault = RequestFault(tag: tag, type: type, rule: rule, delay: ns)
        return FrameDecision(forward: false, collect: true, marks: [.dropped])
    }

    /// A request `faultRequest` kept from the server is complete (its event already reported).
    func applyRequestFault(_ f: RequestFault, at t: Int64) {
        switch f.rule.action {
        case .error(let e):
            deliver(errorReply(tag: f.tag, e), marks: [.injected], tag: f.tag, after: f.delay, at: t, inStream: false)
        case .hang:
            break   // kept pending: a flush (the client's or the inspector's) ends it
        case .close:
            // What came before the request reaches each side, then nothing more.
            upstream?.flush()
            client?.flush()
            relayStopped = true
            if failure == nil { failure = .fault("\(f.rule) at \(f.type.name) tag \(f.tag)") }
            closeBoth()
        case .delay:
            break   // delays never end the rules (FaultSpec.plan)
        }
    }

    /// At a server reply's header: whether a rule holds or replaces it.
    func faultReply(_ header: FrameHeader) -> FrameDecision? {
        let tag = header.tag.rawValue
        let error = replyErrors.isEmpty ? nil : replyErrors.removeValue(forKey: tag)
        let delay = replyDelays.isEmpty ? nil : replyDelays.removeValue(forKey: tag)
        guard error != nil || delay != nil else { return nil }
        replyFault = ReplyFault(tag: tag, delay: delay ?? 0, replacement: error.map { errorReply(tag: tag, $0) })
        return FrameDecision(forward: false, collect: true, marks: error == nil ? [] : [.dropped])
    }

    /// A reply `faultReply` took is complete. True when its event is to be reported now (a replaced reply,
    /// `[.dropped]`); a held one is reported when it is passed on.
    func applyReplyFault(_ f: ReplyFault, bytes: [UInt8], at t: Int64) -> Bool {
        if let replacement = f.replacement {
            deliver(replacement, marks: [.injected], tag: f.tag, after: f.delay, at: t, inStream: true)
            return true
        }
        deliver(bytes, marks: [.delayed], tag: f.tag, after: f.delay, at: t, inStream: true)
        return false
    }

    /// The client's Tflush of `old` is complete (and on its way to the server): a reply held for `old` goes
    /// to the client now, and one still to come is not held.
    func clientFlushes(_ old: UInt16) {
        if !replyDelays.isEmpty { replyDelays[old] = nil }
        if !held.isEmpty { passOn(old) }
    }

    /// The proxy's rules changed (`NinePProxy.setFaults`): they apply from the next request on; what the
    /// old ones started (a reply held back, one to be replaced) finishes as it began.
    func reloadFaults() {
        (faults, faultGeneration) = faultBoard.current
        hasFaults = !faults.rules.isEmpty
    }

    /// Tversion aborts everything outstanding: held replies are dropped (reported so), rules forgotten.
    func versionResetsFaults() {
        guard !(held.isEmpty && replyDelays.isEmpty && replyErrors.isEmpty) else { return }
        let t = WallClock.nowNanos()
        for tag in held.keyList {
            guard let h = held.removeValue(forKey: tag) else { continue }
            h.task?.cancel()
            events.append(.frame(conn: conn, direction: .toClient, at: t, bytes: h.bytes, marks: [.dropped]))
        }
        replyDelays.removeAll()
        replyErrors.removeAll()
    }

    /// The connection is over: no timer may outlive it.
    func dropFaultState() {
        guard !(held.isEmpty && replyDelays.isEmpty && replyErrors.isEmpty) else { return }
        for tag in held.keyList { held.removeValue(forKey: tag)?.task?.cancel() }
        replyDelays.removeAll()
        replyErrors.removeAll()
    }

    // MARK: - Passing on

    /// Gives `bytes` to the client for `tag`, now (at the next frame boundary) or after `ns`. `inStream`:
    /// called while the server's stream is being read, whose cursor inserts what is queued once the frame
    /// at hand is done.
    private func deliver(_ bytes: [UInt8], marks: FrameMarks, tag: UInt16, after ns: Int64, at t: Int64,
                         inStream: Bool) {
        guard ns > 0 else {
            if inStream { toClientInserts.append((bytes, marks)) } else { queueToClient(bytes, marks: marks, at: t) }
            return
        }
        var h = HeldReply(bytes: bytes, marks: marks, task: nil)
        h.task = eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(ns)) { self.passOn(tag) }
        held[tag] = h
    }

    /// Passes on the reply held for `tag`, if any.
    func passOn(_ tag: UInt16) {
        guard !finished, let h = held.removeValue(forKey: tag) else { return }
        h.task?.cancel()
        pending[tag] = nil
        // The original reply before any Rflush of the proxy's own: that Rflush is dropped when it comes.
        if !flushing.isEmpty { flushing[tag] = nil }
        queueToClient(h.bytes, marks: h.marks, at: WallClock.nowNanos())
        if shutClientAfterHeld && held.isEmpty {
            // The server hung up while this was held: its end reaches the client after its replies.
            shutClientAfterHeld = false
            shutdownOutput(.client)
        }
        eventsReady()
    }

    private func queueToClient(_ bytes: [UInt8], marks: FrameMarks, at t: Int64) {
        toClientInserts.append((bytes, marks))
        guard toClient.atBoundary else { return }   // else the cursor inserts it when the frame at hand ends
        insertNow(.toClient, at: t)
        client?.flush()
    }

    /// The error reply for `tag` in the connection's dialect.
    func errorReply(tag: UInt16, _ e: Errno) -> [UInt8] {
        let d = dialect ?? offeredDialect ?? .p9
        return Fcall(tag: Tag(tag), .errorReply(e, dialect: d)).encode(dialect: d)
    }
}

/// The fault rules every relay pair of a proxy follows, which may change while it runs
/// (`NinePProxy.setFaults`). A pair reads the generation once per client request (one atomic load) and the
/// rules only when it moved.
final class FaultBoard: Sendable {
    private let rules: Mutex<(spec: FaultSpec, generation: UInt64)>
    let generation = Atomic<UInt64>(0)

    init(_ spec: FaultSpec) { rules = Mutex((spec, 0)) }

    /// The rules and their generation, read together.
    var current: (FaultSpec, UInt64) { rules.withLock { ($0.spec, $0.generation) } }

    func set(_ spec: FaultSpec) {
        rules.withLock {
            $0.spec = spec
            $0.generation &+= 1
            generation.store($0.generation, ordering: .releasing)
        }
    }
}
