/// An append-only array kept in fixed-size pieces, for the tracker's per-exchange records and the inspector's
/// rows: appending never moves what is stored, where a plain array doubling its buffer copies all of it and
/// touches fresh pages for the whole new size (a few hundred thousand exchanges made that a twentieth of the
/// tracker's time in `decode`); and a bounded history frees the oldest pieces (`release(below:)`).
package struct ChunkedArray<Element> {
    // Inlinable: the inspector's rows (another module) are read through it for every row drawn or filtered.
    @usableFromInline static var chunkShift: Int { 12 }
    @usableFromInline static var chunkMask: Int { (1 << chunkShift) - 1 }
    @usableFromInline var chunks: [[Element]] = []
    @usableFromInline package internal(set) var count = 0
    /// The first index still held: elements below it were released (`release(below:)`), in whole pieces.
    package private(set) var firstHeld = 0

    @inlinable package init() {}

    package static var pieceSize: Int { 1 << chunkShift }
    /// The start of the piece holding `index` (what `release(below: index)` frees up to).
    package static func pieceStart(_ index: Int) -> Int { index & ~chunkMask }

    package var indices: Range<Int> { 0..<count }
    /// Indices whose elements are held (not released).
    package var heldIndices: Range<Int> { firstHeld..<count }

    /// Frees the pieces wholly below `index` (rounded down to a piece's start); their indices keep counting
    /// but must not be read any more. Returns the new `firstHeld`.
    @discardableResult
    package mutating func release(below index: Int) -> Int {
        let end = Self.pieceStart(min(index, count))
        var c = firstHeld >> Self.chunkShift
        while c < end >> Self.chunkShift {
            chunks[c] = []
            c += 1
        }
        firstHeld = max(firstHeld, end)
        return firstHeld
    }

    /// An index outside `indices` traps, as for Array: it falls past the last piece or past the end of one.
    @inlinable package subscript(i: Int) -> Element {
        get { chunks[i >> Self.chunkShift][i & Self.chunkMask] }
        _modify { yield &chunks[i >> Self.chunkShift][i & Self.chunkMask] }
    }

    @inlinable package mutating func append(_ element: Element) {
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
