import Testing
import NinePWire
@testable import NinePREPL

private func complete(_ line: String, _ context: CompletionContext = CompletionContext()) -> [String] {
    Completer.complete(line: line, cursor: line.count, context: context)
}

@Test func commandNames() {
    // Table order: requests first, then REPL commands.
    #expect(complete("wa") == ["walk", "wait"])
    #expect(Set(complete("Tw")) == ["Twalk", "Twrite", "Twstat"])
    #expect(complete("-cl") == ["-clunk"])
    #expect(complete("").contains("version"))
    #expect(complete("").contains("Tversion"))
    #expect(!complete("").contains("Rversion"))
}

@Test func symbolicValuesAfterTheLastBar() {
    #expect(Set(complete("lopen 1 rd")) == ["rdonly", "rdwr"])
    #expect(complete("lopen 1 rdwr|cr") == ["rdwr|create"])
    #expect(complete("getattr 1 ba") == ["basic"])
    #expect(complete("unlinkat 1 d re") == ["removedir"])
    #expect(complete("lock 1 wr") == ["wrlck"])
}

@Test func rawFieldNamesAndValues() {
    #expect(complete("Twalk ne") == ["newfid="])
    #expect(!complete("Twalk fid=0 ").contains("fid="))
    #expect(complete("Twalk fid=0 ").contains("wname="))
    #expect(!complete("Twalk ").contains("nwname="))
    #expect(complete("Tlopen fid=1 flags=rdwr|tr") == ["flags=rdwr|trunc"])
    #expect(complete("Tattach n_") == ["n_uname="])
    #expect(complete("Tattach n_", CompletionContext(dialect: .p9)) == [])
}

@Test func fidsAndTagsFromTheContext() {
    let ctx = CompletionContext(fids: [0: [], 3: ["usr"]], pendingTags: [4, 2])
    #expect(complete("clunk ", ctx) == ["0", "3"])
    // A fid the request makes is one not in use (walk(5), attach(5)): the lowest free, not those in use.
    #expect(complete("walk 3 ", ctx) == ["1"])
    #expect(complete("Twalk fid=3 newfid=", ctx) == ["newfid=1"])
    #expect(complete("xattrwalk 3 ", ctx) == ["1"])
    #expect(complete("attach ", ctx) == ["1"])
    #expect(complete("Tauth afid=", ctx) == ["afid=1"])
    #expect(complete("walk ", ctx) == ["0", "3"])
    #expect(complete("flush ", ctx) == ["2", "4"])
    #expect(complete("wait ", ctx) == ["2", "4"])
    #expect(complete("Tclunk fid=", ctx) == ["fid=0", "fid=3"])
}

@Test func remotePaths() {
    let listings: [String: [String]] = ["/": ["usr/", "etc/", "README"], "/usr": ["bin/", "lib/"]]
    let ctx = CompletionContext(remoteNames: { listings[$0] })
    #expect(complete("cat /u", ctx) == ["/usr/"])
    #expect(Set(complete("ls /", ctx)) == ["/usr/", "/etc/", "/README"])
    #expect(complete("cat /usr/b", ctx) == ["/usr/bin/"])
    #expect(complete("stat /R", ctx) == ["/README"])
    #expect(complete("put local /e", ctx) == ["/etc/"])
    #expect(complete("cat /nowhere/x", ctx) == [])
}

@Test func walkNamesFollowTheFidsPath() {
    let listings: [String: [String]] = ["/usr": ["bin/", "lib/"], "/usr/bin": ["ls", "cat"]]
    let ctx = CompletionContext(fids: [3: ["usr"]], remoteNames: { listings[$0] })
    #expect(complete("walk 3 4 b", ctx) == ["bin"])
    #expect(complete("walk 3 4 bin c", ctx) == ["cat"])
}

@Test func expectCompletion() {
    #expect(Set(complete("expect Rl")) == ["Rlerror", "Rlopen", "Rlcreate", "Rlock", "Rlink"])
    #expect(complete("expect o") == ["ok"])
    #expect(complete("expect Rlerror ENOE") == ["ENOENT"])
    #expect(complete("expect Rlerror enoe") == ["enoent"])
    #expect(complete("expect Rwalk nw") == ["nwqid="])
    #expect(complete("expect Rlock status=") .contains("status=success"))
}

@Test func helpAndSet() {
    #expect(complete("help Rwa") == ["Rwalk"])
    #expect(Set(complete("set d")) == ["datalimit", "dialect"])
    #expect(complete("set dialect 9P2000.") == ["9P2000.u", "9P2000.L"])
}

@Test func fieldAssignmentsInFriendlyForms() {
    #expect(complete("walk 0 1 ta") == ["tag="])
    #expect(complete("setattr 1 mt").contains("mtime="))
}

/// Remote names are offered as words the line reads back as their bytes: a blank, a quote, a separator,
/// a control byte or a byte that is not UTF-8 is escaped; the typed directory before them (escapes,
/// quotes and all) names the listing.
@Test func remoteNamesAreOfferedAsWordsThatParseBack() throws {
    let listings: [String: [String]] = [
        "/": ["my\\ dir/", "plain"],
        "/my\\ dir": [Tokenizer.escapedWord(Array("sp ace".utf8)), Tokenizer.escapedWord(Array("bad".utf8) + [0xFF, 0xFE])],
    ]
    let ctx = CompletionContext(remoteNames: { listings[$0] })
    #expect(complete("ls /my", ctx) == ["/my\\ dir/"])
    #expect(complete("cat /my\\ dir/s", ctx) == ["/my\\ dir/sp\\ ace"])
    #expect(complete("cat /my\\ dir/b", ctx) == ["/my\\ dir/bad\\xff\\xfe"])
    #expect(Set(complete("cat /my\\ dir/", ctx)) == ["/my\\ dir/sp\\ ace", "/my\\ dir/bad\\xff\\xfe"])
    // What completion offers parses as the bytes of the path.
    let line = "cat " + complete("cat /my\\ dir/b", ctx)[0]
    #expect(try Tokenizer.tokenize(line).map(\.bytes) == [Array("cat".utf8), Array("/my dir/bad".utf8) + [0xFF, 0xFE]])
}

@Test func escapedWordsReadBackAsTheirBytes() throws {
    #expect(Tokenizer.escapedWord(Array("sp ace".utf8)) == "sp\\ ace")
    #expect(Tokenizer.escapedWord(Array("bad".utf8) + [0xFF, 0xFE]) == "bad\\xff\\xfe")
    #expect(Tokenizer.escapedWord(Array("new\nline\t#1".utf8)) == "new\\nline\\t\\#1")
    #expect(Tokenizer.escapedWord(Array("a=b,c|d'e\"f\\g".utf8)) == "a\\=b\\,c\\|d\\'e\\\"f\\\\g")
    #expect(Tokenizer.escapedWord(Array("café 日本".utf8)) == "café\\ 日本")
    #expect(Tokenizer.escapedWord([0x01, 0x7F, 0xC2, 0x80, 0xE2, 0x82]) == "\\x01\\x7f\\xc2\\x80\\xe2\\x82")
    var rng = SystemRandomNumberGenerator()
    for length in 1...40 {
        for _ in 0..<200 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let word = Tokenizer.escapedWord(bytes)
            #expect(try Tokenizer.tokenize(word).map(\.bytes) == [bytes], "\(bytes) → \(word)")
        }
    }
}

@Test func typedWordsSplitWhereTheLineDoes() {
    #expect(Tokenizer.typedWords("") == [""])
    #expect(Tokenizer.typedWords("ls ") == ["ls", ""])
    #expect(Tokenizer.typedWords("cat /my\\ dir/f") == ["cat", "/my\\ dir/f"])
    #expect(Tokenizer.typedWords("cat \"/a b/c") == ["cat", "\"/a b/c"])
    #expect(Tokenizer.typedWords("walk 1 2  x\ty") == ["walk", "1", "2", "x", "y"])
    #expect(Tokenizer.typedBytes("/my\\ dir") == Array("/my dir".utf8))
    #expect(Tokenizer.typedBytes("\"/a b") == Array("/a b".utf8))
    #expect(Tokenizer.typedBytes("/a\\") == Array("/a".utf8))
    #expect(Tokenizer.typedBytes("/x\\xff") == Array("/x".utf8) + [0xFF])
}
