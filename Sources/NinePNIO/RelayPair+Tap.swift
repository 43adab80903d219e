import NIOCore
import NinePSession
import NinePWire

/// The passive tap and the small amount of 9P a relay must know: which client tags are pending, which
/// replies belong to ninescope's own requests, and the dialect (for the error reply that answers a flushed
/// request). Only frame headers are looked at, except Tversion/Rversion/Tflush bodies (a few bytes).
extension RelayPair: FrameCursorDelegate {
    func forward(_ bytes: ByteBuffer, _ direction: Direction) {
        if relayStopped { return }
        if direction == .toServer {
            // Bytes can arrive before the upstream connection is up even though reads are held: on a peer's
            // EOF NIO drains the socket regardless. Keep them until it is.
            if let up = upstream, up.isActive { up.write(bytes) } else { preConnect.append(bytes) }
        } else {
            client?.write(bytes)
        }
    }

    func decide(_ header: FrameHeader, _ direction: Direction, alreadyForwarded: Bool) -> FrameDecision {
        let tag = header.tag.rawValue
        let report = options.reportFrames
        if direction == .toServer {
            let type = header.type
            if type == MessageType.tversion.rawValue {
                // Tversion aborts everything outstanding (version(5)).
                pending.removeAll()
                ours.removeAll()
                flushing.removeAll()
                answered.removeAll()
                versionResetsFaults()
            }
            if type & 1 == 0 {
                pending[tag] = PendingRequest(type: type, oldTag: nil)
                answered.remove(tag)
                if faultBoard.generation.load(ordering: .acquiring) != faultGeneration { reloadFaults() }
                if hasFaults, !alreadyForwarded, let faulted = faultRequest(header) { return faulted }
            }
            let needBody = type == MessageType.tversion.rawValue || type == MessageType.tflush.rawValue
            return FrameDecision(forward: true, collect: report || needBody, marks: [])
        }

        if !(replyErrors.isEmpty && replyDelays.isEmpty), !alreadyForwarded, let faulted = faultReply(header) {
            return faulted
        }
        if !alreadyForwarded, !ours.isEmpty, let own = ours.removeValue(forKey: tag) {
            if case .flush(let old) = own, flushing[old] == tag {
                flushing[old] = nil
                answered.insert(old)   // a late reply for `old` is dropped
                if ours.removeValue(forKey: old) == nil {
                    // Our Tflush was answered before the original reply: the server will not answer `old` any
                    // more, so the client gets an error reply for it from us, here in the stream.
                    pending[old] = nil
                    toClientInserts.append((interruptedReply(tag: old), [.injected]))
                }   // else `old` was ninescope's own request: it is over, and the client knows nothing of it
            } else if case .injected = own, !flushing.isEmpty {
                flushing[tag] = nil   // answered before our Tflush of it: that Rflush is dropped when it comes
            }
            return FrameDecision(forward: false, collect: true, marks: [.intercepted])
        }
        if !alreadyForwarded, answered.remove(tag) {
            // A reply for a tag the proxy already answered: never two replies for one tag.
            return FrameDecision(forward: false, collect: true, marks: [.dropped])
        }
        if let p = pending.removeValue(forKey: tag) {
            if !flushing.isEmpty { flushing[tag] = nil }   // original reply first: forward it, drop our Rflush later
            if p.type == MessageType.tflush.rawValue, header.type == MessageType.rflush.rawValue, let old = p.oldTag {
                // The client's own flush completed: nothing more will come for `old`.
                pending[old] = nil
                if !flushing.isEmpty { flushing[old] = nil }
            }
        }
        return FrameDecision(forward: true, collect: report || header.type == MessageType.rversion.rawValue,
                             marks: [])
    }

    func frame(_ bytes: [UInt8], header: FrameHeader, marks: FrameMarks, _ direction: Direction, at t: Int64) {
        if let f = replyFault, direction == .toClient, f.tag == header.tag.rawValue {
            replyFault = nil
            guard applyReplyFault(f, bytes: bytes, at: t) else { return }   // held: reported when passed on
        }
        switch header.type {
        case MessageType.tflush.rawValue where direction == .toServer && bytes.count >= 9:
            let old = UInt16(bytes[7]) | UInt16(bytes[8]) << 8
            pending.modify(header.tag.rawValue) { $0.oldTag = old }
            if !(held.isEmpty && replyDelays.isEmpty) { clientFlushes(old) }
        case MessageType.tversion.rawValue where direction == .toServer:
            if let d = RelayPair.versionDialect(bytes) { offeredDialect = d }
            dialect = nil
            setResyncLimit(nil)
            checkLoop(bytes, at: t)   // (only a connection's first counts)
        case MessageType.rversion.rawValue where direction == .toClient:
            if let d = RelayPair.versionDialect(bytes) { dialect = d }
            setResyncLimit(FrameSplitter.versionMsize(bytes))
        default:
            break
        }
        if options.reportFrames || !marks.isEmpty {
            eventBytes += bytes.count
            events.append(.frame(conn: conn, direction: direction, at: t, bytes: bytes, marks: marks))
        }
        if let f = requestFault, direction == .toServer, f.tag == header.tag.rawValue {
            requestFault = nil
            applyRequestFault(f, at: t)
        }
    }

    func garbage(_ bytes: [UInt8], reason: String, _ direction: Direction, at t: Int64) {
        if options.reportFrames {
            eventBytes += bytes.count
            events.append(.garbage(conn: conn, direction: direction, at: t, bytes: bytes, reason: reason))
        }
    }

    func flushForwarded(_ direction: Direction) {
        handler(direction == .toServer ? .upstream : .client)?.flush()
    }

    func hasInsertions(_ direction: Direction) -> Bool {
        direction == .toServer ? !toServerInserts.isEmpty : !toClientInserts.isEmpty
    }

    func insertNow(_ direction: Direction, at t: Int64) {
        let frames: [([UInt8], FrameMarks)]
        if direction == .toServer {
            frames = toServerInserts
            toServerInserts = []
        } else {
            frames = toClientInserts
            toClientInserts = []
        }
        guard let h = direction == .toServer ? upstream : client else { return }
        for (bytes, marks) in frames {
            h.write(ByteBuffer(bytes: bytes))
            events.append(.frame(conn: conn, direction: direction, at: t, bytes: bytes, marks: marks))
        }
    }

    func holdPartialHeaders(_ direction: Direction) -> Bool {
        direction == .toServer ? hasFaults
            : !(ours.isEmpty && answered.isEmpty && replyErrors.isEmpty && replyDelays.isEmpty)
    }

    // MARK: - Helpers

    /// The dialect named by a Tversion/Rversion frame (`size[4] type[1] tag[2] msize[4] version[s]`).
    static func versionDialect(_ frame: [UInt8]) -> Dialect? {
        guard frame.count >= 13 else { return nil }
        let len = Int(frame[11]) | Int(frame[12]) << 8
        guard frame.count >= 13 + len else { return nil }
        return Dialect(version: String(decoding: frame[13..<(13 + len)], as: UTF8.self))
    }

    /// Both directions' resynchronisation limit (`FrameCursor.resyncLimit`): the agreed msize, or none.
    private func setResyncLimit(_ msize: UInt32?) {
        toServer.resyncLimit = msize
        toClient.resyncLimit = msize
    }

    /// The error reply that stands in for a flushed request: Rlerror EINTR for 9P2000.L, Rerror
    /// "Interrupted system call" (with errno EINTR for 9P2000.u) otherwise: the C library's text, which a
    /// classic Linux client reads back as EINTR.
    func interruptedReply(tag: UInt16) -> [UInt8] { errorReply(tag: tag, .EINTR) }
}
