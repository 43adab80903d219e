import InspectorCore
@testable import InspectorUI
import NinePSession
import NinePWire
import Testing

/// A peer that sends only bytes that are not 9P leaves the list with no exchange; it says so instead of
/// "waiting for traffic…" while megabytes flow (a 256 MiB flood showed nothing else).
@Suite struct EmptyListTests {
    @Test func onlyUnframeableBytesAreSaidNotWaitedFor() {
        var model = InspectorModel()
        let conn = ConnectionID(0)
        model.handle([.connectionOpened(conn: conn, at: 1, info: nil)])
        var s = InspectorScreen(model: model, theme: ThemeLoader.defaultTheme, timeFormat: .utc, title: "t", isLive: true)
        #expect(s.snapshot(width: 100, height: 10).contains("waiting for traffic…"))
        s.model.handle([.garbage(conn: conn, direction: .toServer, at: 2, bytes: Array("GET / HTTP/1.1\r\n".utf8),
                                 reason: "not a 9P frame")])
        let one = s.snapshot(width: 100, height: 10)
        #expect(one.contains("no exchange yet; 1 anomaly (the anomalies view shows them)"), "\(one)")
        s.model.handle([.garbage(conn: conn, direction: .toServer, at: 3, bytes: [1, 2, 3], reason: "more")])
        #expect(s.snapshot(width: 100, height: 10).contains("no exchange yet; 2 anomalies"))
    }
}
