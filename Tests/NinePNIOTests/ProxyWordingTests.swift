#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NinePSession
import Testing
@testable import NinePNIO

/// How the proxy names connection ends and errors in its trace and captures.
@Suite struct ProxyWordingTests {
    @Test func errorsReadAsTheSystemSaysThem() {
        #expect(NetworkErrorText.describe(IOError(errnoCode: ECONNREFUSED, reason: "connect")) == "Connection refused")
        #expect(NetworkErrorText.describe(IOError(errnoCode: ENOENT, reason: "connect")) == "No such file or directory")
        #expect(NetworkErrorText.describe(ChannelError.connectTimeout(.seconds(10))) == "timed out after 10000 ms")
        #expect(NetworkErrorText.describe(ChannelError.ioOnClosedChannel) == String(describing: ChannelError.ioOnClosedChannel))
    }

    @Test func closesShowTheProxysReasonUnlessAnOrderlyEOF() {
        #expect(ProxyCloseReason.eof.shownReason == .eof)
        #expect(ProxyCloseReason.reset(.upstream).shownReason == .error("reset by upstream"))
        #expect(ProxyCloseReason.midFrame(.toServer).shownReason == .error("eof mid-frame (client→server)"))
        #expect(ProxyCloseReason.stopped.shownReason.errorText == "proxy stopped")
        #expect(CloseReason.reset.errorText == nil && CloseReason.eof.errorText == nil)
    }

    @Test func connectionEndsAreNamedInColonForm() {
        let up = Address.tcp(host: "127.0.0.1", port: 564)
        #expect(ProxyEvent.connectionInfo(client: .tcp(host: "127.0.0.1", port: 40312), upstream: up)
            == ConnectionInfo(client: "127.0.0.1:40312", upstream: "127.0.0.1:564", fromStart: true))
        #expect(ProxyEvent.connectionInfo(client: .unix(path: ""), upstream: .unix(path: "/run/9p.sock"))
            == ConnectionInfo(client: "unix:(unnamed)", upstream: "unix:/run/9p.sock", fromStart: true))
        #expect(ProxyEvent.connectionInfo(client: nil, upstream: up).client == "?")
    }
}
