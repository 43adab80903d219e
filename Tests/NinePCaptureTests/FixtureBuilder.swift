import NinePWire
// Hand-built capture bytes for tests, written independently of the library's writer.
@testable import NinePCapture

enum Fix {
    static func be16(_ v: Int) -> [UInt8] { [UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
    static func le16(_ v: Int) -> [UInt8] { be16(v).reversed() }
    static func be32(_ v: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8((v >> UInt32($0)) & 0xFF) } }
    static func le32(_ v: UInt32) -> [UInt8] { be32(v).reversed() }
    static func u16(_ v: Int, _ big: Bool) -> [UInt8] { big ? be16(v) : le16(v) }
    static func u32(_ v: UInt32, _ big: Bool) -> [UInt8] { big ? be32(v) : le32(v) }
    static func u64(_ v: UInt64, _ big: Bool) -> [UInt8] {
        big ? u32(UInt32(v >> 32), true) + u32(UInt32(v & 0xFFFF_FFFF), true)
            : u32(UInt32(v & 0xFFFF_FFFF), false) + u32(UInt32(v >> 32), false)
    }

    static func ip4(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) -> [UInt8] { [a, b, c, d] }

    /// A TCP header (20 bytes + options) followed by the payload; checksum left 0.
    static func tcp(sport: Int, dport: Int, seq: UInt32, ack: UInt32 = 0, flags: UInt8,
                    options: [UInt8] = [], payload: [UInt8] = []) -> [UInt8] {
        let headerLength = 20 + options.count
        return be16(sport) + be16(dport) + be32(seq) + be32(ack)
            + [UInt8(headerLength / 4) << 4, flags] + be16(65535) + [0, 0, 0, 0] + options + payload
    }

    /// An IPv4 header (optionally with options) around `body`.
    static func ipv4(src: [UInt8], dst: [UInt8], body: [UInt8], options: [UInt8] = [], fragmentField: Int = 0x4000,
                     proto: UInt8 = 6, totalLength: Int? = nil) -> [UInt8] {
        let headerLength = 20 + options.count
        let total = totalLength ?? (headerLength + body.count)
        return [0x40 | UInt8(headerLength / 4), 0] + be16(total) + be16(0x1234) + be16(fragmentField)
            + [64, proto, 0, 0] + src + dst + options + body
    }

    static func ipv6(src: [UInt8], dst: [UInt8], next: UInt8, body: [UInt8]) -> [UInt8] {
        [0x60, 0, 0, 0] + be16(body.count) + [next, 64] + src + dst + body
    }

    static func ethernet(type: Int, _ body: [UInt8], vlans: [Int] = []) -> [UInt8] {
        var out: [UInt8] = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]
        for tag in vlans { out += be16(tag) + be16(100) } // TPID then TCI
        return out + be16(type) + body
    }

    static let clientIP = ip4(192, 168, 1, 10)
    static let serverIP = ip4(192, 168, 1, 20)

    /// Ethernet/IPv4/TCP from the client (port 50000) to the server (564) or back.
    static func packet(toServer: Bool, seq: UInt32, ack: UInt32 = 0, flags: UInt8 = 0x18,
                       payload: [UInt8] = [], clientPort: Int = 50000, serverPort: Int = 564) -> [UInt8] {
        let t = toServer ? tcp(sport: clientPort, dport: serverPort, seq: seq, ack: ack, flags: flags, payload: payload)
                         : tcp(sport: serverPort, dport: clientPort, seq: seq, ack: ack, flags: flags, payload: payload)
        let ip = toServer ? ipv4(src: clientIP, dst: serverIP, body: t) : ipv4(src: serverIP, dst: clientIP, body: t)
        return ethernet(type: 0x0800, ip)
    }

    // MARK: pcap

    static func pcap(big: Bool, nano: Bool, linkType: UInt32 = 1,
                     records: [(sec: UInt32, frac: UInt32, data: [UInt8])]) -> [UInt8] {
        var out = u32(nano ? 0xA1B2_3C4D : 0xA1B2_C3D4, big) + u16(2, big) + u16(4, big)
            + u32(0, big) + u32(0, big) + u32(262_144, big) + u32(linkType, big)
        for record in records {
            out += u32(record.sec, big) + u32(record.frac, big) + u32(UInt32(record.data.count), big)
                + u32(UInt32(record.data.count), big) + record.data
        }
        return out
    }

    // MARK: pcapng

    static func pad(_ bytes: [UInt8]) -> [UInt8] {
        bytes + [UInt8](repeating: 0, count: (4 - bytes.count % 4) % 4)
    }

    static func option(_ code: Int, _ value: [UInt8], _ big: Bool) -> [UInt8] {
        u16(code, big) + u16(value.count, big) + pad(value)
    }

    static func block(_ type: UInt32, _ body: [UInt8], _ big: Bool) -> [UInt8] {
        let length = UInt32(12 + body.count)
        return u32(type, big) + u32(length, big) + body + u32(length, big)
    }

    static func shb(_ big: Bool, userappl: String? = nil, comments: [String] = []) -> [UInt8] {
        var body = u32(0x1A2B_3C4D, big) + u16(1, big) + u16(0, big) + u64(UInt64.max, big)
        var options: [UInt8] = []
        if let userappl { options += option(4, Array(userappl.utf8), big) }
        for comment in comments { options += option(1, Array(comment.utf8), big) }
        if !options.isEmpty { body += options + option(0, [], big) }
        return block(0x0A0D_0D0A, body, big)
    }

    static func idb(_ big: Bool, linkType: Int = 1, snaplen: UInt32 = 0, tsresol: UInt8? = nil,
                    tsoffset: Int64? = nil) -> [UInt8] {
        var body = u16(linkType, big) + u16(0, big) + u32(snaplen, big)
        var options: [UInt8] = []
        if let tsresol { options += option(9, [tsresol], big) }
        if let tsoffset { options += option(14, u64(UInt64(bitPattern: tsoffset), big), big) }
        if !options.isEmpty { body += options + option(0, [], big) }
        return block(1, body, big)
    }

    static func epb(_ big: Bool, interface: UInt32 = 0, units: UInt64, data: [UInt8], comments: [String] = [],
                    flags: UInt32? = nil) -> [UInt8] {
        var body = u32(interface, big) + u32(UInt32(units >> 32), big) + u32(UInt32(units & 0xFFFF_FFFF), big)
            + u32(UInt32(data.count), big) + u32(UInt32(data.count), big) + pad(data)
        var options: [UInt8] = []
        for comment in comments { options += option(1, Array(comment.utf8), big) }
        if let flags { options += option(2, u32(flags, big), big) }
        if !options.isEmpty { body += options + option(0, [], big) }
        return block(6, body, big)
    }

    static func spb(_ big: Bool, data: [UInt8]) -> [UInt8] {
        block(3, u32(UInt32(data.count), big) + pad(data), big)
    }

    static func opb(_ big: Bool, interface: Int = 0, units: UInt64, data: [UInt8]) -> [UInt8] {
        let body = u16(interface, big) + u16(0, big) + u32(UInt32(units >> 32), big)
            + u32(UInt32(units & 0xFFFF_FFFF), big) + u32(UInt32(data.count), big)
            + u32(UInt32(data.count), big) + pad(data)
        return block(2, body, big)
    }

    // MARK: 9P frames (MESSAGES.md)

    /// Tversion tag=NOTAG msize=8192 version "9P2000.L", the example bytes of MESSAGES.md.
    static let tversion: [UInt8] = [0x15, 0, 0, 0, 0x64, 0xFF, 0xFF, 0x00, 0x20, 0, 0,
                                    0x08, 0x00, 0x39, 0x50, 0x32, 0x30, 0x30, 0x30, 0x2E, 0x4C]
    /// Rversion tag=NOTAG msize=8192 version "9P2000.L".
    static let rversion: [UInt8] = [0x15, 0, 0, 0, 0x65, 0xFF, 0xFF, 0x00, 0x20, 0, 0,
                                    0x08, 0x00, 0x39, 0x50, 0x32, 0x30, 0x30, 0x30, 0x2E, 0x4C]

    /// size[4] type[1] tag[2] body, little-endian.
    static func frame(type: UInt8, tag: UInt16, body: [UInt8]) -> [UInt8] {
        let size = UInt32(7 + body.count)
        return le32(size) + [type] + le16(Int(tag)) + body
    }

    static func le64(_ v: UInt64) -> [UInt8] { u64(v, false) }

    /// Twrite tag fid=1 offset=0 count=n data.
    static func twrite(tag: UInt16, data: [UInt8]) -> [UInt8] {
        frame(type: 118, tag: tag, body: le32(1) + le64(0) + le32(UInt32(data.count)) + data)
    }

    /// Rwrite tag count.
    static func rwrite(tag: UInt16, count: UInt32) -> [UInt8] {
        frame(type: 119, tag: tag, body: le32(count))
    }

    /// Tclunk tag fid / Rclunk tag.
    static func tclunk(tag: UInt16, fid: UInt32) -> [UInt8] { frame(type: 120, tag: tag, body: le32(fid)) }
    static func rclunk(tag: UInt16) -> [UInt8] { frame(type: 121, tag: tag, body: []) }
}

extension Array where Element == CaptureEvent {
    /// The concatenated `.data` bytes of one connection and direction.
    func stream(_ conn: Int, _ direction: Direction) -> [UInt8] {
        var out: [UInt8] = []
        for event in self {
            if case .data(let c, let d, _, let bytes, _) = event, Int(c.rawValue) == conn, d == direction { out += bytes }
        }
        return out
    }

    var gaps: [(conn: Int, direction: Direction, missing: Int)] {
        compactMap {
            if case .gap(let c, let d, let n, _) = $0 { return (Int(c.rawValue), d, n) }
            return nil
        }
    }

    var opens: [(conn: Int, client: Endpoint, server: Endpoint)] {
        compactMap {
            if case .open(let c, let client, let server, _, _) = $0 { return (Int(c.rawValue), client, server) }
            return nil
        }
    }

    var closes: [(conn: Int, reset: Bool)] {
        compactMap {
            if case .close(let c, let reset, _, _) = $0 { return (Int(c.rawValue), reset) }
            return nil
        }
    }
}
