import Dispatch
import InspectorCore
import InspectorUI
import NIOCore
import NinePCapture
import NinePDrivers
import NinePNIO
import NinePREPL
import NinePServer
import NinePSession
import NinePWire
import Synchronization
import TUICore

// The fuzz harness: properties over everything ninescope reads from outside — capture files, TCP streams
// of 9P, single frames, the hosted server's requests, the proxy's relay of a byte stream, the text a user
// types (filters, REPL lines), the inspector's screen driven by keys, and replays of captured requests to
// the hosted server. `make fuzz` (Fuzz/run.sh) drives it with libFuzzer under AddressSanitizer
// (Fuzz/NinescopeFuzz); the test suite runs the seeds (`FuzzSeeds`) through it on every build
// (Tests/FuzzHarnessTests), so the harness compiles with the code it checks and its properties hold for
// every capture in Captures/.
// The first byte of an input picks the part (its value modulo 8); the rest is that part's input. A crash, a
// sanitizer report or a broken property (the `check` calls) is a bug.

/// Where broken properties go: collected for a test (`FuzzHarness.brokenProperties`), or, with none set
/// (under libFuzzer), a fatal error that makes libFuzzer keep the input.
final class BrokenProperties: Sendable {
    let list = Mutex<[String]>([])
    @TaskLocal static var current: BrokenProperties?
}

/// Records `what` as a broken property when `ok` is false.
func check(_ ok: Bool, _ what: @autoclosure () -> String) {
    if ok { return }
    guard let collector = BrokenProperties.current else { fatalError("property broken: " + what()) }
    let text = what()
    collector.list.withLock { $0.append(text) }
}

public enum FuzzHarness {
    /// Runs one input through its part (the parts that talk to the hosted server wait for it).
    public static func run(_ input: [UInt8]) async {
        guard let part = input.first else { return }
        let bytes = Array(input.dropFirst())
        switch part % 8 {
        case 0: captureFile(bytes)
        case 1: streams(bytes)
        case 2: oneFrame(bytes)
        case 3: typedText(bytes)
        case 4: await server(bytes)
        case 5: relay(bytes)
        case 6: screen(bytes)
        default: await replay(bytes)
        }
    }

    /// Runs one input and returns the properties it broke, instead of stopping at the first.
    public static func brokenProperties(_ input: [UInt8]) async -> [String] {
        await collecting { await run(input) }
    }

    /// Runs `body` and returns the properties broken while it ran.
    public static func collecting(_ body: () async -> Void) async -> [String] {
        let collector = BrokenProperties()
        await BrokenProperties.$current.withValue(collector) { await body() }
        return collector.list.withLock { $0 }
    }

    /// Checks `ok` as the parts do (for a test of the harness itself).
    public static func check(_ ok: Bool, _ what: String) { NinescopeFuzzHarness.check(ok, what) }
}

/// What `decode` and the inspector do with each session event: the tracker, the text and JSON lines,
/// the inspector's model; at the end every row's list text, columns and detail, and a filter.
struct Consumers {
    var tracker = SessionTracker(configuration: .lineTrace(reportsChanges: true))
    var model = InspectorModel()
    let text = TraceLine(style: .text)
    let json = TraceLine(style: .json)
    var out: [UInt8] = []

    mutating func take(_ event: SessionEvent) {
        let output = tracker.handle(event)
        text.appendLines(for: output, to: &out)
        for line in json.lines(for: output) { out += line.utf8 }
        _ = model.handle(event)
        if out.count > 1 << 20 { out.removeAll(keepingCapacity: true) }
    }

    mutating func finish() {
        for row in 0..<model.store.count {
            _ = model.detail(ofRow: row, time: .relative(origin: 0))
            _ = model.text(ofRow: row)
            _ = model.columns(ofRow: row, time: .clock(utcOffsetSeconds: 0))
        }
        if let filter = try? FilterParser.parse("error or latency>1ms or path:/a or fid:3 or Twalk or cut or user:0") {
            model.setFilter(filter)
        }
    }
}

/// 0: the bytes as a capture file (pcap or pcapng), as `decode`/`view` read one.
func captureFile(_ bytes: [UInt8]) {
    guard var reader = try? CaptureReader(bytes: bytes) else { return }
    var decoder = CaptureDecoder()
    var ingest = CaptureIngest()
    var consumers = Consumers()
    while let packet = reader.next() {
        for event in decoder.process(packet) { ingest.ingest(event) { consumers.take($0) } }
    }
    for event in decoder.finish() { ingest.ingest(event) { consumers.take($0) } }
    for event in ingest.finish() { consumers.take(event) }
    consumers.finish()
}

/// Two TCP connections' session events from chunks `ctl len bytes[len*3]`: ctl bit 0 the direction, bit 1
/// the connection, bit 2 a hole of `ctl >> 3 + 1` bytes before the chunk; the second connection ends by a
/// reset.
func streamEvents(_ bytes: ArraySlice<UInt8>) -> [SessionEvent] {
    var ingest = CaptureIngest()
    var events: [SessionEvent] = []
    let client = Endpoint(address: .v4(0x7f00_0001), port: 40000)
    let server = Endpoint(address: .v4(0x7f00_0001), port: 564)
    for c: UInt32 in [1, 2] {
        ingest.ingest(.open(conn: ConnectionID(c), client: client, server: server, timestampNanos: 0,
                            metadata: nil)) { events.append($0) }
    }
    var i = bytes.startIndex
    var t: Int64 = 1
    while i + 2 <= bytes.endIndex {
        let ctl = bytes[i], length = Int(bytes[i + 1]) * 3
        i += 2
        let chunk = Array(bytes[i..<min(bytes.endIndex, i + length)])
        i += chunk.count
        let conn = ConnectionID(UInt32(ctl >> 1 & 1) + 1)
        let direction: Direction = ctl & 1 == 0 ? .toServer : .toClient
        t += 1000
        if ctl & 4 != 0 {
            ingest.ingest(.gap(conn: conn, direction: direction, missingBytes: Int(ctl >> 3) + 1,
                               timestampNanos: t)) { events.append($0) }
        }
        ingest.ingest(.data(conn: conn, direction: direction, timestampNanos: t, bytes: chunk,
                            metadata: nil)) { events.append($0) }
    }
    for c: UInt32 in [1, 2] {
        ingest.ingest(.close(conn: ConnectionID(c), reset: c == 2, reason: nil, timestampNanos: t + 1)) {
            events.append($0)
        }
    }
    events += ingest.finish()
    return events
}

/// 1: two connections' bytes (`streamEvents`) through `decode`'s and the inspector's consumers.
func streams(_ bytes: [UInt8]) {
    var consumers = Consumers()
    for event in streamEvents(bytes[...]) { consumers.take(event) }
    consumers.finish()
}

/// 2: the bytes as one frame in each dialect. Whatever decodes has a canonical line, and encodes to a frame
/// that decodes to the same message.
func oneFrame(_ bytes: [UInt8]) {
    for dialect in Dialect.allCases {
        guard let fcall = try? Fcall.decode(bytes, dialect: dialect) else { continue }
        var line: [UInt8] = []
        fcall.appendCanonicalLine(to: &line)
        let again = fcall.encode(dialect: dialect)
        let redecoded = try? Fcall.decode(again, dialect: dialect)
        check(redecoded == fcall, "\(dialect): \(bytes) decodes, but its encoding \(again) decodes differently")
    }
}

/// 3: the bytes as text a user types: a filter (the inspector's `/`, `--filter`), a REPL line in each
/// dialect, a replay `--ignore` list.
func typedText(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    if let filter = try? FilterParser.parse(text) {
        var model = InspectorModel()
        model.setFilter(filter)
    }
    for dialect in Dialect.allCases { _ = try? RequestParser(dialect: dialect).parse(text) }
    _ = try? IgnoreRule.parse(text)
}

/// 4: requests to the hosted server (memory driver, with diod's `ctl` tree) after its Tversion (dialect from
/// the first byte), a Tattach of fid 0, and fids 101 and 102 open on ctl's `zero` and `null` (which a Tread
/// and a Twrite reach through the server's immediate path, straight from the frame): chunks
/// `len type tag[2] body[len]` framed with their size. Every reply must decode in the negotiated dialect
/// (any, once the input sends a Tversion of its own) and answer a tag that was asked.
func server(_ bytes: [UInt8]) async {
    guard let first = bytes.first else { return }
    let dialect = Dialect.allCases[Int(first) % 3]
    let version = Tversion(msize: 8192, version: P9String(dialect.rawValue))
    var frames = [Fcall(tag: .notag, .tversion(version)).encode(dialect: dialect)]
    let nUname: UInt32? = dialect == .p9 ? nil : 0
    var setup: [Message] = [.tattach(Tattach(fid: Fid(0), uname: "fuzz", aname: "", nUname: nUname)),
                            .tattach(Tattach(fid: Fid(100), uname: "fuzz", aname: "ctl", nUname: nUname))]
    for (fid, name) in [(UInt32(101), "zero"), (102, "null")] {
        setup.append(.twalk(Twalk(fid: Fid(100), newfid: Fid(fid), wnames: [P9String(name)])))
        setup.append(dialect == .l ? .tlopen(Tlopen(fid: Fid(fid), flags: .rdwr)) : .topen(Topen(fid: Fid(fid), mode: .readWrite)))
    }
    var tags: Set<UInt16> = [Tag.notag.rawValue]
    for (n, m) in setup.enumerated() {
        frames.append(Fcall(tag: Tag(UInt16(1 + n)), m).encode(dialect: dialect))
        tags.insert(UInt16(1 + n))
    }
    var renegotiates = false
    var i = 1
    while i + 4 <= bytes.count {
        let length = Int(bytes[i])
        let body = bytes[(i + 1)..<min(bytes.count, i + 4 + length)]
        i += 4 + length
        var frame = withUnsafeBytes(of: UInt32(4 + body.count).littleEndian) { Array($0) }
        frame += body
        tags.insert(UInt16(body[body.startIndex + 1]) | UInt16(body[body.startIndex + 2]) << 8)
        if body[body.startIndex] == MessageType.tversion.rawValue { renegotiates = true }
        frames.append(frame)
    }
    let (connection, output) = ServerConnection.makeStream(driver: CtlTreeDriver(main: MemoryDriver()), inPlace: true)
    let dialects = renegotiates ? Dialect.allCases : [dialect]
    for frame in frames { await connection.receive(frame: frame) }
    await connection.closed()
    for await out in output {
        guard case .frame(let reply) = out else { continue }
        let decoded = dialects.lazy.compactMap { try? Fcall.decode(reply, dialect: $0) }.first
        check(decoded != nil, "the server sent a reply that does not decode in \(dialects): \(reply)")
        if let decoded { check(tags.contains(decoded.tag.rawValue), "a reply to tag \(decoded.tag), never asked") }
    }
}

/// The proxy's frame cursor with a tap that collects every frame and forwards everything: what it passes
/// on, and what it reports as frames and garbage, are each the input byte for byte.
final class Tap: FrameCursorDelegate {
    var forwarded: [UInt8] = []
    var reported: [UInt8] = []
    let holdsPartialHeaders: Bool

    init(holdsPartialHeaders: Bool) { self.holdsPartialHeaders = holdsPartialHeaders }

    func forward(_ bytes: ByteBuffer, _ direction: Direction) { forwarded += bytes.readableBytesView }
    func decide(_ header: FrameHeader, _ direction: Direction, alreadyForwarded: Bool) -> FrameDecision {
        FrameDecision(forward: true, collect: true, marks: [])
    }
    func frame(_ bytes: [UInt8], header: FrameHeader, marks: FrameMarks, _ direction: Direction, at: Int64) {
        check(bytes.count == Int(header.size),
              "a reported frame of \(bytes.count) bytes whose size says \(header.size)")
        reported += bytes
    }
    func garbage(_ bytes: [UInt8], reason: String, _ direction: Direction, at: Int64) { reported += bytes }
    func hasInsertions(_ direction: Direction) -> Bool { false }
    func insertNow(_ direction: Direction, at: Int64) {}
    func holdPartialHeaders(_ direction: Direction) -> Bool { holdsPartialHeaders }
    func flushForwarded(_ direction: Direction) {}
}

/// 5: one direction of a relayed stream, read in pieces: `flags maxFrameSize[2] (len bytes[len])…` (flags
/// bit 0 the direction, bit 1 partial headers held back).
func relay(_ bytes: [UInt8]) {
    guard bytes.count >= 3 else { return }
    let direction: Direction = bytes[0] & 1 == 0 ? .toServer : .toClient
    let maxFrameSize = max(7, UInt32(bytes[1]) | UInt32(bytes[2]) << 8)
    let cursor = FrameCursor(direction: direction, maxFrameSize: maxFrameSize)
    let tap = Tap(holdsPartialHeaders: bytes[0] & 2 != 0)
    var input: [UInt8] = []
    var i = 3, t: Int64 = 0
    while i < bytes.count {
        let length = Int(bytes[i])
        let piece = Array(bytes[(i + 1)..<min(bytes.count, i + 1 + length)])
        i += 1 + length
        input += piece
        t += 1
        cursor.feed(ByteBuffer(bytes: piece), at: t, tap)
    }
    cursor.finish(at: t + 1, tap)
    check(tap.forwarded == input,
          "the relay passed on \(tap.forwarded.count) bytes that differ from its \(input.count)")
    check(tap.reported == input,
          "the tap reported \(tap.reported.count) bytes that differ from the \(input.count) relayed")
}

/// A theme made in code, with a style for each kind of role: the built-in themes' parser (TOMLKit) does
/// not free what it allocates parsing a document (~21 kB each time a theme is loaded, at start or on
/// `:theme`), which LeakSanitizer would report on every input after it.
let theme = Theme(name: "fuzz", styles: Dictionary(uniqueKeysWithValues: ThemeRole.allCases.enumerated().map {
    ($0.element, Style(fg: Color.ansi[$0.offset % 8], bg: $0.offset % 3 == 0 ? .indexed(UInt8($0.offset)) : .default,
                       attrs: $0.offset % 4 == 0 ? .bold : []))
}))

/// 6: the inspector's screen over two connections' traffic, driven by keys and drawn after each:
/// `width height keyCount keys[keyCount] stream…` (the stream as `streamEvents` reads it; keys: printable
/// ASCII as typed, the bytes below 32 and 127 the special keys, the bytes above a few wide and combining
/// characters, and a resize).
func screen(_ bytes: [UInt8]) {
    guard bytes.count >= 3 else { return }
    var size = Size(width: 10 + Int(bytes[0]) % 190, height: 3 + Int(bytes[1]) % 60)
    let keys = bytes[3..<min(bytes.count, 3 + Int(bytes[2]))]
    var model = InspectorModel()
    model.handle(streamEvents(bytes[min(bytes.count, 3 + Int(bytes[2]))...]))
    var screen = InspectorScreen(model: model, theme: theme, title: "fuzz", isLive: true)
    let special: [KeyChord] = [.enter, .tab, .backTab, .escape, .backspace, .delete, .up, .down,
                               KeyChord(.left), KeyChord(.right), KeyChord(.home), KeyChord(.end),
                               KeyChord(.pageUp), KeyChord(.pageDown), .ctrl("f"), .ctrl("b"), .ctrl("d"),
                               .ctrl("u"), .ctrl("l"), .ctrl("a"), .ctrl("e"), .ctrl("k"), .ctrl("w"),
                               KeyChord(.function(1))]
    let wide: [Character] = ["é", "漢", "\u{301}", "😀", "\u{200B}", "ｱ"]
    var grid = Grid(size: size)
    _ = screen.render(into: &grid)
    for key in keys {
        let event: InputEvent
        switch key {
        case 0x20...0x7E: event = .key(KeyChord(Character(UnicodeScalar(key))))
        case 0..<0x20 where Int(key) < special.count: event = .key(special[Int(key)])
        case 0x7F: event = .key(.backspace)
        case 0x80..<0xF0: event = .key(KeyChord(wide[Int(key) % wide.count]))
        default:
            size = Size(width: 1 + Int(key & 0x0F) * 12, height: 1 + Int(key & 0x0F) * 4)
            event = .resize(size)
        }
        _ = screen.handle(event)
        grid = Grid(size: size)
        _ = screen.render(into: &grid)
    }
}

/// The hosted server (memory driver) as a replay's transport, in process.
final class InProcessTransport: NinePTransport {
    let connection: ServerConnection
    let incoming: AsyncStream<TransportEvent>
    /// Frames posted, handed to the server in order by one task.
    private let outgoing: AsyncStream<[UInt8]>.Continuation

    init() {
        let (connection, output) = ServerConnection.makeStream(driver: MemoryDriver())
        self.connection = connection
        let (frames, outgoing) = AsyncStream.makeStream(of: [UInt8].self)
        self.outgoing = outgoing
        Task { for await frame in frames { await connection.receive(frame: frame) } }
        incoming = AsyncStream { continuation in
            Task {
                for await out in output {
                    switch out {
                    case .frame(let bytes): continuation.yield(.frame(bytes))
                    case .shouldClose(let reason):
                        continuation.yield(.closed(reason: "\(reason)"))
                        await connection.closed()
                    }
                }
                continuation.finish()
            }
        }
    }

    func send(_ frame: [UInt8]) async throws { await connection.receive(frame: frame) }
    func post(_ frame: [UInt8]) { outgoing.yield(frame) }
    func close() async {
        outgoing.finish()
        await connection.closed()
    }
}

/// 7: two connections' requests (`streamEvents`, decoded as 9P2000.L; replies as captured) replayed to
/// the hosted server. The replay ends (it gives up after 0.3 s without a reply), every reply it gets
/// answers a tag it has in flight (it never reuses one, whatever order or tags the capture shows), and it
/// never stalls: a step left unsendable with nothing in flight is a fault of the plan or the schedule.
func replay(_ bytes: [UInt8]) async {
    var messages: [CapturedMessage] = []
    for event in streamEvents(bytes[...]) {
        guard case .frame(let conn, _, let at, let frame, _) = event,
              let fcall = try? Fcall.decode(frame, dialect: .l) else { continue }
        messages.append(CapturedMessage(connection: conn.rawValue, time: at, fcall: fcall))
    }
    let plan = ReplayPlan.make(messages)
    guard !plan.steps.isEmpty else { return }
    let environment = ReplayRunner.Environment(
        connect: { _ in InProcessTransport() },
        now: { Int64(DispatchTime.now().uptimeNanoseconds) },
        sleep: { ns in try? await Task.sleep(nanoseconds: UInt64(max(0, ns))) })
    let options = ReplayRunner.Options(timing: .asap, diff: true, idleTimeout: 300_000_000)
    let report = await ReplayRunner(plan: plan, options: options, environment: environment).run()
    for problem in report.problems {
        check(!problem.contains("not in flight"), "replay: \(problem)")
        check(!problem.hasPrefix("replay stalled"), "replay: \(problem)")
    }
}

