import ArgumentParser
import NinePNIO
#if canImport(Glibc)
import Glibc
#endif

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

    static func main() async {
        StandardDescriptors.ensureOpen()
        Allocator.tune()
        if let (unknown, parent) = unknownHelpTopic(Array(CommandLine.arguments.dropFirst())) {
            exit(withError: ValidationError(parent == Ninescope.self
                ? "no subcommand '\(unknown)': the subcommands are " + visibleSubcommandNames.joined(separator: ", ")
                : "'\(parent.configuration.commandName ?? "")' has no subcommand '\(unknown)'"))
        }
        var command: any ParsableCommand
        do { command = try parseAsRoot() } catch { exit(withError: error) }
        do {
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                // Synchronous commands (decode, the bench probes) run here, on the main thread: it has the
                // scheduling the user started ninescope with, which Swift's concurrency threads do not (see
                // `ProcessScheduling`).
                try command.run()
            }
        } catch let error as ValidationError {
            usageFailure(error, of: type(of: command))
        } catch {
            exit(withError: error)
        }
    }

    /// The name in `help NAME…` that is no subcommand, and the command it was looked for in (nil: none, or not
    /// `help`). ArgumentParser's `help` stops at the first name it does not know and shows the help of the
    /// command before it, exiting 0.
    static func unknownHelpTopic(_ arguments: [String]) -> (String, any ParsableCommand.Type)? {
        guard arguments.first == "help" else { return nil }
        var command: any ParsableCommand.Type = Ninescope.self
        for name in arguments.dropFirst() where !name.hasPrefix("-") {
            guard let next = command.configuration.subcommands.first(where: { $0.configuration.commandName == name })
            else { return (name, command) }
            command = next
        }
        return nil
    }

    /// The subcommands the help lists, in its order.
    static var visibleSubcommandNames: [String] {
        allSubcommands.compactMap { $0.configuration.shouldDisplay ? $0.configuration.commandName : nil }
    }

    /// A usage error found by a subcommand's `run()` (one that needs what only running finds out, such as
    /// whether standard output is a terminal), said as ArgumentParser says those `validate()` finds: with the
    /// subcommand's usage, not the tool's (which `exit(withError:)` would show, knowing only the root), and
    /// exit status 64. Checks of the options alone belong in `validate()`.
    static func usageFailure(_ error: ValidationError, of subcommand: any ParsableCommand.Type) -> Never {
        let name = subcommand.configuration.commandName ?? "\(subcommand)"
        let usage = usageString(for: subcommand).split(separator: "\n").joined(separator: "\n       ")
        printError("Error: \(error.message)\nUsage: \(usage)\n  See 'ninescope \(name) --help' for more information.")
        exit(withError: ExitCode.validationFailure)
    }
}

enum NinescopeVersion {
    static let string = "0.1.0"
}

enum StandardDescriptors {
    /// Opens /dev/null on standard input, output or error where the process was started with it closed
    /// (`ninescope proxy … >&- 2>&-`, some service managers). Otherwise the first descriptors the program
    /// opens take their numbers: the event loops' epoll and eventfd became 0 and 1 so, and the trace's lines
    /// went into the eventfd. Call first, before anything opens a descriptor.
    static func ensureOpen() {
        for fd in Int32(0)...2 where fcntl(fd, F_GETFD) == -1 && errno == EBADF {
            // The lowest free number: this one, since those below it are open.
            _ = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY)
        }
    }
}

enum Allocator {
    /// Frames up to msize (often 64 KiB–1 MiB) are allocated and freed per message. glibc's defaults
    /// hand blocks from 128 KiB up to mmap and give freed memory back to the kernel at once, so every
    /// large read paid for fresh zeroed pages (page faults were a twentieth of `serve`'s profile under
    /// diodcat). Keep such blocks in the heap instead.
    static func tune() {
        #if canImport(Glibc)
        // mallopt is not in Swift's Glibc module (malloc.h); look it up. Parameter numbers from malloc.h.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let mallopt: Mallopt = cFunction("mallopt") else { return }
        let trimThreshold: Int32 = -1, mmapThreshold: Int32 = -3
        _ = mallopt(mmapThreshold, 4 << 20)
        _ = mallopt(trimThreshold, 64 << 20)
        #endif
    }
}
