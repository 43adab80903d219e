import NinePSession
import NinePWire

/// One line of the detail view: text, tree depth, and which frame bytes it stands for.
public struct DetailLine: Hashable, Sendable {
    public var text: StyledLine
    public var depth: Int
    /// Which of the exchange's frames the line belongs to (index into `Detail.frames`), if any.
    public var frame: Int?
    /// The bytes of that frame the line covers (a field, or the whole frame for a section line).
    public var range: Range<Int>?
    /// A message heading (`view.cycle` jumps between them).
    public var isSection: Bool

    public init(_ text: StyledLine, depth: Int = 0, frame: Int? = nil, range: Range<Int>? = nil, isSection: Bool = false) {
        self.text = text; self.depth = depth; self.frame = frame; self.range = range; self.isSection = isSection
    }
}

/// Everything the detail view shows for one exchange: summary lines, then for each frame (request, reply,
/// late reply) a heading and its decode tree.
public struct Detail: Hashable, Sendable {
    public var lines: [DetailLine]
    /// The raw frames, in the order the lines refer to them.
    public var frames: [[UInt8]]
    /// The first field line (where the cursor starts).
    public var firstFieldLine: Int? { lines.firstIndex { $0.range != nil && !$0.isSection } }
    /// Lines that head a frame.
    public var sectionLines: [Int] { lines.indices.filter { lines[$0].isSection } }
}

extension InspectorModel {
    /// The detail of a store row; `now` counts a pending request's wait (`waiting 12.3s`).
    public func detail(ofRow row: Int, time: TimeFormat, now: Int64? = nil) -> Detail {
        let r = store[row]
        var lines: [DetailLine] = []
        var frames: [[UInt8]] = []
        let exchange = tracker.exchange(ExchangeID(row))
        let role = ThemeRole.list(r.displayState)

        var head = StyledLine()
        head.append("exchange x\(row)", .treeSection)
        head.append("  c\(r.conn)  tag \(r.tag == 0xFFFF ? "NOTAG" : String(r.tag))  ", .normal)
        // A request ninescope flushed and answered itself reads as the list says it (the tracker's status,
        // answered-after-flush, is the reply's view of it).
        head.append(r.answeredForAFlush ? "flushed (ninescope answered)"
                                        : exchange?.status.description ?? r.status.description, role)
        if let l = r.latency { head.append("  latency " + DurationFormat.compact(l), .normal) }
        if let age = ExchangeFormatter.pendingAge(r, now: now) { head.append("  waiting " + DurationFormat.age(age), .normal) }
        if r.flags.contains(.injected) { head.append("  injected", .listInjected) }
        lines.append(DetailLine(head))
        if let path = store.path(r.requestPath) ?? store.path(r.replyPath) {
            var line = StyledLine("fid path  ", .treeField)
            line.append(path, .treeValue)
            if let after = store.path(r.replyPath), after != path {
                line.append(" → ", .normal)
                line.append(after, .treeValue)
            }
            if let user = store.users[r.user], !user.isEmpty {
                line.append("  user ", .treeField)
                line.append(user.description, .treeValue)
            }
            lines.append(DetailLine(line))
        }
        if let x = exchange {
            if let target = x.flushTarget {
                lines.append(DetailLine(StyledLine("flushes \(target)" + (x.flushOutcome.map { ": \($0)" } ?? ""), .listFlushed)))
            }
            if !x.flushedBy.isEmpty {
                let ids = x.flushedBy.map(\.description).joined(separator: ", ")
                lines.append(DetailLine(StyledLine("flush requested by \(ids)", .listFlushed)))
            }
            if let error = x.error {
                lines.append(DetailLine(StyledLine("error: \(error)", .listError)))
            }
        }
        for a in tracker.anomalies where a.exchange?.rawValue == row {
            lines.append(DetailLine(StyledLine("anomaly \(a.kind): \(a.text)", .listAnomaly)))
        }

        var indices: [(String, Int)] = []
        if r.requestIndex >= 0 { indices.append(("request", Int(r.requestIndex))) }
        if r.replyIndex >= 0 { indices.append(("reply", Int(r.replyIndex))) }
        if let late = exchange?.lateReplyIndex { indices.append(("late reply", late)) }
        for (label, index) in indices {
            guard let m = tracker.message(at: index) else { continue }
            let frame = frames.count
            frames.append(m.bytes)
            var heading = StyledLine()
            heading.append(m.direction == .toServer ? "→ " : "← ", .treeSection)
            let name = m.header.map { TracedMessage.typeName($0.type) + " tag " + $0.tag.description } ?? "garbage"
            heading.append(name, .treeSection)
            let held = m.isTruncated ? " (\(m.bytes.count) \(TracedMessage.held(m.marks)))" : ""
            // `#index`: the message's number in the trace, as `decode` and the headless proxy print it (`:goto`).
            var info = "  (\(label) #\(index), \(m.frameSize) bytes" + held
                + ", \(time.format(m.timestamp))"
            if let l = m.latency { info += ", +" + DurationFormat.compact(l) }
            info += ", \(m.dialect)"
            if let how = DetailFormatter.handling(m.marks, toServer: m.direction == .toServer) { info += ", " + how }
            info += ")"
            heading.append(info, .dim)
            lines.append(DetailLine(heading, frame: frame, range: 0..<m.bytes.count, isSection: true))
            guard case .frame = m.kind else { continue }
            let tree = Fcall.fieldTree(m.bytes, dialect: m.dialect, cut: m.isTruncated)
            func add(_ node: FieldNode, depth: Int) {
                var text = StyledLine(String(repeating: "  ", count: depth) + DetailFormatter.padded(node.label), .treeField)
                text.append(" ", .normal)
                text.append(node.display, .treeValue)
                if let note = node.note { text.append("  (\(note))", .dim) }
                lines.append(DetailLine(text, depth: depth, frame: frame, range: node.range))
                for child in node.children { add(child, depth: depth + 1) }
            }
            for root in tree.roots { add(root, depth: 1) }
            if m.isTruncated {
                // Not an error in the frame: the capture (or the view) holds only its first bytes.
                let reason = TracedMessage.truncation(m.bytes, marks: m.marks).reason
                lines.append(DetailLine(StyledLine("  \(reason)", .dim), depth: 1,
                                        frame: frame, range: m.bytes.count..<m.bytes.count))
            } else if let error = tree.error {
                lines.append(DetailLine(StyledLine("  decode error: \(error)", .listError), depth: 1, frame: frame,
                                        range: error.offset..<max(error.offset, m.bytes.count)))
            }
        }
        if indices.isEmpty {
            lines.append(DetailLine(StyledLine("(no frames retained)", .dim)))
        }
        return Detail(lines: lines, frames: frames)
    }

    /// The detail of a message that belongs to no exchange (a run of unframeable bytes): what it is, its
    /// anomalies, and its bytes (the hex pane shows them all). Nil when the view no longer holds it.
    public func detail(ofMessage index: MessageIndex, time: TimeFormat) -> Detail? {
        guard let m = tracker.message(at: index) else { return nil }
        var lines: [DetailLine] = []
        var head = StyledLine()
        head.append("message #\(index)", .treeSection)
        head.append("  \(m.conn)  \(m.direction == .toServer ? "to the server" : "to the client")  ", .normal)
        head.append("not a frame", .listAnomaly)
        lines.append(DetailLine(head))
        for a in tracker.anomalies where a.messageIndex == index {
            lines.append(DetailLine(StyledLine("anomaly \(a.kind): \(a.text)", .listAnomaly)))
        }
        var heading = StyledLine()
        heading.append(m.direction == .toServer ? "→ " : "← ", .treeSection)
        heading.append(m.canonicalLine, .treeSection)
        heading.append("  (#\(index), \(m.bytes.count) bytes, \(time.format(m.timestamp)), \(m.dialect))", .dim)
        lines.append(DetailLine(heading, frame: 0, range: 0..<m.bytes.count, isSection: true))
        let digits = HexFormatter.offsetDigits(m.bytes.count)
        var i = 0
        while i < m.bytes.count {
            // The bytes in rows of 16, hex and text (the hex pane highlights the row under the cursor).
            let end = min(m.bytes.count, i + 16)
            let chunk = m.bytes[i..<end]
            var row = StyledLine("  " + DetailFormatter.padded(HexFormatter.hex(i, digits: digits)), .treeField)
            row.append(" ", .normal)
            let hex = chunk.map { HexFormatter.hex(Int($0), digits: 2) }.joined(separator: " ")
            row.append(hex + String(repeating: " ", count: 3 * (16 - chunk.count) + 2)
                       + String(chunk.map(HexFormatter.printable)), .treeValue)
            lines.append(DetailLine(row, depth: 1, frame: 0, range: i..<end))
            i = end
        }
        return Detail(lines: lines, frames: [m.bytes])
    }
}

enum DetailFormatter {
    /// Field labels padded to a common width (ASCII labels from the manuals).
    static func padded(_ label: String) -> String {
        label.count >= 12 ? label : label + String(repeating: " ", count: 12 - label.count)
    }
}

extension DetailFormatter {
    /// What the proxy did with a frame, from its marks (nil when it passed it on as it came).
    static func handling(_ marks: FrameMarks, toServer: Bool) -> String? {
        var said: [String] = []
        if marks.contains(.injected) { said.append(toServer ? "sent by ninescope" : "made by ninescope, not the server") }
        if marks.contains(.dropped) {
            said.append(toServer ? "kept from the server (--fault)" : "not passed on to the client")
        }
        if marks.contains(.intercepted) { said.append("ninescope's own: not passed on to the client") }
        if marks.contains(.delayed) {
            said.append(toServer ? "passed on; a --fault rule holds back or replaces its reply"
                                 : "held back (--fault delay) before the client got it")
        }
        return said.isEmpty ? nil : said.joined(separator: "; ")
    }
}
