import NinePServer
import NinePWire

/// QEMU 9pfs: flush/success and flush/ignored, with the synth FLUSH file.
extension DriverConformance {
    static let flushChecks: [ConformanceCheck] = [
        ConformanceCheck("flush/success", requires: .synthTree) { ctx in
            let c = ctx.client
            let f = try await c.walkTo(ctx.root, SyntheticDriverNames.flush)
            try await c.lopen(f, .wronly)
            // A non-zero byte blocks the write until it is flushed.
            let wtag = await c.send(.twrite(Twrite(fid: f, offset: 0, data: [1])))
            let ftag = await c.send(.tflush(Tflush(oldtag: wtag)))
            guard let r = await c.reply(to: ftag) else { throw ConformanceFailure("no Rflush") }
            try requireEqual(r.message, .rflush, "reply to Tflush")
            let forWrite = await c.replies(tagged: wtag)
            try require(forWrite.isEmpty, "the flushed write got no reply (\(forWrite.map(\.message)))")
            // The old tag is free again and the connection still works.
            let n = try await c.write(f, [0])
            try requireEqual(n, 1, "write after flush")
            try require(await c.replies(tagged: wtag).count <= 1, "no late reply for the flushed tag")
        },
        ConformanceCheck("flush/ignored", requires: .synthTree) { ctx in
            let c = ctx.client
            let f = try await c.walkTo(ctx.root, SyntheticDriverNames.flush)
            try await c.lopen(f, .wronly)
            // A zero byte completes at once; the flush comes too late and Rflush follows Rwrite.
            let wtag = await c.send(.twrite(Twrite(fid: f, offset: 0, data: [0])))
            let ftag = await c.send(.tflush(Tflush(oldtag: wtag)))
            guard let r = await c.reply(to: ftag) else { throw ConformanceFailure("no Rflush") }
            try requireEqual(r.message, .rflush, "reply to Tflush")
            let log = await c.replies
            guard let wi = log.firstIndex(where: { $0.tag == wtag }), let fi = log.firstIndex(where: { $0.tag == ftag }) else {
                throw ConformanceFailure("Rwrite missing from \(log.map(\.message))")
            }
            try requireEqual(log[wi].message, .rwrite(Rwrite(count: 1)), "the write completed")
            try require(wi < fi, "Rwrite comes before Rflush")
        },
        ConformanceCheck("flush/unknown_tag") { ctx in
            let r = try await ctx.client.rpc(.tflush(Tflush(oldtag: 4242)))
            try requireEqual(r, .rflush, "Rflush at once for a tag that is not pending")
        },
    ]
}
