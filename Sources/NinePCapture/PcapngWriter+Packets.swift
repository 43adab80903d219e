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

    /// One packet as an Enhanced Packet Block appended to `out`, written in place (no intermediate arrays:
    /// the proxy's capture writes every frame through here); advances the sender's sequence number.
    /// `comment`: the packet's `opt_comment`, encoded. `omittingPayload`: everything but the payload's
    /// bytes (lengths, padding and checksum count them); returns where in `out` they belong.
    @discardableResult
    mutating func appendSegment(_ connection: inout Connection, into out: inout [UInt8], direction: Direction,
                                flags: TCPFlags, payload: ArraySlice<UInt8>, omittingPayload: Bool = false, t: Int64,
                                comment: [UInt8]) -> Int {
        let toServer = direction == .toServer
        let source = toServer ? connection.client : connection.server
        let destination = toServer ? connection.server : connection.client
        let sequence = toServer ? connection.clientNext : connection.serverNext
        let acknowledgment = flags.contains(.ack) ? (toServer ? connection.serverNext : connection.clientNext) : 0
        let consumed = UInt32(truncatingIfNeeded: payload.count)
            &+ (flags.contains(.syn) ? 1 : 0) &+ (flags.contains(.fin) ? 1 : 0)
        if toServer { connection.clientNext &+= consumed } else { connection.serverNext &+= consumed }
        ipIdentification &+= 1

        let block = out.count
        out.appendU32(PcapngReader.BlockType.enhancedPacket, bigEndian: big)
        out.appendU32(0, bigEndian: big)   // block length, set below
        let nanos = UInt64(max(0, t))
        out.appendU32(0, bigEndian: big)   // interface 0
        out.appendU32(UInt32(truncatingIfNeeded: nanos >> 32), bigEndian: big)
        out.appendU32(UInt32(truncatingIfNeeded: nanos), bigEndian: big)
        let lengths = out.count
        out.appendU64(0, bigEndian: big)   // captured and original length, set below
        let packet = out.count
        Self.appendEthernetIPv4TCP(into: &out, source: source, destination: destination, sequence: sequence,
                                   acknowledgment: acknowledgment, flags: flags, payload: payload,
                                   omittingPayload: omittingPayload,
                                   identification: ipIdentification, mss: UInt16(options.effectiveSegmentSize))
        let payloadAt = omittingPayload ? out.count : out.count - payload.count
        // Bytes of the block not in `out` (the omitted payload): offsets in the block count them.
        let missing = omittingPayload ? payload.count : 0
        let packetLength = UInt32(out.count + missing - packet)
        out.setU32(packetLength, at: lengths, bigEndian: big)
        out.setU32(packetLength, at: lengths + 4, bigEndian: big)
        out.padToFour(from: block - missing)
        appendOption(1, comment, to: &out, from: block - missing)
        out.appendU16(2, bigEndian: big)   // epb_flags
        out.appendU16(4, bigEndian: big)
        out.appendU32(toServer ? 0b01 : 0b10, bigEndian: big)
        out.appendU32(0, bigEndian: big)   // opt_endofopt
        let length = UInt32(out.count + missing + 4 - block)
        out.appendU32(length, bigEndian: big)
        out.setU32(length, at: block + 4, bigEndian: big)
        return payloadAt
    }

    /// 02:00 and the four address bytes.
    static func appendMAC(_ address: IPAddress, to out: inout [UInt8]) {
        out.append(0x02); out.append(0x00)
        appendAddress(address, to: &out)
    }

    /// The four bytes of an IPv4 address (the writer synthesizes IPv4 endpoints only; of any other address,
    /// its last four bytes).
    static func appendAddress(_ address: IPAddress, to out: inout [UInt8]) {
        if case .v4(let v) = address {
            out.appendU32(v, bigEndian: true)
        } else {
            out += address.bytes.suffix(4)
        }
    }

    static func appendEthernetIPv4TCP(into out: inout [UInt8], source: Endpoint, destination: Endpoint,
                                      sequence: UInt32, acknowledgment: UInt32, flags: TCPFlags,
                                      payload: ArraySlice<UInt8>, omittingPayload: Bool = false,
                                      identification: UInt16, mss: UInt16) {
        let optionsLength = flags.contains(.syn) ? 8 : 0
        let tcpLength = 20 + optionsLength + payload.count
        let ipLength = 20 + tcpLength
        appendMAC(destination.address, to: &out)
        appendMAC(source.address, to: &out)
        out.appendU16(PacketDecoder.etherTypeIPv4, bigEndian: true)
        // IPv4 header at start + 14.
        let ip = out.count
        out.append(0x45); out.append(0x00)
        out.appendU16(UInt16(ipLength), bigEndian: true)
        out.appendU16(identification, bigEndian: true)
        out.append(0x40); out.append(0x00); out.append(64); out.append(6)   // DF, TTL 64, TCP
        out.append(0); out.append(0)                                     // checksum, set below
        appendAddress(source.address, to: &out)
        appendAddress(destination.address, to: &out)
        let ipChecksum = internetChecksum(out[ip..<out.count])
        out[ip + 10] = UInt8(ipChecksum >> 8)
        out[ip + 11] = UInt8(ipChecksum & 0xFF)
        // TCP header after the IPv4 header.
        let tcp = out.count
        out.appendU16(source.port, bigEndian: true)
        out.appendU16(destination.port, bigEndian: true)
        out.appendU32(sequence, bigEndian: true)
        out.appendU32(acknowledgment, bigEndian: true)
        out.append(UInt8((20 + optionsLength) / 4) << 4)
        out.append(flags.rawValue)
        out.appendU16(65535, bigEndian: true)
        out.appendU32(0, bigEndian: true)   // checksum (set below), urgent pointer
        if optionsLength > 0 {
            out.append(1); out.append(3); out.append(3); out.append(windowScale)
            out.append(2); out.append(4); out.append(UInt8(mss >> 8)); out.append(UInt8(mss & 0xFF))
        }
        // The pseudo-header: both addresses (as they stand in the IPv4 header), zero, protocol, TCP length.
        var pseudo = onesComplementSum(out[(ip + 12)..<(ip + 20)]) + 6 + UInt64(tcpLength)
        if omittingPayload {
            // Summed where it is (the TCP header's length is even, so its words line up the same).
            pseudo += onesComplementSum(payload)
        } else {
            out += payload
        }
        let tcpChecksum = internetChecksum(out[tcp..<out.count], adding: pseudo)
        out[tcp + 16] = UInt8(tcpChecksum >> 8)
        out[tcp + 17] = UInt8(tcpChecksum & 0xFF)
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
