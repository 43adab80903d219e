import NinePWire

/// A bounded history for a tracker that keeps its messages (the live inspector): `forgetHistory` drops the
/// oldest exchanges with their messages, frames, records and what else is kept per exchange, so that a
/// view left open on a busy mount for hours holds the newest part of the session rather than all of it.
///
/// Ids and indices never change: exchange and message numbers keep counting, and what was forgotten is
/// simply no longer there (`message(at:)` and `exchange(_:)` return nil for it). What later traffic can
/// still need is kept whatever its age: exchanges still pending (their reply pairs with them as before,
/// with its latency), those a flush race may still change (a late reply on a flushed tag, the flushes of a
/// pending request), and their messages; open connections, live fids, paths and counts are untouched. A
/// closed connection goes once none of its messages is held (`forgottenConnections` counts them), so that
/// a client that connects once per operation does not grow the tracker by a connection each time.
extension SessionTracker {
    /// What one `forgetHistory` call did.
    public struct Forgotten: Hashable, Sendable {
        /// The first exchange id held in the dense part now (ids below it are gone, but for `kept`).
        public var firstExchange: Int
        /// The first message index held in the dense part now (indices below it are gone, but for the
        /// messages of `kept` exchanges).
        public var firstMessage: Int
        /// Exchanges below `firstExchange` still held (pending ones, flush races), in id order.
        public var kept: [ExchangeID]
        /// Exchanges, messages and closed connections this call dropped.
        public var exchanges: Int
        public var messages: Int
        public var connections: Int
    }

    /// Bytes of frames held now (what `forgetHistory` frees most of).
    public var heldFrameBytes: Int { frames.heldBytes }
    /// The first exchange id held in the dense part (0 until history is forgotten).
    public var firstHeldExchange: Int { configuration.retainFrames ? exchangeRecords.firstHeld : 0 }

    /// Drops what is kept of the exchanges below `exchange` (rounded down to a piece of 4096), but those
    /// still needed (see the type's notes); what an earlier call kept and nothing needs any more goes too.
    /// A no-op for a streaming tracker, which keeps no history. Costs time in proportion to what it drops:
    /// call it now and then (the live view does when it passes its limit), not per message.
    @discardableResult
    public mutating func forgetHistory(before exchange: Int) -> Forgotten {
        let firstM = log.firstHeld
        let messagesBefore = log.heldIndices.count + keptMessages.count
        guard configuration.retainFrames else {
            return Forgotten(firstExchange: 0, firstMessage: 0, kept: [], exchanges: 0, messages: 0, connections: 0)
        }

        // What must stay: pending exchanges, flushed requests a late reply may still come for, and the
        // flushes of either (their outcome changes with that reply).
        var keep = Set<Int>()
        for slot in conns {
            for id in slot.state.pendingIDs.elements { keep.insert(id) }
            for id in slot.state.flushedTags.valueList { keep.insert(id) }
        }
        // Flushes and their targets, both ways, as far as they link (a Tflush's reply reads its target's
        // record and every other flush of that target).
        var queue = Array(keep)
        while let id = queue.popLast() {
            guard let x = extras[id] else { continue }
            for linked in x.flushedBy + (x.flushTarget.map { [$0] } ?? []) where keep.insert(linked).inserted {
                queue.append(linked)
            }
        }
        let keptBefore = exchangeRecords.heldCount
        let newFirstX = exchangeRecords.forget(below: exchange) { keep.contains($0) }
        for id in Array(extras.keys) where id < newFirstX && !keep.contains(id) { extras[id] = nil }

        // Messages: from the first one of the first exchange held on (rounded down to a piece); of the
        // exchanges kept below that, their request, reply and late reply.
        let cut: Int
        if newFirstX < exchangeRecords.count {
            let r = exchangeRecords[newFirstX]
            cut = [r.requestIndex, r.replyIndex].filter { $0 != ExchangeRecord.noIndex }.min() ?? log.count
        } else {
            cut = log.count
        }
        let newFirstM = max(firstM, ChunkedArray<StoredMessage>.pieceStart(min(cut, log.count)))
        var keptIndices = Set<Int>()
        for id in keep where id < newFirstX {
            let r = exchangeRecords[id]
            for i in [r.requestIndex, r.replyIndex, extras[id]?.lateReplyIndex ?? ExchangeRecord.noIndex]
            where i != ExchangeRecord.noIndex && i < newFirstM {
                keptIndices.insert(i)
            }
        }
        for i in Array(keptMessages.keys) where !keptIndices.contains(i) { keptMessages[i] = nil }
        // Pieces before the first held message's go; a kept message in one of them (just kept, or kept by
        // an earlier call into what was then the newest piece) is copied into the newest first.
        let boundary = newFirstM < log.count ? Int(log[newFirstM].frame.piece) : frames.currentPiece
        for i in keptIndices {
            var m = keptMessages[i] ?? log[i]
            if Int(m.frame.piece) < boundary { m.frame = frames.append(frames[m.frame]) }
            keptMessages[i] = m
        }
        log.release(below: newFirstM)
        frames.release(before: boundary)
        for i in Array(garbageReasons.keys) where i < newFirstM { garbageReasons[i] = nil }

        // Anomalies of forgotten messages go; the counts stay.
        if !anomalies.isEmpty, newFirstM > firstM {
            anomalies = anomalies.filter { a in a.messageIndex.map { $0 >= newFirstM || keptIndices.contains($0) } ?? true }
            anomaliesByMessage = [:]
            for (k, a) in anomalies.enumerated() {
                if let m = a.messageIndex { anomaliesByMessage[m, default: []].append(k) }
            }
        }
        // Closed connections none of whose messages is held any more go, summary, fid records and all (the
        // order of the others stays).
        let before = conns.count
        conns.removeAll { slot in
            let c = slot.state
            return c.closedAt != nil && c.lastMessage < newFirstM && c.pendingIDs.isEmpty && c.flushedTags.isEmpty
        }
        if conns.count < before {
            forgottenConnections += before - conns.count
            connIndex = IntKeyMap()
            for (i, slot) in conns.enumerated() { connIndex[slot.state.id] = i }
            lastConn = (ConnectionID(rawValue: 0), -1)
        }
        // Fid records that ended within the forgotten exchanges (the fid table's history) go; live ones stay.
        for slot in conns.indices where !conns[slot].state.fidRecords.isEmpty {
            let id = conns[slot].state.id
            let box = uniqueConn(id, at: 0)
            forgetFidHistory(&box.state, before: newFirstX)
        }
        return Forgotten(firstExchange: newFirstX, firstMessage: newFirstM,
                         kept: keep.filter { $0 < newFirstX }.sorted().map { ExchangeID($0) },
                         exchanges: max(0, keptBefore - exchangeRecords.heldCount),
                         messages: max(0, messagesBefore - log.heldIndices.count - keptMessages.count),
                         connections: before - conns.count)
    }

    /// Drops the records of fids that ended (clunked, removed, reset) in an exchange below `exchange`, or
    /// that were made and ended before any exchange held; renumbers the live fids' slots.
    private func forgetFidHistory(_ c: inout ConnState, before exchange: Int) {
        var slotOf: [Int: Fid] = [:]
        for (fid, slot) in c.liveFids.entries { slotOf[slot] = fid }
        var kept: [FidRecord] = []
        var moved: [(Fid, Int)] = []
        kept.reserveCapacity(c.fidRecords.count)
        for (slot, r) in c.fidRecords.enumerated() {
            let live = slotOf[slot] != nil
            let old = (r.endedBy?.rawValue ?? r.createdBy?.rawValue ?? Int.max) < exchange
            guard live || !old else { continue }
            if let f = slotOf[slot] { moved.append((f, kept.count)) }
            kept.append(r)
        }
        guard kept.count < c.fidRecords.count else { return }
        c.fidRecords = kept
        for (fid, slot) in moved { c.liveFids[fid] = slot }
    }
}
