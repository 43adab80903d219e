import Testing
import TUICore

@Suite struct GridTests {
    @Test func putWritesTextAndReturnsNextColumn() {
        var grid = Grid(width: 8, height: 2)
        let end = grid.put(text: "abc", at: Point(x: 2, y: 1))
        #expect(end == 5)
        #expect(grid.rows == ["        ", "  abc   "])
        #expect(grid[2, 1].character == "a")
        #expect(grid[4, 1].width == 1)
    }

    @Test func styleIsStoredPerCell() {
        var grid = Grid(width: 4, height: 1)
        let red = Style(fg: .red, attrs: .bold)
        grid.put(text: "ab", at: .zero, style: red)
        #expect(grid[0, 0].style == red)
        #expect(grid[1, 0].style == red)
        #expect(grid[2, 0].style == .plain)
    }

    @Test func wideCharacterTakesTwoColumnsWithContinuation() {
        var grid = Grid(width: 6, height: 1)
        let end = grid.put(text: "a漢b", at: .zero)
        #expect(end == 4)
        #expect(grid[1, 0].character == "漢")
        #expect(grid[1, 0].width == 2)
        #expect(grid[2, 0].isContinuation)
        #expect(grid[3, 0].character == "b")
        // The text dump has display width 6: the continuation cell adds nothing.
        #expect(grid.rows == ["a漢b  "])
    }

    @Test func emojiIsWide() {
        var grid = Grid(width: 4, height: 1)
        #expect(grid.put(text: "😀x", at: .zero) == 3)
        #expect(grid[1, 0].isContinuation)
        #expect(grid[2, 0].character == "x")
    }

    @Test func clippingAtGridEdgeDropsText() {
        var grid = Grid(width: 4, height: 1)
        let end = grid.put(text: "abcdef", at: Point(x: 2, y: 0))
        #expect(end == 8)  // logical end, as if unclipped
        #expect(grid.rows == ["  ab"])
    }

    @Test func negativeStartIsClippedOnTheLeft() {
        var grid = Grid(width: 4, height: 1)
        grid.put(text: "abcdef", at: Point(x: -2, y: 0))
        #expect(grid.rows == ["cdef"])
    }

    @Test func rowsOutsideAreIgnored() {
        var grid = Grid(width: 3, height: 1)
        grid.put(text: "abc", at: Point(x: 0, y: 1))
        grid.put(text: "abc", at: Point(x: 0, y: -1))
        #expect(grid.rows == ["   "])
    }

    @Test func wideCharacterCutByRightEdgeBecomesSpace() {
        var grid = Grid(width: 3, height: 1, filling: Cell("."))
        grid.put(text: "ab漢", at: .zero, style: Style(fg: .green))
        #expect(grid.rows == ["ab "])
        #expect(grid[2, 0].style == Style(fg: .green))
        #expect(!grid[2, 0].isContinuation)
    }

    @Test func wideCharacterCutByClipRectBecomesSpace() {
        var grid = Grid(width: 8, height: 1, filling: Cell("."))
        let clip = Rect(x: 2, y: 0, width: 3, height: 1)
        grid.put(text: "漢字語", at: Point(x: 1, y: 0), clip: clip)
        // Columns 1-2 hold 漢 (left half outside the clip): column 2 becomes a space.
        // Columns 3-4 hold 字, fully inside. 語 at 5-6 is outside.
        #expect(grid.rows == [".. 字..."])
        #expect(grid[3, 0].width == 2)
        #expect(grid[4, 0].isContinuation)
    }

    @Test func clipRestrictsRows() {
        var grid = Grid(width: 4, height: 3)
        let clip = Rect(x: 0, y: 1, width: 4, height: 1)
        grid.put(text: "top", at: Point(x: 0, y: 0), clip: clip)
        grid.put(text: "mid", at: Point(x: 0, y: 1), clip: clip)
        #expect(grid.rows == ["    ", "mid ", "    "])
    }

    @Test func overwritingLeftHalfOfWideCharBlanksRightHalf() {
        var grid = Grid(width: 4, height: 1)
        grid.put(text: "漢字", at: .zero)
        grid.put(text: "x", at: Point(x: 0, y: 0))
        #expect(grid.rows == ["x 字"])
        #expect(!grid[1, 0].isContinuation)
        #expect(grid[2, 0].width == 2)
    }

    @Test func overwritingRightHalfOfWideCharBlanksLeftHalf() {
        var grid = Grid(width: 4, height: 1)
        grid.put(text: "漢字", at: .zero)
        grid.put(text: "y", at: Point(x: 1, y: 0))
        #expect(grid.rows == [" y字"])
        #expect(grid[0, 0].width == 1)
    }

    @Test func wideOverWideAtOddOffsetBreaksBoth() {
        var grid = Grid(width: 6, height: 1)
        grid.put(text: "漢字", at: .zero)       // 漢 at 0-1, 字 at 2-3
        grid.put(text: "語", at: Point(x: 1, y: 0))  // 語 at 1-2
        #expect(grid.rows == [" 語   "])
        #expect(grid[1, 0].width == 2)
        #expect(grid[2, 0].isContinuation)
        #expect(!grid[3, 0].isContinuation)
    }

    @Test func controlsShowAsReplacementAndZeroWidthIsDropped() {
        var grid = Grid(width: 5, height: 1)
        let end = grid.put(text: "a\tb\u{200B}c", at: .zero)
        #expect(end == 4)
        #expect(grid.rows == ["a\u{FFFD}bc "])
    }

    @Test func combiningMarkStaysWithItsBase() {
        var grid = Grid(width: 3, height: 1)
        let end = grid.put(text: "e\u{301}x", at: .zero)
        #expect(end == 2)
        #expect(grid[0, 0].character == "e\u{301}")
        #expect(grid[1, 0].character == "x")
    }

    @Test func fillCoversRectClippedToGrid() {
        var grid = Grid(width: 4, height: 3)
        grid.fill(Rect(x: 2, y: 1, width: 5, height: 5), with: Cell("#"))
        #expect(grid.rows == ["    ", "  ##", "  ##"])
    }

    @Test func fillOverHalfAWideCharBlanksTheOtherHalf() {
        var grid = Grid(width: 4, height: 1)
        grid.put(text: "漢字", at: .zero)
        grid.fill(Rect(x: 1, y: 0, width: 2, height: 1), with: Cell("-"))
        #expect(grid.rows == [" -- "])
        #expect((0..<4).allSatisfy { !grid[$0, 0].isContinuation })
    }

    @Test func subgridCopiesAndCutsWideCharacters() {
        var grid = Grid(width: 6, height: 2)
        grid.put(text: "ab漢cd", at: .zero)  // a b 漢漢 c d
        grid.put(text: "123456", at: Point(x: 0, y: 1))
        let sub = grid.subgrid(Rect(x: 1, y: 0, width: 2, height: 2))
        #expect(sub.size == Size(width: 2, height: 2))
        #expect(sub.rows == ["b ", "23"])
        let sub2 = grid.subgrid(Rect(x: 3, y: 0, width: 3, height: 1))
        #expect(sub2.rows == [" cd"])
    }

    @Test func drawCopiesAnotherGridWithClip() {
        var small = Grid(width: 3, height: 2)
        small.put(text: "xyz", at: .zero)
        small.put(text: "uvw", at: Point(x: 0, y: 1))
        var grid = Grid(width: 5, height: 3, filling: Cell("."))
        grid.draw(small, at: Point(x: 1, y: 1), clip: Rect(x: 0, y: 0, width: 3, height: 3))
        #expect(grid.rows == [".....", ".xy..", ".uv.."])
    }

    @Test func restyleChangesStylesNotText() {
        var grid = Grid(width: 4, height: 1)
        grid.put(text: "ab漢", at: .zero)
        grid.restyle(Rect(x: 1, y: 0, width: 2, height: 1)) { $0.adding(.reverse) }
        #expect(grid.rows == ["ab漢"])
        #expect(grid[0, 0].style.attrs == [])
        #expect(grid[1, 0].style.attrs == .reverse)
        // Both halves of 漢 are reversed although the rect only covered its left half.
        #expect(grid[2, 0].style.attrs == .reverse)
        #expect(grid[3, 0].style.attrs == .reverse)
    }

    @Test func resizeKeepsTopLeft() {
        var grid = Grid(width: 3, height: 2)
        grid.put(text: "abc", at: .zero)
        grid.put(text: "def", at: Point(x: 0, y: 1))
        grid.resize(to: Size(width: 4, height: 1))
        #expect(grid.rows == ["abc "])
    }

    @Test func outOfBoundsReadIsBlank() {
        let grid = Grid(width: 2, height: 2, filling: Cell("x"))
        #expect(grid[5, 5] == .blank)
        #expect(grid[-1, 0] == .blank)
    }

    @Test func canvasTranslatesAndClips() {
        var grid = Grid(width: 8, height: 3, filling: Cell("."))
        let end = grid.withCanvas(Rect(x: 2, y: 1, width: 4, height: 1)) { canvas -> Int in
            #expect(canvas.size == Size(width: 4, height: 1))
            canvas.put(text: "hello", at: Point(x: 1, y: 0))
            canvas.put(text: "never", at: Point(x: 0, y: 1))
            return canvas.put(text: "Z", at: .zero)
        }
        #expect(end == 1)
        #expect(grid.rows == ["........", "..Zhel..", "........"])
    }

    @Test func nestedCanvasClipsToParent() {
        var grid = Grid(width: 6, height: 2, filling: Cell("."))
        grid.withCanvas(Rect(x: 1, y: 0, width: 3, height: 2)) { outer in
            outer.withCanvas(Rect(x: 1, y: 1, width: 10, height: 10)) { inner in
                inner.clear()
                inner.put(text: "abcdef", at: .zero)
            }
        }
        #expect(grid.rows == ["......", "..ab.."])
    }

    @Test func styleLayerMarksStylesInOrderOfAppearance() {
        var grid = Grid(width: 5, height: 2)
        grid.put(text: "ab", at: .zero, style: Style(fg: .red))
        grid.put(text: "漢", at: Point(x: 3, y: 0), style: Style(attrs: .bold))
        grid.put(text: "c", at: Point(x: 0, y: 1), style: Style(fg: .red))
        let layer = grid.styleLayer()
        #expect(layer.rows == ["aa.bb", "a...."])
        #expect(layer.legend == ["a: fg=red", "b: bold"])
    }

    @Test func textTrimsTrailingSpaces() {
        var grid = Grid(width: 5, height: 2)
        grid.put(text: "hi", at: Point(x: 1, y: 0))
        #expect(grid.text == " hi\n")
    }
}
