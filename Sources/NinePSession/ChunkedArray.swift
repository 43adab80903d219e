/// An append-only array kept in fixed-size pieces, for the tracker's per-exchange records: appending
/// never moves what is stored, where a plain array doubling its buffer copies all of it and touches
/// fresh pages for the whole new size (a few hundred thousand exchanges made that a twentieth of the
/// tracker's time in `decode`).
struct ChunkedArray<Element> {
    private static var chunkShift: Int { 12 }
    private static var chunkMask: Int { (1 << chunkShift) - 1 }
    private var chunks: [[Element]] = []
    private(set) var count = 0
    /// The first index still held: elements below it were released (`release(below:)`), in whole pieces.
    private(set) var firstHeld = 0

    init() {}

    static var pieceSize: Int { 1 << chunkShift }

    var indices: Range<Int> { 0..<count }
    /// Indices whose elements are held (not released).
    var heldIndices: Range<Int> { firstHeld..<count }

    /// Frees the pieces wholly below `index` (rounded down to a piece's start); their indices keep counting
    /// but must not be read any more. Returns the new `firstHeld`.
    @discardableResult
    mutating func release(below index: Int) -> Int {
        let end = min(index, count) >> Self.chunkShift
        var c = firstHeld >> Self.chunkShift
        while c < end {
            chunks[c] = []
            c += 1
        }
        firstHeld = max(firstHeld, end << Self.chunkShift)
        return firstHeld
    }

    /// An index outside `indices` traps, as for Array: it falls past the last piece or past the end of one.
    subscript(i: Int) -> Element {
        get { chunks[i >> Self.chunkShift][i & Self.chunkMask] }
        _modify { yield &chunks[i >> Self.chunkShift][i & Self.chunkMask] }
    }

    mutating func append(_ element: Element) {
        if count & Self.chunkMask == 0 {
            var chunk: [Element] = []
            chunk.reserveCapacity(1 << Self.chunkShift)
            chunks.append(chunk)
        }
        chunks[count >> Self.chunkShift].append(element)
        count += 1
    }
}

extension ChunkedArray: Sendable where Element: Sendable {}
