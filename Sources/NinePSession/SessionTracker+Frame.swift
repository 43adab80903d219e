import NinePWire

extension SessionTracker {
    /// One complete frame. Decodes it with the connection's dialect, pairs it, updates fids, and logs it.
    /// A frame marked `.truncated` (a capture that holds only its first bytes) is not decoded and not
    /// malformed: it pairs by its header, and counts and checks with the size its size field gives.
    /// `predecoded`: the frame already decoded (elsewhere, e.g. on another thread), used instead of decoding
    /// again when its dialect is the one the tracker decodes this frame with.
    public mutating func frame(conn: ConnectionID, direction: Direction, at: Int64, bytes frame: [UInt8],
                               marks: FrameMarks = [], predecoded: consuming Predecoded? = nil) -> TrackerOutput {
        let slot = uniqueConn(conn, at: at)
        return self.frame(&slot.state, direction: direction, at: at, bytes: frame, marks: marks,
                          predecoded: predecoded)
    }

    private mutating func frame(_ c: inout ConnState, direction: Direction, at: Int64, bytes: [UInt8],
                                marks: FrameMarks, predecoded: consuming Predecoded?) -> TrackerOutput {
        let conn = c.id
        var out = TrackerOutput()
        let index = messageTotal
        messageTotal += 1
        let header = FrameHeader(bytes)
        let truncated = marks.contains(.truncated)
        let size = TruncatedFrame.frameSize(bytes, marks: marks)
        if !c.sawFrame {
            c.sawFrame = true
            c.startedMidStream = header?.type != MessageType.tversion.rawValue && c.info?.fromStart != true
            c.midStreamActive = c.startedMidStream
        }
        c.messageCount += 1
        c.lastMessage = index
        if direction == .toServer { c.bytesToServer += size } else { c.bytesToClient += size }

        let (dialect, result) = truncated ? (c.dialect, SessionTracker.decode(bytes, c.dialect, marks: marks))
                                          : decode(&c, bytes, header, predecoded.take())
        // The decoding is moved out of the result and back into the message at the end (no copy of it).
        let fcall: Fcall?, failure: DecodeError?
        switch consume result {
        case .success(let f): fcall = f; failure = nil
        case .failure(let e): fcall = nil; failure = e
        }
        if let error = failure, !truncated {
            c.malformedCount += 1
            malformedTotal += 1
            let what = header.map { "\(TracedMessage.typeName($0.type)) tag \($0.tag)" } ?? "frame"
            report(&c, &out, .malformedFrame, messageIndex: index, exchange: nil as Int?, tag: header?.tag, fid: nil,
                   at: at, "malformed \(what): \(error)")
        }
        var exchange: Int? = nil
        var pathNode = PathStore.none
        var readsDirectory = false
        if let h = header {
            checkFrame(&c, &out, h, size: size, direction: direction, index: index, at: at)
            if truncated {
                // What the cut frame did, when the bytes missing do not matter to that (its data).
                let known = TruncatedFrame.bookkeeping(bytes, dialect: dialect)
                if h.type & 1 == 0 {
                    c.requestCount += 1
                    (exchange, pathNode) = request(&c, &out, h, known?.fcall, index: index, at: at, marks: marks,
                                                   cut: known)
                } else {
                    c.replyCount += 1
                    (exchange, pathNode) = reply(&c, &out, h, known?.fcall, index: index, at: at, cut: true,
                                                 walked: known?.walkLength)
                }
            } else if h.type & 1 == 0 {
                c.requestCount += 1
                (exchange, pathNode) = request(&c, &out, h, fcall, index: index, at: at, marks: marks)
            } else if marks.contains(.dropped) {
                // A server reply the proxy did not pass on (it answered the tag itself): the client never saw
                // it, so it answers nothing.
                c.replyCount += 1
            } else {
                c.replyCount += 1
                readsDirectory = SessionTracker.answersDirectoryRead(c, h)
                (exchange, pathNode) = reply(&c, &out, h, fcall, index: index, at: at)
            }
        }
        if fcall.isMissing, !truncated, let x = exchange { exchangeRecords[x].isMalformed = true }
        if let x = exchange, let i = out.exchanges.lastIndex(where: { $0.id.rawValue == x }) {
            out.exchanges[i] = self.exchange(x)     // refresh after the malformed mark
        }
        if configuration.retainFrames {
            var flags: UInt8 = direction == .toClient ? StoredMessage.toClientBit : 0
            if fcall.isMissing && !truncated { flags |= StoredMessage.malformedBit }
            if readsDirectory { flags |= StoredMessage.directoryReadBit }
            log.append(StoredMessage(frame: frames.append(bytes), at: at, exchange: Int32(exchange ?? -1),
                                     pathNode: pathNode, conn: conn, flags: flags, marks: marks, dialect: dialect))
        }
        let rec = exchange.map { exchangeRecords[$0] }
        if let x = exchange { retireIfSettled(x) }
        let isReply = header.map { $0.type & 1 == 1 } ?? false
        var requestIndex: MessageIndex? = nil
        var latency: Int64? = nil
        if isReply, let r = rec, r.replyIndex == index, r.requestIndex != ExchangeRecord.noIndex {
            requestIndex = r.requestIndex
            latency = at - r.start
        }
        let decoded: Result<Fcall, DecodeError>
        if let f = consume fcall { decoded = .success(f) } else {
            decoded = .failure(failure ?? DecodeError(offset: 0, field: "frame", reason: "not decoded"))
        }
        out.message = TracedMessage(index: index, conn: conn, direction: direction, timestamp: at, kind: .frame,
                                    bytes: bytes, marks: marks, dialect: dialect, fcall: decoded,
                                    exchange: exchange.map { ExchangeID($0) }, requestIndex: requestIndex,
                                    latency: latency, fidPath: paths.path(pathNode), readsDirectory: readsDirectory)
        return out
    }

    /// Whether reply `h` is an Rread answering a Tread of a directory in 9P2000 or 9P2000.u (read before
    /// the reply takes the request off the pending table): its data is stat entries. In 9P2000.L a
    /// directory is read with Treaddir.
    static func answersDirectoryRead(_ c: ConnState, _ h: FrameHeader) -> Bool {
        guard h.type == MessageType.rread.rawValue, c.dialect != .l, let id = c.pendingByTag[h.tag],
              let fid = c.pendingInfo[id]?.primaryFid, let slot = c.liveFids[fid] else { return false }
        return c.fidRecords[slot].qid?.type.contains(.dir) == true
    }

    /// Bytes the splitter could not frame: logged as a garbage message and reported.
    public mutating func garbage(conn: ConnectionID, direction: Direction, at: Int64, bytes: [UInt8],
                                 reason: String) -> TrackerOutput {
        let slot = uniqueConn(conn, at: at)
        return garbage(&slot.state, direction: direction, at: at, bytes: bytes, reason: reason)
    }

    private mutating func garbage(_ c: inout ConnState, direction: Direction, at: Int64, bytes: [UInt8],
                                  reason: String) -> TrackerOutput {
        let conn = c.id
        var out = TrackerOutput()
        let index = messageTotal
        messageTotal += 1
        c.messageCount += 1
        c.lastMessage = index
        c.garbageCount += 1
        if direction == .toServer { c.bytesToServer += bytes.count } else { c.bytesToClient += bytes.count }
        report(&c, &out, .garbageBytes, messageIndex: index, exchange: nil as Int?, tag: nil, fid: nil, at: at,
               "\(bytes.count) unframeable bytes \(direction == .toServer ? "to the server" : "to the client")"
                + "\(DataPreview.spaced(bytes)): \(reason)")
        if configuration.retainFrames {
            let flags = StoredMessage.garbageBit | (direction == .toClient ? StoredMessage.toClientBit : 0)
            log.append(StoredMessage(frame: frames.append(bytes), at: at, exchange: -1, pathNode: PathStore.none,
                                     conn: conn, flags: flags, marks: [], dialect: c.dialect))
            garbageReasons[index] = reason
        }
        out.message = TracedMessage(index: index, conn: conn, direction: direction, timestamp: at,
                                    kind: .garbage(reason: reason), bytes: bytes, marks: [], dialect: c.dialect,
                                    fcall: .failure(DecodeError(offset: 0, field: "frame", reason: reason)),
                                    exchange: nil, requestIndex: nil, latency: nil, fidPath: nil)
        return out
    }

    /// Size, dialect and direction checks that need only the header.
    mutating func checkFrame(_ c: inout ConnState, _ out: inout TrackerOutput, _ h: FrameHeader, size: Int,
                             direction: Direction, index: Int, at: Int64) {
        let isVersion = h.type == MessageType.tversion.rawValue || h.type == MessageType.rversion.rawValue
        if let msize = c.msize, !isVersion, size > Int(msize) {
            report(&c, &out, .messageExceedsMsize, messageIndex: index, exchange: nil as Int?, tag: h.tag, fid: nil,
                   at: at, "\(TracedMessage.typeName(h.type)) of \(size) bytes exceeds msize \(msize)")
        }
        if c.dialectSource == .forced || c.dialectSource == .negotiated, let t = h.messageType,
           !t.isDefined(in: c.dialect) {
            report(&c, &out, .typeNotInDialect, messageIndex: index, exchange: nil as Int?, tag: h.tag, fid: nil,
                   at: at, "\(t.name) is not a \(c.dialect) message")
        }
        let isRequest = h.type & 1 == 0
        if isRequest != (direction == .toServer) {
            report(&c, &out, .wrongDirection, messageIndex: index, exchange: nil as Int?, tag: h.tag, fid: nil,
                   at: at, "\(TracedMessage.typeName(h.type)) travelling \(direction == .toServer ? "to the server" : "to the client")")
        }
    }

    /// Decodes with the connection's dialect; while guessing, tries the others when the code or the body
    /// contradicts the guess, and switches to the one that explains the frame.
    mutating func decode(_ c: inout ConnState, _ bytes: [UInt8], _ header: FrameHeader?,
                         _ predecoded: consuming Predecoded? = nil) -> (Dialect, Result<Fcall, DecodeError>) {
        let current = c.dialect
        if c.dialectSource == .proposed, current != .l, bytes.count == 11, bytes[0..<5] == [11, 0, 0, 0, MessageType.rerror.rawValue] {
            // A server that speaks 9P2000.L alone refusing the 9P2000.u or 9P2000 a Tversion proposed, in its own
            // dialect: Rerror errno[4] (nfs-ganesha's ENOENT). In 9P2000.u these 4 bytes cannot be an Rerror; in
            // 9P2000 they would be an ename of 2 bytes, which 02 00 00 00 reads as NULs.
            return (.l, SessionTracker.decode(bytes, .l))
        }
        let first: Result<Fcall, DecodeError>
        if let p = predecoded.take(), p.dialect == current {
            first = .success(p.take())
        } else {
            first = SessionTracker.decode(bytes, current)
        }
        guard c.isGuessing, let h = header else { return (current, first) }
        let type = h.messageType
        let defined: (Dialect) -> Bool = { d in type.map { $0.isDefined(in: d) } ?? true }
        if case .success = first, defined(current) {
            if let t = type, t.isDialectSpecific {
                // A code only some dialects define is evidence.
                let excluded = Dialect.allCases.filter { !t.isDefined(in: $0) }
                if !excluded.allSatisfy(c.ruledOut.contains) {
                    c.ruledOut.formUnion(excluded)
                    c.dialectSource = .inferred
                }
            }
            return (current, first)
        }
        var failed: [Dialect] = defined(current) ? [current] : []
        let order: [Dialect] = [.l, .u, .p9].filter { $0 != current && defined($0) }
        let candidates = order.filter { !c.ruledOut.contains($0) } + order.filter { c.ruledOut.contains($0) }
        for d in candidates {
            let r = SessionTracker.decode(bytes, d)
            if case .success = r {
                c.ruledOut.formUnion(failed)
                if !defined(current) { c.ruledOut.insert(current) }
                if let t = type { c.ruledOut.formUnion(Dialect.allCases.filter { !t.isDefined(in: $0) }) }
                c.ruledOut.remove(d)
                c.dialect = d
                c.dialectSource = .inferred
                return (d, r)
            }
            failed.append(d)
        }
        return (current, first)
    }

    /// `decode(bytes, dialect)`, except for a frame the capture cut (`.truncated`), which is not decoded: its
    /// failure says how much of it was captured.
    static func decode(_ bytes: [UInt8], _ dialect: Dialect, marks: FrameMarks) -> Result<Fcall, DecodeError> {
        guard marks.contains(.truncated) else { return decode(bytes, dialect) }
        return .failure(TracedMessage.truncation(bytes, marks: marks))
    }

    static func decode(_ bytes: [UInt8], _ dialect: Dialect) -> Result<Fcall, DecodeError> {
        do throws(DecodeError) {
            return .success(try Fcall.decode(bytes, dialect: dialect))
        } catch {
            return .failure(error)
        }
    }
}

/// A frame decoded ahead of the tracker with `dialect` (by a thread that reads a capture while another
/// runs the tracker): decoding is a pure function of the bytes and the dialect, so the tracker takes it
/// for its own whenever it decodes that frame with the same dialect.
public struct Predecoded: Sendable {
    public var dialect: Dialect
    public var fcall: Fcall
    public init(dialect: Dialect, fcall: Fcall) { self.dialect = dialect; self.fcall = fcall }
    /// The decoding, moved out.
    consuming func take() -> Fcall { fcall }
}

extension Optional where Wrapped == Fcall {
    /// True when the frame did not decode. Tested by its case alone: `fcall == nil` compiled to a copy of
    /// the whole decoding (about 170 bytes) per message.
    var isMissing: Bool {
        if case .none = self { return true }
        return false
    }
}
