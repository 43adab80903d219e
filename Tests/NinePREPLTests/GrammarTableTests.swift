import Testing
import NinePWire
import TUICore
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

/// Help fits the terminal: on a wide one a long summary wraps under its own column, on a narrow one it goes
/// under its usage; the closing paragraph fills the width; a message's long field line wraps indented. With
/// no terminal (a pipe, a script) every entry stays one line, as scripts and logs had it.
@Test func helpWrapsToTheTerminal() throws {
    let unwrapped = GrammarHelp.overview()
    let hexLine = try #require(unwrapped.first { $0.hasPrefix("  hex ") })
    #expect(hexLine.count > 140, "the hex summary is long enough to need wrapping at 140 columns")
    let start = try #require(hexLine.firstRange(of: "send raw bytes")).lowerBound
    let summaryColumn = hexLine.distance(from: hexLine.startIndex, to: start)

    let wide = GrammarHelp.overview(width: 140)
    #expect(wide.allSatisfy { displayWidth(of: $0) < 140 }, "\(wide.filter { displayWidth(of: $0) >= 140 })")
    let hex = try #require(wide.firstIndex { $0.hasPrefix("  hex ") })
    #expect(wide[hex].hasPrefix(String(hexLine.prefix(summaryColumn))), "usage and summary side by side")
    #expect(wide[hex + 1].hasPrefix(String(repeating: " ", count: summaryColumn)))
    #expect(wide[hex + 1].dropFirst(summaryColumn).first != " ", "the continuation starts at the summary's column")
    // Every word of every entry is still there, in order.
    #expect(wide.joined(separator: " ").split(separator: " ") == unwrapped.joined(separator: " ").split(separator: " "))

    let narrow = GrammarHelp.overview(width: 60)
    #expect(narrow.allSatisfy { displayWidth(of: $0) < 60 }, "\(narrow.filter { displayWidth(of: $0) >= 60 })")
    let hexNarrow = try #require(narrow.firstIndex { $0.hasPrefix("  hex ") })
    #expect(narrow[hexNarrow] == "  hex BYTES…")
    #expect(narrow[hexNarrow + 1].hasPrefix("      send raw bytes"))
    #expect(narrow.joined(separator: " ").split(separator: " ") == unwrapped.joined(separator: " ").split(separator: " "))

    let lopen = try #require(GrammarHelp.topic("Tlopen", width: 60))
    #expect(lopen.allSatisfy { displayWidth(of: $0) < 60 }, "\(lopen)")
    let flags = try #require(lopen.firstIndex { $0.hasPrefix("  flags: ") })
    #expect(lopen[flags + 1].hasPrefix("      ") && !lopen[flags + 1].hasPrefix("       "))
    #expect(GrammarHelp.topic("Tlopen")!.count < lopen.count)
}
