import NinePWire

extension SessionTracker {
    /// A T-message: opens an exchange, checks tags and fids, and remembers what a success will do.
    /// Returns the exchange and the path node to log with the message. `cut`: what a frame the capture cut
    /// did as far as captured (`fcall` is its `fcall`).
    mutating func request(_ c: inout ConnState, _ out: inout TrackerOutput, _ h: FrameHeader, _ fcall: Fcall?,
                          index: Int, at: Int64, marks: FrameMarks,
                          cut: TruncatedFrame.Bookkeeping? = nil) -> (Int?, Int32) {
        let tag = h.tag
        let id = exchangeRecords.count
        let injected = marks.contains(.injected)
        if h.type == MessageType.tversion.rawValue {
            version(&c, &out, tag: tag, fcall: fcall, id: id, index: index, at: at)
        }
        if let old = c.pendingByTag[tag] {
            let oldName = TracedMessage.typeName(exchangeRecords[old].requestCode)
            report(&c, &out, .tagReusedWhilePending, messageIndex: index, exchange: id, tag: tag, fid: nil, at: at,
                   "tag \(tag) reused by \(TracedMessage.typeName(h.type)) while \(oldName) (x\(old)) is pending")
        }
        if let r = configuration.reservedTags, !injected, tag != .notag, r.contains(tag.rawValue) {
            report(&c, &out, .clientUsedReservedTag, messageIndex: index, exchange: id, tag: tag, fid: nil, at: at,
                   "client used tag \(tag), reserved for injection")
        }
        exchangeRecords.append(ExchangeRecord(
            requestIndex: index, replyIndex: ExchangeRecord.noIndex, start: at, end: ExchangeRecord.noTime,
            conn: c.id, tag: tag, requestCode: h.type, replyCode: 0, status: .pending, isInjected: injected,
            isMalformed: fcall.isMissing && !marks.contains(.truncated), hasExtras: false))
        c.exchangeCount += 1
        c.pendingByTag[tag] = id
        c.pendingIDs.insert(id)
        if !c.flushedTags.isEmpty { c.flushedTags[tag] = nil }
        if c.midStreamActive { c.seenTags.insert(tag) }

        var pathNode = PathStore.none
        if let f = fcall {
            if case .tflush(let t) = f.message {
                c.flushCount += 1
                var x = ExchangeExtras()
                if let target = c.pendingByTag[t.oldtag], target != id {
                    x.flushTarget = target
                    x.flushOutcome = .awaitingRflush
                    modifyExtras(target) { $0.flushedBy.append(id) }
                    note(&out, exchange: target)
                } else {
                    x.flushOutcome = .noPendingTarget
                }
                extras[id] = x
                exchangeRecords[id].hasExtras = true
                if !configuration.retainFrames {
                    c.flushRecords.append(id)
                    if let target = x.flushTarget { c.flushRecords.append(target) }
                }
            }
            pathNode = checkFids(&c, &out, f.message, id: id, index: index, at: at, injected: injected)
            // A whole read's or write's count, which its reply's may not exceed (a cut frame's is not known).
            let count = cut == nil && !marks.contains(.truncated) ? f.message.ioCount?.count : nil
            if let effect = cut.map(\.fidEffect) ?? f.message.fidEffect {
                c.pendingInfo[id] = PendingInfo(effect: effect, primaryFid: f.message.fidRefs.primary,
                                                pathNode: pathNode, count: count)
            } else if let p = f.message.fidRefs.primary {
                c.pendingInfo[id] = PendingInfo(effect: nil, primaryFid: p, pathNode: pathNode, count: count)
            }
        }
        note(&out, exchange: id)
        return (id, pathNode)
    }

    /// Tversion: checks the tag, records the proposal, aborts pending requests and frees every fid.
    mutating func version(_ c: inout ConnState, _ out: inout TrackerOutput, tag: Tag, fcall: Fcall?, id: Int,
                          index: Int, at: Int64) {
        if tag != .notag {
            report(&c, &out, .versionTagNotNotag, messageIndex: index, exchange: id, tag: tag, fid: nil, at: at,
                   "Tversion with tag \(tag) instead of NOTAG")
        }
        for x in c.pendingIDs.sorted() {
            exchangeRecords[x].status = .abortedByVersion
            exchangeRecords[x].end = at
            note(&out, exchange: x)
            retireIfSettled(x)
        }
        c.pendingIDs.removeAll()
        c.pendingByTag.removeAll()
        c.pendingInfo.removeAll()
        c.flushedTags.removeAll()
        for (_, r) in c.liveFids.sortedEntries {
            c.fidRecords[r].state = .resetByVersion
            c.fidRecords[r].endedBy = ExchangeID(id)
            note(&out, fid: c.fidRecords[r], conn: c.id)
        }
        c.liveFids.removeAll()
        if !configuration.retainFrames {
            c.fidRecords = []
            c.freeFidSlots = []
        }
        c.midStreamActive = false
        c.seenTags.removeAll()
        guard case .tversion(let v)? = fcall?.message else { return }
        c.proposedVersion = v.version.string
        c.proposedMsize = v.msize
        if c.dialectSource != .forced, let d = Dialect(version: v.version.string) {
            c.dialect = d
            c.dialectSource = .proposed
            c.ruledOut.removeAll()
        }
    }

    /// A read, readdir or write needs its fid open, and open that way (an xattr, auth or adopted fid is not
    /// judged: those are read and written without an open, or their open is not known).
    mutating func checkOpen(_ c: inout ConnState, _ out: inout TrackerOutput, _ m: Message, fid: Fid, record r: Int,
                            id: Int, index: Int, at: Int64) {
        // Fields read in place, not the record copied: this runs for every read and write.
        let state = c.fidRecords[r].state
        var why: String
        switch state {
        case .attached, .walked:
            why = "which is not open (\(state), "
        case .open:
            guard let mode = c.fidRecords[r].openMode else { return }
            let writing = m.typeCode == MessageType.twrite.rawValue
            guard writing ? !mode.allowsWriting : !mode.allowsReading else { return }
            why = "which is open \(mode) ("
        default:
            return
        }
        why += (paths.path(c.fidRecords[r].pathNode)?.description ?? "?") + ")"   // (made only when said)
        report(&c, &out, .fidNotOpen, messageIndex: index, exchange: id, tag: nil, fid: fid, at: at,
               "\(m.name) on fid \(fid), " + why)
    }

    /// Checks every fid the request names; touches the ones in use, adopts unknown ones in a mid-stream
    /// trace. Returns the path node of the primary fid (for Tattach: the attach root).
    mutating func checkFids(_ c: inout ConnState, _ out: inout TrackerOutput, _ m: Message, id: Int, index: Int,
                            at: Int64, injected: Bool) -> Int32 {
        let refs = m.fidRefs
        for fid in refs.uses {
            if let r = c.liveFids[fid] {
                c.fidRecords[r].useCount += 1
                c.fidRecords[r].lastUsedIndex = index
                if let release = releasingExchange(&c, fid) {
                    report(&c, &out, .useAfterClunk, messageIndex: index, exchange: id, tag: nil, fid: fid, at: at,
                           "\(m.name) uses fid \(fid) while its \(release) is unanswered: the fid is freed whatever "
                           + "the reply, and the server may carry out this request after it")
                }
            } else if c.midStreamActive {
                let r = storeFid(&c, FidRecord(
                    fid: fid, generation: 0, pathNode: paths.root(.unknown), qid: nil, state: .adopted, openMode: nil,
                    iounit: nil, xattr: nil, uname: nil, nUname: nil, createdBy: nil, endedBy: nil,
                    lastUsedIndex: index, createdIndex: nil, useCount: 1))
                note(&out, fid: c.fidRecords[r], conn: c.id)
            } else {
                report(&c, &out, .unknownFid, messageIndex: index, exchange: id, tag: nil, fid: fid, at: at,
                       "\(m.name) uses fid \(fid), which is not in use")
            }
        }
        if let new = refs.creates {
            if let r = c.liveFids[new] {
                let path = paths.path(c.fidRecords[r].pathNode)?.description ?? "?"
                let release = releasingExchange(&c, new).map { ", and its \($0) is unanswered" } ?? ""
                report(&c, &out, .newfidInUse, messageIndex: index, exchange: id, tag: nil, fid: new, at: at,
                       "\(m.name) brings fid \(new) into use, but it is already in use (\(path))\(release)")
            }
            if let range = configuration.reservedFids, !injected, new != .nofid, range.contains(new.rawValue) {
                report(&c, &out, .clientUsedReservedFid, messageIndex: index, exchange: id, tag: nil, fid: new, at: at,
                       "client used fid \(new), reserved for injection")
            }
        }
        // The fid is gone once this is answered, whatever the answer.
        // (A second one while the first is pending keeps the first.)
        if m.typeCode == MessageType.tclunk.rawValue || m.typeCode == MessageType.tremove.rawValue, let fid = refs.primary,
           pendingRelease(&c, fid) == nil {
            c.releasing[fid] = id
        }
        switch m {
        case .twalk(let w) where w.wnames.count > NineP.maxWalkElements:
            report(&c, &out, .walkTooLong, messageIndex: index, exchange: id, tag: nil, fid: w.fid, at: at,
                   "Twalk with \(w.wnames.count) names (at most \(NineP.maxWalkElements))")
        default: break
        }
        if let (fid, count) = m.ioCount {
            if let r = c.liveFids[fid] {
                checkOpen(&c, &out, m, fid: fid, record: r, id: id, index: index, at: at)
                if let iounit = c.fidRecords[r].iounit, iounit > 0, count > iounit {
                    report(&c, &out, .countExceedsIounit, messageIndex: index, exchange: id, tag: nil, fid: fid, at: at,
                           "\(m.name) count \(count) exceeds fid \(fid)'s iounit \(iounit)")
                }
            }
            if let msize = c.msize, msize >= UInt32(NineP.ioHeaderSize), count > msize - UInt32(NineP.ioHeaderSize) {
                report(&c, &out, .countExceedsMsize, messageIndex: index, exchange: id, tag: nil, fid: fid, at: at,
                       "\(m.name) count \(count) exceeds msize − \(NineP.ioHeaderSize) = \(msize - UInt32(NineP.ioHeaderSize))")
            }
        }
        switch m {
        case .tattach(let a): return paths.root(.attach(aname: a.aname, user: AttachUser(uname: a.uname, nUname: a.nUname)))
        case .tauth: return paths.root(.auth)
        default:
            guard let p = refs.primary else { return PathStore.none }
            if let r = c.liveFids[p] { return c.fidRecords[r].pathNode }
            return paths.root(.unknown)
        }
    }

    /// The exchange of the client's Tclunk or Tremove of `fid` while it is unanswered; nil otherwise (a stale
    /// entry is dropped).
    mutating func pendingRelease(_ c: inout ConnState, _ fid: Fid) -> Int? {
        guard !c.releasing.isEmpty, let x = c.releasing[fid] else { return nil }
        guard c.pendingIDs.contains(x) else {
            _ = c.releasing.removeValue(forKey: fid)
            return nil
        }
        return x
    }

    /// `Tclunk (#120, tag 3)`: the client's unanswered Tclunk or Tremove of `fid` (`pendingRelease`), as
    /// anomalies name it.
    mutating func releasingExchange(_ c: inout ConnState, _ fid: Fid) -> String? {
        guard let x = pendingRelease(&c, fid) else { return nil }
        let r = exchangeRecords[x]
        return "\(TracedMessage.typeName(r.requestCode)) (#\(r.requestIndex), tag \(r.tag))"
    }

    mutating func modifyExtras(_ id: Int, _ body: (inout ExchangeExtras) -> Void) {
        var x = extras[id] ?? ExchangeExtras()
        body(&x)
        extras[id] = x
        exchangeRecords[id].hasExtras = true
    }
}
