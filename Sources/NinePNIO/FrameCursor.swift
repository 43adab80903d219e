import NIOCore
import NinePSession
import NinePWire

/// What to do with one frame, decided from its 7-byte header.
package struct FrameDecision {
    /// Pass the frame on (false: drop it; the peer never sees it).
    package var forward: Bool
    /// Copy the frame's bytes and report it through `frame(_:header:marks:at:)`.
    package var collect: Bool
    /// Marks to report with the frame.
    package var marks: NinePWire.FrameMarks

    package init(forward: Bool, collect: Bool, marks: NinePWire.FrameMarks) {
        self.forward = forward
        self.collect = collect
        self.marks = marks
    }

    static let forwardQuietly = FrameDecision(forward: true, collect: false, marks: [])
}

/// The relay logic a `FrameCursor` calls back into. Class-bound so the cursor can call it without copies.
/// (Package-visible, with the cursor, for the fuzz harness.)
package protocol FrameCursorDelegate: AnyObject {
    /// Bytes to pass on unchanged, in order: slices of the input or held-back header bytes.
    func forward(_ bytes: ByteBuffer, _ direction: NinePWire.Direction)
    /// A frame header was read. `alreadyForwarded`: some of its bytes went out before it could be judged,
    /// so it will be forwarded whatever is decided.
    func decide(_ header: FrameHeader, _ direction: NinePWire.Direction, alreadyForwarded: Bool) -> FrameDecision
    /// A complete frame whose decision asked to collect it.
    func frame(_ bytes: [UInt8], header: FrameHeader, marks: NinePWire.FrameMarks, _ direction: NinePWire.Direction,
               at: Int64)
    /// Bytes that could not be framed.
    func garbage(_ bytes: [UInt8], reason: String, _ direction: NinePWire.Direction, at: Int64)
    /// Whether frames wait to be inserted into this direction at the next frame boundary.
    func hasInsertions(_ direction: NinePWire.Direction) -> Bool
    /// Writes the waiting frames now: the stream is at a frame boundary and all earlier bytes are passed on.
    func insertNow(_ direction: NinePWire.Direction, at: Int64)
    /// Whether an incomplete header at the end of the input must be held back until it can be judged
    /// (true while some replies are to be intercepted).
    func holdPartialHeaders(_ direction: NinePWire.Direction) -> Bool
    /// Writes out now what was passed to `forward` so far (the end of the input is a large part of a body
    /// that is about to be copied; see `FrameCursor.earlyFlushBytes`). The delegate may finish the cursor
    /// from here (a failed write closes the connection); `feed` then stops.
    func flushForwarded(_ direction: NinePWire.Direction)
}

/// One direction of a relayed 9P stream: finds frame boundaries in `ByteBuffer`s as they arrive, passes
/// bytes on unchanged (as slices of the input: no copy), and reports frames and garbage.
///
/// Only the header of each frame is parsed; body bytes are copied once, into the reported frame, and only
/// when the delegate asks. A size outside 7…`maxFrameSize` starts a resynchronisation: bytes are passed on
/// and reported as garbage until a plausible header (a size in range and a known message type whose parity
/// fits the direction, and once a version exchange has set `resyncLimit`, a size within the msize it
/// agreed) appears. Frames can be dropped (interception) and whole frames inserted between frames; nothing
/// else ever changes the bytes.
package final class FrameCursor {
    enum Phase { case header, body, resync }

    let direction: NinePWire.Direction
    var maxFrameSize: UInt32
    /// The largest size a header found while resynchronising may have: the msize a version exchange
    /// agreed (nil before one, or after a Tversion until its reply). A frame past msize breaks the
    /// protocol, and random bytes hold a header within 16 MiB at about one offset in 1,900: taken for a
    /// frame, such a header swallowed what followed (the real frames included) until its size had passed.
    /// Framing in step is not limited by it: a real frame larger than msize is still a frame.
    var resyncLimit: UInt32?
    private(set) var phase: Phase = .header
    /// Header phase: the first bytes (< 7) of the next header. Resync phase: unscanned bytes (< 5).
    private var carry: [UInt8] = []
    /// Whether `carry` was already passed on (otherwise it is held back).
    private var carryForwarded = false
    private var header = FrameHeader(size: 0, type: 0, tag: .notag)
    private var remaining = 0
    private var forwarding = true
    private var collecting = false
    private var marks: NinePWire.FrameMarks = []
    private var frame: [UInt8] = []
    private var garbageRun: [UInt8] = []
    /// Why the garbage run began, when it began with a size field no frame can have (its first 4 bytes):
    /// the bytes skipped after it in the same read join it, so that one line shows them all.
    private var garbageReason: String?
    /// Bytes seen, frames completed (for statistics).
    private(set) var bytesSeen = 0
    private(set) var framesSeen = 0

    /// Largest garbage run reported in one piece.
    static let garbageChunk = 64 * 1024
    /// A body chunk of at least this many bytes that ends the input and is to be copied into the reported
    /// frame is written out before the copy rather than after it: a bulk read or write (an Rread or Twrite
    /// of up to msize bytes, which the peer waits for) is then not delayed by the tap's copy (~4 µs per
    /// 64 KiB here). Only at the end of the input, so that a read holding several frames still costs one
    /// write; smaller chunks are cheaper to copy than a write call.
    static let earlyFlushBytes = 16 * 1024

    package init(direction: NinePWire.Direction, maxFrameSize: UInt32 = NineP.defaultMaxFrameSize) {
        self.direction = direction
        self.maxFrameSize = maxFrameSize
    }

    /// True when an inserted frame would land between frames: nothing of an incomplete frame has been
    /// passed on.
    var atBoundary: Bool {
        switch phase {
        case .header: return carry.isEmpty || !carryForwarded
        case .resync: return true
        case .body: return false
        }
    }

    /// Processes one read. Passes bytes on, reports frames and garbage, with `t` as their time.
    package func feed<D: FrameCursorDelegate>(_ buf: ByteBuffer, at t: Int64, _ d: D) {
        let base = buf.readerIndex
        let n = buf.readableBytes
        bytesSeen &+= n
        var i = 0
        var runStart = 0
        func flushRun(_ upTo: Int) {
            if upTo > runStart { d.forward(buf.getSlice(at: base + runStart, length: upTo - runStart)!, direction) }
            runStart = upTo
        }

        while i < n {
            switch phase {
            case .body:
                let take = min(remaining, n - i)
                if collecting && forwarding && take >= FrameCursor.earlyFlushBytes && i + take == n {
                    flushRun(n)
                    d.flushForwarded(direction)
                    guard phase == .body else { return }   // finished from the flush: the connection is gone
                }
                if collecting { FrameCursor.append(buf, at: base + i, length: take, to: &frame) }
                i += take
                remaining -= take
                if !forwarding { runStart = i }
                if remaining == 0 {
                    completeFrame(at: t, d)
                    if d.hasInsertions(direction) { flushRun(i); d.insertNow(direction, at: t) }
                }

            case .header:
                let need = NineP.headerSize - carry.count
                if n - i < need {
                    if !carryForwarded && d.holdPartialHeaders(direction) {
                        flushRun(i)
                        FrameCursor.append(buf, at: base + i, length: n - i, to: &carry)
                        runStart = n
                    } else {
                        FrameCursor.append(buf, at: base + i, length: n - i, to: &carry)
                        carryForwarded = true
                    }
                    i = n
                    continue
                }
                let cc = carry.count
                func hb(_ k: Int) -> UInt8 { k < cc ? carry[k] : buf.getInteger(at: base + i + k - cc)! }
                let size = UInt32(hb(0)) | UInt32(hb(1)) << 8 | UInt32(hb(2)) << 16 | UInt32(hb(3)) << 24
                let heldCarry = cc > 0 && !carryForwarded
                if size < UInt32(NineP.headerSize) || size > maxFrameSize {
                    if heldCarry { flushRun(i); d.forward(ByteBuffer(bytes: carry), direction) }
                    // The run starts with the size field; it is reported once the scan for a header stops.
                    garbageRun = [hb(0), hb(1), hb(2), hb(3)]
                    garbageReason = FrameSplitter.badSizeReason(size, limit: maxFrameSize)
                    if cc >= 4 { carry.removeFirst(4) } else { i += 4 - cc; carry.removeAll() }
                    carryForwarded = true
                    phase = .resync
                    continue
                }
                header = FrameHeader(size: size, type: hb(4), tag: Tag(UInt16(hb(5)) | UInt16(hb(6)) << 8))
                let forced = cc > 0 && carryForwarded
                let decision = d.decide(header, direction, alreadyForwarded: forced)
                if !forced && d.hasInsertions(direction) { flushRun(i); d.insertNow(direction, at: t) }
                forwarding = decision.forward || forced
                if forwarding {
                    if heldCarry { flushRun(i); d.forward(ByteBuffer(bytes: carry), direction) }
                } else {
                    flushRun(i)
                }
                collecting = decision.collect
                marks = decision.marks
                if collecting {
                    frame = []
                    frame.reserveCapacity(min(Int(size), 4 << 20))   // a lying size must not reserve 16 MiB
                    frame.append(contentsOf: carry)
                }
                remaining = Int(size) - cc
                carry.removeAll(keepingCapacity: true)
                carryForwarded = false
                phase = .body

            case .resync:
                var window = carry
                FrameCursor.append(buf, at: base + i, length: n - i, to: &window)
                let cc = carry.count
                var k = 0
                var found = false
                while k + 5 <= window.count {
                    if plausibleHeader(window, at: k) { found = true; break }
                    k += 1
                }
                garbageRun.append(contentsOf: window[0..<k])
                if found {
                    reportGarbageRun(at: t, d)
                    if k < cc {
                        carry = Array(carry[k...])
                        carryForwarded = true
                    } else {
                        i += k - cc
                        carry.removeAll()
                        carryForwarded = false
                    }
                    phase = .header
                } else {
                    carry = Array(window[k...])
                    carryForwarded = true
                    i = n
                    if garbageRun.count >= FrameCursor.garbageChunk { reportGarbageRun(at: t, d) }
                }
            }
        }
        if phase == .header && carry.isEmpty && d.hasInsertions(direction) {
            flushRun(i)
            d.insertNow(direction, at: t)
        }
        flushRun(n)
        if phase == .resync { reportGarbageRun(at: t, d) }
    }

    /// End of this direction's stream. Passes on any held-back bytes, reports an incomplete frame as garbage
    /// (naming the message its header began, `…: a Twrite tag 0 cut short`) and returns true when the stream
    /// ended inside a frame. Resets to the initial state.
    @discardableResult
    package func finish<D: FrameCursorDelegate>(at t: Int64, _ d: D) -> Bool {
        var midFrame = false
        switch phase {
        case .body:
            midFrame = true
            let got = Int(header.size) - remaining
            // Its header was read: say which message was cut (a guest killed inside a Twrite).
            let which = header.messageType.map { ": a \($0.name) tag \(header.tag) cut short" } ?? ""
            d.garbage(collecting ? frame : [], reason: "stream ended inside a frame (\(got) of \(header.size) bytes)\(which)",
                      direction, at: t)
        case .header:
            if !carry.isEmpty {
                midFrame = true
                if !carryForwarded { d.forward(ByteBuffer(bytes: carry), direction) }
                d.garbage(carry, reason: "stream ended inside a frame header (\(carry.count) bytes)", direction, at: t)
            }
        case .resync:
            garbageRun.append(contentsOf: carry)
            reportGarbageRun(at: t, d)
        }
        phase = .header
        carry = []
        carryForwarded = false
        frame = []
        garbageRun = []
        garbageReason = nil
        remaining = 0
        return midFrame
    }

    private func completeFrame<D: FrameCursorDelegate>(at t: Int64, _ d: D) {
        framesSeen &+= 1
        phase = .header
        if collecting {
            let bytes = frame
            frame = []
            d.frame(bytes, header: header, marks: marks, direction, at: t)
        }
    }

    private func reportGarbageRun<D: FrameCursorDelegate>(at t: Int64, _ d: D) {
        guard !garbageRun.isEmpty else { return }
        let bytes = garbageRun
        garbageRun = []
        d.garbage(bytes, reason: FrameSplitter.garbageReason(bytes.count, startingWith: garbageReason), direction, at: t)
        garbageReason = nil
    }

    private func plausibleHeader(_ w: [UInt8], at k: Int) -> Bool {
        let size = UInt32(w[k]) | UInt32(w[k + 1]) << 8 | UInt32(w[k + 2]) << 16 | UInt32(w[k + 3]) << 24
        guard size >= UInt32(NineP.headerSize), size <= min(maxFrameSize, resyncLimit ?? .max),
              let type = MessageType(rawValue: w[k + 4]) else { return false }
        return type.isRequest == (direction == .toServer)
    }

    static func append(_ buf: ByteBuffer, at index: Int, length: Int, to array: inout [UInt8]) {
        guard length > 0 else { return }
        let offset = index - buf.readerIndex
        buf.withUnsafeReadableBytes { raw in
            // Typed pointer: Array.append then copies with memcpy (a raw buffer would go byte by byte).
            let bytes = UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + length)])
            array.append(contentsOf: bytes.assumingMemoryBound(to: UInt8.self))
        }
    }
}
