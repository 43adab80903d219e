import NIOCore
import NIOEmbedded
import NinePTestSupport
import NinePWire
import Testing
@testable import NinePNIO

/// The frame cursor's calls to its delegate, in order: when a large body is written out before the tap
/// copies it, and that nothing else changes.
@Suite struct FrameCursorTests {
    /// Records every call; `onFlush` runs inside `flushForwarded`.
    final class Recorder: FrameCursorDelegate {
        enum Call: Equatable {
            case forward(Int), flush, frame(Int), garbage(Int)
        }
        var calls: [Call] = []
        var forwarded: [UInt8] = []
        var frames: [[UInt8]] = []
        var reasons: [String] = []
        var onFlush: (() -> Void)?

        func forward(_ bytes: ByteBuffer, _ direction: Direction) {
            calls.append(.forward(bytes.readableBytes))
            forwarded += Array(bytes.readableBytesView)
        }
        func decide(_ header: FrameHeader, _ direction: Direction, alreadyForwarded: Bool) -> FrameDecision {
            FrameDecision(forward: true, collect: true, marks: [])
        }
        func frame(_ bytes: [UInt8], header: FrameHeader, marks: FrameMarks, _ direction: Direction, at: Int64) {
            calls.append(.frame(bytes.count))
            frames.append(bytes)
        }
        func garbage(_ bytes: [UInt8], reason: String, _ direction: Direction, at: Int64) {
            calls.append(.garbage(bytes.count))
            reasons.append(reason)
        }
        func hasInsertions(_ direction: Direction) -> Bool { false }
        func insertNow(_ direction: Direction, at: Int64) {}
        func holdPartialHeaders(_ direction: Direction) -> Bool { false }
        func flushForwarded(_ direction: Direction) {
            calls.append(.flush)
            onFlush?()
        }
    }

    static func rread(_ n: Int, tag: UInt16 = 1) -> [UInt8] {
        F.rread(tag, (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31) })
    }

    @Test func aLargeBodyEndingTheInputIsWrittenOutBeforeItIsCopied() {
        let frame = Self.rread(65536)
        let cursor = FrameCursor(direction: .toClient)
        let d = Recorder()
        cursor.feed(ByteBuffer(bytes: frame), at: 1, d)
        #expect(d.calls == [.forward(frame.count), .flush, .frame(frame.count)])
        #expect(d.forwarded == frame)
        #expect(d.frames == [frame])
    }

    /// Feeds `frame` to a new cursor in two reads cut at `cut`; `between` runs after the first.
    static func feedInTwo(_ frame: [UInt8], cut: Int,
                          between: (FrameCursor, Recorder) -> Void = { _, _ in }) -> (FrameCursor, Recorder) {
        let cursor = FrameCursor(direction: .toClient)
        let d = Recorder()
        cursor.feed(ByteBuffer(bytes: Array(frame[..<cut])), at: 1, d)
        between(cursor, d)
        cursor.feed(ByteBuffer(bytes: Array(frame[cut...])), at: 2, d)
        return (cursor, d)
    }

    @Test func aLargeBodyInPiecesIsWrittenOutPieceByPiece() {
        let frame = Self.rread(65536)
        let cut = 20_000
        let (_, d) = Self.feedInTwo(frame, cut: cut)
        #expect(d.calls == [.forward(cut), .flush, .forward(frame.count - cut), .flush, .frame(frame.count)])
        #expect(d.forwarded == frame)
        #expect(d.frames == [frame])
    }

    @Test func smallFramesAndBodiesFollowedByMoreInputAreNotWrittenOutEarly() {
        let small = Self.rread(100)
        let large = Self.rread(40_000, tag: 2)
        let stream = small + large + small
        let cursor = FrameCursor(direction: .toClient)
        let d = Recorder()
        cursor.feed(ByteBuffer(bytes: stream), at: 1, d)
        // One forward of the whole input at the end; no flush from the cursor (the relay flushes once the
        // read is complete).
        #expect(d.calls == [.frame(small.count), .frame(large.count), .frame(small.count), .forward(stream.count)])
        #expect(d.forwarded == stream)
        #expect(d.frames == [small, large, small])

        let below = Self.rread(FrameCursor.earlyFlushBytes - 12)   // a body chunk just under the bound
        let d2 = Recorder()
        FrameCursor(direction: .toClient).feed(ByteBuffer(bytes: below), at: 1, d2)
        #expect(d2.calls == [.frame(below.count), .forward(below.count)])
    }

    @Test func aCursorFinishedDuringTheFlushStopsThere() {
        let frame = Self.rread(65536)
        let cut = 30_000
        let (cursor, d) = Self.feedInTwo(frame, cut: cut) { cursor, d in
            // The write fails and the relay closes the connection from inside the flush.
            d.onFlush = { [unowned cursor, unowned d] in _ = cursor.finish(at: 2, d) }
        }
        // The second piece was forwarded; the frame is reported once, as the garbage of a stream that ended
        // inside it, and never as a frame.
        #expect(d.calls == [.forward(cut), .flush, .forward(frame.count - cut), .flush, .garbage(cut)])
        #expect(d.frames.isEmpty)
        #expect(cursor.atBoundary)
        // The next connection's bytes would start afresh.
        d.onFlush = nil
        d.calls = []
        let next = F.tread(5)
        FrameCursor(direction: .toServer).feed(ByteBuffer(bytes: next), at: 3, d)
        #expect(d.calls == [.frame(next.count), .forward(next.count)])
    }

    /// A client that dies inside a frame (a guest killed while its kernel sent a Twrite): the garbage it leaves
    /// names the message its header began, so that the request it was sending is known.
    @Test func aStreamEndingInsideAFrameNamesTheMessage() {
        let write = F.twrite(7, Array(repeating: 0x61, count: 1000))
        let cursor = FrameCursor(direction: .toServer)
        let d = Recorder()
        cursor.feed(ByteBuffer(bytes: Array(write.prefix(300))), at: 1, d)
        #expect(cursor.finish(at: 2, d))
        #expect(d.reasons == ["stream ended inside a frame (300 of \(write.count) bytes): a Twrite tag 7 cut short"])
    }

    /// Through a relay pair: a 64 KiB Rread read on its own reaches the client's socket within the read
    /// (before the read is complete); small replies wait for the end of the read as before.
    @Test func theRelayWritesALargeReplyOutWithinTheRead() throws {
        let relay = try EmbeddedRelay()
        try relay.fromClient(F.tversion())
        try relay.fromServer(F.rversion())
        try relay.fromClient(F.tread(1, count: 65536))
        _ = try relay.sentToServer()
        _ = try relay.sentToClient()

        let large = Self.rread(65536)
        relay.upstream.pipeline.fireChannelRead(ByteBuffer(bytes: large))
        #expect(try relay.sentToClient() == large)
        relay.upstream.pipeline.fireChannelReadComplete()
        #expect(try relay.sentToClient().isEmpty)

        try relay.fromClient(F.tread(2))
        let small = Self.rread(100, tag: 2)
        relay.upstream.pipeline.fireChannelRead(ByteBuffer(bytes: small))
        #expect(try relay.sentToClient().isEmpty)
        relay.upstream.pipeline.fireChannelReadComplete()
        #expect(try relay.sentToClient() == small)
        #expect(Array(relay.events.frames(.toClient).map(\.bytes).suffix(2)) == [large, small])
    }
}
