import InspectorCore
import NinePSession
import NinePWire
import Testing

/// `decode --check`'s judgement: every anomaly counted by kind, allowed kinds not failing, the summary.
@Suite struct AnomalyCheckTests {
    static func anomaly(_ kind: AnomalyKind, conn: ConnectionID = 1) -> Anomaly {
        Anomaly(kind: kind, conn: conn, messageIndex: nil, exchange: nil, tag: nil, fid: nil, at: 0, text: "x")
    }

    @Test func countsAndAllows() throws {
        var check = AnomalyCheck(allowing: try AnomalyCheck.kinds("fid-leak, unanswered"))
        #expect(check.allowed == [.fidLeakedAtClose, .unansweredAtClose])
        let opened = SessionEvent.connectionOpened(conn: 1, at: 0, info: nil)
        let none = TrackerOutput()
        #expect(check.take(opened, none).isEmpty)
        #expect(check.summary == "check: no anomalies in 0 messages on 1 connection" && check.exitStatus == 0)
        var leaks = TrackerOutput()
        leaks.anomalies = [Self.anomaly(.fidLeakedAtClose), Self.anomaly(.fidLeakedAtClose)]
        #expect(check.take(.connectionClosed(conn: 1, at: 1, reason: .eof), leaks).isEmpty, "allowed: not printed")
        #expect(check.exitStatus == 0 && check.failures == 0)
        #expect(check.summary == "check: 2 anomalies in 0 messages on 1 connection: 2 fid-leak (2 fid-leak allowed); passed")
        var escape = TrackerOutput()
        escape.anomalies = [Self.anomaly(.walkLeftRoot, conn: 2)]
        #expect(check.take(.connectionOpened(conn: 2, at: 2, info: nil), escape).map(\.kind) == [.walkLeftRoot])
        #expect(check.exitStatus == 1 && check.failures == 1)
        #expect(check.summary == "check: 3 anomalies in 0 messages on 2 connections: 2 fid-leak, 1 walk-left-root "
                + "(2 fid-leak allowed); failed")
        #expect(check.json == #"{"event":"check","passed":false,"messages":0,"connections":2,"#
                + #""anomalies":{"fid-leak":2,"walk-left-root":1},"allowed":["fid-leak","unanswered"]}"#)
    }

    @Test func unknownKindsAreNamedWithTheKindsThereAre() {
        #expect(throws: CheckError.self) { try AnomalyCheck.kinds("fid-leak,nope") }
        do { _ = try AnomalyCheck.kinds("nope") } catch {
            #expect(error.description.hasPrefix("'nope' is not an anomaly kind; the kinds are tag-reused, unknown-tag"))
            #expect(error.description.contains("walk-left-root"))
        }
    }
}
