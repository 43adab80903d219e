import NinePServer
import NinePWire

/// One granted byte-range lock: owner (clientId, procId), the open file it was taken through, an
/// inclusive range.
struct HeldLock: Sendable {
    var node: UInt64
    var handle: UInt64
    var type: LockType
    var start: UInt64
    var end: UInt64
    var procId: UInt32
    var clientId: P9String

    func sameOwner(_ r: LockRequest) -> Bool { procId == r.procId && clientId == r.clientId }
    func overlaps(_ r: LockRequest) -> Bool { start <= r.end && r.start <= end }
    var request: LockRequest {
        LockRequest(type: type, start: start, length: end == .max ? 0 : end - start + 1, procId: procId, clientId: clientId)
    }
}

/// POSIX (fcntl-style) byte-range locks: shared read locks, exclusive write locks, per owner; setting a
/// lock replaces the owner's locks on the range, unlocking splits them. Locks go when the open file they
/// were taken through is closed.
extension MemoryDriver {
    public func lock(_ file: OpenFile, _ r: LockRequest) async throws(Errno) -> LockStatus {
        let (o, _) = try opened(file)
        if r.type != .unlck {
            if r.type == .wrlck && !(o.flags.accessMode == LOpenFlags.wronly.rawValue || o.flags.accessMode == LOpenFlags.rdwr.rawValue) { throw .EBADF }
            if conflict(node: o.node, r) != nil { return .blocked }
        }
        // Remove the owner's overlapping ranges, keeping the parts outside the request.
        var kept: [HeldLock] = []
        for l in locks {
            guard l.node == o.node, l.sameOwner(r), l.overlaps(r) else { kept.append(l); continue }
            if l.start < r.start { var a = l; a.end = r.start - 1; kept.append(a) }
            if l.end > r.end { var b = l; b.start = r.end + 1; kept.append(b) }
        }
        if r.type != .unlck {
            kept.append(HeldLock(node: o.node, handle: file.handle, type: r.type, start: r.start, end: r.end,
                                 procId: r.procId, clientId: r.clientId))
        }
        locks = kept
        return .success
    }

    public func getlock(_ file: OpenFile, _ r: LockRequest) async throws(Errno) -> LockRequest {
        let (o, _) = try opened(file)
        if let c = conflict(node: o.node, r) { return c.request }
        var none = r
        none.type = .unlck
        return none
    }

    /// The first lock of another owner that overlaps `r` where either side writes.
    func conflict(node: UInt64, _ r: LockRequest) -> HeldLock? {
        locks.first { $0.node == node && !$0.sameOwner(r) && $0.overlaps(r) && ($0.type == .wrlck || r.type == .wrlck) }
    }
}
