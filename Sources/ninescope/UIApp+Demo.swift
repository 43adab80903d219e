import Foundation
import InspectorUI
import NinePDrivers
import NinePNIO
import NinePServer
import NinePWire

extension DemoCommand {
    /// The demo with the live UI: the proxy in front of the hosted server feeds the inspector while the
    /// built-in client keeps working; quitting the UI stops everything.
    func runWithUI(server: NinePServerListener, serverAddress: Address, listen: Address,
                   recorder: CaptureRecorder?) async throws {
        let theme = try UIApp.theme(self.theme)
        let live = LiveInspector(title: "demo", theme: theme, recorder: recorder)
        let proxy = NinePProxy(listen: listen, upstream: serverAddress, options: NinePProxy.Options(eventCoalescing: .zero),
                               sink: live.sink)
        let proxyAddress: Address
        do {
            proxyAddress = try await proxy.start()
        } catch {
            await server.stop()
            throw UIAppError("cannot listen on \(listen.colonForm): \(error)")
        }
        live.app.setTitle("demo · proxy \(proxyAddress.colonForm) → synth server \(serverAddress.colonForm)")
        live.reportCaptureFailure()
        let workload = DemoWorkload(target: proxyAddress, pace: .milliseconds(pace))
        let rounds = self.rounds
        // The client's errors cannot be printed under the UI; the traffic shows them anyway.
        let client = Task { await workload.run(rounds: rounds) { _ in } }
        // A second client whose Twrite to /FLUSH blocks until someone flushes it: a request worth
        // flushing (select it, press f). Once flushed it waits a little and blocks again.
        let stuck = Task { await Self.stuckWriter(proxyAddress) }
        var failure: Error?
        var signal: Int32?
        do { signal = try await live.run(proxy: proxy) } catch { failure = error }
        client.cancel()
        stuck.cancel()
        _ = await client.result
        await proxy.stop()  // closes the stuck writer's connection, ending its wait
        _ = await stuck.result
        await server.stop()
        live.finishCapture()
        let captureNote = ProxyCommand.closeCapture(recorder)
        if let failure { throw failure }
        let model = live.app.screen.model
        printError("ninescope: \(signal.map { SignalWatch.name($0) + ": " } ?? "")demo stopped; \(model.store.count) exchanges seen; proxy was \(proxyAddress.colonForm)"
                   + captureNote)
    }

    /// Connects, then keeps one Twrite to /FLUSH pending (the synthetic server holds it until a Tflush).
    static func stuckWriter(_ address: Address) async {
        while !Task.isCancelled {
            do {
                let c = try await NinePClientConnection.connect(address)
                defer { Task { await c.close() } }
                _ = try await c.rpc(Fcall(tag: .notag, .tversion(Tversion(msize: 65536, version: "9P2000.L"))), dialect: .l)
                _ = try await c.rpc(Fcall(tag: 1, .tattach(Tattach(fid: 0, uname: "stuck", aname: "", nUname: 1000))), dialect: .l)
                _ = try await c.rpc(Fcall(tag: 1, .twalk(Twalk(fid: 0, newfid: 1, wnames: [P9String(SyntheticDriver.flushFile)]))),
                                    dialect: .l)
                _ = try await c.rpc(Fcall(tag: 1, .tlopen(Tlopen(fid: 1, flags: .wronly))), dialect: .l)
                while !Task.isCancelled {
                    // Blocks until flushed; the proxy then answers it with Rlerror EINTR.
                    _ = try await c.rpc(Fcall(tag: 2, .twrite(Twrite(fid: 1, offset: 0, data: [1]))), dialect: .l)
                    try await Task.sleep(for: .seconds(5))
                }
            } catch {
                try? await Task.sleep(for: .seconds(2))
            }
        }
    }
}
