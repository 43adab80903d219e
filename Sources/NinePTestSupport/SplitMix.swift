import NinePServer

/// A small seeded generator (SplitMix64) for reproducible test data: the same seed gives the same
/// bytes, cuts and messages on every machine. The one the fault rules roll with.
public typealias SplitMix = SplitMix64
