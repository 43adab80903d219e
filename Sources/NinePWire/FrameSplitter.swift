/// Splits a 9P byte stream, arriving in arbitrary pieces (one byte at a time included), into frames.
///
/// A frame is `size[4] type[1] tag[2] body`, `size` counting the whole frame. A size below 7 or above
/// `maxFrameSize` cannot be a frame: the splitter reports it and then resynchronises by scanning for the
/// next plausible header (a size in range, within `resyncLimit` when set, followed by a known message
/// type), reporting the bytes it skipped. It never traps and never allocates more than one frame of at
/// most `maxFrameSize` bytes (a lying size only makes it wait for more input).
///
/// A stream read from a capture can have holes of known length (`skip(_:)`): a snap length that cut the
/// packets (`tcpdump -s`, `dumpcap -s`), or packets the capture lost. A hole inside a frame whose size was
/// read cuts that frame (`.truncated`: its captured first bytes, reported once its last byte has passed)
/// and framing goes on in step after it; any other hole starts framing afresh after it.
public struct FrameSplitter: Sendable {
    public enum Event: Hashable, Sendable {
        /// A complete frame, size field included.
        case frame([UInt8])
        /// Bytes that could not be framed (after an impossible size). `reason` says why.
        case garbage(bytes: [UInt8], reason: String)
        /// A frame of `size` bytes of which the capture holds only the first ones, `prefix` (at least the
        /// 7-byte header): the rest fell into a hole (`skip(_:)`).
        case truncated(prefix: [UInt8], size: UInt32)
    }

    public var maxFrameSize: UInt32
    /// The largest size a header found while resynchronising may have: the msize the connection's version
    /// exchange agreed, once its reader knows it (nil: `maxFrameSize`). Random bytes hold a header within
    /// 16 MiB at about one offset in 950; taken for a frame, such a header swallowed what followed, real
    /// frames included. Framing in step is not limited by it (a frame larger than msize is still a frame).
    public var resyncLimit: UInt32?
    private var buffer: [UInt8] = []
    private var start = 0
    private var resyncing = false
    /// While resynchronising after a size field no frame can have: why, and that its 4 bytes (at `start`)
    /// open the run the scan reports, so that one event holds them and the bytes skipped after them.
    private var resyncReason: String?
    /// A frame cut by a hole: its captured bytes and size, and how many of its bytes are still to come
    /// (passed over as they arrive).
    private var cut: (prefix: [UInt8], size: UInt32)?
    private var cutRemaining = 0
    /// The cut frame's event once its last byte has passed, for `next()` to return first.
    private var cutDone: Event?

    public init(maxFrameSize: UInt32 = NineP.defaultMaxFrameSize) {
        self.maxFrameSize = maxFrameSize
    }

    /// Bytes received but not yet part of a complete frame.
    public var bufferedCount: Int { buffer.count - start }

    /// Between frames: nothing buffered, not resynchronising, no cut frame under way.
    public var isBetweenFrames: Bool {
        buffer.count == start && !resyncing && cut == nil && cutRemaining == 0 && cutDone == nil
    }

    /// Why `bytes`, a whole run that could not be framed, could not: as the splitter says it of such a run
    /// (for a reader that has the run as one piece, e.g. from a ninescope capture made before it recorded why).
    public static func garbageReason(of bytes: [UInt8], limit: UInt32) -> String {
        guard bytes.count >= 4 else { return garbageReason(bytes.count, startingWith: nil) }
        let size = UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24
        let bad = size < UInt32(NineP.headerSize) || size > limit
        return garbageReason(bytes.count, startingWith: bad ? badSizeReason(size, limit: limit) : nil)
    }

    public mutating func append<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        if cutRemaining > 0 {
            // The rest of a cut frame: passed over.
            var passed = 0
            for byte in bytes {
                if passed < cutRemaining { passed += 1 } else { buffer.append(byte) }
            }
            cutRemaining -= passed
            if cutRemaining == 0 { cutDone = endCut() }
            return
        }
        buffer.append(contentsOf: bytes)
    }

    /// `count` bytes of the stream are missing (see the type's notes). Returns the events of the bytes before
    /// the hole not yet taken with `next()`, then what the hole completes: the cut frame, or the bytes
    /// buffered before a hole that framing cannot step over, as garbage.
    public mutating func skip(_ count: Int) -> [Event] {
        guard count > 0 else { return [] }
        var out = drain()
        if cutRemaining > 0 {
            if count < cutRemaining {
                cutRemaining -= count
                return out
            }
            let beyond = count > cutRemaining
            cutRemaining = 0
            out.append(endCut())
            if beyond { restart() }
            return out
        }
        let avail = buffer.count - start
        if !resyncing && avail >= 4 {
            let size = readSize(at: start)
            if size >= UInt32(NineP.headerSize) && size <= maxFrameSize && avail < Int(size) {
                cut = (Array(buffer[start...]), size)
                buffer.removeAll(keepingCapacity: true)
                start = 0
                let remaining = Int(size) - avail - count
                if remaining > 0 {
                    cutRemaining = remaining
                } else {
                    out.append(endCut())
                    if remaining < 0 { restart() }   // the hole reaches into the frames after it
                }
                return out
            }
        }
        if avail > 0 {
            out.append(.garbage(bytes: Array(buffer[start...]),
                                reason: "partial frame cut by \(count) bytes missing from the capture"))
        }
        restart()
        return out
    }

    /// The cut frame's event; `.garbage` when fewer than the header's 7 bytes were captured.
    private mutating func endCut() -> Event {
        guard let (prefix, size) = cut else { return .garbage(bytes: [], reason: "no cut frame") }
        cut = nil
        if prefix.count >= NineP.headerSize { return .truncated(prefix: prefix, size: size) }
        return .garbage(bytes: prefix, reason: "a frame of \(size) bytes of which the capture holds only \(prefix.count)")
    }

    /// Framing starts afresh: nothing buffered, not resynchronising.
    private mutating func restart() {
        buffer.removeAll(keepingCapacity: true)
        start = 0
        resyncing = false
        resyncReason = nil
    }

    /// `append(bytes)` for the common case of a segment holding exactly one frame while nothing is
    /// buffered: that frame is returned as it is (no copy in and out of the buffer) and `next()` then has
    /// nothing more. Otherwise the bytes are appended and nil is returned: call `next()` as usual.
    public mutating func appendTakingWholeFrame(_ bytes: [UInt8]) -> [UInt8]? {
        if !resyncing, cutRemaining == 0, cutDone == nil, start == buffer.count, bytes.count >= NineP.headerSize {
            let size = UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24
            if UInt64(size) == UInt64(bytes.count), size <= maxFrameSize { return bytes }
        }
        append(bytes)
        return nil
    }

    /// The next frame or garbage event, or nil when more bytes are needed.
    public mutating func next() -> Event? {
        if let done = cutDone {
            cutDone = nil
            return done
        }
        let avail = buffer.count - start
        if resyncing {
            return resync()
        }
        guard avail >= 4 else { return nil }
        let size = readSize(at: start)
        if size < UInt32(NineP.headerSize) || size > maxFrameSize {
            // Look for the next header after the impossible size field; the field opens the run reported.
            resyncing = true
            resyncReason = Self.badSizeReason(size, limit: maxFrameSize)
            return resync()
        }
        guard avail >= Int(size) else { return nil }
        let frame = Array(buffer[start..<(start + Int(size))])
        start += Int(size)
        return .frame(frame)
    }

    /// Drains all currently available events.
    public mutating func drain() -> [Event] {
        var out: [Event] = []
        while let e = next() { out.append(e) }
        return out
    }

    /// Whatever is buffered at end of stream (an incomplete frame), as garbage, and resets; a frame cut by a
    /// hole comes first (`.truncated`). Call until nil.
    public mutating func finish() -> Event? {
        if let done = cutDone {
            cutDone = nil
            return done
        }
        if cutRemaining > 0 {
            // The stream ended inside a cut frame.
            cutRemaining = 0
            return endCut()
        }
        defer { restart() }
        guard bufferedCount > 0 else { return nil }
        if resyncing {
            return .garbage(bytes: Array(buffer[start...]), reason: Self.garbageReason(bufferedCount, startingWith: resyncReason))
        }
        return .garbage(bytes: Array(buffer[start...]), reason: "stream ended inside a frame (\(bufferedCount) bytes)")
    }

    /// Why a size field cannot be a frame's: below the header's 7 bytes, or above `limit`.
    public static func badSizeReason(_ size: UInt32, limit: UInt32) -> String {
        size < UInt32(NineP.headerSize) ? "frame size \(size) is below the 7-byte minimum"
            : "frame size \(size) exceeds the limit \(limit)"
    }

    /// Why a run of `count` unframeable bytes is one: the bad size field it began with (`startingWith`, its
    /// first 4 bytes) and how many were skipped after it, or only how many were skipped.
    public static func garbageReason(_ count: Int, startingWith reason: String?) -> String {
        guard let reason else { return "skipped \(count) bytes looking for a frame header" }
        switch count - 4 {
        case ...0: return reason
        case 1: return reason + ", and no frame header in the byte after it"
        case let n: return reason + ", and no frame header in the \(n) bytes after it"
        }
    }

    private func readSize(at i: Int) -> UInt32 {
        UInt32(buffer[i]) | UInt32(buffer[i + 1]) << 8 | UInt32(buffer[i + 2]) << 16 | UInt32(buffer[i + 3]) << 24
    }

    private func plausibleHeader(at i: Int) -> Bool? {
        guard buffer.count - i >= 5 else { return nil }
        let size = readSize(at: i)
        guard size >= UInt32(NineP.headerSize), size <= min(maxFrameSize, resyncLimit ?? .max) else { return false }
        return MessageType(rawValue: buffer[i + 4]) != nil
    }

    private mutating func resync() -> Event? {
        // A run that opens with a bad size field: the scan starts after it.
        var i = start + (resyncReason == nil ? 0 : 4)
        while i < buffer.count {
            guard let ok = plausibleHeader(at: i) else { break }   // need more bytes to judge
            if ok { break }
            i += 1
        }
        if i == start {
            if plausibleHeader(at: i) == true { resyncing = false; return next() }
            return nil
        }
        let skipped = Array(buffer[start..<i])
        start = i
        if plausibleHeader(at: i) == true { resyncing = false }
        let reason = Self.garbageReason(skipped.count, startingWith: resyncReason)
        resyncReason = nil
        return .garbage(bytes: skipped, reason: reason)
    }
}

extension FrameSplitter {
    /// The msize of a Tversion or Rversion frame (`size[4] type[1] tag[2] msize[4] version[s]`), for
    /// `resyncLimit`; nil when the frame is too short or the msize could not hold a frame.
    public static func versionMsize(_ frame: [UInt8]) -> UInt32? {
        guard frame.count >= 11 else { return nil }
        let msize = UInt32(frame[7]) | UInt32(frame[8]) << 8 | UInt32(frame[9]) << 16 | UInt32(frame[10]) << 24
        return msize >= UInt32(NineP.headerSize) ? msize : nil
    }
}

/// The fixed header of a frame, readable without decoding the body.
public struct FrameHeader: Hashable, Sendable {
    public var size: UInt32
    public var type: UInt8
    public var tag: Tag
    public init(size: UInt32, type: UInt8, tag: Tag) { self.size = size; self.type = type; self.tag = tag }

    /// Parses the first 7 bytes; nil when fewer are given.
    public init?<C: RandomAccessCollection>(_ bytes: C) where C.Element == UInt8, C.Index == Int {
        guard bytes.count >= NineP.headerSize else { return nil }
        let b = bytes.startIndex
        size = UInt32(bytes[b]) | UInt32(bytes[b + 1]) << 8 | UInt32(bytes[b + 2]) << 16 | UInt32(bytes[b + 3]) << 24
        type = bytes[b + 4]
        tag = Tag(UInt16(bytes[b + 5]) | UInt16(bytes[b + 6]) << 8)
    }
    public var messageType: MessageType? { MessageType(rawValue: type) }
}
