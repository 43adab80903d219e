import NinePWire

/// One decoded message of a capture, as replay needs it (independent of the capture reader); or one the
/// capture holds only the first bytes of (a snap length cut it), known by its header.
public struct CapturedMessage: Hashable, Sendable {
    /// The capture's connection number.
    public var connection: UInt32
    /// Nanoseconds (any epoch; only differences matter).
    public var time: Int64
    /// The message; nil for a cut one.
    public var fcall: Fcall?
    public var tag: Tag
    public var typeCode: UInt8
    /// A cut message's line (what its captured bytes show); also set, with `fcall`, for a cut Tattach or Tauth
    /// made whole with the names given (`AttachNames.complete`).
    public var cutLine: String?

    public init(connection: UInt32, time: Int64, fcall: Fcall) {
        self.connection = connection; self.time = time; self.fcall = fcall
        tag = fcall.tag; typeCode = fcall.message.typeCode
    }

    /// A message of which the capture holds only the header and first bytes. A cut reply still answers its
    /// request (replay keeps the order the capture shows, and `--diff` compares its type); a cut request
    /// cannot be sent (the plan notes it).
    public init(connection: UInt32, time: Int64, cutTag tag: Tag, typeCode: UInt8, line: String) {
        self.connection = connection; self.time = time; fcall = nil
        self.tag = tag; self.typeCode = typeCode; cutLine = line
    }

    /// A Tattach or Tauth the capture cut, made whole (`AttachNames.complete`): replayed as `fcall`, noted
    /// with its captured `line`.
    public init(connection: UInt32, time: Int64, completed fcall: Fcall, cutLine line: String) {
        self.init(connection: connection, time: time, fcall: fcall)
        cutLine = line
    }

    /// T-messages are requests (even type codes).
    public var isRequest: Bool { typeCode & 1 == 0 }
    var line: String { fcall?.canonicalLine ?? cutLine ?? "" }
}

/// What to send, in which order, and what each request waits for.
///
/// Ordering rule: within a captured connection, request B waits for the reply to request A when A's
/// reply was seen before B was sent in the capture (A happened-before B; a reply the capture lost counts
/// as seen when a later request uses A's tag again, names a fid A made, reads, writes or reads the directory
/// of a fid A opened, or takes the fid A clunked or removed as a new fid, as a client does each only after
/// the reply), whatever fids they name: two fids may reach the same file (the Linux client attaches twice,
/// as nobody and as the user, and stats the root through one while it makes directories through the
/// other), so a replay is as concurrent as the capture was and no more. A Tversion is a barrier (the runner
/// also holds everything after a Tversion until its reply). Requests that were in flight together in the
/// capture have no such edge and are sent concurrently. Only the nearest
/// predecessors are kept (an edge implied by another one is dropped). A Tflush is sent after its target
/// was sent (and only that: it is sent at once); a Tflush of a tag with nothing pending waits as any request
/// does. Captured order is kept among requests that become sendable at the same moment.
/// Across connections (unless switched off) B also waits for requests of other connections answered
/// before B was sent, so a file one client made is there when another reads it; connections that ran
/// at the same time keep running at the same time.
public struct ReplayPlan: Hashable, Sendable {
    public struct Step: Hashable, Sendable, Identifiable {
        /// Index in `steps`.
        public var id: Int
        public var connection: UInt32
        /// Offset from the first request of the plan (ns).
        public var offset: Int64
        public var request: Fcall
        /// The reply the capture holds, if any (a flushed request may have none).
        public var capturedReply: Fcall?
        /// The type code and line of a reply the capture cut (then `capturedReply` is nil).
        public var cutReply: CutReply?
        /// Steps whose replies must have arrived before this one is sent.
        public var afterReplies: [Int]
        /// Steps that must have been sent before this one (a Tflush's target).
        public var afterSent: [Int]
    }

    public var steps: [Step]
    /// Connections in the plan, in first-appearance order.
    public var connections: [UInt32]
    /// Odd things found while planning (replies to unknown tags, requests without a reply …).
    public var notes: [String]
    /// Of each connection the capture joined mid-session, the fids its requests use that no request of the
    /// capture made (made before it began), with the step that first used each: the replay cannot make them.
    public var fidsMadeBeforeCapture: [UInt32: [Fid: Int]] = [:]

    /// Plans a replay of `messages` (in capture order), restricted to `only` connections when given.
    /// With `orderAcrossConnections`, a request also waits for requests of other connections whose
    /// replies came before it was sent in the capture (connections that really overlapped still do).
    public static func make(_ messages: [CapturedMessage], only: Set<UInt32>? = nil,
                            orderAcrossConnections: Bool = true) -> ReplayPlan {
        var steps: [Step] = []
        var connections: [UInt32] = []
        var notes: [String] = []
        var perConn: [UInt32: ConnPlanner] = [:]
        // Per connection: completed steps no later completed step (of any connection) waited for.
        var crossFrontier: [UInt32: Set<Int>] = [:]
        var allGiven: [Int: Set<Int>] = [:]
        func isSelected(_ m: CapturedMessage) -> Bool { only?.contains(m.connection) ?? true }
        let start = messages.first { $0.isRequest && isSelected($0) }?.time ?? 0
        /// Step `id` was answered (by a captured reply, or by one the capture lost): later requests of its
        /// connection wait for it, and requests of other connections too (see `orderAcrossConnections`).
        func answered(_ id: Int, on connection: UInt32, _ planner: inout ConnPlanner) {
            planner.completed(id, isVersion: steps[id].request.message.type == .tversion)
            // A step is answered once: what it was given is not needed after.
            if let covered = allGiven.removeValue(forKey: id), !covered.isEmpty {
                for c in crossFrontier.keys { crossFrontier[c]!.subtract(covered) }
            }
            crossFrontier[connection, default: []].insert(id)
        }
        for m in messages where isSelected(m) {
            if perConn[m.connection] == nil { connections.append(m.connection) }
            // Taken out while it changes: a copy left in the dictionary would make each change copy its tables.
            var planner = perConn.removeValue(forKey: m.connection) ?? ConnPlanner()
            if m.isRequest, let earlier = planner.reply(m.tag) {
                // A client uses a tag again only once its request is answered: the capture lost that reply
                // (a drop, or only one direction captured), which still came before this request.
                answered(earlier, on: m.connection, &planner)
            }
            if m.isRequest, planner.requests == 0 {
                planner.startsMidSession = m.typeCode != MessageType.tversion.rawValue
            }
            if m.isRequest { planner.requests += 1 }
            if m.isRequest, let request = m.fcall {
                if planner.startsMidSession {
                    for fid in request.message.fidsUsed where !planner.madeInCapture.contains(fid)
                    && planner.madeBeforeCapture[fid] == nil {
                        planner.madeBeforeCapture[fid] = steps.count
                    }
                    planner.madeInCapture.formUnion(request.message.fidsCreated)
                }
                // Likewise fids: a client names a fid that a request made (Tattach, Tauth, a walk's newfid)
                // only once that request is answered, reads or writes a fid only once the request that
                // opened it is, and takes a fid number again as a new fid only once the Tclunk or Tremove
                // that released it is.
                for earlier in planner.answeredBefore(request.message)
                where planner.pending[steps[earlier].request.tag] == earlier {
                    _ = planner.reply(steps[earlier].request.tag)
                    answered(earlier, on: m.connection, &planner)
                }
                let id = steps.count
                var (afterReplies, afterSent) = planner.issue(id, request)
                if orderAcrossConnections && afterSent.isEmpty {
                    var cross: Set<Int> = []
                    for (c, set) in crossFrontier where c != m.connection { cross.formUnion(set) }
                    if !cross.isEmpty { afterReplies = Array(cross.union(afterReplies)).sorted() }
                }
                allGiven[id] = Set(afterReplies)
                if let line = m.cutLine {
                    notes.append("connection \(m.connection): \(line): cut by the capture; sent as \(request.canonicalLine)")
                }
                if request.message.type == .tflush, afterSent.isEmpty {
                    notes.append("connection \(m.connection): \(request.canonicalLine) flushes a tag with nothing pending")
                }
                steps.append(Step(id: id, connection: m.connection, offset: m.time - start, request: request,
                                  capturedReply: nil, afterReplies: afterReplies, afterSent: afterSent))
            } else if m.isRequest {
                let attach = m.typeCode == MessageType.tattach.rawValue || m.typeCode == MessageType.tauth.rawValue
                notes.append("connection \(m.connection): \(m.line): a request the capture cut, not replayed"
                             + (attach ? " (--uname, --aname and --n-uname give the names it lacks)" : ""))
            } else if let id = planner.reply(m.tag) {
                steps[id].capturedReply = m.fcall
                if m.fcall == nil, let line = m.cutLine { steps[id].cutReply = CutReply(typeCode: m.typeCode, line: line) }
                answered(id, on: m.connection, &planner)
            } else {
                notes.append("connection \(m.connection): \(m.line) answers no pending request")
            }
            perConn[m.connection] = planner
        }
        // A request a Tflush ended has no reply by design (flush(5)): the Rflush is its end. Only one whose
        // Tflush went unanswered in the capture too is worth a word.
        var flushedBy: [Int: Int] = [:]
        for s in steps where s.request.message.type == .tflush {
            if let target = s.afterSent.first { flushedBy[target] = s.id }
        }
        for s in steps where s.capturedReply == nil && s.cutReply == nil && s.request.message.type != .tflush {
            if let flush = flushedBy[s.id] {
                if steps[flush].capturedReply != nil || steps[flush].cutReply != nil { continue }
                notes.append("connection \(s.connection): \(s.request.canonicalLine) has no reply in the capture, "
                             + "nor has the Tflush for it")
            } else {
                notes.append("connection \(s.connection): \(s.request.canonicalLine) has no reply in the capture")
            }
        }
        var before: [UInt32: [Fid: Int]] = [:]
        for c in connections {
            guard let made = perConn[c]?.madeBeforeCapture, let first = made.values.min() else { continue }
            before[c] = made
            let fids = made.keys.sorted()
            let named = fids.prefix(8).map { String($0.rawValue) }.joined(separator: ", ") + (fids.count > 8 ? ", …" : "")
            notes.append("connection \(c): the capture begins mid-session (no Tversion): \(fids.count == 1 ? "fid" : "fids") "
                         + "\(named) \(fids.count == 1 ? "was" : "were") made before it began, by an attach or walk it does "
                         + "not hold, so this server has no such \(fids.count == 1 ? "fid" : "fids") and the requests on "
                         + "\(fids.count == 1 ? "it" : "them") are likely to fail (the first: step \(first), "
                         + "\(steps[first].request.canonicalLine))")
        }
        return ReplayPlan(steps: steps, connections: connections, notes: notes, fidsMadeBeforeCapture: before)
    }
}

/// A captured reply known only by its first bytes (a snap length cut it).
public struct CutReply: Hashable, Sendable {
    public var typeCode: UInt8
    /// What its captured bytes show (`TruncatedFrame.line`).
    public var line: String
    public init(typeCode: UInt8, line: String) { self.typeCode = typeCode; self.line = line }
}

/// The happens-before bookkeeping of one connection while planning.
struct ConnPlanner: Sendable {
    /// Pending requests by tag.
    var pending: [Tag: Int] = [:]
    /// Dependencies each step was given (to drop edges they imply when it completes).
    var given: [Int: Set<Int>] = [:]
    /// Every completed step not covered by a later completed one: what the next request waits for. A
    /// completed Tversion replaces it (a barrier: everything later waits for it, directly or through steps
    /// that do).
    var allFrontier: Set<Int> = []
    /// By fid: the request that made it, that opened it, and the Tclunk or Tremove that released it (an
    /// entry may outlive its request's reply; check `pending`).
    var making: [Fid: Int] = [:]
    /// Requests seen so far; whether the first was not a Tversion (the capture began mid-session).
    var requests = 0
    var startsMidSession = false
    /// Of a connection the capture joined mid-session: the fids requests made, and those used without a request
    /// of the capture making them first (made before it began), with the step that first used each.
    var madeInCapture: Set<Fid> = []
    var madeBeforeCapture: [Fid: Int] = [:]
    var opening: [Fid: Int] = [:]
    var releasing: [Fid: Int] = [:]

    /// The requests whose replies a client must have had before it sent `m` (see `ReplayPlan`), as far as
    /// the fids tell; some may be answered already.
    func answeredBefore(_ m: Message) -> [Int] {
        let made = m.fidsCreated.filter { $0 != .nofid }
        var earlier = made.compactMap { releasing[$0] } + m.fidsUsed.compactMap { making[$0] }
        let read: Fid? = switch m {
        case .tread(let x): x.fid
        case .twrite(let x): x.fid
        case .treaddir(let x): x.fid
        default: nil
        }
        if let fid = read, let open = opening[fid] { earlier.append(open) }
        return earlier
    }

    mutating func issue(_ id: Int, _ f: Fcall) -> ([Int], [Int]) {
        var deps: Set<Int> = []
        var sent: [Int] = []
        if case .tflush(let fl) = f.message, let target = pending[fl.oldtag] {
            sent = [target]
        } else {
            // A Tflush of a tag with nothing pending (its request answered first, or never sent) flushes
            // nothing: it keeps its place among the requests as any other does.
            deps = allFrontier
        }
        given[id] = deps
        pending[f.tag] = id
        for fid in f.message.fidsCreated where fid != .nofid { making[fid] = id }
        for fid in f.message.fidsReleased { releasing[fid] = id }
        if let fid = f.message.fidOpened { opening[fid] = id }
        return (deps.sorted(), sent)
    }

    mutating func reply(_ tag: Tag) -> Int? {
        pending.removeValue(forKey: tag)
    }

    mutating func completed(_ id: Int, isVersion: Bool) {
        let covered = given.removeValue(forKey: id) ?? []   // a step completes once
        if isVersion {
            allFrontier = [id]
            pending = [:]
            return
        }
        allFrontier.subtract(covered)
        allFrontier.insert(id)
    }
}
