/// Every message code of 9P2000, 9P2000.u and 9P2000.L (MESSAGES.md "The table").
public enum MessageType: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    // 9P2000.L
    case tlerror = 6, rlerror = 7
    case tstatfs = 8, rstatfs = 9
    case tlopen = 12, rlopen = 13
    case tlcreate = 14, rlcreate = 15
    case tsymlink = 16, rsymlink = 17
    case tmknod = 18, rmknod = 19
    case trename = 20, rrename = 21
    case treadlink = 22, rreadlink = 23
    case tgetattr = 24, rgetattr = 25
    case tsetattr = 26, rsetattr = 27
    case txattrwalk = 30, rxattrwalk = 31
    case txattrcreate = 32, rxattrcreate = 33
    case treaddir = 40, rreaddir = 41
    case tfsync = 50, rfsync = 51
    case tlock = 52, rlock = 53
    case tgetlock = 54, rgetlock = 55
    case tlink = 70, rlink = 71
    case tmkdir = 72, rmkdir = 73
    case trenameat = 74, rrenameat = 75
    case tunlinkat = 76, runlinkat = 77
    // 9P2000 / .u
    case tversion = 100, rversion = 101
    case tauth = 102, rauth = 103
    case tattach = 104, rattach = 105
    case terror = 106, rerror = 107
    case tflush = 108, rflush = 109
    case twalk = 110, rwalk = 111
    case topen = 112, ropen = 113
    case tcreate = 114, rcreate = 115
    case tread = 116, rread = 117
    case twrite = 118, rwrite = 119
    case tclunk = 120, rclunk = 121
    case tremove = 122, rremove = 123
    case tstat = 124, rstat = 125
    case twstat = 126, rwstat = 127

    /// T-messages have even codes.
    public var isRequest: Bool { rawValue & 1 == 0 }
    /// The R-type answering this T-type (code + 1), or nil for replies.
    public var replyType: MessageType? { isRequest ? MessageType(rawValue: rawValue + 1) : nil }
    /// The T-type this R-type answers (code − 1), or nil for requests.
    public var requestType: MessageType? { isRequest ? nil : MessageType(rawValue: rawValue - 1) }
    /// Whether this is one of the error replies (Rerror, Rlerror).
    public var isError: Bool { self == .rerror || self == .rlerror }

    /// The manual name, e.g. "Twalk", "Rlerror".
    public var name: String { MessageType.names[self] ?? "T\(rawValue)" }
    public var description: String { name }

    /// Dialects in which this message is defined.
    public var dialects: Set<Dialect> { Set(Dialect.allCases.filter(isDefined(in:))) }

    /// Whether `dialect` defines this type (the table behind `dialects`; no set built: for per-message
    /// paths). .L codes (6…77) are .L's alone; Topen/Tcreate/Tstat/Twstat and Rerror's code (107) are the
    /// classic dialects' alone.
    public func isDefined(in dialect: Dialect) -> Bool {
        switch rawValue {
        case 6...77: return dialect == .l
        case 107, 112...115, 124...127: return dialect != .l
        default: return true
        }
    }

    /// Whether only some dialects define this type.
    public var isDialectSpecific: Bool { isDefined(in: .l) != isDefined(in: .p9) }

    /// Looks a type up by its manual name, case-insensitively ("twalk", "Rlerror").
    public init?(name: String) {
        let lower = name.lowercased()
        guard let t = MessageType.byLowerName[lower] else { return nil }
        self = t
    }

    // Spelled out: `String(describing:)` would call `description`, which reads this table (a re-entrant
    // lazy initialisation that deadlocks).
    static let names: [MessageType: String] = [
        .tlerror: "Tlerror", .rlerror: "Rlerror", .tstatfs: "Tstatfs", .rstatfs: "Rstatfs",
        .tlopen: "Tlopen", .rlopen: "Rlopen", .tlcreate: "Tlcreate", .rlcreate: "Rlcreate",
        .tsymlink: "Tsymlink", .rsymlink: "Rsymlink", .tmknod: "Tmknod", .rmknod: "Rmknod",
        .trename: "Trename", .rrename: "Rrename", .treadlink: "Treadlink", .rreadlink: "Rreadlink",
        .tgetattr: "Tgetattr", .rgetattr: "Rgetattr", .tsetattr: "Tsetattr", .rsetattr: "Rsetattr",
        .txattrwalk: "Txattrwalk", .rxattrwalk: "Rxattrwalk", .txattrcreate: "Txattrcreate", .rxattrcreate: "Rxattrcreate",
        .treaddir: "Treaddir", .rreaddir: "Rreaddir", .tfsync: "Tfsync", .rfsync: "Rfsync",
        .tlock: "Tlock", .rlock: "Rlock", .tgetlock: "Tgetlock", .rgetlock: "Rgetlock",
        .tlink: "Tlink", .rlink: "Rlink", .tmkdir: "Tmkdir", .rmkdir: "Rmkdir",
        .trenameat: "Trenameat", .rrenameat: "Rrenameat", .tunlinkat: "Tunlinkat", .runlinkat: "Runlinkat",
        .tversion: "Tversion", .rversion: "Rversion", .tauth: "Tauth", .rauth: "Rauth",
        .tattach: "Tattach", .rattach: "Rattach", .terror: "Terror", .rerror: "Rerror",
        .tflush: "Tflush", .rflush: "Rflush", .twalk: "Twalk", .rwalk: "Rwalk",
        .topen: "Topen", .ropen: "Ropen", .tcreate: "Tcreate", .rcreate: "Rcreate",
        .tread: "Tread", .rread: "Rread", .twrite: "Twrite", .rwrite: "Rwrite",
        .tclunk: "Tclunk", .rclunk: "Rclunk", .tremove: "Tremove", .rremove: "Rremove",
        .tstat: "Tstat", .rstat: "Rstat", .twstat: "Twstat", .rwstat: "Rwstat",
    ]
    static let byLowerName: [String: MessageType] = {
        var d: [String: MessageType] = [:]
        for (t, n) in names { d[n.lowercased()] = t }
        return d
    }()
}
