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
}
