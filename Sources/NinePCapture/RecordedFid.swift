import NinePWire

/// A fid in use on a connection when a capture file began (a capture cut into several files,
/// `CaptureRotation`): what the file's continuation packet says about it, so that a reader of that file
/// alone knows the fid's path and state although the walk that made it is in an earlier file, perhaps one
/// a ring of files has deleted.
///
/// In the capture: the `fids` value of extra `ninescope fids=…` comments on the continuation packet, one
/// entry per fid, `FID:STATE:ROOT[/NAME…][;KEY=VALUE…]` joined by `,`, where ROOT is `a=ANAME` (the attach
/// name), `u` (unknown: the fid was adopted) or `auth`, and the attach name, every path name and every
/// name in a value have each byte outside `A–Z a–z 0–9 . _ - ~` written `%XX` (so `,` `:` `/` `;` never
/// appear raw in them). The optional fields, what the tracker knew of the fid besides its path:
/// `q=TYPE.VERSION.PATH` its qid (hex), `o=cMODE` or `o=lFLAGS` how it was opened (Topen/Tcreate mode or
/// Tlopen/Tlcreate flags, hex), `i=IOUNIT`, `u=UNAME` and `n=N_UNAME` of the attach it descends from, and
/// `x=SIZE.NAME` for an xattr fid, `d=1` when the path no longer names the fid's file (it was removed,
/// unlinked or renamed over while the fid held it: `FidPath.isDeleted`). A reader ignores keys it does not
/// know.
/// Example: `7:open:a=%2Fsrv/usr/bin;q=0.0.2a1;o=l8000;i=8168;u=root;n=0`.
public struct RecordedFid: Hashable, Sendable {
    public enum Root: Hashable, Sendable {
        case attach(aname: P9String)
        case unknown
        case auth
    }
    public var fid: Fid
    /// The fid's state as the tracker names it (`FidState.description`: `open`, `walked`, …).
    public var state: String
    public var root: Root
    public var elements: [P9String]
    public var qid: Qid?
    public var opened: FidOpenMode?
    public var iounit: UInt32?
    public var uname: P9String?
    public var nUname: UInt32?
    public var xattr: XattrInfo?
    /// The path no longer names the fid's file (`FidPath.isDeleted`).
    public var deleted: Bool

    public init(fid: Fid, state: String, root: Root, elements: [P9String], qid: Qid? = nil,
                opened: FidOpenMode? = nil, iounit: UInt32? = nil, uname: P9String? = nil, nUname: UInt32? = nil,
                xattr: XattrInfo? = nil, deleted: Bool = false) {
        self.fid = fid
        self.state = state
        self.root = root
        self.elements = elements
        self.qid = qid
        self.opened = opened
        self.iounit = iounit
        self.uname = uname
        self.nUname = nUname
        self.xattr = xattr
        self.deleted = deleted
    }

    /// The entries of `fids` as comment values, in pieces of at most about `pieceBytes` bytes each (a
    /// pcapng option holds at most 65,535 bytes, and the comment's own escaping can triple a value).
    public static func encode(_ fids: [RecordedFid], pieceBytes: Int = 20_000) -> [String] {
        var pieces: [String] = []
        var piece: [UInt8] = []
        for f in fids {
            var entry: [UInt8] = Array("\(f.fid.rawValue):".utf8)
            entry += escape(Array(f.state.utf8))
            entry.append(UInt8(ascii: ":"))
            switch f.root {
            case .attach(let aname):
                entry += Array("a=".utf8)
                entry += escape(aname.bytes)
            case .unknown: entry.append(UInt8(ascii: "u"))
            case .auth: entry += Array("auth".utf8)
            }
            for name in f.elements {
                entry.append(UInt8(ascii: "/"))
                entry += escape(name.bytes)
            }
            entry += details(f)
            if !piece.isEmpty && piece.count + 1 + entry.count > pieceBytes {
                pieces.append(String(decoding: piece, as: UTF8.self))
                piece = []
            }
            if !piece.isEmpty { piece.append(UInt8(ascii: ",")) }
            piece += entry
        }
        if !piece.isEmpty { pieces.append(String(decoding: piece, as: UTF8.self)) }
        return pieces
    }

    /// The entries of a `fids` value; malformed entries are left out.
    public static func decode(_ text: String) -> [RecordedFid] {
        text.split(separator: ",").compactMap { entry in
            let parts = entry.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, let fid = UInt32(parts[0]), let state = unescape(parts[1]) else { return nil }
            let fields = parts[2].split(separator: ";", omittingEmptySubsequences: false)
            let words = fields[0].split(separator: "/", omittingEmptySubsequences: false)
            let root: Root
            switch words[0] {
            case "u": root = .unknown
            case "auth": root = .auth
            case let w where w.hasPrefix("a="):
                guard let aname = unescape(w.dropFirst(2)) else { return nil }
                root = .attach(aname: P9String(bytes: aname))
            default: return nil
            }
            var elements: [P9String] = []
            for word in words.dropFirst() {
                guard let name = unescape(word) else { return nil }
                elements.append(P9String(bytes: name))
            }
            var recorded = RecordedFid(fid: Fid(fid), state: String(decoding: state, as: UTF8.self), root: root,
                                       elements: elements)
            for field in fields.dropFirst() {
                guard recorded.readDetail(field) else { return nil }
            }
            return recorded
        }
    }

    /// The optional fields of an entry, each `;KEY=VALUE`.
    private static func details(_ f: RecordedFid) -> [UInt8] {
        var fields: [String] = []
        if let q = f.qid {
            fields.append("q=\(hex(q.type.rawValue)).\(hex(q.version)).\(hex(q.path))")
        }
        switch f.opened {
        case .classic(let mode)?: fields.append("o=c\(hex(mode.rawValue))")
        case .dotL(let flags)?: fields.append("o=l\(hex(flags.rawValue))")
        case nil: break
        }
        if let i = f.iounit { fields.append("i=\(i)") }
        if let u = f.uname { fields.append("u=" + String(decoding: escape(u.bytes), as: UTF8.self)) }
        if let n = f.nUname { fields.append("n=\(n)") }
        if let x = f.xattr {
            fields.append("x=\(x.size)." + String(decoding: escape(x.name.bytes), as: UTF8.self))
        }
        if f.deleted { fields.append("d=1") }
        return fields.flatMap { [UInt8(ascii: ";")] + Array($0.utf8) }
    }

    /// Takes one `KEY=VALUE` field; false for a known key whose value does not parse.
    private mutating func readDetail(_ field: Substring) -> Bool {
        guard let equals = field.firstIndex(of: "=") else { return false }
        let value = field[field.index(after: equals)...]
        switch field[..<equals] {
        case "q":
            let numbers = value.split(separator: ".", omittingEmptySubsequences: false)
            guard numbers.count == 3, let type = UInt8(numbers[0], radix: 16),
                  let version = UInt32(numbers[1], radix: 16), let path = UInt64(numbers[2], radix: 16) else {
                return false
            }
            qid = Qid(type: QidType(rawValue: type), version: version, path: path)
        case "o":
            if value.first == "c", let mode = UInt8(value.dropFirst(), radix: 16) {
                opened = .classic(OpenMode(rawValue: mode))
            } else if value.first == "l", let flags = UInt32(value.dropFirst(), radix: 16) {
                opened = .dotL(LOpenFlags(rawValue: flags))
            } else {
                return false
            }
        case "i":
            guard let i = UInt32(value) else { return false }
            iounit = i
        case "u":
            guard let u = Self.unescape(value) else { return false }
            uname = P9String(bytes: u)
        case "n":
            guard let n = UInt32(value) else { return false }
            nUname = n
        case "x":
            guard let dot = value.firstIndex(of: "."), let size = UInt64(value[..<dot]),
                  let name = Self.unescape(value[value.index(after: dot)...]) else { return false }
            xattr = XattrInfo(name: P9String(bytes: name), size: size)
        case "d":
            guard value == "1" || value == "0" else { return false }
            deleted = value == "1"
        default:
            break   // a key from a later version
        }
        return true
    }

    private static func hex<T: BinaryInteger>(_ n: T) -> String { String(n, radix: 16) }

    private static func escape(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        let hex = Array("0123456789ABCDEF".utf8)
        for b in bytes {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"),
                 UInt8(ascii: "~"):
                out.append(b)
            default:
                out += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 15)]]
            }
        }
        return out
    }

    private static func unescape(_ text: Substring) -> [UInt8]? { CaptureComment.unescapedBytes(text) }
}
