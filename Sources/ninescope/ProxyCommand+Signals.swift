import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Turns SIGINT/SIGTERM (or any signals) into awaitable values: the signals are ignored at the process
/// level and delivered through Dispatch signal sources instead, so shutdown code runs as ordinary async
/// code (flush, close, print) rather than in a signal handler.
final class SignalWatch: @unchecked Sendable {
    // @unchecked: `sources` is written once in init; the rest is under `lock`.
    private var sources: [any DispatchSourceSignal] = []
    private let queue = DispatchQueue(label: "ninescope.signals")
    private let lock = NSLockLike()
    private var received: [Int32] = []
    private var firstSignal: Int32?
    private var waiter: CheckedContinuation<Int32, Never>?
    private var later: (@Sendable (Int32) -> Void)?

    init(signals: [Int32]) {
        for sig in signals {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler { [weak self] in self?.deliver(sig) }
            source.resume()
            sources.append(source)
        }
    }

    deinit {
        for s in sources { s.cancel() }
    }

    private func deliver(_ sig: Int32) {
        let action: (() -> Void)? = lock.withLock {
            if firstSignal == nil { firstSignal = sig }
            if let w = waiter {
                waiter = nil
                return { w.resume(returning: sig) }
            }
            if let later { return { later(sig) } }
            received.append(sig)
            return nil
        }
        action?()
    }

    /// The first signal that came (nil: none yet).
    var first: Int32? { lock.withLock { firstSignal } }

    /// Waits for the first signal (returns at once if one already came).
    func next() async -> Int32 {
        await withCheckedContinuation { (c: CheckedContinuation<Int32, Never>) in
            let ready: Int32? = lock.withLock {
                if !received.isEmpty { return received.removeFirst() }
                waiter = c
                return nil
            }
            if let ready { c.resume(returning: ready) }
        }
    }

    /// From now on, another signal exits at once (status 128 + its number), saying so: for a second Ctrl-C
    /// while a shutdown is under way.
    func exitOnAnother() {
        onAnother { sig in
            printError("ninescope: \(SignalWatch.name(sig)) again: exiting at once")
            _exit(128 + sig)
        }
    }

    /// Calls `body` (on a private queue) for every signal from now on.
    private func onAnother(_ body: @escaping @Sendable (Int32) -> Void) {
        lock.withLock { later = body }
    }

    /// The signals that stop a proxy, a server or the UI in good order (connections closed, the capture
    /// completed, a summary): SIGINT, SIGTERM, and SIGHUP (the terminal went away, a session closed) unless
    /// it was ignored when the program started (`nohup`), which then stays so.
    static var stopSignals: [Int32] {
        var old = sigaction()
        let hupIgnored = sigaction(SIGHUP, nil, &old) == 0
            && unsafeBitCast(old.__sigaction_handler.sa_handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
        return [SIGINT, SIGTERM] + (hupIgnored ? [] : [SIGHUP])
    }

    static func name(_ sig: Int32) -> String {
        switch sig {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        case SIGHUP: return "SIGHUP"
        default: return "signal \(sig)"
        }
    }
}
