import NinePCapture
import NinePWire
import NinePSession

/// The headless trace: one line per tracker output, as text (for people) or JSON (for programs).
/// Used by `ninescope decode` and `ninescope proxy --headless`.
///
/// Text, one message per line:
/// `15:56:01.123456 c1 → Twalk tag 3 fid 1 newfid 2 nwname 2 0:usr 1:bin  [/]`
/// `15:56:01.123501 c1 ← Rwalk tag 3 nwqid 2 0:(…) 1:(…)  45.1µs #4  [/usr/bin]`
/// — time (UTC, µs), connection, direction, the canonical line; replies add the latency and the index of
/// the request they answer; the fid's path is shown in brackets when known. Anomalies follow on their own
/// line: `15:56:01.123501 c1 ! unknown-fid: …`.
///
/// JSON lines carry `"event"`: `message` (with every field of the message under `fields`), `open`,
/// `close`, or `anomaly`.
public struct TraceLine: Sendable {
    public enum Style: Sendable { case text, json }
    public var style: Style
    public init(style: Style) { self.style = style }

    /// Lines for one tracker output (the message first, then its anomalies, then fid leaks etc.).
    public func lines(for output: TrackerOutput) -> [String] {
        var out: [String] = []
        if let m = output.message { out.append(line(for: m)) }
        for a in output.anomalies { out.append(line(for: a)) }
        return out
    }

    /// `lines(for:)` as UTF-8, each line followed by a newline, appended to `out` (text style without
    /// building Strings for the message lines; the same bytes either way). `rendered` is the message's
    /// canonical line made ahead of time, used when it applies.
    public func appendLines(for output: TrackerOutput, to out: inout [UInt8], rendered: RenderedCanonical? = nil) {
        if let m = output.message {
            if style == .text { appendText(m, to: &out, rendered: rendered) } else { appendJSON(m, to: &out, rendered: rendered) }
            out.append(0x0A)
        }
        for a in output.anomalies {
            out.append(contentsOf: line(for: a).utf8)
            out.append(0x0A)
        }
    }

    public func line(for m: TracedMessage) -> String {
        switch style {
        case .text: return text(m)
        case .json: return json(m).serialized
        }
    }

    public func line(for a: Anomaly) -> String {
        switch style {
        case .text:
            return TraceLine.clock(a.at) + " " + a.conn.description + " ! " + a.kind.rawValue + ": " + a.text
        case .json:
            var o: [(String, JSONValue)] = [("event", .string("anomaly")), ("t_ns", .int(a.at)),
                                            ("time", .string(TraceLine.iso8601(a.at))), ("conn", .uint(UInt64(a.conn.rawValue))),
                                            ("kind", .string(a.kind.rawValue)), ("text", .string(a.text))]
            if let i = a.messageIndex { o.append(("index", .int(Int64(i)))) }
            if let t = a.tag { o.append(("tag", .uint(UInt64(t.rawValue)))) }
            if let f = a.fid { o.append(("fid", .uint(UInt64(f.rawValue)))) }
            return JSONValue.object(o).serialized
        }
    }

    public func opened(conn: ConnectionID, at t: Int64, info: ConnectionInfo?) -> String {
        switch style {
        case .text:
            var what = info.map { "open client \($0.client) \($0.upstreamLabel) \($0.upstream)" } ?? "open"
            if let version = info?.version {
                // A connection that began before this capture file (a capture cut into several).
                what += " (continued: " + version + (info?.msize.map { " msize \($0)" } ?? "") + ")"
            }
            return TraceLine.clock(t) + " " + conn.description + " + " + what
        case .json:
            var o: [(String, JSONValue)] = [("event", .string("open")), ("t_ns", .int(t)),
                                            ("time", .string(TraceLine.iso8601(t))), ("conn", .uint(UInt64(conn.rawValue)))]
            if let info { o += [("client", .string(info.client)), (info.upstreamLabel, .string(info.upstream))] }
            if let version = info?.version { o.append(("continued_version", .string(version))) }
            if let msize = info?.msize { o.append(("continued_msize", .uint(UInt64(msize)))) }
            return JSONValue.object(o).serialized
        }
    }

    public func closed(conn: ConnectionID, at t: Int64, reason: CloseReason) -> String {
        switch style {
        case .text: return TraceLine.clock(t) + " " + conn.description + " - close (" + reason.description + ")"
        case .json:
            return JSONValue.object([("event", .string("close")), ("t_ns", .int(t)), ("time", .string(TraceLine.iso8601(t))),
                                     ("conn", .uint(UInt64(conn.rawValue))), ("reason", .string(reason.description))]).serialized
        }
    }

    private func text(_ m: TracedMessage) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(160)
        appendText(m, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    private func appendText(_ m: TracedMessage, to out: inout [UInt8], rendered: RenderedCanonical? = nil) {
        TraceLine.appendClock(m.timestamp, to: &out)
        out.append(0x20)
        out.append(0x63)  // "c"
        DecimalText.append(UInt64(m.conn.rawValue), to: &out)
        out.append(contentsOf: m.direction == .toServer ? TraceLine.toServerArrow : TraceLine.toClientArrow)
        if let r = rendered, r.applies(to: m) { out.append(contentsOf: r.bytes) } else { m.appendCanonicalLine(to: &out) }
        if let lat = m.latency {
            out.append(0x20); out.append(0x20)
            DurationFormat.appendCompact(lat, to: &out)
            if let r = m.requestIndex {
                out.append(0x20); out.append(0x23)  // " #"
                DecimalText.append(UInt64(r), to: &out)
            }
        }
        if let p = m.fidPath {
            out.append(0x20); out.append(0x20); out.append(0x5B)
            p.appendDescription(to: &out)
            out.append(0x5D)
        }
        if !m.marks.isEmpty {
            out.append(0x20); out.append(0x20); out.append(0x3C)
            out.append(contentsOf: m.marks.description.utf8)
            out.append(0x3E)
        }
    }

    /// " → " and " ← " (the arrows between the connection and the message).
    private static let toServerArrow: [UInt8] = Array(" → ".utf8)
    private static let toClientArrow: [UInt8] = Array(" ← ".utf8)

    /// HH:MM:SS.uuuuuu of the time of day (UTC): `clock`, as bytes (built in a stack buffer, then one
    /// append).
    static func appendClock(_ nanos: Int64, to out: inout [UInt8]) {
        let day: Int64 = 86_400_000_000_000
        let us = UInt64((((nanos % day) + day) % day) / 1_000)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 15) { b in
            let p = b.baseAddress!
            DecimalText.write(us / 3_600_000_000, digits: 2, to: p); p[2] = 0x3A
            DecimalText.write(us / 60_000_000 % 60, digits: 2, to: p + 3); p[5] = 0x3A
            DecimalText.write(us / 1_000_000 % 60, digits: 2, to: p + 6); p[8] = 0x2E
            DecimalText.write(us % 1_000_000, digits: 6, to: p + 9)
            out.append(contentsOf: UnsafeBufferPointer(b))
        }
    }

    public func json(_ m: TracedMessage) -> JSONValue {
        var o: [(String, JSONValue)] = [
            ("event", .string("message")), ("index", .int(Int64(m.index))), ("t_ns", .int(m.timestamp)),
            ("time", .string(TraceLine.iso8601(m.timestamp))), ("conn", .uint(UInt64(m.conn.rawValue))),
            ("direction", .string(m.direction.token)), ("size", .int(Int64(m.frameSize))),
            ("dialect", .string(m.dialect.rawValue)),
        ]
        if let h = m.header {
            o.append(("type", .string(TracedMessage.typeName(h.type))))
            o.append(("typecode", .uint(UInt64(h.type))))
            o.append(("tag", .uint(UInt64(h.tag.rawValue))))
        }
        switch m.fcall {
        case .success(let f):
            // The codec's own ordered fields, minus the header members repeated above.
            let object = m.readsDirectory ? f.jsonObject(readingDirectory: m.dialect) : f.jsonObject
            let fields = object.filter { !["message", "code", "tag"].contains($0.0) }
            o.append(("fields", .object(fields)))
        case .failure(let e):
            o += Self.undecoded(m, e)
        }
        if let x = m.exchange { o.append(("exchange", .int(Int64(x.rawValue)))) }
        if let r = m.requestIndex { o.append(("answers", .int(Int64(r)))) }
        if let l = m.latency { o.append(("latency_ns", .int(l))) }
        if let p = m.fidPath {
            o.append(("path", .string(p.description)))
            if p.isDeleted { o.append(("path_deleted", .bool(true))) }
        }
        if let u = m.fidPath?.user, !u.isEmpty { o.append(("user", .string(u.description))) }
        if !m.marks.isEmpty { o.append(("marks", .string(m.marks.description))) }
        o.append(("line", .string(m.canonicalLine)))
        return .object(o)
    }

    /// The members of a message that did not decode, for both JSON writers: a run of unframeable bytes
    /// (`garbage`), a frame a capture cut (the `fields` its captured bytes hold whole, as a whole frame's, and
    /// `truncated`), or a malformed frame (where and why).
    private static func undecoded(_ m: TracedMessage, _ e: DecodeError) -> [(String, JSONValue)] {
        let hex = JSONValue.string(TraceLine.hex(m.bytes))
        if case .garbage(let reason) = m.kind { return [("garbage", .object([("reason", .string(reason)), ("hex", hex)]))] }
        if m.isTruncated {
            return [("fields", .object(Fcall.fieldTree(m.bytes, dialect: m.dialect, cut: true).capturedFieldsJSON)),
                    ("truncated", .object([("captured", .int(Int64(m.bytes.count))), ("hex", hex)]))]
        }
        return [("malformed", .object([("offset", .int(Int64(e.offset))), ("field", .string(e.field)),
                                       ("reason", .string(e.reason)), ("hex", hex)]))]
    }

    /// `json(m).serialized` as UTF-8, written straight into `out` (no `JSONValue` tree; the same bytes).
    private func appendJSON(_ m: TracedMessage, to out: inout [UInt8], rendered: RenderedCanonical? = nil) {
        var o = JSONObjectWriter()
        o.string("event", "message"); o.int("index", Int64(m.index)); o.int("t_ns", m.timestamp)
        o.string("time", utf8: UTCTime.iso8601Bytes(m.timestamp)); o.uint("conn", UInt64(m.conn.rawValue))
        o.string("direction", m.direction.token); o.int("size", Int64(m.frameSize))
        o.string("dialect", m.dialect.rawValue)
        if let h = m.header {
            o.string("type", TracedMessage.typeName(h.type))
            o.uint("typecode", UInt64(h.type))
            o.uint("tag", UInt64(h.tag.rawValue))
        }
        switch m.fcall {
        case .success(let f):
            o.fields("fields", of: f, readingDirectory: m.readsDirectory ? m.dialect : nil)
        case .failure(let e):
            for (key, value) in Self.undecoded(m, e) { o.value(key, value) }
        }
        if let x = m.exchange { o.int("exchange", Int64(x.rawValue)) }
        if let r = m.requestIndex { o.int("answers", Int64(r)) }
        if let l = m.latency { o.int("latency_ns", l) }
        if let p = m.fidPath {
            var path: [UInt8] = []
            p.appendDescription(to: &path)
            o.string("path", utf8: path)
            if p.isDeleted { o.value("path_deleted", .bool(true)) }
            if let u = p.user, !u.isEmpty {
                path.removeAll(keepingCapacity: true)
                u.appendDescription(to: &path)
                o.string("user", utf8: path)
            }
        }
        if !m.marks.isEmpty { o.string("marks", m.marks.description) }
        if let r = rendered, r.applies(to: m) {
            o.string("line", utf8: r.bytes)
        } else {
            var line: [UInt8] = []
            line.reserveCapacity(512)
            m.appendCanonicalLine(to: &line)
            o.string("line", utf8: line)
        }
        o.finish(appendingTo: &out)
    }

    /// `HH:MM:SS.uuuuuu` in UTC.
    public static func clock(_ nanos: Int64) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(15)
        appendClock(nanos, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `2026-11-25T15:56:01.123456789Z`.
    public static func iso8601(_ nanos: Int64) -> String { String(decoding: UTCTime.iso8601Bytes(nanos), as: UTF8.self) }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8](); out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A frame's canonical line rendered before the tracker saw it (by the thread that reads a capture, while
/// another runs the tracker): the frame decoded with `dialect`. A decoded message's line depends only on
/// its bytes and the dialect, so it stands for the tracker's own rendering whenever the tracker decoded the
/// frame successfully with the same dialect; otherwise the line is made again.
public struct RenderedCanonical {
    public var dialect: Dialect
    public var bytes: ArraySlice<UInt8>
    public init(dialect: Dialect, bytes: ArraySlice<UInt8>) { self.dialect = dialect; self.bytes = bytes }

    func applies(to m: TracedMessage) -> Bool {
        guard m.dialect == dialect, case .frame = m.kind, case .success = m.fcall, !m.readsDirectory else { return false }
        return true
    }
}
