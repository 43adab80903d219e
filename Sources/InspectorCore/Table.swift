/// A column of a `Table`: its title, preferred width and alignment. Views size flexible columns to fill
/// the screen and cut text that does not fit.
public struct TableColumn: Hashable, Sendable {
    public var title: String
    /// Preferred width in columns (the minimum for flexible columns).
    public var width: Int
    public var alignRight: Bool
    /// Takes a share of the spare width.
    public var flexible: Bool
    /// The most a flexible column grows to (nil: no limit), and then only as far as its cells need: a column
    /// of short names or numbers stays next to what follows it on a wide screen instead of pushing it to the
    /// far edge, and leaves the width to a column that can use it (a path).
    public var maxWidth: Int?
    public init(_ title: String, width: Int, alignRight: Bool = false, flexible: Bool = false, maxWidth: Int? = nil) {
        self.title = title; self.width = width; self.alignRight = alignRight; self.flexible = flexible
        self.maxWidth = maxWidth
    }
}

/// What `list.open` does on a table row.
public enum TableAction: Hashable, Sendable {
    /// Show the exchange list filtered by this expression.
    case filter(FilterExpr)
    /// Show the exchange list filtered by this expression, with this store row selected.
    case filterSelecting(FilterExpr, row: Int)
    /// Select this store row in the exchange list and open its detail.
    case showExchange(Int)
    /// Open the detail of this message, which belongs to no exchange (a run of unframeable bytes).
    case showMessage(Int)
}

/// One row: a text per column, the role it is drawn in, and what opening it does.
public struct TableRow: Hashable, Sendable {
    public var cells: [String]
    public var role: ThemeRole
    public var action: TableAction?
    public init(_ cells: [String], role: ThemeRole = .normal, action: TableAction? = nil) {
        self.cells = cells; self.role = role; self.action = action
    }
}

/// A titled table built from the model for one of the inspector's table views.
public struct Table: Hashable, Sendable {
    public var title: String
    public var columns: [TableColumn]
    public var rows: [TableRow]
    /// Shown instead of rows when there are none.
    public var emptyText: String
    public init(title: String, columns: [TableColumn], rows: [TableRow], emptyText: String = "nothing yet") {
        self.title = title; self.columns = columns; self.rows = rows; self.emptyText = emptyText
    }

    /// Column widths for a total width: preferred widths (plus one space between columns); spare width first
    /// to flexible columns with a `maxWidth`, each up to what its widest cell (or title) needs within that
    /// limit and at most an even share of the spare, then to the other flexible columns (what none of them
    /// takes stays blank at the right); and when too narrow, the columns beside a flexible one without a limit
    /// give way first (see below), then flexible columns then the last columns shrink.
    public func widths(total: Int) -> [Int] {
        guard !columns.isEmpty else { return [] }
        var widths = columns.map(\.width)
        let gaps = columns.count - 1
        var spare = total - gaps - widths.reduce(0, +)
        let flexible = columns.indices.filter { columns[$0].flexible }
        // At most an even share each, so that on a narrow screen a path keeps its part.
        let share = flexible.isEmpty ? 0 : max(0, spare) / flexible.count
        for i in flexible where spare > 0 {
            guard let limit = columns[i].maxWidth else { continue }
            let grow = max(0, min(share, min(limit, widestCell(i)) - widths[i]))
            widths[i] += grow
            spare -= grow
        }
        let open = flexible.filter { columns[$0].maxWidth == nil }
        if spare > 0, !open.isEmpty {
            for (k, i) in open.enumerated() {
                let share = spare / (open.count - k)
                widths[i] += share
                spare -= share
            }
        }
        guard spare < 0 else { return widths }
        // Too narrow. What a table is read for is its flexible column without a limit (a fid's path, an
        // anomaly's sentence): the columns beside it give way first. Flexible columns with a limit shrink to 4
        // (when there is such a column to give way to); then the columns after the last flexible one (counts,
        // `made by`) go, whole and from the right: a number cut short reads as another number; then flexible
        // columns shrink to 4, then any column from the right.
        var deficit = -spare
        if !open.isEmpty {
            for i in flexible where columns[i].maxWidth != nil && deficit > 0 {
                let cut = min(deficit, widths[i] - min(4, widths[i]))
                widths[i] -= cut
                deficit -= cut
            }
        }
        if let lastFlexible = flexible.last {
            for i in columns.indices.reversed() where i > lastFlexible && deficit > 0 {
                deficit -= widths[i] + 1   // its gap goes with it
                widths[i] = 0
            }
        }
        for i in flexible + columns.indices.reversed() where deficit > 0 {
            let floor = columns[i].flexible ? min(4, widths[i]) : 0
            let cut = min(deficit, widths[i] - floor)
            widths[i] -= cut
            deficit -= cut
        }
        // A column that went whole may leave room over: to the flexible columns, those without a limit first.
        for i in open + flexible.filter({ columns[$0].maxWidth != nil }) where deficit < 0 {
            let room = columns[i].maxWidth.map { max(0, min($0, widestCell(i)) - widths[i]) } ?? -deficit
            let grow = min(room, -deficit)
            widths[i] += grow
            deficit += grow
        }
        return widths
    }

    /// The width of column `i`'s widest cell, or of its title when that is wider.
    func widestCell(_ i: Int) -> Int {
        rows.reduce(columns[i].title.count) { max($0, i < $1.cells.count ? $1.cells[i].count : 0) }
    }

    /// The table as plain text lines, for a terminal or a file (`decode --stats`): the title, a line of
    /// column titles, then each row; every column as wide as its widest cell (never cut), two spaces
    /// between columns, numbers right-aligned; trailing spaces trimmed. `emptyText` when there are no rows.
    public func plainText() -> [String] {
        guard !rows.isEmpty else { return [title + ": " + emptyText] }
        let widths = columns.indices.map(widestCell)
        func line(_ cells: [String]) -> String {
            var text = ""
            for (i, column) in columns.enumerated() {
                let cell = i < cells.count ? cells[i] : ""
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                if i > 0 { text += "  " }
                text += column.alignRight ? pad + cell : cell + pad
            }
            while text.last == " " { text.removeLast() }
            return text
        }
        return [title, line(columns.map(\.title))] + rows.map { line($0.cells) }
    }
}
