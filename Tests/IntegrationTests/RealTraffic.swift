import Foundation
import NinePTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Shared fixtures for end-to-end tests: an export directory with known contents, and a packet capture of
/// real diod traffic taken with tcpdump on loopback.
enum RealTraffic {
    /// Makes an export directory: a few small files, a subdirectory, and a file of `bigSize` pseudo-random bytes.
    /// It lies in a directory of its own, so that its `..` (which `diodls -l` lists) is not the directory every
    /// test makes its own in: a replay's comparison of that entry's link count would otherwise depend on what
    /// tests running beside it create.
    static func makeExport(bigSize: Int = 300_000) throws -> String {
        let dir = Peers.tempDir("export") + "/export"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "hello, 9p\n".write(toFile: dir + "/hello.txt", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir + "/sub/deeper", withIntermediateDirectories: true)
        try "nested\n".write(toFile: dir + "/sub/deeper/n.txt", atomically: true, encoding: .utf8)
        var rng = SplitMix(seed: 42)
        var big = [UInt8](repeating: 0, count: bigSize)
        for i in big.indices { big[i] = UInt8(truncatingIfNeeded: rng.next()) }
        _ = FileManager.default.createFile(atPath: dir + "/big.bin", contents: Data(big))
        return dir
    }

    /// tcpdump on the loopback interface for one TCP port, writing a pcap file. Returns the process.
    /// `--immediate-mode`: without it the packets of the last second are still in the kernel's ring, and a
    /// SIGINT then loses them (a session of a few hundred milliseconds came out as 0 packets captured).
    static func startTcpdump(port: UInt16, file: String) throws -> ChildProcess? {
        guard let tcpdump = Peers.which("tcpdump") else { return nil }
        let log = file + ".log"
        let p = try Peers.spawn(tcpdump, ["-i", "lo", "--immediate-mode", "-U", "-n", "-s", "0", "-w", file, "tcp", "port", String(port)], log: log)
        // Wait until tcpdump says it is listening.
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let s = try? String(contentsOfFile: log, encoding: .utf8), s.contains("listening on") { break }
            usleep(50_000)
        }
        usleep(200_000)
        return p
    }

    /// Messages as tshark decodes them: (msgtype, tag, fid?) in capture order.
    static func tsharkMessages(file: String, port: UInt16) throws -> [(type: Int, tag: Int, fid: Int?)]? {
        guard let tshark = Peers.which("tshark") else { return nil }
        let r = try Peers.run(tshark, ["-n", "-r", file, "-d", "tcp.port==\(port),9p", "-T", "json", "-j", "9p", "-Y", "9p"])
        guard r.status == 0, let arr = try JSONSerialization.jsonObject(with: r.stdout) as? [[String: Any]] else { return nil }
        var out: [(Int, Int, Int?)] = []
        for pkt in arr {
            guard let src = pkt["_source"] as? [String: Any], let layers = src["layers"] as? [String: Any] else { continue }
            let ninep = layers["9p"]
            let pdus: [[String: Any]] = (ninep as? [[String: Any]]) ?? ((ninep as? [String: Any]).map { [$0] } ?? [])
            for pdu in pdus {
                guard let t = (pdu["9p.msgtype"] as? String).flatMap(Int.init),
                      let tag = (pdu["9p.tag"] as? String).flatMap(Int.init) else { continue }
                out.append((t, tag, (pdu["9p.fid"] as? String).flatMap(Int.init)))
            }
        }
        return out
    }

    /// Parses `ninescope decode --json` output (one object per line).
    static func jsonLines(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { line in
            guard let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw NSError(domain: "json", code: 1, userInfo: [NSLocalizedDescriptionKey: "not an object: \(line)"])
            }
            return o
        }
    }
}

