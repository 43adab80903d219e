import Foundation
import NinePTestSupport
import NinePWire
import Testing
@testable import NinePNIO

/// diod behind the proxy: diodcat and diodls see the same bytes as when they talk to diod directly, and
/// every frame the tap reports decodes as 9P2000.L.
@Suite(.timeLimit(.minutes(5))) struct DiodProxyTests {
    @Test(.enabled(if: Peers.which("diod") != nil && Peers.which("diodcat") != nil && Peers.which("diodls") != nil))
    func diodClientsGetTheSameBytesThroughTheProxy() async throws {
        let dir = Peers.tempDir("nio-diod")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var rng = SplitMix(seed: 7)
        let big = (0..<(3 << 20)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        try Data(big).write(to: URL(fileURLWithPath: dir + "/big.bin"))
        try Data("small file\n".utf8).write(to: URL(fileURLWithPath: dir + "/small.txt"))
        let diod = try #require(try Diod.start(export: dir))
        defer { diod.stop() }

        let events = EventBox()
        let (proxy, bound) = try await startProxy(to: .tcp(host: "127.0.0.1", port: diod.port), events: events)
        let via = "127.0.0.1:\(try #require(bound.port))"
        let diodcat = try #require(Peers.which("diodcat")), diodls = try #require(Peers.which("diodls"))

        let catDirect = try Peers.run(diodcat, ["-s", diod.address, "-m", "65536", "-a", dir, "big.bin", "small.txt"])
        let catProxied = try Peers.run(diodcat, ["-s", via, "-m", "65536", "-a", dir, "big.bin", "small.txt"])
        #expect(catDirect.status == 0, "\(catDirect.err)")
        #expect(catProxied.status == 0, "\(catProxied.err)")
        #expect(Array(catDirect.stdout) == big + Array("small file\n".utf8))
        #expect(catProxied.stdout == catDirect.stdout)

        let lsDirect = try Peers.run(diodls, ["-s", diod.address, "-a", dir, "-l", "/"])
        let lsProxied = try Peers.run(diodls, ["-s", via, "-a", dir, "-l", "/"])
        #expect(lsDirect.status == 0, "\(lsDirect.err)")
        // The same listing but for the times: the first listing's read of a directory made this minute may
        // move its atime past a minute's turn, which `ls -l` can show.
        func timeless(_ listing: String) -> [String] {
            listing.split(separator: "\n").map { line in
                let f = line.split(separator: " ", omittingEmptySubsequences: true)
                return f.count > 8 ? (f[0..<5] + f[8...]).joined(separator: " ") : String(line)
            }
        }
        #expect(timeless(lsProxied.out) == timeless(lsDirect.out) && timeless(lsDirect.out).count >= 3,
                "\(lsProxied.out)\n\(lsDirect.out)")
        #expect(lsProxied.out.contains("big.bin"))

        #expect(await events.wait(timeout: 60) { _ in events.closeReasons().count == 2 })
        #expect(events.closeReasons().allSatisfy { $0 == .eof })
        #expect(events.garbage(.toServer).isEmpty && events.garbage(.toClient).isEmpty)
        var undecodable = 0, readBytes = 0
        for direction in [NinePWire.Direction.toServer, .toClient] {
            for (bytes, _) in events.frames(direction) {
                guard let f = try? Fcall.decode(bytes, dialect: .l) else { undecodable += 1; continue }
                if case .rread(let r) = f.message { readBytes += r.data.count }
            }
        }
        #expect(undecodable == 0)
        #expect(readBytes >= big.count)
        await proxy.stop()
    }
}
