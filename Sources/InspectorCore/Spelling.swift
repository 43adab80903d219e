/// The nearest word to a mistyped one, for `unknown command 'fitler': did you mean filter?` (the
/// inspector's `:` prompt and the REPL alike).
public enum Spelling {
    /// The candidate closest to `word` (case ignored) when it is close enough to be a slip of the keys: one
    /// edit away for words of up to four letters, two for longer ones; the first of equally close ones.
    public static func nearest<S: Sequence<String>>(to word: String, among candidates: S) -> String? {
        let lower = word.lowercased()
        var best: (word: String, distance: Int)?
        for c in candidates {
            let d = editDistance(lower, c.lowercased())
            if d < best?.distance ?? .max { best = (c, d) }
        }
        guard let best, best.distance <= (lower.count <= 4 ? 1 : 2) else { return nil }
        return best.word
    }

    /// Edit distance counting a swap of two neighbouring letters as one edit, as the slip it is (`wlak`,
    /// `fitler`): optimal string alignment, on small words (commands and request names).
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        // d[i][j]: the distance between the first i letters of a and the first j of b.
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[a.count][b.count]
    }
}
