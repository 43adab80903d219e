import NinePWire

/// A replayed reply that does not match the captured one (or is missing).
public struct ReplayDifference: Hashable, Sendable {
    public var step: Int
    public var connection: UInt32
    /// The captured request's canonical line.
    public var request: String
    /// The captured reply's canonical line.
    public var captured: String
    /// The replayed reply's canonical line, or nil when none came.
    public var replayed: String?
    public var fields: [FieldDifference]
    /// The earlier step this difference follows from, when the request names a fid that step left otherwise
    /// on this server than on the capture's (a fid a failed Twalk did not make): not a difference of its own.
    public var follows: DivergedFid? = nil

    /// The difference as a JSON object: `event` (when given), `step`, `conn`, the three canonical lines
    /// (`replayed` null when no reply came), `fields` (each with `field`, `captured`, `replayed` and an
    /// `explanation` where the report gives one) and `follows` (`step`, `fid`, `how`) when it follows from an
    /// earlier step.
    func json(event: String? = "difference") -> JSONValue {
        var members: [(String, JSONValue)] = event.map { [("event", .string($0))] } ?? []
        members += [("step", .int(Int64(step))), ("conn", .uint(UInt64(connection))), ("request", .string(request)),
                    ("captured", .string(captured)), ("replayed", replayed.map(JSONValue.string) ?? .null)]
        if !fields.isEmpty {
            members.append(("fields", .array(fields.map { f in
                var m: [(String, JSONValue)] = [("field", .string(f.field)), ("captured", .string(f.captured)),
                                                ("replayed", .string(f.replayed))]
                if let e = f.explanation { m.append(("explanation", .string(e))) }
                return .object(m)
            })))
        }
        if let origin = follows {
            members.append(("follows", .object([("step", .int(Int64(origin.step))), ("fid", .uint(UInt64(origin.fid.rawValue))),
                                                ("how", .string(origin.how))])))
        }
        return .object(members)
    }

    /// `step 3 (connection 0): Twalk …`: how the report names the step.
    var heading: String { "step \(step) (connection \(connection)): \(request)" }

    /// `request`'s canonical line, with the tag the replay sent it under when that is another than the
    /// captured one (`Twalk tag 5 (sent as 3) fid 0 …`), so that the replayed reply's tag is seen to answer it.
    public static func requestLine(_ request: Fcall, sentAs sent: Tag?) -> String {
        let line = request.canonicalLine
        let prefix = "\(request.message.name) tag \(request.tag)"
        guard let sent, sent != request.tag, line.hasPrefix(prefix) else { return line }
        return prefix + " (sent as \(sent))" + line.dropFirst(prefix.count)
    }
}

/// The outcome of a replay.
public struct ReplayReport: Hashable, Sendable {
    public var total: Int
    public var sent: Int
    public var answered: Int
    /// Replies compared (`--diff` only).
    public var compared: Int
    public var differences: [ReplayDifference]
    /// Connection failures, timeouts, replies to unknown tags, planning notes.
    public var problems: [String]
    /// Replies that are errors where the capture has a reply of success (counted with or without --diff).
    public var newErrors = 0
    /// How many of them follow from an earlier step (`ReplayDifference.follows`).
    public var newErrorsFollowing = 0
    /// The first few of them that do not.
    public var firstNewErrors: [ReplayDifference] = []
    /// Creates (Tcreate, Tlcreate, Tmkdir, Tsymlink, Tmknod, Tlink) that the capture shows succeeding and the
    /// server refused because the name exists: the export already holds what the captured session made.
    public var existing = 0
    /// The first of them.
    public var firstExisting: ReplayDifference?
    /// The first Tattach that the capture shows accepted and the server refused.
    public var refusedAttach: ReplayDifference?
    /// The first Tversion the server refused (an error, or version `unknown`): the server does not speak the
    /// captured session's dialect, and that connection goes no further.
    public var refusedVersion: ReplayDifference?
    /// How many connections' Tversions the server refused (captured, or the replay's own).
    public var refusedVersions = 0
    /// Requests not sent because the server refused their connection's Tversion (captured, or the one the
    /// replay sends first for a capture that starts mid-session).
    public var notSentAfterRefusedVersion = 0

    /// Whether `replayed`, the reply to a Tversion, refuses it (version(5): `unknown`, or an error from
    /// servers that answer so).
    static func refusesVersion(_ replayed: Fcall) -> Bool {
        if replayed.message.type?.isError == true { return true }
        if case .rversion(let v) = replayed.message { return Dialect(version: v.version.string) == nil }
        return false
    }

    /// Notes a replayed reply against the captured one: an error where the capture has none. A refused
    /// Tversion is not one of them: `refusedVersion` tells of it.
    mutating func note(step: Int, connection: UInt32, request: Fcall, sentAs: Tag? = nil, captured: Fcall?,
                       replayed: Fcall?, follows: DivergedFid? = nil) {
        guard let captured, let replayed, replayed.message.type?.isError == true,
              captured.message.type?.isError != true, request.message.type != .tversion else { return }
        newErrors += 1
        if follows != nil { newErrorsFollowing += 1; return }
        let d = ReplayDifference(step: step, connection: connection,
                                 request: ReplayDifference.requestLine(request, sentAs: sentAs),
                                 captured: captured.canonicalLine, replayed: replayed.canonicalLine, fields: [])
        if firstNewErrors.count < 3 { firstNewErrors.append(d) }
        if Self.creates(request.message), Self.saysExists(replayed.message) {
            existing += 1
            if firstExisting == nil { firstExisting = d }
        }
        if refusedAttach == nil, case .tattach = request.message { refusedAttach = d }
    }

    /// Whether the request makes a name in a directory.
    static func creates(_ m: Message) -> Bool {
        switch m {
        case .tcreate, .tlcreate, .tmkdir, .tsymlink, .tmknod, .tlink: true
        default: false
        }
    }

    /// Whether an error reply says the name exists: EEXIST, or (9P2000, no errno) a text saying so.
    static func saysExists(_ m: Message) -> Bool {
        switch m {
        case .rlerror(let e): e.ecode == .EEXIST
        case .rerror(let e): e.errno.map { Errno($0) == .EEXIST } ?? (e.ename?.string.lowercased().contains("exist") ?? false)
        default: false
        }
    }

    /// 0 when everything was sent and answered and (with diff) every reply matched; 1 otherwise.
    public var exitStatus: Int32 { differences.isEmpty && problems.isEmpty && sent == total ? 0 : 1 }

    /// What makes differences alike: the same request and reply types, and the same fields with the same
    /// captured and replayed values. Nil for a difference shown in one line anyway (no reply, or one that
    /// follows from an earlier step).
    struct Likeness: Hashable {
        var request: Substring
        var replayed: Substring
        var fields: [FieldDifference]

        init?(_ d: ReplayDifference) {
            guard d.follows == nil, let replayed = d.replayed, !d.fields.isEmpty else { return nil }
            request = d.request.prefix { $0 != " " }
            self.replayed = replayed.prefix { $0 != " " }
            fields = d.fields
        }
    }

    /// For each difference shown in full that later ones repeat (`Likeness`), the steps of those repeats;
    /// and the indices of the repeats, which are not shown.
    func repeats() -> (of: [Int: [Int]], hidden: Set<Int>) {
        var first: [Likeness: Int] = [:]
        var of: [Int: [Int]] = [:]
        var hidden: Set<Int> = []
        for (i, d) in differences.enumerated() {
            guard let key = Likeness(d) else { continue }
            if let shown = first[key] {
                of[shown, default: []].append(d.step)
                hidden.insert(i)
            } else {
                first[key] = i
            }
        }
        return (of, hidden)
    }

    /// `step 5`, `steps 5, 7`, `steps 5, 7, 9, …, 480`.
    static func stepList(_ steps: [Int]) -> String {
        let shown = steps.count <= 4 ? steps.map(String.init)
            : steps.prefix(3).map(String.init) + ["…", String(steps[steps.count - 1])]
        return (steps.count == 1 ? "step " : "steps ") + shown.joined(separator: ", ")
    }

    /// Human-readable report lines.
    public func lines() -> [String] {
        var out: [String] = []
        // A server that answers one way where the capture's answered another (every Tgetattr of a file whose
        // qid type differs) makes the same difference at every such step: the first is shown in full, then
        // how many more steps differ the same way, and which.
        let (repeated, hidden) = repeats()
        for (i, d) in differences.enumerated() where !hidden.contains(i) {
            out.append(d.heading)
            if let origin = d.follows {
                // Expected once the fid went otherwise: one line, so that the differences of their own stand out.
                out.append("  follows from \(origin.description): replayed \(d.replayed ?? "no reply")")
                continue
            }
            out.append("  captured: \(d.captured)")
            out.append("  replayed: \(d.replayed ?? "no reply")")
            for f in d.fields { out.append("    \(f)") }
            if let more = repeated[i] {
                out.append("  … and \(more.count) more \(more.count == 1 ? "step differs" : "steps differ") the same way "
                           + "(\(Self.stepList(more)))")
            }
        }
        for p in problems { out.append("problem: " + p) }
        for n in notes() {
            out.append("note: " + n.text)
            for d in n.examples { out.append("  \(d.heading) → \(d.replayed ?? "")") }
        }
        out.append(summary)
        return out
    }

    /// A note of the report: what the figures alone do not say, and the steps it names (the replies that
    /// are errors where the capture has none).
    public struct Note: Hashable, Sendable {
        public var text: String
        public var examples: [ReplayDifference] = []
    }

    /// The notes, in the order the report gives them.
    public func notes() -> [Note] {
        var out: [Note] = []
        if let v = refusedVersion {
            if refusedVersions > 1 {
                out.append(Note(text: "the server refused the version the capture's sessions speak on \(refusedVersions) "
                                + "connections, so the rest of each was not sent (the first: \(v.heading) → \(v.replayed ?? ""))"))
            } else {
                out.append(Note(text: "the server refused the version the capture's session speaks, so the rest of that "
                                + "connection was not sent: \(v.heading) → \(v.replayed ?? "")"))
            }
        } else if let a = refusedAttach {
            out.append(Note(text: "the server refused an attach that the capture shows accepted, and every request on "
                            + "its fids fails after it: \(a.heading) → \(a.replayed ?? "")"))
            out.append(Note(text: "--aname PATH (and --uname, --n-uname) replays to the export and user this server has"))
        }
        if let e = firstExisting {
            out.append(Note(text: "\(existing == 1 ? "a create" : "\(existing) creates") the capture shows succeeding failed "
                            + "because the name exists (the first: \(e.heading) → \(e.replayed ?? "")): the export already holds "
                            + "what the captured session made, a replay before this one perhaps; replay to a fresh copy of it"))
        }
        if newErrors > 0 && compared == 0 {
            // The examples are `firstNewErrors`: all of those of their own, or the first few.
            let own = newErrors - newErrorsFollowing, shown = firstNewErrors.count
            let which: String
            if newErrorsFollowing == 0 {
                which = shown < own ? "; the first \(shown):" : ":"
            } else {
                let them = newErrorsFollowing == newErrors ? "all of them only follow"
                    : newErrorsFollowing == 1 ? "1 of them only follows" : "\(newErrorsFollowing) of them only follow"
                which = "; \(them) from an earlier one (a fid it left otherwise)"
                    + (own == 0 ? "" : own == 1 ? "; the other:" : shown < own ? "; the first \(shown) of the \(own) others:"
                       : "; the \(own) others:")
            }
            out.append(Note(text: "\(newErrors) \(newErrors == 1 ? "reply is an error" : "replies are errors") where the capture "
                            + "has none (--diff compares every reply)" + which, examples: firstNewErrors))
        }
        return out
    }

    /// The report as JSON lines (`replay --json`): one `difference` per difference (every one: a consumer
    /// groups them itself), one `problem` and one `note` each, and a `summary` last with the counts and the
    /// exit status.
    public func jsonLines() -> [String] {
        var out: [String] = []
        for d in differences { out.append(d.json().serialized) }
        for p in problems { out.append(JSONValue.object([("event", .string("problem")), ("text", .string(p))]).serialized) }
        for n in notes() {
            var members: [(String, JSONValue)] = [("event", .string("note")), ("text", .string(n.text))]
            if !n.examples.isEmpty { members.append(("steps", .array(n.examples.map { $0.json(event: nil) }))) }
            out.append(JSONValue.object(members).serialized)
        }
        let following = differences.count { $0.follows != nil }
        out.append(JSONValue.object([
            ("event", .string("summary")), ("requests", .int(Int64(total))), ("sent", .int(Int64(sent))),
            ("answered", .int(Int64(answered))), ("compared", .int(Int64(compared))),
            ("differ", .int(Int64(differences.count))), ("differ_following", .int(Int64(following))),
            ("new_errors", .int(Int64(newErrors))), ("new_errors_following", .int(Int64(newErrorsFollowing))),
            ("existing", .int(Int64(existing))), ("refused_versions", .int(Int64(refusedVersions))),
            ("not_sent_after_refused_version", .int(Int64(notSentAfterRefusedVersion))),
            ("exit_status", .int(Int64(exitStatus))), ("text", .string(summary)),
        ]).serialized)
        return out
    }

    /// `1 request`, `5 requests`.
    static func requests(_ n: Int) -> String { n == 1 ? "1 request" : "\(n) requests" }

    /// The last line: what was sent, answered and compared, and what was not sent.
    var summary: String {
        let following = differences.count { $0.follows != nil }
        var line = "replayed \(sent) of \(total) requests, \(answered) answered"
            + (compared > 0 || !differences.isEmpty ? ", \(compared) compared, \(differences.count) differ" : "")
            + (following > 0 ? " (\(following) only follow from an earlier one: a fid it left otherwise)" : "")
        let notSent = total - sent
        let requests = Self.requests(notSent)
        if notSent > 0 && notSentAfterRefusedVersion == notSent {
            line += "; replay stopped after the server refused the Tversion"
                + (refusedVersions > 1 ? " of \(refusedVersions) connections" : "") + ": \(requests) not sent"
        } else if notSentAfterRefusedVersion > 0 {
            line += "; \(requests) not sent (\(notSentAfterRefusedVersion) after a refused Tversion)"
        } else if notSent > 0 {
            line += "; \(requests) not sent"
        }
        return line
    }
}

/// Where a replay is.
public struct ReplayProgress: Hashable, Sendable {
    public var total: Int
    public var sent: Int
    public var answered: Int
    public var differences: Int
}
