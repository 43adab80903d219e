import InspectorCore
import NinePWire

/// The `stat` convenience's summary: every field of the reply (Rgetattr, or Rstat in 9P2000 and .u) as
/// `name value`, with a time also as a date (a `_sec`/`_nsec` pair as one line) and a POSIX mode also as its
/// file type and permissions, as `ls -l` and `stat(1)` show them. The trace lines above it keep the wire's
/// numbers.
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
                if field.type == .posixMode { text += " (" + posixMode(UInt32(truncatingIfNeeded: n)) + ")" }
                if field.name == "atime" || field.name == "mtime" { text = time(n, nsec: nil) }
            }
            out.append("   \(field.name) \(text)")
            i += 1
        }
        return out
    }

    /// `2026-12-07T06:13:33.107246740Z (1796624013.107246740)`: the date in UTC, then the wire's numbers.
    /// Zero (a time the server did not give) and values past the year 9999 stay numbers.
    static func time(_ sec: UInt64, nsec: UInt64?) -> String {
        if sec == 0 && (nsec ?? 0) == 0 { return "0" }
        let fraction = nsec.map { n in String(repeating: "0", count: max(0, 9 - String(n).count)) + String(n) }
        let raw = fraction.map { "\(sec).\($0)" } ?? String(sec)
        guard sec < 253_402_300_800, (nsec ?? 0) < 1_000_000_000 else { return raw }
        var date = TraceLine.iso8601(Int64(sec) * 1_000_000_000 + Int64(nsec ?? 0))
        if nsec == nil { date = String(date.prefix(19)) + "Z" }   // whole seconds: no fraction to show
        return "\(date) (\(raw))"
    }

    /// `regular file, rw-r--r--`: the type in `mode & S_IFMT` and the permission bits with set-user-ID,
    /// set-group-ID and sticky as `ls -l` marks them (`s`/`S`, `t`/`T`).
    static func posixMode(_ mode: UInt32) -> String {
        let types: [UInt32: String] = [
            0o140000: "socket", 0o120000: "symbolic link", 0o100000: "regular file", 0o060000: "block device",
            0o040000: "directory", 0o020000: "character device", 0o010000: "fifo",
        ]
        let format = mode & 0o170000
        let type = types[format] ?? (format == 0 ? "no type" : "type 0o" + String(format, radix: 8))
        func triple(_ shift: UInt32, special: UInt32, mark: Character) -> String {
            let bits = (mode >> shift) & 7
            let x: Character = mode & special != 0 ? (bits & 1 != 0 ? mark : Character(mark.uppercased()))
                                                   : (bits & 1 != 0 ? "x" : "-")
            return (bits & 4 != 0 ? "r" : "-") + (bits & 2 != 0 ? "w" : "-") + String(x)
        }
        return type + ", " + triple(6, special: 0o4000, mark: "s") + triple(3, special: 0o2000, mark: "s")
            + triple(0, special: 0o1000, mark: "t")
    }
}
