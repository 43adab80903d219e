import NinePSession
import NinePWire

/// A filter ready to run over a store: it remembers which interned paths match, so each row costs a
/// few comparisons. Free-text terms need the messages' lines, supplied by a closure.
public struct FilterMatcher: Sendable {
    public let expr: FilterExpr
    /// Per interned path id: 0 unknown, 1 no, 2 yes — one table per distinct path pattern.
    private var pathMemo: [[UInt8]]
    private let pathPatternIndex: [String: Int]
    private let loweredTexts: [String: [UInt8]]

    public init(_ expr: FilterExpr) {
        self.expr = expr
        var texts: [String: [UInt8]] = [:]
        var patterns: [String: Int] = [:]
        FilterMatcher.collect(expr, texts: &texts, paths: &patterns)
        self.loweredTexts = texts
        self.pathPatternIndex = patterns
        self.pathMemo = Array(repeating: [], count: patterns.count)
    }

    public var needsText: Bool { expr.needsText }

    /// Forgets which interned paths matched: their ids now name other paths (a follower's path table
    /// started over).
    public mutating func forgetPaths() {
        pathMemo = Array(repeating: [], count: pathMemo.count)
    }

    /// Whether row `index` of `store` matches. `text(index)` must return the row's searchable text
    /// (the request's and reply's canonical lines); it is called only for free-text terms.
    public mutating func matches(_ index: Int, in store: ExchangeStore, text: (Int) -> String) -> Bool {
        matches(store[index], index: index, paths: store.paths, users: store.users,
                anomalies: store.anomalyKinds(of: index)) { text(index) }
    }

    /// Whether `row` matches, its paths interned in `paths` and its user numbered in `users`, `anomalies`
    /// the kinds of anomaly that name it (`AnomalyKind.bit`s); `text()` as above, for that row. `index`: the
    /// exchange's number (`x:` terms match nothing without it).
    public mutating func matches(_ row: ExchangeRow, index: Int? = nil, paths: StringInterner,
                                 users: UserTable = UserTable(), anomalies: UInt32 = 0,
                                 text: () -> String) -> Bool {
        var cachedText: String?
        return evaluate(expr, Subject(row: row, index: index, paths: paths, users: users, anomalies: anomalies)) {
            if let cachedText { return cachedText }
            let t = text()
            cachedText = t
            return t
        }
    }

    /// What a row is judged on.
    private struct Subject {
        var row: ExchangeRow
        var index: Int?
        var paths: StringInterner
        var users: UserTable
        var anomalies: UInt32
    }

    private mutating func evaluate(_ e: FilterExpr, _ s: Subject, text: () -> String) -> Bool {
        switch e {
        case .all: return true
        case .not(let inner): return !evaluate(inner, s, text: text)
        case .and(let a, let b): return evaluate(a, s, text: text) && evaluate(b, s, text: text)
        case .or(let a, let b): return evaluate(a, s, text: text) || evaluate(b, s, text: text)
        case .term(let t): return evaluate(t, s, text: text)
        }
    }

    private mutating func evaluate(_ t: FilterTerm, _ s: Subject, text: () -> String) -> Bool {
        let row = s.row, paths = s.paths
        switch t {
        case .messageType(let type):
            return (row.hasRequest && row.requestCode == type.rawValue) || (row.hasReply && row.replyCode == type.rawValue)
        case .fid(let f):
            return row.hasRequest && (row.fid == f || row.otherFid == f)
        case .tag(let tag):
            return row.tag == tag
        case .conn(let c):
            return row.conn == c
        case .path(let pattern):
            return pathMatches(pattern, row.requestPath, paths) || pathMatches(pattern, row.replyPath, paths)
        case .state(let s):
            switch s {
            case .error: return row.isError
            case .pending: return row.status == .pending
            case .flushed: return row.isFlushed
            case .injected: return row.flags.contains(.injected)
            case .anomaly: return row.flags.contains(.anomaly) || row.status == .unmatchedReply
            case .ok:
                return !row.isFlushed && (row.status == .ok || (row.status == .answeredAfterFlush && !row.isError))
            case .malformed: return row.flags.contains(.malformed)
            case .cut: return row.flags.contains(.truncated)
            case .fault: return row.isFaulted
            }
        case .latency(let op, let ns):
            guard let latency = row.latency else { return false }
            return op.holds(latency, ns)
        case .size(let op, let bytes):
            return (row.hasRequest && op.holds(Int64(row.requestBytes), bytes))
                || (row.hasReply && op.holds(Int64(row.replyBytes), bytes))
        case .errno(let e):
            return row.errno == e
        case .text(let needle):
            guard let lowered = loweredTexts[needle] else { return false }
            return FilterMatcher.contains(text(), loweredNeedle: lowered)
        case .anomalyKind(let kind):
            return s.anomalies & kind.bit != 0
        case .user(let name):
            return s.users[row.user]?.isNamed(name) ?? false
        case .exchanges(let from, let through):
            guard let i = s.index else { return false }
            return i >= from && i <= (through ?? Int.max)
        }
    }

    private mutating func pathMatches(_ pattern: String, _ id: Int32, _ paths: StringInterner) -> Bool {
        guard id >= 0 else { return false }
        let i = Int(id)
        let k = pathPatternIndex[pattern]!
        if i < pathMemo[k].count, pathMemo[k][i] != 0 { return pathMemo[k][i] == 2 }
        let result = paths[id].map { FilterMatcher.path($0, matches: pattern) } ?? false
        if pathMemo[k].count <= i {
            pathMemo[k].append(contentsOf: repeatElement(0, count: max(i + 1, paths.count) - pathMemo[k].count))
        }
        pathMemo[k][i] = result ? 2 : 1
        return result
    }

    /// `/usr` matches `/usr` and `/usr/bin` (also under an aname: `ANAME:/usr/bin`, an absolute one as diod's
    /// `/srv/export:/usr/bin` included, or `?/usr/bin`), and the whole path given (`/srv/export:/usr`); a
    /// pattern without a leading `/` matches any path containing it (case-insensitive). A deleted path
    /// (`/tmp/a (deleted)`, `FidPath.isDeleted`) matches as the path it was.
    public static func path(_ path: String, matches pattern: String) -> Bool {
        guard pattern.hasPrefix("/") else {
            return contains(path, loweredNeedle: Array(pattern.utf8).map(asciiLower))
        }
        if path.hasSuffix(FidPath.deletedSuffix) {
            return Self.path(String(path.dropLast(FidPath.deletedSuffix.count)), matches: pattern)
        }
        var candidates = [Substring(path)]
        if path.hasPrefix("?/") { candidates.append(path.dropFirst()) }
        // What follows the aname's ":": each ":/" is tried (an aname or a name holding ":/" itself is rare).
        var rest = Substring(path)
        while let colon = rest.firstIndex(of: ":") {
            let after = path.index(after: colon)
            if after < path.endIndex, path[after] == "/" { candidates.append(path[after...]) }
            rest = path[after...]
        }
        let trimmed = pattern.count > 1 && pattern.hasSuffix("/") ? String(pattern.dropLast()) : pattern
        for c in candidates {
            if trimmed == "/" || c == trimmed || c.hasPrefix(trimmed + "/") { return true }
        }
        return false
    }

    // MARK: - Text search

    private static func collect(_ e: FilterExpr, texts: inout [String: [UInt8]], paths: inout [String: Int]) {
        switch e {
        case .all: break
        case .term(.text(let s)): texts[s] = Array(s.utf8).map(asciiLower)
        case .term(.path(let p)): if paths[p] == nil { paths[p] = paths.count }
        case .term: break
        case .not(let inner): collect(inner, texts: &texts, paths: &paths)
        case .and(let a, let b), .or(let a, let b):
            collect(a, texts: &texts, paths: &paths)
            collect(b, texts: &texts, paths: &paths)
        }
    }

    static func asciiLower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b + 32 : b }

    /// Substring search over UTF-8 with ASCII case folding (other characters compare exactly).
    static func contains(_ haystack: String, loweredNeedle needle: [UInt8]) -> Bool {
        if needle.isEmpty { return true }
        var h = haystack
        return h.withUTF8 { hay in
            guard hay.count >= needle.count else { return false }
            let first = needle[0]
            var i = 0
            let last = hay.count - needle.count
            while i <= last {
                if asciiLower(hay[i]) == first {
                    var j = 1
                    while j < needle.count, asciiLower(hay[i + j]) == needle[j] { j += 1 }
                    if j == needle.count { return true }
                }
                i += 1
            }
            return false
        }
    }
}
