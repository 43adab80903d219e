/// Selection and scrolling over a list of `count` items shown `pageSize` at a time, with "follow the
/// tail": while following, the selection stays on the last item as items arrive; any move away from the
/// end stops following, and going to the bottom starts it again.
public struct ListCursor: Hashable, Sendable {
    public private(set) var count: Int
    /// The selected position (nil only when the list is empty).
    public private(set) var selected: Int?
    /// The first visible position.
    public private(set) var top: Int
    public private(set) var pageSize: Int
    public private(set) var isFollowing: Bool

    public init(count: Int = 0, pageSize: Int = 1, following: Bool = true) {
        self.count = max(0, count)
        self.pageSize = max(1, pageSize)
        self.isFollowing = following
        self.top = 0
        self.selected = nil
        settle()
    }

    /// The visible positions.
    public var visible: Range<Int> { top..<min(count, top + pageSize) }

    public mutating func setCount(_ n: Int) {
        count = max(0, n)
        settle()
    }

    public mutating func setPageSize(_ n: Int) {
        pageSize = max(1, n)
        settle()
    }

    public mutating func setFollowing(_ on: Bool) {
        isFollowing = on
        settle()
    }

    /// Moves by `delta` items (negative: up). Moving stops following unless it lands on the last item
    /// while going down.
    public mutating func move(by delta: Int) {
        guard count > 0 else { return }
        let from = selected ?? (delta >= 0 ? -1 : count)
        let to = min(max(0, from + delta), count - 1)
        select(to, follow: delta > 0 && to == count - 1 && isFollowing)
    }

    public mutating func pageDown() {
        guard count > 0 else { return }
        let target = min(count - 1, (selected ?? 0) + pageSize)
        top = min(max(0, count - pageSize), top + pageSize)
        select(target, follow: false)
    }

    public mutating func pageUp() {
        guard count > 0 else { return }
        let target = max(0, (selected ?? 0) - pageSize)
        top = max(0, top - pageSize)
        select(target, follow: false)
    }

    public mutating func halfPageDown() { move(by: max(1, pageSize / 2)) }
    public mutating func halfPageUp() { move(by: -max(1, pageSize / 2)) }

    public mutating func toTop() {
        guard count > 0 else { return }
        select(0, follow: false)
    }

    /// Goes to the last item and follows the tail again.
    public mutating func toBottom() {
        isFollowing = true
        settle()
    }

    /// Selects a position (clamped); stops following unless `follow`.
    public mutating func select(_ position: Int, follow: Bool = false) {
        isFollowing = follow
        guard count > 0 else {
            selected = nil
            top = 0
            return
        }
        selected = min(max(0, position), count - 1)
        scrollToSelection()
    }

    /// Scrolls so that `selected` is visible, moving the view as little as possible.
    mutating func scrollToSelection() {
        guard let s = selected else { top = 0; return }
        if s < top { top = s } else if s >= top + pageSize { top = s - pageSize + 1 }
        // Never leave rows empty at the bottom while there are rows above to show.
        top = min(max(0, top), max(0, count - pageSize))
    }

    private mutating func settle() {
        guard count > 0 else {
            selected = nil
            top = 0
            return
        }
        if isFollowing || selected == nil {
            selected = isFollowing ? count - 1 : 0
        } else if let s = selected, s >= count {
            selected = count - 1
        }
        if isFollowing {
            top = max(0, count - pageSize)
        }
        scrollToSelection()
    }
}
