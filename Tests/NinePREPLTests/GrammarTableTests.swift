import Testing
import NinePWire
@testable import NinePREPL

@Test func everyMessageTypeHasASchema() {
    for t in MessageType.allCases where t != .terror && t != .tlerror {
        let schema = MessageSchema.schema(for: t)
        #expect(schema != nil, "no schema for \(t.name)")
        if t.isRequest { #expect(schema?.builder != nil, "\(t.name) cannot be built") }
    }
}

@Test func positionalArgumentsNameRealFields() {
    for spec in CommandSpec.all {
        guard let schema = spec.schema else { continue }
        for name in spec.positional {
            #expect(schema.field(named: name) != nil, "\(spec.name): \(name) is not a field of \(schema.name)")
        }
        #expect(spec.required <= spec.positional.count)
    }
}

@Test func commandNamesAreUnique() {
    let names = CommandSpec.all.map(\.name)
    #expect(Set(names).count == names.count)
}

@Test func schemaReadsWhatItBuilds() throws {
    // For every request, the values read back from a message built with all-default fields line up
    // with the schema's field list (same count, derived fields present).
    let parser = RequestParser(dialect: .l)
    for spec in CommandSpec.all where spec.messageType != nil {
        let args = spec.positional.prefix(spec.required).map { _ in "1" }.joined(separator: " ")
        let request = try parser.parseRequest(spec.name + " " + args)
        let schema = try #require(MessageSchema.schema(of: request.message))
        let values = try #require(schema.values(of: request.message))
        #expect(values.count == schema.fields.count, "\(schema.name)")
    }
}

@Test func helpCoversEveryCommandAndMessage() {
    for spec in CommandSpec.all { #expect(GrammarHelp.topic(spec.name) != nil, "\(spec.name)") }
    for schema in MessageSchema.all { #expect(GrammarHelp.topic(schema.name)?.first?.hasPrefix(schema.name) == true) }
    let overview = GrammarHelp.overview().joined(separator: "\n")
    for spec in CommandSpec.all { #expect(overview.contains("  " + spec.name), "\(spec.name) missing from help") }
    #expect(GrammarHelp.topic("nonsense") == nil)
    // Fields with a default say so; required raw-form fields say that instead.
    let walk = GrammarHelp.topic("Twalk")!.joined(separator: "\n")
    #expect(walk.contains("fid: a fid (number or NOFID); required in the raw form"))
}
