/// A horizontal run of cells on one row that a backend should draw starting at `origin`.
///
/// Runs produced by `Renderer.diff` never start with a continuation cell and never end
/// between a wide character and its continuation, so a backend can draw the non-continuation
/// cells one after another and skip the continuation ones.
public struct CellRun: Hashable, Sendable {
    public var origin: Point
    public var cells: [Cell]

    public init(origin: Point, cells: [Cell]) {
        self.origin = origin
        self.cells = cells
    }

    /// Columns covered by the run.
    public var width: Int { cells.count }

    /// The run's characters (continuation cells contribute nothing).
    public var text: String {
        var result = ""
        for cell in cells where !cell.isContinuation { result.append(cell.character) }
        return result
    }
}
