import Testing
import TUICore
import NinePTestSupport

@Suite struct RendererTests {
    @Test func firstFrameIsOneRunPerRow() {
        var grid = Grid(width: 4, height: 2)
        grid.put(text: "ab", at: .zero)
        let runs = Renderer.diff(old: nil, new: grid)
        #expect(runs.map(\.origin) == [Point(x: 0, y: 0), Point(x: 0, y: 1)])
        #expect(runs.map(\.text) == ["ab  ", "    "])
    }

    @Test func identicalFramesProduceNothing() {
        var grid = Grid(width: 10, height: 3)
        grid.put(text: "same", at: Point(x: 1, y: 1))
        #expect(Renderer.diff(old: grid, new: grid).isEmpty)
    }

    @Test func onlyChangedCellsAreSent() {
        var old = Grid(width: 10, height: 3)
        old.put(text: "hello world", at: .zero)
        var new = old
        new.put(text: "J", at: Point(x: 0, y: 0))   // hello → Jello
        new.put(text: "W", at: Point(x: 6, y: 0))   // world → World
        new.put(text: "!", at: Point(x: 9, y: 2))
        let runs = Renderer.diff(old: old, new: new)
        #expect(runs == [
            CellRun(origin: Point(x: 0, y: 0), cells: [Cell("J")]),
            CellRun(origin: Point(x: 6, y: 0), cells: [Cell("W")]),
            CellRun(origin: Point(x: 9, y: 2), cells: [Cell("!")]),
        ])
    }

    @Test func adjacentChangesFormOneRun() {
        var old = Grid(width: 8, height: 1)
        old.put(text: "abcdefgh", at: .zero)
        var new = old
        new.put(text: "XYZ", at: Point(x: 2, y: 0))
        let runs = Renderer.diff(old: old, new: new)
        #expect(runs.count == 1)
        #expect(runs[0].origin == Point(x: 2, y: 0))
        #expect(runs[0].text == "XYZ")
    }

    @Test func styleOnlyChangeIsSent() {
        var old = Grid(width: 4, height: 1)
        old.put(text: "abcd", at: .zero)
        var new = old
        new.restyle(Rect(x: 1, y: 0, width: 2, height: 1)) { $0.adding(.reverse) }
        let runs = Renderer.diff(old: old, new: new)
        #expect(runs.count == 1)
        #expect(runs[0].origin.x == 1 && runs[0].text == "bc")
        #expect(runs[0].cells.allSatisfy { $0.style.attrs == .reverse })
    }

    @Test func runsNeverSplitWideCharacters() {
        var old = Grid(width: 6, height: 1)
        old.put(text: "a漢b", at: .zero)
        // Change only the style of the continuation half: the run must include the lead cell.
        var new = old
        new.restyle(Rect(x: 2, y: 0, width: 1, height: 1)) { $0.adding(.bold) }
        let runs = Renderer.diff(old: old, new: new)
        #expect(runs.count == 1)
        #expect(runs[0].origin.x == 1)
        #expect(runs[0].cells.count == 2)
        #expect(runs[0].cells[0].character == "漢" && runs[0].cells[1].isContinuation)
    }

    @Test func replacingWideWithNarrowSendsBothColumns() {
        var old = Grid(width: 4, height: 1)
        old.put(text: "漢", at: .zero)
        var new = Grid(width: 4, height: 1)
        new.put(text: "xy", at: .zero)
        let runs = Renderer.diff(old: old, new: new)
        #expect(runs == [CellRun(origin: .zero, cells: [Cell("x"), Cell("y")])])
    }

    @Test func sizeChangeRedrawsEverything() {
        let old = Grid(width: 3, height: 1)
        let new = Grid(width: 4, height: 2)
        let runs = Renderer.diff(old: old, new: new)
        #expect(runs.count == 2)
        #expect(runs.allSatisfy { $0.width == 4 && $0.origin.x == 0 })
    }

    @Test func diffIsMinimalAndReproducesTheNewFrame() {
        // A deterministic pseudo-random sequence of edits; after applying each diff to a copy of
        // the old frame the copy equals the new frame, and the runs cover exactly the changed
        // cells (no wide characters involved, so no widening is needed).
        var state: UInt64 = 0x9E3779B97F4A7C15
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        let letters = Array("abcdefghij")
        var frame = Grid(width: 20, height: 6)
        for _ in 0..<50 {
            var new = frame
            for _ in 0..<next(6) {
                new.put(text: String(letters[next(letters.count)]), at: Point(x: next(20), y: next(6)),
                        style: next(2) == 0 ? .plain : Style(fg: .yellow))
            }
            let runs = Renderer.diff(old: frame, new: new)
            var changed = 0
            for y in 0..<6 {
                for x in 0..<20 where frame[x, y] != new[x, y] { changed += 1 }
            }
            #expect(runs.reduce(0) { $0 + $1.width } == changed)
            var replay = frame
            for run in runs {
                for (i, cell) in run.cells.enumerated() { replay.set(cell, at: run.origin.offset(dx: i)) }
                // Every run consists of changed cells only.
                for i in 0..<run.width {
                    #expect(frame[run.origin.x + i, run.origin.y] != new[run.origin.x + i, run.origin.y])
                }
            }
            #expect(replay == new)
            frame = new
        }
    }

    @Test func renderDrawsDiffSetsCursorAndPresents() {
        let terminal = FakeTerminal(width: 6, height: 2)
        var renderer = Renderer()
        var grid = Grid(width: 6, height: 2)
        grid.put(text: "one", at: .zero)
        renderer.render(grid, to: terminal)
        #expect(terminal.presentCount == 1)
        #expect(terminal.drawLog.count == 1 && terminal.drawLog[0].count == 2)
        grid.put(text: "two", at: Point(x: 0, y: 1))
        let runs = renderer.render(grid, to: terminal, cursor: Point(x: 3, y: 1))
        #expect(runs == [CellRun(origin: Point(x: 0, y: 1), cells: [Cell("t"), Cell("w"), Cell("o")])])
        #expect(terminal.cursor == Point(x: 3, y: 1))
        #expect(terminal.snapshot() == "one\ntwo")
        // Nothing changed: no draw call, still a present.
        renderer.render(grid, to: terminal)
        #expect(terminal.drawLog.count == 2 && terminal.presentCount == 3)
        // After invalidate everything is sent again.
        renderer.invalidate()
        let all = renderer.render(grid, to: terminal)
        #expect(all.count == 2 && all.allSatisfy { $0.width == 6 })
    }
}
