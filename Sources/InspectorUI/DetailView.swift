import InspectorCore
import TUICore

/// The detail view of one exchange: summary lines and the decode tree of each frame on top, and a hex
/// dump of the frame under the cursor below, the selected field's bytes highlighted.
struct DetailState: Hashable {
    /// The store row shown.
    var row: Int
    /// For the detail of a message that belongs to no exchange (`row` is then -1): its index.
    var message: Int?
    var detail: Detail
    /// Over `detail.lines`.
    var cursor: ListCursor

    init(row: Int, message: Int? = nil, detail: Detail, pageSize: Int = 1) {
        self.row = row
        self.message = message
        self.detail = detail
        cursor = ListCursor(count: detail.lines.count, pageSize: pageSize, following: false)
        if let first = detail.firstFieldLine { cursor.select(first) }
    }

    /// Rebuilds the lines (the exchange changed: a reply arrived …), keeping the cursor where it was.
    mutating func refresh(_ detail: Detail) {
        guard detail != self.detail else { return }
        let selected = cursor.selected
        self.detail = detail
        cursor.setCount(detail.lines.count)
        if let selected { cursor.select(selected) }
    }

    /// The line under the cursor.
    var selectedLine: DetailLine? { cursor.selected.map { detail.lines[$0] } }

    /// Moves to the next frame heading (wrapping around).
    mutating func cycleSection(forward: Bool = true) {
        let sections = detail.sectionLines
        guard !sections.isEmpty else { return }
        let current = cursor.selected ?? -1
        let next = forward ? sections.first { $0 > current } ?? sections[0]
                           : sections.last { $0 < current } ?? sections[sections.count - 1]
        cursor.select(next)
    }
}

extension Detail {
    /// The summary lines of one style (an anomaly's sentence, an error) that are wider than `width` columns,
    /// wrapped onto lines of their own (indented by two), so that the whole sentence can be read; headings
    /// and fields are left as they are (the hex dump shows what a field holds).
    func wrappingNotes(width: Int) -> Detail {
        guard width > 10, lines.contains(where: { $0.frame == nil && $0.text.text.displayWidth > width }) else {
            return self
        }
        var out = self
        out.lines = []
        for line in lines {
            guard line.frame == nil, line.text.runs.count == 1, line.text.text.displayWidth > width else {
                out.lines.append(line)
                continue
            }
            let run = line.text.runs[0]
            for (i, piece) in run.text.wrapped(toDisplayWidth: width - 2).enumerated() {
                var wrapped = line
                wrapped.text = StyledLine((i == 0 ? "" : "  ") + piece, run.role)
                out.lines.append(wrapped)
            }
        }
        return out
    }
}

enum DetailView {
    /// Rows given to the hex dump in a body of `height` lines.
    static func hexHeight(body height: Int, frameLines: Int) -> Int {
        guard height >= 8 else { return 0 }
        return min(frameLines, max(3, height * 2 / 5))
    }

    /// Lays out the tree and hex areas; sets the tree cursor's page size.
    static func layout(_ state: inout DetailState, body: Rect, showHex: Bool) -> (tree: Rect, hex: Rect?) {
        var tree = body
        var hex: Rect?
        if showHex, let line = state.selectedLine ?? state.detail.lines.first(where: { $0.frame != nil }),
           let frame = line.frame {
            let bytes = state.detail.frames[frame]
            let perLine = HexFormatter.bytesPerLine(forWidth: body.width, count: bytes.count)
            let h = hexHeight(body: body.height, frameLines: HexFormatter.lineCount(bytes.count, bytesPerLine: perLine))
            if h > 0 {
                let split = body.splitBottom(h + 1)
                tree = split.rest
                hex = split.bottom
            }
        }
        state.cursor.setPageSize(max(1, tree.height))
        return (tree, hex)
    }

    static func draw(_ state: inout DetailState, into canvas: inout Canvas, theme: Theme, showHex: Bool) {
        canvas.clear(theme.resolved(.normal))
        let (treeRect, hexRect) = layout(&state, body: canvas.bounds, showHex: showHex)
        for (i, index) in state.cursor.visible.enumerated() {
            let y = treeRect.minY + i
            guard y < treeRect.maxY else { break }
            let line = state.detail.lines[index]
            let selected = index == state.cursor.selected
            let overlay = selected ? theme.style(.listSelected) : nil
            if selected { canvas.fillRow(y, role: .normal, theme: theme, overlay: overlay) }
            canvas.draw(line.text, x: 1, y: y, theme: theme, overlay: overlay)
        }
        guard let hexRect, let line = state.selectedLine ?? state.detail.lines.first(where: { $0.frame != nil }),
              let frame = line.frame else { return }
        let bytes = state.detail.frames[frame]
        let perLine = HexFormatter.bytesPerLine(forWidth: hexRect.width, count: bytes.count)
        // Separator with the frame's size.
        let sepY = hexRect.minY
        canvas.fillRow(sepY, role: .border, theme: theme)
        let title = "─ \(line.isSection ? "frame" : "field") bytes \(line.range.map { "\($0.lowerBound)..<\($0.upperBound)" } ?? "")"
            + " of \(bytes.count) "
        canvas.draw(title + String(repeating: "─", count: max(0, hexRect.width - title.displayWidth)),
                    role: .border, y: sepY, theme: theme)
        let rows = hexRect.height - 1
        guard rows > 0 else { return }
        let total = HexFormatter.lineCount(bytes.count, bytesPerLine: perLine)
        // Scroll so the highlighted bytes start on screen (centred when possible).
        let highlight = line.isSection ? nil : line.range
        let first = highlight.map { HexFormatter.line(containing: $0.lowerBound, bytesPerLine: perLine) } ?? 0
        let top = max(0, min(first - rows / 3, total - rows))
        for i in 0..<rows {
            let index = top + i
            guard index < total else { break }
            canvas.draw(HexFormatter.line(index, of: bytes, bytesPerLine: perLine, highlight: highlight),
                        x: 1, y: sepY + 1 + i, theme: theme)
        }
    }
}
