/// The frames a tracker keeps (`retainFrames`): small ones packed end to end in pieces of 1 MiB, larger ones
/// in the array they came in.
///
/// A frame in an array of its own costs, besides its bytes, the array's 32-byte header and malloc's own
/// overhead and rounding: as much as a small frame itself (a Tgetattr's 19 bytes took 64 bytes of heap, an
/// Rgetattr's 160 took 208). Packed, the live UI keeps ~90 bytes less per exchange of such messages. A frame
/// of `ownedFrom` bytes or more (a read's data) keeps its own array — in an allocation of its size, so that
/// the store holds no spare room — and is handed back without a copy; a packed one is copied out on demand.
struct FrameStore: Sendable {
    /// Where a frame is: a piece, and a range in it (`offset` is `Ref.whole` for a frame kept in its own array).
    struct Ref: Sendable {
        var piece: UInt32
        var offset: UInt32
        var count: UInt32
        static let whole = UInt32.max
    }

    static let pieceSize = 1 << 20
    static let ownedFrom = 4096
    private var pieces: [[UInt8]] = []
    /// The piece small frames go into now (an index in `pieces`); -1 before the first.
    private var packing = -1
    /// Pieces below this one were released (`release(before:)`).
    private(set) var firstHeldPiece = 0
    /// Bytes the store holds now (the pieces' allocated sizes).
    private(set) var heldBytes = 0

    /// Keeps `bytes`; returns where.
    mutating func append(_ bytes: [UInt8]) -> Ref {
        if bytes.count >= Self.ownedFrom {
            pieces.append(Self.compacted(bytes))
            heldBytes += pieces[pieces.count - 1].capacity
            return Ref(piece: UInt32(pieces.count - 1), offset: Ref.whole, count: UInt32(bytes.count))
        }
        if packing < 0 || pieces[packing].count + bytes.count > Self.pieceSize {
            var piece: [UInt8] = []
            piece.reserveCapacity(Self.pieceSize)
            heldBytes += piece.capacity
            pieces.append(piece)
            packing = pieces.count - 1
        }
        let offset = pieces[packing].count
        pieces[packing].append(contentsOf: bytes)
        return Ref(piece: UInt32(packing), offset: UInt32(offset), count: UInt32(bytes.count))
    }

    /// The piece the next small frame goes into, or the count of pieces when none is open.
    var currentPiece: Int { packing >= 0 ? packing : pieces.count }

    /// Frees every piece before `piece` (never the one small frames are packed into now): the frames in them
    /// must not be read any more.
    mutating func release(before piece: Int) {
        let end = min(piece, currentPiece)
        var p = firstHeldPiece
        while p < end {
            heldBytes -= pieces[p].capacity
            pieces[p] = []
            p += 1
        }
        firstHeldPiece = max(firstHeldPiece, end)
    }

    /// The frame at `ref`: a frame kept whole is shared, a packed one copied out.
    subscript(ref: Ref) -> [UInt8] {
        let piece = pieces[Int(ref.piece)]
        if ref.offset == Ref.whole { return piece }
        return Array(piece[Int(ref.offset)..<Int(ref.offset) + Int(ref.count)])
    }

    /// The frame's first bytes, at most `limit` of them, in place (for a header).
    func prefix(_ ref: Ref, _ limit: Int) -> ArraySlice<UInt8> {
        let start = ref.offset == Ref.whole ? 0 : Int(ref.offset)
        return pieces[Int(ref.piece)][start..<start + min(Int(ref.count), limit)]
    }

    /// The bytes in an allocation of their own size when the given array has much spare capacity (as
    /// `Fcall.encode` arrays do): the store keeps frames for a long time.
    static func compacted(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.capacity > bytes.count + 32 else { return bytes }
        return [UInt8](unsafeUninitializedCapacity: bytes.count) { buffer, count in
            _ = buffer.initialize(from: bytes)
            count = bytes.count
        }
    }
}
