/// The engine behind `TagAllocator` and `FidAllocator`: hands out numbers from a reserved range, top
/// down and round-robin (a released number is reused as late as possible, so a stray late reply for it
/// is unlikely to meet a new request), never one that is allocated or that the caller says is in use.
struct ReservedNumbers<T: FixedWidthInteger & Sendable>: Hashable, Sendable {
    let range: ClosedRange<T>
    private(set) var allocated: Set<T> = []
    private var cursor: T

    init(range: ClosedRange<T>) {
        self.range = range
        self.cursor = range.upperBound
    }

    mutating func allocate(excluding excluded: (T) -> Bool) -> T? {
        var candidate = cursor
        let count = UInt64(range.upperBound - range.lowerBound) + 1
        var tried: UInt64 = 0
        while tried < count {
            if !allocated.contains(candidate) && !excluded(candidate) {
                allocated.insert(candidate)
                cursor = candidate == range.lowerBound ? range.upperBound : candidate - 1
                return candidate
            }
            candidate = candidate == range.lowerBound ? range.upperBound : candidate - 1
            tried += 1
        }
        return nil
    }

    mutating func release(_ n: T) { allocated.remove(n) }
}

/// How a number the client used relates to the injection reservation.
public enum ReservationConflict: Hashable, Sendable {
    /// The client used a number we handed out and have not released: a real collision (replies or fid
    /// state may be confused until one side lets go).
    case collidesWithAllocated
    /// The client used a number from our reserved range that is not allocated right now: harmless today,
    /// but the reservation is not as exclusive as assumed.
    case inReservedRange
}
