/// An append-only array kept in fixed-size pieces, for the tracker's per-exchange records: appending
/// never moves what is stored, where a plain array doubling its buffer copies all of it and touches
/// fresh pages for the whole new size (a few hundred thousand exchanges made that a twentieth of the
/// tracker's time in `decode`).
struct ChunkedArray<Element> {
    private static var chunkShift: Int { 12 }
    private static var chunkMask: Int { (1 << chunkShift) - 1 }
    private var chunks: [[Element]] = []
    private(set) var count = 0

    init() {}

    var indices: Range<Int> { 0..<count }

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
