#if canImport(Glibc)
import Glibc
#endif

/// The scheduling the user started ninescope with (`nice -n N`, `chrt -f P`, …), for threads that would
/// otherwise not have it.
///
/// On Linux the policy and the nice value belong to each thread, and a new thread takes its creator's.
/// The process's main thread has what the user asked for, but ninescope's commands run on Swift's
/// concurrency threads, which libdispatch gives nice values of its own (0 or −4 here, whatever the process
/// had): event loops and other threads started from there lost the user's setting. Under `nice -n -15`,
/// as bench/proxy.sh runs every peer, the proxy's two event loops ran at nice 0, a scheduling weight 28
/// times smaller than diod's, diodload's and socat's, and on two busy CPUs were preempted by every other
/// thread's wake-up: with capture, 4-connection diodload rates of 0.71×–0.87× socat's and p50 +10 to +23 µs
/// over socat's became medians of 0.93× and +7.5 µs (bench/proxy.sh, four runs before and eleven after, the
/// eleven spreading over 0.75×–1.06× and −30.9 to +21.2 µs on a noisy host).
public enum ProcessScheduling {
    /// The main thread's policy, real-time priority and nice value; nil where they cannot be read.
    public static var main: (policy: Int32, priority: Int32, nice: Int32)? { read(pid_t(getpid())) }

    /// How many CPUs the process may run on (its affinity mask: `taskset`, `numactl`, a container's
    /// cpuset), as `nproc` counts them; nil where that cannot be read.
    public static var allowedCPUs: Int? {
        #if canImport(Glibc)
        typealias GetAffinity = @convention(c) (pid_t, Int, UnsafeMutableRawPointer) -> Int32
        guard let get: GetAffinity = cFunction("sched_getaffinity") else { return nil }
        var mask = [UInt64](repeating: 0, count: 16)   // cpu_set_t: 1,024 CPUs
        let ok = mask.withUnsafeMutableBytes { get(0, $0.count, $0.baseAddress!) } == 0
        let n = mask.reduce(0) { $0 + $1.nonzeroBitCount }
        return ok && n > 0 ? n : nil
        #else
        return nil
        #endif
    }

    /// The calling thread's policy, real-time priority and nice value.
    public static var current: (policy: Int32, priority: Int32, nice: Int32)? { read(0) }

    /// Thread `tid`'s scheduling (0: the calling thread; Linux keeps it per thread, and a process id names
    /// the main thread).
    private static func read(_ tid: pid_t) -> (policy: Int32, priority: Int32, nice: Int32)? {
        #if os(Linux)
        let policy = sched_getscheduler(tid)
        var param = sched_param()
        guard policy >= 0, sched_getparam(tid, &param) == 0 else { return nil }
        errno = 0
        let nice = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(tid))
        guard nice != -1 || errno == 0 else { return nil }
        return (policy, param.sched_priority, nice)
        #else
        return nil
        #endif
    }

    /// Gives thread `tid` (a kernel thread id, 0 for the calling thread) the main thread's policy,
    /// real-time priority and nice value. Returns whether it has them now.
    @discardableResult
    public static func adoptMain(thread tid: pid_t) -> Bool {
        #if os(Linux)
        guard let want = main, let have = read(tid) else { return false }
        var ok = true
        if have.policy != want.policy || have.priority != want.priority {
            var param = sched_param(sched_priority: want.priority)
            ok = sched_setscheduler(tid, want.policy, &param) == 0
        }
        if ok && have.nice != want.nice {
            ok = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(tid), want.nice) == 0
        }
        return ok
        #else
        return false
        #endif
    }

    /// Whether a thread of this process that was moved to SCHED_IDLE may be given the main thread's
    /// scheduling again. Linux counts SCHED_IDLE as below every nice value: going back needs CAP_SYS_NICE,
    /// or an RLIMIT_NICE of at least 20 − nice (the default limit, 0, allows no way back), and a real-time
    /// main thread needs CAP_SYS_NICE in any case.
    public static var mayReturnFromIdle: Bool {
        #if os(Linux)
        guard let main else { return false }
        var limit = rlimit()
        let rlimitNice: UInt32 = 13   // RLIMIT_NICE (the kernel ABI's number; not in Swift's Glibc module)
        let nice: UInt64? = getrlimit(__rlimit_resource_t(rlimitNice), &limit) == 0 ? UInt64(limit.rlim_cur) : nil
        return mayReturnFromIdle(capSysNice: hasCapSysNice, policy: main.policy, nice: main.nice, rlimitNice: nice)
        #else
        return false
        #endif
    }

    /// The rule behind `mayReturnFromIdle`: for a thread of `policy` and `nice`, with or without
    /// CAP_SYS_NICE and under an RLIMIT_NICE soft limit of `rlimitNice` (nil: unknown; UInt64.max: none).
    static func mayReturnFromIdle(capSysNice: Bool, policy: Int32, nice: Int32, rlimitNice: UInt64?) -> Bool {
        if capSysNice { return true }
        guard policy == 0 || policy == 3, let rlimitNice else { return false }   // SCHED_OTHER, SCHED_BATCH
        return rlimitNice >= UInt64(max(0, 20 - Int(nice)))
    }

    /// CAP_SYS_NICE (capability 23) in the process's effective set, from /proc/self/status.
    private static var hasCapSysNice: Bool {
        guard let status = ProcFile.text("/proc/self/status"),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
              let caps = UInt64(line.dropFirst("CapEff:".count).filter { !$0.isWhitespace }, radix: 16)
        else { return false }
        return caps & (1 << 23) != 0
    }

    /// The calling thread's kernel thread id (what /proc/self/task lists and `sched_setscheduler` takes).
    public static var threadID: pid_t {
        #if os(Linux)
        typealias GetTID = @convention(c) () -> pid_t
        if let gettid: GetTID = cFunction("gettid") { return gettid() }
        #endif
        return 0
    }

    /// Gives the calling thread the main thread's policy, real-time priority and nice value. Returns
    /// whether it has them now (false where the system refused: raising a priority needs CAP_SYS_NICE or
    /// an RLIMIT_NICE/RLIMIT_RTPRIO allowance; the thread then keeps what it had).
    @discardableResult
    public static func adoptMain() -> Bool {
        #if os(Linux)
        guard let want = main, let have = current else { return false }
        var ok = true
        if have.policy != want.policy || have.priority != want.priority {
            var param = sched_param(sched_priority: want.priority)
            ok = sched_setscheduler(0, want.policy, &param) == 0
        }
        if have.nice != want.nice {
            ok = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, want.nice) == 0 && ok
        }
        return ok
        #else
        return false
        #endif
    }
}
