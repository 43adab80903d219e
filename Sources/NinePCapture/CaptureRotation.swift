import NinePWire

/// How a long capture is cut into files of a bounded size or time span, and how many of them are kept: a
/// trace that runs for days then neither fills the disk (with `keep`, a ring of files) nor leaves one file
/// too large to open. Pure: names and numbers only; the proxy's recorder does the cutting (each file is a whole
/// capture, see `PcapngWriter`'s "Captures in several files").
///
/// Files are numbered from 1 and named after the path given as Wireshark names the files of a file set
/// (dumpcap's ring buffer): the number and the time the file began (UTC) before the extension,
/// `trace.pcapng` → `trace_00001_20261205143000.pcapng`, `trace_00002_20261205144000.pcapng`, …;
/// `dir/cap` → `dir/cap_00001_20261205143000`. Wireshark's File › File Set lists and steps through them,
/// and the five-digit number first keeps them in order when listed (`ninescope decode trace_*.pcapng`
/// reads them in that order) up to 99,999 files.
public struct CaptureRotation: Hashable, Sendable {
    /// The path the user gave; the files' names are made from it.
    public var path: String
    /// A new file begins once the current one holds at least this many bytes (cut between frames: a file
    /// ends with the whole frame that reached the size).
    public var fileSize: Int?
    /// A new file begins with the first event this many nanoseconds or more after the current file's first
    /// event (so a quiet proxy begins no empty files).
    public var fileDuration: Int64?
    /// Keep only the newest `keep` files, deleting the oldest as a new one begins (nil: keep all).
    public var keep: Int?

    /// The smallest `fileSize` accepted: smaller files would be mostly headers.
    public static let minimumFileSize = 64 << 10
    /// The shortest `fileDuration` accepted: one second.
    public static let minimumFileDuration: Int64 = 1_000_000_000

    public init(path: String, fileSize: Int? = nil, fileDuration: Int64? = nil, keep: Int? = nil) {
        self.path = path
        self.fileSize = fileSize
        self.fileDuration = fileDuration
        self.keep = keep
    }

    /// Whether a file that holds `bytes` is full: it ends after the event that brought it there.
    public func isFull(bytes: Int) -> Bool {
        fileSize.map { bytes >= $0 } ?? false
    }

    /// Whether an event at `now` belongs in a new file, the current one having begun with an event at
    /// `began`.
    public func isOver(began: Int64, now: Int64) -> Bool {
        fileDuration.map { now - began >= $0 } ?? false
    }

    /// The name of file `number` (from 1), begun at `began` (nanoseconds since the Unix epoch).
    public func path(ofFile number: Int, began: Int64) -> String {
        let (stem, ext) = split
        return stem + "_" + Self.zeroPadded(Int64(number), 5) + "_" + Self.timestamp(began) + ext
    }

    /// The number of the file at `path` when it is one of this capture's (the same directory and stem, then
    /// `_NNNNN_YYYYMMDDHHMMSS` and the extension), else nil.
    public func number(ofFileAt path: String) -> Int? {
        let (stem, ext) = split
        guard path.hasPrefix(stem + "_"), path.hasSuffix(ext) else { return nil }
        let middle = Array(path.utf8.dropFirst(stem.utf8.count + 1).dropLast(ext.utf8.count))
        let isDigit = { (b: UInt8) in b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
        guard middle.count >= 5 + 1 + 14, middle[middle.count - 15] == UInt8(ascii: "_"),
              middle[..<(middle.count - 15)].allSatisfy(isDigit), middle.suffix(14).allSatisfy(isDigit) else {
            return nil
        }
        return Int(String(decoding: middle[..<(middle.count - 15)], as: UTF8.self))
    }

    /// The path without its extension, and the extension (from the name's last dot, unless that dot begins
    /// the name, as in `.hidden`; empty when there is none).
    private var split: (stem: String, ext: String) {
        let slash = path.lastIndex(of: "/")
        let name = slash.map { path[path.index(after: $0)...] } ?? path[...]
        if let dot = name.lastIndex(of: "."), dot > name.startIndex {
            return (String(path[..<dot]), String(path[dot...]))
        }
        return (path, "")
    }

    /// `YYYYMMDDHHMMSS` in UTC for nanoseconds since the Unix epoch.
    static func timestamp(_ nanos: Int64) -> String {
        let u = UTCTime(nanosSinceEpoch: nanos)
        return zeroPadded(u.year, 4) + zeroPadded(u.month, 2) + zeroPadded(u.day, 2) + zeroPadded(u.hour, 2)
            + zeroPadded(u.minute, 2) + zeroPadded(u.second, 2)
    }

    /// `n` in decimal with zeros in front up to `width` digits (more digits when it needs them).
    private static func zeroPadded(_ n: Int64, _ width: Int) -> String {
        let text = String(n)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }

    /// `bytes` in the largest binary unit that divides it (`256 KiB`, `100 MiB`, `1 GiB`), else in bytes.
    public static func sizeText(_ bytes: Int) -> String {
        for (unit, size) in [("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
        where bytes >= size && bytes % size == 0 {
            return "\(bytes / size) \(unit)"
        }
        return "\(bytes) bytes"
    }

    /// A time span as the user writes it, in nanoseconds: a number with a unit `s`, `m`, `h` or `d` (`30s`,
    /// `10m`, `1.5h`), or seconds without one. Nil when malformed or not positive.
    public static func parseDuration(_ text: String) -> Int64? {
        guard let seconds = scaledNumber(Substring(text.trimmingSpaces()),
                                         units: [("S", 1), ("M", 60), ("H", 3600), ("D", 86400)]) else { return nil }
        let nanos = (seconds * 1e9).rounded(.down)
        guard nanos >= 1, nanos < Double(Int64.max) else { return nil }
        return Int64(nanos)
    }

    /// A time span in nanoseconds as `parseDuration` reads it back, in the largest unit that divides it
    /// (`1h`, `90m`, `45s`), else in seconds with a fraction.
    public static func durationText(_ nanos: Int64) -> String {
        for (unit, size) in [("d", Int64(86400)), ("h", 3600), ("m", 60), ("s", 1)]
        where nanos >= size * 1_000_000_000 && nanos % (size * 1_000_000_000) == 0 {
            return "\(nanos / (size * 1_000_000_000))\(unit)"
        }
        return "\(Double(nanos) / 1e9)s"
    }

    /// A size as the user writes it: bytes, or with a suffix K, M, G or T (powers of 1024; `KiB`, `MB` and
    /// the like are read the same way), whole or with a decimal fraction (`1.5G`). Nil when malformed or
    /// not positive.
    public static func parseSize(_ text: String) -> Int? {
        var number = Substring(text.trimmingSpaces())
        for suffix in ["IB", "B"] where number.uppercased().hasSuffix(suffix) && number.count > suffix.count {
            number = number.dropLast(suffix.count)
            break
        }
        let units: [(Character, Double)] = [("K", 1024), ("M", 1_048_576), ("G", 1_073_741_824),
                                            ("T", 1_099_511_627_776)]
        guard let value = scaledNumber(number, units: units) else { return nil }
        let bytes = value.rounded(.down)
        guard bytes >= 1, bytes < Double(Int.max) else { return nil }
        return Int(bytes)
    }

    /// A decimal number (digits, at most one point) times the unit its last letter names (upper-case
    /// `units`, matched in either case; none: 1).
    private static func scaledNumber(_ text: Substring, units: [(Character, Double)]) -> Double? {
        var number = text
        var scale = 1.0
        if let last = number.last?.uppercased().first, let unit = units.first(where: { $0.0 == last }) {
            scale = unit.1
            number = number.dropLast()
        }
        guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              number.filter({ $0 == "." }).count <= 1, number != ".", let value = Double(number) else {
            return nil
        }
        return value * scale
    }
}

private extension String {
    func trimmingSpaces() -> String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
