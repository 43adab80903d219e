import NinePSession
import NinePWire

/// How much of each read's and write's data the inspector keeps in memory (`proxy --view-data`, and
/// `view --view-data` for a capture larger than memory should hold). The live view keeps every
/// message for as long as it runs; kept whole, a guest copying a 4 GiB file would hold 4 GiB of file contents
/// in the view. So an Rread's or Twrite's data beyond `limit` bytes is let go as the frame arrives (the
/// frame is then shown as a cut one: its count, its first bytes, `(cut)`), every other message and field
/// whole. The relay and a capture are untouched: they always carry every byte.
public struct LiveDataLimit: Sendable, Hashable, CustomStringConvertible {
    /// The most data bytes kept per Rread or Twrite; nil keeps everything.
    public var bytes: Int?

    /// 4 KiB: a page of each read's and write's data, enough to see what a file begins with and every
    /// other field whole, for a few percent of bulk traffic's size (a 64 KiB read keeps 4,107 of its bytes).
    public static let standard = LiveDataLimit(bytes: 4096)
    public static let all = LiveDataLimit(bytes: nil)

    public init(bytes: Int?) { self.bytes = bytes.map { max(0, $0) } }

    /// `4096`, `0` or `all`: what `--view-data` takes. Nil for anything else.
    public init?(parsing text: String) {
        if text == "all" { self.init(bytes: nil); return }
        guard let n = Int(text), n >= 0 else { return nil }
        self.init(bytes: n)
    }

    public var description: String { bytes.map(String.init) ?? "all" }

    /// What `view` keeps when not told (`--view-data`): everything, unless the capture's files come to more
    /// than half of the machine's memory, which holding them whole would need (the view takes a little more
    /// than the capture's size) — then a page of each read's and write's data, as the live view keeps.
    public static func forViewing(captureBytes: UInt64, physicalMemory: UInt64) -> LiveDataLimit {
        captureBytes > physicalMemory / 2 ? .standard : .all
    }

    /// The event as the view keeps it: an Rread or Twrite frame with more data than the limit cut to it
    /// and marked `.truncated` and `.trimmed` (cut by the view, not the capture); every other event unchanged.
    public func kept(_ event: SessionEvent) -> SessionEvent {
        guard let limit = bytes, case .frame(let conn, let direction, let at, let frame, let marks) = event,
              !marks.contains(.truncated), let cut = TruncatedFrame.keepingData(frame, upTo: limit) else { return event }
        return .frame(conn: conn, direction: direction, at: at, bytes: cut, marks: marks.union([.truncated, .trimmed]))
    }
}
