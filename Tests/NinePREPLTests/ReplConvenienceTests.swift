import Testing
import NinePWire
@testable import NinePREPL

@Test func lsWalksOpensReadsAndClunks() async throws {
    let h = Harness()
    try await h.start()
    let before = h.transport.sentFcalls.count
    h.clearOutput()
    #expect(await h.engine.execute("ls /") == .ok)
    let sent = h.transport.sentFcalls.dropFirst(before).map(\.message.type)
    #expect(sent == [.twalk, .tlopen, .treaddir, .treaddir, .tclunk])
    #expect(h.lines.contains("   hello.txt"))
    #expect(h.lines.contains("   dir/"))
    // Every message is printed.
    #expect(h.output.value.filter { $0.kind == .sent }.count == 5)
    #expect(h.output.value.filter { $0.kind == .received }.count == 5)
    // The scratch fid is gone afterwards.
    h.clearOutput()
    _ = await h.run("fids")
    #expect(h.lines.count == 2)   // header + fid 0
}

@Test func catPrintsTheContent() async throws {
    let h = Harness()
    try await h.start()
    h.clearOutput()
    #expect(await h.engine.execute("cat /hello.txt") == .ok)
    #expect(h.lines.last == "hello")
}

@Test func catShowsUpToItsLimitAndReadsTheRest() async throws {
    let h = Harness()
    try await h.start()
    #expect(await h.engine.execute("set catlimit 10") == .ok)
    h.clearOutput()
    #expect(await h.engine.execute("cat /big") == .ok)
    let content = h.lines.filter { !$0.hasPrefix("->") && !$0.hasPrefix("<-") && !$0.hasPrefix("   ") }
    #expect(content == ["AAAAAAAAAA"])
    #expect(h.lines.last == "   … 90 more bytes not shown (100 in all; set catlimit N shows N, 0 all)")
    // The file was read to its end all the same: the last Tread got an empty Rread.
    #expect(h.lines.contains { $0.hasPrefix("-> Tread") && $0.contains("offset 100") })
    // 0 shows everything.
    #expect(await h.engine.execute("set catlimit 0") == .ok)
    h.clearOutput()
    #expect(await h.engine.execute("cat /big") == .ok)
    #expect(h.lines.last == String(repeating: "A", count: 100))
    guard case .failed = await h.engine.execute("set catlimit -1") else { Issue.record("a negative limit is refused"); return }
}

@Test func catOfAMissingFileFails() async throws {
    let h = Harness()
    try await h.start()
    let outcome = await h.engine.execute("cat /nope")
    guard case .errorReply = outcome else { Issue.record("expected an error reply, got \(outcome)"); return }
    let partial = await h.engine.execute("cat /dir/zzz")
    guard case .failed(let why) = partial else { Issue.record("expected a failure, got \(partial)"); return }
    #expect(why.contains("'zzz' not found"))
}

@Test func statPathShowsGetattrFields() async throws {
    let h = Harness()
    try await h.start()
    h.clearOutput()
    #expect(await h.engine.execute("stat /hello.txt") == .ok)
    #expect(h.lines.contains("   size 6"))
    #expect(h.transport.sentFcalls.contains { $0.message == .tgetattr(Tgetattr(fid: 1000, requestMask: .all)) })
    // Times as dates (a _sec/_nsec pair on one line, zero left as it is), the mode as ls shows it; the
    // trace line keeps the wire's numbers.
    #expect(h.lines.contains("   mtime 2026-12-07T06:13:33.107246740Z (1796624013.107246740)"), "\(h.lines)")
    #expect(h.lines.contains("   atime 0"))
    #expect(!h.lines.contains { $0.hasPrefix("   mtime_nsec") })
    #expect(h.lines.contains("   mode 0100644 (regular file, rw-r--r--)"))
    #expect(h.lines.contains { $0.hasPrefix("<- Rgetattr") && $0.contains("mtime_sec 1796624013 mtime_nsec 107246740") })
}

@Test func statTimesKeepTheWireNumbers() {
    #expect(StatLines.time(0, nsec: 0) == "0")
    #expect(StatLines.time(1, nsec: 5) == "1970-01-01T00:00:01.000000005Z (1.000000005)")
    #expect(StatLines.time(1_796_624_013, nsec: nil) == "2026-12-07T06:13:33Z (1796624013)")
    #expect(StatLines.time(UInt64.max, nsec: 0) == "18446744073709551615.000000000")   // not a date
    #expect(StatLines.time(5, nsec: 2_000_000_000) == "5.2000000000")                  // not a time: as sent
}

@Test func putWritesTheLocalFile() async throws {
    let server = TinyServer()
    let h = Harness(server: server, files: ["/local/x": Array("0123456789".utf8)])
    try await h.start()
    #expect(await h.engine.execute("put /local/x /dir/new") == .ok)
    #expect(server.tree.value["/dir/new"]?.data == Array("0123456789".utf8))
    // iounit 4 → three writes.
    #expect(h.transport.sentFcalls.filter { $0.message.type == .twrite }.count == 3)
    #expect(await h.engine.execute("put /local/missing /dir/y") != .ok)
}

@Test func conveniencesNeedAnAttach() async throws {
    let h = Harness()
    try await h.engine.connect()
    guard case .failed(let why) = await h.engine.execute("ls /") else { Issue.record("ls should fail"); return }
    #expect(why.contains("attach"))
}

@Test func completionFetchesRemoteNamesQuietly() async throws {
    let h = Harness()
    try await h.start()
    h.clearOutput()
    let names = await h.engine.complete(line: "cat /he", cursor: 7)
    #expect(names == ["/hello.txt"])
    let dirs = await h.engine.complete(line: "ls /d", cursor: 5)
    #expect(dirs == ["/dir/"])
    let inner = await h.engine.complete(line: "cat /dir/", cursor: 9)
    #expect(inner == ["/dir/a"])
    #expect(!h.output.value.contains { $0.kind == .sent || $0.kind == .received })
    let fids = await h.engine.complete(line: "clunk ", cursor: 6)
    #expect(fids == ["0"])
}
