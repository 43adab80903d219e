import NinePServer
import NinePWire

/// POSIX byte-range locks (see `LockTable`).
extension MemoryDriver {
    public func lock(_ file: OpenFile, _ r: LockRequest) async throws(Errno) -> LockStatus {
        let (o, _) = try opened(file)
        return try locks.apply(node: o.node, handle: file.handle, canWrite: o.flags.allowsWrite, r)
    }

    public func getlock(_ file: OpenFile, _ r: LockRequest) async throws(Errno) -> LockRequest {
        let (o, _) = try opened(file)
        return locks.test(node: o.node, r)
    }
}
