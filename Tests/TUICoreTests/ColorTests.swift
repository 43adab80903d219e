import Testing
import TUICore

@Suite struct ColorTests {
    @Test func parsesThemeSpellings() {
        #expect(Color("red") == .red)
        #expect(Color("Bright-Red") == .brightRed)
        #expect(Color("brightred") == .brightRed)
        #expect(Color("bright_blue") == .brightBlue)
        #expect(Color("grey") == .brightBlack)
        #expect(Color("default") == .default)
        #expect(Color("color236") == .indexed(236))
        #expect(Color("colour7") == .indexed(7))
        #expect(Color("42") == .indexed(42))
        #expect(Color("#ff8800") == .rgb(255, 136, 0))
        #expect(Color("#f80") == .rgb(255, 136, 0))
        #expect(Color("256") == nil)
        #expect(Color("#12345") == nil)
        #expect(Color("purple") == nil)
        #expect(Color("") == nil)
    }

    @Test(arguments: [Color.default, .red, .brightWhite, .indexed(0), .indexed(255), .rgb(1, 2, 254)])
    func descriptionRoundTrips(color: Color) {
        #expect(Color(color.description) == color)
    }

    @Test func ansiIndicesRoundTrip() {
        for i in 0..<16 {
            #expect(Color(ansi: i)?.ansiIndex == i)
        }
        #expect(Color(ansi: 16) == nil)
    }

    @Test func paletteMapping() {
        #expect(Color.default.paletteIndex(forPaletteSize: 256) == nil)
        #expect(Color.red.paletteIndex(forPaletteSize: 256) == 1)
        #expect(Color.brightRed.paletteIndex(forPaletteSize: 16) == 9)
        #expect(Color.brightRed.paletteIndex(forPaletteSize: 8) == 1)
        #expect(Color.indexed(200).paletteIndex(forPaletteSize: 256) == 200)
        #expect(Color.red.paletteIndex(forPaletteSize: 0) == nil)
        // Pure RGB primaries land on cube corners: 16 + 36r + 6g + b with levels 0…5.
        #expect(Color.rgb(255, 0, 0).paletteIndex(forPaletteSize: 256) == 196)
        #expect(Color.rgb(0, 0, 0).paletteIndex(forPaletteSize: 256) == 16)
        #expect(Color.rgb(95, 135, 175).paletteIndex(forPaletteSize: 256) == 16 + 36 * 1 + 6 * 2 + 3)
        // A mid grey is closer to the grey ramp (8 + 10k) than to the cube: 128 → k = 12.
        #expect(Color.rgb(128, 128, 128).paletteIndex(forPaletteSize: 256) == 244)
        // On 16 colours, xterm's bright red (255,0,0) is index 9 and green (0,205,0) is 2.
        #expect(Color.rgb(255, 0, 0).paletteIndex(forPaletteSize: 16) == 9)
        #expect(Color.rgb(0, 200, 0).paletteIndex(forPaletteSize: 16) == 2)
        #expect(Color.indexed(196).paletteIndex(forPaletteSize: 16) == 9)
        #expect(Color.rgb(250, 0, 0).paletteIndex(forPaletteSize: 8) == 1)
    }

    @Test func styleDescription() {
        #expect(Style.plain.description == "plain")
        #expect(Style(fg: .red, bg: .indexed(236), attrs: [.underline, .bold]).description
                == "fg=red bg=color236 bold underline")
        let merged = Style(fg: .red, attrs: .bold).merged(with: Style(bg: .blue, attrs: .reverse))
        #expect(merged == Style(fg: .red, bg: .blue, attrs: [.bold, .reverse]))
    }

    @Test func rectGeometry() {
        let r = Rect(x: 2, y: 3, width: 10, height: 4)
        #expect(r.maxX == 12 && r.maxY == 7)
        #expect(r.contains(Point(x: 2, y: 3)) && !r.contains(Point(x: 12, y: 3)))
        #expect(r.intersection(Rect(x: 10, y: 0, width: 5, height: 4)) == Rect(x: 10, y: 3, width: 2, height: 1))
        #expect(r.intersection(Rect(x: 20, y: 20, width: 1, height: 1)).isEmpty)
        let (top, rest) = r.splitTop(1)
        #expect(top == Rect(x: 2, y: 3, width: 10, height: 1) && rest == Rect(x: 2, y: 4, width: 10, height: 3))
        let (body, status) = r.splitBottom(9)
        #expect(body.height == 0 && status == r)
        #expect(r.inset(by: 1) == Rect(x: 3, y: 4, width: 8, height: 2))
        #expect(r.splitRight(3).right == Rect(x: 9, y: 3, width: 3, height: 4))
    }
}
