/// How the exchange list shows timestamps (ns since the Unix epoch).
public enum TimeFormat: Hashable, Sendable {
    /// Wall-clock `HH:MM:SS.mmm`, shifted by a UTC offset in seconds (the app passes the local one).
    case clock(utcOffsetSeconds: Int)
    /// Seconds since `origin` with milliseconds: `12.345`.
    case relative(origin: Int64)

    public static let utc = TimeFormat.clock(utcOffsetSeconds: 0)

    public func format(_ nanos: Int64) -> String {
        switch self {
        case .clock(let offset):
            let shifted = nanos &+ Int64(offset) &* 1_000_000_000
            let day: Int64 = 86_400_000_000_000
            let inDay = ((shifted % day) + day) % day
            let ms = inDay / 1_000_000
            let h = ms / 3_600_000, m = ms / 60_000 % 60, s = ms / 1000 % 60, frac = ms % 1000
            return pad(h, 2) + ":" + pad(m, 2) + ":" + pad(s, 2) + "." + pad(frac, 3)
        case .relative(let origin):
            let delta = nanos &- origin
            let sign = delta < 0 ? "-" : ""
            let magnitude = delta.magnitude
            let ms = magnitude / 1_000_000
            return sign + String(ms / 1000) + "." + pad(Int64(ms % 1000), 3)
        }
    }

    private func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
