/// What can be told of a frame of which a capture holds only the first bytes (a snap length cut its
/// packets: `tcpdump -s`, `dumpcap -s`). Such a frame is not decoded (its body is incomplete); its line
/// says what the captured bytes hold whole.
public enum TruncatedFrame {
    /// The start of a canonical line (see `Fcall.canonicalLine`) for a cut frame: the message's name and
    /// tag, then, for the messages a snap length cuts because they carry data, their fields up to the data
    /// and as much of the data as was captured, always followed by `…`:
    /// `Rread tag 0 count 8168 d75add60…`, `Twrite tag 3 fid 1 offset 0 count 65512 'hello…`,
    /// `Rreaddir tag 5 count 4096 …`. Other messages: `Twalk tag 3`. (Type code and tag come from the 7-byte
    /// header, which a cut frame always holds; with fewer bytes the name alone.)
    public static func line(_ prefix: [UInt8], dialect: Dialect) -> String {
        guard let header = FrameHeader(prefix) else { return "frame" }
        let type = MessageType(rawValue: header.type)
        var l = CanonicalLine(type?.name ?? "type" + String(header.type))
        l.tag("tag", header.tag)
        var r = WireReader(prefix, from: NineP.headerSize)
        switch type {
        case .rread?:
            if let count = r.u32() { l.num("count", count); cutData(&l, r.rest(upTo: Int(count))) } else { l.word("…") }
        case .twrite?:
            guard let fid = r.u32() else { l.word("…"); break }
            l.fid("fid", Fid(fid))
            guard let offset = r.u64() else { l.word("…"); break }
            l.num("offset", offset)
            guard let count = r.u32() else { l.word("…"); break }
            l.num("count", count)
            cutData(&l, r.rest(upTo: Int(count)))
        case .rreaddir? where dialect == .l:
            if let count = r.u32() { l.num("count", count) }
            l.word("…")
        default:
            l.word("…")
        }
        return l.text
    }

    /// For a capture that keeps at most `limit` bytes of each read's and write's data (`ninescope proxy
    /// --capture-data`): the first bytes of a whole Rread or Twrite frame whose data is longer, up to and
    /// including `limit` bytes of its data (all its other fields); nil for any other frame, which is kept
    /// whole. (Both messages have the same layout in every dialect.)
    public static func keepingData(_ frame: [UInt8], upTo limit: Int) -> [UInt8]? {
        guard let header = FrameHeader(frame), Int(header.size) == frame.count else { return nil }
        let fields: Int
        switch header.messageType {
        case .rread?: fields = NineP.headerSize + 4                 // count[4]
        case .twrite?: fields = NineP.headerSize + 4 + 8 + 4        // fid[4] offset[8] count[4]
        default: return nil
        }
        let keep = fields + max(0, limit)
        return frame.count > keep ? Array(frame.prefix(keep)) : nil
    }

    /// The captured part of a cut data field, shown as data is (`Fcall.canonicalLine`), always ending in `…`.
    private static func cutData(_ l: inout CanonicalLine, _ data: ArraySlice<UInt8>) {
        let shown = Array(data.prefix(Fmt.dataLimit + 1))
        guard !shown.isEmpty else { l.word("…"); return }
        l.data(shown)
        if shown.count <= Fmt.dataLimit { l.buf.append("…") }
    }

    /// A little-endian reader over the captured bytes that answers nil past their end.
    private struct WireReader {
        let bytes: [UInt8]
        var at: Int
        init(_ bytes: [UInt8], from at: Int) { self.bytes = bytes; self.at = at }

        mutating func u32() -> UInt32? { take(4).map { UInt32(truncatingIfNeeded: $0) } }
        mutating func u64() -> UInt64? { take(8) }

        private mutating func take(_ n: Int) -> UInt64? {
            guard at + n <= bytes.count else { return nil }
            var v: UInt64 = 0
            for i in (0..<n).reversed() { v = v << 8 | UInt64(bytes[at + i]) }
            at += n
            return v
        }

        /// The bytes after the fields read, at most `limit` of them.
        func rest(upTo limit: Int) -> ArraySlice<UInt8> {
            bytes[min(at, bytes.count)..<min(bytes.count, at + max(0, limit))]
        }
    }
}
