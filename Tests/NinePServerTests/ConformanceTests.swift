import NinePDrivers
import NinePServer
import NinePTestSupport
import NinePWire
import Testing

/// The driver conformance suite (NinePTestSupport) against each driver.
@Suite struct ConformanceTests {
    static let memoryCaps: DriverCapabilities = .posix
    static let synthCaps: DriverCapabilities = [.synthTree]
    static let localCaps: DriverCapabilities = .posix

    @Test(arguments: DriverConformance.checks(for: memoryCaps))
    func memory(_ check: ConformanceCheck) async throws {
        try await DriverConformance.run(check, driver: MemoryDriver(), capabilities: Self.memoryCaps)
    }

    @Test(arguments: DriverConformance.checks(for: synthCaps))
    func synthetic(_ check: ConformanceCheck) async throws {
        try await DriverConformance.run(check, driver: SyntheticDriver(), capabilities: Self.synthCaps)
    }

    @Test(arguments: DriverConformance.checks(for: localCaps))
    func local(_ check: ConformanceCheck) async throws {
        let dir = try TempDirectory("conformance")
        defer { dir.remove() }
        try await DriverConformance.run(check, driver: try LocalDriver(root: dir.path), capabilities: Self.localCaps)
    }

    @Test func everyCheckRunsSomewhere() {
        let covered = Set(DriverConformance.checks(for: Self.memoryCaps).map(\.name))
            .union(DriverConformance.checks(for: Self.synthCaps).map(\.name))
        #expect(covered == Set(DriverConformance.all.map(\.name)))
    }
}
