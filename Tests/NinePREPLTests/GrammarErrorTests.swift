import Testing
import NinePWire
@testable import NinePREPL

private let L = RequestParser(dialect: .l, msize: 8192)

private func error(_ line: String, _ parser: RequestParser = L) -> ParseError? {
    do { _ = try parser.parse(line); return nil } catch { return error }
}

@Test func unknownCommandAtColumnOne() throws {
    let e = try #require(error("frobnicate 1"))
    #expect(e.column == 1)
    #expect(e.found == "frobnicate")
}

@Test func badFidPointsAtTheWord() throws {
    let e = try #require(error("walk x 1"))
    #expect(e.column == 6)
    #expect(e.expected.contains("fid"))
    #expect(e.found == "x")
}

@Test func missingRequiredArgumentNamesIt() throws {
    let e = try #require(error("walk 0"))
    #expect(e.expected.hasPrefix("NEWFID"))
    #expect(e.column == 7)   // just past the last word
}

@Test func badSymbolInAFlagSetPointsAtThatSymbol() throws {
    let e = try #require(error("lopen 1 rdwr|bogus"))
    #expect(e.column == 14)
    #expect(e.found == "bogus")
}

@Test func tooManyArguments() throws {
    let e = try #require(error("clunk 1 2"))
    #expect(e.column == 9)
    #expect(e.found == "2")
}

@Test func unterminatedQuote() throws {
    let e = try #require(error("walk 0 1 'abc"))
    #expect(e.column == 10)
    #expect(e.expected.contains("closing"))
}

@Test func derivedFieldsCannotBeSet() throws {
    let e = try #require(error("Twalk fid=0 newfid=1 nwname=3"))
    #expect(e.column == 22)
    #expect(e.message.contains("computed"))
}

@Test func unknownRawField() throws {
    let e = try #require(error("Tclunk fid=1 bogus=2"))
    #expect(e.column == 14)
    #expect(e.expected.contains("fid"))
}

@Test func rawFormNeedsFieldAssignments() throws {
    let e = try #require(error("Tclunk 1"))
    #expect(e.column == 8)
}

@Test func rawFormRequiredFieldMissing() throws {
    let e = try #require(error("Twalk fid=0"))
    #expect(e.expected.contains("newfid"))
}

@Test func replyTypesCannotBeSent() throws {
    let e = try #require(error("Rwalk nwqid=1"))
    #expect(e.column == 1)
    #expect(e.message.contains("hex"))
}

@Test func fieldNotInDialect() throws {
    let e = try #require(error("Tattach fid=0 n_uname=1", RequestParser(dialect: .p9)))
    #expect(e.column == 15)
    #expect(e.message.contains("9P2000"))
}

@Test func valueOutOfRange() throws {
    let e = try #require(error("flush 70000"))
    #expect(e.column == 7)
}

@Test func badHex() throws {
    let e = try #require(error("hex 0b0g"))
    #expect(e.column == 8)
    let odd = try #require(error("hex abc"))
    #expect(odd.expected.contains("even"))
}

@Test func backgroundOnlyForRequests() throws {
    let e = try #require(error("fids &"))
    #expect(e.message.contains("background"))
}

@Test func errorDescriptionMentionsColumnAndExpectation() throws {
    let e = try #require(error("read 1 zz"))
    #expect(e.description.contains("column 8"))
    #expect(e.description.contains("expected"))
    #expect(e.caret(under: "read 1 zz") == "       ^")
}

@Test func badSetattrTime() throws {
    let e = try #require(error("setattr 1 mtime=yesterday"))
    #expect(e.column == 17)
}

/// An unknown first word that is a slip of the keys names the command or message meant, swapped letters
/// included (`wlak`, which plain Levenshtein puts two edits from walk); one that is nothing like any gets
/// no guess.
@Test func anUnknownCommandNamesTheNearestOne() throws {
    for (typed, meant) in [("wlak 0 1", "walk"), ("Twlak fid=0 newfid=1", "Twalk"), ("versoin", "version"),
                           ("getatr 1", "getattr")] {
        let e = try #require(error(typed))
        #expect(e.message == "unknown command", "\(typed): \(e)")
        #expect(e.detail.hasSuffix("; did you mean \(meant)?"), "\(typed): \(e.detail)")
    }
    let far = try #require(error("frobnicate 1"))
    #expect(!far.detail.contains("did you mean"), "\(far.detail)")
}
