@testable import InspectorCore
import Testing

@Suite struct RegistryTests {
    let registry = CommandRegistry.standard

    @Test func everyBindingResolvesToACommand() {
        for binding in registry.bindings {
            #expect(registry.command(named: binding.command) != nil, "\(binding.key) → \(binding.command)")
            #expect(registry.command(forKey: binding.key) == binding.command, "\(binding.key)")
        }
    }

    @Test func keysAreBoundOnce() {
        let keys = registry.bindings.map(\.key)
        #expect(Set(keys).count == keys.count)
    }

    @Test func theBriefsKeysAreBound() {
        let expected: [String: CommandName] = [
            "j": .listDown, "k": .listUp, "down": .listDown, "up": .listUp, "g": .listTop, "G": .listBottom,
            "ctrl-f": .listPageDown, "ctrl-b": .listPageUp, "pgdn": .listPageDown, "pgup": .listPageUp,
            "enter": .listOpen, "tab": .viewCycle, "/": .filterEdit, ":": .promptCommand, "f": .exchangeFlush,
            "i": .exchangeInject, "s": .captureSave, "?": .viewHelp, "q": .viewClose,
        ]
        for (key, command) in expected {
            #expect(registry.command(forKey: key) == command, "\(key)")
        }
    }

    @Test func namesAreUniqueAcrossCommandsAndAliases() {
        var seen: [String: CommandName] = [:]
        for c in registry.commands.values {
            for word in [c.name.rawValue] + c.aliases {
                #expect(seen[word.lowercased()] == nil, "\(word) names \(seen[word.lowercased()]!) and \(c.name)")
                seen[word.lowercased()] = c.name
            }
        }
    }

    @Test func promptResolvesNamesAliasesAndRequests() {
        #expect(registry.resolve("") == .none)
        #expect(registry.resolve("   ") == .none)
        #expect(registry.resolve("view.stats") == .command(.viewStats, argument: nil))
        #expect(registry.resolve("stats") == .command(.viewStats, argument: nil))
        #expect(registry.resolve("  STATS  ") == .command(.viewStats, argument: nil))
        #expect(registry.resolve("q") == .command(.appQuit, argument: nil))
        #expect(registry.resolve("filter Twalk and fid:3") == .command(.filterEdit, argument: "Twalk and fid:3"))
        #expect(registry.resolve("save /tmp/x.pcapng") == .command(.captureSave, argument: "/tmp/x.pcapng"))
        #expect(registry.resolve("flush") == .command(.exchangeFlush, argument: nil))
        // A command that takes no argument, given one: a request to inject.
        #expect(registry.resolve("flush 3") == .inject("flush 3"))
        #expect(registry.resolve("walk 0 100 etc passwd") == .inject("walk 0 100 etc passwd"))
        #expect(registry.resolve("Tgetattr fid=100 mask=basic") == .inject("Tgetattr fid=100 mask=basic"))
        #expect(registry.resolve("inject walk 0 1") == .command(.exchangeInject, argument: "walk 0 1"))
    }

    @Test func helpListsEveryCommandOnceWithItsKeys() {
        let entries = registry.helpSections.flatMap(\.entries)
        #expect(entries.count == registry.commands.count)
        #expect(Set(entries.map(\.command)) == Set(registry.commands.keys))
        let flush = entries.first { $0.command == .exchangeFlush }!
        #expect(flush.keys == ["f"])
        #expect(flush.summary == registry.command(named: .exchangeFlush)!.summary)
        let down = entries.first { $0.command == .listDown }!
        #expect(down.keys == ["j", "down"])
        let filter = entries.first { $0.command == .filterEdit }!
        #expect(filter.usage == ":filter [EXPR]")
    }

    @Test func laterBindingsOverrideEarlierOnes() {
        let custom = CommandRegistry(commands: CommandRegistry.standardCommands,
                                     bindings: CommandRegistry.standardBindings + [KeyBinding("j", .appQuit)])
        #expect(custom.command(forKey: "j") == .appQuit)
        #expect(custom.keys(for: .listDown) == ["down"])
    }
}

@Suite struct HistoryTests {
    @Test func keepsOrderDropsRepeatsAndBlanks() {
        var h = History(limit: 3)
        h.add("Twalk")
        h.add("  ")
        h.add("error")
        h.add("Twalk")
        #expect(h.entries == ["error", "Twalk"])
        h.add("a")
        h.add("b")
        #expect(h.entries == ["Twalk", "a", "b"])
        #expect(h.entry(stepsBack: 1) == "b")
        #expect(h.entry(stepsBack: 3) == "Twalk")
        #expect(h.entry(stepsBack: 4) == nil)
        #expect(h.entry(stepsBack: 0) == nil)
    }

    @Test func fileFormatRoundTrips() {
        var h = History()
        for line in ["Twalk", "path:\"/my dir\"", "latency>10ms"] { h.add(line) }
        #expect(h.text == "Twalk\npath:\"/my dir\"\nlatency>10ms\n")
        #expect(History(text: h.text) == h)
        #expect(History(text: "").entries.isEmpty)
        #expect(History(text: "a\r\nb\n").entries == ["a", "b"])
    }

    @Test func prefixMatchesNewestFirst() {
        let h = History(entries: ["fid:1", "Twalk", "fid:2"])
        #expect(h.matching(prefix: "fid") == ["fid:2", "fid:1"])
    }
}
