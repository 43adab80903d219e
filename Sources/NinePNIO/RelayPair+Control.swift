import NIOCore
import NinePSession
import NinePWire

/// Why an `inject` or `flush` was refused.
public enum ProxyControlError: Error, Hashable, Sendable, CustomStringConvertible {
    case noSuchConnection(NinePWire.ConnectionID)
    /// The upstream side is not connected (still dialing) or is closing.
    case notConnected(NinePWire.ConnectionID)
    case badFrame(String)
    /// The tag is outstanding already (a client request or one of ninescope's own).
    case tagInUse(UInt16)
    /// `flush` was asked for a tag the client has no request pending on.
    case notPending(UInt16)
    case alreadyFlushing(UInt16)
    case noFreeTag

    public var description: String {
        switch self {
        case .noSuchConnection(let c): return "no connection \(c)"
        case .notConnected(let c): return "connection \(c) has no open upstream side"
        case .badFrame(let why): return "cannot inject: \(why)"
        case .tagInUse(let t): return "tag \(t) is already outstanding on this connection"
        case .notPending(let t): return "the client has no request pending with tag \(t)"
        case .alreadyFlushing(let t): return "tag \(t) is already being flushed"
        case .noFreeTag: return "no free tag"
        }
    }
}

extension RelayPair {
    /// Sends `frame` (a complete T-message) upstream at the next frame boundary; its reply will be
    /// reported marked `.intercepted` and never forwarded to the client. Returns whether it went now (false:
    /// it waits for the rest of a frame the client is part way through).
    @discardableResult
    func inject(_ frame: [UInt8]) throws(ProxyControlError) -> Bool {
        try checkUpstreamOpen()
        guard frame.count >= NineP.headerSize, let header = FrameHeader(frame) else {
            throw .badFrame("a frame needs at least 7 bytes")
        }
        guard Int(header.size) == frame.count else {
            throw .badFrame("size field says \(header.size) but the frame has \(frame.count) bytes")
        }
        guard header.type & 1 == 0 else { throw .badFrame("type \(header.type) is not a request (T-message)") }
        let tag = header.tag.rawValue
        guard ours[tag] == nil, pending[tag] == nil else { throw .tagInUse(tag) }
        ours[tag] = .injected
        answered.remove(tag)   // a tag an earlier flush of ours left there: its reply is this one's
        return enqueueToServer(frame)
    }

    /// Sends a Tflush for the client's pending `tag`, with a tag the proxy picks (returned). The client gets
    /// exactly one reply for `tag`: the server's, if it comes before the Rflush, else an error reply made by
    /// the proxy (Rlerror EINTR / Rerror "Interrupted system call"). `tag` may also be a request ninescope
    /// injected (one that blocks, a write to a FIFO): its Tflush ends it, and neither reply reaches the client.
    /// Also returns whether the Tflush went now (false: it waits for the rest of a frame the client is part
    /// way through, as `inject`).
    @discardableResult
    func flush(clientTag tag: UInt16) throws(ProxyControlError) -> (tag: UInt16, sent: Bool) {
        try checkUpstreamOpen()
        if !ours.isEmpty, case .injected = ours[tag] {
            guard flushing[tag] == nil else { throw .alreadyFlushing(tag) }
            guard let mine = freeTag() else { throw .noFreeTag }
            ours[mine] = .flush(oldTag: tag)
            flushing[tag] = mine
            return (mine, enqueueToServer(Fcall(tag: Tag(mine), .tflush(Tflush(oldtag: Tag(tag)))).encode(dialect: dialect ?? .p9)))
        }
        // A reply a `--fault delay` rule holds: the server has answered, so the client gets that now, and the
        // Tflush still goes (its Rflush, the proxy's own, is dropped).
        let held = !self.held.isEmpty && self.held[tag] != nil
        if held { passOn(tag) }
        if !held {
            guard let p = pending[tag], p.type != MessageType.tversion.rawValue else { throw .notPending(tag) }
            guard flushing[tag] == nil else { throw .alreadyFlushing(tag) }
        }
        guard let mine = freeTag() else { throw .noFreeTag }
        ours[mine] = .flush(oldTag: tag)
        if !held { flushing[tag] = mine }
        return (mine, enqueueToServer(Fcall(tag: Tag(mine), .tflush(Tflush(oldtag: Tag(tag)))).encode(dialect: dialect ?? .p9)))
    }

    /// Tags the client and the proxy have outstanding right now (for callers choosing injection tags).
    var tagsInUse: Set<UInt16> {
        Set(pending.keyList).union(ours.keyList)
    }

    private func checkUpstreamOpen() throws(ProxyControlError) {
        guard let up = upstream, let ch = up.channel, ch.isActive, !upstreamOutputShut, !upstreamInputFinished else {
            throw .notConnected(conn)
        }
    }

    /// Queues `frame` for the server and sends it now when the client's stream is between frames. Returns
    /// whether it went.
    private func enqueueToServer(_ frame: [UInt8]) -> Bool {
        toServerInserts.append((frame, [.injected]))
        let now = toServer.atBoundary
        if now {
            insertNow(.toServer, at: WallClock.nowNanos())
            upstream?.flush()
        }
        flushEvents()
        return now
    }

    /// A tag free on both sides, counting down from 0xFFFE (clients allocate from the bottom).
    private func freeTag() -> UInt16? {
        var t: UInt16 = 0xFFFE
        while t > 0 {
            if pending[t] == nil && ours[t] == nil { return t }
            t -= 1
        }
        return nil
    }
}
