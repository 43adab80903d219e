// swift-tools-version:6.0
import PackageDescription

// Layers (→ = depends on; strictly downward). See DESIGN.md in the README's "Architecture" section.
// Layer 0 (pure): NinePWire, NinePSession, NinePCapture, NinePServer, InspectorCore, NinePREPL, TUICore
// Layer 1 (adapters): NinePDrivers, NinePNIO, CNCursesW, CEditLine, TerminalIO, InspectorUI
// Layer 2: ninescope (executable), NinePTestSupport, NinescopeFuzzHarness (Fuzz/Harness)

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]
/// The pure core's release builds offer their code for optimisation across modules (generic codec and
/// tracker code specialised and inlined where `ninescope` uses it): `decode` of a 412k-message capture took
/// 0.63 s instead of 0.69 s (min of 5 alternating runs). NinePNIO's too: without it the proxy's trace
/// thread ran `BatchQueue<ProxyEvent>` unspecialised, and 11% of its samples were generic metadata
/// lookups. Debug builds, which the tests use, are unchanged.
let pure: [SwiftSetting] = strict + [
    .unsafeFlags(["-cross-module-optimization"], .when(configuration: .release)),
]
/// The server and its drivers: a nonisolated async function runs on its caller's executor (SE-0461), so
/// a request handled on a connection's event loop calls a class-based driver (local, synth) without a
/// hop to the global pool and back — two thread wakeups per request that dominated a profile under
/// diodload. Drivers that are actors (memory) still run on their own executor.
let serverSettings: [SwiftSetting] = pure + [
    .enableUpcomingFeature("NonisolatedNonsendingByDefault"),
]

let package = Package(
    name: "ninescope",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "ninescope", targets: ["ninescope"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // Layer 0 — pure
        .target(name: "NinePWire", swiftSettings: pure),
        .target(name: "NinePSession", dependencies: ["NinePWire"], swiftSettings: pure),
        .target(name: "NinePCapture", dependencies: ["NinePWire"], swiftSettings: pure),
        .target(name: "NinePServer", dependencies: ["NinePWire"], swiftSettings: serverSettings),
        .target(name: "InspectorCore", dependencies: [
            "NinePWire", "NinePSession", "NinePCapture",
            .product(name: "Collections", package: "swift-collections"),
            .product(name: "Histogram", package: "hdrhistogram-swift"),
        ], swiftSettings: pure),
        .target(name: "NinePREPL", dependencies: ["InspectorCore", "NinePWire", "NinePSession", "TUICore"], swiftSettings: pure),
        .target(name: "TUICore", swiftSettings: pure),

        // Layer 1 — adapters
        .target(name: "NinePDrivers", dependencies: ["NinePServer", "NinePWire"], swiftSettings: serverSettings),
        .target(name: "NinePNIO", dependencies: [
            "NinePWire", "NinePServer", "NinePSession", "NinePCapture",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ], swiftSettings: pure),
        // ncursesw's and libedit's pkg-config cflags carry -D flags SwiftPM rejects (a warning on every build);
        // both headers live in /usr/include, and the module maps name the libraries to link.
        .systemLibrary(name: "CNCursesW", providers: [.apt(["libncursesw5-dev"])]),
        .systemLibrary(name: "CEditLine", providers: [.apt(["libedit-dev"])]),
        .target(name: "TerminalIO", dependencies: ["TUICore", "CNCursesW", "CEditLine"], swiftSettings: strict),
        .target(name: "InspectorUI", dependencies: [
            "InspectorCore", "TUICore",
            .product(name: "TOMLKit", package: "TOMLKit"),
        ], swiftSettings: strict),

        // Layer 2
        .executableTarget(name: "ninescope", dependencies: [
            "NinePWire", "NinePSession", "NinePCapture", "NinePServer", "NinePDrivers", "NinePNIO",
            "InspectorCore", "InspectorUI", "NinePREPL", "TUICore", "TerminalIO",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        .target(name: "NinePTestSupport", dependencies: [
            "NinePWire", "NinePServer", "TUICore",
        ], swiftSettings: strict),

        // The fuzz harness (Fuzz/Harness): properties over every input ninescope reads from outside.
        .target(name: "NinescopeFuzzHarness", dependencies: [
            "InspectorCore", "InspectorUI", "NinePCapture", "NinePDrivers", "NinePNIO", "NinePREPL", "NinePServer",
            "NinePSession", "NinePWire", "TUICore", .product(name: "NIOCore", package: "swift-nio"),
        ], path: "Fuzz/Harness", swiftSettings: strict),

        // Tests
        .testTarget(name: "NinePWireTests", dependencies: [
            "NinePWire", "NinePTestSupport",
            .product(name: "PropertyBased", package: "swift-property-based"),
        ], swiftSettings: strict),
        .testTarget(name: "NinePSessionTests", dependencies: ["NinePSession", "NinePWire", "NinePTestSupport"], swiftSettings: strict),
        .testTarget(name: "NinePCaptureTests", dependencies: ["NinePCapture", "NinePWire", "NinePTestSupport"], swiftSettings: strict),
        .testTarget(name: "NinePServerTests", dependencies: [
            "NinePServer", "NinePDrivers", "NinePNIO", "NinePWire", "NinePTestSupport",
        ], swiftSettings: strict),
        .testTarget(name: "NinePNIOTests", dependencies: [
            "NinePNIO", "NinePWire", "NinePSession", "NinePServer", "NinePCapture", "NinePTestSupport",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
        ], swiftSettings: strict),
        .testTarget(name: "InspectorCoreTests", dependencies: ["InspectorCore", "NinePTestSupport"], swiftSettings: strict),
        .testTarget(name: "InspectorUITests", dependencies: ["InspectorUI", "InspectorCore", "TUICore", "NinePTestSupport"],
                    exclude: ["Snapshots"], swiftSettings: strict),
        .testTarget(name: "NinePREPLTests", dependencies: ["NinePREPL", "NinePWire", "NinePTestSupport"], swiftSettings: strict),
        .testTarget(name: "FuzzHarnessTests", dependencies: ["NinescopeFuzzHarness", "NinePTestSupport"],
                    swiftSettings: strict),
        .testTarget(name: "TUICoreTests", dependencies: ["TUICore", "NinePTestSupport", "TerminalIO"], swiftSettings: strict),
        // End-to-end: runs the built `ninescope` binary against real peers (diod, tshark, tcpdump, tmux).
        .testTarget(name: "IntegrationTests", dependencies: [
            "NinePWire", "NinePSession", "NinePCapture", "InspectorCore", "NinePTestSupport", "NinePNIO", "NinePREPL",
        ], swiftSettings: strict),
    ]
)

// `make fuzz` (Fuzz/run.sh) adds its libFuzzer target, built with sanitizers in a build folder of its own;
// normal builds and the tests never see it. The harness it drives is built always: the suite runs the
// seeds through it (FuzzHarnessTests).
if Context.environment["NINESCOPE_FUZZ"] == "1" {
    package.targets.append(.executableTarget(name: "NinescopeFuzz", dependencies: ["NinescopeFuzzHarness"],
                                             path: "Fuzz/NinescopeFuzz", swiftSettings: strict))
}
