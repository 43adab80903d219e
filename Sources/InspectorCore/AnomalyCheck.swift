import NinePSession
import NinePWire

/// `ninescope decode --check`: a trace judged by its anomalies, for a test suite's gate (a server's tests run
/// through the proxy with `--capture`, then checked). Counts every anomaly by kind; those of an allowed kind
/// (`--allow fid-leak`) count but do not fail the check. Pure: fed each tracker output in order.
public struct AnomalyCheck: Sendable {
    /// Kinds that count but do not fail.
    public let allowed: Set<AnomalyKind>
    public private(set) var counts: [AnomalyKind: Int] = [:]
    public private(set) var messages = 0
    private var seen: Set<ConnectionID> = []
    /// Connections seen (opened, or met mid-stream).
    public var connections: Int { seen.count }

    public init(allowing allowed: Set<AnomalyKind> = []) { self.allowed = allowed }

    /// Parses `--allow`'s comma list of kinds (`fid-leak,unanswered`); a clear error naming the kinds there are.
    public static func kinds(_ list: String) throws(CheckError) -> Set<AnomalyKind> {
        var kinds: Set<AnomalyKind> = []
        for word in list.split(separator: ",") {
            let name = word.filter { $0 != " " }
            guard let kind = AnomalyKind(rawValue: name) else {
                throw CheckError("'\(name)' is not an anomaly kind; the kinds are "
                                 + AnomalyKind.allCases.map(\.rawValue).joined(separator: ", "))
            }
            kinds.insert(kind)
        }
        return kinds
    }

    /// Takes one event and what the tracker made of it; returns the anomalies that fail the check (to print
    /// as they come).
    public mutating func take(_ event: SessionEvent, _ output: TrackerOutput) -> [Anomaly] {
        if output.message != nil { messages += 1 }
        seen.insert(event.conn)
        var failing: [Anomaly] = []
        for a in output.anomalies {
            counts[a.kind, default: 0] += 1
            if !allowed.contains(a.kind) { failing.append(a) }
        }
        return failing
    }

    /// How many anomalies fail the check.
    public var failures: Int { counts.filter { !allowed.contains($0.key) }.values.reduce(0, +) }

    /// 0 when no anomaly fails the check, 1 otherwise.
    public var exitStatus: Int32 { failures == 0 ? 0 : 1 }

    /// `check: 3 anomalies in 1,204 messages on 2 connections: 2 fid-leak, 1 walk-left-root (2 fid-leak
    /// allowed)`, or `check: no anomalies in …`. Kinds by count, then name.
    public var summary: String {
        let total = counts.values.reduce(0, +)
        let scope = "in \(messages) message\(messages == 1 ? "" : "s") on \(connections) connection\(connections == 1 ? "" : "s")"
        guard total > 0 else { return "check: no anomalies " + scope }
        let allowedCounts = counts.filter { allowed.contains($0.key) }
        var text = "check: \(total) anomal\(total == 1 ? "y" : "ies") " + scope + ": " + AnomalyKind.countsText(counts)
        if !allowedCounts.isEmpty { text += " (" + AnomalyKind.countsText(allowedCounts) + " allowed)" }
        return text + (failures == 0 ? "; passed" : "; failed")
    }
}

extension AnomalyCheck {
    /// The summary as one JSON object: `{"event":"check","passed":false,"messages":…,"connections":…,
    /// "anomalies":{"walk-left-root":1},"allowed":["fid-leak"]}`.
    public var json: String {
        let kinds = counts.sorted { $0.key.rawValue < $1.key.rawValue }.map { ($0.key.rawValue, JSONValue.uint(UInt64($0.value))) }
        return JSONValue.object([
            ("event", .string("check")), ("passed", .bool(failures == 0)),
            ("messages", .uint(UInt64(messages))), ("connections", .uint(UInt64(connections))),
            ("anomalies", .object(kinds)), ("allowed", .array(allowed.map(\.rawValue).sorted().map(JSONValue.string))),
        ]).serialized
    }
}

/// Why a check's options are refused.
public struct CheckError: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
    init(_ text: String) { description = text }
}
