import NIOCore
import Synchronization
import NinePWire

/// A proxy's `LoopChain`, shared by its relay pairs (which run on several event loops). Each pair calls it
/// a handful of times in its life (accepted, dialled, the upstream's first bytes, the first Tversion,
/// closed), never per message.
final class LoopWatch: Sendable {
    private let chain: Mutex<LoopChain>
    /// `LoopChain.hold`.
    let hold: Int64
    /// This machine's addresses, read at start.
    private let local: Set<UpstreamLoop.IP>

    init(_ chain: LoopChain) {
        self.chain = Mutex(chain)
        hold = chain.hold
        local = UpstreamLoop.localAddresses()
    }

    /// The host of an address, for `LoopChain` (nil for a unix socket or an address not known).
    func host(_ address: Address?) -> LoopChain.Host? {
        guard case .tcp(let text, _)? = address, let ip = UpstreamLoop.IP(text) else { return nil }
        return ip.isLoopback || local.contains(ip) ? .thisMachine : .other(ip.bytes)
    }

    func accepted(_ conn: NinePWire.ConnectionID, at t: Int64, from client: Address?) -> LoopChain.Admission {
        let h = host(client)
        return chain.withLock { $0.accepted(conn, at: t, from: h) }
    }
    func clientSpoke(_ conn: NinePWire.ConnectionID) { chain.withLock { $0.clientSpoke(conn) } }
    func dialed(_ conn: NinePWire.ConnectionID, at t: Int64) { chain.withLock { $0.dialed(conn, at: t) } }
    func connected(_ conn: NinePWire.ConnectionID, to upstream: Address?) {
        let h = host(upstream)
        chain.withLock { $0.connected(conn, to: h) }
    }
    func upstreamSpoke(_ conn: NinePWire.ConnectionID) { chain.withLock { $0.upstreamSpoke(conn) } }
    func closed(_ conn: NinePWire.ConnectionID, at t: Int64) { chain.withLock { $0.closed(conn, at: t) } }
    func version(_ conn: NinePWire.ConnectionID, frame: [UInt8], at t: Int64) -> LoopChain.Found? {
        chain.withLock { $0.version(conn, frame: frame, at: t) }
    }
}

/// What a relay pair tells its proxy of a loop.
enum LoopEvent {
    /// Found by its Tversion: the chain's other connections are to be closed.
    case found(LoopChain.Found)
    /// Suspected by a silent chain (`LoopChain.Admission.holdSuspecting`), and the held client after it
    /// hung up or stayed silent too (`how`): only said.
    case suspected(chain: [NinePWire.ConnectionID], span: Int64, how: String)
}

extension RelayPair {
    /// The client's first Tversion: ends the connection when it came back in through the upstream
    /// (`LoopChain`); the other connections of the chain are closed by the proxy.
    func checkLoop(_ frame: [UInt8], at t: Int64) {
        guard let found = loopWatch?.version(conn, frame: frame, at: t) else { return }
        onLoop?(.found(found))
        closeForLoop(found)
    }

    /// This client completed a silent chain (`LoopChain`): its dial is held. A loop's next client never
    /// speaks (it hangs up when the chain behind it does, or waits as the first client does); a real client
    /// that had not spoken yet (one of many opened at once) speaks now. So the loop is said only when this
    /// client hangs up without a word, or is still silent when the hold is over.
    func suspectLoop(chain: [NinePWire.ConnectionID], span: Int64) {
        suspicion = (chain, span)
        let wait = TimeAmount.nanoseconds(loopWatch?.hold ?? 1_000_000_000)
        suspicionTimer = eventLoop.assumeIsolated().scheduleTask(in: wait) {
            self.suspicionTimer = nil
            if !self.clientSpoke && !self.finished {
                self.loopConfirmed("the next client has said nothing for \(wait.nanoseconds / 1_000_000) ms either")
            }
        }
    }

    /// The suspected loop's next client stayed silent (`how`): say the loop, once.
    func loopConfirmed(_ how: String) {
        suspicionTimer?.cancel()
        suspicionTimer = nil
        guard let s = suspicion else { return }
        suspicion = nil
        onLoop?(.suspected(chain: s.chain, span: s.span, how: how))
    }

    /// Closes both sides at once, nothing more passed on: the connection is part of a loop.
    func closeForLoop(_ found: LoopChain.Found) {
        relayStopped = true
        dialHeld = false
        if failure == nil { failure = .loop(found.description) }
        closeBoth()
    }
}
