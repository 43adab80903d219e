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
