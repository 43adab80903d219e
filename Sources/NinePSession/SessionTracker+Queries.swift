import NinePWire

extension SessionTracker {
    /// Messages logged so far (also counted when frames are not retained).
    public var messageCount: Int { messageTotal }
    /// Exchanges made so far; ids run from 0 to `exchangeCount − 1`.
    public var exchangeCount: Int { exchangeRecords.count }

    /// A logged message, decoded again with the dialect used at the time (nil when out of range or
    /// frames are not retained).
    public func message(at index: MessageIndex) -> TracedMessage? {
        guard let m = storedMessage(index) else { return nil }
        let bytes = frames[m.frame]
        let direction: Direction = m.flags & StoredMessage.toClientBit != 0 ? .toClient : .toServer
        if m.flags & StoredMessage.garbageBit != 0 {
            let reason = garbageReasons[index] ?? "garbage"
            return TracedMessage(index: index, conn: m.conn, direction: direction, timestamp: m.at,
                                 kind: .garbage(reason: reason), bytes: bytes, marks: m.marks, dialect: m.dialect,
                                 fcall: .failure(DecodeError(offset: 0, field: "frame", reason: reason)),
                                 exchange: nil, requestIndex: nil, latency: nil, fidPath: nil)
        }
        var requestIndex: MessageIndex? = nil
        var latency: Int64? = nil
        if m.exchange >= 0, exchangeRecords.contains(Int(m.exchange)) {
            let x = exchangeRecords[Int(m.exchange)]
            if x.replyIndex == index, x.requestIndex != ExchangeRecord.noIndex {
                requestIndex = x.requestIndex
                latency = m.at - x.start
            }
        }
        return TracedMessage(index: index, conn: m.conn, direction: direction, timestamp: m.at, kind: .frame,
                             bytes: bytes, marks: m.marks, dialect: m.dialect,
                             fcall: SessionTracker.decode(bytes, m.dialect, marks: m.marks),
                             exchange: m.exchange >= 0 ? ExchangeID(Int(m.exchange)) : nil,
                             requestIndex: requestIndex, latency: latency, fidPath: paths.path(m.pathNode),
                             readsDirectory: m.flags & StoredMessage.directoryReadBit != 0)
    }

    /// A logged message's metadata without decoding (nil when out of range or frames are not retained).
    public func messageSummary(at index: MessageIndex) -> MessageSummary? {
        guard let m = storedMessage(index) else { return nil }
        let garbage = m.flags & StoredMessage.garbageBit != 0
        let head = frames.prefix(m.frame, NineP.headerSize)
        let header = garbage ? nil : FrameHeader(head)
        return MessageSummary(
            index: index, conn: m.conn, direction: m.flags & StoredMessage.toClientBit != 0 ? .toClient : .toServer,
            timestamp: m.at, isGarbage: garbage, isMalformed: m.flags & StoredMessage.malformedBit != 0,
            marks: m.marks, dialect: m.dialect,
            size: TruncatedFrame.frameSize(held: Int(m.frame.count), header: header, marks: m.marks),
            typeCode: header?.type, tag: header?.tag,
            exchange: m.exchange >= 0 ? ExchangeID(Int(m.exchange)) : nil)
    }

    /// A logged message's record, if held (nil when out of range, forgotten, or frames are not retained).
    func storedMessage(_ index: MessageIndex) -> StoredMessage? {
        guard configuration.retainFrames else { return nil }
        if log.heldIndices.contains(index) { return log[index] }
        return index >= 0 && index < log.firstHeld ? keptMessages[index] : nil
    }

    /// Exchange records held now: all of them, or for a streaming tracker (frames not retained) the ones
    /// still pending or part of a flush. What a streaming tracker's memory grows with.
    public var heldExchangeCount: Int { exchangeRecords.heldCount }

    /// Fid records held now on every connection (for a streaming tracker: live fids and free slots).
    public var heldFidRecordCount: Int { conns.reduce(0) { $0 + $1.state.fidRecords.count } }

    /// An exchange as it is now (nil when unknown, or retired by a streaming tracker).
    public func exchange(_ id: ExchangeID) -> Exchange? {
        guard exchangeRecords.contains(id.rawValue) else { return nil }
        return exchange(id.rawValue)
    }

    func exchange(_ id: Int) -> Exchange {
        let r = exchangeRecords[id]
        let x = r.hasExtras ? extras[id] : nil
        return Exchange(
            id: ExchangeID(id), conn: r.conn, tag: r.tag,
            requestCode: r.requestIndex == ExchangeRecord.noIndex ? nil : r.requestCode,
            replyCode: r.replyIndex == ExchangeRecord.noIndex ? nil : r.replyCode,
            requestIndex: r.requestIndex == ExchangeRecord.noIndex ? nil : r.requestIndex,
            replyIndex: r.replyIndex == ExchangeRecord.noIndex ? nil : r.replyIndex,
            lateReplyIndex: x?.lateReplyIndex,
            start: r.start == ExchangeRecord.noTime ? nil : r.start,
            end: r.end == ExchangeRecord.noTime ? nil : r.end,
            status: r.status, error: x?.error, isInjected: r.isInjected, isMalformed: r.isMalformed,
            flushTarget: x?.flushTarget.map { ExchangeID($0) }, flushOutcome: x?.flushOutcome,
            flushedBy: (x?.flushedBy ?? []).map { ExchangeID($0) })
    }

    /// The messages of an exchange in log order: request, reply, late reply; with `includingFlushes`,
    /// also the Tflush/Rflush messages of the flushes that targeted it.
    public func messages(of id: ExchangeID, includingFlushes: Bool = false) -> [MessageIndex] {
        guard let x = exchange(id) else { return [] }
        var out = [x.requestIndex, x.replyIndex, x.lateReplyIndex].compactMap { $0 }
        if includingFlushes {
            for f in x.flushedBy {
                let fx = exchange(f.rawValue)
                out += [fx.requestIndex, fx.replyIndex].compactMap { $0 }
            }
        }
        return out.sorted()
    }

    /// Every exchange of a connection still waiting for its reply, oldest first.
    public func pending(on conn: ConnectionID) -> [Exchange] {
        guard let c = connState(conn) else { return [] }
        return c.pendingIDs.sorted().map { exchange($0) }
    }

    /// The exchange pending on a tag (what a reply with that tag would answer), e.g. for the proxy to see
    /// whether a reply belongs to an injected request before forwarding it.
    public func pendingExchange(tag: Tag, on conn: ConnectionID) -> Exchange? {
        guard let c = connState(conn), let id = c.pendingByTag[tag] else { return nil }
        return exchange(id)
    }

    /// Tags pending on a connection (for `TagAllocator`).
    public func pendingTags(on conn: ConnectionID) -> Set<Tag> {
        guard let c = connState(conn) else { return [] }
        return Set(c.pendingIDs.elements.map { exchangeRecords[$0].tag })
    }

    /// Fids live on a connection (for `FidAllocator`).
    public func liveFids(on conn: ConnectionID) -> Set<Fid> {
        Set(connState(conn)?.liveFids.keyList ?? [])
    }

    /// The fid table of a connection: live fids sorted by number, or with `includingHistory` every record
    /// ever made (clunked, removed, reset, leaked included) in creation order. A streaming tracker (frames
    /// not retained) keeps no history: it returns the live fids either way.
    public func fidTable(on conn: ConnectionID, includingHistory: Bool = false) -> [FidEntry] {
        guard let c = connState(conn) else { return [] }
        if includingHistory && configuration.retainFrames { return c.fidRecords.map { fidEntry($0, conn: conn) } }
        return c.liveFids.sortedEntries.map { fidEntry(c.fidRecords[$0.value], conn: conn) }
    }

    /// The live record of one fid.
    public func fid(_ fid: Fid, on conn: ConnectionID) -> FidEntry? {
        guard let c = connState(conn), let r = c.liveFids[fid] else { return nil }
        return fidEntry(c.fidRecords[r], conn: conn)
    }

    /// One connection's summary.
    public func connection(_ conn: ConnectionID) -> ConnectionSummary? {
        connState(conn).map(summary)
    }

    /// All connections, in the order they were first seen. A streaming tracker (frames not retained) has
    /// only the open ones, in no particular order: it forgets each as it closes (`messageCount`,
    /// `anomalyTotal` and `malformedTotal` still count theirs). A retaining one has them all but the closed
    /// ones `forgetHistory` dropped (`forgottenConnections`).
    public var connections: [ConnectionSummary] { conns.map { summary($0.state) } }

    /// Anomalies of one connection, in detection order.
    public func anomalies(on conn: ConnectionID) -> [Anomaly] { anomalies.filter { $0.conn == conn } }

    /// Anomalies pointing at one message.
    public func anomalies(forMessage index: MessageIndex) -> [Anomaly] {
        (anomaliesByMessage[index] ?? []).map { anomalies[$0] }
    }

    func connState(_ conn: ConnectionID) -> ConnState? {
        connIndex[conn].map { conns[$0].state }
    }

    func summary(_ c: ConnState) -> ConnectionSummary {
        ConnectionSummary(
            id: c.id, info: c.info, openedAt: c.openedAt, closedAt: c.closedAt, closeReason: c.closeReason,
            dialect: c.dialect, dialectSource: c.dialectSource, proposedVersion: c.proposedVersion,
            proposedMsize: c.proposedMsize, negotiatedVersion: c.negotiatedVersion, msize: c.msize,
            startedMidStream: c.startedMidStream, messageCount: c.messageCount, requestCount: c.requestCount,
            replyCount: c.replyCount, bytesToServer: c.bytesToServer, bytesToClient: c.bytesToClient,
            exchangeCount: c.exchangeCount, pendingCount: c.pendingIDs.count, errorCount: c.errorCount,
            flushCount: c.flushCount, malformedCount: c.malformedCount, garbageCount: c.garbageCount,
            anomalyCount: c.anomalyCount, liveFidCount: c.liveFids.count,
            openFidCount: c.liveFids.valueList.filter { c.fidRecords[$0].state == .open }.count,
            fidRecordCount: c.fidsCreated)
    }
}
