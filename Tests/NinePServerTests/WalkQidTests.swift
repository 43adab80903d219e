import Foundation
import NinePDrivers
import NinePServer
import NinePTestSupport
import NinePWire
import Synchronization
import Testing

/// A walk takes each element's qid from `lookupWithQid`, which a driver answers from what its lookup
/// already learned, instead of asking `qid(of:)` again for every walked name.
@Suite struct WalkQidTests {
    /// A chain of directories `a/b/c/…`, counting the calls a walk makes.
    final class Chain: FileSystemDriver {
        struct Node: Sendable { var depth: Int }
        typealias OpenFile = Never
        let qidCalls = Atomic<Int>(0)
        let combined = Atomic<Int>(0)
        let takesBoth: Bool
        init(takesBoth: Bool) { self.takesBoth = takesBoth }

        static func qid(_ depth: Int) -> Qid { Qid(type: .dir, version: 0, path: 1000 + UInt64(depth)) }

        func attach(_ request: AttachRequest) async throws(Errno) -> Node { Node(depth: 0) }
        func lookup(_ directory: Node, name: P9String) async throws(Errno) -> Node {
            let depth = directory.depth + 1
            guard depth < 10, name.string == String(UnicodeScalar(UInt8(0x60 + depth))) else { throw .ENOENT }
            return Node(depth: depth)
        }
        func qid(of node: Node) async throws(Errno) -> Qid {
            qidCalls.add(1, ordering: .relaxed)
            return Self.qid(node.depth)
        }
        func getattr(_ node: Node) async throws(Errno) -> NodeAttributes {
            NodeAttributes(qid: Self.qid(node.depth), mode: 0o040755, nlink: 2)
        }
        func lookupWithQid(_ directory: Node, name: P9String) async throws(Errno) -> (node: Node, qid: Qid) {
            guard takesBoth else {
                let node = try await lookup(directory, name: name)
                return (node, try await qid(of: node))
            }
            combined.add(1, ordering: .relaxed)
            let node = try await lookup(directory, name: name)
            return (node, Self.qid(node.depth))
        }
    }

    @Test func aWalkAsksNoQidOfItsElements() async throws {
        let driver = Chain(takesBoth: true)
        let c = await NinePTestClient.connect(driver: driver)
        _ = try await c.version(msize: 8192)
        _ = try await c.attach(0)
        let before = driver.qidCalls.load(ordering: .relaxed)
        let qids = try await c.walk(0, 1, ["a", "b", "c", "d"])
        #expect(qids == (1...4).map { Chain.qid($0) })
        #expect(driver.combined.load(ordering: .relaxed) == 4)
        #expect(driver.qidCalls.load(ordering: .relaxed) == before, "a walk asked qid(of:) for its elements")
        // A walk that fails part-way answers the qids up to there, still from the lookups.
        let partial = try await c.rpc(.twalk(Twalk(fid: 0, newfid: 2, wnames: ["a", "b", "x", "d"])))
        #expect(partial == .rwalk(Rwalk(wqids: [Chain.qid(1), Chain.qid(2)])))
        #expect(driver.qidCalls.load(ordering: .relaxed) == before)
        await c.close()
    }

    /// The same walks through a driver that answers `lookupWithQid` with two calls: the same replies.
    @Test func theTwoWaysGiveTheSameReplies() async throws {
        var replies: [[Message]] = []
        for takesBoth in [true, false] {
            let driver = Chain(takesBoth: takesBoth)
            let c = await NinePTestClient.connect(driver: driver)
            _ = try await c.version(msize: 8192)
            _ = try await c.attach(0)
            var got: [Message] = []
            for names in [["a"], ["a", "b", "c"], ["a", "..", "a", ".", "b"], ["x"], ["a", "x"], ["a", "b", "c", "d", "e", "f", "g", "h", "i"]] {
                got.append(try await c.rpc(.twalk(Twalk(fid: 0, newfid: 9, wnames: names.map { P9String($0) }))))
                _ = try? await c.rpc(.tclunk(Tclunk(fid: 9)))
            }
            replies.append(got)
            await c.close()
        }
        #expect(replies[0] == replies[1])
        #expect(replies[0][2] == .rwalk(Rwalk(wqids: [Chain.qid(1), Chain.qid(0), Chain.qid(1), Chain.qid(1), Chain.qid(2)])))
    }

    /// The local driver's answer is the qid `qid(of:)` gives for the node it returns, for every kind of
    /// object, and a symlink's node still knows its place (its own xattrs are reachable).
    @Test func localDriverAnswersAsQidOf() async throws {
        let dir = try TempDirectory("walkqid")
        defer { dir.remove() }
        try dir.write("f", "x")
        try FileManager.default.createDirectory(atPath: dir.file("d"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir.file("l"), withDestinationPath: "f")
        #expect(mkfifo(dir.file("p"), 0o600) == 0)
        let driver = try LocalDriver(root: dir.path)
        let root = try await driver.attach(AttachRequest(uname: "t", aname: ""))
        var seen: Set<UInt64> = []
        for name in ["f", "d", "l", "p"] {
            let (node, qid) = try await driver.lookupWithQid(root, name: P9String(name))
            #expect(try await driver.qid(of: node) == qid, "\(name)")
            #expect(try await driver.getattr(node).qid == qid, "\(name)")
            seen.insert(qid.path)
        }
        #expect(seen.count == 4)
        let (link, _) = try await driver.lookupWithQid(root, name: "l")
        await #expect(throws: Errno.ENODATA) { try await driver.getxattr(link, name: "trusted.none") }
        await #expect(throws: Errno.ENOENT) { try await driver.lookupWithQid(root, name: "missing") }
        await #expect(throws: Errno.ENOTDIR) { try await driver.lookupWithQid(try await driver.lookup(root, name: "f"), name: "x") }
    }
}
