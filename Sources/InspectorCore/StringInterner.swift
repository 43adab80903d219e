/// Stores each distinct string once and hands out dense `Int32` ids (0, 1, 2, …).
public struct StringInterner: Sendable {
    public private(set) var strings: [String] = []
    private var ids: [String: Int32] = [:]

    public init() {}

    public var count: Int { strings.count }

    /// The id of `string`, adding it when new.
    public mutating func intern(_ string: String) -> Int32 {
        if let id = ids[string] { return id }
        let id = Int32(strings.count)
        strings.append(string)
        ids[string] = id
        return id
    }

    /// The id of `string` if it was interned.
    public func id(of string: String) -> Int32? { ids[string] }

    /// The string for `id`; nil for negative or unknown ids.
    public subscript(id: Int32) -> String? {
        id >= 0 && Int(id) < strings.count ? strings[Int(id)] : nil
    }
}
