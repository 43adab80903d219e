import InspectorCore
import TUICore

/// A colour theme: a style for every `ThemeRole`. Loaded from TOML (`Themes/*.toml`, see
/// `Theme.parse(toml:)`); roles a theme leaves out are drawn in its `normal` style.
public struct Theme: Hashable, Sendable {
    public var name: String
    public var summary: String
    public private(set) var styles: [ThemeRole: Style]

    public init(name: String, summary: String = "", styles: [ThemeRole: Style]) {
        self.name = name
        self.summary = summary
        self.styles = styles
    }

    /// The style of a role (the `normal` style for roles the theme does not set).
    public func style(_ role: ThemeRole) -> Style {
        styles[role] ?? styles[.normal] ?? .plain
    }

    /// The style of a role laid over the `normal` style (so a role that only sets a foreground keeps
    /// the normal background).
    public func resolved(_ role: ThemeRole) -> Style {
        let base = styles[.normal] ?? .plain
        guard role != .normal, let own = styles[role] else { return base }
        return base.merged(with: own)
    }

    /// Roles this theme does not define.
    public var missingRoles: [ThemeRole] { ThemeRole.allCases.filter { styles[$0] == nil } }

    /// The theme without colours (for `NO_COLOR`): attributes are kept, and roles that told themselves
    /// apart only by colour get one (reverse for bars and the selection, bold for errors and headings,
    /// underline for the hex highlight) so the screen still reads.
    public func withoutColor() -> Theme {
        var plain: [ThemeRole: Style] = [:]
        for role in ThemeRole.allCases {
            var attrs = styles[role]?.attrs ?? []
            switch role {
            case .header, .status, .listSelected, .hexHighlight, .prompt: attrs.insert(.reverse)
            case .listError, .listAnomaly, .fidLeaked, .fidMisused, .statusError, .promptError, .listHeader,
                 .treeSection, .helpSection:
                attrs.insert(.bold)
            case .dim, .fidEnded, .listFlushed: attrs.insert(.dim)
            case .listInjected, .helpKey: attrs.insert(.underline)
            default: break
            }
            plain[role] = Style(attrs: attrs)
        }
        return Theme(name: name + " (no colour)", summary: summary, styles: plain)
    }
}
