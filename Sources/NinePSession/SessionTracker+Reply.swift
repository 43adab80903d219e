import NinePWire

extension SessionTracker {
    /// The smallest msize the Linux client offers or accepts: an error answering a Tversion that offers
    /// less is a server refusing an msize too small to work with, not a version (no `version-error`).
    static let smallestUsualMsize: UInt32 = 4096

    /// An R-message: completes the exchange pending on its tag, follows flushes, applies fid effects.
    /// `cut`: a frame the capture cut (not malformed, whatever `fcall` is); `walked`: a cut Rwalk's `nwqid`
    /// (its `fcall` holds only the qids captured, see `TruncatedFrame.bookkeeping`).
    mutating func reply(_ c: inout ConnState, _ out: inout TrackerOutput, _ h: FrameHeader, _ fcall: Fcall?,
                        index: Int, at: Int64, cut: Bool = false, walked: Int? = nil) -> (Int?, Int32) {
        let tag = h.tag
        let isError = h.type == MessageType.rerror.rawValue || h.type == MessageType.rlerror.rawValue
        if isError { c.errorCount += 1 }
        guard let id = c.pendingByTag[tag] else {
            return unmatchedReply(&c, &out, h, fcall, index: index, at: at, cut: cut)
        }
        c.pendingByTag[tag] = nil
        c.pendingIDs.remove(id)
        let info = c.pendingInfo.removeValue(forKey: id)
        let requestCode = exchangeRecords[id].requestCode
        exchangeRecords[id].replyIndex = index
        exchangeRecords[id].replyCode = h.type
        exchangeRecords[id].end = at
        let mismatch = !isError && h.type != requestCode &+ 1
        if mismatch {
            report(&c, &out, .replyTypeMismatch, messageIndex: index, exchange: id, tag: tag, fid: nil, at: at,
                   "\(TracedMessage.typeName(h.type)) answers \(TracedMessage.typeName(requestCode)) (x\(id))")
        }
        // An msize too small to work with is a refusal version(5) gives no reply for, and servers answer it
        // with an error (ninescope's own below 256 bytes, as Plan 9's file servers do; diod below its
        // minimum): only a Tversion offering at least the Linux client's smallest msize, 4096, should be
        // refused with Rversion 'unknown' rather than an error.
        if isError && requestCode == MessageType.tversion.rawValue
            && (c.proposedMsize ?? .max) >= SessionTracker.smallestUsualMsize {
            report(&c, &out, .versionAnsweredWithError, messageIndex: index, exchange: id, tag: tag, fid: nil, at: at,
                   "\(TracedMessage.typeName(h.type)) answers Tversion (x\(id)): a server refuses a version with "
                   + "Rversion 'unknown', not an error")
        }
        if isError {
            let err = SessionTracker.error(of: fcall)
            modifyExtras(id) { $0.error = err }
            // An Rlerror, or an Rerror of errno[4] alone (9P2000.L's layout): nothing but the number.
            if err.errno?.rawValue == 0, err.ename == nil {
                report(&c, &out, .errnoZero, messageIndex: index, exchange: id, tag: tag, fid: info?.primaryFid, at: at,
                       "\(TracedMessage.typeName(h.type)) with errno 0 answers \(TracedMessage.typeName(requestCode)) "
                       + "(x\(id)): an error that names none, which the Linux client takes for success (it reads the "
                       + "reply as an \(TracedMessage.typeName(requestCode &+ 1)))")
            }
        }
        let flushers = exchangeRecords[id].hasExtras ? extras[id]?.flushedBy ?? [] : []
        if flushers.isEmpty {
            exchangeRecords[id].status = isError ? .error : .ok
        } else {
            exchangeRecords[id].status = .answeredAfterFlush
            for f in flushers where extras[f]?.flushOutcome == .awaitingRflush {
                modifyExtras(f) { $0.flushOutcome = .targetAnsweredFirst }
                note(&out, exchange: f)
            }
        }
        if requestCode == MessageType.tflush.rawValue && h.type == MessageType.rflush.rawValue {
            rflush(&c, &out, flush: id, at: at)
        }
        if !isError, !mismatch, !cut, let asked = info?.count, let got = fcall?.message.replyCount, got > asked {
            report(&c, &out, .replyOverCount, messageIndex: index, exchange: id, tag: tag, fid: info?.primaryFid, at: at,
                   "\(TracedMessage.typeName(h.type)) count \(got) is more than the \(TracedMessage.typeName(requestCode)) "
                   + "asked for (\(asked))")
        }
        if requestCode == MessageType.tversion.rawValue, case .rversion(let v)? = fcall?.message {
            if let proposed = c.proposedMsize, v.msize > proposed {
                report(&c, &out, .msizeRaised, messageIndex: index, exchange: id, tag: tag, fid: nil, at: at,
                       "Rversion msize \(v.msize) is more than the Tversion's \(proposed) (version(5): the server's "
                       + "msize must be less than or equal to the client's)")
            }
            c.negotiatedVersion = v.version.string
            c.msize = v.msize
            if c.dialectSource != .forced {
                if let d = Dialect(version: v.version.string) {
                    c.dialect = d
                    c.dialectSource = .negotiated
                } else {
                    c.dialectSource = .rejected
                }
            }
        }
        var pathNode = info?.pathNode ?? PathStore.none
        if let info, let effect = info.effect {
            let success = !isError && !mismatch && !fcall.isMissing
            pathNode = apply(&c, &out, effect, success: success, reply: fcall?.message, walked: walked, id: id,
                             info: info, index: index, at: at)
        }
        note(&out, exchange: id)
        return (id, pathNode)
    }

    /// A reply with no pending request on its tag: a late reply to a flushed request, a reply to a request
    /// sent before the trace began (mid-stream), or an anomaly.
    mutating func unmatchedReply(_ c: inout ConnState, _ out: inout TrackerOutput, _ h: FrameHeader, _ fcall: Fcall?,
                                 index: Int, at: Int64, cut: Bool = false) -> (Int?, Int32) {
        let tag = h.tag
        let name = TracedMessage.typeName(h.type)
        if let flushed = c.flushedTags[tag], extras[flushed]?.lateReplyIndex == nil {
            c.flushedTags[tag] = nil
            modifyExtras(flushed) { $0.lateReplyIndex = index }
            for f in extras[flushed]?.flushedBy ?? [] where extras[f]?.flushOutcome == .targetFlushed {
                modifyExtras(f) { $0.flushOutcome = .targetAnsweredAfterRflush }
                note(&out, exchange: f)
            }
            report(&c, &out, .replyAfterRflush, messageIndex: index, exchange: flushed, tag: tag, fid: nil, at: at,
                   "\(name) tag \(tag) came after the Rflush that cancelled x\(flushed)")
            note(&out, exchange: flushed)
            return (flushed, PathStore.none)
        }
        let id = exchangeRecords.count
        exchangeRecords.append(ExchangeRecord(
            requestIndex: ExchangeRecord.noIndex, replyIndex: index, start: ExchangeRecord.noTime, end: at,
            conn: c.id, tag: tag, requestCode: 0, replyCode: h.type, status: .unmatchedReply, isInjected: false,
            isMalformed: fcall.isMissing && !cut, hasExtras: false))
        c.exchangeCount += 1
        if h.type == MessageType.rerror.rawValue || h.type == MessageType.rlerror.rawValue {
            let err = SessionTracker.error(of: fcall)
            modifyExtras(id) { $0.error = err }
        }
        if !(c.midStreamActive && !c.seenTags.contains(tag)) {
            report(&c, &out, .replyToUnknownTag, messageIndex: index, exchange: id, tag: tag, fid: nil, at: at,
                   "\(name) tag \(tag) answers no pending request")
        }
        note(&out, exchange: id)
        return (id, PathStore.none)
    }

    /// Rflush for exchange `flush`: its target, if still pending, is flushed (its tag freed); earlier
    /// Tflushes for the same target that are still waiting are answered by this one (flush(5)).
    mutating func rflush(_ c: inout ConnState, _ out: inout TrackerOutput, flush: Int, at: Int64) {
        guard let target = extras[flush]?.flushTarget else { return }
        if exchangeRecords[target].status == .pending {
            exchangeRecords[target].status = .flushed
            exchangeRecords[target].end = at
            c.pendingIDs.remove(target)
            c.pendingInfo[target] = nil
            let tag = exchangeRecords[target].tag
            if c.pendingByTag[tag] == target {
                c.pendingByTag[tag] = nil
                c.flushedTags[tag] = target
            }
            modifyExtras(flush) { $0.flushOutcome = .targetFlushed }
            note(&out, exchange: target)
        }
        for f in extras[target]?.flushedBy ?? [] where f < flush && exchangeRecords[f].status == .pending {
            exchangeRecords[f].status = .superseded
            exchangeRecords[f].end = at
            c.pendingIDs.remove(f)
            c.pendingInfo[f] = nil
            let tag = exchangeRecords[f].tag
            if c.pendingByTag[tag] == f { c.pendingByTag[tag] = nil }
            modifyExtras(f) { $0.flushOutcome = .superseded }
            note(&out, exchange: f)
        }
    }

    static func error(of fcall: Fcall?) -> ExchangeError {
        switch fcall?.message {
        case .rlerror(let e)?: return ExchangeError(errno: e.ecode, ename: nil)
        case .rerror(let e)?: return ExchangeError(errno: e.errno.map { Errno($0) }, ename: e.ename?.escaped)
        default: return ExchangeError(errno: nil, ename: nil)
        }
    }
}
