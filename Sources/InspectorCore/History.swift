/// A remembered list of entered lines (filters, searches, commands): most recent last, no blank lines,
/// no duplicates (re-entering a line moves it to the end), at most `limit` lines.
/// The app loads and saves it through `text` (one line per entry) at a path of its choosing.
public struct History: Hashable, Sendable {
    public private(set) var entries: [String] = []
    public let limit: Int

    public init(limit: Int = 200, entries: [String] = []) {
        self.limit = max(1, limit)
        for e in entries { add(e) }
    }

    /// Parses the file format: one entry per line, oldest first.
    public init(text: String, limit: Int = 200) {
        self.init(limit: limit, entries: text.split(whereSeparator: \.isNewline).map(String.init))
    }

    /// The file format: one entry per line, oldest first, ending with a newline (empty for no entries).
    public var text: String { entries.isEmpty ? "" : entries.joined(separator: "\n") + "\n" }

    public mutating func add(_ line: String) {
        let entry = String(line.filter { !$0.isNewline })
        guard !entry.allSatisfy(\.isWhitespace) else { return }
        entries.removeAll { $0 == entry }
        entries.append(entry)
        if entries.count > limit { entries.removeFirst(entries.count - limit) }
    }

    /// For browsing with up/down: the entry `steps` back from the newest (1 = newest), nil past either end.
    public func entry(stepsBack steps: Int) -> String? {
        guard steps >= 1, steps <= entries.count else { return nil }
        return entries[entries.count - steps]
    }

    /// Entries starting with `prefix`, newest first (for completion).
    public func matching(prefix: String) -> [String] {
        entries.reversed().filter { $0.hasPrefix(prefix) }
    }
}
