import NinePWire
// Packet synthesis for PcapngWriter: Ethernet/IPv4/TCP bytes and pcapng blocks.

extension PcapngWriter {
    static let serverAddress: UInt32 = 0x0A00_0001   // 10.0.0.1
    static let firstClientAddress: UInt32 = 0x0A00_0101 // 10.0.1.1
    static let clientsPerAddress: UInt32 = 20000
    static let firstClientPort: UInt32 = 40000
    static let windowScale: UInt8 = 14

    var big: Bool { options.bigEndian }

    /// The synthesized client endpoint of connection `conn`.
    static func clientEndpoint(_ conn: ConnectionID) -> Endpoint {
        let n = conn.rawValue
        return Endpoint(address: .v4(firstClientAddress &+ n / clientsPerAddress),
                        port: UInt16(firstClientPort + n % clientsPerAddress))
    }

    mutating func handshake(conn: ConnectionID, addresses: (client: String, upstream: String)?,
                            serverPort: UInt16?, t: Int64) -> [UInt8] {
        let clientISN = options.initialSequence &+ conn.rawValue &* 0x9E37_79B9
        let serverISN = clientISN &+ 0x4000_0000
        var connection = Connection(
            client: Self.clientEndpoint(conn),
            server: Endpoint(address: .v4(Self.serverAddress), port: serverPort ?? options.serverPort),
            clientNext: clientISN, serverNext: serverISN)
        var synFields: [(key: String, value: String)] = [("conn", "\(conn.rawValue)"), ("dir", "c2s"), ("ev", "open")]
        if let addresses {
            synFields += [("client", addresses.client), ("upstream", addresses.upstream)]
        }
        var out = segment(&connection, direction: .toServer, flags: [.syn], payload: [], t: t, fields: synFields)
        out += segment(&connection, direction: .toClient, flags: [.syn, .ack], payload: [], t: t,
                       fields: [("conn", "\(conn.rawValue)"), ("dir", "s2c"), ("ev", "open")])
        out += segment(&connection, direction: .toServer, flags: [.ack], payload: [], t: t,
                       fields: [("conn", "\(conn.rawValue)"), ("dir", "c2s"), ("ev", "open")])
        connections[conn] = connection
        return out
    }

    /// One packet as an Enhanced Packet Block; advances the sender's sequence number.
    mutating func segment(_ connection: inout Connection, direction: Direction, flags: TCPFlags, payload: [UInt8],
                          t: Int64, fields: [(key: String, value: String)]) -> [UInt8] {
        var out: [UInt8] = []
        appendSegment(&connection, into: &out, direction: direction, flags: flags, payload: payload[...], t: t,
                      comment: Array(CaptureComment.encode(fields).utf8))
        return out
    }

    /// One packet as an Enhanced Packet Block appended to `out`; advances the sender's sequence number. The
    /// proxy's capture writes every frame through here, so the block's fixed bytes (its header, the
    /// Ethernet, IPv4 and TCP headers, the options after the comment) are stored into a buffer on the stack
    /// and appended in a few copies, not byte by byte (`bench-trace`: the capture's share of a diodload
    /// sample went from 309–323 to 207–215 ns per message).
    /// `comment`: the packet's `opt_comment`, encoded. `omittingPayload`: everything but the payload's
    /// bytes (lengths, padding and checksum count them); returns where in `out` they belong. `missing`:
    /// payload bytes after `payload` that the packet carried but the capture does not hold (a frame read
    /// from a capture cut by a snap length, written again): the packet says it is that much longer than
    /// captured, as a snap length leaves it (its TCP checksum covers the captured bytes only).
    @discardableResult
    mutating func appendSegment(_ connection: inout Connection, into out: inout [UInt8], direction: Direction,
                                flags: TCPFlags, payload: ArraySlice<UInt8>, missing: Int = 0,
                                omittingPayload: Bool = false, t: Int64, comment: [UInt8]) -> Int {
        let toServer = direction == .toServer
        let source = toServer ? connection.client : connection.server
        let destination = toServer ? connection.server : connection.client
        let sequence = toServer ? connection.clientNext : connection.serverNext
        let acknowledgment = flags.contains(.ack) ? (toServer ? connection.serverNext : connection.clientNext) : 0
        let consumed = UInt32(truncatingIfNeeded: payload.count + missing)
            &+ (flags.contains(.syn) ? 1 : 0) &+ (flags.contains(.fin) ? 1 : 0)
        if toServer { connection.clientNext &+= consumed } else { connection.serverNext &+= consumed }
        ipIdentification &+= 1

        // The block: header (28 bytes), packet (Ethernet 14, IPv4 20, TCP 20 or 28 with SYN's options,
        // payload) padded to four, the comment option (padded), epb_flags, opt_endofopt, the length again.
        let tcpOptions = flags.contains(.syn) ? 8 : 0
        let headers = Self.epbHeader + 54 + tcpOptions
        let packetLength = 54 + tcpOptions + payload.count
        let commentLength = min(comment.count, 0xFFFF)
        let packetPad = (4 - packetLength % 4) % 4
        let commentPad = (4 - commentLength % 4) % 4
        let blockLength = Self.epbHeader + packetLength + packetPad + 4 + commentLength + commentPad + 16
        let block = out.count
        let payloadAt = block + headers
        let big = self.big
        let mss = UInt16(options.effectiveSegmentSize)
        let identification = ipIdentification
        withUnsafeTemporaryAllocation(byteCount: Self.epbHeader + 64, alignment: 8) { raw in
            var w = RawStore(raw)
            w.u32(PcapngReader.BlockType.enhancedPacket, big: big)
            w.u32(UInt32(blockLength), big: big)
            let nanos = UInt64(max(0, t))
            w.u32(0, big: big)   // interface 0
            w.u32(UInt32(truncatingIfNeeded: nanos >> 32), big: big)
            w.u32(UInt32(truncatingIfNeeded: nanos), big: big)
            w.u32(UInt32(packetLength), big: big)   // captured
            w.u32(UInt32(packetLength + missing), big: big)   // original
            Self.storeEthernetIPv4TCP(&w, source: source, destination: destination, sequence: sequence,
                                      acknowledgment: acknowledgment, flags: flags, payload: payload, missing: missing,
                                      identification: identification, mss: mss)
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[0..<w.count]))
        }
        if !omittingPayload { out.append(contentsOf: payload) }
        withUnsafeTemporaryAllocation(byteCount: 24, alignment: 8) { raw in
            var w = RawStore(raw)
            w.zeros(packetPad)
            w.u16(1, big: big)   // opt_comment
            w.u16(UInt16(commentLength), big: big)
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[0..<w.count]))
            w.count = 0
            comment.withUnsafeBytes { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[0..<commentLength])) }
            w.zeros(commentPad)
            w.u16(2, big: big)   // epb_flags
            w.u16(4, big: big)
            w.u32(toServer ? 0b01 : 0b10, big: big)
            w.u32(0, big: big)   // opt_endofopt
            w.u32(UInt32(blockLength), big: big)
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[0..<w.count]))
        }
        return payloadAt
    }

    /// An Enhanced Packet Block's bytes before its packet data.
    static let epbHeader = 28

    /// The four bytes of an IPv4 address as a number (the writer synthesizes IPv4 endpoints only; of any
    /// other address, its last four bytes).
    static func ipv4Word(_ address: IPAddress) -> UInt32 {
        switch address {
        case .v4(let v): return v
        case .v6(_, let low): return UInt32(truncatingIfNeeded: low)
        }
    }

    /// The Ethernet, IPv4 and TCP headers of a segment carrying `payload` (which is not stored: the TCP
    /// checksum counts it where it is; the TCP header's length is even, so its words line up the same).
    static func storeEthernetIPv4TCP(_ w: inout RawStore, source: Endpoint, destination: Endpoint,
                                     sequence: UInt32, acknowledgment: UInt32, flags: TCPFlags,
                                     payload: ArraySlice<UInt8>, missing: Int = 0, identification: UInt16,
                                     mss: UInt16) {
        let optionsLength = flags.contains(.syn) ? 8 : 0
        let tcpLength = 20 + optionsLength + payload.count + missing
        let from = ipv4Word(source.address), to = ipv4Word(destination.address)
        // MACs 02:00 and the four address bytes.
        w.u16(0x0200, big: true); w.u32(to, big: true)
        w.u16(0x0200, big: true); w.u32(from, big: true)
        w.u16(PacketDecoder.etherTypeIPv4, big: true)
        let ip = w.count
        w.u16(0x4500, big: true)
        w.u16(UInt16(truncatingIfNeeded: 20 + tcpLength), big: true)
        w.u16(identification, big: true)
        w.u16(0x4000, big: true)   // DF
        w.u16(0x4006, big: true)   // TTL 64, TCP
        w.u16(0, big: true)        // checksum, set below
        w.u32(from, big: true)
        w.u32(to, big: true)
        w.setU16(internetChecksum(w.bytes(ip..<w.count)), at: ip + 10)
        let tcp = w.count
        w.u16(source.port, big: true)
        w.u16(destination.port, big: true)
        w.u32(sequence, big: true)
        w.u32(acknowledgment, big: true)
        w.u16(UInt16((20 + optionsLength) / 4) << 12 | UInt16(flags.rawValue), big: true)
        w.u16(65535, big: true)
        w.u32(0, big: true)   // checksum (set below), urgent pointer
        if optionsLength > 0 {
            w.u32(0x0103_0300 | UInt32(windowScale), big: true)   // NOP, window scale
            w.u32(0x0204_0000 | UInt32(mss), big: true)           // MSS
        }
        // The pseudo-header: both addresses (as they stand in the IPv4 header), zero, protocol, TCP length.
        let pseudo = onesComplementSum(w.bytes((ip + 12)..<(ip + 20))) + 6 + UInt64(tcpLength)
            + onesComplementSum(payload)
        w.setU16(internetChecksum(w.bytes(tcp..<w.count), adding: pseudo), at: tcp + 16)
    }

    /// An option (code, length, value padded to four bytes, counted from `block`, where the block starts).
    func appendOption(_ code: UInt16, _ value: [UInt8], to body: inout [UInt8], from block: Int = 0) {
        body.appendU16(code, bigEndian: big)
        body.appendU16(UInt16(min(value.count, 0xFFFF)), bigEndian: big)
        body += value.prefix(0xFFFF)
        body.padToFour(from: block)
    }

    func appendBlock(_ type: UInt32, body: [UInt8], to out: inout [UInt8]) {
        let length = UInt32(12 + body.count)
        out.appendU32(type, bigEndian: big)
        out.appendU32(length, bigEndian: big)
        out += body
        out.appendU32(length, bigEndian: big)
    }
}
