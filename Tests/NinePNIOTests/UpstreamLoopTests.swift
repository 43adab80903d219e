import Foundation
import Testing
@testable import NinePNIO

/// A proxy whose upstream is its own listener would relay each client back into itself without end; it is
/// told from the addresses before any client comes.
@Suite struct UpstreamLoopTests {
    private func ip(_ text: String) throws -> UpstreamLoop.IP { try #require(UpstreamLoop.IP(text)) }

    private func reaches(_ upstream: String, _ port: UInt16 = 5640, listener: String, _ listenerPort: UInt16 = 5640,
                         local: [String] = ["192.0.2.7", "fd00::7"]) throws -> Bool {
        UpstreamLoop.reaches(upstream: try ip(upstream), port: port, listener: try ip(listener),
                             listenerPort: listenerPort, local: Set(try local.map(ip)))
    }

    @Test func theSameAddressAndPortIsALoop() throws {
        #expect(try reaches("127.0.0.1", listener: "127.0.0.1"))
        #expect(try reaches("::1", listener: "::1"))
        #expect(try reaches("192.0.2.7", listener: "192.0.2.7"))
        #expect(try reaches("::ffff:127.0.0.1", listener: "127.0.0.1"), "an IPv4-mapped address is the IPv4 one")
        #expect(try !reaches("127.0.0.1", 5641, listener: "127.0.0.1", 5640), "another port")
        #expect(try !reaches("127.0.0.2", listener: "127.0.0.1"), "a listener on one loopback address only")
    }

    @Test func aWildcardListenerTakesEveryAddressOfThisMachine() throws {
        #expect(try reaches("127.0.0.1", listener: "0.0.0.0"))
        #expect(try reaches("127.8.9.10", listener: "0.0.0.0"), "all of 127/8 is loopback")
        #expect(try reaches("192.0.2.7", listener: "0.0.0.0"), "an interface's own address")
        #expect(try !reaches("192.0.2.8", listener: "0.0.0.0"), "another machine")
        #expect(try !reaches("::1", listener: "0.0.0.0"), "an IPv4 wildcard takes no IPv6 client")
        #expect(try reaches("::1", listener: "::"))
        #expect(try reaches("fd00::7", listener: "::"))
        #expect(try reaches("127.0.0.1", listener: "::"), "an IPv6 wildcard takes IPv4 clients too")
        #expect(try !reaches("fd00::8", listener: "::"))
        #expect(try reaches("0.0.0.0", listener: "0.0.0.0"), "dialling the wildcard reaches this machine")
    }

    @Test func dialingTheWildcardReachesLoopback() throws {
        #expect(try reaches("0.0.0.0", listener: "127.0.0.1"))
        #expect(try reaches("::", listener: "::1"))
        #expect(try !reaches("0.0.0.0", listener: "192.0.2.7"))
        #expect(try !reaches("0.0.0.0", listener: "::1"))
    }

    @Test func addressesParse() throws {
        #expect(try ip("10.1.2.3").bytes == [10, 1, 2, 3])
        #expect(try ip("fe80::1%lo").bytes.count == 16, "a zone is not part of the address")
        #expect(UpstreamLoop.IP("localhost") == nil)
        #expect(UpstreamLoop.IP("300.1.1.1") == nil)
    }

    /// With real names and this machine's addresses: `localhost` and `127.0.0.1` name a listener on
    /// 127.0.0.1, another port does not; unix sockets by file, however the path is spelled.
    @Test func checkedWithThisMachinesAddresses() throws {
        let listener = Address.tcp(host: "127.0.0.1", port: 5640)
        #expect(UpstreamLoop.check(listener: listener, upstream: .tcp(host: "127.0.0.1", port: 5640)) != nil)
        #expect(UpstreamLoop.check(listener: listener, upstream: .tcp(host: "localhost", port: 5640)) != nil)
        #expect(UpstreamLoop.check(listener: listener, upstream: .tcp(host: "localhost", port: 5641)) == nil)
        #expect(UpstreamLoop.check(listener: listener, upstream: .unix(path: "/tmp/x.sock")) == nil)
        #expect(UpstreamLoop.check(listener: listener, upstream: .tcp(host: "no-such-host.invalid", port: 5640)) == nil)
        let own = try #require(UpstreamLoop.localAddresses().first { !$0.isLoopback && $0.isV4 }, "an interface address")
        let text = own.bytes.map(String.init).joined(separator: ".")
        #expect(UpstreamLoop.check(listener: .tcp(host: "0.0.0.0", port: 5640), upstream: .tcp(host: text, port: 5640))
                != nil, "\(text) is this machine's")

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("loop-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("s").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        let said = UpstreamLoop.check(listener: .unix(path: path), upstream: .unix(path: dir.path + "/./s"))
        #expect(said == "the upstream unix:\(dir.path)/./s is this proxy's own listener (unix:\(path)): each client "
                + "would be relayed back into the proxy, without end. Give the server's address as --upstream")
        #expect(UpstreamLoop.check(listener: .unix(path: path), upstream: .unix(path: dir.path + "/t")) == nil)
    }
}
