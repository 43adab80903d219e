import InspectorCore
import NinePSession
import NinePTestSupport
import NinePWire
import Testing

/// `TraceLine.appendLines` in JSON style writes each message's object straight into bytes; it must be
/// exactly `line(for:)` (the `JSONValue` tree, serialized) for every kind of message the tracker reports:
/// each golden message of each dialect, replies with latency and fid paths, malformed frames, garbage,
/// marks, and with or without a canonical line rendered ahead.
@Suite struct JSONLineTests {
    static func streamed(_ output: TrackerOutput, _ rendered: RenderedCanonical? = nil) -> String {
        var out: [UInt8] = []
        TraceLine(style: .json).appendLines(for: output, to: &out, rendered: rendered)
        return String(decoding: out, as: UTF8.self)
    }

    static func tree(_ output: TrackerOutput) -> String {
        let format = TraceLine(style: .json)
        var text = ""
        if let m = output.message { text += format.line(for: m) + "\n" }
        for a in output.anomalies { text += format.line(for: a) + "\n" }
        return text
    }

    @Test func everyKindOfMessageMatchesTheTree() throws {
        var tracker = SessionTracker()
        var outputs: [TrackerOutput] = []
        var t: Int64 = 1_764_000_000_123_456_789
        func frame(_ conn: ConnectionID, _ d: Direction, _ f: Fcall, _ dialect: Dialect, marks: FrameMarks = []) {
            t += 12_345
            outputs.append(tracker.frame(conn: conn, direction: d, at: t, bytes: f.encode(dialect: dialect), marks: marks))
        }
        // A mount: replies carry latency, requests and replies fid paths.
        frame(1, .toServer, Fcall(tag: .notag, .tversion(Tversion(msize: 8192, version: "9P2000.L"))), .l)
        frame(1, .toClient, Fcall(tag: .notag, .rversion(Rversion(msize: 8192, version: "9P2000.L"))), .l)
        frame(1, .toServer, Fcall(tag: 1, .tattach(Tattach(fid: 0, afid: .nofid, uname: "it's \"me\"", aname: "/srv\n", nUname: 0))), .l)
        frame(1, .toClient, Fcall(tag: 1, .rattach(Rattach(qid: GoldenVectors.qidDir))), .l)
        frame(1, .toServer, Fcall(tag: 2, .twalk(Twalk(fid: 0, newfid: 1, wnames: ["usr", P9String(bytes: [0xFF, 0x27])]))), .l)
        frame(1, .toClient, Fcall(tag: 2, .rwalk(Rwalk(wqids: [GoldenVectors.qidDir, GoldenVectors.qidFile]))), .l)
        frame(1, .toServer, Fcall(tag: 3, .tclunk(Tclunk(fid: 1))), .l, marks: [.injected])
        // Every golden message, each on a connection of its own dialect (many are anomalies there: fine).
        for (i, v) in goldenVectors.enumerated() {
            let conn = ConnectionID(UInt32(10 + i))
            t += 1_000
            let d: Direction = (v.fcall.message.typeCode & 1 == 0) ? .toServer : .toClient
            outputs.append(tracker.frame(conn: conn, direction: d, at: t, bytes: GoldenVectors.bytes(fromHex: v.hex)))
        }
        // A directory read in 9P2000.u: its data is stat entries (`entries` in its fields).
        frame(2, .toServer, Fcall(tag: .notag, .tversion(Tversion(msize: 8192, version: "9P2000.u"))), .u)
        frame(2, .toClient, Fcall(tag: .notag, .rversion(Rversion(msize: 8192, version: "9P2000.u"))), .u)
        frame(2, .toServer, Fcall(tag: 1, .tattach(Tattach(fid: 0, afid: .nofid, uname: "u", aname: "", nUname: 7))), .u)
        frame(2, .toClient, Fcall(tag: 1, .rattach(Rattach(qid: GoldenVectors.qidDir))), .u)
        frame(2, .toServer, Fcall(tag: 1, .topen(Topen(fid: 0, mode: .read))), .u)
        frame(2, .toClient, Fcall(tag: 1, .ropen(Ropen(qid: GoldenVectors.qidDir, iounit: 0))), .u)
        frame(2, .toServer, Fcall(tag: 1, .tread(Tread(fid: 0, offset: 0, count: 8000))), .u)
        let entry = Stat(qid: GoldenVectors.qidFile, mode: DirMode(rawValue: 0o644), atime: 1, mtime: 2, length: 3,
                         name: "notes", uid: "u", gid: "g", muid: "u",
                         unix: Stat.UnixStat(extension: "", nUid: 7, nGid: 7, nMuid: 7))
        frame(2, .toClient, Fcall(tag: 1, .rread(Rread(data: Stat.encodeAll([entry], dialect: .u)))), .u)
        let directoryRead = try #require(outputs.last?.message)
        #expect(directoryRead.readsDirectory)
        #expect(Self.tree(outputs.last!).contains(#""entries":[{"type":0,"#), "\(Self.tree(outputs.last!))")
        #expect(Self.tree(outputs.last!).contains(#""name":"notes""#))
        // A line rendered ahead without the session (decode's reading thread) is not used for it.
        var plain: [UInt8] = []
        directoryRead.decoded!.appendCanonicalLine(to: &plain)
        #expect(Self.streamed(outputs.last!, RenderedCanonical(dialect: .u, bytes: plain[...])) == Self.tree(outputs.last!))
        #expect(Self.tree(outputs.last!).contains("nentries 1 0:notes"))
        // Malformed frames and garbage.
        var broken = Fcall(tag: 4, .tread(Tread(fid: 9, offset: 0, count: 10))).encode(dialect: .l)
        broken.removeLast()
        broken[0] = UInt8(broken.count)
        outputs.append(tracker.frame(conn: 1, direction: .toServer, at: t + 1, bytes: broken))
        outputs.append(tracker.garbage(conn: 1, direction: .toClient, at: t + 2, bytes: [1, 2, 3, 0x22], reason: "short \"frame\""))
        outputs.append(tracker.handle(.connectionClosed(conn: 1, at: t + 3, reason: .eof)))

        #expect(outputs.count > 100)
        #expect(outputs.contains { !$0.anomalies.isEmpty })
        #expect(outputs.contains { $0.message?.latency != nil && $0.message?.fidPath != nil })
        for o in outputs {
            #expect(Self.streamed(o) == Self.tree(o))
            if let m = o.message {
                // A line made ahead (as `decode`'s reading thread makes them) gives the same JSON.
                var line: [UInt8] = []
                m.appendCanonicalLine(to: &line)
                #expect(Self.streamed(o, RenderedCanonical(dialect: m.dialect, bytes: line[...])) == Self.tree(o))
            }
        }
    }
}
