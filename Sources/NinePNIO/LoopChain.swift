import NinePWire

/// Tells, while the proxy runs, that its upstream leads back to it through another process: a socat or an
/// ssh tunnel forwarding to the proxy's own port, or a second proxy whose upstream is this one.
/// (`UpstreamLoop` refuses at start an upstream that is the proxy's own listener; a loop through another
/// process cannot be seen from the addresses.) Each client's connection dials the upstream, which
/// connects back in as a new client, whose connection dials again, and so on: a connection every
/// millisecond or two until descriptors run out, and the first client never answered.
///
/// What gives it away is the client's Tversion coming back in. A *link*: the first Tversion of a client
/// is, byte for byte, the one an earlier connection sent upstream at most `window` before; that
/// connection dialled its upstream before this client was accepted and was still open then; its
/// upstream has sent nothing back (a server answers a Tversion at once); and this client comes from the
/// host that upstream is on (a forwarder connects back from where it runs; this machine's addresses count
/// as one host, and a unix socket as any), which many like clients of a distant, slow server, arriving at
/// once, do not. `hops` links in a row, each connection the next one's only parent, make a loop likely but
/// not certain: a burst of like clients of a local server busy with them all (`diodload -n 128`) makes
/// such chains too. So the chain is tested: the proxy dials the upstream itself and sends a Tversion no
/// client sends (`probeFrame`, its version naming ninescope and a number of this run). A server answers
/// it (or hangs up) and nothing more happens; in a loop it comes back in, as a new client's first
/// message, and that is certain. Then the proxy closes the chain's connections and the probe's, and while
/// `hold` lasts closes at once any connection that makes a chain as long. From the probe on, for `hold`,
/// the proxy dials a new client's upstream only once its first bytes have come: the probe's way back in is
/// then held until its Tversion shows what it is, and the loop's connection already on its way in
/// (accepted when the last one dialled) may never get a Tversion and would otherwise dial on, and on,
/// without a byte to tell it by; held, it waits, and ends when the chain's closing reaches it. A client
/// that talks is dialled at once, and its Tversion counts as any other.
///
/// A loop whose clients say nothing (a port check that connects and hangs up, `nc -z`; a client that
/// connects and waits) carries no Tversion to tell it by, and without one it never ends: each connection
/// closed behind the one dialling ahead, a storm of hundreds a second for as long as the proxy runs.
/// Its mark is weaker: a *silent link* is a client accepted within `silentWindow` after another connection
/// started dialling (and has no other such child), that connection's client and upstream having sent
/// nothing, from that upstream's host. `silentHops` of them in a row, none of the chain's clients having
/// said a word since, are tested the same way (a pool of clients opened before any of them speaks looks
/// the same): the dials are held from there, which stops a storm at its next connection and costs a real
/// client only its upstream's connect time, and the probe's coming back makes the loop certain.
///
/// Pure: the proxy passes every time in (nanoseconds since the epoch).
public struct LoopChain: Sendable {
    /// What a newly accepted client's connection is to do.
    public enum Admission: Equatable, Sendable {
        /// Dial the upstream now.
        case dial
        /// Dial once the client has sent something (a loop was found or suspected less than `hold` ago).
        case hold
        /// The same, and this client completes a silent chain of `silentHops`: send `probe` upstream, as
        /// for `Verdict.probe`.
        case holdProbing(probe: [UInt8])
    }

    /// What a client's first Tversion calls for.
    public enum Verdict: Equatable, Sendable {
        /// A chain of `hops` links: send `frame` upstream on a connection of the proxy's own (and tell
        /// `probeEnded` when that connection gets an answer, or ends, or cannot be made).
        case probe(frame: [UInt8])
        /// A loop: close its connections (`Found.closing`).
        case loop(Found)
    }

    /// A loop: the chain of `hops` links or more, and how it was known.
    public struct Found: Equatable, Sendable {
        /// The connections the Tversion went through, the first client's first (as far back as still
        /// remembered: connections that ended `window` ago are forgotten).
        public var chain: [NinePWire.ConnectionID]
        /// Links from the first client to the last.
        public var links: Int
        /// From the first client's Tversion to the last one's.
        public var span: Int64
        /// The connection the proxy's probe came back in on, when this is the find it made certain (nil
        /// for a connection of a loop known before: one still coming in).
        public var probe: NinePWire.ConnectionID?
        /// Found by a silent chain (`chain` then is its clients, none of which said a word).
        public var silent = false

        /// True when the probe made the loop certain just now.
        public var isNew: Bool { probe != nil }
        /// Every connection to close.
        public var closing: [NinePWire.ConnectionID] { chain + (probe.map { [$0] } ?? []) }

        /// `c0 → c1 → … → c16: the Tversion came back in through the upstream 16 times in 21.2 ms, and
        /// ninescope's own Tversion came back in as c18's`.
        public var description: String {
            (silent ? LoopChain.silentDescription(chain, span: span)
                : "\(LoopChain.path(chain)): the Tversion came back in through the upstream \(links) "
                + "time\(links == 1 ? "" : "s") in \(LoopChain.milliseconds(span))")
                + (probe.map { ", and ninescope's own Tversion came back in as c\($0.rawValue)'s" } ?? "")
        }
    }

    /// A machine, as far as telling a loop goes: an IP address's bytes, or this machine (any of its own
    /// addresses, loopback included).
    public enum Host: Hashable, Sendable {
        case thisMachine
        case other([UInt8])
    }

    /// Whether a client from `client` may have been sent by a forwarder at `upstream` (either unknown: yes).
    static func sameHost(_ upstream: Host?, _ client: Host?) -> Bool {
        guard let upstream, let client else { return true }
        return upstream == client
    }

    /// Links in a row that make a loop.
    public let hops: Int
    /// Longest time from a connection's Tversion to the next one's that still makes a link.
    public let window: Int64
    /// How long after a loop was found (or suspected) new clients are dialled only once they have sent
    /// something.
    public let hold: Int64
    /// Silent links in a row that make a loop suspected.
    public let silentHops: Int
    /// Longest time from a connection's dial to the next client's accept that still makes a silent link.
    public let silentWindow: Int64

    struct Entry {
        var accepted: Int64
        /// Where the client came from / where the upstream is (`Host`; nil: a unix socket, or not known).
        var clientHost: Host?
        var upstreamHost: Host?
        var dialed: Int64?
        var version: [UInt8]?
        var versionAt: Int64 = 0
        /// The upstream has sent something: no loop goes through this connection.
        var spoke = false
        var hasChild = false
        var parent: NinePWire.ConnectionID?
        var depth = 0
        var closedAt: Int64?
        /// The client has sent something.
        var clientSpoke = false
        var silentParent: NinePWire.ConnectionID?
        var hasSilentChild = false
        /// In a chain whose probe was answered: no loop, and not probed again.
        var cleared = false
        /// When it was last of use as a parent (its Tversion, else its dial).
        var lastUse: Int64 { version != nil ? versionAt : (dialed ?? accepted) }
    }
    private var entries: [NinePWire.ConnectionID: Entry] = [:]
    private var holdUntil: Int64 = .min
    /// Until when a chain of `hops` is closed at once (a loop was made certain less than `hold` ago).
    private var certainUntil: Int64 = .min
    /// Probes sent and not yet answered, ended or come back: the chain each tests.
    private var probes: [[UInt8]: Probe] = [:]
    struct Probe {
        var chain: [NinePWire.ConnectionID], links: Int, rootAt: Int64, sentAt: Int64, silent: Bool
    }
    private var probesSent: UInt64 = 0
    /// Of this run, in the probes' version strings (the proxy picks one at random when it is 0).
    public var nonce: UInt64
    /// How long a probe may go without an answer before its chain is taken for no loop.
    public let probeTimeout: Int64
    /// Entries of ended connections (kept while they may still be a link's parent).
    private var endedKept = 0

    public init(hops: Int = 16, window: Int64 = 250_000_000, hold: Int64 = 1_000_000_000,
                silentHops: Int = 64, silentWindow: Int64 = 10_000_000, nonce: UInt64 = 0,
                probeTimeout: Int64 = 2_000_000_000) {
        self.nonce = nonce
        self.probeTimeout = probeTimeout
        self.hops = max(1, hops)
        self.window = window
        self.hold = hold
        self.silentHops = max(1, silentHops)
        self.silentWindow = min(silentWindow, window)
    }

    /// The words for a silent chain.
    public static func silentDescription(_ chain: [NinePWire.ConnectionID], span: Int64) -> String {
        "\(path(chain)): \(chain.count) clients in a row, each accepted just after the one before dialled the "
            + "upstream, in \(milliseconds(span)), none of them saying a word"
    }

    static func path(_ chain: [NinePWire.ConnectionID]) -> String {
        let names = chain.map { "c\($0.rawValue)" }
        return names.count <= 5 ? names.joined(separator: " → ")
            : names.prefix(2).joined(separator: " → ") + " → … → " + names.last!
    }

    /// Connections remembered (open ones, and ended ones that may still be a link's parent).
    public var remembered: Int { entries.count }

    /// A client was accepted: whether to dial its upstream now.
    public mutating func accepted(_ conn: NinePWire.ConnectionID, at t: Int64, from host: Host? = nil) -> Admission {
        forgetOld(now: t)
        var e = Entry(accepted: t, clientHost: host)
        var parent: (id: NinePWire.ConnectionID, dialed: Int64)?
        for (id, p) in entries {
            guard id != conn, !p.clientSpoke, !p.spoke, !p.hasSilentChild, let dialed = p.dialed, dialed <= t,
                  t - dialed <= silentWindow, LoopChain.sameHost(p.upstreamHost, host) else { continue }
            if parent.map({ dialed > $0.dialed }) ?? true { parent = (id, dialed) }
        }
        if let parent {
            entries[parent.id]?.hasSilentChild = true
            e.silentParent = parent.id
        }
        entries[conn] = e
        let holding = t < holdUntil
        // The chain back from here, while its clients are silent.
        var chain = [conn]
        var next = e.silentParent
        var rootAt = t
        while chain.count <= silentHops, let id = next, let p = entries[id], !p.clientSpoke {
            chain.append(id)
            rootAt = p.accepted
            next = p.silentParent
        }
        if chain.count > silentHops {
            // Not while this chain is being tested, nor once a test of it was answered.
            if isCleared(chain) {
                entries[conn]?.cleared = true   // so that the chain's next clients see it close by
                return holding ? .hold : .dial
            }
            holdUntil = t + hold
            if isBeingProbed(chain) { return .hold }
            let probe = startProbe(Probe(chain: chain.reversed(), links: chain.count - 1, rootAt: rootAt, sentAt: t,
                                         silent: true))
            return .holdProbing(probe: probe)
        }
        return holding ? .hold : .dial
    }

    /// The connection's client sent its first bytes.
    public mutating func clientSpoke(_ conn: NinePWire.ConnectionID) {
        entries[conn]?.clientSpoke = true
    }

    /// The connection started to dial its upstream.
    public mutating func dialed(_ conn: NinePWire.ConnectionID, at t: Int64) {
        entries[conn]?.dialed = t
    }

    /// The connection's upstream is connected, to `host`.
    public mutating func connected(_ conn: NinePWire.ConnectionID, to host: Host?) {
        entries[conn]?.upstreamHost = host
    }

    /// The connection's upstream sent its first bytes.
    public mutating func upstreamSpoke(_ conn: NinePWire.ConnectionID) {
        entries[conn]?.spoke = true
    }

    /// The connection ended.
    public mutating func closed(_ conn: NinePWire.ConnectionID, at t: Int64) {
        guard var e = entries[conn] else { return }
        if e.spoke || t - e.lastUse > window {
            entries[conn] = nil   // it can be no one's parent
        } else {
            e.closedAt = t
            entries[conn] = e
            endedKept += 1
        }
    }

    /// The Tversion of the `n`th probe: `ninescope-loop-check.<nonce>.<n>`, msize 8192.
    public func probeFrame(_ n: UInt64) -> [UInt8] {
        let version = "ninescope-loop-check.\(String(nonce, radix: 16)).\(n)"
        return Fcall(tag: .notag, .tversion(Tversion(msize: 8192, version: P9String(version)))).encode(dialect: .l)
    }

    /// Whether a connection of `chain` is in a chain whose probe was answered (no loop).
    private func isCleared(_ chain: [NinePWire.ConnectionID]) -> Bool {
        chain.contains { entries[$0]?.cleared == true }
    }

    /// Whether a probe out now tests a chain sharing a connection with `chain`.
    private func isBeingProbed(_ chain: [NinePWire.ConnectionID]) -> Bool {
        guard !probes.isEmpty else { return false }
        let members = Set(chain)
        return probes.values.contains { !members.isDisjoint(with: $0.chain) }
    }

    /// Numbers the next probe, notes what it tests, and returns its frame.
    private mutating func startProbe(_ probe: Probe) -> [UInt8] {
        probesSent += 1
        let frame = probeFrame(probesSent)
        probes[frame] = probe
        return frame
    }

    /// The probe that sent `frame` got an answer, ended, or could not be made: no loop; its chain is not
    /// probed again, however long it grows.
    public mutating func probeEnded(_ frame: [UInt8]) {
        guard let p = probes.removeValue(forKey: frame) else { return }
        for id in p.chain { entries[id]?.cleared = true }
    }

    /// A client's Tversion (`frame`, the whole frame) came at `t`; only a connection's first counts.
    /// Says to probe when the connection is the `hops`th link of a chain, and says a loop when the frame
    /// is a probe's come back, or when a chain as long is made while a loop is certain.
    public mutating func version(_ conn: NinePWire.ConnectionID, frame: [UInt8], at t: Int64) -> Verdict? {
        guard var e = entries[conn], e.version == nil else { return nil }
        forgetOld(now: t)
        if !probes.isEmpty { probes = probes.filter { t - $0.value.sentAt <= probeTimeout } }
        var parent: (id: NinePWire.ConnectionID, entry: Entry)?
        for (id, p) in entries {
            guard id != conn, !p.spoke, !p.hasChild, let dialed = p.dialed, dialed <= e.accepted,
                  LoopChain.sameHost(p.upstreamHost, e.clientHost),
                  p.closedAt.map({ $0 > e.accepted }) ?? true,
                  let v = p.version, p.versionAt <= t, t - p.versionAt <= window, v == frame else { continue }
            if parent.map({ p.versionAt > $0.entry.versionAt }) ?? true { parent = (id, p) }
        }
        e.version = frame
        e.versionAt = t
        if let parent {
            entries[parent.id]?.hasChild = true
            e.parent = parent.id
            e.depth = parent.entry.depth + 1
        }
        entries[conn] = e
        if let p = probes.removeValue(forKey: frame) {
            certainUntil = t + hold
            holdUntil = t + hold
            return .loop(Found(chain: p.chain, links: p.links, span: p.sentAt - p.rootAt, probe: conn, silent: p.silent))
        }
        guard e.depth >= hops else { return nil }
        var chain = [conn]
        var next = e.parent
        var rootAt = t
        while let id = next, let p = entries[id], chain.count <= e.depth {
            chain.append(id)
            rootAt = p.versionAt
            next = p.parent
        }
        chain.reverse()
        holdUntil = t + hold
        if t < certainUntil {
            certainUntil = t + hold
            return .loop(Found(chain: chain, links: e.depth, span: t - rootAt, probe: nil))
        }
        // Not while this chain is being probed, nor once a probe of it was answered.
        guard !isCleared(chain), !isBeingProbed(chain) else { return nil }
        return .probe(frame: startProbe(Probe(chain: chain, links: e.depth, rootAt: rootAt, sentAt: t, silent: false)))
    }

    /// Lets go of ended connections that can be no one's parent any more.
    private mutating func forgetOld(now t: Int64) {
        guard endedKept > 0 else { return }
        entries = entries.filter { !($0.value.closedAt != nil && t - $0.value.lastUse > window) }
        endedKept = entries.values.count { $0.closedAt != nil }
    }

    static func milliseconds(_ ns: Int64) -> String {
        let tenths = (ns + 50_000) / 100_000
        return "\(tenths / 10).\(tenths % 10) ms"
    }
}
