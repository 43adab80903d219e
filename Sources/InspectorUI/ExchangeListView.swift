import InspectorCore
import TUICore

/// Column widths of the exchange list for a screen width.
struct ExchangeListLayout: Hashable {
    var mark = 2
    var time: Int
    var conn: Int
    var tag = 5
    var request: Int
    var reply: Int
    var latency = 7

    /// Wide screens get the full `HH:MM:SS.mmm`; narrow ones `MM:SS.mmm` (the hour is dropped).
    init(width: Int, connDigits: Int = 1) {
        time = width >= 100 ? 12 : 9
        conn = max(4, 1 + connDigits)
        let fixed = mark + time + conn + tag + latency + 6  // six single-space gaps
        let flexible = max(0, width - fixed)
        request = (flexible * 11 + 10) / 20
        reply = max(0, flexible - request)
    }

    var widths: [Int] { [mark, time, conn, tag, request, reply, latency] }
}

/// The exchange list: a heading line, then one row per visible exchange, coloured by state, the
/// selection highlighted. Only visible rows are formatted (their frames decoded), so a million rows
/// cost nothing until scrolled to.
enum ExchangeListView {
    /// Rows of exchanges that fit in a body of `height` lines (one is the heading).
    static func pageSize(height: Int) -> Int { max(1, height - 1) }

    /// `sourceEnded`: no more traffic will come (a capture read to its end), so an empty list is not waiting.
    static func draw(_ model: InspectorModel, into canvas: inout Canvas, theme: Theme, time: TimeFormat,
                     now: Int64? = nil, sourceEnded: Bool = false) {
        canvas.clear(theme.resolved(.normal))
        guard canvas.height > 0 else { return }
        let maxConn = model.store.isEmpty ? 0 : model.store[model.store.count - 1].conn
        let layout = ExchangeListLayout(width: canvas.width, connDigits: String(maxConn).count)
        var heading = StyledLine()
        for (i, title) in ExchangeFormatter.titles.enumerated() {
            let w = layout.widths[i]
            heading.append(Fit.cell(title, width: w, alignRight: i == 6) + (i < 6 ? " " : ""), .listHeader)
        }
        canvas.fillRow(0, role: .listHeader, theme: theme)
        canvas.draw(heading, y: 0, theme: theme)

        let cursor = model.cursor
        if model.view.isEmpty {
            let text: String
            if model.store.isEmpty, model.tracker.anomalyTotal > 0 {
                // Bytes came, but no exchange: unframeable ones, say (a peer that does not speak 9P).
                let n = model.tracker.anomalyTotal
                text = "no exchange yet; \(n) \(n == 1 ? "anomaly" : "anomalies") (the anomalies view shows them)"
            } else if model.store.isEmpty {
                // A capture with no 9P in it (each connection skipped is named on the message line).
                text = sourceEnded ? "no 9P exchange in this capture" : "waiting for traffic…"
            } else if !model.isScanComplete {
                text = "filtering…"
            } else {
                text = "no exchange matches the filter \(model.view.filter)"
            }
            canvas.draw(text, role: .dim, x: 1, y: min(1, canvas.height - 1), theme: theme)
            return
        }
        for (line, position) in cursor.visible.enumerated() {
            let y = line + 1
            guard y < canvas.height else { break }
            let row = model.view[position]
            let columns = model.columns(ofRow: row, time: time, now: now)
            let texts = [columns.mark, timeText(columns.time, width: layout.time), columns.conn, columns.tag, columns.request, columns.reply,
                         columns.latency]
            var styled = StyledLine()
            for (i, text) in texts.enumerated() {
                styled.append(Fit.cell(text, width: layout.widths[i], alignRight: i == 6 || i == 3) + (i < 6 ? " " : ""),
                              columns.role)
            }
            let selected = position == cursor.selected
            let overlay = selected ? theme.style(.listSelected) : nil
            canvas.fillRow(y, role: columns.role, theme: theme, overlay: overlay)
            canvas.draw(styled, y: y, theme: theme, overlay: overlay)
        }
    }

    /// The text of a time cell: `HH:MM:SS.mmm`, or `MM:SS.mmm` in a 9-column cell.
    static func timeText(_ text: String, width: Int) -> String {
        text.count > width && text.count == 12 && width == 9 ? String(text.dropFirst(3)) : text
    }
}
