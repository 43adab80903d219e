/// What a piece of text *is*, for colouring. Formatters return roles; themes (TOML files in `Themes/`)
/// map every role to colours and attributes. The raw value is the key used in theme files.
public enum ThemeRole: String, Hashable, Sendable, CaseIterable, Comparable {
    /// Ordinary text and the background of every view.
    case normal = "normal"
    /// Less important text (times, placeholders, ended fids).
    case dim = "dim"
    /// The title bar at the top.
    case header = "header"
    /// Column headings of lists and tables.
    case listHeader = "list.header"
    case listPending = "list.pending"
    case listOk = "list.ok"
    case listError = "list.error"
    case listFlushed = "list.flushed"
    case listInjected = "list.injected"
    case listAnomaly = "list.anomaly"
    /// The selected row; laid over the row's own style (so a theme may set only `reverse` or a background).
    case listSelected = "list.selected"
    /// The status line at the bottom.
    case status = "status"
    /// An error message in the status line.
    case statusError = "status.error"
    /// The "following" / "filtered" markers in the status line.
    case statusFlag = "status.flag"
    /// The command/filter line while typing.
    case prompt = "prompt"
    /// A filter error marker under the prompt.
    case promptError = "prompt.error"
    /// Section lines of the decode tree (`Twalk tag 3 …` above its fields).
    case treeSection = "tree.section"
    case treeField = "tree.field"
    case treeValue = "tree.value"
    case hexOffset = "hex.offset"
    case hexByte = "hex.byte"
    case hexAscii = "hex.ascii"
    /// The bytes of the selected field.
    case hexHighlight = "hex.highlight"
    case fidLive = "fid.live"
    case fidOpen = "fid.open"
    case fidEnded = "fid.ended"
    case fidLeaked = "fid.leaked"
    /// A fid named by an anomaly (unknown fid, newfid in use, count over iounit …).
    case fidMisused = "fid.misused"
    case anomalyKind = "anomaly.kind"
    case connOpen = "conn.open"
    case connClosed = "conn.closed"
    case helpKey = "help.key"
    case helpSection = "help.section"
    /// Separators between panes.
    case border = "border"

    public static func < (a: ThemeRole, b: ThemeRole) -> Bool { a.rawValue < b.rawValue }

    /// The list role for a row state.
    public static func list(_ state: RowState) -> ThemeRole {
        switch state {
        case .pending: .listPending
        case .ok: .listOk
        case .error: .listError
        case .flushed: .listFlushed
        case .injected: .listInjected
        case .anomaly: .listAnomaly
        }
    }
}

/// A piece of text and what it is.
public struct StyledRun: Hashable, Sendable, CustomStringConvertible {
    public var text: String
    public var role: ThemeRole
    public init(_ text: String, _ role: ThemeRole = .normal) { self.text = text; self.role = role }
    public var description: String { text }
}

/// One line of styled runs.
public struct StyledLine: Hashable, Sendable, CustomStringConvertible, ExpressibleByArrayLiteral {
    public var runs: [StyledRun]
    public init(_ runs: [StyledRun] = []) { self.runs = runs }
    public init(arrayLiteral elements: StyledRun...) { self.runs = elements }
    public init(_ text: String, _ role: ThemeRole = .normal) { self.runs = [StyledRun(text, role)] }

    public var text: String { runs.map(\.text).joined() }
    public var description: String { text }

    public mutating func append(_ text: String, _ role: ThemeRole = .normal) {
        if let last = runs.last, last.role == role {
            runs[runs.count - 1].text += text
        } else if !text.isEmpty {
            runs.append(StyledRun(text, role))
        }
    }

    public mutating func append(_ line: StyledLine) {
        for r in line.runs { append(r.text, r.role) }
    }
}
