/// An xattr fid's attribute (Txattrwalk name and Rxattrwalk size, or Txattrcreate name and attr_size).
public struct XattrInfo: Hashable, Sendable {
    public var name: P9String
    public var size: UInt64
    public init(name: P9String, size: UInt64) { self.name = name; self.size = size }
}
