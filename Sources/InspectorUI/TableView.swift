import InspectorCore
import NinePWire
import TUICore

/// Which table a table view shows.
public enum TableKind: Hashable, Sendable {
    case fids(ConnectionID)
    case statistics
    case anomalies
    case connections
}

struct TableState: Hashable {
    var kind: TableKind
    var cursor = ListCursor(count: 0, pageSize: 1, following: false)
    /// The table's title as last drawn (the title bar shows it; nil until drawn).
    var title: String?
}

extension InspectorModel {
    /// The table of a view; `window`: the rows that must be made (the rest may be left blank, as the anomaly
    /// table does: it can hold many thousands).
    func table(_ kind: TableKind, time: TimeFormat, window: Range<Int>? = nil) -> Table {
        switch kind {
        case .fids(let conn): fidTable(conn: conn)
        case .statistics: statisticsTable()
        case .anomalies: anomalyTable(time: time, window: window)
        case .connections: connectionTable(time: time)
        }
    }

    /// How many rows a view's table has, without making the ones that need not be.
    func tableRowCount(_ kind: TableKind, time: TimeFormat) -> Int {
        if case .anomalies = kind { return tracker.anomalies.count }
        return table(kind, time: time).rows.count
    }
}

/// A table: column headings, then rows in their roles, the selected one highlighted.
enum TableView {
    static func draw(_ table: Table, cursor: inout ListCursor, into canvas: inout Canvas, theme: Theme) {
        canvas.clear(theme.resolved(.normal))
        guard canvas.height > 0 else { return }
        cursor.setCount(table.rows.count)
        cursor.setPageSize(max(1, canvas.height - 1))
        let widths = table.widths(total: canvas.width - 1)
        canvas.fillRow(0, role: .listHeader, theme: theme)
        canvas.draw(line(table.columns.map(\.title), table.columns, widths, role: .listHeader), x: 1, y: 0, theme: theme)
        if table.rows.isEmpty {
            if canvas.height > 1 { canvas.draw(table.emptyText, role: .dim, x: 1, y: 1, theme: theme) }
            return
        }
        for (i, index) in cursor.visible.enumerated() {
            let y = i + 1
            guard y < canvas.height else { break }
            let row = table.rows[index]
            let selected = index == cursor.selected
            let overlay = selected ? theme.style(.listSelected) : nil
            canvas.fillRow(y, role: row.role, theme: theme, overlay: overlay)
            canvas.draw(line(row.cells, table.columns, widths, role: row.role), x: 1, y: y, theme: theme, overlay: overlay)
        }
    }

    static func line(_ cells: [String], _ columns: [TableColumn], _ widths: [Int], role: ThemeRole) -> StyledLine {
        var out = StyledLine()
        for (i, column) in columns.enumerated() where widths[i] > 0 {
            let text = i < cells.count ? cells[i] : ""
            out.append(Fit.cell(text, width: widths[i], alignRight: column.alignRight) + (i < columns.count - 1 ? " " : ""),
                       role)
        }
        return out
    }
}

/// The help screen, generated from the command registry.
enum HelpView {
    /// The help for a screen `width` columns wide (nil: not wrapped). A description longer than the room
    /// right of its key goes on over the next lines, under its own start; when that room is too narrow to
    /// read (under 24 columns), the description starts on a line of its own.
    static func lines(_ registry: CommandRegistry, width: Int? = nil) -> [StyledLine] {
        var out: [StyledLine] = []
        // The line drawn from column 1 holds `lead` (its width: `indent`) then `text`, wrapped.
        func add(_ lead: StyledLine, indent: Int, _ text: String) {
            guard let width else {
                var line = lead
                line.append(text, .normal)
                out.append(line)
                return
            }
            let room = width - 2 - indent
            if room >= 24 {
                for (i, piece) in text.wrapped(toDisplayWidth: room).enumerated() {
                    var line = i == 0 ? lead : StyledLine(String(repeating: " ", count: indent))
                    line.append(piece, .normal)
                    out.append(line)
                }
            } else {
                out.append(lead)
                for piece in text.wrapped(toDisplayWidth: max(8, width - 2 - 6)) {
                    out.append(StyledLine("      " + piece, .normal))
                }
            }
        }
        for section in registry.helpSections {
            out.append(StyledLine(section.title, .helpSection))
            for e in section.entries {
                var line = StyledLine()
                let keys = e.keys.isEmpty ? "" : e.keys.joined(separator: " ")
                line.append("  " + Fit.cell(keys, width: 20), .helpKey)
                line.append(" " + Fit.cell(e.usage, width: 22) + " ", .dim)
                add(line, indent: 2 + 20 + 1 + 22 + 1, e.summary)
            }
            out.append(StyledLine())
        }
        out.append(StyledLine("Filter language (/ and \\)", .helpSection))
        for (syntax, meaning) in CommandRegistry.filterHelp {
            // Syntax wider than its column has a line of its own (it was cut: `… malformed c…`).
            if width != nil, syntax.displayWidth > 32 {
                out.append(StyledLine("  " + syntax, .helpKey))
                add(StyledLine(String(repeating: " ", count: 2 + 32 + 1)), indent: 2 + 32 + 1, meaning)
            } else {
                add(StyledLine("  " + Fit.cell(syntax, width: 32) + " ", .helpKey), indent: 2 + 32 + 1, meaning)
            }
        }
        out.append(StyledLine())
        let prompts = "Prompts: enter runs, esc cancels, up/down recall history, tab completes."
        for piece in width.map({ prompts.wrapped(toDisplayWidth: max(8, $0 - 2)) }) ?? [prompts] {
            out.append(StyledLine(piece, .dim))
        }
        return out
    }

    static func draw(_ lines: [StyledLine], top: Int, into canvas: inout Canvas, theme: Theme) {
        canvas.clear(theme.resolved(.normal))
        for y in 0..<canvas.height {
            let index = top + y
            guard index < lines.count else { break }
            canvas.draw(lines[index], x: 1, y: y, theme: theme)
        }
    }
}
