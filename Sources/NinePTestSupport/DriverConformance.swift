import NinePServer
import NinePWire

/// What a driver under test can do; checks needing more are not run against it.
public struct DriverCapabilities: OptionSet, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// Files and directories can be created, written, renamed and removed.
    public static let writable = DriverCapabilities(rawValue: 1 << 0)
    public static let symlinks = DriverCapabilities(rawValue: 1 << 1)
    public static let hardLinks = DriverCapabilities(rawValue: 1 << 2)
    public static let xattrs = DriverCapabilities(rawValue: 1 << 3)
    public static let locks = DriverCapabilities(rawValue: 1 << 4)
    /// The tree contains QEMU's synth names (WALK0…WALK15, LOPEN, WRITE, FLUSH, ReadDirDir).
    public static let synthTree = DriverCapabilities(rawValue: 1 << 5)
    /// A full POSIX-like filesystem.
    public static let posix: DriverCapabilities = [.writable, .symlinks, .hardLinks, .xattrs, .locks]
}

/// One check of the driver conformance suite: 9P requests through a real `ServerConnection` against
/// the driver under test, so it exercises the server and the driver together.
public struct ConformanceCheck: Sendable, CustomStringConvertible {
    public let name: String
    public let requires: DriverCapabilities
    let body: @Sendable (ConformanceContext) async throws -> Void
    public var description: String { name }
    init(_ name: String, requires: DriverCapabilities = [], _ body: @escaping @Sendable (ConformanceContext) async throws -> Void) {
        self.name = name; self.requires = requires; self.body = body
    }
}

/// What a check works with: a client that has negotiated 9P2000.L and attached `root`.
public struct ConformanceContext: Sendable {
    public let client: NinePTestClient
    public let root: Fid
    public let rootQid: Qid
    public let capabilities: DriverCapabilities
}

/// A failed expectation in the conformance suite (or the test client).
public struct ConformanceFailure: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String, file: String = #fileID, line: Int = #line) { self.message = "\(message) [\(file):\(line)]" }
    public var description: String { message }
}

func require(_ condition: Bool, _ message: @autoclosure () -> String, file: String = #fileID, line: Int = #line) throws {
    if !condition { throw ConformanceFailure(message(), file: file, line: line) }
}

func requireEqual<T: Equatable>(_ a: T, _ b: T, _ what: String, file: String = #fileID, line: Int = #line) throws {
    if a != b { throw ConformanceFailure("\(what): \(a) ≠ \(b)", file: file, line: line) }
}

/// The driver conformance suite: one list of checks, run against every driver.
///
/// ```swift
/// @Test(arguments: DriverConformance.checks(for: .posix))
/// func memory(_ check: ConformanceCheck) async throws {
///     try await DriverConformance.run(check, driver: MemoryDriver(), capabilities: .posix)
/// }
/// ```
public enum DriverConformance {
    public static let all: [ConformanceCheck] = walkChecks + fileChecks + readdirChecks + namespaceChecks + flushChecks + extraChecks

    /// The checks a driver with `capabilities` can run.
    public static func checks(for capabilities: DriverCapabilities) -> [ConformanceCheck] {
        all.filter { capabilities.isSuperset(of: $0.requires) }
    }

    /// Runs one check against `driver` on a fresh connection (9P2000.L, msize 8192, root attached as fid 0).
    public static func run<D: FileSystemDriver>(_ check: ConformanceCheck, driver: D, capabilities: DriverCapabilities,
                                                config: ServerConfig = ServerConfig()) async throws {
        try await run(check, capabilities: capabilities) {
            await NinePTestClient.connect(driver: driver, config: config)
        }
    }

    /// Runs one check on a client from `connect` (any transport: in process, TCP, unix socket), which must
    /// reach a fresh server connection for the driver under test.
    public static func run(_ check: ConformanceCheck, capabilities: DriverCapabilities,
                           connect: () async throws -> NinePTestClient) async throws {
        let client = try await connect()
        do {
            let v = try await client.version(msize: 8192)
            try requireEqual(v.version.string, "9P2000.L", "negotiated version")
            let rootQid = try await client.attach(0)
            try await check.body(ConformanceContext(client: client, root: 0, rootQid: rootQid, capabilities: capabilities))
        } catch {
            await client.close()
            throw error
        }
        await client.close()
        let late = await client.undecodable
        try require(late.isEmpty, "\(late.count) reply frames did not decode")
    }
}

extension ConformanceContext {
    /// Makes sure WALK0/…/WALK15 exists (built-in for synth trees, created otherwise).
    func ensureWalkTree() async throws {
        if capabilities.contains(.synthTree) { return }
        var dir = try await client.walkTo(root, "")
        for i in 0..<NineP.maxWalkElements {
            _ = try await client.mkdir(dir, "\(SyntheticDriverNames.walk)\(i)")
            let next = try await client.walkTo(dir, "\(SyntheticDriverNames.walk)\(i)")
            try await client.clunk(dir)
            dir = next
        }
        try await client.clunk(dir)
    }

    /// Makes sure ReadDirDir holds ReadDirFile0…ReadDirFile99.
    func ensureReadDirDir() async throws {
        if capabilities.contains(.synthTree) { return }
        _ = try await client.mkdir(root, SyntheticDriverNames.readDirDir)
        let d = try await client.walkTo(root, SyntheticDriverNames.readDirDir)
        for i in 0..<SyntheticDriverNames.readDirFileCount {
            try await client.createFile(d, "\(SyntheticDriverNames.readDirFile)\(i)")
        }
        try await client.clunk(d)
    }

    /// Makes sure a file `name` exists at the root (synth trees have LOPEN and WRITE).
    func ensureFile(_ name: String) async throws {
        if capabilities.contains(.synthTree) { return }
        try await client.createFile(root, name)
    }
}

/// QEMU synth names (hw/9pfs/9p-synth.h), as served by `SyntheticDriver`.
public enum SyntheticDriverNames {
    public static let walk = "WALK", lopen = "LOPEN", write = "WRITE", flush = "FLUSH"
    public static let readDirDir = "ReadDirDir", readDirFile = "ReadDirFile", readDirFileCount = 100
}
