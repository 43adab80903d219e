import NinePWire

/// Picks fids for requests ninescope injects (e.g. a Twalk to a scratch fid).
///
/// Fids come from a reserved high range (clients allocate the LOWEST free number, Linux included), skipping
/// fids we already handed out and any fid the caller says is live (`SessionTracker.liveFids(on:)`).
/// NOFID is never handed out. Call `conflict(withClientFid:)` when the client brings a fid into use (or
/// configure the tracker with `reservedFids: range` to get `clientUsedReservedFid` anomalies).
public struct FidAllocator: Hashable, Sendable {
    /// 0xFFFF0000…0xFFFFFFFE: 65535 fids below NOFID.
    public static let defaultRange: ClosedRange<UInt32> = 0xFFFF_0000...0xFFFF_FFFE

    private var numbers: ReservedNumbers<UInt32>

    /// `range` is clipped to exclude NOFID (0xFFFFFFFF); an empty result traps.
    public init(range: ClosedRange<UInt32> = FidAllocator.defaultRange) {
        let upper = min(range.upperBound, Fid.nofid.rawValue - 1)
        precondition(range.lowerBound <= upper, "FidAllocator range must contain a fid other than NOFID")
        numbers = ReservedNumbers(range: range.lowerBound...upper)
    }

    /// The reserved range.
    public var range: ClosedRange<UInt32> { numbers.range }
    /// Fids handed out and not yet released.
    public var allocated: Set<Fid> { Set(numbers.allocated.map { Fid($0) }) }

    /// A free fid that is neither allocated nor in `inUse`, or nil when the range is exhausted.
    public mutating func allocate(avoiding inUse: Set<Fid> = []) -> Fid? {
        numbers.allocate(excluding: { inUse.contains(Fid($0)) }).map { Fid($0) }
    }

    /// Gives a fid back (after its Tclunk/Tremove was answered, or its creating request failed).
    public mutating func release(_ fid: Fid) { numbers.release(fid.rawValue) }

    public func isReserved(_ fid: Fid) -> Bool { numbers.range.contains(fid.rawValue) }
    public func isAllocated(_ fid: Fid) -> Bool { numbers.allocated.contains(fid.rawValue) }

    /// Whether a fid the CLIENT just brought into use clashes with the reservation (nil: no clash).
    public func conflict(withClientFid fid: Fid) -> ReservationConflict? {
        if isAllocated(fid) { return .collidesWithAllocated }
        return isReserved(fid) ? .inReservedRange : nil
    }
}
