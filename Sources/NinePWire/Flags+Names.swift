/// Symbolic names for flag words (for display) and parsers for the REPL ("RDONLY|LARGEFILE", "basic").
///
/// Parsing grammar shared by every `init?(parsing:)`: tokens separated by `|`, `,`, `+` or spaces; each
/// token is a name (case-insensitive, with or without the C prefix such as `O_`, `P9_DOTL_`,
/// `P9_GETATTR_`, `DM`, `QT`) or a number (decimal, `0x` hex, `0o` or leading-`0` octal). The values are
/// ORed. An empty string or an unknown name gives nil.
enum FlagParser {
    static func parse(_ text: String, prefixes: [String], lookup: (String) -> UInt64?) -> UInt64? {
        let tokens = text.split(whereSeparator: { $0 == "|" || $0 == "," || $0 == "+" || $0 == " " || $0 == "\t" })
        guard !tokens.isEmpty else { return nil }
        var value: UInt64 = 0
        for raw in tokens {
            if let n = parseUnsigned(String(raw)) { value |= n; continue }
            var t = raw.uppercased()
            if let v = lookup(t) { value |= v; continue }
            var found: UInt64?
            for p in prefixes where t.hasPrefix(p) {
                t = String(t.dropFirst(p.count))
                if let v = lookup(t) { found = v; break }
            }
            guard let v = found else { return nil }
            value |= v
        }
        return value
    }

    /// Decimal, `0x` hex, `0o` or C-style leading-zero octal.
    static func parseUnsigned(_ s: String) -> UInt64? {
        let l = s.lowercased()
        if l.hasPrefix("0x") { return UInt64(l.dropFirst(2), radix: 16) }
        if l.hasPrefix("0o") { return UInt64(l.dropFirst(2), radix: 8) }
        if l.count > 1, l.hasPrefix("0") { return UInt64(l.dropFirst(), radix: 8) }
        return UInt64(l)
    }

    /// Names of the set bits from `table`, plus any bits not in the table as one hex token.
    static func names<T: UnsignedInteger & FixedWidthInteger>(_ raw: T, _ table: [(String, T)]) -> [String] {
        var out: [String] = []
        var rest = raw
        for (n, bit) in table where raw & bit == bit && bit != 0 {
            out.append(n); rest &= ~bit
        }
        if rest != 0 { out.append("0x" + String(rest, radix: 16)) }
        return out
    }
}

extension LOpenFlags {
    /// `["RDONLY", "LARGEFILE"]`: the access mode first, then each bit; unknown bits as one hex token.
    public var names: [String] {
        [LOpenFlags.accessNames[Int(accessMode)]] + FlagParser.names(rawValue & ~3, LOpenFlags.bitNames)
    }
    /// `"RDONLY|LARGEFILE"`.
    public var symbolic: String { names.joined(separator: "|") }
    /// Parses `"RDONLY|LARGEFILE"`, `"O_WRONLY|O_CREAT"`, `"0x8000"` (also accepts Linux's `CREAT`).
    public init?(parsing text: String) {
        let table = LOpenFlags.bitNames + [("CREAT", 0o100)]
        guard let v = FlagParser.parse(text, prefixes: ["P9_DOTL_", "O_"], lookup: { name in
            if let i = LOpenFlags.accessNames.firstIndex(of: name) { return UInt64(i) }
            return table.first { $0.0 == name }.map { UInt64($0.1) }
        }), v <= UInt64(UInt32.max) else { return nil }
        self.init(rawValue: UInt32(v))
    }
}

extension GetattrMask {
    /// `["BASIC"]`, `["ALL"]`, `["BASIC", "GEN"]`, `["MODE", "SIZE"]`: ALL and BASIC are used when all their
    /// bits are set; unknown bits as one hex token.
    public var names: [String] {
        // The two masks nearly every Tgetattr/Rgetattr carries: no array built per message.
        if rawValue == GetattrMask.basic.rawValue { return GetattrMask.basicNames }
        if rawValue == GetattrMask.all.rawValue { return GetattrMask.allNames }
        if rawValue & GetattrMask.all.rawValue == GetattrMask.all.rawValue {
            return ["ALL"] + FlagParser.names(rawValue & ~GetattrMask.all.rawValue, GetattrMask.bitNames)
        }
        if rawValue & GetattrMask.basic.rawValue == GetattrMask.basic.rawValue {
            return ["BASIC"] + FlagParser.names(rawValue & ~GetattrMask.basic.rawValue, GetattrMask.bitNames)
        }
        return FlagParser.names(rawValue, GetattrMask.bitNames)
    }
    private static let basicNames = ["BASIC"]
    private static let allNames = ["ALL"]
    public var symbolic: String { names.isEmpty ? "0" : names.joined(separator: "|") }
    /// Parses `"basic"`, `"ALL"`, `"MODE|SIZE"`, `"P9_GETATTR_MODE"`, `"0x7ff"`.
    public init?(parsing text: String) {
        let table = GetattrMask.bitNames + [("BASIC", 0x7FF), ("ALL", 0x3FFF)]
        guard let v = FlagParser.parse(text, prefixes: ["P9_GETATTR_", "P9_STATS_"], lookup: { name in
            table.first { $0.0 == name }.map { $0.1 }
        }) else { return nil }
        self.init(rawValue: v)
    }
}

extension SetattrValid {
    public var names: [String] { FlagParser.names(rawValue, SetattrValid.bitNames) }
    public var symbolic: String { names.isEmpty ? "0" : names.joined(separator: "|") }
    /// Parses `"MODE|SIZE"`, `"P9_SETATTR_ATIME"`, `"0x8"`.
    public init?(parsing text: String) {
        guard let v = FlagParser.parse(text, prefixes: ["P9_SETATTR_", "P9_ATTR_"], lookup: { name in
            SetattrValid.bitNames.first { $0.0 == name }.map { UInt64($0.1) }
        }), v <= UInt64(UInt32.max) else { return nil }
        self.init(rawValue: UInt32(v))
    }
}

extension OpenMode {
    static let accessNames = ["OREAD", "OWRITE", "ORDWR", "OEXEC"]
    static let bitNames: [(String, UInt8)] = [("OTRUNC", 0x10), ("OREXEC", 0x20), ("ORCLOSE", 0x40), ("OAPPEND", 0x80)]
    /// `["OREAD", "OTRUNC"]`: access first, then bits; unknown bits as one hex token.
    public var names: [String] { [OpenMode.accessNames[Int(access)]] + FlagParser.names(rawValue & ~3, OpenMode.bitNames) }
    public var symbolic: String { names.joined(separator: "|") }
    /// Parses `"OREAD|OTRUNC"`, `"write"`, `"rdwr|rclose"`, `"0x10"`.
    public init?(parsing text: String) {
        guard let v = FlagParser.parse(text, prefixes: [], lookup: { name in
            let n = name.hasPrefix("O") ? name : "O" + name
            if let i = OpenMode.accessNames.firstIndex(of: n) { return UInt64(i) }
            switch name {
            case "O_RDONLY", "RDONLY": return 0
            case "O_WRONLY", "WRONLY": return 1
            case "O_RDWR", "RDWR": return 2
            default: break
            }
            return OpenMode.bitNames.first { $0.0 == n }.map { UInt64($0.1) }
        }), v <= 0xFF else { return nil }
        self.init(rawValue: UInt8(v))
    }
}

extension DirMode {
    static let bitNames: [(String, UInt32)] = [
        ("DMDIR", 0x8000_0000), ("DMAPPEND", 0x4000_0000), ("DMEXCL", 0x2000_0000), ("DMMOUNT", 0x1000_0000),
        ("DMAUTH", 0x0800_0000), ("DMTMP", 0x0400_0000), ("DMSYMLINK", 0x0200_0000), ("DMLINK", 0x0100_0000),
        ("DMDEVICE", 0x0080_0000), ("DMNAMEDPIPE", 0x0020_0000), ("DMSOCKET", 0x0010_0000),
        ("DMSETUID", 0x0008_0000), ("DMSETGID", 0x0004_0000), ("DMSETVTX", 0x0001_0000),
    ]
    /// `["DMDIR", "0755"]`: DM bits, unknown high bits as one hex token, then the permissions in octal.
    public var names: [String] {
        var out = FlagParser.names(rawValue & ~0o777, DirMode.bitNames)
        let p = String(permissions, radix: 8)
        out.append(String(repeating: "0", count: max(0, 4 - p.count)) + p)
        return out
    }
    public var symbolic: String { names.joined(separator: "|") }
    /// Parses `"DMDIR|0755"`, `"dir|0644"`, `"0x800001ed"` (bare numbers with a leading 0 are octal).
    public init?(parsing text: String) {
        guard let v = FlagParser.parse(text, prefixes: ["DM"], lookup: { name in
            DirMode.bitNames.first { $0.0 == name || $0.0 == "DM" + name }.map { UInt64($0.1) }
        }), v <= UInt64(UInt32.max) else { return nil }
        self.init(rawValue: UInt32(v))
    }
}

extension QidType {
    static let bitNames: [(String, UInt8)] = [
        ("QTDIR", 0x80), ("QTAPPEND", 0x40), ("QTEXCL", 0x20), ("QTMOUNT", 0x10), ("QTAUTH", 0x08),
        ("QTTMP", 0x04), ("QTSYMLINK", 0x02), ("QTLINK", 0x01),
    ]
    /// `["QTDIR"]`; empty for QTFILE.
    public var names: [String] { FlagParser.names(rawValue, QidType.bitNames) }
    /// One letter per bit, as in the canonical qid `(path version letters)`: d DIR, a APPEND, l EXCL,
    /// m MOUNT, A AUTH, t TMP, L SYMLINK, H LINK (hard link); "" for a plain file.
    public var letters: String {
        var s = ""
        for (bit, c) in QidType.letterTable where rawValue & bit != 0 { s.append(c) }
        return s
    }
    static let letterTable: [(UInt8, Character)] = [
        (0x80, "d"), (0x40, "a"), (0x20, "l"), (0x10, "m"), (0x08, "A"), (0x04, "t"), (0x02, "L"), (0x01, "H"),
    ]
}

extension LockFlags {
    public var names: [String] { FlagParser.names(rawValue, [("BLOCK", 1), ("RECLAIM", 2)]) }
    public var symbolic: String { names.isEmpty ? "0" : names.joined(separator: "|") }
    public init?(parsing text: String) {
        guard let v = FlagParser.parse(text, prefixes: ["P9_LOCK_FLAGS_", "P9_LOCK_"], lookup: { name in
            name == "BLOCK" ? 1 : name == "RECLAIM" ? 2 : nil
        }), v <= UInt64(UInt32.max) else { return nil }
        self.init(rawValue: UInt32(v))
    }
}

extension LockType {
    /// Parses `"RDLCK"`, `"wrlck"`, `"F_UNLCK"`, `"P9_LOCK_TYPE_UNLCK"` or a number.
    public init?(parsing text: String) {
        var t = text.uppercased()
        for p in ["P9_LOCK_TYPE_", "F_"] where t.hasPrefix(p) { t = String(t.dropFirst(p.count)) }
        if let i = ["RDLCK", "WRLCK", "UNLCK"].firstIndex(of: t) { self.init(rawValue: UInt8(i)); return }
        guard let n = FlagParser.parseUnsigned(text), n <= 0xFF else { return nil }
        self.init(rawValue: UInt8(n))
    }
}

extension LockStatus {
    /// Parses `"SUCCESS"`, `"blocked"`, `"P9_LOCK_ERROR"` or a number.
    public init?(parsing text: String) {
        var t = text.uppercased()
        if t.hasPrefix("P9_LOCK_") { t = String(t.dropFirst(8)) }
        if let i = ["SUCCESS", "BLOCKED", "ERROR", "GRACE"].firstIndex(of: t) { self.init(rawValue: UInt8(i)); return }
        guard let n = FlagParser.parseUnsigned(text), n <= 0xFF else { return nil }
        self.init(rawValue: UInt8(n))
    }
}

extension Tunlinkat {
    /// `["REMOVEDIR"]` for AT_REMOVEDIR; unknown bits as one hex token.
    public static func flagNames(_ flags: UInt32) -> [String] { FlagParser.names(flags, [("REMOVEDIR", removeDir)]) }
    /// Parses `"REMOVEDIR"`, `"AT_REMOVEDIR"`, `"0x200"`, `"0"`.
    public static func parseFlags(_ text: String) -> UInt32? {
        guard let v = FlagParser.parse(text, prefixes: ["P9_DOTL_AT_", "AT_"], lookup: { $0 == "REMOVEDIR" ? 0x200 : nil }),
              v <= UInt64(UInt32.max) else { return nil }
        return UInt32(v)
    }
}

extension Txattrcreate {
    /// Linux setxattr flags: XATTR_CREATE 1, XATTR_REPLACE 2.
    public static func flagNames(_ flags: UInt32) -> [String] { FlagParser.names(flags, [("CREATE", 1), ("REPLACE", 2)]) }
}

extension Dirent {
    /// Linux d_type names (`DT_DIR` …), nil for values outside the table.
    public static func typeName(_ type: UInt8) -> String? {
        switch type {
        case 0: "DT_UNKNOWN"
        case 1: "DT_FIFO"
        case 2: "DT_CHR"
        case 4: "DT_DIR"
        case 6: "DT_BLK"
        case 8: "DT_REG"
        case 10: "DT_LNK"
        case 12: "DT_SOCK"
        default: nil
        }
    }
}

extension NineP {
    /// Parses an unsigned number as the REPL writes it: decimal, `0x` hex, `0o` or leading-`0` octal.
    public static func parseNumber(_ text: String) -> UInt64? { FlagParser.parseUnsigned(text) }
}
