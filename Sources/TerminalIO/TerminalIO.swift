import CEditLine
import CNCursesW
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Facts about the process's terminal that the app needs before choosing a UI.
public enum TerminalEnvironment {
    /// True when `fd` is a terminal (0 = stdin, 1 = stdout, 2 = stderr).
    public static func isTerminal(_ fd: Int32) -> Bool {
        isatty(fd) != 0
    }

    /// The width in columns of the terminal `fd` is, or nil when it is not one.
    public static func columns(_ fd: Int32) -> Int? {
        let n = Int(ns_terminal_columns(fd))
        return n > 0 ? n : nil
    }

    /// True when the `NO_COLOR` environment variable is set to a non-empty value
    /// (https://no-color.org): draw with attributes only.
    public static var noColorRequested: Bool {
        guard let value = getenv("NO_COLOR") else { return false }
        return value.pointee != 0
    }

    /// Makes the C library's character type locale UTF-8 (needed by curses and libedit for
    /// wide characters): the environment's locale if it is UTF-8, else `C.UTF-8`, else
    /// `en_US.UTF-8`. Only `LC_CTYPE` changes, so number formatting is unaffected. Returns
    /// whether a UTF-8 locale is now active.
    @discardableResult
    public static func ensureUTF8Locale() -> Bool {
        if setlocale(LC_CTYPE, "") != nil, ns_codeset_is_utf8() != 0 { return true }
        for name in ["C.UTF-8", "C.utf8", "en_US.UTF-8"] {
            if setlocale(LC_CTYPE, name) != nil, ns_codeset_is_utf8() != 0 { return true }
        }
        return false
    }
}

/// Why the terminal could not be taken over.
public enum TerminalError: Error, Hashable, Sendable, CustomStringConvertible {
    /// stdin or stdout is not a terminal.
    case notATerminal
    /// curses could not start on this terminal (unknown `TERM`, …).
    case cursesFailed(String)

    public var description: String {
        switch self {
        case .notATerminal: return "standard input and output must be a terminal"
        case .cursesFailed(let why): return "cannot start the terminal UI: \(why)"
        }
    }
}
