import NinePWire
import NinePNIO
import NinePDrivers

/// The demo's built-in client: a 9P2000.L client that keeps producing varied traffic through the proxy —
/// mount (version, attach), walks, getattr, opens, reads, writes, directory listings, errors (a missing
/// name, a file that always fails), a slow read that it flushes itself, and, every few rounds, a slow read
/// left pending for the user to flush and a fid it forgets to clunk (a leak at disconnect).
/// Written against SyntheticDriver's tree.
struct DemoWorkload: Sendable {
    var target: Address
    /// Pause between requests, so a person can follow the list.
    var pace: Duration

    private typealias S = SyntheticDriver

    /// Runs rounds 0, 1, 2, … until cancelled or `rounds` are done (0: no end). A round that fails is
    /// reported to `failed` (unless cancelled), and the next one starts a second later.
    func run(rounds: Int, failed: @Sendable (any Error) -> Void) async {
        var n = 0
        while !Task.isCancelled && (rounds == 0 || n < rounds) {
            do { try await round(n) } catch {
                if Task.isCancelled { break }
                failed(error)
                try? await Task.sleep(for: .seconds(1))
            }
            n += 1
        }
    }

    func round(_ n: Int) async throws {
        let c = try await NinePClientConnection.connect(target)
        defer { Task { await c.close() } }
        var tag: UInt16 = 1
        func call(_ m: Message) async throws -> Message {
            defer { tag = tag == 0xFFFE ? 1 : tag + 1 }
            let (reply, _) = try await c.rpc(Fcall(tag: Tag(tag), m), dialect: .l)
            if pace > .zero { try await Task.sleep(for: pace) }
            return reply.message
        }
        _ = try await c.rpc(Fcall(tag: .notag, .tversion(Tversion(msize: 65536, version: "9P2000.L"))), dialect: .l)
        _ = try await call(.tattach(Tattach(fid: 0, uname: "demo", aname: "", nUname: 1000)))
        _ = try await call(.tgetattr(Tgetattr(fid: 0, requestMask: .basic)))

        // Walk deep into the WALK tree and look at it.
        let deep = (0..<4).map { P9String("\(S.walkPrefix)\($0)") }
        _ = try await call(.twalk(Twalk(fid: 0, newfid: 1, wnames: deep)))
        _ = try await call(.tgetattr(Tgetattr(fid: 1, requestMask: .all)))
        _ = try await call(.tclunk(Tclunk(fid: 1)))

        // A directory listing, in two Treaddir calls.
        _ = try await call(.twalk(Twalk(fid: 0, newfid: 2, wnames: [P9String(S.readDirDir)])))
        _ = try await call(.tlopen(Tlopen(fid: 2, flags: [.directory])))
        var offset: UInt64 = 0
        for _ in 0..<2 {
            if case .rreaddir(let r) = try await call(.treaddir(Treaddir(fid: 2, offset: offset, count: 1024))),
               let last = try? Dirent.decodeAll(r.data).last {
                offset = last.offset
            }
        }
        _ = try await call(.tclunk(Tclunk(fid: 2)))

        // Open and read a file; write another.
        _ = try await call(.twalk(Twalk(fid: 0, newfid: 3, wnames: [P9String(S.lopenFile)])))
        _ = try await call(.tlopen(Tlopen(fid: 3, flags: .rdonly)))
        _ = try await call(.tread(Tread(fid: 3, offset: 0, count: 4096)))
        _ = try await call(.tclunk(Tclunk(fid: 3)))
        _ = try await call(.twalk(Twalk(fid: 0, newfid: 4, wnames: [P9String(S.writeFile)])))
        _ = try await call(.tlopen(Tlopen(fid: 4, flags: .wronly)))
        _ = try await call(.twrite(Twrite(fid: 4, offset: 0, data: Array("round \(n)\n".utf8))))
        _ = try await call(.tclunk(Tclunk(fid: 4)))

        // Errors: a name that does not exist, a file that always fails, a read of a huge sparse file.
        _ = try await call(.twalk(Twalk(fid: 0, newfid: 5, wnames: ["no-such-file"])))
        _ = try await call(.twalk(Twalk(fid: 0, newfid: 6, wnames: [P9String(S.failFile)])))
        _ = try await call(.tlopen(Tlopen(fid: 6, flags: .rdonly)))
        _ = try await call(.tread(Tread(fid: 6, offset: 0, count: 64)))
        _ = try await call(.tclunk(Tclunk(fid: 6)))
        _ = try await call(.twalk(Twalk(fid: 0, newfid: 7, wnames: [P9String(S.sparseFile)])))
        _ = try await call(.tlopen(Tlopen(fid: 7, flags: .rdonly)))
        _ = try await call(.tread(Tread(fid: 7, offset: 1 << 39, count: 64)))
        _ = try await call(.tclunk(Tclunk(fid: 7)))

        // A slow read, flushed by the client itself.
        _ = try await call(.twalk(Twalk(fid: 0, newfid: 8, wnames: [P9String(S.slowFile)])))
        _ = try await call(.tlopen(Tlopen(fid: 8, flags: .rdonly)))
        let slowTag = tag; tag += 1
        try await c.send(frame: Fcall(tag: Tag(slowTag), .tread(Tread(fid: 8, offset: 0, count: 128))).encode(dialect: .l))
        try await Task.sleep(for: .milliseconds(50))
        _ = try await call(.tflush(Tflush(oldtag: Tag(slowTag))))

        if n % 3 == 2 {
            // Leave a slow read pending (for the user to flush in the UI) and a fid unclunked (a leak).
            let pendingTag = tag; tag += 1
            try await c.send(frame: Fcall(tag: Tag(pendingTag), .tread(Tread(fid: 8, offset: 0, count: 128))).encode(dialect: .l))
            _ = try await call(.twalk(Twalk(fid: 0, newfid: 9, wnames: [P9String(S.lopenFile)])))
            try await Task.sleep(for: pace * 10)
        } else {
            _ = try await call(.tclunk(Tclunk(fid: 8)))
        }
        _ = try await call(.tclunk(Tclunk(fid: 0)))
    }
}
