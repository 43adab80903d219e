/// How a cell looks: foreground colour, background colour and attributes.
public struct Style: Hashable, Sendable {
    public var fg: Color
    public var bg: Color
    public var attrs: Attributes

    public init(fg: Color = .default, bg: Color = .default, attrs: Attributes = []) {
        self.fg = fg
        self.bg = bg
        self.attrs = attrs
    }

    /// Default colours, no attributes.
    public static let plain = Style()

    /// This style with extra attributes added.
    public func adding(_ extra: Attributes) -> Style {
        var copy = self
        copy.attrs.formUnion(extra)
        return copy
    }

    /// `other` laid on top of this style: its non-default colours win, attributes are united.
    public func merged(with other: Style) -> Style {
        Style(fg: other.fg == .default ? fg : other.fg,
              bg: other.bg == .default ? bg : other.bg,
              attrs: attrs.union(other.attrs))
    }
}

extension Style: CustomStringConvertible {
    /// `plain`, or the non-default parts: `fg=red bg=color236 bold underline`.
    public var description: String {
        var parts: [String] = []
        if fg != .default { parts.append("fg=\(fg)") }
        if bg != .default { parts.append("bg=\(bg)") }
        parts += attrs.names
        return parts.isEmpty ? "plain" : parts.joined(separator: " ")
    }
}
