import NinePTestSupport
import NIOCore
import NIOEmbedded
import NinePWire
import Testing
@testable import NinePNIO

/// The relay pair and its tap, driven through `EmbeddedChannel`s: byte exactness, frame reports, garbage,
/// injection, interception and flush.
@Suite struct RelayEmbeddedTests {
    @Test func framesPassUnchangedAndAreReportedWhateverTheSplit() throws {
        let frames = [F.tversion(), F.tread(1), F.twrite(2, Array(repeating: 0xAB, count: 3000)), F.tclunk(3, fid: 9),
                      [9, 0, 0, 0, 0xEE, 4, 0, 0x55, 0x66]]   // an unknown type: still a frame
        let stream = frames.flatMap { $0 }
        for seed in 0..<20 as Range<UInt64> {
            let relay = try EmbeddedRelay()
            var rng = SplitMix(seed: seed)
            let pieces = seed == 0 ? stream.map { [$0] } : randomPieces(stream, rng: &rng, maxPiece: 700)
            var forwarded: [UInt8] = []
            for p in pieces {
                try relay.fromClient(p)
                forwarded += try relay.sentToServer()
            }
            #expect(forwarded == stream)
            let reported = relay.events.frames(.toServer)
            #expect(reported.map(\.bytes) == frames)
            #expect(reported.allSatisfy { $0.marks.isEmpty })
            #expect(relay.events.garbage(.toServer).isEmpty)
        }
    }

    @Test func bytesBeforeTversionAndMalformedSizesPassThroughAndAreGarbage() throws {
        let relay = try EmbeddedRelay()
        let junk: [UInt8] = Array("hello, are you 9P?\n".utf8)
        let tiny: [UInt8] = [3, 0, 0, 0]   // size 3 < 7
        let stream = junk + F.tversion() + tiny + F.tread(4)
        try relay.fromClient(stream)
        #expect(try relay.sentToServer() == stream)
        let garbage = relay.events.garbage(.toServer)
        #expect(garbage.flatMap(\.bytes) == junk + tiny)
        #expect(relay.events.frames(.toServer).map(\.bytes) == [F.tversion(), F.tread(4)])
    }

    /// After a version exchange, resynchronising framing takes no header larger than the agreed msize: a
    /// random header in the garbage claiming 100,000 bytes no longer swallows the real frames after it.
    /// Before the exchange (no msize yet) the same bytes do swallow them; a real frame above msize, met in
    /// step, is still a frame. Every byte is relayed unchanged throughout.
    @Test func resynchronisingAfterAVersionExchangeTakesNoHeaderPastMsize() throws {
        let fake: [UInt8] = [0xA0, 0x86, 0x01, 0x00, MessageType.tread.rawValue, 1, 0]   // size 100,000, Tread
        let garbage: [UInt8] = [3, 0, 0, 0] + Array("noise".utf8) + fake + Array("more noise".utf8)
        let after = F.tclunk(5, fid: 1) + F.tread(6)

        let negotiated = try EmbeddedRelay()
        try negotiated.fromClient(F.tversion(msize: 8192))
        try negotiated.fromServer(F.rversion(msize: 8192))
        let big = F.twrite(2, Array(repeating: 0x5A, count: 9000))   // 9,000 bytes of data: above msize
        let stream = big + garbage + after
        try negotiated.fromClient(stream)
        let relayed = try negotiated.sentToServer() == F.tversion(msize: 8192) + stream
        #expect(relayed, "every byte relayed unchanged")
        let frames = negotiated.events.frames(.toServer).map(\.bytes)
        let framed = frames == [F.tversion(msize: 8192), big, F.tclunk(5, fid: 1), F.tread(6)]
        #expect(framed, "frames of \(frames.map(\.count)) bytes")
        #expect(negotiated.events.garbage(.toServer).flatMap(\.bytes) == garbage)

        let early = try EmbeddedRelay()
        try early.fromClient(garbage + after)
        #expect(try early.sentToServer() == garbage + after)
        #expect(early.events.frames(.toServer).isEmpty, "without an msize the fake header takes what follows")
    }

    /// A size field no frame can have and the bytes after it in the same read are one garbage run, said
    /// once: what the bytes were (a web client's request) and why they are not a frame.
    @Test func aBadSizeFieldAndWhatFollowsInTheReadAreOneRun() throws {
        let relay = try EmbeddedRelay()
        let http = Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        try relay.fromClient(http + F.tversion())
        #expect(try relay.sentToServer() == http + F.tversion())
        let garbage = relay.events.garbage(.toServer)
        #expect(garbage.map(\.bytes) == [http])
        #expect(garbage.first?.reason == "frame size 542393671 exceeds the limit 16777216, and no frame header in the 23 bytes after it")
        #expect(relay.events.frames(.toServer).map(\.bytes) == [F.tversion()])
    }

    @Test func theTapCanBeQuietWithoutChangingBytes() throws {
        let relay = try EmbeddedRelay(reportFrames: false)
        let stream = F.tversion() + F.tread(1)
        try relay.fromClient(stream)
        #expect(try relay.sentToServer() == stream)
        #expect(relay.events.frames(.toServer).isEmpty)
    }

    @Test func streamEndingInsideAFrameIsReportedAndForwarded() throws {
        let relay = try EmbeddedRelay()
        let frame = F.tread(1)
        try relay.fromClient(Array(frame[0..<10]))
        relay.client.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(try relay.sentToServer() == Array(frame[0..<10]))
        let g = relay.events.garbage(.toServer)
        #expect(g.count == 1)
        #expect(g.first?.bytes == Array(frame[0..<10]))
        #expect(g.first?.reason.contains("inside a frame") == true)
    }

    @Test func injectedRequestGoesUpstreamAndItsReplyIsIntercepted() throws {
        let relay = try EmbeddedRelay.withPendingRead(tag: 1)

        let injected = F.tclunk(100, fid: 42)
        #expect(try relay.pair.inject(injected), "between frames it goes at once")
        #expect(try relay.sentToServer() == injected)
        #expect(throws: ProxyControlError.tagInUse(100)) { try relay.pair.inject(F.tclunk(100, fid: 43)) }
        #expect(throws: ProxyControlError.tagInUse(1)) { try relay.pair.inject(F.tclunk(1, fid: 43)) }

        // The server answers both in one read; the client sees only its own reply.
        try relay.fromServer(F.rclunk(100) + F.rread(1, [1, 2, 3]))
        #expect(try relay.sentToClient() == F.rread(1, [1, 2, 3]))
        let injectedFrames = relay.events.frames(.toServer).filter { $0.marks.contains(.injected) }
        #expect(injectedFrames.map(\.bytes) == [injected])
        let intercepted = relay.events.frames(.toClient).filter { $0.marks.contains(.intercepted) }
        #expect(intercepted.map(\.bytes) == [F.rclunk(100)])
        // Once answered the tag is free again: a second reply with it is the client's business.
        try relay.fromServer(F.rclunk(100))
        #expect(try relay.sentToClient() == F.rclunk(100))
    }

    @Test func injectionWaitsForAFrameBoundary() throws {
        let relay = try EmbeddedRelay()
        let write = F.twrite(2, Array(repeating: 7, count: 500))
        try relay.fromClient(Array(write[0..<100]))
        let injected = F.tclunk(200, fid: 5)
        // It says it waits (the inspector says "queued", not "injected"): so does a Tflush.
        #expect(try !relay.pair.inject(injected))
        #expect(try relay.sentToServer() == Array(write[0..<100]))   // not in the middle of the Twrite
        try relay.fromClient(Array(write[100...]) + F.tread(3))
        #expect(try relay.sentToServer() == Array(write[100...]) + injected + F.tread(3))
        try relay.fromClient(Array(F.tread(4)[0..<5]))
        let flush = try relay.pair.flush(clientTag: 3)
        #expect(!flush.sent)
        #expect(try relay.sentToServer() == Array(F.tread(4)[0..<5]))
        try relay.fromClient(Array(F.tread(4)[5...]))
        #expect(try relay.sentToServer() == Array(F.tread(4)[5...]) + F.frame(flush.tag, .tflush(Tflush(oldtag: 3))))
        #expect(try relay.pair.flush(clientTag: 4).sent, "between frames it goes at once")
    }

    @Test func interceptionIsExactWhateverTheSplit() throws {
        for seed in 1...30 as ClosedRange<UInt64> {
            let relay = try EmbeddedRelay()
            try relay.fromClient(F.tversion() + F.tread(1) + F.tread(2))
            try relay.fromServer(F.rversion())
            try relay.pair.inject(F.tclunk(300, fid: 1))
            try relay.pair.inject(F.tclunk(301, fid: 2))
            _ = try relay.sentToClient()
            let mine = F.rread(1, Array(repeating: 1, count: 50)) + F.rread(2, [9])
            let stream = F.rclunk(300) + F.rread(1, Array(repeating: 1, count: 50)) + F.rclunk(301) + F.rread(2, [9])
            var rng = SplitMix(seed: seed)
            var got: [UInt8] = []
            for p in randomPieces(stream, rng: &rng, maxPiece: 12) {
                try relay.fromServer(p)
                got += try relay.sentToClient()
            }
            #expect(got == mine, "seed \(seed)")
            #expect(relay.events.frames(.toClient).filter { $0.marks.contains(.intercepted) }.map(\.bytes)
                    == [F.rclunk(300), F.rclunk(301)])
        }
    }

    @Test(arguments: [("9P2000.L", Dialect.l), ("9P2000.u", .u), ("9P2000", .p9)])
    func flushAnsweredBeforeTheReplyGivesTheClientAnErrorReply(version: String, dialect: Dialect) throws {
        let relay = try EmbeddedRelay()
        try relay.fromClient(F.tversion(version))
        try relay.fromServer(F.rversion(version))
        try relay.fromClient(F.tread(5))
        _ = try relay.sentToServer()
        _ = try relay.sentToClient()

        let flushTag = try relay.pair.flush(clientTag: 5).tag
        let tflush = try relay.sentToServer()
        let decoded = try Fcall.decode(tflush, dialect: dialect)
        #expect(decoded == Fcall(tag: Tag(flushTag), .tflush(Tflush(oldtag: 5))))
        #expect(throws: ProxyControlError.alreadyFlushing(5)) { _ = try relay.pair.flush(clientTag: 5) }
        #expect(throws: ProxyControlError.notPending(6)) { _ = try relay.pair.flush(clientTag: 6) }

        try relay.fromServer(F.rflush(flushTag))
        let reply = try relay.sentToClient()
        let expected: Message
        switch dialect {
        case .l: expected = .rlerror(Rlerror(ecode: .EINTR))
        case .u: expected = .rerror(Rerror(ename: "Interrupted system call", errno: 4))
        case .p9: expected = .rerror(Rerror(ename: "Interrupted system call"))
        }
        #expect(try Fcall.decode(reply, dialect: dialect) == Fcall(tag: 5, expected))
        // A (non-conforming) late reply for tag 5 is not forwarded: one reply per tag.
        try relay.fromServer(F.rread(5, [1]))
        #expect(try relay.sentToClient().isEmpty)
        // The client reuses tag 5: the new reply goes through.
        try relay.fromClient(F.tread(5))
        try relay.fromServer(F.rread(5, [2]))
        #expect(try relay.sentToClient() == F.rread(5, [2]))
        #expect(relay.events.frames(.toClient).contains { $0.bytes == reply && $0.marks == [.injected] })
    }

    @Test func flushWhoseReplyComesFirstForwardsTheReplyOnly() throws {
        let relay = try EmbeddedRelay()
        try relay.fromClient(F.tversion())
        try relay.fromServer(F.rversion())
        try relay.fromClient(F.tread(5))
        _ = try relay.sentToClient()
        let flushTag = try relay.pair.flush(clientTag: 5).tag
        try relay.fromServer(F.rread(5, [4, 2]) + F.rflush(flushTag))
        #expect(try relay.sentToClient() == F.rread(5, [4, 2]))
        #expect(relay.pair.tagsInUse.isEmpty)
    }

    /// An injected request that blocks (a write to the synthetic driver's /FLUSH, a FIFO's read) can be flushed
    /// like a client's: the Tflush goes upstream, and neither its Rflush nor a late reply reaches the client.
    /// It was refused ("the client has no request pending with tag 65532"), so the injected request stayed
    /// pending on the server for as long as the connection lived.
    @Test func anInjectedRequestCanBeFlushed() throws {
        let relay = try EmbeddedRelay.withPendingRead(tag: 1)
        try relay.pair.inject(F.twrite(65532, [0x78]))
        _ = try relay.sentToServer()

        let flushTag = try relay.pair.flush(clientTag: 65532).tag
        #expect(try Fcall.decode(try relay.sentToServer(), dialect: .l) == Fcall(tag: Tag(flushTag), .tflush(Tflush(oldtag: 65532))))
        #expect(throws: ProxyControlError.alreadyFlushing(65532)) { _ = try relay.pair.flush(clientTag: 65532) }
        try relay.fromServer(F.rflush(flushTag))
        #expect(try relay.sentToClient().isEmpty, "the client got a reply for a request it never sent")
        // A late (non-conforming) reply to the injected request is not forwarded either; the client's own
        // request is answered as usual.
        try relay.fromServer(F.frame(65532, .rwrite(Rwrite(count: 1))) + F.rread(1, [7]))
        #expect(try relay.sentToClient() == F.rread(1, [7]))
        #expect(relay.pair.tagsInUse.isEmpty)
        #expect(relay.events.frames(.toClient).filter { $0.marks.contains(.intercepted) }.map(\.bytes) == [F.rflush(flushTag)])

        // Answered before the Rflush: the reply is intercepted, and so is the Rflush after it.
        try relay.pair.inject(F.twrite(65531, [0x78]))
        let second = try relay.pair.flush(clientTag: 65531).tag
        _ = try relay.sentToServer()
        try relay.fromServer(F.frame(65531, .rwrite(Rwrite(count: 1))) + F.rflush(second))
        #expect(try relay.sentToClient().isEmpty)
        #expect(relay.pair.tagsInUse.isEmpty)
    }

    @Test func clientsOwnFlushClearsTheOldTag() throws {
        let relay = try EmbeddedRelay()
        try relay.fromClient(F.tversion() + F.tread(5) + F.frame(6, .tflush(Tflush(oldtag: 5))))
        try relay.fromServer(F.rversion() + F.rflush(6))
        #expect(relay.pair.tagsInUse.isEmpty)
        #expect(throws: ProxyControlError.notPending(5)) { _ = try relay.pair.flush(clientTag: 5) }
    }

    @Test func readsHeldUntilBothSidesAreUpThenResumed() throws {
        // The upstream side may connect before the client channel is active: its read waits, then resumes.
        let loop = EmbeddedEventLoop()
        let client = EmbeddedChannel(loop: loop)
        let upstream = EmbeddedChannel(loop: loop)
        let events = EventBox()
        let pair = RelayPair(conn: NinePWire.ConnectionID(1), eventLoop: loop, clientAddress: nil,
                             upstreamAddress: .unix(path: "/x"), options: .init(eventCoalescing: .zero),
                             sink: events.sink, onFinished: { _ in })
        try client.pipeline.syncOperations.addHandler(pair.makeHandler(.client))
        try upstream.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 2)).wait()
        try pair.start(attachedUpstream: upstream)
        upstream.read()
        #expect(pair.upstream?.readHeld == true)
        try client.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        #expect(pair.upstream?.readHeld == false)
        client.read()
        #expect(pair.client?.readHeld == false)
        #expect(pair.readsHeld >= 1)
    }

    @Test func injectRefusesMalformedFrames() throws {
        let relay = try EmbeddedRelay()
        #expect(throws: ProxyControlError.self) { try relay.pair.inject([1, 2, 3]) }
        var bad = F.tclunk(9, fid: 1)
        bad[0] = 99
        #expect(throws: ProxyControlError.self) { try relay.pair.inject(bad) }
        #expect(throws: ProxyControlError.self) { try relay.pair.inject(F.rclunk(9)) }
        #expect(try relay.sentToServer().isEmpty)
    }

    /// A stop closes both sides and the connection reports `.stopped` at once; the grace's timer then does
    /// nothing. A connection whose close is never reported (here a client channel that never became
    /// active, which a stop's close passes by) is ended when the grace is over, reported once, and counted:
    /// before, `NinePProxy.stop()` waited for it for ever.
    @Test func aStopEndsAConnectionWhoseCloseIsNeverReportedAfterItsGrace() throws {
        let census = RelayCensus()
        let relay = try EmbeddedRelay()
        relay.pair.stop(grace: .seconds(3))
        #expect(relay.pair.finished)
        relay.loop.advanceTime(by: .seconds(5))
        #expect(relay.events.closeReasons() == [.stopped])

        let loop = EmbeddedEventLoop()
        let client = EmbeddedChannel(loop: loop)   // never connected
        let upstream = EmbeddedChannel(loop: loop)
        let events = EventBox()
        let pair = RelayPair(conn: NinePWire.ConnectionID(3), eventLoop: loop, clientAddress: nil,
                             upstreamAddress: .tcp(host: "127.0.0.1", port: 564),
                             options: NinePProxy.Options(eventCoalescing: .zero), sink: events.sink,
                             onFinished: { _ in }, census: census)
        try client.pipeline.syncOperations.addHandler(pair.makeHandler(.client))
        try upstream.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 2)).wait()
        try pair.start(attachedUpstream: upstream)
        pair.stop(grace: .seconds(3))
        #expect(!pair.finished, "\(pair.lifecycle)")
        #expect(pair.lifecycle == "c3: client not yet active, upstream closed, failure proxy stopped")
        loop.advanceTime(by: .milliseconds(2900))
        #expect(!pair.finished)
        #expect(census.forced.load(ordering: .relaxed) == 0)
        loop.advanceTime(by: .milliseconds(100))
        #expect(pair.finished)
        #expect(pair.lifecycle == "c3: client closed, upstream closed, failure proxy stopped, finished")
        #expect(events.closeReasons() == [.stopped])
        #expect(census.forced.load(ordering: .relaxed) == 1)
        loop.advanceTime(by: .seconds(5))
        #expect(events.closeReasons() == [.stopped])
    }
}
