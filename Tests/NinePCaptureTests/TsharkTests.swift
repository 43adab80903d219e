import NinePWire
import Foundation
import Testing
import NinePTestSupport
@testable import NinePCapture

private let tsharkPath: String? = ["/usr/bin/tshark", "/usr/local/bin/tshark"].first {
    FileManager.default.isExecutableFile(atPath: $0)
}

/// Real-tool check: tshark must decode the writer's output as 9P with clean TCP analysis.
@Suite(.enabled(if: tsharkPath != nil, "tshark not installed"))
struct TsharkTests {
    static var tshark: String? { tsharkPath }

    static func run(_ arguments: [String]) throws -> String {
        let result = try Peers.run(tshark ?? "/usr/bin/tshark", arguments, timeout: 120)
        #expect(result.status == 0, "tshark \(arguments.joined(separator: " "))")
        return result.out
    }

    static func withCapture(_ bytes: [UInt8], _ body: (String) throws -> Void) throws {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("ninescope-cap-\(UUID().uuidString).pcapng").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        try body(path)
    }

    /// Three connections (one on a non-default server port), a 300 KB Twrite split over 215 segments,
    /// a reset and clean closes.
    static func capture() -> (bytes: [UInt8], expected: [String]) {
        var writer = PcapngWriter(options: PcapngWriterOptions(toolVersion: "test", maxSegmentSize: 1400))
        var file = writer.header()
        var expected: [String] = []
        var t: Int64 = 1_700_000_000_000_000_000
        let big = (0..<300_000).map { UInt8(truncatingIfNeeded: $0) }
        for id in 1...3 {
            let conn = ConnectionID(UInt32(id))
            t += 1_000
            file += writer.open(conn: conn, clientAddress: "127.0.0.1:\(51000 + id)", upstreamAddress: "tcp!x!564",
                                serverPort: id == 3 ? 5640 : nil, t: t)
            file += writer.frame(conn: conn, direction: .toServer, t: t + 1, bytes: Fix.tversion)
            file += writer.frame(conn: conn, direction: .toClient, t: t + 2, bytes: Fix.rversion)
            file += writer.frame(conn: conn, direction: .toServer, t: t + 3, bytes: Fix.twrite(tag: 7, data: big),
                                 marks: [.injected])
            file += writer.frame(conn: conn, direction: .toClient, t: t + 4, bytes: Fix.rwrite(tag: 7, count: 300_000))
            file += writer.frame(conn: conn, direction: .toServer, t: t + 5, bytes: Fix.tclunk(tag: 8, fid: 1))
            file += writer.frame(conn: conn, direction: .toClient, t: t + 6, bytes: Fix.rclunk(tag: 8))
            file += writer.close(conn: conn, reset: id == 2, t: t + 7)
            expected += ["100 65535", "101 65535", "118 7", "119 7", "120 8", "121 8"]
        }
        return (file, expected)
    }

    @Test func tsharkDecodes9PWithCleanTCPAnalysis() throws {
        let (bytes, expected) = Self.capture()
        try Self.withCapture(bytes) { path in
            let fields = try Self.run(["-n", "-r", path, "-d", "tcp.port==564,9p", "-d", "tcp.port==5640,9p",
                                       "-T", "fields", "-e", "frame.number", "-e", "9p.msgtype", "-e", "9p.tag"])
            let messages = fields.split(separator: "\n").compactMap { line -> String? in
                let columns = line.split(separator: "\t", omittingEmptySubsequences: false)
                guard columns.count == 3, !columns[1].isEmpty else { return nil }
                return "\(columns[1]) \(columns[2])"
            }
            #expect(messages == expected)

            let analysis = try Self.run(["-n", "-r", path, "-Y", "tcp.analysis.flags"])
            #expect(analysis.isEmpty, "tshark TCP analysis complained:\n\(analysis)")

            let checksums = try Self.run(["-n", "-r", path, "-o", "tcp.check_checksum:TRUE",
                                          "-o", "ip.check_checksum:TRUE",
                                          "-Y", "tcp.checksum.status != 1 || ip.checksum.status != 1"])
            #expect(checksums.isEmpty, "bad checksums:\n\(checksums)")

            let comments = try Self.run(["-n", "-r", path, "-d", "tcp.port==5640,9p", "-Y", "9p.msgtype == 118", "-T", "fields",
                                         "-e", "frame.comment", "-e", "frame.packet_flags_direction"])
            #expect(comments.split(separator: "\n").map(String.init) == [
                "ninescope conn=1 dir=c2s ev=data seg=215/215 marks=injected\t0x00000001",
                "ninescope conn=2 dir=c2s ev=data seg=215/215 marks=injected\t0x00000001",
                "ninescope conn=3 dir=c2s ev=data seg=215/215 marks=injected\t0x00000001",
            ])
        }
    }

    /// tshark's own rewrite of our file (its own section header) still reads back exactly.
    @Test func metadataSurvivesATsharkRewrite() throws {
        let (bytes, _) = Self.capture()
        let original = try CaptureFile.decode(bytes)
        try Self.withCapture(bytes) { path in
            let copy = path + ".copy.pcapng"
            defer { try? FileManager.default.removeItem(atPath: copy) }
            _ = try Self.run(["-n", "-r", path, "-F", "pcapng", "-w", copy])
            let data = try #require(FileManager.default.contents(atPath: copy))
            let rewritten = try CaptureFile.decode([UInt8](data))
            #expect(rewritten.events == original.events)
            #expect(rewritten.events.count == 3 * 8)
        }
    }
}
