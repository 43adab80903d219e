import NinePDrivers
import NinePServer
import NinePTestSupport
import NinePWire
import Testing

/// The driver conformance suite (QEMU's 9pfs test list and more) over real sockets: each check runs on a
/// fresh `NinePServerListener` reached over TCP, a unix socket, or TCP through a `NinePProxy`. The check
/// bodies are the in-process suite's (NinePTestSupport); only the transport differs.
@Suite struct SocketConformanceTests {
    static let routes = SocketRoute.allCases

    func run<D: FileSystemDriver>(_ check: ConformanceCheck, _ driver: D, _ caps: DriverCapabilities,
                                  _ route: SocketRoute) async throws {
        let server = try await SocketServer.start(driver, route: route)
        do {
            try await DriverConformance.run(check, capabilities: caps) { try await server.client() }
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    @Test(arguments: DriverConformance.checks(for: ConformanceTests.memoryCaps), routes)
    func memory(_ check: ConformanceCheck, _ route: SocketRoute) async throws {
        try await run(check, MemoryDriver(), ConformanceTests.memoryCaps, route)
    }

    @Test(arguments: DriverConformance.checks(for: ConformanceTests.synthCaps), routes)
    func synthetic(_ check: ConformanceCheck, _ route: SocketRoute) async throws {
        try await run(check, SyntheticDriver(), ConformanceTests.synthCaps, route)
    }

    @Test(arguments: DriverConformance.checks(for: ConformanceTests.localCaps), [SocketRoute.tcp, .unix])
    func local(_ check: ConformanceCheck, _ route: SocketRoute) async throws {
        let dir = try TempDirectory("sock-conformance")
        defer { dir.remove() }
        try await run(check, try LocalDriver(root: dir.path), ConformanceTests.localCaps, route)
    }

    /// The list of QEMU 9pfs tests, each of which must run over sockets against some driver.
    @Test func qemuListIsCovered() {
        let qemu = ["version/basic", "attach/basic", "walk/basic", "walk/no_slash", "walk/none", "walk/dotdot_from_root",
                    "walk/non_existent", "walk/2nd_non_existent", "lopen/basic", "write/basic", "flush/success",
                    "flush/ignored", "readdir/basic", "readdir/split_512", "readdir/split_256", "readdir/split_128",
                    "create_dir", "unlinkat_dir", "create_file", "unlinkat_file", "symlink_file", "unlinkat_symlink",
                    "hardlink_file", "unlinkat_hardlink", "use_after_unlink"]
        let covered = Set(DriverConformance.checks(for: ConformanceTests.memoryCaps).map(\.name))
            .union(DriverConformance.checks(for: ConformanceTests.synthCaps).map(\.name))
        #expect(Set(qemu).subtracting(covered).isEmpty, "not run over sockets: \(Set(qemu).subtracting(covered).sorted())")
    }
}
