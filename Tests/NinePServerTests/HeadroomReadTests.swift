import Foundation
import NinePDrivers
import NinePServer
import NinePTestSupport
import NinePWire
import Testing

/// `FileSystemDriver.read(_:offset:count:headroom:)`: the local driver reads into the reply frame; the
/// default (memory driver) copies. Either way: `headroom` zero bytes, then exactly what `read` gives.
@Suite struct HeadroomReadTests {
    static func check<D: FileSystemDriver>(_ driver: D, file name: String) async throws {
        let root = try await driver.attach(AttachRequest(uname: "t", aname: ""))
        let node = try await driver.lookup(root, name: P9String(name))
        let f = try await driver.open(node, flags: .rdonly)
        for (offset, count) in [(UInt64(0), UInt32(100)), (3, 4), (9, 100), (500, 10), (0, 0)] {
            let plain = try await driver.read(f, offset: offset, count: count)
            for headroom in [0, 11] {
                let framed = try await driver.read(f, offset: offset, count: count, headroom: headroom)
                #expect(framed.count == headroom + plain.count, "offset \(offset) count \(count) headroom \(headroom)")
                #expect(framed.prefix(headroom).allSatisfy { $0 == 0 })
                #expect(Array(framed.dropFirst(headroom)) == plain)
            }
        }
        await driver.close(f)
    }

    @Test func localDriverReadsAfterTheHeadroom() async throws {
        let dir = try TempDirectory("headroom")
        defer { dir.remove() }
        try dir.write("f", "0123456789abc")
        try await Self.check(try LocalDriver(root: dir.path), file: "f")
    }

    @Test func defaultImplementationCopies() async throws {
        let memory = MemoryDriver()
        try await memory.makeFile("f", contents: Array("0123456789abc".utf8))
        try await Self.check(memory, file: "f")
    }

    @Test func localDriverReadsNowLikeRead() async throws {
        let dir = try TempDirectory("readnow")
        defer { dir.remove() }
        try dir.write("f", "0123456789abc")
        let driver = try LocalDriver(root: dir.path)
        let root = try await driver.attach(AttachRequest(uname: "t", aname: ""))
        let f = try await driver.open(try await driver.lookup(root, name: "f"), flags: .rdonly)
        #expect(driver.canReadNow(f))
        for (offset, count) in [(UInt64(0), 100), (3, 4), (9, 100), (500, 10), (0, 0)] {
            let plain = try await driver.read(f, offset: offset, count: UInt32(count))
            var buffer = [UInt8](repeating: 0xEE, count: count)
            let n = try buffer.withUnsafeMutableBytes { b in try driver.readNow(f, offset: offset, into: b) }
            #expect(Array(buffer[..<n]) == plain, "offset \(offset) count \(count)")
        }
        await driver.close(f)
        let d = try await driver.open(root, flags: [.rdonly, .directory])
        #expect(!driver.canReadNow(d))
        await driver.close(d)
        // Drivers without it keep the default: the server then reads through `read(…headroom:)`.
        let memory = MemoryDriver()
        try await memory.makeFile("f", contents: [1, 2, 3])
        let mroot = try await memory.attach(AttachRequest(uname: "t", aname: ""))
        let mf = try await memory.open(try await memory.lookup(mroot, name: "f"), flags: .rdonly)
        #expect(!memory.canReadNow(mf))
        var scratch = [UInt8](repeating: 0, count: 4)
        #expect(throws: Errno.EOPNOTSUPP) {
            _ = try scratch.withUnsafeMutableBytes { b in try memory.readNow(mf, offset: 0, into: b) }
        }
    }

    /// The same reads answered two ways — data read into an array and copied into the reply, and the
    /// reply built in place in the transport's buffer — give the same replies, equal to the file.
    @Test func rreadsBuiltInPlaceMatchCopiedOnes() async throws {
        let dir = try TempDirectory("inplace")
        defer { dir.remove() }
        var rng = SplitMix(seed: 5)
        let contents = (0..<100_000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        try Data(contents).write(to: URL(fileURLWithPath: dir.path + "/f"))
        let driver = try LocalDriver(root: dir.path)
        var answers: [[[UInt8]]] = []
        for inPlace in [false, true] {
            let c = await NinePTestClient.connect(driver: driver, inPlace: inPlace)
            #expect(try await c.version(msize: 8192).msize == 8192)
            _ = try await c.attach(0)
            let fid = try await c.walkTo(0, "f")
            try await c.lopen(fid)
            var got: [[UInt8]] = []
            for (offset, count) in [(UInt64(0), UInt32(0)), (0, 10), (1, 8192), (8000, 100_000), (99_990, 100),
                                    (100_000, 10), (200_000, 10)] {
                guard case .rread(let r) = try await c.call(.tread(Tread(fid: fid, offset: offset, count: count))) else {
                    Issue.record("expected Rread"); continue
                }
                let from = Int(min(offset, UInt64(contents.count)))
                let expected = Array(contents[from..<min(contents.count, from + Int(min(count, 8192 - UInt32(NineP.ioHeaderSize))))])
                #expect(r.data == expected, "offset \(offset) count \(count) inPlace \(inPlace)")
                got.append(r.data)
            }
            #expect(await c.undecodable.isEmpty)
            await c.close()
            answers.append(got)
        }
        #expect(answers[0] == answers[1])
    }

    /// A read that fails while the reply is being built in place answers with the driver's errno.
    @Test func failedInPlaceReadAnswersWithItsErrno() async throws {
        let c = await NinePTestClient.connect(driver: FailingReadDriver(), inPlace: true)
        _ = try await c.version()
        _ = try await c.attach(0)
        let fid = try await c.walkTo(0, "f")
        try await c.lopen(fid)
        #expect(try await c.expectError(.tread(Tread(fid: fid, offset: 0, count: 10))) == .EIO)
        // The connection goes on.
        #expect(try await c.expectError(.tread(Tread(fid: fid, offset: 5, count: 1))) == .EIO)
        #expect(try await c.walk(0, 7, []).isEmpty)
        await c.close()
    }
}

/// One file, "f", whose in-place reads fail with EIO (and whose other reads are not offered).
private struct FailingReadDriver: FileSystemDriver {
    enum Node: Sendable { case root, file }
    typealias OpenFile = Node
    func attach(_ request: AttachRequest) async throws(Errno) -> Node { .root }
    func lookup(_ directory: Node, name: P9String) async throws(Errno) -> Node {
        guard directory == .root else { throw .ENOTDIR }
        guard name == "f" else { throw .ENOENT }
        return .file
    }
    func getattr(_ node: Node) async throws(Errno) -> NodeAttributes {
        node == .root ? NodeAttributes(qid: Qid(type: .dir, path: 1), mode: 0o40755)
            : NodeAttributes(qid: Qid(path: 2), mode: 0o100644, size: 100)
    }
    func open(_ node: Node, flags: LOpenFlags) async throws(Errno) -> OpenFile { node }
    func canReadNow(_ file: OpenFile) -> Bool { file == .file }
    func readNow(_ file: OpenFile, offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        throw .EIO
    }
}
