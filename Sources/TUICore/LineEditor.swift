/// Reads lines for the REPL: a prompt, history and tab completion.
///
/// Editors are not thread-safe: use one from a single thread. When input is not a terminal an
/// editor reads plain lines (no prompt, no editing) so scripts can be piped in.
public protocol LineEditor: AnyObject {
    /// Shown before each line (interactive use only).
    var prompt: String { get set }

    /// Candidates for completing the word before the cursor: called with the whole line and
    /// the cursor as a `Character` offset into it. Return full replacement words (see
    /// `LineCompletion.complete`); the editor keeps only those extending the current word.
    var completer: ((_ line: String, _ cursor: Int) -> [String])? { get set }

    /// Characters that end a word for completion (default: whitespace).
    var wordBreakCharacters: Set<Character> { get set }

    /// Reads one line without its newline; nil at end of input.
    func readLine() -> String?

    /// Appends a line to the history (empty lines and repeats of the last entry are skipped).
    func addHistory(_ line: String)

    /// Replaces the history with the lines of a file; a missing file is not an error.
    func loadHistory(from path: String) throws

    /// Writes the history to a file.
    func saveHistory(to path: String) throws
}

/// A history file could not be read or written.
public struct LineEditorError: Error, Hashable, Sendable, CustomStringConvertible {
    public let path: String
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}
