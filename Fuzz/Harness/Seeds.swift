import Foundation
import InspectorCore
import NinePCapture
import NinePSession

/// The inputs each fuzzing run starts from, and the suite runs through the harness: from a capture, the
/// whole file (part 0); its first frames as a connection's stream (part 1), on the inspector's screen under
/// keys (part 6) and replayed to the hosted server (part 7); each of its first frames alone (part 2), as a
/// server request (part 4) and as a relayed stream in two pieces (part 5). Typed text (part 3) comes from
/// the examples in Fuzz/seeds/; `all` gathers them with Fuzz/regressions/.
public enum FuzzSeeds {
    public struct Seed: Sendable {
        public let name: String
        public let input: [UInt8]

        public init(name: String, input: [UInt8]) {
            self.name = name
            self.input = input
        }
    }

    /// Keys for the screen part: moves, the views, prompts with a filter, a search and a REPL line.
    static let keys = Array(("jjjk\u{0}G g F\u{3}S\u{3}A\u{3}C\u{3}?\u{3}"
                             + "/Twalk or error\u{0}\\Rread\u{0}nN:walk 0 9 a\u{0}").utf8)

    /// The seeds made from one capture file (`name` tells them apart); of a file that does not read as a
    /// capture, the whole file and empty streams only.
    public static func fromCapture(named name: String, bytes: [UInt8]) -> [Seed] {
        var seeds: [Seed] = []
        if bytes.count <= 200_000 { seeds.append(Seed(name: "capture-\(name)", input: [0] + bytes)) }
        let frames = self.frames(of: bytes, upTo: 80)
        var stream: [UInt8] = []
        for var frame in frames.prefix(40) {
            frame = Array(frame.prefix(765))
            guard frame.count >= 5 else { continue }
            frame += [UInt8](repeating: 0, count: (3 - frame.count % 3) % 3)
            stream += [frame[4] & 1, UInt8(frame.count / 3)] + frame
        }
        seeds.append(Seed(name: "stream-\(name)", input: [1] + stream))
        seeds.append(Seed(name: "screen-\(name)", input: [6, 70, 21, UInt8(keys.count)] + keys + stream))
        seeds.append(Seed(name: "replay-\(name)", input: [7] + stream))
        for (k, frame) in frames.enumerated() where (7...4000).contains(frame.count) {
            seeds.append(Seed(name: "frame-\(name)-\(k)", input: [2] + frame))
            let body = frame.dropFirst(4)
            if body.count - 3 < 256 {
                seeds.append(Seed(name: "server-\(name)-\(k)", input: [4, 2, UInt8(body.count - 3)] + body))
            }
            if frame.count <= 510 {
                let half = frame.count / 2
                seeds.append(Seed(name: "relay-\(name)-\(k)",
                                  input: [5, UInt8(k & 1), 0, 0x20, UInt8(half)] + frame.prefix(half)
                                      + [UInt8(frame.count - half)] + frame.dropFirst(half)))
            }
        }
        return seeds
    }

    /// Every seed of the repository at `root`: each capture in Captures/ (`fromCapture`), each typed
    /// example in Fuzz/seeds/ (`typed`), and each input in Fuzz/regressions/ as it is (each once broke a
    /// property).
    public static func all(root: String) -> [Seed] {
        var seeds: [Seed] = []
        for (n, path) in files(in: root + "/Captures").filter({ $0.hasSuffix(".pcapng") }).enumerated() {
            seeds += fromCapture(named: "\(n)", bytes: contents(path))
        }
        seeds += immediateIO
        for path in files(in: root + "/Fuzz/seeds") { seeds.append(typed(named: name(path), text: contents(path))) }
        for path in files(in: root + "/Fuzz/regressions") {
            seeds.append(Seed(name: name(path), input: contents(path)))
        }
        return seeds
    }

    /// Server inputs (part 4) whose Treads and Twrites reach ctl's `zero` (fid 101) and `null` (fid 102),
    /// which the server answers at once from the frame: each dialect, a read and writes whose count is the
    /// data's, larger and smaller, and a write at an offset no file takes.
    static var immediateIO: [Seed] {
        func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
        /// One chunk: `len type tag[2] body[len]`.
        func chunk(_ type: UInt8, _ tag: UInt16, _ body: [UInt8]) -> [UInt8] { [UInt8(body.count), type] + le(tag) + body }
        let tread: UInt8 = 116, twrite: UInt8 = 118
        var input: [UInt8] = []
        input += chunk(tread, 20, le(UInt32(101)) + le(UInt64(0)) + le(UInt32(64)))
        input += chunk(twrite, 21, le(UInt32(102)) + le(UInt64(0)) + le(UInt32(5)) + Array("hello".utf8))
        input += chunk(twrite, 22, le(UInt32(102)) + le(UInt64(0)) + le(UInt32(9)) + Array("short".utf8))
        input += chunk(twrite, 23, le(UInt32(102)) + le(UInt64(0)) + le(UInt32(2)) + Array("long".utf8))
        input += chunk(twrite, 24, le(UInt32(101)) + le(UInt64.max) + le(UInt32(1)) + [7])
        input += chunk(tread, 25, le(UInt32(102)) + le(UInt64(1) << 40) + le(UInt32(8192)))
        return (0..<3).map { Seed(name: "server-immediate-\($0)", input: [4, UInt8($0)] + input) }
    }

    static func files(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.sorted().map { directory + "/" + $0 }
    }

    static func contents(_ path: String) -> [UInt8] { [UInt8](FileManager.default.contents(atPath: path) ?? Data()) }

    static func name(_ path: String) -> String { String(path.split(separator: "/").last ?? "") }

    /// A typed example (a filter, a REPL line, an `--ignore` list) as a part-3 input.
    public static func typed(named name: String, text: [UInt8]) -> Seed {
        Seed(name: "typed-\(name)", input: [3] + text)
    }

    /// The capture's first `limit` 9P frames, in the order they were captured.
    static func frames(of bytes: [UInt8], upTo limit: Int) -> [[UInt8]] {
        guard var reader = try? CaptureReader(bytes: bytes) else { return [] }
        var decoder = CaptureDecoder()
        var ingest = CaptureIngest()
        var frames: [[UInt8]] = []
        func take(_ event: SessionEvent) {
            if frames.count < limit, case .frame(_, _, _, let frame, _) = event { frames.append(frame) }
        }
        while frames.count < limit, let packet = reader.next() {
            for event in decoder.process(packet) { ingest.ingest(event, take) }
        }
        return frames
    }
}
