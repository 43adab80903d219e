import NIOCore
import Testing
@testable import NinePNIO

@Suite struct AddressTests {
    @Test(arguments: [
        ("tcp!127.0.0.1!564", Address.tcp(host: "127.0.0.1", port: 564)),
        ("tcp!localhost!0", .tcp(host: "localhost", port: 0)),
        ("tcp!::1!5640", .tcp(host: "::1", port: 5640)),
        ("tcp![::1]!5640", .tcp(host: "::1", port: 5640)),
        ("tcp!*!564", .tcp(host: "0.0.0.0", port: 564)),
        ("127.0.0.1:564", .tcp(host: "127.0.0.1", port: 564)),
        ("example-host.lan:65535", .tcp(host: "example-host.lan", port: 65535)),
        ("[::1]:564", .tcp(host: "::1", port: 564)),
        ("[fe80::1%lo]:564", .tcp(host: "fe80::1%lo", port: 564)),
        ("unix!/tmp/9p.sock", .unix(path: "/tmp/9p.sock")),
        ("unix:/tmp/9p.sock", .unix(path: "/tmp/9p.sock")),
        ("unix:relative.sock", .unix(path: "relative.sock")),
        ("  tcp!10.0.0.1!1  ", .tcp(host: "10.0.0.1", port: 1)),
    ])
    func parses(_ text: String, _ expected: Address) throws {
        #expect(try Address(parsing: text) == expected)
    }

    @Test(arguments: [
        ("", "empty"),
        ("localhost", "expected HOST:PORT, [V6]:PORT, tcp!HOST!PORT, unix!/path or unix:/path"),
        ("tcp!host", "tcp!HOST!PORT"),
        ("tcp!host!1!2", "tcp!HOST!PORT"),
        ("tcp!!564", "missing host"),
        ("tcp!host!99999", "out of range"),
        ("tcp!host!-1", "not a number"),
        ("host:", "missing port"),
        (":564", "missing host"),
        ("host:http", "not a number"),
        ("::1:564", "brackets"),
        ("[::1]564", "a port after the ]"),
        ("[::1", "missing ]"),
        ("[]:564", "empty IPv6"),
        ("unix!", "missing socket path"),
        ("unix:", "missing socket path"),
        ("/tmp/9p.sock", "unix!/path"),
        ("tcp:host:564", "tcp!HOST!PORT"),
        ("bad host:564", "invalid character"),
        ("unix!/" + String(repeating: "x", count: 200), "limit is 107"),
    ])
    func rejectsWithAClearMessage(_ text: String, _ fragment: String) {
        do {
            let a = try Address(parsing: text)
            Issue.record("parsed \(text.debugDescription) as \(a)")
        } catch {
            #expect(error.input == text)
            #expect(error.description.contains(fragment), "\(error)")
            #expect(error.description.contains("bad address"))
        }
    }

    @Test(arguments: [
        Address.tcp(host: "127.0.0.1", port: 564), .tcp(host: "::1", port: 0), .tcp(host: "host.example", port: 9),
        .unix(path: "/tmp/a b.sock"),
    ])
    func printsBothFormsThatParseBack(_ address: Address) throws {
        #expect(try Address(parsing: address.description) == address)
        #expect(try Address(parsing: address.colonForm) == address)
    }

    @Test func printedForms() {
        #expect(Address.tcp(host: "127.0.0.1", port: 564).description == "tcp!127.0.0.1!564")
        #expect(Address.tcp(host: "::1", port: 564).colonForm == "[::1]:564")
        #expect(Address.unix(path: "/x").description == "unix!/x")
        #expect(Address.unix(path: "/x").colonForm == "unix:/x")
        #expect(Address.tcp(host: "a", port: 1).port == 1)
        #expect(Address.unix(path: "/x").port == nil)
    }

    @Test func toAndFromNIOSocketAddresses() throws {
        let v4 = try Address.tcp(host: "127.0.0.1", port: 564).socketAddress()
        #expect(v4.port == 564)
        #expect(v4.ipAddress == "127.0.0.1")
        #expect(Address(v4) == .tcp(host: "127.0.0.1", port: 564))
        let v6 = try Address.tcp(host: "::1", port: 1).socketAddress()
        #expect(v6.protocol == .inet6)
        #expect(Address(v6) == .tcp(host: "::1", port: 1))
        let unix = try Address.unix(path: "/tmp/x.sock").socketAddress()
        #expect(Address(unix) == .unix(path: "/tmp/x.sock"))
        #expect(Address(nil as SocketAddress?) == nil)
        #expect(throws: AddressError.self) { try Address.tcp(host: "no-such-host.invalid", port: 1).socketAddress() }
    }

    @Test func ephemeralPortIsReportedBack() async throws {
        let listener = try await NinePSockets.listen(.tcp(host: "127.0.0.1", port: 0)) {
            $0.eventLoop.makeSucceededVoidFuture()
        }
        guard case .tcp(let host, let port) = listener.localAddress else {
            Issue.record("not TCP: \(listener.localAddress)")
            return
        }
        #expect(host == "127.0.0.1")
        #expect(port != 0)
        await listener.close()
    }

    /// An IPv4 client of a listener on `::` is named by its IPv4 address, not `[::ffff:127.0.0.1]`.
    @Test func anIPv4MappedPeerIsItsIPv4Address() throws {
        #expect(Address(try SocketAddress(ipAddress: "::ffff:127.0.0.1", port: 5)) == .tcp(host: "127.0.0.1", port: 5))
        #expect(Address(try SocketAddress(ipAddress: "::ffff:10.1.2.3", port: 6))?.colonForm == "10.1.2.3:6")
        #expect(Address(try SocketAddress(ipAddress: "::1", port: 7)) == .tcp(host: "::1", port: 7))
        #expect(Address(try SocketAddress(ipAddress: "fd00::ffff:1", port: 8)) == .tcp(host: "fd00::ffff:1", port: 8))
    }
}

/// Reading the system's table of unix sockets (/proc/net/unix) for the paths that are listened on.
@Suite struct UnixSocketTableTests {
    @Test func listeningRowsWithAbsolutePathsAreFound() {
        let table = """
            Num       RefCount Protocol Flags    Type St Inode Path
            00000000fef4249d: 00000003 00000000 00000000 0001 03 6592475
            00000000d3068ca9: 00000002 00000000 00010000 0001 01 6592482 /run/ninescope/9p.sock
            00000000d3068caa: 00000002 00000000 00010000 0001 01 6592483 relative.sock
            00000000d3068cab: 00000003 00000000 00000000 0001 03 6592484 /run/ninescope/client.sock
            00000000d3068cac: 00000002 00000000 00010000 0001 01 6592485 /tmp/a dir/with spaces.sock
            00000000d3068cad: 00000002 00000000 00010000 0005 01 6592486 @abstract
            """
        #expect(NinePSockets.listeningPaths(inUnixSocketTable: table)
                == ["/run/ninescope/9p.sock", "/tmp/a dir/with spaces.sock"])
        #expect(NinePSockets.listeningPaths(inUnixSocketTable: "").isEmpty)
        #expect(NinePSockets.listeningPaths(inUnixSocketTable: "Num\ngarbage line\n0: 1 2 zz 1 1 1 /x").isEmpty)
    }
}
