import Synchronization
import NinePWire

/// A proxy's `LoopChain`, shared by its relay pairs (which run on several event loops). Each pair calls it
/// a handful of times in its life (accepted, dialled, the upstream's first bytes, the first Tversion,
/// closed), never per message.
final class LoopWatch: Sendable {
    private let chain: Mutex<LoopChain>

    init(_ chain: LoopChain) { self.chain = Mutex(chain) }

    func accepted(_ conn: NinePWire.ConnectionID, at t: Int64) -> Bool { chain.withLock { $0.accepted(conn, at: t) } }
    func dialed(_ conn: NinePWire.ConnectionID, at t: Int64) { chain.withLock { $0.dialed(conn, at: t) } }
    func upstreamSpoke(_ conn: NinePWire.ConnectionID) { chain.withLock { $0.upstreamSpoke(conn) } }
    func closed(_ conn: NinePWire.ConnectionID, at t: Int64) { chain.withLock { $0.closed(conn, at: t) } }
    func version(_ conn: NinePWire.ConnectionID, frame: [UInt8], at t: Int64) -> LoopChain.Found? {
        chain.withLock { $0.version(conn, frame: frame, at: t) }
    }
    var remembered: Int { chain.withLock { $0.remembered } }
}

extension RelayPair {
    /// The client's first Tversion: ends the connection when it came back in through the upstream
    /// (`LoopChain`); the other connections of the chain are closed by the proxy.
    func checkLoop(_ frame: [UInt8], at t: Int64) {
        guard let found = loopWatch?.version(conn, frame: frame, at: t) else { return }
        onLoop?(found)
        closeForLoop(found)
    }

    /// Closes both sides at once, nothing more passed on: the connection is part of a loop.
    func closeForLoop(_ found: LoopChain.Found) {
        relayStopped = true
        dialHeld = false
        if failure == nil { failure = .loop(found.description) }
        closeBoth()
    }
}
