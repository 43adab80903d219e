import Testing
import TUICore
import NinePTestSupport

@Suite struct FakeTerminalTests {
    @Test func snapshotShowsTextAndStyles() {
        let terminal = FakeTerminal(width: 10, height: 3)
        var grid = Grid(width: 10, height: 3)
        grid.put(text: "Title", at: .zero, style: Style(attrs: .bold))
        grid.put(text: "漢字 ok", at: Point(x: 0, y: 1))
        grid.fill(Rect(x: 0, y: 2, width: 10, height: 1), style: Style(bg: .blue))
        grid.put(text: "status", at: Point(x: 1, y: 2), style: Style(fg: .white, bg: .blue))
        var renderer = Renderer()
        renderer.render(grid, to: terminal)
        #expect(terminal.snapshot() == "Title\n漢字 ok\n status")
        #expect(terminal.snapshot(styles: true) == """
            Title
            漢字 ok
             status
            --- styles ---
            aaaaa

            bccccccbbb
            a: bold
            b: bg=blue
            c: fg=white bg=blue
            """)
    }

    @Test func untrimmedSnapshotKeepsWidth() {
        let terminal = FakeTerminal(width: 4, height: 1)
        var grid = Grid(width: 4, height: 1)
        grid.put(text: "ab", at: .zero)
        var renderer = Renderer()
        renderer.render(grid, to: terminal, cursor: Point(x: 2, y: 0))
        #expect(terminal.snapshot(trimTrailing: false, cursor: true) == "ab  \ncursor: (2,0)")
        renderer.render(grid, to: terminal)
        #expect(terminal.snapshot(cursor: true) == "ab\ncursor: hidden")
    }

    @Test func scriptedInputIsServedInOrderThenTimesOut() {
        let terminal = FakeTerminal(width: 4, height: 1)
        terminal.type("j\n")
        terminal.press("ctrl-f", "pgdn")
        terminal.enqueue(.mouse(MouseEvent(.scrollDown, at: Point(x: 1, y: 0))))
        var events: [InputEvent] = []
        while let event = terminal.readEvent(timeout: .milliseconds(10)) { events.append(event) }
        #expect(events == [
            .key(KeyChord("j")), .key(.enter), .key(KeyChord(.character("f"), modifiers: .ctrl)), .key(.pageDown),
            .mouse(MouseEvent(.scrollDown, at: Point(x: 1, y: 0))),
        ])
        #expect(terminal.readTimeouts.count == 6)
        #expect(terminal.readTimeouts.last == .milliseconds(10))
    }

    @Test func resizeChangesSizeAndQueuesEvent() {
        let terminal = FakeTerminal(width: 4, height: 2)
        terminal.resize(to: Size(width: 6, height: 1))
        #expect(terminal.size == Size(width: 6, height: 1))
        #expect(terminal.readEvent(timeout: nil) == .resize(Size(width: 6, height: 1)))
    }

    @Test func suspendAndResumeAreRecorded() {
        let terminal = FakeTerminal(width: 2, height: 1)
        terminal.suspend()
        #expect(terminal.isSuspended)
        terminal.resume()
        #expect(!terminal.isSuspended && terminal.suspendCount == 1 && terminal.resumeCount == 1)
    }

    @Test func drawingOverWideCharactersKeepsScreenConsistent() {
        let terminal = FakeTerminal(width: 4, height: 1)
        var renderer = Renderer()
        var grid = Grid(width: 4, height: 1)
        grid.put(text: "漢字", at: .zero)
        renderer.render(grid, to: terminal)
        grid.put(text: "x", at: Point(x: 1, y: 0))
        renderer.render(grid, to: terminal)
        #expect(terminal.screen == grid)
        #expect(terminal.snapshot() == " x字")
    }
}
