import Testing
import NinePWire
@testable import NinePREPL

private func script(_ lines: [String]) async throws -> (Int32, Harness) {
    let h = Harness()
    try await h.engine.connect()
    return (await h.engine.runScript(lines), h)
}

@Test func aCleanScriptSucceeds() async throws {
    let (status, _) = try await script(["version", "attach 0 root", "# comment", "", "walk 0 1 dir", "expect Rwalk nwqid=1", "clunk 1"])
    #expect(status == 0)
}

@Test func anErrorReplyFollowedByExpectIsFine() async throws {
    let (status, _) = try await script(["version", "attach 0 root", "walk 0 1 nosuch", "expect Rlerror ENOENT", "clunk 0"])
    #expect(status == 0)
}

@Test func anUnexpectedErrorReplyStopsTheScript() async throws {
    let (status, h) = try await script(["version", "attach 0 root", "walk 0 1 nosuch", "clunk 0"])
    #expect(status == 1)
    #expect(!h.transport.sentFcalls.contains { $0.message.type == .tclunk })
    #expect(h.lines.contains { $0.contains("script:3: unexpected error reply") })
}

@Test func anErrorReplyOnTheLastLineFails() async throws {
    let (status, _) = try await script(["version", "attach 0 root", "walk 0 1 nosuch"])
    #expect(status == 1)
}

@Test func allowedFailuresContinue() async throws {
    let (status, h) = try await script(["version", "attach 0 root", "-walk 0 1 nosuch", "-cat /nope", "clunk 0"])
    #expect(status == 0)
    #expect(h.transport.sentFcalls.last?.message == .tclunk(Tclunk(fid: 0)))
}

@Test func aFailedExpectationStops() async throws {
    let (status, h) = try await script(["version", "attach 0 root", "walk 0 1 dir", "expect Rwalk nwqid=5", "clunk 1"])
    #expect(status == 1)
    #expect(h.transport.sentFcalls.last?.message.type == .twalk)
    #expect(h.lines.contains { $0.contains("script:4:") })
}

@Test func aSyntaxErrorStopsWithStatusTwo() async throws {
    let (status, h) = try await script(["version", "walk 0 zz"])
    #expect(status == 2)
    #expect(h.lines.contains { $0.hasPrefix("script:2:8:") })
}

@Test func quitEndsTheScript() async throws {
    let (status, h) = try await script(["version", "quit", "walk 0 1 nosuch"])
    #expect(status == 0)
    #expect(h.transport.sentFcalls.count == 1)
}

/// An error reply to a request sent with `&` fails the script like any other, from the command during
/// which it arrives; `-` allows it, and an `expect` right after that command decides.
@Test func anErrorReplyToABackgroundRequestCountsToo() async throws {
    let (failed, h) = try await script(["version", "attach 0 root", "walk 0 1 nosuch &", "wait", "clunk 0"])
    #expect(failed == 1)
    #expect(h.lines.contains { $0.contains("script:3: unexpected error reply") && $0.contains("ENOENT") })
    #expect(!h.transport.sentFcalls.contains { $0.message.type == .tclunk })
    let (allowed, _) = try await script(["version", "attach 0 root", "-walk 0 1 nosuch &", "wait", "clunk 0"])
    #expect(allowed == 0)
    let (expected, _) = try await script(["version", "attach 0 root", "walk 0 1 nosuch &", "wait", "expect Rlerror ENOENT"])
    #expect(expected == 0)
    let (lastLine, _) = try await script(["version", "attach 0 root", "walk 0 1 nosuch &", "wait"])
    #expect(lastLine == 1)
    let (fine, _) = try await script(["version", "attach 0 root", "walk 0 1 dir &", "wait", "clunk 1"])
    #expect(fine == 0)
}

/// A line that fails a script is said once, with its place: `script:4: expect failed: …`. It was said twice,
/// once bare and once again with the place (`expect failed: Rwalk nwqid: …` then `script:4: Rwalk nwqid: …`).
@Test func aFailureIsSaidOnceWithItsPlace() async throws {
    let (status, h) = try await script(["version", "attach 0 root", "walk 0 1 dir", "expect Rwalk nwqid=5"])
    #expect(status == 1)
    let errors = h.output.value.filter { $0.kind == .error }.map(\.text)
    #expect(errors == ["script:4: expect failed: Rwalk nwqid: expected 5, got 1"], "\(errors)")
    let (failed, g) = try await script(["version", "attach 0 root", "# a comment", "put /no/such/file /x"])
    #expect(failed == 1)
    let said = g.output.value.filter { $0.kind == .error }.map(\.text)
    #expect(said.count == 1 && said[0].hasPrefix("script:4: /no/such/file: "), "\(said)")
}
