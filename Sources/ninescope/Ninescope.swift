import ArgumentParser

/// ninescope — inspector and debugger for the 9P file protocol. Subcommands only wire parts together;
/// no protocol logic lives in this target.
@main
struct Ninescope: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ninescope",
        abstract: "Inspect, proxy, serve and replay 9P (9P2000, 9P2000.u, 9P2000.L).",
        version: NinescopeVersion.string,
        subcommands: Ninescope.allSubcommands
    )
}

enum NinescopeVersion {
    static let string = "0.1.0"
}
