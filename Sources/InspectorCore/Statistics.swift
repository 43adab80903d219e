import Histogram
import NinePWire

/// Counters and a latency histogram for one group of exchanges (a message type or a connection).
public struct StatBucket: Sendable {
    public private(set) var count = 0
    public private(set) var errors = 0
    /// Request plus reply bytes.
    public private(set) var bytes = 0
    public private(set) var pending = 0
    public private(set) var flushed = 0
    /// Latencies in nanoseconds (three significant digits, or as `init(digits:)` says).
    public private(set) var latency: Histogram<UInt32>

    /// `digits`: the latencies' precision. A connection's bucket keeps two (its percentiles within 1%): a
    /// histogram of three takes 4 KB for each doubling of the largest latency past 2 µs, of two 512 bytes,
    /// and a view through many short connections keeps a bucket for each of the latest 256.
    public init(digits: SignificantDigits = .three) {
        latency = Histogram<UInt32>(numberOfSignificantValueDigits: digits)
    }

    /// A connection's bucket (see `init(digits:)`).
    static func forConnection() -> StatBucket { StatBucket(digits: .two) }

    /// Latency at a percentile (0…100) in ns; nil when no latency was recorded.
    public func latency(percentile: Double) -> Int64? {
        latency.totalCount == 0 ? nil : Int64(clamping: latency.valueAtPercentile(percentile))
    }
    public var p50: Int64? { latency(percentile: 50) }
    public var p90: Int64? { latency(percentile: 90) }
    public var p99: Int64? { latency(percentile: 99) }
    /// The largest latency recorded (exact).
    public var max: Int64? { latency.totalCount == 0 ? nil : Int64(clamping: latency.maxRecorded) }
    public var latencyCount: Int { Int(latency.totalCount) }

    /// Accounts for a row going from `old` (nil: new row) to `new`.
    mutating func apply(old: ExchangeRow?, new: ExchangeRow) {
        if old == nil { count += 1 }
        bytes += Int(new.requestBytes) - Int(old?.requestBytes ?? 0)
        bytes += Int(new.replyBytes) - Int(old?.replyBytes ?? 0)
        errors += (new.isError ? 1 : 0) - ((old?.isError ?? false) ? 1 : 0)
        pending += (new.status == .pending ? 1 : 0) - (old?.status == .pending ? 1 : 0)
        flushed += (new.isFlushed ? 1 : 0) - ((old?.isFlushed ?? false) ? 1 : 0)
        if old?.latency == nil, let l = new.latency {
            latency.record(UInt64(clamping: Swift.max(0, l)))
        }
    }
}

/// Statistics over every exchange of a store: per request type, per connection and per user, updated from
/// row changes (so they never rescan the store).
///
/// Each bucket's latency histogram takes 10–100 KB (4 KB for each doubling of the largest latency past
/// 2 µs; a connection's, of two significant digits, an eighth of that), so a trace or a view that runs for
/// days through many short connections (a client that connects per operation) limits the connections
/// that get a bucket of their own (`connectionLimit`); the others count together in `otherConnections`:
/// the connections after the first `connectionLimit` (`.later`, headless `--stats`, whose rows never
/// change once printed in order), or the oldest as newer ones come (`.older`, the inspector, which shows
/// the latest connections of a session that runs on).
public struct Statistics: Sendable {
    /// Which connections count together once there are more than `connectionLimit`.
    public enum Overflow: Sendable { case later, older }
    /// Indexed by the request's type code (an unmatched reply counts under its reply's code).
    private var byCode: [StatBucket?] = Array(repeating: nil, count: 256)
    public private(set) var byConnection: [UInt32: StatBucket] = [:]
    /// Per user (`ExchangeRow.user`, as the store's `UserTable` numbers them): the exchanges whose request's
    /// fid descends from that user's attach. At most 255 buckets.
    public private(set) var byUser: [UInt8: StatBucket] = [:]
    public private(set) var total = StatBucket()
    /// Per connection, the exchanges the filter keyword `error` matches (`ExchangeRow.isError`) — for every
    /// connection, also those folded into `otherConnections` — so that the connections view counts what the
    /// statistics and the filter count. A connection the history forgets goes (`forgetConnections`).
    public private(set) var errorsByConnection: [UInt32: Int] = [:]
    /// At most this many connections get a bucket of their own (nil: every one).
    public let connectionLimit: Int?
    /// The exchanges of the connections past `connectionLimit`, together (nil until there is one).
    public private(set) var otherConnections: StatBucket?
    public let overflow: Overflow
    /// How many connections count in `otherConnections`.
    public private(set) var otherConnectionCount = 0
    /// The connections counting in `otherConnections` that may still have exchanges to add (all of them
    /// but those `forgetConnections` let go).
    private var otherConnectionIDs: Set<UInt32> = []

    public init(connectionLimit: Int? = nil, overflow: Overflow = .later) {
        self.connectionLimit = connectionLimit
        self.overflow = overflow
    }

    /// The type codes that have exchanges, ascending.
    public var codes: [UInt8] {
        (0..<256).compactMap { byCode[$0] != nil ? UInt8($0) : nil }
    }

    public func bucket(code: UInt8) -> StatBucket? { byCode[Int(code)] }
    public func bucket(type: MessageType) -> StatBucket? { byCode[Int(type.rawValue)] }

    /// Rows sorted by exchange count (descending), then code.
    public var typesByCount: [(code: UInt8, bucket: StatBucket)] {
        codes.map { ($0, byCode[Int($0)]!) }.sorted {
            $0.bucket.count != $1.bucket.count ? $0.bucket.count > $1.bucket.count : $0.code < $1.code
        }
    }

    /// Accounts for a store change.
    public mutating func apply(_ change: ExchangeStore.Change, store: ExchangeStore) {
        for i in change.appended { apply(old: nil, new: store[i]) }
        for (i, old) in change.updated where !change.appended.contains(i) { apply(old: old, new: store[i]) }
    }

    public mutating func apply(old: ExchangeRow?, new: ExchangeRow) {
        let code = Int(Statistics.code(of: new))
        if byCode[code] == nil { byCode[code] = StatBucket() }
        if let old, Int(Statistics.code(of: old)) != code {
            // A placeholder row got its request: move it to its real type.
            byCode[Int(Statistics.code(of: old))]?.remove(old)
            byCode[code]!.apply(old: nil, new: new)
        } else {
            // Mutated in place: a copy would duplicate the histogram's counts on every exchange.
            byCode[code]!.apply(old: old, new: new)
        }
        if let limit = connectionLimit, byConnection[new.conn] == nil,
           byConnection.count >= limit || otherConnectionIDs.contains(new.conn) {
            if overflow == .older, !otherConnectionIDs.contains(new.conn), let oldest = byConnection.keys.min() {
                // The oldest connection's row joins the others; this one gets a row of its own.
                let folded = byConnection.removeValue(forKey: oldest)!
                if otherConnections == nil { otherConnections = folded } else { otherConnections!.add(folded) }
                if otherConnectionIDs.insert(oldest).inserted { otherConnectionCount += 1 }
                byConnection[new.conn, default: .forConnection()].apply(old: old, new: new)
            } else {
                if otherConnections == nil { otherConnections = .forConnection() }
                otherConnections!.apply(old: old, new: new)
                if otherConnectionIDs.insert(new.conn).inserted { otherConnectionCount += 1 }
            }
        } else {
            byConnection[new.conn, default: .forConnection()].apply(old: old, new: new)
        }
        if let old, old.user != new.user {
            // The row learned whose it is (its request came after it was made).
            if old.user != UserTable.none { byUser[old.user]?.remove(old) }
            if new.user != UserTable.none { byUser[new.user, default: .forConnection()].apply(old: nil, new: new) }
        } else if new.user != UserTable.none {
            byUser[new.user, default: .forConnection()].apply(old: old, new: new)
        }
        total.apply(old: old, new: new)
        let errorChange = (new.isError ? 1 : 0) - ((old?.isError ?? false) ? 1 : 0)
        if errorChange != 0 { errorsByConnection[new.conn, default: 0] += errorChange }
    }

    /// Lets go of what is kept per connection for connections no longer held (`held` are those still held,
    /// and only a closed connection with nothing pending is let go, so none of its exchanges comes again):
    /// their error counts, which the connections view shows only for those held, and which of them count
    /// in `otherConnections` (the count stays). A client that connects once per operation would otherwise
    /// grow both by one entry per connection, however long the session runs.
    public mutating func forgetConnections(keeping held: Set<UInt32>) {
        errorsByConnection = errorsByConnection.filter { held.contains($0.key) }
        otherConnectionIDs = otherConnectionIDs.filter { held.contains($0) }
    }

    /// The label of the `otherConnections` row: `136 more` (`.later`), `136 older` (`.older`).
    public var otherConnectionsLabel: String {
        "\(otherConnectionCount) " + (overflow == .later ? "more" : "older")
    }

    static func code(of row: ExchangeRow) -> UInt8 { row.hasRequest ? row.requestCode : row.replyCode }
}

extension StatBucket {
    /// Adds another bucket's counts and latencies to this one.
    fileprivate mutating func add(_ other: StatBucket) {
        count += other.count
        errors += other.errors
        bytes += other.bytes
        pending += other.pending
        flushed += other.flushed
        latency.add(other.latency)
    }

    /// Undoes the counters of a row (its latency, already in the histogram, stays).
    fileprivate mutating func remove(_ row: ExchangeRow) {
        count -= 1
        bytes -= Int(row.requestBytes) + Int(row.replyBytes)
        if row.isError { errors -= 1 }
        if row.status == .pending { pending -= 1 }
        if row.isFlushed { flushed -= 1 }
    }
}
