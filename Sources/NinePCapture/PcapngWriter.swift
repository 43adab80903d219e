import NinePWire
/// Writes ninescope captures: pcapng that Wireshark and tshark decode as 9P with no plugin
/// (`tshark -n -r FILE` decodes port 564 as 9P by itself; another server port needs
/// `-d tcp.port==PORT,9p`). The writer is pure: every call returns the bytes to append to the file.
///
///     var writer = PcapngWriter(options: PcapngWriterOptions(toolVersion: "0.1.0"))
///     file.append(writer.header())
///     file.append(writer.open(conn: id, clientAddress: "127.0.0.1:51234", upstreamAddress: "tcp!127.0.0.1!564", t: t0))
///     file.append(writer.frame(conn: id, direction: .toServer, t: t1, bytes: tversion, marks: []))
///     file.append(writer.close(conn: id, reset: false, t: t2))
///
/// ## File layout (capture-format version 1)
/// - One Section Header Block, little-endian (big-endian with `options.bigEndian`), version 1.0, section
///   length −1, options `shb_userappl` = `ninescope <toolVersion>` and `opt_comment` =
///   `ninescope capture-format=1` (with `capture-data=N` when `options.dataLimit` is N).
/// - One Interface Description Block: LINKTYPE_ETHERNET (1), snaplen 0 (no limit), `if_name` = `ninescope`,
///   `if_tsresol` = 9 (timestamps in nanoseconds since the Unix epoch).
/// - Then one Enhanced Packet Block per synthesized packet, interface 0, captured length = original length.
///
/// ## Synthesized packets
/// Each packet is Ethernet II / IPv4 / TCP:
/// - Connection `n` (its `ConnectionID.rawValue`) uses client 10.0.1.1 + ⌊n / 20000⌋ (10.0.1.1 for
///   n < 20000, then 10.0.1.2, …) port 40000 + n mod 20000, and server 10.0.0.1 port 564 (or the
///   `serverPort` given to `open`). MAC addresses are 02:00 followed by the four IPv4 bytes.
/// - IPv4: version 4, IHL 5, DSCP 0, DF set, TTL 64, protocol 6, an identification counter per writer, and a
///   correct header checksum. TCP: 20-byte header (28 on SYN and SYN+ACK, which carry NOP, window scale 14 and
///   MSS = `maxSegmentSize`), window field 65535 (scaled: 1 GiB), urgent pointer 0, correct checksum.
/// - Initial sequence numbers: client `initialSequence &+ n &* 0x9E3779B9`, server the client's
///   `&+ 0x40000000`; both advance by payload bytes, SYN and FIN, so seq/ack stay consistent both ways.
/// - `open`: SYN (c→s), SYN+ACK (s→c), ACK (c→s), all at `t`.
/// - `frame`: the bytes as TCP payload in segments of at most `maxSegmentSize` bytes (default 65495, the
///   most an IPv4 packet of 65535 bytes holds); flags ACK, plus PSH on the last segment;
///   ack = the other direction's next sequence number. All segments of one frame share `t`.
/// - `close(reset: false)`: FIN+ACK (c→s), FIN+ACK (s→c), ACK (c→s); `close(reset: true)`: one RST+ACK (c→s).
///
/// ## Metadata (EPB options)
/// - `epb_flags`: inbound (0b01) for client→server packets, outbound (0b10) for server→client, as seen from
///   the server; other bits 0.
/// - `opt_comment`: `ninescope` followed by space-separated `key=value` pairs (see `CaptureComment`: values
///   percent-encoded, so they contain no spaces):
///   - `conn=<n>` the connection id, on every packet;
///   - `dir=c2s|s2c` the packet's direction, on every packet;
///   - `ev=open|data|close|reset` what the packet belongs to (`ev=end`, with `why`, is the comment of the
///     end record, `endRecord`, not of a packet);
///   - `client=<address>` and `upstream=<address>` the real client and upstream addresses given to `open`,
///     on the SYN only (the per-connection comment);
///   - `seg=<i>/<k>` on data packets: segment i of the k segments carrying one frame;
///   - `marks=<list>` on data packets with marks: `FrameMarks` names, comma-separated (`injected`,
///     `intercepted`, `malformed`, `modified`, `dropped`, `replayed`);
///   - `version=<text>` and `msize=<n>` on a `continue` packet (see below): what the connection negotiated
///     before the file began; further comments of that packet, `ninescope fids=<list>`, the fids then in
///     use with their paths and states (`RecordedFid`);
///   - `why=<text>` on the first FIN or the RST, when `close` was given a reason (the proxy's, for any end
///     but an orderly EOF: `reset by upstream`, `proxy stopped`, …). Readers without it see the flags only.
///     Also on the first segment of a run of bytes that could not be framed (data marked `malformed`), when
///     given: why (`frame size 3 is below the 7-byte minimum`, …), as the live trace said it. Each data
///     packet group (`seg=1/k` … `k/k`) is one event of the stream as the proxy reported it, a frame or
///     such a run, so a reader need not frame the bytes again.
///   Example: `ninescope conn=3 dir=c2s ev=data seg=1/2 marks=injected,malformed`.
///
/// ## Captures in several files
/// A long capture can be cut into files of a given size (`CaptureRotation`; `ninescope proxy
/// --capture-size`). Each file is a whole capture of its own: it starts with `header()` again, and every
/// connection still open at the cut gets a `continuation` packet (`ev=continue`: a pure ACK client→server
/// with the addresses, version and msize in its comment) before its next data; sequence numbers go on
/// from the previous file, so the files read one after another (or concatenated) are one stream.
///
/// ## Edge cases
/// `frame` on a connection never opened opens it first (handshake without addresses). `frame` with no
/// bytes writes nothing. After `close`, the id is spent: `open`, `frame` and `close` on it write nothing, as
/// does `open` on an id already open. Negative timestamps are written as 0.
public struct PcapngWriter: Sendable {
    /// 2: runs of unframeable bytes carry `why`, and a file finished in good order ends with `endRecord`.
    public static let captureFormatVersion = 2
    /// The most TCP payload an IPv4 packet can hold: 65535 − 20 (IPv4) − 20 (TCP).
    public static let largestSegmentSize = 65495

    public let options: PcapngWriterOptions
    var connections = IntKeyMap<ConnectionID, Connection>()
    var ipIdentification: UInt16 = 0
    /// Encoded data-packet comments (`dataComment`).
    var comments = IntKeyMap<CommentKey, [UInt8]>()

    struct Connection {
        var client: Endpoint
        var server: Endpoint
        var clientNext: UInt32
        var serverNext: UInt32
        var closed = false
    }

    public init(options: PcapngWriterOptions = PcapngWriterOptions()) {
        self.options = options
    }

    /// The synthesized client and server endpoints of connection `conn` (server port as `open` chose).
    public func endpoints(conn: ConnectionID) -> (client: Endpoint, server: Endpoint)? {
        connections[conn].map { ($0.client, $0.server) }
    }

    /// Section header and interface description: the first bytes of the file.
    public func header() -> [UInt8] {
        var out: [UInt8] = []
        var shb: [UInt8] = []
        shb.appendU32(PcapngReader.byteOrderMagic, bigEndian: big)
        shb.appendU16(1, bigEndian: big)
        shb.appendU16(0, bigEndian: big)
        shb.appendU64(UInt64.max, bigEndian: big)
        appendOption(4, Array("ninescope \(options.toolVersion)".utf8), to: &shb)
        var about: [(key: String, value: String)] = [("capture-format", "\(Self.captureFormatVersion)")]
        if let limit = options.dataLimit { about.append(("capture-data", "\(limit)")) }
        appendOption(1, Array(CaptureComment.encode(about).utf8), to: &shb)
        appendOption(0, [], to: &shb)
        appendBlock(PcapngReader.sectionHeaderBlockType, body: shb, to: &out)

        var idb: [UInt8] = []
        idb.appendU16(UInt16(LinkType.ethernet.rawValue), bigEndian: big)
        idb.appendU16(0, bigEndian: big)
        idb.appendU32(0, bigEndian: big)
        appendOption(2, Array("ninescope".utf8), to: &idb)
        appendOption(9, [9], to: &idb)
        appendOption(0, [], to: &idb)
        appendBlock(PcapngReader.BlockType.interfaceDescription, body: idb, to: &out)
        return out
    }

    /// The record that ends a file written in good order: an interface statistics block (what dumpcap
    /// writes at the end of its captures; Wireshark shows it in the capture's properties) at `t`, its
    /// `isb_endtime` `t`, and the comment `ninescope ev=end why=<why>` (`proxy stopped`, `continued in the next
    /// file`, …). A reader that finds a ninescope capture without one knows the writer never finished it
    /// (killed, or still writing): it holds what was flushed before.
    public func endRecord(t: Int64, why: String) -> [UInt8] {
        var isb: [UInt8] = []
        let ns = UInt64(max(0, t))
        isb.appendU32(0, bigEndian: big)
        isb.appendU32(UInt32(truncatingIfNeeded: ns >> 32), bigEndian: big)
        isb.appendU32(UInt32(truncatingIfNeeded: ns), bigEndian: big)
        appendOption(1, Array(CaptureComment.encode([("ev", "end"), ("why", why)]).utf8), to: &isb)
        var end: [UInt8] = []
        end.appendU32(UInt32(truncatingIfNeeded: ns >> 32), bigEndian: big)
        end.appendU32(UInt32(truncatingIfNeeded: ns), bigEndian: big)
        appendOption(3, end, to: &isb)
        appendOption(0, [], to: &isb)
        var out: [UInt8] = []
        appendBlock(PcapngReader.BlockType.interfaceStatistics, body: isb, to: &out)
        return out
    }

    /// A synthesized three-way handshake for a new connection. `clientAddress` and `upstreamAddress` (the
    /// real addresses, free text) go into the SYN's comment; `serverPort` overrides `options.serverPort`.
    public mutating func open(conn: ConnectionID, clientAddress: String, upstreamAddress: String,
                              serverPort: UInt16? = nil, t: Int64) -> [UInt8] {
        guard connections[conn] == nil else { return [] }
        return handshake(conn: conn, addresses: (clientAddress, upstreamAddress), serverPort: serverPort, t: t)
    }

    /// One frame (normally one whole 9P message) as TCP payload, split into segments of at most
    /// `options.maxSegmentSize` bytes. A frame marked `.truncated` (read from a capture that holds only its
    /// first bytes) is written as a snap length leaves one: segments for its whole size, holding the bytes
    /// there are.
    /// `why`: for a run of unframeable bytes (marked `.malformed`), why it could not be framed.
    public mutating func frame(conn: ConnectionID, direction: Direction, t: Int64, bytes: [UInt8],
                               marks: FrameMarks = [], why: String? = nil) -> [UInt8] {
        var out: [UInt8] = []
        appendFrame(conn: conn, direction: direction, t: t, bytes: bytes, marks: marks, why: why, to: &out)
        return out
    }

    /// `frame`'s bytes appended to `out` (a caller writing many frames builds one buffer, not one per frame).
    public mutating func appendFrame(conn: ConnectionID, direction: Direction, t: Int64, bytes: [UInt8],
                                     marks: FrameMarks = [], why: String? = nil, to out: inout [UInt8]) {
        var none: [PayloadSplice] = []
        appendFrame(conn: conn, direction: direction, t: t, bytes: bytes, marks: marks, why: why, to: &out,
                    splicing: Int.max, splices: &none)
    }

    /// `frame`'s bytes appended to `out`, except the payload of each segment of at least `splicing` bytes:
    /// `out` gets everything around it (headers, checksums and lengths counting it), and `splices` one entry
    /// saying where in `out` which bytes of `bytes` belong. The file is `out` with the payloads put back in
    /// place. For a caller that copies the payloads straight from the frame into the file (the proxy's
    /// capture, which saves a copy of every large frame that way).
    public mutating func appendFrame(conn: ConnectionID, direction: Direction, t: Int64, bytes: [UInt8],
                                     marks: FrameMarks = [], why: String? = nil, to out: inout [UInt8], splicing: Int,
                                     splices: inout [PayloadSplice]) {
        guard !bytes.isEmpty else { return }
        if connections[conn] == nil {
            out += handshake(conn: conn, addresses: nil, serverPort: nil, t: t)
        }
        guard var connection = connections[conn], !connection.closed else { return }
        let size = options.effectiveSegmentSize
        // A cut frame: segments for the size its size field gives; the mark is not recorded (a reader
        // finds the cut where the packets are shorter than they say).
        let cut = marks.contains(.truncated)
        let frameSize = TruncatedFrame.frameSize(bytes, marks: marks)
        let recordedMarks = marks.subtracting([.truncated, .trimmed])
        let total = (frameSize + size - 1) / size
        let needed = out.count + roomForFrame(of: bytes.count < splicing ? bytes.count : 0)
        if out.capacity < needed { out.reserveCapacity(max(needed, 2 * out.capacity)) }   // keeps growth geometric
        for index in 0..<total {
            let flags: TCPFlags = index == total - 1 ? [.ack, .psh] : [.ack]
            let whole = (index * size)..<min(frameSize, (index + 1) * size)
            let range = cut ? whole.clamped(to: 0..<bytes.count) : whole
            let spliced = range.count >= splicing
            let at = appendSegment(&connection, into: &out, direction: direction, flags: flags, payload: bytes[range],
                                   missing: whole.count - range.count, omittingPayload: spliced, t: t,
                                   comment: dataComment(conn: conn, direction: direction, segment: index + 1,
                                                        of: total, marks: recordedMarks, why: index == 0 ? why : nil))
            if spliced { splices.append(PayloadSplice(at: at, range: range)) }
        }
        connections[conn] = connection
    }

    /// About how many bytes `frame` writes for a frame of `count` bytes on an open connection (at least as
    /// many, for comments of the usual length): for reserving buffer space.
    public func roomForFrame(of count: Int) -> Int {
        let size = options.effectiveSegmentSize
        return count + max(1, (count + size - 1) / size) * 160
    }

    /// A data packet's comment, encoded; made once per connection, direction, segment position and marks
    /// (it is the same for every frame of that kind, and the proxy writes one per frame). One with a `why`
    /// (rare: unframeable bytes) is made each time.
    mutating func dataComment(conn: ConnectionID, direction: Direction, segment: Int, of total: Int,
                              marks: FrameMarks, why: String? = nil) -> [UInt8] {
        let key = CommentKey(conn: conn, direction: direction, segment: segment, total: total, marks: marks)
        if why == nil, let known = comments[key] { return known }
        var fields: [(key: String, value: String)] = [
            ("conn", "\(conn.rawValue)"), ("dir", CaptureComment.code(for: direction)), ("ev", "data"),
            ("seg", "\(segment)/\(total)"),
        ]
        if !marks.isEmpty { fields.append(("marks", marks.description)) }
        if let why { return Array(CaptureComment.encode(fields + [("why", why)]).utf8) }
        let encoded = Array(CaptureComment.encode(fields).utf8)
        if comments.count >= Self.commentCacheLimit { comments.removeAll() }
        comments[key] = encoded
        return encoded
    }

    struct CommentKey: IntKey {
        var conn: ConnectionID
        var direction: Direction
        var segment: Int
        var total: Int
        var marks: FrameMarks
        /// Different for different keys while a frame has fewer than 2^11 segments (128 MiB at the default
        /// segment size); `IntKeyMap` compares whole keys, so keys that share it only cost a probe.
        var intKey: UInt64 {
            UInt64(conn.rawValue) << 32 | UInt64(direction.rawValue) << 31 | UInt64(marks.rawValue) << 22
                | (UInt64(truncatingIfNeeded: segment) << 11 ^ UInt64(truncatingIfNeeded: total))
        }
    }
    /// At most this many comments are kept (a long-running proxy sees ever new connection ids).
    static let commentCacheLimit = 4096

    /// The first packet of a connection that was already open when this file began (a capture cut into
    /// several files, `CaptureRotation`): one pure ACK, client→server, no payload, sequence numbers going on
    /// from the previous file. Its comment (`ev=continue`) carries the real addresses and, when known, the
    /// version and msize the connection negotiated before, so that a reader of this file alone knows the
    /// connection and its dialect; `fids`, the fids then in use with their paths, go into further comments
    /// of the same packet (`ninescope fids=…`, see `RecordedFid`). Nothing for a connection this writer
    /// does not have open.
    public mutating func continuation(conn: ConnectionID, clientAddress: String?, upstreamAddress: String?,
                                      version: String?, msize: UInt32?, fids: [RecordedFid] = [],
                                      t: Int64) -> [UInt8] {
        guard var connection = connections[conn], !connection.closed else { return [] }
        var fields: [(key: String, value: String)] = [
            ("conn", "\(conn.rawValue)"), ("dir", CaptureComment.code(for: .toServer)), ("ev", "continue"),
        ]
        if let clientAddress { fields.append(("client", clientAddress)) }
        if let upstreamAddress { fields.append(("upstream", upstreamAddress)) }
        if let version { fields.append(("version", version)) }
        if let msize { fields.append(("msize", "\(msize)")) }
        var out = segment(&connection, direction: .toServer, flags: [.ack], payload: [], t: t, fields: fields)
        connections[conn] = connection
        if !fids.isEmpty {
            // More comments, before the block's epb_flags (8 bytes), opt_endofopt (4) and length (4).
            var comments: [UInt8] = []
            for piece in RecordedFid.encode(fids) {
                appendOption(1, Array(CaptureComment.encode([("fids", piece)]).utf8), to: &comments)
            }
            out.insert(contentsOf: comments, at: out.count - 16)
            var length: [UInt8] = []
            length.appendU32(UInt32(out.count), bigEndian: big)
            out.replaceSubrange(4..<8, with: length)
            out.replaceSubrange((out.count - 4)..<out.count, with: length)
        }
        return out
    }

    /// FIN/ACK exchange (client first), or one RST when `reset`. `reason` (why the connection ended, when
    /// not by an orderly EOF) goes into the first packet's comment as `why`.
    public mutating func close(conn: ConnectionID, reset: Bool = false, reason: String? = nil, t: Int64) -> [UInt8] {
        guard var connection = connections[conn], !connection.closed else { return [] }
        var out: [UInt8] = []
        func fields(_ direction: Direction, _ event: String) -> [(key: String, value: String)] {
            [("conn", "\(conn.rawValue)"), ("dir", CaptureComment.code(for: direction)), ("ev", event)]
        }
        let why: [(key: String, value: String)] = reason.map { [("why", $0)] } ?? []
        if reset {
            out += segment(&connection, direction: .toServer, flags: [.rst, .ack], payload: [], t: t,
                           fields: fields(.toServer, "reset") + why)
        } else {
            out += segment(&connection, direction: .toServer, flags: [.fin, .ack], payload: [], t: t,
                           fields: fields(.toServer, "close") + why)
            out += segment(&connection, direction: .toClient, flags: [.fin, .ack], payload: [], t: t,
                           fields: fields(.toClient, "close"))
            out += segment(&connection, direction: .toServer, flags: [.ack], payload: [], t: t,
                           fields: fields(.toServer, "close"))
        }
        connection.closed = true
        connections[conn] = connection
        return out
    }
}

/// Where the payload bytes left out of a record built by `PcapngWriter.appendFrame(…splicing:splices:)`
/// belong: at offset `at` of the built bytes go `range` of the frame's bytes.
public struct PayloadSplice: Hashable, Sendable {
    public var at: Int
    public var range: Range<Int>
    public init(at: Int, range: Range<Int>) { self.at = at; self.range = range }
}

/// Settings for `PcapngWriter`.
public struct PcapngWriterOptions: Hashable, Sendable {
    /// Written as `shb_userappl` = `ninescope <toolVersion>`.
    public var toolVersion: String
    /// Largest TCP payload per packet, clamped to 1…65495.
    public var maxSegmentSize: Int
    /// Server port of synthesized connections unless `open` names one.
    public var serverPort: UInt16
    /// Base of the synthesized initial sequence numbers (tests use values near 2^32 to force wrap-around).
    public var initialSequence: UInt32
    /// Write the file big-endian (readers must handle both; little-endian is the default).
    public var bigEndian: Bool
    /// The most bytes of each read's and write's data the capture keeps (`proxy --capture-data`), said in the
    /// section header's comment (`capture-data=N`) so that whoever opens the file knows why those packets
    /// are cut; nil: all. (The writer does not cut: the recorder hands it cut frames.)
    public var dataLimit: Int?

    public init(toolVersion: String = "dev", maxSegmentSize: Int = PcapngWriter.largestSegmentSize,
                serverPort: UInt16 = 564, initialSequence: UInt32 = 0x1000_0000, bigEndian: Bool = false) {
        self.toolVersion = toolVersion
        self.maxSegmentSize = maxSegmentSize
        self.serverPort = serverPort
        self.initialSequence = initialSequence
        self.bigEndian = bigEndian
    }

    var effectiveSegmentSize: Int { min(max(1, maxSegmentSize), PcapngWriter.largestSegmentSize) }
}
