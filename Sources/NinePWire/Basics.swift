/// Core value types of the 9P wire protocol (intro(5), MESSAGES.md "Wire basics").

/// A 9P message tag (`tag[2]`). `NOTAG` (0xFFFF) is used by Tversion.
public struct Tag: RawRepresentable, Hashable, Comparable, Sendable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ value: UInt16) { self.rawValue = value }
    public init(integerLiteral value: UInt16) { self.rawValue = value }
    public static let notag = Tag(0xFFFF)
    public static func < (a: Tag, b: Tag) -> Bool { a.rawValue < b.rawValue }
    public var description: String { self == .notag ? "NOTAG" : String(rawValue) }
}

/// A 9P fid (`fid[4]`). `NOFID` (0xFFFFFFFF) means "no fid" (e.g. afid in Tattach without auth).
public struct Fid: RawRepresentable, Hashable, Comparable, Sendable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ value: UInt32) { self.rawValue = value }
    public init(integerLiteral value: UInt32) { self.rawValue = value }
    public static let nofid = Fid(0xFFFF_FFFF)
    public static func < (a: Fid, b: Fid) -> Bool { a.rawValue < b.rawValue }
    public var description: String { self == .nofid ? "NOFID" : String(rawValue) }
}

/// qid.type bits (MESSAGES.md "Structures"; Linux values for QTSYMLINK/QTLINK).
public struct QidType: OptionSet, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let dir = QidType(rawValue: 0x80)
    public static let append = QidType(rawValue: 0x40)
    public static let excl = QidType(rawValue: 0x20)
    public static let mount = QidType(rawValue: 0x10)
    public static let auth = QidType(rawValue: 0x08)
    public static let tmp = QidType(rawValue: 0x04)
    public static let symlink = QidType(rawValue: 0x02)
    public static let link = QidType(rawValue: 0x01)
    public static let file: QidType = []
}

/// `qid[13]` = `type[1] version[4] path[8]`.
public struct Qid: Hashable, Sendable {
    public var type: QidType
    public var version: UInt32
    public var path: UInt64
    public init(type: QidType = .file, version: UInt32 = 0, path: UInt64) {
        self.type = type; self.version = version; self.path = path
    }
    public static let wireSize = 13
}

/// The protocol dialect agreed in Tversion/Rversion.
public enum Dialect: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case p9 = "9P2000"
    case u = "9P2000.u"
    case l = "9P2000.L"

    /// Parses a version string as sent in Tversion/Rversion ("9P2000", "9P2000.u", "9P2000.L").
    /// Per version(5) anything after a period that we do not know maps to the base "9P2000".
    public init?(version: String) {
        switch version {
        case "9P2000": self = .p9
        case "9P2000.u": self = .u
        case "9P2000.L": self = .l
        default:
            if version.hasPrefix("9P2000.") { self = .p9 } else { return nil }
        }
    }
    public var description: String { rawValue }
}

/// Protocol constants (MESSAGES.md "Constants").
public enum NineP {
    public static let headerSize = 7          // size[4] type[1] tag[2]
    public static let maxWalkElements = 16    // MAXWELEM
    public static let ioHeaderSize = 24       // IOHDRSZ
    public static let readdirHeaderSize = 24  // P9_READDIRHDRSZ
    public static let noUname: UInt32 = 0xFFFF_FFFF  // NONUNAME
    public static let errMax = 128
    /// Default upper bound on a frame accepted by decoders when no msize was negotiated.
    public static let defaultMaxFrameSize: UInt32 = 16 * 1024 * 1024
}
