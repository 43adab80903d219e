/// Text attributes a cell can carry. Backends drop the ones a terminal cannot show.
public struct Attributes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let bold = Attributes(rawValue: 1 << 0)
    public static let dim = Attributes(rawValue: 1 << 1)
    public static let underline = Attributes(rawValue: 1 << 2)
    public static let reverse = Attributes(rawValue: 1 << 3)
    public static let italic = Attributes(rawValue: 1 << 4)
    public static let blink = Attributes(rawValue: 1 << 5)

    /// Every attribute with its canonical name, in a fixed order (used by printing and parsing).
    public static let named: [(name: String, attribute: Attributes)] = [
        ("bold", .bold), ("dim", .dim), ("underline", .underline),
        ("reverse", .reverse), ("italic", .italic), ("blink", .blink),
    ]

    /// The attribute called `name` (one of `named`'s names); nil for anything else.
    public init?(name: String) {
        guard let entry = Attributes.named.first(where: { $0.name == name.lowercased() }) else { return nil }
        self = entry.attribute
    }

    /// The names of the attributes set, in `named` order.
    public var names: [String] {
        Attributes.named.filter { contains($0.attribute) }.map(\.name)
    }
}
