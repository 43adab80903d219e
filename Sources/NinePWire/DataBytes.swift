/// The bytes of a `data[count]` field (Rread, Twrite, Rreaddir): an array of their own, or a range of the
/// frame they were decoded from, shared instead of copied.
///
/// `Fcall.decode` of a frame held in an array shares it: a decoded 64 KiB Rread costs no copy and no
/// allocation, and keeps the frame's storage alive for as long as the message lives (a tracker keeps the
/// frame anyway). Copying that data was two thirds of the headless trace's per-message CPU time during a
/// bulk read (`ninescope bench-trace` of a 256 MiB diodcat capture: 3.2–3.6 µs per message with the copy,
/// 1.1–1.7 with the data shared).
///
/// A collection indexed from 0, equal (and hashing) by content whatever storage it uses. `array` gives the
/// bytes as an array of their own (no copy when they are one already).
public struct DataBytes: RandomAccessCollection, Hashable, Sendable, ExpressibleByArrayLiteral,
    CustomStringConvertible {
    @usableFromInline let storage: [UInt8]
    @usableFromInline let start: Int
    public let count: Int

    /// The bytes of `array`, shared.
    @inlinable
    public init(_ array: [UInt8]) {
        storage = array; start = 0; count = array.count
    }

    /// `range` of `storage`, shared (the decoder's way: a field of the frame being decoded).
    @inlinable
    public init(sharing storage: [UInt8], range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= storage.count, "range outside the storage")
        self.storage = storage; start = range.lowerBound; count = range.count
    }

    public init(arrayLiteral elements: UInt8...) { self.init(elements) }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { count }
    @inlinable public func index(after i: Int) -> Int { i + 1 }
    @inlinable public func index(before i: Int) -> Int { i - 1 }

    @inlinable
    public subscript(position: Int) -> UInt8 {
        precondition(position >= 0 && position < count, "index out of range")
        return storage[start + position]
    }

    /// The bytes as an array of their own: the storage itself when the bytes are all of it, else a copy.
    public var array: [UInt8] {
        start == 0 && count == storage.count ? storage : Array(storage[start..<(start + count)])
    }

    /// Calls `body` with the bytes, borrowed (no copy).
    @inlinable
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes { all in
            try body(UnsafeRawBufferPointer(rebasing: all[start..<(start + count)]))
        }
    }

    public func withContiguousStorageIfAvailable<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R? {
        try storage.withUnsafeBufferPointer { all in
            try body(UnsafeBufferPointer(rebasing: all[start..<(start + count)]))
        }
    }

    public static func == (a: DataBytes, b: DataBytes) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBytes { x in b.withUnsafeBytes { y in x.elementsEqual(y) } }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    public var description: String { array.description }
}
