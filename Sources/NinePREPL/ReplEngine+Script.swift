import NinePWire

extension ReplEngine {
    /// Exit statuses of `runScript`.
    public enum ScriptStatus {
        public static let success: Int32 = 0
        /// An `expect` failed, a command failed, an error reply was not expected, or the connection was lost.
        public static let failure: Int32 = 1
        /// A line did not parse.
        public static let syntaxError: Int32 = 2
    }

    /// Runs a script (a file, or piped stdin) and returns the exit status.
    ///
    /// Semantics: lines run in order; blank lines and `#` comments are skipped. The script stops with
    /// status 1 at the first failed `expect`, failed command (no connection, bad path in a
    /// convenience, unknown setting …) or lost connection, and with status 2 at a line that does not
    /// parse. An error reply (Rerror/Rlerror) is accepted only when the command is marked with a leading
    /// `-`, or when the next command is an `expect` (which then decides: `expect Rlerror ENOENT`);
    /// otherwise the script stops there with status 1. The same holds for the reply to a request sent with
    /// `&`, from the command during which it arrives (typically a `wait`). A `-` command never stops the script. `quit`
    /// ends it with status 0.
    public func runScript(_ lines: [String], name: String = "script") async -> Int32 {
        let (stream, feed) = AsyncStream.makeStream(of: String.self)
        for line in lines { feed.yield(line) }
        feed.finish()
        return await runScript(stream, name: name)
    }

    /// Runs a script whose lines come as they are written (piped standard input: `(echo version; sleep 2;
    /// echo pending) | ninescope repl …` runs each line when it arrives, not once the pipe ends), with
    /// the same semantics as `runScript(_:name:)`. `variables`, when given, expand each line but comments
    /// as it comes; a line that names an undefined one ends the script with status 2.
    public func runScript(_ lines: AsyncStream<String>, name: String = "script",
                          variables: ScriptVariables? = nil) async -> Int32 {
        var unchecked: (line: Int, text: String)?
        var number = 0
        scriptName = name
        defer { scriptName = nil; scriptLine = 0 }
        for await text in lines {
            number += 1
            var line = text
            if let variables, line.first(where: { $0 != " " && $0 != "\t" }) != "#" {
                do { line = try variables.expand(line) } catch {
                    emit(.error, "\(name):\(number): \(error)")
                    return ScriptStatus.syntaxError
                }
            }
            let parsed: ParsedLine
            do {
                parsed = try parser.parse(line)
            } catch {
                emit(.error, "\(name):\(number):\(error.column): \(error.detail)")
                emit(.error, "  " + line)
                emit(.error, "  " + error.caret(under: line))
                return ScriptStatus.syntaxError
            }
            guard let command = parsed.command else { continue }
            if let u = unchecked {
                if case .expect = command {} else {
                    emit(.error, "\(name):\(u.line): unexpected error reply: \(u.text)")
                    return ScriptStatus.failure
                }
            }
            scriptLine = number
            let outcome = await run(parsed)
            if case .expect = command { unchecked = nil }
            // An error reply to an earlier `&` request counts as if its command had just returned it.
            if unchecked == nil, let late = takeBackgroundFailures().first { unchecked = late }
            switch outcome {
            case .ok:
                break
            case .quit:
                return ScriptStatus.success
            case .errorReply(let text):
                if !parsed.allowFailure { unchecked = (number, text) }
            case .failed:
                // Said already, with its place (`fail`, a failed expect).
                if !parsed.allowFailure { return ScriptStatus.failure }
            case .syntaxError(let e):
                emit(.error, "\(name):\(number): \(e)")
                return ScriptStatus.syntaxError
            }
        }
        if let u = unchecked ?? takeBackgroundFailures().first {
            emit(.error, "\(name):\(u.line): unexpected error reply: \(u.text)")
            return ScriptStatus.failure
        }
        return ScriptStatus.success
    }
}
