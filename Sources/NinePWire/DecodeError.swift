/// Why a frame could not be decoded: where (byte offset within the frame), which field, and why.
public struct DecodeError: Error, Hashable, Sendable, CustomStringConvertible {
    public var offset: Int
    public var field: String
    public var reason: String
    public init(offset: Int, field: String, reason: String) { self.offset = offset; self.field = field; self.reason = reason }
    public var description: String { "malformed at byte \(offset) (\(field)): \(reason)" }
}
