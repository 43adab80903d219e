import NinePWire

/// A POSIX byte-range lock as carried by Tlock/Tgetlock/Rgetlock. `length` 0 means "to end of file".
/// The owner is (`session`, `clientId`, `procId`).
public struct LockRequest: Hashable, Sendable {
    public var type: LockType
    public var flags: LockFlags
    public var start: UInt64
    public var length: UInt64
    public var procId: UInt32
    public var clientId: P9String
    /// The connection the request came on (the server sets it): two clients that share a host name and a pid
    /// are not one owner. The Linux client's client_id is its host name, which guests booted alike share (an
    /// initramfs guest's is `(none)`), with the same pids; diod holds each connection's locks apart too.
    public var session: UInt64

    public init(type: LockType, flags: LockFlags = [], start: UInt64, length: UInt64, procId: UInt32, clientId: P9String,
                session: UInt64 = 0) {
        self.type = type; self.flags = flags; self.start = start; self.length = length
        self.procId = procId; self.clientId = clientId; self.session = session
    }

    /// The last byte covered (inclusive), `UInt64.max` for "to end of file".
    public var end: UInt64 {
        if length == 0 { return .max }
        let (e, overflow) = start.addingReportingOverflow(length - 1)
        return overflow ? .max : e
    }
    public func overlaps(_ other: LockRequest) -> Bool { start <= other.end && other.start <= end }
    /// Who asks: the locks of one owner never conflict with each other, and its new lock replaces its own.
    public struct Owner: Hashable, Sendable {
        public var procId: UInt32
        public var clientId: P9String
        public var session: UInt64
    }
    public var owner: Owner { Owner(procId: procId, clientId: clientId, session: session) }
    public func sameOwner(_ other: LockRequest) -> Bool { owner == other.owner }
}

/// Txattrcreate flags (Linux XATTR_CREATE / XATTR_REPLACE).
public struct XattrFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// Fail with EEXIST if the attribute exists.
    public static let create = XattrFlags(rawValue: 1)
    /// Fail with ENODATA if the attribute does not exist.
    public static let replace = XattrFlags(rawValue: 2)
}

/// Who attaches: Tattach's `uname`, `aname` and (9P2000.u/.L) `n_uname`.
public struct AttachRequest: Hashable, Sendable {
    public var uname: P9String
    public var aname: P9String
    /// Numeric user id; nil when absent (9P2000) or NONUNAME.
    public var nUname: UInt32?
    public init(uname: P9String, aname: P9String, nUname: UInt32? = nil) {
        self.uname = uname; self.aname = aname; self.nUname = nUname
    }
}
