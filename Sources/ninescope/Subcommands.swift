import ArgumentParser

extension Ninescope {
    /// Every subcommand, in help order.
    static let allSubcommands: [any ParsableCommand.Type] = [
        DecodeCommand.self,
        ServeCommand.self,
        ProxyCommand.self,
        DemoCommand.self,
        ViewCommand.self,
        ReplCommand.self,
        ReplayCommand.self,
        BenchPingCommand.self,
        BenchTraceCommand.self,
    ]
}
