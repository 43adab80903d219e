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
        let toServer = direction == .toServer
        let source = toServer ? connection.client : connection.server
        let destination = toServer ? connection.server : connection.client
        let sequence = toServer ? connection.clientNext : connection.serverNext
        let acknowledgment = flags.contains(.ack) ? (toServer ? connection.serverNext : connection.clientNext) : 0
        let consumed = UInt32(truncatingIfNeeded: payload.count)
            &+ (flags.contains(.syn) ? 1 : 0) &+ (flags.contains(.fin) ? 1 : 0)
        if toServer { connection.clientNext &+= consumed } else { connection.serverNext &+= consumed }
        ipIdentification &+= 1
        let packet = Self.ethernetIPv4TCP(source: source, destination: destination, sequence: sequence,
                                          acknowledgment: acknowledgment, flags: flags, payload: payload,
                                          identification: ipIdentification,
                                          mss: UInt16(options.effectiveSegmentSize))
        return enhancedPacketBlock(packet, t: t, comment: CaptureComment.encode(fields),
                                   flags: toServer ? 0b01 : 0b10)
    }

    static func mac(_ address: IPAddress) -> [UInt8] {
        [0x02, 0x00] + address.bytes.suffix(4)
    }

    static func ethernetIPv4TCP(source: Endpoint, destination: Endpoint, sequence: UInt32, acknowledgment: UInt32,
                                flags: TCPFlags, payload: [UInt8], identification: UInt16, mss: UInt16) -> [UInt8] {
        var tcpOptions: [UInt8] = []
        if flags.contains(.syn) {
            tcpOptions = [1, 3, 3, windowScale, 2, 4, UInt8(mss >> 8), UInt8(mss & 0xFF)]
        }
        let tcpLength = 20 + tcpOptions.count + payload.count
        let ipLength = 20 + tcpLength
        var out: [UInt8] = []
        out.reserveCapacity(14 + ipLength)
        out += mac(destination.address)
        out += mac(source.address)
        out.appendU16(PacketDecoder.etherTypeIPv4, bigEndian: true)
        // IPv4 header at 14.
        out += [0x45, 0x00]
        out.appendU16(UInt16(ipLength), bigEndian: true)
        out.appendU16(identification, bigEndian: true)
        out += [0x40, 0x00, 64, 6, 0, 0] // DF, TTL 64, TCP, checksum placeholder
        out += source.address.bytes
        out += destination.address.bytes
        let ipChecksum = internetChecksum([out[14..<34]])
        out[24] = UInt8(ipChecksum >> 8)
        out[25] = UInt8(ipChecksum & 0xFF)
        // TCP header at 34.
        out.appendU16(source.port, bigEndian: true)
        out.appendU16(destination.port, bigEndian: true)
        out.appendU32(sequence, bigEndian: true)
        out.appendU32(acknowledgment, bigEndian: true)
        out.append(UInt8((20 + tcpOptions.count) / 4) << 4)
        out.append(flags.rawValue)
        out.appendU16(65535, bigEndian: true)
        out += [0, 0, 0, 0] // checksum placeholder, urgent pointer
        out += tcpOptions
        out += payload
        var pseudo: [UInt8] = source.address.bytes + destination.address.bytes + [0, 6]
        pseudo.appendU16(UInt16(tcpLength), bigEndian: true)
        let tcpChecksum = internetChecksum([pseudo[...], out[34...]])
        out[50] = UInt8(tcpChecksum >> 8)
        out[51] = UInt8(tcpChecksum & 0xFF)
        return out
    }

    func enhancedPacketBlock(_ packet: [UInt8], t: Int64, comment: String, flags: UInt32) -> [UInt8] {
        let nanos = UInt64(max(0, t))
        var body: [UInt8] = []
        body.reserveCapacity(packet.count + 96)
        body.appendU32(0, bigEndian: big)
        body.appendU32(UInt32(truncatingIfNeeded: nanos >> 32), bigEndian: big)
        body.appendU32(UInt32(truncatingIfNeeded: nanos), bigEndian: big)
        body.appendU32(UInt32(packet.count), bigEndian: big)
        body.appendU32(UInt32(packet.count), bigEndian: big)
        body += packet
        body.padToFour()
        appendOption(1, Array(comment.utf8), to: &body)
        var flagBytes: [UInt8] = []
        flagBytes.appendU32(flags, bigEndian: big)
        appendOption(2, flagBytes, to: &body)
        appendOption(0, [], to: &body)
        var out: [UInt8] = []
        appendBlock(PcapngReader.BlockType.enhancedPacket, body: body, to: &out)
        return out
    }

    func appendOption(_ code: UInt16, _ value: [UInt8], to body: inout [UInt8]) {
        body.appendU16(code, bigEndian: big)
        body.appendU16(UInt16(min(value.count, 0xFFFF)), bigEndian: big)
        body += value.prefix(0xFFFF)
        body.padToFour()
    }

    func appendBlock(_ type: UInt32, body: [UInt8], to out: inout [UInt8]) {
        let length = UInt32(12 + body.count)
        out.appendU32(type, bigEndian: big)
        out.appendU32(length, bigEndian: big)
        out += body
        out.appendU32(length, bigEndian: big)
    }
}
