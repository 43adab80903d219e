/// Plain-text dumps of a grid for snapshot tests.
extension Grid {
    /// Each row as text: every cell's character in order, continuation cells contributing
    /// nothing (so a row's display width equals the grid width). Trailing spaces are kept.
    public var rows: [String] {
        (0..<size.height).map { y in
            var line = ""
            for cell in row(y) where !cell.isContinuation {
                line.append(cell.character)
            }
            return line
        }
    }

    /// `rows` joined with newlines, each row's trailing spaces removed.
    public var text: String {
        rows.map { String($0.reversed().drop(while: { $0 == " " }).reversed()) }.joined(separator: "\n")
    }

    /// A style layer aligned column for column with the grid: `.` marks the plain style and
    /// letters mark other styles in order of first appearance (reading left to right, top to
    /// bottom; both halves of a wide character get the same letter). `legend` names each letter
    /// with the style's description, e.g. `a: fg=red bold`.
    public func styleLayer() -> (rows: [String], legend: [String]) {
        let symbols = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        var assigned: [Style: Character] = [.plain: "."]
        var legend: [String] = []
        var result: [String] = []
        for y in 0..<size.height {
            var line = ""
            for cell in row(y) {
                if let symbol = assigned[cell.style] {
                    line.append(symbol)
                    continue
                }
                let symbol: Character = legend.count < symbols.count ? symbols[legend.count] : "?"
                assigned[cell.style] = symbol
                legend.append("\(symbol): \(cell.style)")
                line.append(symbol)
            }
            result.append(line)
        }
        return (result, legend)
    }
}
