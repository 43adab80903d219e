import Foundation
import NinePTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 4, real clients: diod's own tools (diodls, diodcat, diodload; 9P2000.L only) against
/// `ninescope serve` started from the built binary, as a user runs it: every driver, TCP and unix
/// sockets, and through `ninescope proxy`.
@Suite(.serialized) struct ServeDiodTests {
    /// Files of the export and their bytes, relative paths.
    static func exportFiles(_ dir: String) -> [String: Data] {
        var out: [String: Data] = [:]
        let e = FileManager.default.enumerator(atPath: dir)
        while let rel = e?.nextObject() as? String {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: dir + "/" + rel, isDirectory: &isDir), !isDir.boolValue,
               let d = FileManager.default.contents(atPath: dir + "/" + rel) {
                out[rel] = d
            }
        }
        return out
    }

    @Test func localDriverWithDiodClients() throws {
        let export = try RealTraffic.makeExport(bigSize: 3_000_000)
        let server = try NinescopeProcess.start(["serve", "--listen", "127.0.0.1:0", "--driver", "local:\(export)"])
        defer { server.stop() }

        // diodls lists what is in the directory.
        let ls = try DiodClients.ls(server.diodAddress)
        #expect(ls.status == 0, "diodls failed: \(ls.err)")
        let expected = try FileManager.default.contentsOfDirectory(atPath: export).sorted()
        #expect(DiodClients.names(ls) == expected)
        let deep = try DiodClients.ls(server.diodAddress, ["sub/deeper"])
        #expect(DiodClients.names(deep) == ["n.txt"], "diodls sub/deeper: \(deep.out) \(deep.err)")
        let long = try DiodClients.ls(server.diodAddress, ["big.bin"], long: true)
        #expect(long.status == 0 && long.out.contains("3000000"), "diodls -l: \(long.out) \(long.err)")

        // diodcat returns every file's exact bytes, at the default msize and at a small one.
        for (rel, bytes) in Self.exportFiles(export) {
            for msize in [65536, 4096] {
                let cat = try DiodClients.cat(server.diodAddress, msize: msize, [rel])
                #expect(cat.status == 0, "diodcat \(rel) failed: \(cat.err)")
                #expect(cat.stdout == bytes, "diodcat \(rel) at msize \(msize): \(cat.stdout.count) bytes, file has \(bytes.count)")
            }
        }
        let missing = try DiodClients.cat(server.diodAddress, ["no-such-file"])
        #expect(missing.status != 0)
        #expect(missing.err.contains("No such file or directory"), "diodcat of a missing file: \(missing.err)")

        // diodload (ctl:zero → ctl:null) and its getattr load run clean.
        for getattr in [false, true] {
            let load = try DiodClients.load(server.diodAddress, seconds: 2, threads: 2, getattr: getattr)
            #expect(load.status == 0, "diodload\(getattr ? " -g" : "") failed: \(load.out) \(load.err)")
            #expect((DiodClients.opsPerSecond(load) ?? 0) > 0, "diodload printed no rate: \(load.out) \(load.err)")
        }
        #expect(server.process.isRunning)
    }

    @Test func memoryDriverWithDiodClients() throws {
        let server = try NinescopeProcess.start(["serve", "--listen", "127.0.0.1:0", "--driver", "memory"])
        defer { server.stop() }
        let ls = try DiodClients.ls(server.diodAddress)
        #expect(ls.status == 0, "diodls failed: \(ls.err)")
        let names = DiodClients.names(ls)
        for n in ["README", "etc", "tmp"] { #expect(names.contains(n), "memory tree lacks \(n): \(names)") }
        let etc = try DiodClients.ls(server.diodAddress, ["etc"])
        #expect(DiodClients.names(etc).contains("hosts"), "diodls etc: \(etc.out)")

        let readme = try DiodClients.cat(server.diodAddress, ["README"])
        #expect(readme.status == 0 && !readme.stdout.isEmpty, "diodcat README: \(readme.err)")
        let numbers = try DiodClients.cat(server.diodAddress, msize: 256, ["docs/numbers.txt"])
        #expect(numbers.out == (1...100).map { "\($0)\n" }.joined(), "diodcat numbers.txt: \(numbers.out.prefix(80)) \(numbers.err)")

        for getattr in [false, true] {
            let load = try DiodClients.load(server.diodAddress, seconds: 2, threads: 2, getattr: getattr)
            #expect(load.status == 0, "diodload\(getattr ? " -g" : "") failed: \(load.out) \(load.err)")
            #expect((DiodClients.opsPerSecond(load) ?? 0) > 0, "diodload printed no rate: \(load.out) \(load.err)")
        }
        #expect(server.process.isRunning)
    }

    @Test func syntheticDriverOverUnixSocket() throws {
        let dir = Peers.tempDir("serve-sock")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try NinescopeProcess.start(["serve", "--listen", "unix:\(dir)/9p.sock", "--driver", "synth"])
        defer { server.stop() }
        #expect(server.address == "unix:\(dir)/9p.sock")
        let ls = try DiodClients.ls(server.diodAddress)
        #expect(ls.status == 0, "diodls failed: \(ls.err)")
        let names = DiodClients.names(ls)
        for n in ["WALK0", "LOPEN", "WRITE", "FLUSH", "ReadDirDir"] { #expect(names.contains(n), "synth tree lacks \(n): \(names)") }
        let rd = try DiodClients.ls(server.diodAddress, ["ReadDirDir"])
        #expect(DiodClients.names(rd) == (0..<100).map { "ReadDirFile\($0)" }.sorted())
        let walk = try DiodClients.ls(server.diodAddress, [(0..<15).map { "WALK\($0)" }.joined(separator: "/")])
        #expect(DiodClients.names(walk) == ["WALK15"], "deep walk: \(walk.out) \(walk.err)")
        let load = try DiodClients.load(server.diodAddress, seconds: 2, threads: 2, getattr: true)
        #expect(load.status == 0, "diodload -g failed: \(load.out) \(load.err)")
    }

    /// Several clients at once on one server: each diodcat gets its file's bytes.
    @Test func manyConnectionsAtOnce() throws {
        let export = try RealTraffic.makeExport(bigSize: 1_000_000)
        let server = try NinescopeProcess.start(["serve", "--listen", "127.0.0.1:0", "--driver", "local:\(export)"])
        defer { server.stop() }
        let big = try #require(FileManager.default.contents(atPath: export + "/big.bin"))
        let results = SendableBox<[Peers.Result?]>(Array(repeating: nil, count: 6))
        DispatchQueue.concurrentPerform(iterations: 6) { i in
            let r = try? DiodClients.cat(server.diodAddress, msize: i % 2 == 0 ? 65536 : 8192, ["big.bin"])
            results.update { $0[i] = r }
        }
        for (i, r) in results.value.enumerated() {
            #expect(r?.status == 0 && r?.stdout == big, "client \(i): \(r?.stdout.count ?? -1) bytes, \(r?.err ?? "no result")")
        }
    }
}

/// A mutable value shared across threads in a test.
final class SendableBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var v: T
    init(_ v: T) { self.v = v }
    var value: T { lock.lock(); defer { lock.unlock() }; return v }
    func update(_ body: (inout T) -> Void) { lock.lock(); body(&v); lock.unlock() }
}
