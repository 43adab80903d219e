import Foundation
import NIOCore
import NinePServer
import NinePWire
import Testing
@testable import NinePNIO

/// A one-file tree: `/hello` holding `content`.
struct TinyDriver: FileSystemDriver {
    typealias Node = Int
    typealias OpenFile = Int
    let content: [UInt8]

    func attach(_ request: AttachRequest) async throws(Errno) -> Int { 1 }
    func lookup(_ directory: Int, name: P9String) async throws(Errno) -> Int {
        guard directory == 1 else { throw .ENOTDIR }
        guard name.string == "hello" else { throw .ENOENT }
        return 2
    }
    func getattr(_ node: Int) async throws(Errno) -> NodeAttributes {
        node == 1 ? NodeAttributes(qid: Qid(type: .dir, path: 1), mode: 0o040755)
                  : NodeAttributes(qid: Qid(path: 2), mode: 0o100644, size: UInt64(content.count))
    }
    func open(_ node: Int, flags: LOpenFlags) async throws(Errno) -> Int { node }
    func read(_ file: Int, offset: UInt64, count: UInt32) async throws(Errno) -> [UInt8] {
        guard offset < UInt64(content.count) else { return [] }
        return Array(content[Int(offset)..<min(content.count, Int(offset) + Int(count))])
    }
}

final class ListenerEvents: @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    private let lock = NSLock()
    private var list: [ServerListenerEvent] = []
    func add(_ e: ServerListenerEvent) { lock.lock(); list.append(e); lock.unlock() }
    var all: [ServerListenerEvent] { lock.lock(); defer { lock.unlock() }; return list }
}

@Suite(.timeLimit(.minutes(3))) struct ServerAndClientTests {
    static let content = Array("hello, 9P world\n".utf8)

    func startServer(maxMsize: UInt32 = 65536, events: ListenerEvents? = nil,
                     listen: Address = .tcp(host: "127.0.0.1", port: 0)) async throws -> NinePServerListener {
        var onEvent: (@Sendable (ServerListenerEvent) -> Void)?
        if let events { onEvent = { event in events.add(event) } }
        let server = NinePServerListener(listen: listen, driver: TinyDriver(content: Self.content),
                                         config: ServerConfig(maxMsize: maxMsize), onEvent: onEvent)
        try await server.start()
        return server
    }

    @Test func aSessionThroughTheHostedServer() async throws {
        let server = try await startServer()
        let client = try await NinePClientConnection.connect(try #require(server.localAddress))
        let (rv, _) = try await client.rpc(Fcall(tag: .notag, .tversion(Tversion(msize: 8192, version: "9P2000.L"))),
                                           dialect: .l)
        #expect(rv == Fcall(tag: .notag, .rversion(Rversion(msize: 8192, version: "9P2000.L"))))
        let (ra, latency) = try await client.rpc(
            Fcall(tag: 1, .tattach(Tattach(fid: 1, uname: "u", aname: "", nUname: 0))), dialect: .l)
        #expect(latency >= .zero)
        guard case .rattach = ra.message else { Issue.record("got \(ra)"); return }
        let (rw, _) = try await client.rpc(Fcall(tag: 2, .twalk(Twalk(fid: 1, newfid: 2, wnames: ["hello"]))), dialect: .l)
        guard case .rwalk(let w) = rw.message else { Issue.record("got \(rw)"); return }
        #expect(w.wqids.count == 1)
        let (ro, _) = try await client.rpc(Fcall(tag: 3, .tlopen(Tlopen(fid: 2, flags: LOpenFlags(rawValue: 0)))), dialect: .l)
        guard case .rlopen = ro.message else { Issue.record("got \(ro)"); return }
        let (rr, _) = try await client.rpc(Fcall(tag: 4, .tread(Tread(fid: 2, offset: 0, count: 100))), dialect: .l)
        #expect(rr == Fcall(tag: 4, .rread(Rread(data: Self.content))))
        await client.close()
        await server.stop()
    }

    @Test func concurrentRPCsAreMatchedByTag() async throws {
        let server = try await startServer()
        let client = try await NinePClientConnection.connect(try #require(server.localAddress))
        _ = try await client.rpc(Fcall(tag: .notag, .tversion(Tversion(msize: 8192, version: "9P2000.L"))), dialect: .l)
        _ = try await client.rpc(Fcall(tag: 1, .tattach(Tattach(fid: 1, uname: "u", aname: "", nUname: 0))), dialect: .l)
        let replies = try await withThrowingTaskGroup(of: (UInt16, Fcall).self) { group in
            for tag in UInt16(10)..<UInt16(40) {
                group.addTask {
                    let (r, _) = try await client.rpc(Fcall(tag: Tag(tag), .tgetattr(Tgetattr(fid: 1, requestMask: .all))),
                                                      dialect: .l)
                    return (tag, r)
                }
            }
            var out: [(UInt16, Fcall)] = []
            for try await r in group { out.append(r) }
            return out
        }
        #expect(replies.count == 30)
        #expect(replies.allSatisfy { $0.0 == $0.1.tag.rawValue })
        await client.close()
        await server.stop()
    }

    @Test func framesAboveMaxMsizeCloseTheConnection() async throws {
        let events = ListenerEvents()
        let server = try await startServer(maxMsize: 8192, events: events)
        let client = try await NinePClientConnection.connect(try #require(server.localAddress))
        let huge = Fcall(tag: 1, .twrite(Twrite(fid: 1, offset: 0, data: Array(repeating: 0, count: 20000)))).encode(dialect: .l)
        await #expect(throws: NinePClientError.self) { _ = try await client.rpc(frame: huge) }
        #expect(!client.isOpen)
        await server.stop()
    }

    @Test func theServerClosesWhenAFrameExceedsTheNegotiatedMsize() async throws {
        let events = ListenerEvents()
        let server = try await startServer(events: events)
        let client = try await NinePClientConnection.connect(try #require(server.localAddress))
        _ = try await client.rpc(Fcall(tag: .notag, .tversion(Tversion(msize: 4096, version: "9P2000.L"))), dialect: .l)
        let big = Fcall(tag: 1, .twrite(Twrite(fid: 1, offset: 0, data: Array(repeating: 0, count: 5000))))
        // The server may answer with an error (EMSGSIZE) before it closes; either way the connection ends.
        if let (reply, _) = try? await client.rpc(big, dialect: .l) {
            guard case .rlerror = reply.message else { Issue.record("got \(reply)"); return }
        }
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline && !events.all.contains(where: { if case .closed = $0 { true } else { false } }) {
            try await Task.sleep(nanoseconds: 5_000_000)
        }
        let closed = events.all.compactMap { e -> String? in if case .closed(_, let r) = e { r } else { nil } }
        #expect(closed.count == 1)
        #expect(closed.first?.contains("server closed it") == true, "\(closed)")
        for _ in 0..<1000 where client.isOpen { try await Task.sleep(nanoseconds: 10_000_000) }
        #expect(!client.isOpen)
        #expect(events.all.first.map { if case .accepted(0, _) = $0 { true } else { false } } == true)
        await server.stop()
    }

    @Test func aDyingPeerFailsWaitingRPCsAndEndsTheFrameStream() async throws {
        let raw = try await RawServer.start()
        let client = try await NinePClientConnection.connect(raw.address)
        let peer = try #require(await raw.firstConnection())
        // An unsolicited frame goes to `frames`.
        try await peer.send(F.rclunk(77))
        var iterator = client.frames.makeAsyncIterator()
        let unsolicited = await iterator.next()
        #expect(unsolicited?.bytes == F.rclunk(77))
        #expect(unsolicited?.tag == 77)
        let waiting = Task { try await client.rpc(frame: F.tclunk(5, fid: 1)) }
        #expect(await peer.wait { $0.receivedCount == F.tclunk(5, fid: 1).count })
        try await peer.channel.close()
        await #expect(throws: NinePClientError.self) { _ = try await waiting.value }
        #expect(await iterator.next() == nil)
        await #expect(throws: NinePClientError.self) { try await client.send(frame: F.tclunk(6, fid: 1)) }
        await raw.stop()
    }

    /// What a server sends before its connection ends, and how the client says why it ended.
    struct Ending: Sendable, CustomStringConvertible {
        var bytes: [UInt8]
        var serverCloses: Bool
        var reason: String
        var description: String { reason }
    }

    /// Why the connection ended is kept in a client's words: the server closed it, sent a size field that
    /// cannot be believed (the client closes: nothing after it can be framed), or ended inside a frame.
    @Test(arguments: [
        Ending(bytes: [], serverCloses: true, reason: "closed by the server"),
        Ending(bytes: [0xFF, 0xFF, 0xFF, 0x7F, 107, 0, 0], serverCloses: false,
               reason: "the server sent a frame size of 2147483647 bytes, above the 16777216 this client takes"),
        Ending(bytes: [3, 0, 0, 0, 107, 0, 0], serverCloses: false,
               reason: "the server sent a frame size of 3 bytes, less than a 9P header's 7"),
        Ending(bytes: [100, 0, 0, 0, 107, 1, 0, 9, 9], serverCloses: true,
               reason: "the server's stream ended inside a frame (9 bytes of it received)"),
    ])
    func theReasonAConnectionEndedIsKept(_ ending: Ending) async throws {
        let raw = try await RawServer.start()
        let client = try await NinePClientConnection.connect(raw.address)
        let peer = try #require(await raw.firstConnection())
        #expect(client.closedReason == nil)
        if !ending.bytes.isEmpty { try await peer.send(ending.bytes) }
        if ending.serverCloses { try await peer.channel.close() }
        for _ in 0..<3000 where client.isOpen { try await Task.sleep(nanoseconds: 10_000_000) }
        #expect(!client.isOpen)
        #expect(client.closedReason == ending.reason)
        await #expect(throws: NinePClientError.closed(ending.reason)) { try await client.send(frame: F.tclunk(6, fid: 1)) }
        await raw.stop()
    }

    @Test func theServerListensOnUnixSockets() async throws {
        let path = NSTemporaryDirectory() + "nio-srv-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        let server = try await startServer(listen: .unix(path: path))
        #expect(server.localAddress == .unix(path: path))
        let client = try await NinePClientConnection.connect(.unix(path: path))
        let (rv, _) = try await client.rpc(Fcall(tag: .notag, .tversion(Tversion(msize: 8192, version: "9P2000"))),
                                           dialect: .p9)
        #expect(rv == Fcall(tag: .notag, .rversion(Rversion(msize: 8192, version: "9P2000"))))
        await client.close()
        await server.stop()
    }
}
