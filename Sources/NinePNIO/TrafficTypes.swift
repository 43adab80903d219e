import NinePWire

// The traffic identifiers shared by every layer live in NinePWire; these aliases pin NinePNIO's uses to
// them even while other modules also declare types with the same names.
typealias ConnectionID = NinePWire.ConnectionID
typealias Direction = NinePWire.Direction
typealias FrameMarks = NinePWire.FrameMarks
