import NinePREPL
import Testing

/// `--define NAME=VALUE` and `${NAME}` in REPL lines.
@Suite struct ScriptVariablesTests {
    @Test func definitionsAreParsed() throws {
        let v = try ScriptVariables(definitions: ["ANAME=/srv/export", "UNAME=root", "EMPTY=", "EQ=a=b"])
        #expect(v.values == ["ANAME": "/srv/export", "UNAME": "root", "EMPTY": "", "EQ": "a=b"])
    }

    @Test func badDefinitionsAreRefused() {
        #expect(throws: ScriptVariableError.self) { try ScriptVariables(definitions: ["novalue"]) }
        #expect(throws: ScriptVariableError.self) { try ScriptVariables(definitions: ["1X=a"]) }
        #expect(throws: ScriptVariableError.self) { try ScriptVariables(definitions: ["A-B=a"]) }
        #expect(throws: ScriptVariableError.self) { try ScriptVariables(definitions: ["=a"]) }
    }

    @Test func namesAreReplaced() throws {
        let v = try ScriptVariables(definitions: ["ANAME=/srv", "U=root"])
        #expect(try v.expand("attach 0 ${U} ${ANAME}") == "attach 0 root /srv")
        #expect(try v.expand("walk 0 1 ${ANAME}${ANAME}") == "walk 0 1 /srv/srv")
        #expect(try v.expand("no variables here") == "no variables here")
        // $$ is a literal $, a lone $ stays.
        #expect(try v.expand("write 1 0 $$5 and $ alone $x") == "write 1 0 $5 and $ alone $x")
    }

    @Test func defaultsApplyOnlyWhenUndefined() throws {
        let v = try ScriptVariables(definitions: ["U=root"])
        #expect(try v.expand("attach 0 ${U:-nobody} ${ANAME:-}") == "attach 0 root ")
        #expect(try v.expand("${X:-a:b}") == "a:b")
    }

    @Test func undefinedOrUnclosedNamesTheColumn() {
        let v = ScriptVariables()
        do {
            _ = try v.expand("attach 0 ${WHO}")
            Issue.record("no error")
        } catch {
            #expect(error.description == "column 10: ${WHO} is not defined (define it with --define WHO=VALUE)")
        }
        do {
            _ = try v.expand("walk ${A")
            Issue.record("no error")
        } catch {
            #expect(error.description.hasPrefix("column 6: '${' without '}'"))
        }
    }
}
