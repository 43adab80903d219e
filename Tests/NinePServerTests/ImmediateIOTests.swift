import Foundation
import NinePDrivers
import NinePServer
import NinePTestSupport
import NinePWire
import Testing

/// A Tread or Twrite the driver can serve at once (`readNow`, `writeNow`) is answered without a task,
/// from the frame as it arrived. These tests hold that shortcut to the general path: the same requests,
/// good and bad, sent to a server whose driver takes it and to one where a request hook (a fault rule
/// that never fires on these requests) sends everything the general way, must get byte-identical
/// replies and leave identical files.
@Suite struct ImmediateIOTests {
    /// A fresh export with a file `f`, a read-only-opened `g`, and a directory `d`.
    func export() throws -> TempDirectory {
        let dir = try TempDirectory("immediate")
        try dir.write("f", "hello world")
        try dir.write("g", "read only")
        try FileManager.default.createDirectory(atPath: dir.file("d"), withIntermediateDirectories: true)
        return dir
    }

    /// A raw Twrite frame: `count` as given (it may disagree with the data, to make it malformed).
    func twrite(tag: UInt16, fid: UInt32, offset: UInt64, count: UInt32, data: [UInt8]) -> [UInt8] {
        func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
        return le(UInt32(NineP.headerSize + 16 + data.count)) + [MessageType.twrite.rawValue] + le(tag)
            + le(fid) + le(offset) + le(count) + data
    }

    /// Runs the script against a client and returns every reply frame, re-encoded, in order.
    func script(_ c: NinePTestClient, msize: UInt32) async throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        func note(_ m: Message) { out.append(Fcall(tag: Tag(1), m).encode(dialect: .l)) }
        _ = try await c.version(msize: msize)
        _ = try await c.attach(0)
        _ = try await c.walk(0, 1, ["f"])
        _ = try await c.lopen(1, .rdwr)
        _ = try await c.walk(0, 2, ["g"])
        _ = try await c.lopen(2, .rdonly)
        _ = try await c.walk(0, 3, ["d"])
        _ = try await c.lopen(3, LOpenFlags.rdonly.union(.directory))
        _ = try await c.attach(4, aname: "ctl")
        _ = try await c.walk(4, 5, ["zero"])
        _ = try await c.lopen(5, .rdwr)
        _ = try await c.walk(4, 6, ["null"])
        _ = try await c.lopen(6, .rdwr)
        let big = (0..<Int(msize)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let requests: [Message] = [
            .twrite(Twrite(fid: 1, offset: 0, data: Array("HELLO".utf8))),
            .twrite(Twrite(fid: 1, offset: 100, data: Array("past the end".utf8))),
            .twrite(Twrite(fid: 1, offset: UInt64.max - 3, data: [1, 2, 3])),       // EINVAL (a negative loff_t)
            .twrite(Twrite(fid: 1, offset: 20, data: [])),
            .twrite(Twrite(fid: 1, offset: 200, data: Array(big.prefix(Int(msize) - 23)))),  // the largest
            .twrite(Twrite(fid: 2, offset: 0, data: [9])),                            // opened read-only
            .twrite(Twrite(fid: 3, offset: 0, data: [9])),                            // a directory
            .twrite(Twrite(fid: 77, offset: 0, data: [9])),                           // unknown fid
            .twrite(Twrite(fid: 5, offset: 0, data: [9])),                            // ctl zero: EACCES
            .twrite(Twrite(fid: 6, offset: 0, data: Array(big.prefix(4000)))),       // ctl null
            .tread(Tread(fid: 1, offset: 0, count: 300)),
            .tread(Tread(fid: 1, offset: 150, count: msize * 2)),                     // clipped to msize
            .tread(Tread(fid: 1, offset: 1 << 40, count: 10)),                        // past the end
            .tread(Tread(fid: 1, offset: UInt64.max, count: 10)),
            .tread(Tread(fid: 2, offset: 0, count: 100)),
            .tread(Tread(fid: 3, offset: 0, count: 100)),                             // a directory (.L: EISDIR)
            .tread(Tread(fid: 77, offset: 0, count: 100)),
            .tread(Tread(fid: 5, offset: 0, count: 64)),
            .tread(Tread(fid: 6, offset: 0, count: 64)),
        ]
        for m in requests { note(try await c.rpc(m)) }
        // Frames the decoder must judge: a count larger or smaller than the data, and one that fits.
        for (count, data) in [(UInt32(10), [UInt8](repeating: 1, count: 5)), (3, [1, 2, 3, 4]), (2, [7, 8])] {
            await c.sendRaw(twrite(tag: 40, fid: 1, offset: 3, count: count, data: data))
            guard let r = await c.reply(to: Tag(40)) else { throw ConformanceFailure("no reply to a raw Twrite") }
            note(r.message)
        }
        // Clunked, then written and read: the fid is gone on both paths.
        try await c.clunk(1)
        note(try await c.rpc(.twrite(Twrite(fid: 1, offset: 0, data: [1]))))
        note(try await c.rpc(.tread(Tread(fid: 1, offset: 0, count: 1))))
        await c.close()
        return out
    }

    @Test(arguments: [UInt32(8192), UInt32(65536 + 24)])
    func shortcutRepliesAsTheGeneralPath(msize: UInt32) async throws {
        let a = try export(), b = try export()
        defer { a.remove(); b.remove() }
        let quick = await NinePTestClient.connect(driver: CtlTreeDriver(main: try LocalDriver(root: a.path)), inPlace: true)
        // A rule for Tstatfs, never sent here: its hook alone sends every request the general way.
        let general = FaultDriver(wrapping: CtlTreeDriver(main: try LocalDriver(root: b.path)),
                                  spec: try FaultSpec(parsing: "delay=Tstatfs:1ms"))
        let slow = await NinePTestClient.connect(driver: general, inPlace: true)
        let fast = try await script(quick, msize: msize)
        let reference = try await script(slow, msize: msize)
        #expect(fast.count == reference.count)
        for (i, (x, y)) in zip(fast, reference).enumerated() where x != y {
            let at = zip(x, y).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(x.count, y.count)
            Issue.record("reply \(i) differs at byte \(at) (\(x.count) and \(y.count) bytes): \(x.prefix(24)) against \(y.prefix(24))")
        }
        let fileA = try Data(contentsOf: URL(fileURLWithPath: a.file("f")))
        let fileB = try Data(contentsOf: URL(fileURLWithPath: b.file("f")))
        let sameFile = fileA == fileB
        #expect(sameFile, "the files written differ")
        #expect(fileA.count == 200 + Int(msize) - 23)
        #expect(Array(fileA.prefix(5)) == Array("HEL".utf8) + [7, 8])   // the raw Twrite that fits, at offset 3
        #expect(try a.read("g") == "read only")
    }
}
