import NinePWire

/// Picks tags for requests ninescope injects into a client's connection.
///
/// Tags come from a reserved high range (the Linux client, like most, takes the LOWEST free tag, so it
/// reaches this range only with thousands of requests in flight), skipping tags we already handed out and
/// any tag the caller says is pending (`SessionTracker.pendingTags(on:)`). NOTAG is never handed out.
/// Call `conflict(withClientTag:)` for every client request (or configure the tracker with
/// `reservedTags: range` to get `clientUsedReservedTag` anomalies) to learn if the client ever used one.
public struct TagAllocator: Hashable, Sendable {
    /// 0xF000…0xFFFE: 4095 tags below NOTAG.
    public static let defaultRange: ClosedRange<UInt16> = 0xF000...0xFFFE

    private var numbers: ReservedNumbers<UInt16>

    /// `range` is clipped to exclude NOTAG (0xFFFF); an empty result traps.
    public init(range: ClosedRange<UInt16> = TagAllocator.defaultRange) {
        let upper = min(range.upperBound, Tag.notag.rawValue - 1)
        precondition(range.lowerBound <= upper, "TagAllocator range must contain a tag other than NOTAG")
        numbers = ReservedNumbers(range: range.lowerBound...upper)
    }

    /// The reserved range.
    public var range: ClosedRange<UInt16> { numbers.range }
    /// Tags handed out and not yet released.
    public var allocated: Set<Tag> { Set(numbers.allocated.map { Tag($0) }) }

    /// A free tag that is neither allocated nor in `inUse`, or nil when the range is exhausted.
    public mutating func allocate(avoiding inUse: Set<Tag> = []) -> Tag? {
        numbers.allocate(excluding: { inUse.contains(Tag($0)) }).map { Tag($0) }
    }

    /// Gives a tag back (after its reply, or its Rflush).
    public mutating func release(_ tag: Tag) { numbers.release(tag.rawValue) }

    public func isReserved(_ tag: Tag) -> Bool { numbers.range.contains(tag.rawValue) }
    public func isAllocated(_ tag: Tag) -> Bool { numbers.allocated.contains(tag.rawValue) }

    /// Whether a tag the CLIENT just used clashes with the reservation (nil: no clash).
    public func conflict(withClientTag tag: Tag) -> ReservationConflict? {
        if isAllocated(tag) { return .collidesWithAllocated }
        return isReserved(tag) ? .inReservedRange : nil
    }
}
