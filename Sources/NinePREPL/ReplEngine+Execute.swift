import InspectorCore
import NinePWire
import NinePSession

extension ReplEngine {
    /// Parses and runs one line, printing what happens.
    public func execute(_ line: String) async -> CommandOutcome {
        let parsed: ParsedLine
        do {
            parsed = try parser.parse(line)
        } catch {
            emit(.error, line)
            emit(.error, error.caret(under: line))
            emit(.error, "syntax error: \(error)")
            return .syntaxError(error)
        }
        return await run(parsed)
    }

    /// Runs a parsed line.
    public func run(_ parsed: ParsedLine) async -> CommandOutcome {
        guard let command = parsed.command else { return .ok }
        if case .expect = command {} else if case .help = command {} else { remoteCache = [:] }
        switch command {
        case .request(let r):
            guard let result = await sendRequest(r, background: parsed.background,
                                                 strict: parsed.background && !parsed.allowFailure) else { return .ok }
            return outcome(result)
        case .hex(let bytes):
            return await sendHex(bytes, background: parsed.background)
        case .expect(let e):
            if let why = e.failure(for: lastReply, dataLimit: max(config.dataLimit, 16)) {
                emit(.error, failurePlace + "expect failed: " + why)
                return .failed(why)
            }
            emit(.info, "   expect: ok")
            return .ok
        case .help(let topic):
            let width = env.terminalColumns()
            guard let topic else { GrammarHelp.overview(width: width).forEach { emit(.info, $0) }; return .ok }
            guard let lines = GrammarHelp.topic(topic, width: width) else {
                let words = CommandSpec.all.map(\.name) + MessageType.allCases.map(\.name)
                return fail("no help for \(topic)" + (Spelling.nearest(to: topic, among: words).map { ": did you mean \($0)?" } ?? ""))
            }
            lines.forEach { emit(.info, $0) }
            return .ok
        case .set(let name, let value):
            return set(name, value)
        case .settings:
            settingLines().forEach { emit(.info, $0) }
            return .ok
        case .fids:
            fidLines().forEach { emit(.info, $0) }
            return .ok
        case .pending:
            pendingLines().forEach { emit(.info, $0) }
            return .ok
        case .wait(let tag):
            return await wait(tag)
        case .echo(let text):
            emit(.info, text)
            return .ok
        case .ls(let path): return await ls(path)
        case .cat(let path): return await cat(path)
        case .stat(let path): return await stat(path)
        case .put(let local, let remote): return await put(local, remote)
        case .reconnect:
            do {
                try await connect()
                emit(.info, "connected (dialect \(dialect) until version says otherwise)")
                return .ok
            } catch {
                return fail("reconnect failed: \(error)")
            }
        case .quit:
            return .quit
        }
    }

    /// Says why a command failed (where, in a script) and returns the failure.
    func fail(_ text: String) -> CommandOutcome {
        emit(.error, failurePlace + text)
        return .failed(text)
    }

    func outcome(_ r: WaitResult) -> CommandOutcome {
        switch r {
        case .reply(let f):
            return f.message.type?.isError == true ? .errorReply(f.canonicalLine) : .ok
        case .malformed(let line):
            return fail("malformed reply: " + line)
        case .gone(let why):
            return fail(why)
        }
    }

    /// The lowest tag that is neither pending nor awaited (never NOTAG).
    func allocateTag() -> Tag {
        let pending = tracker.pendingTags(on: conn)
        var t: UInt16 = 0
        while t < Tag.notag.rawValue {
            let tag = Tag(t)
            if !pending.contains(tag) && !awaiting.contains(tag) && mailbox[tag] == nil { return tag }
            t += 1
        }
        return Tag(0)
    }

    /// Sends a request; waits for its reply unless `background` (then returns nil).
    /// `strict`: a background request whose error reply is a failure of the script (see `strictBackground`).
    func sendRequest(_ r: Request, background: Bool, quiet: Bool = false, strict: Bool = false) async -> WaitResult? {
        guard let t = transport else { return .gone("not connected (reconnect to dial again)") }
        let isVersion: Bool
        if case .tversion = r.message { isVersion = true } else { isVersion = false }
        let tag = r.tag ?? (isVersion ? .notag : allocateTag())
        let fcall = Fcall(tag: tag, r.message)
        let bytes = fcall.encode(dialect: dialect)
        if case .tattach(let a) = r.message { attachCandidates[tag] = a.fid }
        if strict { strictBackground[tag] = scriptLine } else { strictBackground[tag] = nil }
        return await sendFrame(bytes, tag: tag, via: t, background: background, quiet: quiet)
    }

    func sendFrame(_ bytes: [UInt8], tag: Tag?, via t: any NinePTransport, background: Bool, quiet: Bool) async -> WaitResult? {
        let awaited = background ? nil : tag
        // `expect` looks at what answers this request (or anything arriving later), never older replies.
        if awaited != nil && !quiet { lastReply = nil }
        announce(bytes, awaiting: awaited, quiet: quiet)
        if let gone = await transmit(bytes, via: t, awaiting: awaited.map { [$0] } ?? []) { return gone }
        guard let awaited else { return nil }
        return await waitFor(awaited)
    }

    /// Before a frame is sent: its reply (`awaiting`) is waited for from now on, the frame is printed (the
    /// reply cannot be printed before the request) and the tracker takes it (stamped now: the latency covers
    /// only the round trip).
    private func announce(_ bytes: [UInt8], awaiting tag: Tag?, quiet: Bool) {
        if let tag {
            awaiting.insert(tag)
            mailbox[tag] = nil
            if quiet { quietTags.insert(tag) }
        }
        if !quiet {
            switch Result(catching: { () throws(DecodeError) -> Fcall in try Fcall.decode(bytes, dialect: dialect) }) {
            case .success(let f):
                emit(.sent, "-> " + f.canonicalLine)
                payloadLines(f)
            case .failure(let e):
                let name = FrameHeader(bytes).map { TracedMessage.typeName($0.type) + " tag \($0.tag)" } ?? "frame"
                emit(.anomaly, "-> malformed \(name) (\(bytes.count) bytes): \(e)")
            }
        }
        let isVersion = FrameHeader(bytes)?.type == MessageType.tversion.rawValue
        let before = isVersion ? (fids: tracker.fidTable(on: conn).map(\.fid), pending: tracker.pending(on: conn)) : nil
        let out = tracker.handle(.frame(conn: conn, direction: .toServer, at: env.now(), bytes: bytes, marks: []))
        if !quiet { for a in out.anomalies { emit(.anomaly, "   anomaly: \(a.text)") } }
        if let before {
            // version(5): the session starts again; the fids the conveniences walked from are gone too.
            rootFid = nil
            if !quiet, let said = Self.sessionReset(fids: before.fids, pending: before.pending) { emit(.info, said) }
        }
    }

    /// What a Tversion ends (version(5): every fid clunked, every outstanding request aborted), when it ends
    /// anything: `   version ends the session: fids 0, 1 released; tag 5 (Tread) aborted, no reply will come`.
    static func sessionReset(fids: [Fid], pending: [Exchange]) -> String? {
        var parts: [String] = []
        if !fids.isEmpty {
            parts.append((fids.count == 1 ? "fid " : "fids ") + fids.map(\.description).joined(separator: ", ") + " released")
        }
        if !pending.isEmpty {
            let tags = pending.map { x in "tag \(x.tag)" + (x.requestType.map { " (\($0.name))" } ?? "") }
            parts.append(tags.joined(separator: ", ") + " aborted, no reply will come")
        }
        guard !parts.isEmpty else { return nil }
        return "   version ends the session (version(5)): " + parts.joined(separator: "; ")
    }

    /// Writes `bytes` in one piece; on failure the connection is dropped, the `tags` are no longer waited
    /// for, and what became of them is returned.
    private func transmit(_ bytes: [UInt8], via t: any NinePTransport, awaiting tags: [Tag]) async -> WaitResult? {
        do {
            try await t.send(bytes)
            return nil
        } catch {
            for tag in tags { awaiting.remove(tag); quietTags.remove(tag) }
            await disconnect(reason: "send failed: \(error)", report: true)
            return .gone("send failed: \(error)")
        }
    }

    /// `hex BYTES`: one frame (or malformed bytes) sent as given, its reply waited for when its type code is
    /// even. Bytes that are several whole frames back to back are sent in one write all the same (a server
    /// must take them apart itself: pipelined requests, a read that holds two frames), each shown and
    /// tracked as a frame of its own, and each T-message's reply waited for in turn.
    func sendHex(_ bytes: [UInt8], background: Bool) async -> CommandOutcome {
        guard let t = transport else { return fail("not connected (reconnect to dial again)") }
        func requestTag(_ frame: [UInt8]) -> Tag? { FrameHeader(frame).flatMap { $0.type & 1 == 0 ? $0.tag : nil } }
        guard let frames = Self.wholeFrames(bytes) else {
            let tag = requestTag(bytes)
            guard let result = await sendFrame(bytes, tag: tag, via: t, background: background || tag == nil,
                                               quiet: false) else { return .ok }
            return outcome(result)
        }
        var tags: [Tag] = []
        for f in frames {
            let tag = background ? nil : requestTag(f).flatMap { tags.contains($0) ? nil : $0 }
            if let tag { tags.append(tag) }
            announce(f, awaiting: tag, quiet: false)
        }
        if !tags.isEmpty { lastReply = nil }
        if let gone = await transmit(bytes, via: t, awaiting: tags) { return outcome(gone) }
        var first: CommandOutcome = .ok
        for tag in tags {
            let result = outcome(await waitFor(tag))
            if first == .ok { first = result }
        }
        return first
    }

    /// The frames `bytes` holds when they are two or more whole frames back to back (each size field at
    /// least a header's and the last frame ending where the bytes do); nil otherwise.
    static func wholeFrames(_ bytes: [UInt8]) -> [[UInt8]]? {
        var frames: [[UInt8]] = []
        var i = 0
        while i < bytes.count {
            guard let h = FrameHeader(bytes[i...]), h.size >= UInt32(NineP.headerSize),
                  Int(h.size) <= bytes.count - i else { return nil }
            frames.append(Array(bytes[i..<(i + Int(h.size))]))
            i += Int(h.size)
        }
        return frames.count >= 2 ? frames : nil
    }

    func wait(_ tag: Tag?) async -> CommandOutcome {
        let pending = tracker.pendingTags(on: conn)
        let tags = tag.map { [$0] } ?? pending.sorted()
        if tags.isEmpty { emit(.info, "   nothing pending") }
        for t in tags {
            guard pending.contains(t) || mailbox[t] != nil || awaiting.contains(t) else {
                return fail("tag \(t) is not pending")
            }
            if mailbox[t] == nil { awaiting.insert(t) }
            if case .gone(let why) = await waitFor(t) { return fail(why) }
        }
        return .ok
    }

    func set(_ name: String, _ value: String) -> CommandOutcome {
        switch name {
        case "datalimit":
            guard let n = Int(value), n >= 0 else { return fail("datalimit: expected a number of bytes ≥ 0") }
            config.dataLimit = n
        case "catlimit":
            guard let n = Int(value), n >= 0 else { return fail("catlimit: expected a number of bytes ≥ 0 (0: all)") }
            config.catLimit = n
        case "msize":
            guard let n = ValueParser.integer(value), n >= 7, n <= UInt64(UInt32.max) else { return fail("msize: expected a number ≥ 7") }
            config.msize = UInt32(n)
        case "timeout":
            guard let s = Double(value), s >= 0 else { return fail("timeout: expected seconds ≥ 0 (0: wait forever)") }
            config.replyTimeout = Int64(s * 1e9)
        case "dialect":
            guard let d = Dialect.allCases.first(where: { $0.rawValue.lowercased() == value.lowercased() })
                    ?? [("l", Dialect.l), ("u", .u), ("9p", .p9)].first(where: { $0.0 == value.lowercased() })?.1 else {
                return fail("dialect: expected 9P2000, 9P2000.u or 9P2000.L")
            }
            config.dialect = d
            if tracker.connection(conn)?.negotiatedVersion == nil {
                tracker = SessionTracker(configuration: .init(defaultDialect: d))
                _ = tracker.connectionOpened(conn: conn, at: env.now(), info: nil)
            } else {
                emit(.info, "   the connection negotiated \(dialect); \(d) applies from the next version")
            }
        case "root":
            guard let n = ValueParser.integer(value), n < UInt64(UInt32.max) else { return fail("root: expected a fid") }
            rootFid = Fid(UInt32(n))
        default:
            return fail("unknown setting \(name) (settings: \(Completer.settings.joined(separator: ", ")))")
        }
        emit(.info, "   \(name) = \(value)")
        return .ok
    }

    /// `set` alone: each setting and its value, and what the connection negotiated where it differs.
    func settingLines() -> [String] {
        let negotiated = tracker.connection(conn)?.negotiatedVersion != nil
        let timeout = config.replyTimeout == 0 ? "0 (wait forever)" : DurationFormat.compact(config.replyTimeout)
        return [
            "   datalimit \(config.dataLimit)",
            "   catlimit \(config.catLimit)" + (config.catLimit == 0 ? " (all)" : ""),
            "   msize \(config.msize)" + (negotiated && msize != config.msize ? " (negotiated: \(msize))" : ""),
            "   dialect \(config.dialect)" + (negotiated && dialect != config.dialect ? " (negotiated: \(dialect))" : ""),
            "   root " + (rootFid.map(\.description) ?? "none (attach sets it)"),
            "   timeout \(timeout)",
        ]
    }

    /// The fid table of the connection, one line per live fid; whose each fid is (its attach's uname and
    /// n_uname) in a column when the fids are several users', as the inspector's fids view does.
    public func fidLines() -> [String] {
        let entries = tracker.fidTable(on: conn)
        guard !entries.isEmpty else { return ["   no fids in use"] }
        let users = entries.map(\.user.description)
        let several = Set(users).count > 1
        var rows = [["fid", "state"] + (several ? ["user"] : []) + ["path", "qid", "open", "iounit"]]
        for (e, user) in zip(entries, users) {
            rows.append([e.fid.description, e.state.description] + (several ? [user] : []) + [
                e.path?.description ?? "?", e.qid.map(ValueFormatter.qid) ?? "", e.openMode?.description ?? "",
                e.iounit.map { String($0) } ?? ""])
        }
        return Self.table(rows)
    }

    /// Outstanding requests, oldest first.
    public func pendingLines() -> [String] {
        let list = tracker.pending(on: conn)
        guard !list.isEmpty else { return ["   nothing pending"] }
        let now = env.now()
        return list.map { x in
            let line = x.requestIndex.flatMap { tracker.message(at: $0)?.canonicalLine } ?? (x.requestType?.name ?? "?")
            let age = x.start.map { " (waiting " + DurationFormat.age(now - $0) + ")" } ?? ""
            return "   tag \(x.tag): " + line + age
        }
    }

    static func table(_ rows: [[String]]) -> [String] {
        let widths = (0..<(rows.first?.count ?? 0)).map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { row in
            "   " + row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count + 2)
            }.joined().trimmingSuffix(" ")
        }
    }
}
