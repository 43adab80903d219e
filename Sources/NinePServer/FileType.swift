import NinePWire

/// The kind of a filesystem object, from the `S_IFMT` bits of a Linux `st_mode`.
///
/// Also the one place where qids are derived: ``Qid/derived(mode:path:version:)`` maps a mode to the
/// qid type (`QTDIR`, `QTSYMLINK`, `QTFILE`), and ``dirent`` gives the Linux `d_type` for Rreaddir.
public enum FileType: UInt32, Hashable, Sendable, CaseIterable {
    case fifo = 0o010000
    case characterDevice = 0o020000
    case directory = 0o040000
    case blockDevice = 0o060000
    case regular = 0o100000
    case symlink = 0o120000
    case socket = 0o140000

    /// `S_IFMT`.
    public static let mask: UInt32 = 0o170000

    /// The type encoded in a mode word; nil when the type bits are not a known type.
    public init?(mode: UInt32) { self.init(rawValue: mode & FileType.mask) }

    /// Linux `d_type` (DT_FIFO 1, DT_CHR 2, DT_DIR 4, DT_BLK 6, DT_REG 8, DT_LNK 10, DT_SOCK 12).
    public var dirent: UInt8 {
        switch self {
        case .fifo: 1
        case .characterDevice: 2
        case .directory: 4
        case .blockDevice: 6
        case .regular: 8
        case .symlink: 10
        case .socket: 12
        }
    }

    /// The qid type of an object of this kind.
    public var qidType: QidType {
        switch self {
        case .directory: .dir
        case .symlink: .symlink
        default: .file
        }
    }
}

extension Qid {
    /// The qid of an object with Linux mode `mode`: the type from the mode's `S_IFMT` bits, `path` the
    /// object's unique number (an inode number, made unique across filesystems by the driver) and `version`
    /// a change counter (0 when the driver keeps none).
    public static func derived(mode: UInt32, path: UInt64, version: UInt32 = 0) -> Qid {
        Qid(type: FileType(mode: mode)?.qidType ?? .file, version: version, path: path)
    }
}

/// Linux `dev_t` packing (glibc `makedev`/`major`/`minor`), used for `rdev` and Tmknod's major/minor.
public enum DeviceNumber {
    public static func make(major: UInt32, minor: UInt32) -> UInt64 {
        let ma = UInt64(major), mi = UInt64(minor)
        return ((ma & 0xFFF) << 8) | ((ma & ~0xFFF) << 32) | (mi & 0xFF) | ((mi & ~0xFF) << 12)
    }
    public static func major(_ dev: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: ((dev >> 8) & 0xFFF) | ((dev >> 32) & ~0xFFF)) }
    public static func minor(_ dev: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: (dev & 0xFF) | ((dev >> 12) & ~0xFF)) }
}
