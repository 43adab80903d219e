import NinePWire

/// A fid in use on a connection when a capture file began (a capture cut into several files,
/// `CaptureRotation`): what the file's continuation packet says about it, so that a reader of that file
/// alone knows the fid's path and state although the walk that made it is in an earlier file, perhaps one
/// a ring of files has deleted.
///
/// In the capture: the `fids` value of extra `ninescope fids=…` comments on the continuation packet, one
/// entry per fid, `FID:STATE:ROOT[/NAME…]` joined by `,`, where ROOT is `a=ANAME` (the attach name),
/// `u` (unknown: the fid was adopted) or `auth`, and the attach name and every path name have each byte
/// outside `A–Z a–z 0–9 . _ - ~` written `%XX`. Example: `7:open:a=%2Fsrv/usr/bin`.
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

    public init(fid: Fid, state: String, root: Root, elements: [P9String]) {
        self.fid = fid
        self.state = state
        self.root = root
        self.elements = elements
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
            let words = parts[2].split(separator: "/", omittingEmptySubsequences: false)
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
            return RecordedFid(fid: Fid(fid), state: String(decoding: state, as: UTF8.self), root: root,
                               elements: elements)
        }
    }

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
