import ArgumentParser
import Foundation
import InspectorCore
import InspectorUI
import NinePCapture
import NinePNIO
import NinePServer
import NinePREPL
import NinePSession
import NinePWire

/// The live inspector over a proxy: the proxy's events feed the UI (and the capture, if any); inject,
/// flush and save act on the proxy.
final class LiveInspector: @unchecked Sendable {
    let app: InspectorApp
    let actions: ProxyInspectorActions
    private let recorder: CaptureRecorder?
    /// The capture is recorded on a thread of its own, as the headless proxy's is (`ProxyTrace`), not on the
    /// event loops: the disk writes, a new file's fsync with --capture-size, or a pipe to a slow Wireshark
    /// then do not hold the relay up (only a full queue does).
    private let captureQueue: BatchQueue<ProxyEvent>?

    /// How much of each read's and write's data the view keeps (the capture keeps what it is told).
    let dataLimit: LiveDataLimit
    /// `--view-history`'s default: 1 GiB, about 2.7 million exchanges of small messages.
    static let defaultHistory: Int? = 1 << 30

    /// `--view-history SIZE|all`: nil for `all`.
    static func historyOption(_ text: String) throws -> Int? {
        if text.lowercased() == "all" { return nil }
        guard let n = CaptureRotation.parseSize(text), n >= 1 << 20 else {
            throw ValidationError("--view-history takes a size of at least 1M (e.g. 512M, 4G) or 'all', not '\(text)'")
        }
        return n
    }

    /// `filter`: the view's filter at start (already validated by the caller).
    /// `history`: the most bytes the view holds before it forgets its oldest exchanges (nil: no limit).
    init(title: String, theme: Theme, recorder: CaptureRecorder?, filter: String? = nil,
         dataLimit: LiveDataLimit = .standard, history: Int? = LiveInspector.defaultHistory) {
        self.dataLimit = dataLimit
        actions = ProxyInspectorActions(recorder: recorder)
        var model = InspectorModel(tracker: UIApp.liveTracker())
        model.historyLimit = history
        var screen = InspectorScreen(model: model, theme: theme,
                                     timeFormat: UIApp.localTime, title: title, isLive: true)
        screen.requestWords = UIApp.requestWords
        if let filter { try? screen.startFiltered(filter) }
        app = InspectorApp(screen: screen, actions: actions, configuration: UIApp.configuration())
        self.recorder = recorder
        captureQueue = recorder.map { recorder in
            BatchQueue(name: "ninescope-capture", priority: .idle, runItems: 512, bytes: ProxyTrace.frameBytes,
                       order: { $0.at }) { batch in recorder.record(batch) }
        }
    }

    /// Records what is still queued and stops the capture's thread. Call once the proxy has stopped.
    func finishCapture() {
        captureQueue?.finish()
    }

    /// The proxy's event sink: hand the events to the capture's thread and to the UI (cheap; called on event
    /// loops).
    var sink: ProxyEventSink {
        let app = self.app
        let queue = captureQueue
        let limit = dataLimit
        return { batch in
            queue?.push(batch)
            app.enqueue(batch.map { limit.kept($0.sessionEvent) })
            for e in batch { if let notice = Self.closeNotice(e) { app.report(notice, isError: true) } }
        }
    }

    /// What the message line says when a connection ends by the upstream's failing (its dial failed, it
    /// reset, a transport error): otherwise a server that is not there shows only as a list that stays empty.
    /// Ends the client or the user chose (its EOF or reset, a stop, a fault rule) say nothing, nor does a
    /// server's orderly hang-up (the connections table and the list say it; a loop's unwinding is many of
    /// them, which would cover the loop's own report).
    static func closeNotice(_ event: ProxyEvent) -> String? {
        guard case .closed(let conn, let reason, _) = event else { return nil }
        switch reason {
        case .dialFailed, .error, .reset(.upstream): return "\(conn) closed: \(reason)"
        case .eof, .closedByUpstream, .midFrame, .reset(.client), .stopped, .fault, .loop: return nil
        }
    }

    /// A capture that stops (its disk full, say) says so on the message line; the proxy goes on.
    func reportCaptureFailure() {
        let app = self.app
        recorder?.file.whenWriteFails { error in
            app.report("capture stopped: \(error); it holds what was written before", isError: true)
        }
    }

    /// Runs the UI until the user quits, or a signal (SIGINT, SIGTERM, SIGHUP: `SignalWatch.stopSignals`)
    /// quits it as the quit key does, so that the caller stops the proxy, completes the capture and says
    /// so; a second signal then exits at once. Returns the signal that ended it (nil: the user quit).
    @discardableResult
    func run(proxy: NinePProxy) async throws -> Int32? {
        actions.attach(proxy)
        let signals = SignalWatch(signals: SignalWatch.stopSignals)
        let app = self.app
        Task.detached {
            _ = await signals.next()
            app.requestQuit()
            signals.exitOnAnother()
        }
        // The status line says the capture is being written, and how much of it, once a second, and that
        // fault rules are on (at once when `:fault` changes them).
        let recorder = self.recorder
        let refresh: @Sendable () -> Void = {
            let flags = [proxy.faults.rules.isEmpty ? nil : "FAULTS", recorder.map(Self.recordingText)]
            let text = flags.compactMap { $0 }.joined(separator: " · ")
            app.setRecording(text.isEmpty ? nil : text)
        }
        actions.faultsChanged = refresh
        let status = Task.detached {
            while !Task.isCancelled {
                refresh()
                try? await Task.sleep(nanoseconds: 1_000_000_000)
            }
        }
        defer { status.cancel() }
        try await UIApp.run(app)
        return signals.first
    }

    /// `REC 12 MB` (`· file 4` once the capture is cut into files, `· data ≤64 B` with `--capture-data 64`),
    /// or `REC STOPPED` after a failed write.
    static func recordingText(_ recorder: CaptureRecorder) -> String {
        guard recorder.file.lastError == nil else { return "REC STOPPED" }
        let files = recorder.filesBegun
        return "REC " + ProxyTrace.bytes(recorder.file.bytesWritten) + (files > 1 ? " · file \(files)" : "")
            + (recorder.dataLimit.map { " · data ≤\($0) B" } ?? "")
    }
}

/// Inject, flush and save against a running proxy. Requests use the REPL's grammar; the
/// `InjectionPlanner` picks tags and fids that cannot collide with the client's.
final class ProxyInspectorActions: InspectorActions, @unchecked Sendable {
    private let lock = NSLock()
    private var proxy: NinePProxy?
    private var planner = InjectionPlanner()
    private let recorder: CaptureRecorder?
    /// Called after `:fault` changed the rules (the status line's FAULTS flag).
    var faultsChanged: (@Sendable () -> Void)? {
        get { lock.withLock { changed } }
        set { lock.withLock { changed = newValue } }
    }
    private var changed: (@Sendable () -> Void)?

    init(recorder: CaptureRecorder?) { self.recorder = recorder }

    func attach(_ proxy: NinePProxy) {
        lock.withLock { self.proxy = proxy }
    }

    private func currentProxy() throws -> NinePProxy {
        guard let proxy = lock.withLock({ self.proxy }) else { throw InspectorActionError("the proxy is not running") }
        return proxy
    }

    func inject(_ request: String, conn: ConnectionID, tracker: SessionTracker) async throws -> String {
        let proxy = try currentProxy()
        let summary = tracker.connection(conn)
        let parser = RequestParser(dialect: summary?.dialect ?? .l, msize: summary?.msize ?? 8192)
        let parsed: Request
        do {
            parsed = try parser.parseRequest(request)
        } catch {
            throw InspectorActionError("\(request): \(error)")
        }
        if case .tflush(let f) = parsed.message {
            return try await flush(tag: f.oldtag, conn: conn, tracker: tracker)
        }
        let planned = plan(parsed.message, conn: conn, tracker: tracker)
        let plan: InjectionPlanner.Plan
        switch planned {
        case .success(let p): plan = p
        case .failure(let refusal): throw InspectorActionError("\(refusal)")
        }
        let sent: NinePProxy.SentRequest
        do {
            sent = try await proxy.inject(conn: conn, frame: plan.frame)
        } catch {
            throw InspectorActionError("inject into \(conn) failed: \(error)")
        }
        return sent.waitsForClientFrame
            ? "queued for \(conn), to go upstream once the client's frame in progress is whole: \(plan)"
            : "injected into \(conn): \(plan)"
    }

    /// Plans under the lock (synchronous, so the lock is never held across a suspension).
    private func plan(_ message: Message, conn: ConnectionID,
                      tracker: SessionTracker) -> Result<InjectionPlanner.Plan, InjectionPlanner.Refusal> {
        lock.withLock {
            do throws(InjectionPlanner.Refusal) {
                return .success(try planner.plan(message, conn: conn, tracker: tracker))
            } catch {
                return .failure(error)
            }
        }
    }

    func flush(tag: Tag, conn: ConnectionID, tracker: SessionTracker) async throws -> String {
        let proxy = try currentProxy()
        do {
            let sent = try await proxy.flush(conn: conn, tag: tag.rawValue)
            return "Tflush tag \(sent.tag) oldtag \(tag) "
                + (sent.waitsForClientFrame ? "queued on \(conn), to go upstream once the client's frame in progress is whole"
                   : "sent upstream on \(conn)")
        } catch {
            throw InspectorActionError("flush of tag \(tag) on \(conn) failed: \(error)")
        }
    }

    func save(to path: String, tracker: SessionTracker) async throws -> String {
        try CaptureSaver.save(tracker, to: path,
                              protected: recorder.map { ($0.files, "a file of the capture being recorded (--capture)") })
    }

    func completions(for text: String) -> [String] {
        Completer.complete(line: text, cursor: text.count, context: CompletionContext())
    }

    func faults(_ spec: String) throws -> String {
        let proxy = try currentProxy()
        let text = spec.trimmingCharacters(in: .whitespaces)
        if text.isEmpty {
            let now = proxy.faults
            return now.rules.isEmpty ? "no fault rules (:fault SPEC sets them, as proxy --fault)" : "faults: \(now)"
        }
        if text == "off" || text == "none" {
            proxy.setFaults(FaultSpec())
            faultsChanged?()
            return "faults off: requests from now on pass unchanged"
        }
        let parsed: FaultSpec
        do { parsed = try FaultSpec(parsing: text) } catch { throw InspectorActionError("\(error)") }
        proxy.setFaults(parsed)
        faultsChanged?()
        return "faults: \(parsed) (every connection, from its next request)"
    }
}

extension LiveInspector {
    /// `ninescope proxy` with the UI: relays between clients and `upstream` while the UI shows the traffic;
    /// returns when the user quits (the proxy is then stopped and the capture, if any, completed).
    static func runProxy(listen: Address, upstream: Address, recorder: CaptureRecorder?, theme spec: String?,
                         filter: String? = nil, dataLimit: LiveDataLimit = .standard,
                         history: Int? = LiveInspector.defaultHistory, faults: FaultSpec = FaultSpec(),
                         faultSeed: UInt64 = 0, faultNote: String? = nil) async throws {
        let theme = try UIApp.theme(spec)
        let live = LiveInspector(title: "proxy \(listen.colonForm) → \(upstream.colonForm)", theme: theme,
                                 recorder: recorder, filter: filter, dataLimit: dataLimit, history: history)
        let app = live.app
        let proxy = NinePProxy(listen: listen, upstream: upstream,
                               options: NinePProxy.Options(eventCoalescing: .zero, acceptFailed: { reason in
                                   app.report(ProxyCommand.acceptFailure(reason), isError: true)
                               }, faults: faults, faultSeed: faultSeed, loopFound: { text in
                                   app.report(text, isError: true)
                               }),
                               sink: live.sink)
        let bound = try await ProxyCommand.startListening(proxy, recorder: recorder)
        live.app.setTitle("proxy \(bound.colonForm) → \(upstream.colonForm)")
        live.reportCaptureFailure()
        if let warning = ProxyCommand.unresolvable(upstream) { live.app.report(warning, isError: true) }
        if let faultNote { live.app.report(faultNote, isError: false) }
        var failure: Error?
        var signal: Int32?
        do { signal = try await live.run(proxy: proxy) } catch { failure = error }
        await proxy.stop()
        live.finishCapture()
        let captureNote = ProxyCommand.closeCapture(recorder)
        if let failure { throw failure }
        let model = live.app.screen.model
        printError("ninescope: \(signal.map { SignalWatch.name($0) + ": " } ?? "")proxy stopped; "
                   + ProxyTrace.count(model.store.count, "exchange") + " on "
                   + ProxyTrace.count(model.tracker.connections.count + model.tracker.forgottenConnections, "connection")
                   + captureNote)
    }
}

extension UIApp {
    /// The REPL's request words (`walk`, `read`, `getattr` …), for the `:` prompt to tell a request from a
    /// mistyped command.
    static let requestWords = Set(CommandSpec.all.filter { $0.kind != .meta }.map { $0.name.lowercased() })
}
