import NinePTestSupport
import NIOCore
import NIOEmbedded
import NinePServer
import NinePWire
import Testing
@testable import NinePNIO

/// `proxy --fault`: the relay pair applying fault rules between a client and a server, driven through
/// `EmbeddedChannel`s on an `EmbeddedEventLoop` (whose clock the tests move: delays are exact here).
@Suite struct RelayFaultTests {
    static func relay(_ spec: String, dialect: String = "9P2000.L", seed: UInt64 = 0x9F) throws -> EmbeddedRelay {
        let relay = try EmbeddedRelay(faults: try FaultSpec(parsing: spec), faultSeed: seed)
        try relay.fromClient(F.tversion(dialect))
        try relay.fromServer(F.rversion(dialect))
        #expect(try relay.sentToServer() == F.tversion(dialect))
        #expect(try relay.sentToClient() == F.rversion(dialect))
        return relay
    }

    static func tlopen(_ tag: UInt16) -> [UInt8] { F.frame(tag, .tlopen(Tlopen(fid: 1, flags: .rdonly))) }
    static func tgetattr(_ tag: UInt16) -> [UInt8] { F.frame(tag, .tgetattr(Tgetattr(fid: 1, requestMask: .basic))) }
    static func tflush(_ tag: UInt16, old: UInt16) -> [UInt8] { F.frame(tag, .tflush(Tflush(oldtag: Tag(old)))) }

    @Test func anErrorRuleAnswersTheRequestItselfAndTheServerNeverSeesIt() throws {
        let relay = try Self.relay("error=Tlopen:EACCES")
        try relay.fromClient(Self.tlopen(3) + Self.tgetattr(4))
        #expect(try relay.sentToServer() == Self.tgetattr(4))
        #expect(try relay.sentToClient() == F.frame(3, .rlerror(Rlerror(ecode: .EACCES))))
        let toServer = relay.events.frames(.toServer)
        #expect(toServer.map(\.bytes) == [F.tversion(), Self.tlopen(3), Self.tgetattr(4)])
        #expect(toServer.map(\.marks) == [[], [.dropped], []])
        #expect(relay.events.frames(.toClient).last.map { $0.marks } == [.injected])
        // The server's answer to the request it did get passes as usual.
        let rgetattr = F.frame(4, .rlerror(Rlerror(ecode: .ENOENT)))
        try relay.fromServer(rgetattr)
        #expect(try relay.sentToClient() == rgetattr)
    }

    @Test func theErrorReplySpeaksTheConnectionsDialect() throws {
        let classic = try Self.relay("error=Tread:EIO", dialect: "9P2000")
        try classic.fromClient(F.tread(2, count: 10))
        #expect(try classic.sentToServer().isEmpty)
        #expect(try classic.sentToClient()
                == F.frame(2, .rerror(Rerror(ename: P9String(Errno.EIO.text))), .p9))
        let unix = try Self.relay("error=Tread:EIO", dialect: "9P2000.u")
        try unix.fromClient(F.tread(2, count: 10))
        #expect(try unix.sentToClient()
                == F.frame(2, .rerror(Rerror(ename: P9String(Errno.EIO.text), errno: Errno.EIO.rawValue)), .u))
    }

    @Test func aClunkWithAnErrorStillReachesTheServerWhoseReplyIsReplaced() throws {
        let relay = try Self.relay("error=Tclunk:EIO")
        try relay.fromClient(F.tclunk(5, fid: 1))
        #expect(try relay.sentToServer() == F.tclunk(5, fid: 1))   // clunk(5): the fid ends whatever the reply
        try relay.fromServer(F.rclunk(5))
        #expect(try relay.sentToClient() == F.frame(5, .rlerror(Rlerror(ecode: .EIO))))
        let toClient = relay.events.frames(.toClient).dropFirst()
        #expect(toClient.map(\.bytes) == [F.rclunk(5), F.frame(5, .rlerror(Rlerror(ecode: .EIO)))])
        #expect(toClient.map(\.marks) == [[.dropped], [.injected]])
    }

    @Test func aDelayHoldsTheReplyWhileOthersPass() throws {
        let relay = try Self.relay("delay=Tread:200ms")
        try relay.fromClient(F.tread(1) + Self.tgetattr(2))
        #expect(try relay.sentToServer() == F.tread(1) + Self.tgetattr(2))
        let rread = F.rread(1, [1, 2, 3])
        let rgetattr = F.frame(2, .rlerror(Rlerror(ecode: .ENOENT)))
        try relay.fromServer(rread + rgetattr)
        #expect(try relay.sentToClient() == rgetattr)
        relay.loop.advanceTime(by: .milliseconds(199))
        #expect(try relay.sentToClient().isEmpty)
        #expect(!relay.events.frames(.toClient).contains { $0.bytes == rread })
        relay.loop.advanceTime(by: .milliseconds(1))
        #expect(try relay.sentToClient() == rread)
        #expect(relay.events.frames(.toClient).last.map { $0.bytes } == rread)
        #expect(relay.events.frames(.toClient).last.map { $0.marks } == [.delayed])
    }

    @Test func theClientsFlushPassesAHeldReplyOnBeforeItsRflush() throws {
        let relay = try Self.relay("delay=Tread:10s")
        try relay.fromClient(F.tread(1))
        _ = try relay.sentToServer()
        let rread = F.rread(1, [7])
        try relay.fromServer(rread)
        #expect(try relay.sentToClient().isEmpty)
        try relay.fromClient(Self.tflush(2, old: 1))
        #expect(try relay.sentToServer() == Self.tflush(2, old: 1))
        #expect(try relay.sentToClient() == rread)           // at once, as a server that had answered
        try relay.fromServer(F.rflush(2))
        #expect(try relay.sentToClient() == F.rflush(2))
        relay.loop.advanceTime(by: .seconds(11))
        #expect(try relay.sentToClient().isEmpty)          // never twice
    }

    @Test func aFlushBeforeTheHeldReplyComesLetsItPass() throws {
        let relay = try Self.relay("delay=Tread:10s")
        try relay.fromClient(F.tread(1) + Self.tflush(2, old: 1))
        _ = try relay.sentToServer()
        try relay.fromServer(F.rread(1, [7]) + F.rflush(2))
        #expect(try relay.sentToClient() == F.rread(1, [7]) + F.rflush(2))
    }

    @Test func theInspectorsFlushPassesAHeldReplyOnToo() throws {
        let relay = try Self.relay("delay=Tread:10s")
        try relay.fromClient(F.tread(1))
        _ = try relay.sentToServer()
        try relay.fromServer(F.rread(1, [7]))
        let flushTag = try relay.pair.flush(clientTag: 1).tag
        #expect(try relay.sentToClient() == F.rread(1, [7]))
        #expect(try relay.sentToServer() == Self.tflush(flushTag, old: 1))
        try relay.fromServer(F.rflush(flushTag))
        #expect(try relay.sentToClient().isEmpty)           // the proxy's own Rflush is not the client's
    }

    @Test func aHungRequestWaitsForTheClientsFlush() throws {
        let relay = try Self.relay("hang=Twrite")
        let twrite = F.twrite(3, [1, 2, 3])
        try relay.fromClient(twrite)
        #expect(try relay.sentToServer().isEmpty)
        relay.loop.advanceTime(by: .seconds(3600))
        #expect(try relay.sentToClient().isEmpty)
        try relay.fromClient(Self.tflush(4, old: 3))
        #expect(try relay.sentToServer() == Self.tflush(4, old: 3))
        try relay.fromServer(F.rflush(4))
        #expect(try relay.sentToClient() == F.rflush(4))
        #expect(relay.events.frames(.toServer).dropFirst().map(\.marks) == [[.dropped], []])
    }

    @Test func aHungRequestFlushedByTheInspectorGetsEINTR() throws {
        let relay = try Self.relay("hang=Tread")
        try relay.fromClient(F.tread(3))
        #expect(try relay.sentToServer().isEmpty)
        let flushTag = try relay.pair.flush(clientTag: 3).tag
        #expect(try relay.sentToServer() == Self.tflush(flushTag, old: 3))
        try relay.fromServer(F.rflush(flushTag))              // the server never saw tag 3
        #expect(try relay.sentToClient() == F.frame(3, .rlerror(Rlerror(ecode: .EINTR))))
    }

    @Test func aCloseRuleEndsTheConnectionBeforeTheRequestGoesOn() throws {
        let relay = try Self.relay("close=Twrite")
        try relay.fromClient(F.tread(1) + F.twrite(2, [9]) + F.tclunk(3, fid: 1))
        #expect(try relay.sentToServer() == F.tread(1))     // nothing from the Twrite on
        #expect(!relay.client.isActive)
        #expect(!relay.upstream.isActive)
        #expect(relay.events.closeReasons() == [.fault("close=Twrite at Twrite tag 2")])
        #expect(ProxyCloseReason.fault("close=Twrite at Twrite tag 2").description
                == "closed by --fault close=Twrite at Twrite tag 2")
    }

    @Test func rulesApplyWhateverTheRequestsArrivalInPieces() throws {
        let stream = Self.tlopen(3) + Self.tgetattr(4) + Self.tlopen(5)
        for seed in 0..<12 as Range<UInt64> {
            let relay = try Self.relay("error=Tlopen:EACCES")
            var rng = SplitMix(seed: seed)
            let pieces = seed == 0 ? stream.map { [$0] } : randomPieces(stream, rng: &rng, maxPiece: 9)
            var toServer: [UInt8] = [], toClient: [UInt8] = []
            for p in pieces {
                try relay.fromClient(p)
                toServer += try relay.sentToServer()
                toClient += try relay.sentToClient()
            }
            #expect(toServer == Self.tgetattr(4))
            #expect(toClient == F.frame(3, .rlerror(Rlerror(ecode: .EACCES))) + F.frame(5, .rlerror(Rlerror(ecode: .EACCES))))
        }
    }

    @Test func delaysAddUpBeforeAnErrorAndTversionDropsWhatIsHeld() throws {
        let relay = try Self.relay("delay=*:50ms,error=Tlopen:EIO,delay=Tread:5s")
        try relay.fromClient(Self.tlopen(1))
        #expect(try relay.sentToServer().isEmpty)
        relay.loop.advanceTime(by: .milliseconds(49))
        #expect(try relay.sentToClient().isEmpty)
        relay.loop.advanceTime(by: .milliseconds(1))
        #expect(try relay.sentToClient() == F.frame(1, .rlerror(Rlerror(ecode: .EIO))))
        try relay.fromClient(F.tread(2))
        #expect(try relay.sentToServer() == F.tread(2))
        try relay.fromServer(F.rread(2, [1]))
        relay.loop.advanceTime(by: .seconds(1))
        #expect(try relay.sentToClient().isEmpty)              // 50 ms + 5 s
        try relay.fromClient(F.tversion())
        relay.loop.advanceTime(by: .seconds(10))
        #expect(try relay.sentToClient().isEmpty)              // version(5): the old tags are gone
        #expect(relay.events.frames(.toClient).last.map { $0.marks } == [.dropped])
    }

    @Test func probabilitiesRollFromTheSeed() throws {
        func outcomes(seed: UInt64) throws -> [Bool] {
            let relay = try Self.relay("error=Tread:EIO@50%", seed: seed)
            var answered: [Bool] = []
            for tag in 1...64 as ClosedRange<UInt16> {
                try relay.fromClient(F.tread(tag))
                answered.append(try relay.sentToServer().isEmpty)
                _ = try relay.sentToClient()
            }
            return answered
        }
        let a = try outcomes(seed: 1), b = try outcomes(seed: 1), c = try outcomes(seed: 2)
        #expect(a == b)
        #expect(a != c)
        #expect(a.contains(true) && a.contains(false))
    }

    @Test func noRulesNoChange() throws {
        let relay = try EmbeddedRelay(faults: FaultSpec())
        #expect(!relay.pair.hasFaults)
        let stream = F.tversion() + F.tread(1) + Self.tlopen(2)
        try relay.fromClient(stream)
        #expect(try relay.sentToServer() == stream)
    }

    @Test func rulesChangeWhileTheConnectionRuns() throws {
        let relay = try Self.relay("")
        #expect(!relay.pair.hasFaults)
        try relay.fromClient(F.tread(1))
        #expect(try relay.sentToServer() == F.tread(1))
        relay.pair.faultBoard.set(try FaultSpec(parsing: "error=Tread:EIO,delay=Tgetattr:1s"))
        try relay.fromClient(F.tread(2) + Self.tgetattr(3))
        #expect(try relay.sentToServer() == Self.tgetattr(3))
        #expect(try relay.sentToClient() == F.frame(2, .rlerror(Rlerror(ecode: .EIO))))
        let rgetattr = F.frame(3, .rlerror(Rlerror(ecode: .ENOENT)))
        try relay.fromServer(F.rread(1, [5]) + rgetattr)
        #expect(try relay.sentToClient() == F.rread(1, [5]))     // asked before the rules: not held
        // Rules off: what they started finishes as it began; new requests pass.
        relay.pair.faultBoard.set(FaultSpec())
        try relay.fromClient(F.tread(4))
        #expect(try relay.sentToServer() == F.tread(4))
        relay.loop.advanceTime(by: .seconds(1))
        #expect(try relay.sentToClient() == rgetattr)
        #expect(!relay.pair.hasFaults)
    }
}
