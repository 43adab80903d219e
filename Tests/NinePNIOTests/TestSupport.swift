import NinePTestSupport
import Foundation
import NIOCore
import NIOEmbedded
import NinePServer
import NinePWire
@testable import NinePNIO

/// Collects proxy events from any thread.
final class EventBox: @unchecked Sendable {
    // @unchecked: `events` is only touched under `lock`.
    private let lock = NSLock()
    private var events: [ProxyEvent] = []

    var sink: ProxyEventSink { { batch in self.append(batch) } }

    func append(_ batch: [ProxyEvent]) {
        lock.lock(); events.append(contentsOf: batch); lock.unlock()
    }

    var all: [ProxyEvent] { lock.lock(); defer { lock.unlock() }; return events }

    func frames(_ direction: NinePWire.Direction, conn: NinePWire.ConnectionID? = nil) -> [(bytes: [UInt8], marks: FrameMarks)] {
        all.compactMap {
            if case .frame(let c, let d, _, let bytes, let marks) = $0, d == direction, conn == nil || c == conn {
                return (bytes, marks)
            }
            return nil
        }
    }

    func garbage(_ direction: NinePWire.Direction) -> [(bytes: [UInt8], reason: String)] {
        all.compactMap {
            if case .garbage(_, let d, _, let bytes, let reason) = $0, d == direction { return (bytes, reason) }
            return nil
        }
    }

    func closeReasons() -> [ProxyCloseReason] {
        all.compactMap { if case .closed(_, let r, _) = $0 { return r } else { return nil } }
    }

    /// Polls until `condition` holds or `timeout` seconds pass; returns whether it held.
    func wait(timeout: Double = 30, _ condition: ([ProxyEvent]) -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline && !Task.isCancelled {
            if condition(all) { return true }
            try? await Task.sleep(nanoseconds: 5_000_000)
        }
        return condition(all)
    }
}

/// Frame builders (via the codec).
enum F {
    static func frame(_ tag: UInt16, _ m: Message, _ d: Dialect = .l) -> [UInt8] { Fcall(tag: Tag(tag), m).encode(dialect: d) }
    static func tversion(_ v: String = "9P2000.L", msize: UInt32 = 65536) -> [UInt8] {
        frame(0xFFFF, .tversion(Tversion(msize: msize, version: P9String(v))))
    }
    static func rversion(_ v: String = "9P2000.L", msize: UInt32 = 65536) -> [UInt8] {
        frame(0xFFFF, .rversion(Rversion(msize: msize, version: P9String(v))))
    }
    static func tread(_ tag: UInt16, fid: UInt32 = 1, count: UInt32 = 100) -> [UInt8] {
        frame(tag, .tread(Tread(fid: Fid(fid), offset: 0, count: count)))
    }
    static func rread(_ tag: UInt16, _ data: [UInt8]) -> [UInt8] { frame(tag, .rread(Rread(data: data))) }
    static func tclunk(_ tag: UInt16, fid: UInt32) -> [UInt8] { frame(tag, .tclunk(Tclunk(fid: Fid(fid)))) }
    static func rclunk(_ tag: UInt16) -> [UInt8] { frame(tag, .rclunk) }
    static func rflush(_ tag: UInt16) -> [UInt8] { frame(tag, .rflush) }
    static func twrite(_ tag: UInt16, _ data: [UInt8]) -> [UInt8] {
        frame(tag, .twrite(Twrite(fid: Fid(1), offset: 0, data: data)))
    }
    static func header(_ frame: [UInt8]) -> FrameHeader { FrameHeader(frame)! }
}

/// A relay pair on two `EmbeddedChannel`s sharing one loop: client and upstream side.
final class EmbeddedRelay {
    let loop = EmbeddedEventLoop()
    let client: EmbeddedChannel
    let upstream: EmbeddedChannel
    let pair: RelayPair
    let events = EventBox()

    init(reportFrames: Bool = true, faults: FaultSpec = FaultSpec(), faultSeed: UInt64 = 0x9F) throws {
        client = EmbeddedChannel(loop: loop)
        upstream = EmbeddedChannel(loop: loop)
        pair = RelayPair(conn: NinePWire.ConnectionID(7), eventLoop: loop,
                         clientAddress: .tcp(host: "127.0.0.1", port: 40000),
                         upstreamAddress: .tcp(host: "127.0.0.1", port: 564),
                         options: NinePProxy.Options(reportFrames: reportFrames, eventCoalescing: .zero,
                                                     faults: faults, faultSeed: faultSeed),
                         sink: events.sink, onFinished: { _ in })
        try client.pipeline.syncOperations.addHandler(pair.makeHandler(.client))
        try client.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try upstream.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 2)).wait()
        try pair.start(attachedUpstream: upstream)
    }

    /// A relay past its version, with the client's Tread `tag` sent to the server and pending, and both
    /// sides' output drained.
    static func withPendingRead(tag: UInt16) throws -> EmbeddedRelay {
        let relay = try EmbeddedRelay()
        try relay.fromClient(F.tversion())
        try relay.fromServer(F.rversion())
        try relay.fromClient(F.tread(tag))
        _ = try relay.sentToServer()
        _ = try relay.sentToClient()
        return relay
    }

    func fromClient(_ bytes: [UInt8]) throws { try client.writeInbound(ByteBuffer(bytes: bytes)) }
    func fromServer(_ bytes: [UInt8]) throws { try upstream.writeInbound(ByteBuffer(bytes: bytes)) }

    /// Everything written to the upstream side so far (drained).
    func sentToServer() throws -> [UInt8] { try drain(upstream) }
    /// Everything written to the client side so far (drained).
    func sentToClient() throws -> [UInt8] { try drain(client) }

    private func drain(_ ch: EmbeddedChannel) throws -> [UInt8] {
        var out: [UInt8] = []
        while let b = try ch.readOutbound(as: ByteBuffer.self) { out += Array(b.readableBytesView) }
        return out
    }
}

/// Cuts `bytes` into pieces at random points.
func randomPieces(_ bytes: [UInt8], rng: inout SplitMix, maxPiece: Int = 40) -> [[UInt8]] {
    var out: [[UInt8]] = []
    var i = 0
    while i < bytes.count {
        let n = min(bytes.count - i, Int.random(in: 1...maxPiece, using: &rng))
        out.append(Array(bytes[i..<(i + n)]))
        i += n
    }
    return out
}

/// Whether the file at `path` holds exactly `expected` (a Bool, so that a failure does not print megabytes).
func holds(_ path: String, _ expected: [UInt8]) -> Bool {
    FileManager.default.contents(atPath: path).map(Array.init) == expected
}

/// A fresh path in the temporary directory (nothing created).
func tempPath(_ name: String) -> String {
    NSTemporaryDirectory() + "nio-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
}
