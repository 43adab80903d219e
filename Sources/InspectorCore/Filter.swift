import NinePSession
import NinePWire

/// A parsed filter expression (see `FilterParser` for the language).
///
/// `Twalk and fid:3`, `error or latency>10ms`, `not (pending or flushed) and path:/usr`.
public indirect enum FilterExpr: Hashable, Sendable, CustomStringConvertible {
    /// Matches everything (the empty filter).
    case all
    case term(FilterTerm)
    case not(FilterExpr)
    case and(FilterExpr, FilterExpr)
    case or(FilterExpr, FilterExpr)

    /// A canonical spelling that parses back to the same expression: `and` binds tighter than
    /// `or`, so parentheses appear only where needed.
    public var description: String { render(parentPrecedence: 0) }

    private var precedence: Int {
        switch self {
        case .or: 1
        case .and: 2
        case .not: 3
        case .all, .term: 4
        }
    }

    private func render(parentPrecedence: Int) -> String {
        let text: String
        switch self {
        case .all: text = ""
        case .term(let t): text = t.description
        case .not(let e): text = "not " + e.render(parentPrecedence: precedence)
        case .and(let a, let b):
            text = a.render(parentPrecedence: precedence) + " and " + b.render(parentPrecedence: precedence + 1)
        case .or(let a, let b):
            text = a.render(parentPrecedence: precedence) + " or " + b.render(parentPrecedence: precedence + 1)
        }
        return precedence < parentPrecedence ? "(" + text + ")" : text
    }

    /// Whether evaluating needs the decoded text of the messages (free-text terms).
    public var needsText: Bool {
        switch self {
        case .all: false
        case .term(let t): t.needsText
        case .not(let e): e.needsText
        case .and(let a, let b), .or(let a, let b): a.needsText || b.needsText
        }
    }

    /// Whether the result for an exchange can change after its reply arrives (state, latency, reply
    /// type, errno, text terms). Used to know which rows to re-check when an exchange completes.
    public var dependsOnCompletion: Bool {
        switch self {
        case .all: false
        case .term(let t): t.dependsOnCompletion
        case .not(let e): e.dependsOnCompletion
        case .and(let a, let b), .or(let a, let b): a.dependsOnCompletion || b.dependsOnCompletion
        }
    }
}

/// How a numeric field is compared.
public enum Comparison: String, Hashable, Sendable, CaseIterable {
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="
    case equal = "="

    public func holds<T: Comparable>(_ lhs: T, _ rhs: T) -> Bool {
        switch self {
        case .less: lhs < rhs
        case .lessOrEqual: lhs <= rhs
        case .greater: lhs > rhs
        case .greaterOrEqual: lhs >= rhs
        case .equal: lhs == rhs
        }
    }
}

/// The state keywords of the filter language.
public enum StateKeyword: String, Hashable, Sendable, CaseIterable {
    /// Answered with Rerror/Rlerror, or never answered (connection closed, Tversion reset).
    case error
    /// No reply yet.
    case pending
    /// Cancelled by a Tflush answered before the reply.
    case flushed
    /// Sent by ninescope itself (REPL or UI injection).
    case injected
    /// Concerned by at least one tracker anomaly.
    case anomaly
    /// Answered with the matching reply.
    case ok
    /// The request or the reply did not decode.
    case malformed
    /// The request or the reply is one the capture holds only the first bytes of (a snap length cut it, or
    /// `proxy --capture-data`).
    case cut
    /// A `proxy --fault` rule acted on it: kept from the server, its reply held back, or answered by the
    /// proxy with an error.
    case fault
}

/// One test in a filter.
public enum FilterTerm: Hashable, Sendable, CustomStringConvertible {
    /// The request or the reply has this type (`Twalk`, `Rlerror`).
    case messageType(MessageType)
    /// The request names this fid (any fid field: fid, newfid, afid, dfid …).
    case fid(UInt32)
    case tag(UInt16)
    case conn(UInt32)
    /// The path of the fid concerned is `path` or lies below it (`path:/usr` matches `/usr/bin`);
    /// a pattern without a leading `/` matches any path containing it.
    case path(String)
    case state(StateKeyword)
    /// Reply time − request time compared with a duration in nanoseconds; pending exchanges never match.
    case latency(Comparison, Int64)
    /// The request's or the reply's frame size (size[4] counted, as on the wire) compared with a number of
    /// bytes.
    case size(Comparison, Int64)
    /// The reply carries this errno (Rlerror ecode, 9P2000.u errno, or a 9P2000 ename naming it).
    case errno(UInt32)
    /// Case-insensitive substring of the request's or the reply's canonical line.
    case text(String)
    /// Named by an anomaly of this kind (`anomaly:walk-left-root`).
    case anomalyKind(AnomalyKind)
    /// The request's fid is this user's (the attach it descends from): its uname, its n_uname in decimal,
    /// or both as the fids view shows them (`user:nobody`, `user:65534`, `user:glenda(1000)`).
    case user(String)
    /// The exchange's number (`x114`) lies in `from...through` (`through` nil: from `from` on): `x:114-130`,
    /// `x:114-`, `x:114`. A fid's lifetime in the fids view is one such range.
    case exchanges(from: Int, through: Int?)

    public var description: String {
        switch self {
        case .messageType(let t): t.name
        case .fid(let f): "fid:\(f)"
        case .tag(let t): "tag:\(t)"
        case .conn(let c): "conn:\(c)"
        case .path(let p): "path:" + FilterTerm.quotedIfNeeded(p)
        case .state(let s): s.rawValue
        case .latency(let op, let ns): "latency" + op.rawValue + DurationFormat.filterLiteral(ns)
        case .size(let op, let bytes): "size" + op.rawValue + String(bytes)
        case .errno(let e): "errno:" + (Errno(e).name ?? String(e))
        case .text(let s): FilterTerm.bareWordParsesAsText(s) ? s : FilterTerm.quoted(s)
        case .anomalyKind(let k): "anomaly:" + k.rawValue
        case .user(let u): "user:" + FilterTerm.quotedIfNeeded(u)
        case .exchanges(let from, let through):
            through == from ? "x:\(from)" : "x:\(from)-" + (through.map(String.init) ?? "")
        }
    }

    var needsText: Bool {
        if case .text = self { return true }
        return false
    }

    var dependsOnCompletion: Bool {
        switch self {
        case .fid, .tag, .conn, .user, .exchanges: false
        case .messageType(let t): !t.isRequest
        case .path, .state, .latency, .size, .errno, .text, .anomalyKind: true
        }
    }

    /// Whether `s` typed bare would read back as the same free-text term (not a keyword, key or operator).
    static func bareWordParsesAsText(_ s: String) -> Bool {
        guard !s.isEmpty, !s.contains(where: { $0 == "\"" || $0.isWhitespace }) else { return false }
        return (try? FilterParser.parse(s)) == .term(.text(s))
    }

    static func quoted(_ s: String) -> String {
        var out = "\""
        for c in s {
            if c == "\"" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out + "\""
    }

    static func quotedIfNeeded(_ s: String) -> String {
        let special: Set<Character> = [" ", "\t", "(", ")", "\"", "\\"]
        return s.isEmpty || s.contains(where: { special.contains($0) }) ? quoted(s) : s
    }
}

extension FilterExpr {
    /// Whether any term of the expression is `term` (`anomaly:fid-leak` in `proxy --filter`, which a
    /// headless trace cannot match: a leak is known when its connection closes, after the exchanges it
    /// names were printed).
    public func mentions(_ term: FilterTerm) -> Bool {
        switch self {
        case .all: false
        case .term(let t): t == term
        case .not(let e): e.mentions(term)
        case .and(let a, let b), .or(let a, let b): a.mentions(term) || b.mentions(term)
        }
    }
}
