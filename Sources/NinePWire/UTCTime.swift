/// A moment as a UTC calendar date and time (the proleptic Gregorian calendar): for timestamps in text
/// (the trace's ISO 8601 times, the decode tree's dates, the names of a capture's files).
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

    /// `2026-11-25T15:56:01.123456789Z` (`fraction` false: `2026-11-25T15:56:01Z`) as UTF-8 bytes, for
    /// nanoseconds since the Unix epoch.
    public static func iso8601Bytes(_ nanos: Int64, fraction: Bool = true) -> [UInt8] {
        let u = UTCTime(nanosSinceEpoch: nanos)
        var out: [UInt8] = []
        out.reserveCapacity(32)
        pad(u.year, 4, &out); out.append(0x2D); pad(u.month, 2, &out); out.append(0x2D); pad(u.day, 2, &out)
        out.append(0x54)
        pad(u.hour, 2, &out); out.append(0x3A); pad(u.minute, 2, &out); out.append(0x3A); pad(u.second, 2, &out)
        if fraction { out.append(0x2E); pad(u.nanosecond, 9, &out) }
        out.append(0x5A)
        return out
    }

    /// `v` in decimal, zero-padded on the left to `width` digits (a minus sign first when negative, as
    /// `String(v)` writes it, then padded after the sign's count like the text form was).
    private static func pad(_ v: Int64, _ width: Int, _ out: inout [UInt8]) {
        let magnitude = v.magnitude
        let length = DecimalText.count(magnitude) + (v < 0 ? 1 : 0)
        if length < width { out.append(contentsOf: repeatElement(0x30, count: width - length)) }
        if v < 0 { out.append(0x2D) }
        DecimalText.append(magnitude, to: &out)
    }
}
