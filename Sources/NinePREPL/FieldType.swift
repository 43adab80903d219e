import NinePWire

/// The kinds of values a message field holds, as the grammar reads and prints them.
public enum FieldType: String, Hashable, Sendable, CaseIterable {
    case u8, u16, u32, u64
    case fid, tag
    /// A 9P string (`name[s]`).
    case string
    /// A payload (`count[4] data[count]`): text, or `0x…` hex.
    case data
    case qid
    case qids
    /// A list of strings (`wname`), comma-separated.
    case strings
    /// Classic open mode (`mode[1]`): `read|write|rdwr|exec` plus `trunc`, `rclose`, `rexec`, `append`.
    case openMode
    /// A POSIX st_mode (.L: Tlcreate, Tmkdir, Tmknod, Tsetattr, Rgetattr), shown in octal.
    case posixMode
    /// Plan 9 permission word (`perm[4]`, stat `mode`): `dir|append|…|0755`.
    case dirMode
    /// 9P2000.L open flags: `rdonly|wronly|rdwr|noaccess` plus `create`, `excl`, `trunc`, ….
    case lopenFlags
    /// Tgetattr request_mask / Rgetattr valid: `basic`, `all`, `mode|size|…`.
    case getattrMask
    /// Tsetattr valid: `mode|uid|gid|size|atime|mtime|ctime|atime_set|mtime_set`.
    case setattrValid
    case lockType
    case lockFlags
    case lockStatus
    /// A Linux errno: `ENOENT` or a number.
    case errno
    /// Txattrcreate flags: `create` (1), `replace` (2).
    case xattrFlags
    /// Tunlinkat flags: `removedir` (0x200).
    case unlinkFlags
    /// Rreaddir entries.
    case dirents

    /// What the grammar accepts for this type, for errors and help.
    public var expectation: String {
        switch self {
        case .u8: return "a number 0…255"
        case .u16: return "a number 0…65535"
        case .u32: return "a 32-bit number"
        case .u64: return "a 64-bit number"
        case .fid: return "a fid (number or NOFID)"
        case .tag: return "a tag (number or NOTAG)"
        case .string: return "a string"
        case .data: return "data (text, or 0x followed by hex digits)"
        case .qid: return "a qid TYPE:VERSION:PATH"
        case .qids: return "comma-separated qids TYPE:VERSION:PATH"
        case .strings: return "comma-separated names"
        case .openMode: return "an open mode (read, write, rdwr, exec, |trunc, |rclose, or a number)"
        case .posixMode: return "a mode (octal like 0644 or 0100644)"
        case .dirMode: return "a permission (octal like 0755, |dir, |append, … or a number)"
        case .lopenFlags: return "open flags (rdonly, wronly, rdwr, |create, |excl, |trunc, … or a number)"
        case .getattrMask: return "a getattr mask (basic, all, mode|size|…, or a number)"
        case .setattrValid: return "setattr valid bits (mode|uid|gid|size|atime|mtime|ctime|atime_set|mtime_set or a number)"
        case .lockType: return "a lock type (rdlck, wrlck, unlck or a number)"
        case .lockFlags: return "lock flags (block|reclaim or a number)"
        case .lockStatus: return "a lock status (success, blocked, error, grace or a number)"
        case .errno: return "an errno (ENOENT, EPERM, … or a number)"
        case .xattrFlags: return "xattr flags (create, replace or a number)"
        case .unlinkFlags: return "unlinkat flags (removedir or a number)"
        case .dirents: return "directory entries"
        }
    }

    /// Width in bits of numeric types (nil for non-numeric ones).
    public var bitWidth: Int? {
        switch self {
        case .u8, .openMode, .lockType, .lockStatus: return 8
        case .u16, .tag: return 16
        case .u32, .posixMode, .fid, .dirMode, .lopenFlags, .setattrValid, .lockFlags, .errno, .xattrFlags, .unlinkFlags: return 32
        case .u64, .getattrMask: return 64
        default: return nil
        }
    }

    /// Symbolic names accepted for this type's bits or values (lower case), for parsing and completion.
    public var symbols: [(String, UInt64)] {
        switch self {
        case .fid: return [("nofid", UInt64(Fid.nofid.rawValue))]
        case .tag: return [("notag", UInt64(Tag.notag.rawValue))]
        case .openMode:
            return [("read", 0), ("write", 1), ("rdwr", 2), ("exec", 3), ("oread", 0), ("owrite", 1), ("ordwr", 2),
                    ("oexec", 3), ("trunc", 0x10), ("rexec", 0x20), ("rclose", 0x40), ("append", 0x80),
                    ("otrunc", 0x10), ("orexec", 0x20), ("orclose", 0x40), ("oappend", 0x80)]
        case .dirMode:
            return [("dir", 0x8000_0000), ("append", 0x4000_0000), ("excl", 0x2000_0000), ("mount", 0x1000_0000),
                    ("auth", 0x0800_0000), ("tmp", 0x0400_0000), ("symlink", 0x0200_0000), ("link", 0x0100_0000),
                    ("device", 0x0080_0000), ("namedpipe", 0x0020_0000), ("socket", 0x0010_0000),
                    ("setuid", 0x0008_0000), ("setgid", 0x0004_0000), ("setvtx", 0x0001_0000)]
        case .lopenFlags:
            return LOpenFlags.accessNames.enumerated().map { ($0.element.lowercased(), UInt64($0.offset)) }
                + LOpenFlags.bitNames.map { ($0.0.lowercased(), UInt64($0.1)) }
        case .getattrMask:
            return GetattrMask.bitNames.map { ($0.0.lowercased(), $0.1) }
                + [("basic", GetattrMask.basic.rawValue), ("all", GetattrMask.all.rawValue)]
        case .setattrValid: return SetattrValid.bitNames.map { ($0.0.lowercased(), UInt64($0.1)) }
        case .lockType: return [("rdlck", 0), ("wrlck", 1), ("unlck", 2)]
        case .lockFlags: return [("block", 1), ("reclaim", 2)]
        case .lockStatus: return [("success", 0), ("blocked", 1), ("error", 2), ("grace", 3)]
        case .errno: return Errno.knownNames.map { ($0.0.lowercased(), UInt64($0.1)) }
        case .xattrFlags: return [("create", 1), ("replace", 2)]
        case .unlinkFlags: return [("removedir", 0x200)]
        default: return []
        }
    }

    /// Prefixes that may precede a symbol (`O_`, `P9_DOTL_`, `DM`, …), lower case.
    var symbolPrefixes: [String] {
        switch self {
        case .lopenFlags: return ["p9_dotl_", "o_"]
        case .openMode: return ["o_"]
        case .dirMode: return ["dm"]
        case .getattrMask: return ["p9_getattr_", "p9_stats_"]
        case .setattrValid: return ["p9_setattr_", "p9_attr_"]
        case .lockType: return ["p9_lock_type_", "f_"]
        case .lockFlags: return ["p9_lock_flags_", "p9_lock_"]
        case .lockStatus: return ["p9_lock_"]
        case .xattrFlags: return ["xattr_"]
        case .unlinkFlags: return ["p9_dotl_at_", "at_"]
        default: return []
        }
    }

    /// Whether `|` combines several symbols/numbers (bit sets).
    var isBitSet: Bool {
        switch self {
        case .openMode, .dirMode, .lopenFlags, .getattrMask, .setattrValid, .lockFlags, .xattrFlags, .unlinkFlags: return true
        default: return false
        }
    }
}

/// A field's value, independent of the message it belongs to.
public enum FieldValue: Hashable, Sendable {
    case number(UInt64)
    /// Strings and data payloads (exact bytes).
    case bytes([UInt8])
    case qid(Qid)
    case qids([Qid])
    case strings([P9String])
    case dirents([Dirent])

    public var number: UInt64? { if case .number(let n) = self { return n } else { return nil } }
    public var bytes: [UInt8]? { if case .bytes(let b) = self { return b } else { return nil } }
}

extension Errno {
    /// (name, number) of every errno the codec knows, in table order.
    static var knownNames: [(String, UInt32)] {
        (1...200).compactMap { n in Errno(UInt32(n)).name.map { ($0, UInt32(n)) } }
    }
}
