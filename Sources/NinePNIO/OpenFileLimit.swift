#if canImport(Glibc)
import Glibc
#endif

/// How many file descriptors the process may hold at once (RLIMIT_NOFILE), and raising it for the commands
/// that hold one per connection and side (the proxy: two per client) or per open file (the server's local
/// driver).
///
/// Login shells commonly start programs with a soft limit of 1,024 under a far higher hard limit. The soft
/// limit is only a default that a program may raise up to the hard one itself; servers do, and so do
/// `proxy` and `serve`, so that a few hundred guests or a client opening thousands of files do not meet
/// "Too many open files" on a machine that allows them. SwiftNIO waits with epoll, so descriptors above
/// 1,024 are as good as any.
public enum OpenFileLimit {
    /// The soft and hard limits now; nil where they cannot be read. `UInt64.max` stands for no limit.
    public static var current: (soft: UInt64, hard: UInt64)? {
        #if os(Linux)
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        return (UInt64(limit.rlim_cur), UInt64(limit.rlim_max))
        #else
        return nil
        #endif
    }

    /// Raises the soft limit to the hard one (an unlimited hard limit: to the kernel's ceiling for
    /// RLIMIT_NOFILE, fs.nr_open). Returns the soft limit in force afterwards; nil where it cannot be read.
    /// Never lowers it.
    @discardableResult
    public static func raiseToHard() -> UInt64? {
        #if os(Linux)
        guard let now = current else { return nil }
        let target = raisedSoftLimit(soft: now.soft, hard: now.hard, kernelCeiling: kernelCeiling)
        guard target > now.soft else { return now.soft }
        var limit = rlimit(rlim_cur: rlim_t(target), rlim_max: rlim_t(now.hard))
        return setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 ? target : now.soft
        #else
        return nil
        #endif
    }

    /// The soft limit to ask for: the hard limit, but no more than the kernel's ceiling (nil: unknown; then
    /// an unlimited hard limit leaves the soft one as it is). Never less than `soft`. Pure, for tests.
    public static func raisedSoftLimit(soft: UInt64, hard: UInt64, kernelCeiling: UInt64?) -> UInt64 {
        var target = hard
        if let kernelCeiling { target = min(target, kernelCeiling) } else if hard == UInt64.max { return soft }
        return max(soft, target)
    }

    /// The kernel's ceiling for RLIMIT_NOFILE (`/proc/sys/fs/nr_open`); nil where it cannot be read.
    static var kernelCeiling: UInt64? {
        #if os(Linux)
        guard let text = ProcFile.text("/proc/sys/fs/nr_open") else { return nil }
        return UInt64(String(text.prefix { $0.isASCII && $0.isNumber }))
        #else
        return nil
        #endif
    }

    /// The text for a failure for want of descriptors: the errno text and the limits that were met.
    public static func exhaustedText(_ errnoText: String) -> String {
        guard let now = current else { return errnoText }
        func count(_ n: UInt64) -> String { n == UInt64.max ? "unlimited" : String(n) }
        return "\(errnoText) (this process may hold \(count(now.soft)) at once, `ulimit -n`; "
            + "hard limit \(count(now.hard)), `ulimit -Hn`)"
    }
}
