import NinePWire

/// Fault injection rules, as given to `ninescope serve --fault SPEC`.
///
/// Grammar: rules separated by commas (several `--fault` options simply add rules):
/// ```
/// rule   = action "=" type [":" arg] ["@" percent "%"]
/// action = "delay" | "error" | "hang" | "close"
/// type   = a request name, case-insensitive ("Tread", "twalk"), or "*" for every request
/// arg    = delay: a duration "200ms", "1.5s", "500us", "100ns" (a bare number is milliseconds)
///          error: an errno name or number ("EACCES", "13")
/// ```
/// Examples: `delay=Tread:200ms`, `error=Tlopen:EACCES@10%`, `hang=Twrite`, `close=Twrite@5%`.
/// A delay postpones the request, an error answers it with that errno instead of running it, a hang
/// keeps it pending until the client flushes it (or disconnects), a close drops the connection when the
/// request arrives, it and every request outstanding unanswered (a server dying at that point).
/// Tversion and Tflush are never faulted.
///
/// The same rules serve `ninescope serve --fault` (applied by the server before it runs a request: see
/// `FaultDriver`) and `ninescope proxy --fault` (applied by the relay between a client and a real server:
/// see the proxy's documentation for what each action does there).
public struct FaultSpec: Hashable, Sendable, CustomStringConvertible {
    public enum Action: Hashable, Sendable {
        case delay(Duration)
        case error(Errno)
        case hang
        case close
    }

    public struct Rule: Hashable, Sendable, CustomStringConvertible {
        /// nil = every request.
        public var type: MessageType?
        public var action: Action
        /// Chance of firing, 0…1.
        public var probability: Double

        public init(type: MessageType?, action: Action, probability: Double = 1) {
            self.type = type; self.action = action; self.probability = probability
        }

        public func matches(_ t: MessageType) -> Bool { type == nil || type == t }

        public var description: String {
            let target = type?.name ?? "*"
            let body: String = switch action {
            case .delay(let d): "delay=\(target):\(FaultSpec.format(d))"
            case .error(let e): "error=\(target):\(e)"
            case .hang: "hang=\(target)"
            case .close: "close=\(target)"
            }
            guard probability < 1 else { return body }
            let percent = probability * 100
            let text = percent == percent.rounded() ? String(Int(percent)) : String(percent)
            return body + "@\(text)%"
        }
    }

    public var rules: [Rule]

    public init(rules: [Rule] = []) { self.rules = rules }

    /// Parses one or more specs (each may hold several comma-separated rules).
    public init(parsing specs: [String]) throws(FaultSpecError) {
        var rules: [Rule] = []
        for spec in specs {
            for part in spec.split(separator: ",", omittingEmptySubsequences: true) {
                let text = part.faultTrimmed(" \t")
                if text.isEmpty { continue }
                rules.append(try Self.parseRule(text))
            }
        }
        self.rules = rules
    }

    public init(parsing spec: String) throws(FaultSpecError) { try self.init(parsing: [spec]) }

    public var description: String { rules.map(\.description).joined(separator: ",") }

    /// What the rules do to one request: the delays of the rules that fired, added up, the error, hang or
    /// close that ended the list, if one did, and how many rules fired.
    public struct Plan: Hashable, Sendable {
        public var delay = Duration.zero
        public var then: Rule?
        public var fired = 0
    }

    /// What the rules do to one request of `type`: each matching rule is rolled in order; delays add up until
    /// a rule fires an error, hang or close, which ends the list. `serve` and the proxy both apply this, so
    /// one `--fault-seed` rolls the same way in either.
    public func plan(for type: MessageType, rolling dice: inout SplitMix64) -> Plan {
        var plan = Plan()
        for rule in rules where rule.matches(type) {
            guard dice.roll(rule.probability) else { continue }
            plan.fired += 1
            guard case .delay(let d) = rule.action else {
                plan.then = rule
                return plan
            }
            plan.delay += d
        }
        return plan
    }

    /// A duration in whole nanoseconds.
    public static func nanoseconds(_ d: Duration) -> Int64 {
        d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000
    }

    static func parseRule(_ text: String) throws(FaultSpecError) -> Rule {
        guard let eq = text.firstIndex(of: "=") else { throw FaultSpecError(text, "expected ACTION=TYPE") }
        let action = text[..<eq].lowercased()
        var rest = Substring(text[text.index(after: eq)...])
        var probability = 1.0
        if let at = rest.lastIndex(of: "@") {
            var p = rest[rest.index(after: at)...]
            rest = rest[..<at]
            let percent = p.hasSuffix("%")
            if percent { p = p.dropLast() }
            guard let v = Double(p), v >= 0, (percent ? v <= 100 : v <= 1) else {
                throw FaultSpecError(text, "probability must be like 10% (0–100%)")
            }
            probability = percent ? v / 100 : v
        }
        let typeText: Substring, arg: Substring?
        if let colon = rest.firstIndex(of: ":") {
            typeText = rest[..<colon]
            arg = rest[rest.index(after: colon)...]
        } else {
            typeText = rest
            arg = nil
        }
        let type: MessageType?
        if typeText == "*" {
            type = nil
        } else {
            guard let t = MessageType(name: String(typeText)), t.isRequest, t != .tversion, t != .tflush,
                  t != .tlerror, t != .terror else {
                throw FaultSpecError(text, "unknown or unfaultable request type \"\(typeText)\"")
            }
            type = t
        }
        switch action {
        case "delay":
            guard let arg, let d = parseDuration(arg) else { throw FaultSpecError(text, "delay needs a duration like 200ms") }
            return Rule(type: type, action: .delay(d), probability: probability)
        case "error":
            guard let arg, let e = Errno(name: String(arg)) else { throw FaultSpecError(text, "error needs an errno like EACCES") }
            return Rule(type: type, action: .error(e), probability: probability)
        case "hang":
            guard arg == nil else { throw FaultSpecError(text, "hang takes no argument") }
            return Rule(type: type, action: .hang, probability: probability)
        case "close":
            guard arg == nil else { throw FaultSpecError(text, "close takes no argument") }
            return Rule(type: type, action: .close, probability: probability)
        default:
            throw FaultSpecError(text, "unknown action \"\(action)\" (delay, error, hang, close)")
        }
    }

    /// "200ms", "1.5s", "500us", "100ns", "250" (milliseconds).
    static func parseDuration(_ s: Substring) -> Duration? {
        let units: [(String, Double)] = [("ns", 1e-9), ("us", 1e-6), ("ms", 1e-3), ("s", 1)]
        for (suffix, scale) in units where s.hasSuffix(suffix) {
            guard let v = Double(s.dropLast(suffix.count)), v >= 0, v.isFinite else { return nil }
            return .nanoseconds(Int64(v * scale * 1e9))
        }
        guard let v = Double(s), v >= 0, v.isFinite else { return nil }
        return .nanoseconds(Int64(v * 1e6))
    }

    static func format(_ d: Duration) -> String {
        let ns = nanoseconds(d)
        if ns % 1_000_000 == 0 { return "\(ns / 1_000_000)ms" }
        if ns % 1000 == 0 { return "\(ns / 1000)us" }
        return "\(ns)ns"
    }
}

/// A `--fault` spec that does not parse: the offending rule and why.
public struct FaultSpecError: Error, Hashable, Sendable, CustomStringConvertible {
    public var rule: String
    public var reason: String
    init(_ rule: String, _ reason: String) { self.rule = rule; self.reason = reason }
    public var description: String { "bad fault rule \"\(rule)\": \(reason)" }
}

private extension StringProtocol {
    func faultTrimmed(_ set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}

/// A small seeded generator (SplitMix64) for reproducible fault rolls.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// True with probability `p` (0…1); rolls only when `p` is strictly between 0 and 1.
    public mutating func roll(_ p: Double) -> Bool {
        if p >= 1 { return true }
        if p <= 0 { return false }
        return Double(next() >> 11) / Double(1 << 53) < p
    }
}
