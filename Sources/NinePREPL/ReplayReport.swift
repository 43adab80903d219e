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

    /// 0 when everything was sent and answered and (with diff) every reply matched; 1 otherwise.
    public var exitStatus: Int32 { differences.isEmpty && problems.isEmpty && sent == total ? 0 : 1 }

    /// Human-readable report lines.
    public func lines() -> [String] {
        var out: [String] = []
        for d in differences {
            out.append("step \(d.step) (connection \(d.connection)): \(d.request)")
            out.append("  captured: \(d.captured)")
            out.append("  replayed: \(d.replayed ?? "no reply")")
            for f in d.fields { out.append("    \(f)") }
        }
        for p in problems { out.append("problem: " + p) }
        out.append("replayed \(sent) of \(total) requests, \(answered) answered"
                   + (compared > 0 || !differences.isEmpty ? ", \(compared) compared, \(differences.count) differ" : ""))
        return out
    }
}

/// Where a replay is.
public struct ReplayProgress: Hashable, Sendable {
    public var total: Int
    public var sent: Int
    public var answered: Int
    public var differences: Int
}
