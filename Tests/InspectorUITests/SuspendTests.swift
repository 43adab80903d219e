import Dispatch
import InspectorCore
@testable import InspectorUI
import NinePSession
import NinePTestSupport
import NinePWire
import Testing
import TUICore

/// ctrl-z and SIGTSTP: the UI gives the terminal back and stops as a shell's job, and draws all of its
/// screen again once `fg` brings it back. A live proxy with connections open asks first (its clients wait
/// while it is stopped).
@Suite struct SuspendTests {
    @Test func ctrlZStopsTheWholeGroupAndASignalThisProcess() {
        var s = Sample.screen()
        #expect(s.press("ctrl-z") == [.suspend(wholeGroup: true)])
        #expect(s.handle(.stop) == [.suspend(wholeGroup: false)])
        s.press(":")
        s.type("suspend")
        #expect(s.press("enter").contains(.suspend(wholeGroup: true)))
    }

    @Test func aLiveProxyWithConnectionsOpenAsksFirst() {
        var s = Sample.screen(live: true)
        #expect(s.model.tracker.connections.count(where: \.isOpen) == 1)
        #expect(s.press("ctrl-z") == [])
        #expect(s.message?.text == "ctrl-z stops the whole process: 1 open connection waits until fg; ctrl-z again to suspend")
        #expect(s.press("ctrl-z") == [.suspend(wholeGroup: true)])
        // Another key in between: asked again.
        #expect(s.press("ctrl-z") == [])
        s.press("j")
        #expect(s.press("ctrl-z") == [])
        #expect(s.press("ctrl-z") == [.suspend(wholeGroup: true)])
        // A SIGTSTP from outside is not asked about.
        #expect(s.handle(.stop) == [.suspend(wholeGroup: false)])
    }

    /// `q` backing out of views a press or two too many would end a live proxy, and a guest's mount with it:
    /// on the list, with connections open, it asks first, and only `y` confirms. `Q` quits at once; offline,
    /// `q` quits at once.
    @Test func qOnTheListOfALiveProxyWithConnectionsOpenAsksFirst() {
        var s = Sample.screen(live: true)
        s.press("enter")
        #expect(s.press("q") == [], "back to the list")
        #expect(s.press("q") == [])
        #expect(s.message?.text == "quit? it closes the open connection: y quits, any other key stays (Q quits at once)")
        #expect(s.press("q") == [], "q again asks again")
        #expect(s.press("q") == [], "and again")
        #expect(s.press("y") == [.quit])
        #expect(s.press("y") == [], "y alone is no quit")
        #expect(s.press("q") == [])
        s.press("j")
        #expect(s.press("y") == [], "asked, then another key: y no longer confirms")
        #expect(s.press("q") == [])
        #expect(s.press("ctrl-z") == [], "ctrl-z asks its own question, not a confirmation of q")
        #expect(s.press("Q") == [.quit])
        var offline = Sample.screen()
        #expect(offline.press("q") == [.quit])
    }

    @Test func aLiveViewWithEveryConnectionClosedDoesNotAsk() {
        var model = InspectorModel()
        var traffic = SampleTraffic(conn: 1, start: 1_700_000_000_000_000_000)
        traffic.open()
        traffic.mountAndWorkload()
        traffic.close()
        model.handle(traffic.events)
        var s = InspectorScreen(model: model, theme: ThemeLoader.defaultTheme, timeFormat: .utc, title: "t", isLive: true)
        #expect(s.press("ctrl-z") == [.suspend(wholeGroup: true)])
        #expect(s.press("q") == [.quit])
    }

    /// An offline view of the sample session on a 100×24 fake terminal.
    private func sampleApp() -> (InspectorApp, FakeTerminal) {
        let screen = InspectorScreen(model: InspectorModel(), theme: ThemeLoader.defaultTheme, timeFormat: .utc,
                                     title: "test", isLive: false)
        let app = InspectorApp(screen: screen, actions: nil, configuration: .init(environment: [:]))
        app.enqueue(SampleTraffic.session())
        return (app, FakeTerminal(width: 100, height: 24))
    }

    /// The app stops through the backend, then draws every cell again (the shell wrote over them) and says
    /// how long it was away.
    @Test func theAppStopsAndRepaintsAllOnReturn() {
        let (app, terminal) = sampleApp()
        terminal.press("g", "ctrl-z")
        terminal.enqueue(.stop)
        terminal.press("Q")
        app.run(backend: terminal)
        #expect(terminal.stops == [true, false])
        let shown = terminal.snapshot()
        #expect(shown.contains("Tversion") && shown.contains("Tattach") && shown.contains("Rattach"), "the list drawn again:\n\(shown)")
        #expect(shown.contains("resumed after 0.0 s"), "\(shown)")
        #expect(!shown.contains("proxy was stopped"), "not a live view:\n\(shown)")
    }

    @Test func withoutJobControlNothingStopsAndItIsSaid() {
        let (app, terminal) = sampleApp()
        terminal.jobControl = false
        terminal.press("g", "ctrl-z")
        // No key ends it (a key would clear the message): a quit requested from outside, as a signal does.
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { app.requestQuit() }
        app.run(backend: terminal)
        #expect(terminal.stops == [true])
        #expect(terminal.snapshot().contains("not suspended: no shell's job control here would bring ninescope back (fg)"),
                "\(terminal.snapshot())")
        #expect(terminal.snapshot().contains("Tattach"), "the screen was not blanked")
    }
}
