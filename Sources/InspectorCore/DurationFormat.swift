import NinePWire

/// Durations in nanoseconds: parsing filter literals (`10ms`, `1.5s`, `250us`) and compact display
/// (`152µs`, `1.25ms`).
public enum DurationFormat {
    /// The units accepted in filters, with their size in nanoseconds.
    /// (`µs` is the micro sign the display uses, `μs` the Greek letter mu some keyboards type for it; `m`
    /// and `h` read the minutes and hours the display gives from a minute on: `1m23s`, `1h02m`.)
    public static let units: [(name: String, nanos: Int64)] = [
        ("ns", 1), ("us", 1_000), ("µs", 1_000), ("μs", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000),
        ("m", 60_000_000_000), ("h", 3_600_000_000_000),
    ]

    /// Why a duration literal did not parse.
    public enum ParseError: Error, Hashable, Sendable {
        case missingNumber
        case missingUnit
        case unknownUnit(String)
        case outOfRange
    }

    /// Parses `<number><unit>`: a non-negative decimal number (`10`, `1.5`) and a unit (ns, us, µs, ms, s, m,
    /// h), or several such parts, summed, as the display writes a minute or more (`1m23s`, `1h02m`).
    public static func parse(_ text: Substring) throws(ParseError) -> Int64 {
        var total: Int64 = 0
        var rest = text[...]
        repeat {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            let unit = rest.dropFirst(number.count).prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            // A part with no number after the first is a unit the first part's number did not take (`10xs`).
            if number.isEmpty && total > 0 { throw .unknownUnit(String(rest)) }
            let (sum, overflow) = total.addingReportingOverflow(try parsePart(number + unit))
            guard !overflow else { throw .outOfRange }
            total = sum
            rest = rest.dropFirst(number.count + unit.count)
        } while !rest.isEmpty
        return total
    }

    /// One `<number><unit>`.
    private static func parsePart(_ text: Substring) throws(ParseError) -> Int64 {
        var digits = Substring()
        var rest = text[...]
        while let c = rest.first, c.isASCII, c.isNumber || c == "." {
            digits.append(c)
            rest = rest.dropFirst()
        }
        guard !digits.isEmpty, digits.filter({ $0 == "." }).count <= 1, digits != "." else { throw .missingNumber }
        guard !rest.isEmpty else { throw .missingUnit }
        guard let unit = units.first(where: { $0.name == rest.lowercased() }) else { throw .unknownUnit(String(rest)) }
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        guard let whole = parts[0].isEmpty ? 0 : Int64(parts[0]) else { throw .outOfRange }
        let (wholeNanos, overflow) = whole.multipliedReportingOverflow(by: unit.nanos)
        guard !overflow else { throw .outOfRange }
        var fraction: Int64 = 0
        if parts.count == 2 {
            // Keep only the digits that still mean something at nanosecond resolution.
            var scale = unit.nanos
            for c in parts[1] {
                scale /= 10
                guard scale > 0 else { break }
                fraction += Int64(c.wholeNumberValue!) * scale
            }
        }
        let (total, overflow2) = wholeNanos.addingReportingOverflow(fraction)
        guard !overflow2 else { throw .outOfRange }
        return total
    }

    /// The shortest exact literal for `nanos` (`10ms`, `1500us`, `7ns`), as filters print it.
    public static func filterLiteral(_ nanos: Int64) -> String {
        for unit in units.reversed() where unit.name != "µs" && unit.name != "μs" {
            if nanos != 0, nanos % unit.nanos == 0 { return "\(nanos / unit.nanos)\(unit.name)" }
        }
        return "\(nanos)ns"
    }

    /// A compact display of a duration with three significant digits under a minute: `850ns`, `1.52µs`,
    /// `15.2µs`, `152µs`, `1.25ms`, `3.40s`, `59.9s`; from a minute on as `age` words it (`1m23s`, `1h02m`),
    /// so that a latency and a pending request's age read alike. Negative values (clock skew) show as `-` +
    /// the magnitude.
    public static func compact(_ nanos: Int64) -> String {
        var bytes: [UInt8] = []
        appendCompact(nanos, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `compact` as UTF-8, appended to `out` (for writers that build lines as bytes: no String made).
    public static func appendCompact(_ nanos: Int64, to out: inout [UInt8]) {
        if nanos < 0 {
            out.append(0x2D)   // "-"
            appendCompact(nanos == Int64.min ? Int64.max : -nanos, to: &out)
            return
        }
        if nanos >= 60_000_000_000 {
            out.append(contentsOf: minutesAndMore(nanos).utf8)
            return
        }
        if nanos < 1_000 {
            DecimalText.append(UInt64(nanos), to: &out)
            out.append(0x6E); out.append(0x73)   // "ns"
            return
        }
        let size: Int64
        if nanos < 1_000_000 {
            size = 1_000
        } else if nanos < 1_000_000_000 {
            size = 1_000_000
        } else {
            size = 1_000_000_000
        }
        let whole = nanos / size
        DecimalText.append(UInt64(whole), to: &out)
        if whole < 100 {
            // Three significant digits, rounded down.
            out.append(0x2E)   // "."
            var frac = nanos % size
            var step = size
            for _ in 0..<(whole >= 10 ? 1 : 2) {
                step /= 10
                out.append(0x30 + UInt8(frac / step))
                frac %= step
            }
        }
        switch size {
        case 1_000: out.append(contentsOf: [0xC2, 0xB5, 0x73])   // "µs"
        case 1_000_000: out.append(0x6D); out.append(0x73)      // "ms"
        default: out.append(0x73)                               // "s"
        }
    }

    /// How long something has been going on, in at most six characters: `compact` under a minute (`850ms`,
    /// `12.3s`), then minutes and seconds (`2m05s`), hours and minutes (`1h02m`, up to `99h59m`), days and
    /// hours (`4d03h`). Rounded down; a negative age (clock skew) is `0s`.
    public static func age(_ nanos: Int64) -> String {
        guard nanos > 0 else { return "0s" }
        return compact(nanos)
    }

    /// A minute or more: `2m05s`, `1h02m`, `4d03h`, rounded down.
    private static func minutesAndMore(_ nanos: Int64) -> String {
        let seconds = nanos / 1_000_000_000
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : String(n) }
        if seconds < 3600 { return "\(seconds / 60)m\(two(seconds % 60))s" }
        if seconds < 100 * 3600 { return "\(seconds / 3600)h\(two(seconds / 60 % 60))m" }
        return "\(seconds / 86_400)d\(two(seconds / 3600 % 24))h"
    }
}
