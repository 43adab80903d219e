import Foundation
import NIOCore
import NinePWire
import Testing
@testable import NinePNIO

/// Injection and flush through a real proxy, against a scripted upstream that answers Tversion and Tclunk
/// at once and holds everything else until the test releases a reply.
@Suite(.timeLimit(.minutes(3))) struct ProxyControlSocketTests {
    static func scripted() async throws -> ScriptedServer {
        try await ScriptedServer.start { frame in
            let h = FrameHeader(frame)!
            switch h.messageType {
            case .tversion?: return [F.rversion()]
            case .tclunk?: return [F.rclunk(h.tag.rawValue)]
            default: return []
            }
        }
    }

    /// Client connected through the proxy with 9P2000.L negotiated.
    static func session() async throws -> (ScriptedServer, NinePProxy, RawConn, EventBox) {
        let server = try await scripted()
        let events = EventBox()
        let (proxy, bound) = try await startProxy(to: server.address, events: events)
        let client = try await rawDial(bound)
        try await client.send(F.tversion())
        #expect(await client.wait { $0.received == F.rversion() })
        return (server, proxy, client, events)
    }

    /// Sends Tclunk(tag) and waits for everything up to its Rclunk: a barrier proving nothing else is queued.
    static func barrier(_ client: RawConn, tag: UInt16, expecting: [UInt8]) async throws -> Bool {
        try await client.send(F.tclunk(tag, fid: 1))
        return await client.wait { $0.receivedCount >= expecting.count + F.rclunk(tag).count }
            && client.received == expecting + F.rclunk(tag)
    }

    @Test func injectedRequestIsAnsweredToTheProxyOnly() async throws {
        let (server, proxy, client, events) = try await Self.session()
        let conn = NinePWire.ConnectionID(0)
        try await proxy.inject(conn: conn, frame: F.tclunk(50, fid: 9))
        #expect(await server.waitForRequests(2))
        #expect(server.received.last == F.tclunk(50, fid: 9))
        #expect(try await Self.barrier(client, tag: 1, expecting: F.rversion()))
        #expect(await events.wait { _ in events.frames(.toClient).contains { $0.marks.contains(.intercepted) } })
        #expect(events.frames(.toServer).filter { $0.marks == [.injected] }.map(\.bytes) == [F.tclunk(50, fid: 9)])
        #expect(events.frames(.toClient).filter { $0.marks == [.intercepted] }.map(\.bytes) == [F.rclunk(50)])
        await #expect(throws: ProxyControlError.noSuchConnection(NinePWire.ConnectionID(9))) {
            try await proxy.inject(conn: NinePWire.ConnectionID(9), frame: F.tclunk(51, fid: 9))
        }
        await proxy.stop()
        await server.stop()
    }

    @Test func flushAnsweredFirstGivesTheClientEINTR() async throws {
        let (server, proxy, client, _) = try await Self.session()
        let conn = NinePWire.ConnectionID(0)
        try await client.send(F.tread(5))
        #expect(await server.waitForRequests(2))
        let flushTag = try await proxy.flush(conn: conn, tag: 5).tag
        #expect(await server.waitForRequests(3))
        #expect(try Fcall.decode(server.received[2], dialect: .l) == Fcall(tag: Tag(flushTag), .tflush(Tflush(oldtag: 5))))
        try await server.send([F.rflush(flushTag)])
        let eintr = F.frame(5, .rlerror(Rlerror(ecode: .EINTR)))
        #expect(try await Self.barrier(client, tag: 6, expecting: F.rversion() + eintr))
        // The server's late reply (against the rules) is not forwarded either.
        try await server.send([F.rread(5, [1])])
        #expect(try await Self.barrier(client, tag: 7, expecting: F.rversion() + eintr + F.rclunk(6)))
        await proxy.stop()
        await server.stop()
    }

    @Test func flushWhoseReplyComesFirstForwardsTheReply() async throws {
        let (server, proxy, client, _) = try await Self.session()
        let conn = NinePWire.ConnectionID(0)
        try await client.send(F.tread(5))
        #expect(await server.waitForRequests(2))
        let flushTag = try await proxy.flush(conn: conn, tag: 5).tag
        #expect(await server.waitForRequests(3))
        try await server.send([F.rread(5, [4, 2]), F.rflush(flushTag)])
        #expect(try await Self.barrier(client, tag: 6, expecting: F.rversion() + F.rread(5, [4, 2])))
        await #expect(throws: ProxyControlError.notPending(5)) { try await proxy.flush(conn: conn, tag: 5) }
        await proxy.stop()
        await server.stop()
    }
}
