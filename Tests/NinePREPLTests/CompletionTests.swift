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
    #expect(complete("walk 3 ", ctx) == ["0", "3"])
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
