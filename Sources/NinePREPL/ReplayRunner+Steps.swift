import NinePWire

extension ReplayRunner {
    func sendSynthesizedVersion(on c: UInt32) {
        guard let t = conns[c]?.transport else { return }
        let before = options.negotiatedBefore[c]
        let dialect = before?.dialect ?? options.dialect
        let f = Fcall(tag: .notag, .tversion(Tversion(msize: before?.msize ?? options.msize, version: P9String(dialect.rawValue))))
        conns[c]?.versionPending = true
        env.trace?("-> [\(c)] " + f.canonicalLine + " (not in the capture: it starts mid-session"
                  + (before == nil ? ")" : ", which had negotiated this)"))
        t.post(f.encode(dialect: dialect))
    }

    /// Sends every step whose dependencies are met (and whose time has come).
    func pump() async {
        var earliestWait: Int64?
        // A step sent makes the steps waiting for it to be sent ready (a Tflush), so the ready steps are gone
        // through again until a pass sends nothing. Sending suspends, and replies that come meanwhile may send
        // or finish steps of a pass's list (then skipped) or make others ready.
        var sentAny = true
        while sentAny {
            sentAny = false
            for id in schedule.readyInOrder where schedule.ready.contains(id) {
                let step = plan.steps[id]
                guard let conn = conns[step.connection], conn.transport != nil, !conn.versionPending else { continue }
                if options.timing == .original {
                    let due = start + step.offset
                    let now = env.now()
                    if now < due { earliestWait = min(earliestWait ?? due, due); continue }
                }
                send(step)
                sentAny = true
            }
        }
        if let due = earliestWait, !wakeScheduled {
            wakeScheduled = true
            let delay = max(0, due - env.now())
            let sleep = env.sleep
            Task { [weak self] in
                await sleep(delay)
                await self?.wake()
            }
        }
        if !allDone && !wakeScheduled && !conns.values.contains(where: { !$0.inflight.isEmpty || $0.versionPending }) {
            // Nothing in flight, nothing due later, and steps left: they wait for something that cannot come.
            // Every dependency is an earlier step, so this is the replay's own fault; say so rather than wait
            // for the idle timeout.
            let stuck = plan.steps.indices.filter { !schedule.isSent($0) && !schedule.isDone($0) }
            report.problems.append("replay stalled: \(stuck.count) requests never became sendable (first: step "
                                   + "\(stuck.first ?? -1)); this is a fault of ninescope's replay, not of the server")
            for c in plan.connections { abandon(connection: c, why: nil) }
        }
        finishIfDone()
    }

    func wake() async {
        wakeScheduled = false
        await pump()
    }

    func send(_ step: ReplayPlan.Step) {
        guard var conn = conns[step.connection], let t = conn.transport else { return }
        var message = options.attach.apply(to: step.request.message)
        let tag: Tag
        if message.type == .tversion {
            tag = .notag
            conn.versionPending = true
        } else {
            var n: UInt16 = 0
            while conn.inflight[Tag(n)] != nil { n += 1 }
            tag = Tag(n)
        }
        switch message {
        case .tflush(let f):
            // The tag its target was sent under while that is still in flight. Once the target is answered (this
            // server was quicker than the capture's), or when the capture's Tflush named nothing pending, a tag
            // nothing of this replay has in flight: the one the target had (or the captured oldtag) may since
            // have been given to another request, which the Tflush would end.
            if let target = step.afterSent.first, let mapped = tags[target], conn.inflight[mapped] == target {
                message = .tflush(Tflush(oldtag: mapped))
            } else {
                let preferred = step.afterSent.first.flatMap { tags[$0] } ?? f.oldtag
                message = .tflush(Tflush(oldtag: conn.idleTag(preferring: preferred, besides: tag)))
            }
        case .treaddir(let r) where r.offset != 0:
            if let mapped = conn.offsets[r.fid]?[r.offset] {
                message = .treaddir(Treaddir(fid: r.fid, offset: mapped, count: r.count))
            }
        case .tread(let r) where r.offset != 0 && conn.directories.contains(r.fid):
            if let mapped = conn.offsets[r.fid]?[r.offset] {
                message = .tread(Tread(fid: r.fid, offset: mapped, count: r.count))
            }
        default: break
        }
        conn.inflight[tag] = step.id
        conns[step.connection] = conn
        tags[step.id] = tag
        schedule.sent(step.id)
        report.sent += 1
        activity += 1
        let f = Fcall(tag: tag, message)
        env.trace?("-> [\(step.connection)] " + f.canonicalLine)
        progress()
        // Not waited for: a write that fails ends the connection, which `handle` sees (`.closed`).
        t.post(f.encode(dialect: conn.dialect))
    }

    func handle(_ event: TransportEvent, on c: UInt32) async {
        guard !finished, var conn = conns[c], conn.transport != nil else { return }
        switch event {
        case .frame(let bytes, _):
            activity += 1
            guard let f = try? Fcall.decode(bytes, dialect: conn.dialect) else {
                let h = FrameHeader(bytes)
                report.problems.append("connection \(c): undecodable reply (\(bytes.count) bytes, tag \(h?.tag.description ?? "?"))")
                if h?.tag == .notag { conn.versionPending = false }   // the Tversion's reply, whatever it holds
                let id = h.flatMap { conn.inflight.removeValue(forKey: $0.tag) }
                conns[c] = conn
                if let id { complete(id, reply: nil, on: c) }
                await pump()
                return
            }
            env.trace?("<- [\(c)] " + f.canonicalLine)
            if case .rversion(let v) = f.message, let d = Dialect(version: v.version.string) { conn.dialect = d }
            if f.tag == .notag && conn.versionPending {
                // The Tversion's reply (Rversion, or an error refusing the version): requests may follow.
                conn.versionPending = false
                if conn.inflight[.notag] == nil {   // the synthesized one: no step to complete
                    conns[c] = conn
                    if ReplayReport.refusesVersion(f) {
                        report.refusedVersions += 1
                        abandon(connection: c, why: "the server refused the Tversion sent first: \(f.canonicalLine)",
                                afterRefusedVersion: true)
                        finishIfDone()
                        return
                    }
                    await pump()
                    return
                }
            }
            guard let id = conn.inflight.removeValue(forKey: f.tag) else {
                report.problems.append("connection \(c): reply to a tag not in flight: \(f.canonicalLine)")
                conns[c] = conn
                return
            }
            // Tversion aborts everything outstanding (version(5)): those requests get no reply.
            var aborted: [Int] = []
            if case .rversion = f.message {
                aborted = Array(conn.inflight.values)
                conn.inflight = [:]
            }
            conns[c] = conn
            for other in aborted { complete(other, reply: nil, on: c) }
            complete(id, reply: f, on: c)
            await pump()
        case .garbage(let bytes, let reason):
            report.problems.append("connection \(c): \(bytes.count) bytes of garbage: \(reason)")
        case .closed(let reason):
            conns[c]?.transport = nil
            abandon(connection: c, why: "connection closed" + (reason.map { ": " + $0 } ?? ""))
            finishIfDone()
        }
    }

    func complete(_ id: Int, reply: Fcall?, on c: UInt32) {
        guard !schedule.isDone(id) else { return }
        schedule.done(id)
        let step = plan.steps[id]
        if reply != nil { report.answered += 1 }
        // An Rflush ends its target if the target got no reply.
        if case .rflush? = reply?.message, let target = step.afterSent.first, !schedule.isDone(target) {
            if let tag = tags[target] { conns[c]?.inflight[tag] = nil }
            schedule.done(target)
        }
        if let reply, case .rreaddir(let r) = reply.message, case .treaddir(let q) = step.request.message,
           case .rreaddir(let captured)? = step.capturedReply?.message,
           let mine = try? Dirent.decodeAll(r.data), let theirs = try? Dirent.decodeAll(captured.data) {
            for (a, b) in zip(theirs, mine) { conns[c]?.offsets[q.fid, default: [:]][a.offset] = b.offset }
        }
        noteOpenFids(step.request.message, reply: reply, captured: step.capturedReply, on: c)
        if ReplyComparator.mayRemove(step.request.message, answeredBy: reply)
            || ReplyComparator.mayRemove(step.request.message, answeredBy: step.capturedReply) {
            // Qid paths are the server's, not the connection's: a file removed on one frees its path for all.
            for k in conns.keys {
                conns[k]?.comparator.noteRemoval()
                if let open = conns[k]?.open { conns[k]?.openAtRemoval.formUnion(open) }
            }
        }
        let directoryRead = followDirectories(step, reply: reply, on: c)
        // A reply's difference may only follow from an earlier one's: a fid it names that this server holds
        // otherwise (a Twalk to a name it lacks made no newfid).
        let follows = reply == nil ? nil
            : conns[c]?.divergence.note(step: id, request: step.request.message, captured: step.capturedReply,
                                        replayed: reply)
        let sentAs = tags[id]
        // The request as a difference names it (made only for one), with the tag it was sent under.
        let requestLine = { ReplayDifference.requestLine(step.request, sentAs: sentAs) }
        report.note(step: id, connection: c, request: step.request, sentAs: sentAs, captured: step.capturedReply,
                    replayed: reply, follows: follows)
        // The version a refused Tversion asked for: the rest of its connection is not sent (below).
        var refusedVersion: P9String?
        if case .tversion(let t) = step.request.message, let reply, ReplayReport.refusesVersion(reply) {
            refusedVersion = t.version
            report.refusedVersions += 1
            if report.refusedVersion == nil {
                report.refusedVersion = ReplayDifference(step: id, connection: c, request: requestLine(),
                                                         captured: step.capturedReply?.canonicalLine ?? "",
                                                         replayed: reply.canonicalLine, fields: [])
            }
        }
        if options.diff, let captured = step.capturedReply {
            report.compared += 1
            if let reply {
                let dialect = conns[c]?.dialect ?? options.dialect
                let fields = conns[c]?.comparator.compare(captured: captured, replayed: reply, dialect: dialect,
                                                          directory: directoryRead) ?? []
                if !fields.isEmpty {
                    report.differences.append(ReplayDifference(step: id, connection: c, request: requestLine(),
                                                               captured: captured.canonicalLine, replayed: reply.canonicalLine,
                                                               fields: fields, follows: follows))
                }
            } else {
                report.differences.append(ReplayDifference(step: id, connection: c, request: requestLine(),
                                                           captured: captured.canonicalLine, replayed: nil, fields: []))
            }
        } else if options.diff, let cut = step.cutReply {
            // The capture holds only the reply's first bytes: its type is what can be compared.
            report.compared += 1
            let replayedCode = reply?.message.typeCode
            if replayedCode != cut.typeCode {
                let name = { (code: UInt8) in MessageType(rawValue: code)?.name ?? "type\(code)" }
                report.differences.append(ReplayDifference(
                    step: id, connection: c, request: requestLine(), captured: cut.line,
                    replayed: reply?.canonicalLine,
                    fields: reply == nil ? [] : [FieldDifference(field: "type", captured: name(cut.typeCode),
                                                                 replayed: name(replayedCode ?? 0))],
                    follows: follows))
            }
        }
        progress()
        if let version = refusedVersion {
            // Nothing after a refused Tversion means anything to this server: the requests would each fail
            // (or wait for the idle timeout) for want of a session.
            abandon(connection: c, why: "the server refused version '\(version)'", afterRefusedVersion: true)
        }
    }

    /// 9P2000 and 9P2000.u directories: which fids are open on one (from the replayed Ropen's or Rcreate's
    /// qid), and where the next read of one starts in the replayed stream of stat entries (a read continues
    /// at the previous offset plus the previous count, and entries may differ in size between servers).
    /// Whether `step` read a directory.
    func followDirectories(_ step: ReplayPlan.Step, reply: Fcall?, on c: UInt32) -> Bool {
        guard var conn = conns[c] else { return false }
        defer { conns[c] = conn }
        for fid in step.request.message.fidsReleased {
            conn.directories.remove(fid)
            conn.offsets[fid] = nil
        }
        switch (step.request.message, reply?.message) {
        case (.topen(let t), .ropen(let r)?):
            conn.noteOpened(t.fid, r.qid)
        case (.tcreate(let t), .rcreate(let r)?):
            conn.noteOpened(t.fid, r.qid)
        case (.tread(let q), .rread(let r)?) where conn.directories.contains(q.fid):
            if case .rread(let captured)? = step.capturedReply?.message {
                let sent = q.offset == 0 ? 0 : conn.offsets[q.fid]?[q.offset] ?? q.offset
                conn.offsets[q.fid, default: [:]][q.offset + UInt64(captured.payload.count)] = sent + UInt64(r.payload.count)
            }
            return true
        default:
            break
        }
        return false
    }

    /// Marks every unfinished step of a connection as done: one that was sent as unanswered (compared, with
    /// --diff, as a reply that did not come); one never sent as only that, neither compared nor unanswered.
    /// `why` (when given) becomes a problem that counts both; `afterRefusedVersion`: the server refused the
    /// connection's Tversion, which the report's summary says of the requests not sent.
    func abandon(connection c: UInt32, why: String?, afterRefusedVersion: Bool = false) {
        var unanswered = 0, unsent = 0
        for step in plan.steps where step.connection == c && !schedule.isDone(step.id) {
            if schedule.isSent(step.id) {
                unanswered += 1
                complete(step.id, reply: nil, on: c)
            } else {
                unsent += 1
                schedule.done(step.id)
            }
        }
        if afterRefusedVersion { report.notSentAfterRefusedVersion += unsent }
        conns[c]?.versionPending = false
        if unsent > 0 { progress() }
        guard let why, unanswered + unsent > 0 else { return }
        let counts = [unanswered > 0 ? ReplayReport.requests(unanswered) + " unanswered" : nil,
                      unsent > 0 ? ReplayReport.requests(unsent) + " not sent" : nil]
        report.problems.append("connection \(c): \(why); " + counts.compactMap { $0 }.joined(separator: ", "))
    }

    /// Gives up once nothing was sent or received for the idle timeout while a reply was awaited. A wait for a
    /// request's captured time (`--timing original` over a capture's quiet spell) awaits nothing, and is no
    /// reason to give up. Checked four times per timeout, so that it gives up after it and at most a quarter
    /// more (checked once per timeout, it took up to twice as long).
    func startWatchdog() {
        let sleep = env.sleep
        let checks: Int64 = 4
        let interval = max(1, options.idleTimeout / checks)
        Task { [weak self] in
            var last = -1
            var quiet: Int64 = 0
            while let self, await !self.finished {
                await sleep(interval)
                let (now, waiting) = await (self.activity, self.awaitingReply)
                if now != last || !waiting {
                    last = now
                    quiet = 0
                    continue
                }
                quiet += 1
                if quiet >= checks { await self.giveUp(); return }
            }
        }
    }

    /// Whether a reply is awaited: a request in flight, or a Tversion.
    var awaitingReply: Bool { conns.values.contains { !$0.inflight.isEmpty || $0.versionPending } }

    func giveUp() {
        guard !allDone else { return }
        let ms = options.idleTimeout / 1_000_000
        for c in plan.connections { abandon(connection: c, why: "nothing arrived for \(ms) ms") }
        finishIfDone()
    }

    /// Keeps `Conn.open` and `Conn.openAtRemoval`: the clunk (or remove) of a fid that was open when a file was
    /// removed frees the removed file's qid path if the fid held it, as a removal does.
    func noteOpenFids(_ request: Message, reply: Fcall?, captured: Fcall?, on c: UInt32) {
        let ok = { (f: Fcall?) in f.map { $0.message.type?.isError != true } ?? false }
        if let fid = request.fidOpened, ok(reply) || ok(captured) { conns[c]?.open.insert(fid) }
        // A clunk or remove ends the fid whatever its answer (clunk(5), remove(5)).
        for fid in request.fidsReleased {
            conns[c]?.open.remove(fid)
            guard conns[c]?.openAtRemoval.remove(fid) != nil else { continue }
            for k in conns.keys { conns[k]?.comparator.noteRemoval() }
        }
    }
}
