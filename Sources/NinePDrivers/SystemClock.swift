#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NinePServer

/// The wall clock, for drivers that keep their own times.
public enum SystemClock {
    public static func now() -> FileTime {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return FileTime(sec: UInt64(max(0, ts.tv_sec)), nsec: UInt64(max(0, ts.tv_nsec)))
    }
}
