import InspectorCore
import NinePWire
import TUICore

extension InspectorScreen {
    // MARK: - Input

    /// Handles one input event; returns what the app must do.
    public mutating func handle(_ event: InputEvent) -> [InspectorEffect] {
        switch event {
        case .key(let chord): return handle(key: chord)
        case .resize: return [.redraw]
        case .mouse(let m): return handle(mouse: m)
        case .stop: return [.suspend(wholeGroup: false)]
        }
    }

    public mutating func handle(key: KeyChord) -> [InspectorEffect] {
        if prompt != nil { return handlePrompt(key) }
        message = nil
        let asked = confirmationAsked
        confirmationAsked = nil
        // Quitting with connections open is confirmed with y, a key nothing else uses: backing out of views
        // with q twice too often must not end a guest's mount. Any other key does what it does.
        if asked == .viewClose, key.description == "y" { return [.quit] }
        guard let command = registry.command(forKey: key.description) else {
            let help = registry.keys(for: .viewHelp).first ?? "?"
            setMessage("\(key) is not bound to anything — \(help) shows the keys", isError: true)
            return []
        }
        if command == asked, command == .appSuspend {
            // The same key again: what it asked about.
            return [.suspend(wholeGroup: true)]
        }
        return perform(command, argument: nil)
    }

    /// Connections a live proxy would stop serving (0 offline).
    private var openConnections: Int { isLive ? model.tracker.connections.count(where: \.isOpen) : 0 }

    private static func connections(_ n: Int, _ verb: String) -> String {
        n == 1 ? "1 open connection \(verb)s" : "\(n) open connections \(verb)"
    }

    /// Suspending a live proxy stops its relaying too: with connections open it is asked once more.
    mutating func suspend() -> [InspectorEffect] {
        let open = openConnections
        guard open > 0 else { return [.suspend(wholeGroup: true)] }
        let key = registry.keys(for: .appSuspend).first ?? ":suspend"
        setMessage("\(key) stops the whole process: \(Self.connections(open, "wait")) until fg; \(key) again to suspend",
                   isError: true)
        confirmationAsked = .appSuspend
        return []
    }

    /// `q` on the list of a live proxy with connections open asks first, and only `y` confirms: backing out
    /// of views with `q` a press or two too many would end a guest's mount. The quit key (`Q`, ctrl-c) does
    /// not ask.
    mutating func closeLastView() -> [InspectorEffect] {
        let open = openConnections
        guard open > 0 else { return [.quit] }
        let quit = registry.keys(for: .appQuit).first ?? ":quit"
        setMessage("quit? it closes \(open == 1 ? "the open connection" : "the \(open) open connections"): "
                   + "y quits, any other key stays (\(quit) quits at once)", isError: true)
        confirmationAsked = .viewClose
        return []
    }

    /// Wheel scrolls the list; a click selects a row, a double click opens it.
    mutating func handle(mouse: MouseEvent) -> [InspectorEffect] {
        switch mouse.action {
        case .scrollUp: return perform(.listUp, argument: nil) + perform(.listUp, argument: nil)
        case .scrollDown: return perform(.listDown, argument: nil) + perform(.listDown, argument: nil)
        case .click, .doubleClick:
            guard case .list = stack.last ?? .list else { return [] }
            // Row 0 is the title bar, row 1 the column headings.
            let position = model.cursor.top + mouse.position.y - 2
            guard mouse.position.y >= 2, position < model.cursor.visible.upperBound else { return [] }
            model.moveSelection(by: position - (model.cursor.selected ?? position))
            if case .doubleClick = mouse.action { return perform(.listOpen, argument: nil) }
            return []
        }
    }

    // MARK: - Commands

    /// Runs a command (from a key, the `:` prompt, or a test).
    public mutating func perform(_ command: CommandName, argument: String?) -> [InspectorEffect] {
        switch command {
        case .listDown: moveCursor { $0.move(by: 1) } model: { $0.moveSelection(by: 1) } help: { $0 + 1 }
        case .listUp: moveCursor { $0.move(by: -1) } model: { $0.moveSelection(by: -1) } help: { $0 - 1 }
        case .listPageDown: moveCursor { $0.pageDown() } model: { $0.pageDown() } help: { $0 + 10 }
        case .listPageUp: moveCursor { $0.pageUp() } model: { $0.pageUp() } help: { $0 - 10 }
        case .listHalfPageDown: moveCursor { $0.halfPageDown() } model: { $0.halfPageDown() } help: { $0 + 5 }
        case .listHalfPageUp: moveCursor { $0.halfPageUp() } model: { $0.halfPageUp() } help: { $0 - 5 }
        case .listTop: moveCursor { $0.toTop() } model: { $0.toTop() } help: { _ in 0 }
        case .listBottom: moveCursor { $0.select($0.count - 1) } model: { $0.toBottom() } help: { _ in Int.max / 2 }
        case .listOpen: return open()
        case .exchangeGoto:
            guard let argument, !argument.isEmpty else {
                openPrompt(.command, text: "goto ")
                return []
            }
            goTo(argument)
        case .exchangeNext, .exchangePrevious:
            if case .detail(let d) = stack.last, d.message != nil { break }   // a message of no exchange
            model.moveSelection(by: command == .exchangeNext ? 1 : -1)
            if case .detail = stack.last, let row = model.selectedRow {
                stack[stack.count - 1] = makeDetail(row)
            }
        case .viewHexToggle:
            showHex.toggle()
            setMessage(showHex ? "hex dump shown" : "hex dump hidden")
        case .viewCycle:
            if case .detail(var d) = stack.last {
                d.cycleSection()
                stack[stack.count - 1] = .detail(d)
            }
        case .viewFids:
            guard let conn = model.selectedConnection else {
                setMessage("no connection yet", isError: true)
                return []
            }
            push(.table(TableState(kind: .fids(conn))))
        case .viewStats: push(.table(TableState(kind: .statistics)))
        case .viewAnomalies: push(.table(TableState(kind: .anomalies)))
        case .viewConnections: push(.table(TableState(kind: .connections)))
        case .viewHelp: push(.help(top: 0))
        case .viewBack:
            if stack.count > 1 {
                stack.removeLast()
            } else if model.view.filter != .all {
                model.setFilter(.all)
                setMessage("filter cleared")
            }
        case .viewClose:
            if stack.count > 1 { stack.removeLast() } else { return closeLastView() }
        case .viewTheme:
            guard let argument, !argument.isEmpty else {
                openPrompt(.command, text: "theme ")
                return []
            }
            return [.loadTheme(argument)]
        case .exchangeFlush: return flushSelected()
        case .exchangeInject:
            guard let argument, !argument.isEmpty else {
                openPrompt(.inject)
                return []
            }
            return inject(argument)
        case .captureSave:
            guard let argument, !argument.isEmpty else {
                openPrompt(.save, text: defaultSavePath)
                return []
            }
            // Not over a file that exists unless asked: `s` then enter on a name already used replaced that
            // capture without a word.
            if fileExists?(argument) == true {
                setMessage("\(argument) exists: :w! \(argument) writes over it", isError: true)
                return []
            }
            return [.save(path: argument)]
        case .captureSaveOver:
            guard let argument, !argument.isEmpty else {
                setMessage(":w! needs a file to write over: :w! FILE", isError: true)
                return []
            }
            return [.save(path: argument)]
        case .proxyFaults:
            guard isLive else {
                setMessage("fault rules need a live proxy (this is a capture)", isError: true)
                return []
            }
            return [.faults(argument ?? "")]
        case .promptCommand: openPrompt(.command)
        case .filterEdit:
            guard let argument else {
                openPrompt(.filter, text: model.view.filter == .all ? "" : model.view.filter.description)
                return []
            }
            return applyFilter(argument)
        case .filterClear:
            model.setFilter(.all)
            setMessage("filter cleared")
        case .searchEdit:
            guard let argument else {
                openPrompt(.search, text: model.search?.description ?? "")
                return []
            }
            return applySearch(argument)
        case .searchNext, .searchPrevious:
            guard model.search != nil else {
                setMessage("no search yet: \(registry.keys(for: .searchEdit).first ?? ":search") to search", isError: true)
                return []
            }
            popToList()
            if !model.searchNext(forward: command == .searchNext) {
                setMessage("no exchange matches \(model.search!)", isError: true)
            }
        case .appRedraw: return [.redraw]
        case .appQuit: return [.quit]
        case .appSuspend: return suspend()
        default:
            setMessage("\(command) is not available here", isError: true)
        }
        return []
    }

    private mutating func push(_ screen: Screen) {
        if case .table(let new) = screen, case .table(let old) = stack.last, old.kind == new.kind { return }
        stack.append(screen)
        syncTableCursor()
    }

    /// Gives the table view's cursor the table's current row count (rows come and go between draws).
    private mutating func syncTableCursor() {
        guard case .table(var t) = stack.last else { return }
        t.cursor.setCount(model.tableRowCount(t.kind, time: timeFormat))
        t.cursor.setPageSize(max(1, bodySize.height - 1))
        stack[stack.count - 1] = .table(t)
    }

    mutating func popToList() {
        stack = [.list]
    }

    /// Applies a movement to whichever list has focus.
    private mutating func moveCursor(_ cursor: (inout ListCursor) -> Void, model list: (inout InspectorModel) -> Void,
                                     help scroll: (Int) -> Int) {
        switch stack.last ?? .list {
        case .list: list(&model)
        case .detail(var d):
            cursor(&d.cursor)
            stack[stack.count - 1] = .detail(d)
        case .table:
            syncTableCursor()
            guard case .table(var t) = stack.last else { return }
            cursor(&t.cursor)
            stack[stack.count - 1] = .table(t)
        case .help(let top): stack[stack.count - 1] = .help(top: max(0, scroll(top)))
        }
    }

    /// A table row's filter: back to the list, filtered by `expr` (and remembered in the filter history),
    /// with `row` selected when given.
    private mutating func filterList(_ expr: FilterExpr, selecting row: Int?) -> [InspectorEffect] {
        popToList()
        if let row {
            // Selected before the filter changes, the row stays selected while a long list is scanned.
            model.setFollowing(false)
            model.select(row: row)
        }
        model.setFilter(expr)
        filterHistory.add(expr.description)
        if let row { model.select(row: row) }
        setMessage("filter: \(expr)")
        return [.historyChanged]
    }

    private mutating func open() -> [InspectorEffect] {
        switch stack.last ?? .list {
        case .list:
            guard let row = model.selectedRow else { return [] }
            stack.append(makeDetail(row))
        case .table:
            syncTableCursor()
            guard case .table(let t) = stack.last else { return [] }
            let table = model.table(t.kind, time: timeFormat, window: t.cursor.selected.map { $0..<($0 + 1) })
            guard let i = t.cursor.selected, i < table.rows.count, let action = table.rows[i].action else { return [] }
            switch action {
            case .filter(let expr):
                return filterList(expr, selecting: nil)
            case .filterSelecting(let expr, let row):
                return filterList(expr, selecting: row)
            case .showExchange(let row):
                guard model.store.isHeld(row) else {
                    setMessage("x\(row) is no longer held: the live view keeps the newest exchanges (--view-history)",
                               isError: true)
                    return []
                }
                popToList()
                if !model.select(row: row) {
                    model.setFilter(.all)
                    model.select(row: row)
                }
                stack.append(makeDetail(row))
            case .showMessage(let index):
                guard let detail = makeMessageDetail(index) else {
                    setMessage("#\(index) is no longer held: the live view keeps the newest exchanges (--view-history)",
                               isError: true)
                    return []
                }
                stack.append(detail)
            }
        case .detail, .help:
            break
        }
        return []
    }

    /// `:goto #N` / `:goto xN`: selects that exchange in the list (clearing a filter that hides it), as a
    /// capture's viewer goes to a packet by number; a detail view open shows it.
    private mutating func goTo(_ target: String) {
        let row: Int
        do { row = try model.row(goingTo: target) } catch {
            setMessage(error.description, isError: true)
            return
        }
        let detail: Bool
        if case .detail = stack.last { detail = true } else { detail = false }
        popToList()
        var note = ""
        if !model.select(row: row) {
            model.setFilter(.all)
            model.select(row: row)
            note = " (filter cleared: it hid x\(row))"
        }
        if detail { stack.append(makeDetail(row)) }
        let typed = target.filter { $0 != " " && $0 != "\t" }
        let named = typed.first == "x" || typed.first == "X" ? "" : " holds #" + typed.drop { $0 == "#" }
        setMessage("x\(row)" + named + note)
    }

    /// The row acted on: the detail view's exchange, or the list's selection.
    var actionRow: Int? {
        if case .detail(let d) = stack.last { return d.message == nil ? d.row : nil }
        return model.selectedRow
    }

    private mutating func flushSelected() -> [InspectorEffect] {
        guard isLive else {
            setMessage("flush needs a live session (this is a capture)", isError: true)
            return []
        }
        guard let row = actionRow else { return [] }
        let r = model.store[row]
        guard r.status == .pending, r.hasRequest else {
            setMessage("x\(row) is not pending: nothing to flush", isError: true)
            return []
        }
        model.markFlushRequested(row: row)
        setMessage("flushing x\(row) (tag \(r.tag) on c\(r.conn))")   // `finished` says whether it went or waits
        return [.flush(conn: ConnectionID(r.conn), tag: Tag(r.tag), row: row)]
    }

    /// What an effect the app ran for the screen (a flush, an injection, a save) came to: `text` goes to
    /// the status line; a flush that failed takes its row's "(flush sent)" mark off again.
    public mutating func finished(_ effect: InspectorEffect, text: String, isError: Bool) {
        setMessage(text, isError: isError)
        if isError, case .flush(_, _, let row) = effect { model.clearFlushRequested(row: row) }
    }

    private mutating func inject(_ request: String) -> [InspectorEffect] {
        guard isLive else {
            setMessage("injection needs a live session (this is a capture)", isError: true)
            return []
        }
        guard let conn = model.selectedConnection else {
            setMessage("no connection to inject into", isError: true)
            return []
        }
        commandHistory.add(request)
        setMessage("injecting into \(conn): \(request)")
        return [.inject(conn: conn, request: request), .historyChanged]
    }

    /// Starts with `text` as the view's filter, as if typed at `/` (`proxy --filter` in the live UI).
    public mutating func startFiltered(_ text: String) throws {
        var notes: [String] = []
        setFilter(try FilterParser.parse(text, notes: &notes), typed: text, notes: notes)
    }

    /// The view's filter set to `expr` (typed as `text`), remembered and announced, with what parsing it
    /// noted (a word that reads like a message type but is none) instead when there is such a note.
    private mutating func setFilter(_ expr: FilterExpr, typed text: String, notes: [String] = []) {
        model.setFilter(expr)
        if expr != .all { filterHistory.add(text) }
        if let note = notes.first {
            setMessage("filter: \(expr) — \(note)", isError: true)
        } else {
            setMessage(expr == .all ? "filter cleared" : "filter: \(expr)")
        }
    }

    private mutating func applyFilter(_ text: String) -> [InspectorEffect] {
        do {
            var notes: [String] = []
            let expr = try FilterParser.parse(text, notes: &notes)
            popToList()
            setFilter(expr, typed: text, notes: notes)
            return [.historyChanged]
        } catch {
            setMessage("filter: \(error)", isError: true)
            return []
        }
    }

    private mutating func applySearch(_ text: String) -> [InspectorEffect] {
        do {
            let expr = try FilterParser.parse(text)
            model.setSearch(expr == .all ? nil : expr)
            guard expr != .all else { return [] }
            filterHistory.add(text)
            popToList()
            if !model.searchNext(forward: true) { setMessage("no exchange matches \(expr)", isError: true) }
            return [.historyChanged]
        } catch {
            setMessage("search: \(error)", isError: true)
            return []
        }
    }

    // MARK: - Prompt

    mutating func openPrompt(_ kind: PromptKind, text: String = "") {
        prompt = PromptState(kind: kind, text: text)
        validatePrompt()
    }

    private mutating func handlePrompt(_ key: KeyChord) -> [InspectorEffect] {
        guard var p = prompt else { return [] }
        let history = p.kind == .filter || p.kind == .search ? filterHistory : commandHistory
        let registry = self.registry
        let completer = requestCompleter
        let kind = p.kind
        let outcome = p.handle(key, history: history) { text in
            InspectorScreen.completions(for: text, kind: kind, registry: registry, requests: completer,
                                        history: history)
        }
        prompt = p
        switch outcome {
        case .editing:
            validatePrompt()
            return []
        case .cancel:
            prompt = nil
            return []
        case .submit(let text):
            prompt = nil
            message = nil
            return submit(text, kind: p.kind)
        }
    }

    private mutating func validatePrompt() {
        guard var p = prompt else { return }
        p.error = nil
        if p.kind == .filter || p.kind == .search {
            do { _ = try FilterParser.parse(p.string) } catch { p.error = error }
        }
        prompt = p
    }

    private mutating func submit(_ text: String, kind: PromptKind) -> [InspectorEffect] {
        switch kind {
        case .filter: return applyFilter(text)
        case .search: return applySearch(text)
        case .save: return text.isEmpty ? [] : perform(.captureSave, argument: text)
        case .inject: return text.isEmpty ? [] : inject(text)
        case .command:
            switch registry.resolve(text) {
            case .none: return []
            case .inject(let request):
                if let refusal = unknownCommand(request) {
                    setMessage(refusal, isError: true)
                    return []
                }
                return inject(request)
            case .command(let name, let argument):
                commandHistory.add(text)
                return perform(name, argument: argument) + [.historyChanged]
            }
        }
    }

    /// Why a `:` line that names no command is not a request either (its first word is no command, no
    /// T-message name and no request word of the REPL's): `unknown command 'x'`, with the nearest command or
    /// request word when one is close. Nil when it is a request (or when the request words are not known).
    func unknownCommand(_ line: String) -> String? {
        let word = String(line.drop { $0 == " " || $0 == "\t" }.prefix { $0 != " " && $0 != "\t" })
        guard let requestWords, !word.isEmpty else { return nil }
        let lower = word.lowercased()
        if requestWords.contains(lower) { return nil }
        if MessageType(name: word) != nil, lower.hasPrefix("t") || lower.hasPrefix("r") { return nil }
        let help = registry.keys(for: .viewHelp).first ?? ":help"
        var candidates = registry.promptWords + requestWords.sorted()
        candidates += MessageType.allCases.filter(\.isRequest).map(\.name)
        if let best = Spelling.nearest(to: word, among: candidates) {
            return "unknown command '\(word)': did you mean \(best)?"
        }
        return "unknown command '\(word)' (\(help) lists the commands; requests as in the REPL: walk, read, Tgetattr …)"
    }

    /// Tab completion: command names for the first word of `:` lines, then the request grammar's;
    /// history for filters.
    static func completions(for text: String, kind: PromptKind, registry: CommandRegistry,
                            requests: (@Sendable (String) -> [String])?, history: History) -> [String] {
        switch kind {
        case .filter, .search:
            return history.matching(prefix: text)
        case .command, .inject:
            var out: [String] = []
            if kind == .command, !text.contains(" ") {
                out = registry.promptWords.filter { $0.hasPrefix(text) }
            }
            // The request grammar completes the word being typed; keep the words before it.
            let head = text.lastIndex(of: " ").map { String(text[...$0]) } ?? ""
            out += (requests?(text) ?? []).map { head + $0 }
            return out
        case .save:
            return []
        }
    }
}
