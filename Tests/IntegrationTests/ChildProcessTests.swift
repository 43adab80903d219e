import Foundation
import NinePTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The tests' child processes: a peer started in a directory of its own runs there, so that what it
/// leaves in its working directory (diod's core file, when it crashed: 280 MB) stays out of the tree under
/// test and goes with the directory.
@Suite struct ChildProcessTests {
    @Test func aChildRunsInTheDirectoryGiven() throws {
        let dir = Peers.tempDir("child-cwd")
        let out = dir + "/pwd.out"
        let p = try Peers.spawn("/bin/sh", ["-c", "pwd -P; touch left-here"], log: out, directory: dir)
        p.waitUntilExit()
        let resolved = URL(fileURLWithPath: dir).resolvingSymlinksInPath().path
        #expect(try String(contentsOfFile: out, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) == resolved)
        #expect(FileManager.default.fileExists(atPath: dir + "/left-here"))
        #expect(!FileManager.default.fileExists(atPath: FileManager.default.currentDirectoryPath + "/left-here"))
    }

    @Test(.enabled(if: Peers.which("diod") != nil)) func diodRunsInItsTemporaryDirectory() throws {
        let diod = try #require(try Diod.start(export: Peers.tempDir("child-export")))
        defer { diod.stop() }
        let cwd = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(diod.process.processIdentifier)/cwd")
        #expect(cwd == URL(fileURLWithPath: diod.logPath).deletingLastPathComponent().resolvingSymlinksInPath().path)
    }
}
