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

    subscript(i: Int) -> Element {
        get {
            precondition(i >= 0 && i < count, "index \(i) out of range 0..<\(count)")
            return chunks[i >> Self.chunkShift][i & Self.chunkMask]
        }
        _modify {
            precondition(i >= 0 && i < count, "index \(i) out of range 0..<\(count)")
            yield &chunks[i >> Self.chunkShift][i & Self.chunkMask]
        }
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
