import InspectorCore
import NinePWire
import TUICore

/// Something the screen asks the app to do (it has no I/O of its own).
public enum InspectorEffect: Hashable, Sendable {
    case quit
    /// Repaint everything (the terminal may have been scribbled on).
    case redraw
    /// Stop the process as a shell's job (`TerminalBackend.stopProcess`), the whole process group for
    /// ctrl-z, this process for a SIGTSTP sent to it.
    case suspend(wholeGroup: Bool)
    /// Send Tflush for `tag` on `conn` (the exchange shown in `row`).
    case flush(conn: ConnectionID, tag: Tag, row: Int)
    /// Inject a request, written in the REPL's grammar, into `conn`.
    case inject(conn: ConnectionID, request: String)
    /// Write the session to a pcapng capture.
    case save(path: String)
    /// Show the proxy's fault rules (empty), set them (`proxy --fault`'s SPEC) or turn them off (`off`).
    case faults(String)
    /// Switch to the theme `--theme` would load for this NAME|PATH.
    case loadTheme(String)
    /// A history changed (the app may persist it).
    case historyChanged
}

/// The whole inspector UI as a value: the model, the view stack, the prompt and status line, the theme.
/// Keys go in (`handle`), effects come out; `render` draws into a grid. No terminal, no clock, no I/O,
/// so every screen is testable against a `Grid`.
public struct InspectorScreen {
    /// One entry of the view stack (the exchange list is always at the bottom).
    enum Screen: Hashable {
        case list
        case detail(DetailState)
        case table(TableState)
        case help(top: Int)
    }

    public var model: InspectorModel
    public var theme: Theme
    public let registry: CommandRegistry
    public var timeFormat: TimeFormat
    /// What is being inspected, for the title bar (`live: 127.0.0.1:5640 → 127.0.0.1:564`, a file name).
    public var title: String
    /// What the capture being written says on the status line (`REC 12 MB`), if one is (the live proxy's).
    public var recording: String?
    /// Whether the session is live (flush and inject need a proxy).
    public var isLive: Bool
    /// Whether the traffic's source has ended and every event of it was taken in (a capture read to its
    /// end): an empty list then says there is no 9P, not that it waits for traffic.
    public var sourceEnded = false
    /// The present moment (ns since the epoch) for a live session, set by the loop before each frame: what a
    /// pending request's age counts to. Nil (a capture): the traffic's latest time, where the capture ends.
    public var now: Int64?
    /// The moment pending requests' ages are counted to now.
    var ageClock: Int64? { now ?? model.store.lastTime }
    /// Whether the view on top shows a pending request's age (which changes as time passes without traffic).
    public var showsPendingAge: Bool {
        switch stack.last ?? .list {
        case .list:
            return model.cursor.visible.contains { model.store[model.view[$0]].status == .pending }
        case .detail(let state):
            return state.message == nil && model.store.isHeld(state.row) && model.store[state.row].status == .pending
        default:
            return false
        }
    }
    /// Show the hex dump under the decode tree.
    public var showHex = true
    public var filterHistory = History()
    public var commandHistory = History()
    /// Suggested file name for `capture.save`.
    public var defaultSavePath = "ninescope.pcapng"
    /// Whether a file exists (the app's look at the file system, a directory not counted; nil: not asked):
    /// `capture.save` does not write over one, `capture.saveOver` (`:w! FILE`) does.
    public var fileExists: (@Sendable (String) -> Bool)?
    /// Completions for the `:` and inject prompts beyond command names (the REPL grammar's), if any.
    public var requestCompleter: (@Sendable (String) -> [String])?
    /// The words that begin a request at the `:` prompt besides the T-message names (the REPL's `walk`,
    /// `read` …), lowercased: a first word that is neither one of them nor a command is refused as an unknown
    /// command, live or not. Nil: any such line is handed to the injector as a request.
    public var requestWords: Set<String>?

    var stack: [Screen] = [.list]
    var prompt: PromptState?
    /// The terminal size of the last render (views opened between renders are laid out for it).
    var lastSize = Size(width: 80, height: 24)
    /// The status line's message (until the next key), and whether it reports an error.
    public internal(set) var message: (text: String, isError: Bool)?
    /// The command whose key, pressed again next, confirms what it asked (ctrl-z or `q` in a live proxy with
    /// connections open); nil when nothing was asked.
    var confirmationAsked: CommandName?

    public init(model: InspectorModel, theme: Theme, registry: CommandRegistry = .standard,
                timeFormat: TimeFormat = .utc, title: String = "", isLive: Bool = false) {
        self.model = model
        self.theme = theme
        self.registry = registry
        self.timeFormat = timeFormat
        self.title = title
        self.isLive = isLive
    }

    /// The name of the view on top (for tests and the title bar).
    public var currentView: String {
        switch stack.last ?? .list {
        case .list: "exchanges"
        case .detail(let d): d.message.map { "message #\($0)" } ?? "exchange x\(d.row)"
        case .table(let t):
            // The table's own title ("statistics", "fids of c1 · user glenda(1000)"), as drawn this frame (the
            // body is drawn before the title bar) or made for it before any draw; a uname can be long, the
            // file's name beside it stays.
            (t.title ?? model.table(t.kind, time: timeFormat).title).truncated(toDisplayWidth: 48)
        case .help: "help"
        }
    }

    /// Whether a prompt is open, and which.
    public var promptKind: PromptKind? { prompt?.kind }

    /// Shows a message in the status line until the next key.
    public mutating func setMessage(_ text: String, isError: Bool = false) {
        message = (text, isError)
    }

    // MARK: - Drawing

    /// Draws the screen into `grid` (its size is the terminal's); returns where the text cursor goes
    /// (in the prompt), or nil to hide it.
    @discardableResult
    public mutating func render(into grid: inout Grid) -> Point? {
        grid.clear(theme.resolved(.normal))
        let bounds = grid.bounds
        lastSize = grid.size
        guard bounds.height >= 4, bounds.width >= 20 else {
            grid.withCanvas(bounds) { c in
                _ = c.draw("terminal too small", role: .statusError, y: 0, theme: theme)
            }
            return nil
        }
        let (top, rest) = bounds.splitTop(1)
        // A message or prompt error wider than the screen is wrapped onto rows taken from the body (until the
        // next key), at most half of them: at 80 columns an error is often longer than one line.
        let said = statusMessage(width: bounds.width, maxRows: max(1, (bounds.height - 3) / 2))
        let (middle, bottom) = rest.splitBottom(1 + max(1, said?.lines.count ?? 1))
        let (statusRect, promptRect) = bottom.splitTop(bottom.height - 1)
        grid.withCanvas(middle) { drawBody(into: &$0) }
        grid.withCanvas(top) { drawHeader(into: &$0) }
        grid.withCanvas(statusRect) { drawStatus(said, into: &$0) }
        var cursor: Point?
        grid.withCanvas(promptRect) { c in
            if let prompt {
                let x = prompt.draw(into: &c, y: 0, theme: theme)
                cursor = Point(x: promptRect.x + min(x, c.width - 1), y: promptRect.y)
            } else {
                drawHints(into: &c)
            }
        }
        return cursor
    }

    /// The body's size for the last terminal size (everything but title, status and prompt lines).
    var bodySize: Size { Size(width: lastSize.width, height: max(0, lastSize.height - 3)) }

    /// A row's detail for a view `width` columns wide: its notes (an anomaly's sentence …) wrapped to it.
    func detail(ofRow row: Int, width: Int) -> Detail {
        model.detail(ofRow: row, time: timeFormat, now: ageClock).wrappingNotes(width: width - 2)
    }

    /// A detail view of a row, laid out for the current body size.
    func makeDetail(_ row: Int) -> Screen {
        var d = DetailState(row: row, detail: detail(ofRow: row, width: bodySize.width), pageSize: bodySize.height)
        _ = DetailView.layout(&d, body: Rect(size: bodySize), showHex: showHex)
        return .detail(d)
    }

    /// A detail view of a message that belongs to no exchange; nil when the view no longer holds it.
    func makeMessageDetail(_ index: Int) -> Screen? {
        guard let detail = model.detail(ofMessage: index, time: timeFormat) else { return nil }
        var d = DetailState(row: -1, message: index, detail: detail.wrappingNotes(width: bodySize.width - 2),
                            pageSize: bodySize.height)
        _ = DetailView.layout(&d, body: Rect(size: bodySize), showHex: showHex)
        return .detail(d)
    }

    private mutating func drawBody(into canvas: inout Canvas) {
        switch stack.last ?? .list {
        case .list:
            model.setPageSize(ExchangeListView.pageSize(height: canvas.height))
            ExchangeListView.draw(model, into: &canvas, theme: theme, time: timeFormat, now: ageClock,
                                  sourceEnded: sourceEnded)
        case .detail(var state):
            if state.message == nil, model.store.isHeld(state.row) {   // (a row the history forgot keeps what it last showed)
                state.refresh(detail(ofRow: state.row, width: canvas.width))
            }
            DetailView.draw(&state, into: &canvas, theme: theme, showHex: showHex)
            stack[stack.count - 1] = .detail(state)
        case .table(var state):
            // The anomaly table makes only the page the view will show.
            var window: Range<Int>?
            if case .anomalies = state.kind {
                state.cursor.setCount(model.tableRowCount(state.kind, time: timeFormat))
                state.cursor.setPageSize(max(1, canvas.height - 1))
                window = state.cursor.visible
            }
            let table = model.table(state.kind, time: timeFormat, window: window)
            TableView.draw(table, cursor: &state.cursor, into: &canvas, theme: theme)
            state.title = table.title
            stack[stack.count - 1] = .table(state)
        case .help(let top):
            let lines = HelpView.lines(registry, width: canvas.width)
            let clamped = max(0, min(top, lines.count - canvas.height))
            HelpView.draw(lines, top: clamped, into: &canvas, theme: theme)
            stack[stack.count - 1] = .help(top: clamped)
        }
    }

    private func drawHeader(into canvas: inout Canvas) {
        canvas.fillRow(0, role: .header, theme: theme)
        let left = " ninescope" + (title.isEmpty ? "" : " · " + title)
        let right = currentView + " "
        let rightWidth = right.displayWidth
        // Cut with an ellipsis: an address cut short reads as another (`127.0.0.1:42` for port 42313).
        let room = max(0, canvas.width - rightWidth - 1)
        canvas.draw(left.truncated(toDisplayWidth: room), role: .header, y: 0, maxX: room, theme: theme)
        canvas.draw(right, role: .header, x: max(0, canvas.width - rightWidth), y: 0, theme: theme)
    }

    /// What the status line says instead of the view's status (a prompt's error, else the message) in lines of
    /// at most `width` columns with their blank at each side, at most `maxRows` of them (the last one cut with an
    /// ellipsis when even they are too few); nil when there is nothing to say.
    func statusMessage(width: Int, maxRows: Int) -> (lines: [String], role: ThemeRole)? {
        let text: String, role: ThemeRole
        if let error = prompt?.error {
            (text, role) = (error.description, .statusError)
        } else if let message {
            (text, role) = (message.text, message.isError ? .statusError : .status)
        } else {
            return nil
        }
        let room = max(1, width - 2)
        guard text.displayWidth > room else { return ([text], role) }
        var lines = text.wrapped(toDisplayWidth: room)
        if lines.count > maxRows {
            let rest = lines[(maxRows - 1)...].joined(separator: " ")
            lines = Array(lines.prefix(maxRows - 1)) + [rest.truncated(toDisplayWidth: room)]
        }
        return (lines, role)
    }

    private func drawStatus(_ said: (lines: [String], role: ThemeRole)?, into canvas: inout Canvas) {
        for y in 0..<canvas.height { canvas.fillRow(y, role: .status, theme: theme) }
        var x = 0
        let last = max(0, canvas.height - 1)
        if let said {
            for (y, line) in said.lines.enumerated() {
                x = canvas.draw(" " + line + " ", role: said.role, y: y, theme: theme)
            }
        } else {
            x = canvas.draw(" " + statusText(), role: .status, y: 0, theme: theme)
        }
        var flags: [String] = []
        if case .list = stack.last ?? .list {
            if model.cursor.isFollowing { flags.append("FOLLOW") }
        }
        if !model.isScanComplete {
            let percent = model.store.count == 0 ? 100 : model.view.scanned * 100 / model.store.count
            flags.append("FILTERING \(percent)%")
        }
        if model.view.filter != .all { flags.append("FILTERED") }
        if let recording { flags.append(recording) }
        var right = canvas.width
        for flag in flags.reversed() {
            let text = " " + flag + " "
            right -= text.displayWidth + 1
            guard right > x else { break }
            canvas.draw(text, role: .statusFlag, x: right, y: last, theme: theme)
        }
    }

    func statusText() -> String {
        switch stack.last ?? .list {
        case .list:
            let total = Self.grouped(model.store.heldCount)
            var text = model.view.filter == .all
                ? "\(total) exchanges"
                : "\(Self.grouped(model.view.count)) of \(total) · filter: \(model.view.filter)"
            if let p = model.cursor.selected { text = "\(Self.grouped(p + 1))/" + text }
            if model.forgottenExchanges > 0 { text += " · \(Self.grouped(model.forgottenExchanges)) older forgotten" }
            return text
        case .detail(let d):
            if let index = d.message {
                guard let range = d.selectedLine?.range else { return "#\(index) · x: hex" }
                return "#\(index) · bytes \(range.lowerBound)..<\(range.upperBound) · x: hex"
            }
            guard let line = d.selectedLine else { return "x\(d.row)" }
            var text = "x\(d.row)"
            if let range = line.range, let frame = line.frame {
                text += " · \(frame == 0 ? "request" : frame == 1 ? "reply" : "late reply") bytes \(range.lowerBound)..<\(range.upperBound)"
            }
            return text + " · tab: request/reply · x: hex"
        case .table(let t):
            let n = t.cursor.count
            // Closed connections the bounded history let go.
            let forgotten = t.kind == .connections ? model.tracker.forgottenConnections : 0
            let older = forgotten > 0 ? " · \(Self.grouped(forgotten)) older forgotten" : ""
            guard n > 0 else { return "empty" + older }
            // What enter does on the selected row (for an anomaly, without building the table): its exchanges,
            // or for bytes that could not be framed the bytes.
            let selected = t.cursor.selected ?? 0
            var hint = " · enter: show its exchanges"
            if t.kind == .anomalies, selected < model.tracker.anomalies.count {
                switch InspectorModel.action(of: model.tracker.anomalies[selected]) {
                case .showMessage: hint = " · enter: show its bytes"
                case .filter, .filterSelecting, .showExchange: break
                case nil: hint = ""
                }
            }
            return "\(selected + 1)/\(Self.grouped(n))\(older)\(hint)"
        case .help:
            return "help · q or esc to close"
        }
    }

    private func drawHints(into canvas: inout Canvas) {
        let help = registry.keys(for: .viewHelp).first.map { ["\($0) help"] } ?? []
        // Flushing needs a live session: a capture's hints leave it out.
        let more = [("filter", CommandName.filterEdit), ("command", .promptCommand), ("flush", .exchangeFlush),
                    ("fids", .viewFids), ("stats", .viewStats), ("quit", .viewClose)]
            .filter { isLive || $0.1 != .exchangeFlush }
            .compactMap { name, command in registry.keys(for: command).first.map { "\($0) \(name)" } }
        // A narrow screen shows the hints that fit whole (`q quit` cut to `q qu` helps nobody).
        var line = ""
        for hint in help + more {
            let next = (line.isEmpty ? " " : line + "  ") + hint
            guard next.displayWidth <= canvas.width else { break }
            line = next
        }
        canvas.draw(line, role: .dim, y: 0, theme: theme)
    }

    /// `1234567` → `1,234,567`.
    static func grouped(_ n: Int) -> String {
        let digits = Array(String(n))
        var out = ""
        for (i, d) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(d)
        }
        return out
    }
}
