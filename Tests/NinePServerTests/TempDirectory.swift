import Foundation

/// A fresh directory under the system temp directory, removed by `remove()`.
struct TempDirectory {
    let path: String

    init(_ label: String = "srv") throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("ninescope-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        path = base.path
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    func file(_ relative: String) -> String { path + "/" + relative }

    func write(_ relative: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: file(relative)))
    }

    func read(_ relative: String) throws -> String {
        String(decoding: try Data(contentsOf: URL(fileURLWithPath: file(relative))), as: UTF8.self)
    }

    func exists(_ relative: String) -> Bool {
        (try? FileManager.default.attributesOfItem(atPath: file(relative))) != nil
    }
}
