import NinePServer
import NinePWire

/// One granted byte-range lock: owner (session, clientId, procId), the open file it was taken through, an
/// inclusive range.
struct HeldLock: Sendable {
    var node: UInt64
    var handle: UInt64
    var type: LockType
    var start: UInt64
    var end: UInt64
    var owner: LockRequest.Owner

    func sameOwner(_ r: LockRequest) -> Bool { owner == r.owner }
    func overlaps(_ r: LockRequest) -> Bool { start <= r.end && r.start <= end }
    var request: LockRequest {
        LockRequest(type: type, start: start, length: end == .max ? 0 : end - start + 1, procId: owner.procId,
                    clientId: owner.clientId, session: owner.session)
    }
}

/// POSIX (fcntl-style) byte-range locks kept by a driver: shared read locks, exclusive write locks, per
/// owner (session, clientId, procId); setting a lock replaces the owner's locks on the range, unlocking splits
/// them. Locks go when the open file they were taken through is closed. Never blocks: a conflict is
/// answered `.blocked` (the Linux client retries).
struct LockTable: Sendable {
    private(set) var locks: [HeldLock] = []

    mutating func apply(node: UInt64, handle: UInt64, canWrite: Bool, _ r: LockRequest) throws(Errno) -> LockStatus {
        if r.type != .unlck {
            if r.type == .wrlck && !canWrite { throw .EBADF }
            if conflict(node: node, r) != nil { return .blocked }
        }
        var kept: [HeldLock] = []
        for l in locks {
            guard l.node == node, l.sameOwner(r), l.overlaps(r) else { kept.append(l); continue }
            if l.start < r.start { var a = l; a.end = r.start - 1; kept.append(a) }
            if l.end > r.end { var b = l; b.start = r.end + 1; kept.append(b) }
        }
        if r.type != .unlck {
            kept.append(HeldLock(node: node, handle: handle, type: r.type, start: r.start, end: r.end, owner: r.owner))
        }
        locks = kept
        return .success
    }

    /// Tgetlock: the first conflicting lock, or `r` with type UNLCK.
    func test(node: UInt64, _ r: LockRequest) -> LockRequest {
        if let c = conflict(node: node, r) { return c.request }
        var none = r
        none.type = .unlck
        return none
    }

    mutating func release(handle: UInt64) { locks.removeAll { $0.handle == handle } }

    /// The first lock of another owner that overlaps `r` where either side writes.
    func conflict(node: UInt64, _ r: LockRequest) -> HeldLock? {
        locks.first { $0.node == node && !$0.sameOwner(r) && $0.overlaps(r) && ($0.type == .wrlck || r.type == .wrlck) }
    }
}

extension LOpenFlags {
    var allowsWrite: Bool { accessMode == LOpenFlags.wronly.rawValue || accessMode == LOpenFlags.rdwr.rawValue }
}
