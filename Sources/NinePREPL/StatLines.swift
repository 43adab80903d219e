import NinePWire

/// The `stat` convenience's summary: every field of the reply (Rgetattr, or Rstat in 9P2000 and .u) as
/// `name value`, with a time also as a date (a `_sec`/`_nsec` pair as one line) and a POSIX mode also as its
/// file type and permissions (`FieldNotes`). The trace lines above it keep the wire's numbers.
enum StatLines {
    static func lines(_ fields: [(FieldSpec, FieldValue)], dataLimit: Int) -> [String] {
        var out: [String] = []
        var i = 0
        while i < fields.count {
            let (field, value) = fields[i]
            if field.name.hasSuffix("_sec"), i + 1 < fields.count,
               fields[i + 1].0.name == field.name.dropLast(4) + "_nsec",
               let sec = value.number, let nsec = fields[i + 1].1.number {
                out.append("   \(field.name.dropLast(4)) " + time(sec, nsec: nsec))
                i += 2
                continue
            }
            var text = ValueFormatter.format(value, as: field.type, dataLimit: dataLimit)
            if let n = value.number {
                if field.type == .posixMode { text += " (" + FieldNotes.posixMode(UInt32(truncatingIfNeeded: n)) + ")" }
                if field.name == "atime" || field.name == "mtime" { text = time(n, nsec: nil) }
            }
            out.append("   \(field.name) \(text)")
            i += 1
        }
        return out
    }

    /// `2026-12-07T06:13:33.107246740Z (1796624013.107246740)`: the date in UTC, then the wire's numbers.
    /// Zero (a time the server did not give) and what is not a time stay numbers.
    static func time(_ sec: UInt64, nsec: UInt64?) -> String {
        if sec == 0 && (nsec ?? 0) == 0 { return "0" }
        let fraction = nsec.map { n in String(repeating: "0", count: max(0, 9 - String(n).count)) + String(n) }
        let raw = fraction.map { "\(sec).\($0)" } ?? String(sec)
        return FieldNotes.date(seconds: sec, nanoseconds: nsec).map { "\($0) (\(raw))" } ?? raw
    }
}
