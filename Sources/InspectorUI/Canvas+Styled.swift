import InspectorCore
import TUICore

extension Canvas {
    /// Draws styled runs from `x` on row `y`, cut at `maxX` (exclusive, canvas coordinates; default the
    /// canvas width). Each run is drawn in its role's style with `overlay` laid on top. Returns the
    /// column after the text.
    @discardableResult
    public mutating func draw(_ line: StyledLine, x: Int = 0, y: Int, maxX: Int? = nil, theme: Theme,
                              overlay: Style? = nil) -> Int {
        let limit = min(maxX ?? width, width)
        let clip = Rect(x: x, y: y, width: max(0, limit - x), height: 1)
        var column = x
        for run in line.runs {
            guard column < limit else { break }
            var style = theme.resolved(run.role)
            if let overlay { style = style.merged(with: overlay) }
            column = put(text: run.text, at: Point(x: column, y: y), style: style, clip: clip)
        }
        return column
    }

    /// Draws text in one role.
    @discardableResult
    public mutating func draw(_ text: String, role: ThemeRole, x: Int = 0, y: Int, maxX: Int? = nil, theme: Theme,
                              overlay: Style? = nil) -> Int {
        draw(StyledLine(text, role), x: x, y: y, maxX: maxX, theme: theme, overlay: overlay)
    }

    /// Fills a row (from `x` to the canvas width) with spaces in a role's style.
    public mutating func fillRow(_ y: Int, role: ThemeRole, from x: Int = 0, theme: Theme, overlay: Style? = nil) {
        var style = theme.resolved(role)
        if let overlay { style = style.merged(with: overlay) }
        fill(Rect(x: x, y: y, width: max(0, width - x), height: 1), style: style)
    }
}

/// Fitting texts into columns by display width.
enum Fit {
    /// `text` cut or padded to exactly `width` columns, right-aligned when asked; an ellipsis marks a cut.
    static func cell(_ text: String, width: Int, alignRight: Bool = false) -> String {
        guard width > 0 else { return "" }
        let cut = text.displayWidth > width ? text.truncated(toDisplayWidth: width) : text
        return alignRight ? cut.leftPadded(toDisplayWidth: width) : cut.padded(toDisplayWidth: width)
    }
}
