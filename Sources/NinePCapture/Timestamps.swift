// Conversions of capture timestamps to nanoseconds since the epoch, saturating instead of overflowing.

enum Timestamps {
    /// `seconds` + `fraction` units of 10^-`decimals` s (pcap: decimals 6 or 9).
    static func nanos(seconds: UInt64, fraction: UInt64, decimals: Int) -> Int64 {
        let scale = pow10(max(0, 9 - decimals))
        let fractionNanos = decimals <= 9 ? fraction.multipliedReportingOverflow(by: scale)
                                          : (fraction / pow10(decimals - 9), false)
        let (secondsNanos, o1) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (sum, o2) = secondsNanos.addingReportingOverflow(fractionNanos.0)
        if o1 || o2 || fractionNanos.1 || sum > UInt64(Int64.max) { return Int64.max }
        return Int64(sum)
    }

    /// A pcapng timestamp: `units` of the interface's resolution (if_tsresol byte) plus `offsetSeconds`.
    static func nanos(units: UInt64, tsresol: UInt8, offsetSeconds: Int64) -> Int64 {
        var base: Int64
        if tsresol & 0x80 == 0 {
            let decimals = Int(tsresol)
            if decimals > 19 {
                base = 0
            } else {
                let unitsPerSecond = pow10(decimals)
                base = nanos(seconds: units / unitsPerSecond, fraction: units % unitsPerSecond, decimals: decimals)
            }
        } else {
            let bits = Int(tsresol & 0x7F)
            if bits >= 64 {
                base = 0
            } else {
                let seconds = units >> UInt64(bits)
                let fraction = units & ((1 << UInt64(bits)) - 1)
                let wide = (1_000_000_000 as UInt64).multipliedFullWidth(by: fraction)
                // (high:low) >> bits, where the result is < 1e9 so fits in 64 bits.
                let fractionNanos = bits == 0 ? wide.low
                    : (wide.low >> UInt64(bits)) | (wide.high << UInt64(64 - bits))
                base = nanos(seconds: seconds, fraction: fractionNanos, decimals: 9)
            }
        }
        let (shifted, overflow) = offsetSeconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return offsetSeconds < 0 ? 0 : Int64.max }
        let (total, o2) = base.addingReportingOverflow(shifted)
        return o2 ? (shifted < 0 ? 0 : Int64.max) : total
    }

    static func pow10(_ exponent: Int) -> UInt64 {
        var value: UInt64 = 1
        for _ in 0..<min(exponent, 19) { value *= 10 }
        return value
    }
}

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
