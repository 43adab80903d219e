import Foundation
import InspectorCore
@testable import InspectorUI
import NinePTestSupport
import NinePWire
import Testing
import TUICore

typealias Tag = NinePWire.Tag

/// Snapshot files live next to this file in `Snapshots/`. A missing snapshot is written (and the test
/// fails, so it gets reviewed); `NINESCOPE_RECORD_SNAPSHOTS=1` rewrites them all.
enum Snapshot {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots")

    static func check(_ text: String, named name: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let url = directory.appendingPathComponent(name + ".txt")
        let record = ProcessInfo.processInfo.environment["NINESCOPE_RECORD_SNAPSHOTS"] == "1"
        if !record, let expected = try? String(contentsOf: url, encoding: .utf8) {
            #expect(text + "\n" == expected, "snapshot \(name) differs", sourceLocation: sourceLocation)
            if text + "\n" != expected {
                try? (text + "\n").write(to: url.appendingPathExtension("new"), atomically: true, encoding: .utf8)
            }
            return
        }
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try? (text + "\n").write(to: url, atomically: true, encoding: .utf8)
        Issue.record("snapshot \(name) recorded; review it", sourceLocation: sourceLocation)
    }
}

/// The sample session's rows (see `SampleTraffic.mountAndWorkload`).
enum Sample {
    static let walkPasswd = 5, readdir = 4, readPasswd = 8, walkMissing = 9, pendingRead = 14, flushed = 15
    static let injected = 17, badClunk = 18, count = 20

    static func screen(live: Bool = false, theme: Theme = ThemeLoader.defaultTheme) -> InspectorScreen {
        var model = InspectorModel()
        model.handle(SampleTraffic.session())
        return InspectorScreen(model: model, theme: theme, timeFormat: .utc, title: "sample.pcapng", isLive: live)
    }
}

extension InspectorScreen {
    /// Presses keys by chord name, drawing after each as the app does; returns every effect.
    @discardableResult
    mutating func press(_ names: String...) -> [InspectorEffect] {
        var effects: [InspectorEffect] = []
        for name in names {
            guard let chord = KeyChord(name) else { preconditionFailure("bad key \(name)") }
            effects += handle(.key(chord))
            var grid = Grid(size: lastSize)
            render(into: &grid)
        }
        return effects
    }

    /// Types text into whatever has focus (a prompt, usually).
    @discardableResult
    mutating func type(_ text: String) -> [InspectorEffect] {
        var effects: [InspectorEffect] = []
        for c in text {
            effects += handle(.key(KeyChord(c)))
            var grid = Grid(size: lastSize)
            render(into: &grid)
        }
        return effects
    }

    /// Renders at a size and returns the snapshot text (optionally with the style layer).
    mutating func snapshot(width: Int = 80, height: Int = 24, styles: Bool = false) -> String {
        var grid = Grid(width: width, height: height)
        let cursor = render(into: &grid)
        return FakeTerminal.snapshot(of: grid, styles: styles, cursor: .some(cursor))
    }
}
