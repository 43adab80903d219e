/// What a field's number means to a person where the number alone does not say it: a POSIX mode's file type
/// and permissions, a time as a date. Shown beside the number (the inspector's decode tree, the REPL's
/// `stat`), never instead of it: the canonical line and JSON keep the wire's numbers.
public enum FieldNotes {
    /// `regular file, rw-r--r--`: the type in `mode & S_IFMT` (left out when there is none, as in the mode
    /// of a Tlcreate or Tmkdir) and the permission bits with set-user-ID, set-group-ID and sticky marked as
    /// `ls -l` marks them (`s`/`S`, `t`/`T`).
    public static func posixMode(_ mode: UInt32) -> String {
        func triple(_ shift: UInt32, special: UInt32, mark: Character) -> String {
            let bits = (mode >> shift) & 7
            let x: Character = mode & special != 0 ? (bits & 1 != 0 ? mark : Character(mark.uppercased()))
                                                   : (bits & 1 != 0 ? "x" : "-")
            return (bits & 4 != 0 ? "r" : "-") + (bits & 2 != 0 ? "w" : "-") + String(x)
        }
        let permissions = triple(6, special: 0o4000, mark: "s") + triple(3, special: 0o2000, mark: "s")
            + triple(0, special: 0o1000, mark: "t")
        let format = mode & 0o170000
        guard format != 0 else { return permissions }
        let type: String
        switch format {
        case 0o140000: type = "socket"
        case 0o120000: type = "symbolic link"
        case 0o100000: type = "regular file"
        case 0o060000: type = "block device"
        case 0o040000: type = "directory"
        case 0o020000: type = "character device"
        case 0o010000: type = "fifo"
        default: type = "file type 0" + String(format, radix: 8)
        }
        return type + ", " + permissions
    }

    /// `2026-12-07T06:13:33.107246740Z` (with `nanoseconds`) or `2026-12-07T06:13:33Z`: a time since the
    /// epoch in UTC. Nil for zero (a time the server left out, or a Tsetattr that does not set it) and for
    /// what is not a time: a second or more in `nanoseconds`, or a moment past 2262-04-11, the last that
    /// nanoseconds since the epoch hold in 64 bits (such a field is garbage, and shows as its number).
    public static func date(seconds: UInt64, nanoseconds: UInt64?) -> String? {
        let nanos = nanoseconds ?? 0
        guard seconds > 0 || nanos > 0, nanos < 1_000_000_000, seconds < UInt64(Int64.max / 1_000_000_000) else {
            return nil
        }
        let bytes = UTCTime.iso8601Bytes(Int64(seconds) * 1_000_000_000 + Int64(nanos), fraction: nanoseconds != nil)
        return String(decoding: bytes, as: UTF8.self)
    }
}
