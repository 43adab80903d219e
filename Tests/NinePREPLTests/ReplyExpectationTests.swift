import Testing
import NinePWire
@testable import NinePREPL

private func expectation(_ line: String, _ dialect: Dialect = .l) throws -> ReplyExpectation {
    guard case .expect(let e)? = try RequestParser(dialect: dialect).parse(line).command else {
        throw ParseError(column: 1, expected: "expect")
    }
    return e
}

@Test func typeOnly() throws {
    let e = try expectation("expect Rclunk")
    #expect(e.failure(for: Fcall(tag: 1, .rclunk)) == nil)
    #expect(e.failure(for: Fcall(tag: 1, .rlerror(Rlerror(ecode: .EBADF)))) != nil)
    #expect(e.failure(for: nil) == "no reply to check")
}

@Test func positionalValueChecksTheFirstSettableField() throws {
    let e = try expectation("expect Rlerror ENOENT")
    #expect(e.checks == [ReplyExpectation.Check(field: "ecode", op: .equal, value: .number(2), column: 16)])
    #expect(e.failure(for: Fcall(tag: 1, .rlerror(Rlerror(ecode: .ENOENT)))) == nil)
    let why = try #require(e.failure(for: Fcall(tag: 1, .rlerror(Rlerror(ecode: .EPERM)))))
    #expect(why.contains("ENOENT (2)") && why.contains("EPERM (1)"))
}

@Test func derivedCountsAndData() throws {
    let walk = Fcall(tag: 0, .rwalk(Rwalk(wqids: [Qid(type: .dir, path: 5), Qid(path: 6)])))
    #expect(try expectation("expect Rwalk nwqid=2").failure(for: walk) == nil)
    #expect(try expectation("expect Rwalk nwqid!=2").failure(for: walk) != nil)
    let read = Fcall(tag: 0, .rread(Rread(data: Array("hello world".utf8))))
    #expect(try expectation("expect Rread data='hello world'").failure(for: read) == nil)
    #expect(try expectation("expect Rread count=11 data~=wor").failure(for: read) == nil)
    #expect(try expectation("expect Rread data~=xyz").failure(for: read) != nil)
    #expect(try expectation("expect Rread 0x68656c6c6f20776f726c64").failure(for: read) == nil)
}

@Test func qidParts() throws {
    let attach = Fcall(tag: 0, .rattach(Rattach(qid: Qid(type: .dir, version: 3, path: 0x10))))
    #expect(try expectation("expect Rattach qid.type=dir qid.path=16 qid.version=3").failure(for: attach) == nil)
    #expect(try expectation("expect Rattach qid.type=file").failure(for: attach) != nil)
    #expect(try expectation("expect Rattach qid=dir:3:0x10").failure(for: attach) == nil)
}

@Test func readdirNames() throws {
    let data = Dirent.encodeAll([Dirent(qid: Qid(path: 1), offset: 1, type: 8, name: "a"),
                                 Dirent(qid: Qid(path: 2), offset: 2, type: 4, name: "b")])
    let r = Fcall(tag: 0, .rreaddir(Rreaddir(data: data)))
    #expect(try expectation("expect Rreaddir names~=b").failure(for: r) == nil)
    #expect(try expectation("expect Rreaddir names=a,b").failure(for: r) == nil)
    #expect(try expectation("expect Rreaddir names~=c").failure(for: r) != nil)
}

@Test func okAndError() throws {
    #expect(try expectation("expect ok").failure(for: Fcall(tag: 0, .rclunk)) == nil)
    #expect(try expectation("expect ok").failure(for: Fcall(tag: 0, .rerror(Rerror(ename: "no")))) != nil)
    #expect(try expectation("expect error").failure(for: Fcall(tag: 0, .rerror(Rerror(ename: "no")))) == nil)
    #expect(try expectation("expect Rerror 'file not found'", .p9).failure(for: Fcall(tag: 0, .rerror(Rerror(ename: "file not found")))) == nil)
}

/// nfs-ganesha's errors: a 9P2000.L Rerror of errno[4] alone. `errno=` checks it; an ename check says what to
/// write instead (it said "Rerror has no ename in this dialect").
@Test func anErrnoOnlyRerror() throws {
    let ganesha = Fcall(tag: 0, .rerror(Rerror(ename: nil, errno: 2)))
    #expect(try expectation("expect Rerror errno=ENOENT").failure(for: ganesha) == nil)
    #expect(try expectation("expect Rerror errno=EIO").failure(for: ganesha) != nil)
    #expect(try expectation("expect error").failure(for: ganesha) == nil)
    #expect(try expectation("expect Rerror ENOENT").failure(for: ganesha)
            == "Rerror has no ename: its body is errno[4] alone (errno ENOENT); check it with errno=ENOENT")
}

@Test func expectParseErrors() throws {
    #expect(throws: ParseError.self) { try expectation("expect Twalk") }
    #expect(throws: ParseError.self) { try expectation("expect Rwalk bogus=1") }
    #expect(throws: ParseError.self) { try expectation("expect") }
    #expect(throws: ParseError.self) { try expectation("expect Rclunk 5") }
    #expect(throws: ParseError.self) { try expectation("expect Rwalk nwqid~=2") }
}
