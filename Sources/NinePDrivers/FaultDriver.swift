import NinePServer
import NinePWire
import Synchronization

/// Wraps any driver and injects the faults of a `FaultSpec`.
///
/// Faults are keyed by 9P message type, which a driver never sees, so they are applied at the server
/// level: this wrapper installs a `requestHook` that `ServerConnection` awaits before handling each
/// request (Tversion and Tflush excepted). Every driver call is forwarded unchanged. Randomness for
/// `@N%` rules comes from a seeded generator, so tests are reproducible.
public final class FaultDriver<Inner: FileSystemDriver>: FileSystemDriver {
    public typealias Node = Inner.Node
    public typealias OpenFile = Inner.OpenFile

    public let inner: Inner
    public let spec: FaultSpec
    private let random: Mutex<SplitMix64>
    private let fired = Mutex<[MessageType: Int]>([:])

    public init(wrapping inner: Inner, spec: FaultSpec, seed: UInt64 = 0x9F) {
        self.inner = inner
        self.spec = spec
        self.random = Mutex(SplitMix64(seed: seed))
    }

    /// How many faults fired, per request type.
    public var firedCounts: [MessageType: Int] { fired.withLock { $0 } }

    public var requestHook: RequestHook? {
        let innerHook = inner.requestHook
        return { [self] type throws(Errno) in
            let plan = random.withLock { spec.plan(for: type, rolling: &$0) }
            if plan.fired > 0 { fired.withLock { $0[type, default: 0] += plan.fired } }
            if plan.delay > .zero {
                do { try await Task.sleep(for: plan.delay) } catch { throw .EINTR }
            }
            switch plan.then?.action {
            case .error(let e)?:
                throw e
            case .hang?:
                while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
                throw .EINTR
            case .close?:
                return .closeConnection(plan.then!.description)
            case .delay?, nil:
                break   // delays never end the list (FaultSpec.plan)
            }
            if let innerHook { return try await innerHook(type) }
            return .proceed
        }
    }

    // MARK: Forwarding

    public func attach(_ r: AttachRequest) async throws(Errno) -> Node { try await inner.attach(r) }
    public func lookup(_ d: Node, name: P9String) async throws(Errno) -> Node { try await inner.lookup(d, name: name) }
    public func qid(of n: Node) async throws(Errno) -> Qid { try await inner.qid(of: n) }
    public func lookupWithQid(_ d: Node, name: P9String) async throws(Errno) -> (node: Node, qid: Qid) {
        try await inner.lookupWithQid(d, name: name)
    }
    public func getattr(_ n: Node) async throws(Errno) -> NodeAttributes { try await inner.getattr(n) }
    public func getattr(open f: OpenFile) async throws(Errno) -> NodeAttributes { try await inner.getattr(open: f) }
    public func setattr(_ n: Node, _ c: AttributeChanges) async throws(Errno) { try await inner.setattr(n, c) }
    public func statfs(_ n: Node) async throws(Errno) -> FileSystemStats { try await inner.statfs(n) }
    public func open(_ n: Node, flags: LOpenFlags) async throws(Errno) -> OpenFile { try await inner.open(n, flags: flags) }
    public func read(_ f: OpenFile, offset: UInt64, count: UInt32) async throws(Errno) -> [UInt8] { try await inner.read(f, offset: offset, count: count) }
    public func read(_ f: OpenFile, offset: UInt64, count: UInt32, headroom: Int) async throws(Errno) -> [UInt8] {
        try await inner.read(f, offset: offset, count: count, headroom: headroom)
    }
    public func canReadNow(_ f: OpenFile) -> Bool { inner.canReadNow(f) }
    public func readNow(_ f: OpenFile, offset: UInt64, into b: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        try inner.readNow(f, offset: offset, into: b)
    }
    public func write(_ f: OpenFile, offset: UInt64, data: [UInt8]) async throws(Errno) -> UInt32 { try await inner.write(f, offset: offset, data: data) }
    public func canWriteNow(_ f: OpenFile) -> Bool { inner.canWriteNow(f) }
    public func writeNow(_ f: OpenFile, offset: UInt64, from data: UnsafeRawBufferPointer) throws(Errno) -> UInt32 {
        try inner.writeNow(f, offset: offset, from: data)
    }
    public func readdir(_ f: OpenFile, after c: UInt64, limit: Int) async throws(Errno) -> [DirectoryEntry] { try await inner.readdir(f, after: c, limit: limit) }
    public func fsync(_ f: OpenFile, dataOnly: Bool) async throws(Errno) { try await inner.fsync(f, dataOnly: dataOnly) }
    public func close(_ f: OpenFile) async { await inner.close(f) }
    public func create(in d: Node, name: P9String, flags: LOpenFlags, mode: UInt32, gid: UInt32) async throws(Errno) -> (node: Node, file: OpenFile) {
        try await inner.create(in: d, name: name, flags: flags, mode: mode, gid: gid)
    }
    public func mkdir(in d: Node, name: P9String, mode: UInt32, gid: UInt32) async throws(Errno) -> Node { try await inner.mkdir(in: d, name: name, mode: mode, gid: gid) }
    public func symlink(in d: Node, name: P9String, target: P9String, gid: UInt32) async throws(Errno) -> Node { try await inner.symlink(in: d, name: name, target: target, gid: gid) }
    public func readlink(_ n: Node) async throws(Errno) -> P9String { try await inner.readlink(n) }
    public func mknod(in d: Node, name: P9String, mode: UInt32, major: UInt32, minor: UInt32, gid: UInt32) async throws(Errno) -> Node {
        try await inner.mknod(in: d, name: name, mode: mode, major: major, minor: minor, gid: gid)
    }
    public func link(_ n: Node, in d: Node, name: P9String) async throws(Errno) { try await inner.link(n, in: d, name: name) }
    public func rename(from od: Node, _ on: P9String, to nd: Node, _ nn: P9String) async throws(Errno) { try await inner.rename(from: od, on, to: nd, nn) }
    public func unlink(in d: Node, name: P9String, removeDirectory: Bool) async throws(Errno) { try await inner.unlink(in: d, name: name, removeDirectory: removeDirectory) }
    public func getxattr(_ n: Node, name: P9String) async throws(Errno) -> [UInt8] { try await inner.getxattr(n, name: name) }
    public func listxattr(_ n: Node) async throws(Errno) -> [P9String] { try await inner.listxattr(n) }
    public func setxattr(_ n: Node, name: P9String, value: [UInt8], flags: XattrFlags) async throws(Errno) { try await inner.setxattr(n, name: name, value: value, flags: flags) }
    public func removexattr(_ n: Node, name: P9String) async throws(Errno) { try await inner.removexattr(n, name: name) }
    public func lock(_ f: OpenFile, _ r: LockRequest) async throws(Errno) -> LockStatus { try await inner.lock(f, r) }
    public func getlock(_ f: OpenFile, _ r: LockRequest) async throws(Errno) -> LockRequest { try await inner.getlock(f, r) }
}
