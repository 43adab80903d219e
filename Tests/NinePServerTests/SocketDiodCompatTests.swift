import Foundation
import NinePDrivers
import NinePNIO
import NinePServer
import NinePTestSupport
import NinePWire
import Testing

/// What diod's clients (diodcat, diodls, diodload) need from the server, over TCP: Tauth refused with
/// ENOENT, walks from an open directory in 9P2000.L (but not in classic 9P2000), and the `ctl` attach
/// name serving /zero and /null.
@Suite struct SocketDiodCompatTests {
    @Test func tauthIsRefusedWithENOENT() async throws {
        let server = try await SocketServer.start(CtlTreeDriver(main: MemoryDriver()))
        let c = try await server.client()
        try await c.version(msize: 8192)
        let e = try await c.expectError(.tauth(Tauth(afid: 1, uname: "u", aname: "", nUname: 0)))
        #expect(e == .ENOENT)
        try await c.attach(0)
        await c.close()
        await server.stop()
    }

    @Test func walkFromAnOpenDirectory() async throws {
        let mem = MemoryDriver()
        try await mem.makeFile("d/f", contents: [7])
        let server = try await SocketServer.start(mem)
        let l = try await server.client()
        try await l.version(msize: 8192)
        try await l.attach(0)
        let d = try await l.walkTo(0, "d")
        try await l.lopen(d, LOpenFlags.rdonly.union(.directory))
        let f = l.freshFid()
        #expect(try await l.walk(d, f, ["f"]).count == 1)
        try await l.lopen(f)
        #expect(try await l.read(f) == [7])
        #expect(try await l.expectError(.twalk(Twalk(fid: d, newfid: d, wnames: ["f"]))) == .EBADF)
        await l.close()

        // Classic 9P2000 keeps walk(5)'s rule: an open fid cannot be walked.
        let p9 = try await server.client(dialect: .p9)
        try await p9.version(msize: 8192, "9P2000")
        try await p9.attach(0)
        _ = try await p9.walk(0, 1, ["d"])
        guard case .ropen = try await p9.call(.topen(Topen(fid: 1, mode: .read))) else { Issue.record("expected Ropen"); return }
        let r = try await p9.rpc(.twalk(Twalk(fid: 1, newfid: 2, wnames: ["f"])))
        #expect(r.type == .rerror, "walk from an open fid in 9P2000: \(r)")
        await p9.close()
        await server.stop()
    }

    /// A symlink's own xattrs, asked of ninescope serve's local driver and of diod over the same export:
    /// the same answers (the target's user.colour is not the symlink's, its own list, user.* refused).
    @Test func aSymlinksXattrsAnswerAsDiodDoes() async throws {
        let dir = try TempDirectory("symxattr"); defer { dir.remove() }
        try dir.write("t", "target")
        try HostXattr.set(dir.file("t"), "user.colour", "red")
        try FileManager.default.createSymbolicLink(atPath: dir.file("link"), withDestinationPath: "t")
        guard let diod = try Diod.start(export: dir.path) else {
            Issue.record("diod is not installed (make deps installs it)"); return
        }
        defer { diod.stop() }
        let server = try await SocketServer.start(LocalDriver(root: dir.path))
        defer { Task { await server.stop() } }

        func answers(_ c: NinePTestClient, aname: String) async throws -> [String] {
            try await c.version(msize: 8192)
            _ = try await c.attach(0, uname: "root", aname: aname)
            _ = try await c.walk(0, 1, ["link"])
            func outcome(_ m: Message) async throws -> String {
                switch try await c.rpc(m) {
                case .rlerror(let e): return "error \(e.ecode)"
                case .rxattrwalk(let x): return "size \(x.size)"
                case let r: return r.type?.name ?? "?"
                }
            }
            var out = [try await outcome(.txattrwalk(Txattrwalk(fid: 1, newfid: 2, name: "user.colour")))]
            out.append(try await outcome(.txattrwalk(Txattrwalk(fid: 1, newfid: 3, name: ""))))
            _ = try await c.walk(1, 4, [])
            _ = try await c.call(.txattrcreate(Txattrcreate(fid: 4, name: "user.new", attrSize: 1, flags: 0)))
            try await c.write(4, [1])
            out.append(try await outcome(.tclunk(Tclunk(fid: 4))))
            await c.close()
            return out
        }
        let ours = try await answers(try await server.client(), aname: "")
        let theirs = try await answers(try await SocketTransport.client(try Address(parsing: diod.address)), aname: dir.path)
        #expect(ours == theirs, "ninescope serve: \(ours), diod: \(theirs)")
        #expect(ours.first == "error ENODATA")
    }

    @Test func ctlAttachNameServesZeroAndNull() async throws {
        let mem = MemoryDriver()
        try await mem.makeFile("zero", contents: [1, 2, 3])
        let server = try await SocketServer.start(CtlTreeDriver(main: mem))
        let c = try await server.client()
        try await c.version(msize: 8192)
        try await c.attach(0, aname: "ctl")
        try await c.attach(1, aname: "/anything/else")
        #expect(try await c.listDirectory(0).map(\.name.string).sorted() == [".", "..", "null", "zero"])
        let zero = try await c.walkTo(0, "zero")
        try await c.lopen(zero)
        #expect(try await c.read(zero, offset: 1 << 40, count: 5000) == [UInt8](repeating: 0, count: 5000))
        let null = try await c.walkTo(0, "null")
        try await c.lopen(null, .rdwr)
        #expect(try await c.write(null, offset: 12345, [9, 9, 9]) == 3)
        #expect(try await c.read(null) == [])
        #expect(try await c.expectError(.tmkdir(Tmkdir(dfid: 0, name: "x", mode: 0o755, gid: 0))) == .EPERM)
        // Any other attach name is the main tree.
        let mz = try await c.walkTo(1, "zero")
        try await c.lopen(mz)
        #expect(try await c.read(mz) == [1, 2, 3])
        await c.close()
        await server.stop()
    }
}
