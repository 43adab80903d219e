/// A moment as a UTC calendar date and time (the proleptic Gregorian calendar): for timestamps in text
/// (the trace's ISO 8601 times, the names of a capture's files).
public struct UTCTime: Hashable, Sendable {
    public var year: Int64, month: Int64, day: Int64
    public var hour: Int64, minute: Int64, second: Int64, nanosecond: Int64

    public init(nanosSinceEpoch nanos: Int64) {
        let secs = nanos >= 0 ? nanos / 1_000_000_000 : (nanos - 999_999_999) / 1_000_000_000
        nanosecond = nanos - secs * 1_000_000_000
        let days = secs >= 0 ? secs / 86_400 : (secs - 86_399) / 86_400
        let rem = secs - days * 86_400
        hour = rem / 3600
        minute = rem / 60 % 60
        second = rem % 60
        // Days since 1970-01-01 to a civil date: eras of 400 years (146,097 days) from 0000-03-01.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        day = doy - (153 * mp + 2) / 5 + 1
        month = mp < 10 ? mp + 3 : mp - 9
        year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    }
}
