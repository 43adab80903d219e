import NinePWire

/// Where a replayed reply's difference comes from when it is not one of its own: the earlier step at which a
/// fid the request names went otherwise in the replay than in the capture.
public struct DivergedFid: Hashable, Sendable {
    /// The step at which it went otherwise (the first, when one divergence led to another).
    public var step: Int
    public var fid: Fid
    /// What went otherwise: `was not made`, `was not opened`, `was made (not in the capture)` …
    public var how: String

    public init(step: Int, fid: Fid, how: String) { self.step = step; self.fid = fid; self.how = how }

    /// `step 10, where fid 3 was not made`.
    public var description: String { "step \(step), where fid \(fid) \(how)" }
}

/// The fids of one replayed connection that the server holds otherwise than the capture's server did. A step
/// that succeeded in the capture and failed in the replay (or the other way round) made, opened or walked a
/// fid in one of them only: a Twalk to a name this server lacks leaves its newfid unmade, and every later
/// request on that fid fails too. Those later differences follow from the first; the report names it rather
/// than showing each as a difference of its own. Pure: fed each step's captured and replayed reply in order.
struct FidDivergence: Sendable {
    private var fids: [Fid: DivergedFid] = [:]

    /// Fids the capture shows in use before any request of it made them (it began mid-session), each with the
    /// step that first used it: the replay could not make them, so what differs on them follows from that.
    init(madeBeforeCapture: [Fid: Int] = [:]) {
        for (fid, step) in madeBeforeCapture {
            fids[fid] = DivergedFid(step: step, fid: fid, how: "was made before the capture began")
        }
    }

    /// Whether any fid is held otherwise.
    var isEmpty: Bool { fids.isEmpty }

    /// The earliest divergence among the fids `request` names (its `fidsUsed`).
    func origin(of request: Message) -> DivergedFid? {
        var best: DivergedFid?
        for fid in request.fidsUsed {
            if let d = fids[fid], d.step < (best?.step ?? Int.max) { best = d }
        }
        return best
    }

    /// Takes in step `step`'s outcome and returns what the step itself follows from (nil when the fids it
    /// names were held alike), as `origin(of:)` said before the step.
    @discardableResult
    mutating func note(step: Int, request: Message, captured: Fcall?, replayed: Fcall?) -> DivergedFid? {
        let origin = origin(of: request)
        defer { for fid in request.fidsReleased { fids[fid] = nil } }   // gone on both servers
        guard let captured, let replayed else { return origin }
        let changed = Self.fidsChanged(by: request)
        guard !changed.isEmpty else { return origin }
        let madeThere = Self.succeeded(request, captured.message), madeHere = Self.succeeded(request, replayed.message)
        for (fid, verb) in changed {
            if madeThere != madeHere {
                fids[fid] = origin ?? DivergedFid(step: step, fid: fid,
                                                  how: madeThere ? "was not \(verb)" : "was \(verb) (not in the capture)")
            } else if let origin {
                fids[fid] = origin     // made alike, but from a fid held otherwise
            } else if madeHere {
                fids[fid] = nil        // made anew on both: alike from here on
            }
        }
        return origin
    }

    /// The fids a request makes or changes when it succeeds, with the verb that says so.
    static func fidsChanged(by request: Message) -> [(Fid, String)] {
        switch request {
        case .twalk(let m): return [(m.newfid, m.newfid == m.fid ? "walked" : "made")]
        case .tattach(let m): return [(m.fid, "made")]
        case .tauth(let m): return [(m.afid, "made")]
        case .txattrwalk(let m): return [(m.newfid, "made")]
        case .topen(let m): return [(m.fid, "opened")]
        case .tcreate(let m): return [(m.fid, "opened")]
        case .tlopen(let m): return [(m.fid, "opened")]
        case .tlcreate(let m): return [(m.fid, "opened")]
        case .txattrcreate(let m): return [(m.fid, "opened")]
        default: return []
        }
    }

    /// Whether `reply` is a success for the fid `request` makes: not an error, and a Twalk's every name
    /// walked (one that stops short makes no newfid).
    static func succeeded(_ request: Message, _ reply: Message) -> Bool {
        if reply.type?.isError != false { return false }
        if case .twalk(let t) = request {
            guard case .rwalk(let r) = reply else { return false }
            return r.wqids.count == t.wnames.count
        }
        return true
    }
}
