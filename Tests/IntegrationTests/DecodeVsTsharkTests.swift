import Foundation
import Testing
import NinePTestSupport

/// Issue: real traffic. diod on loopback, tcpdump capturing while diodls/diodcat run, then
/// `ninescope decode --json` must agree with tshark's own 9P dissector on every message's type, tag and fid.
@Suite(.serialized) struct DecodeVsTsharkTests {
    @Test func decodeAgreesWithTsharkOnRealDiodTraffic() throws {
        let export = try RealTraffic.makeExport()
        guard let diod = try Diod.start(export: export) else {
            Issue.record("diod is not installed; `make test` installs it"); return
        }
        defer { diod.stop() }
        let pcap = Peers.tempDir("cap") + "/diod.pcap"
        guard let dump = try RealTraffic.startTcpdump(port: diod.port, file: pcap) else {
            Issue.record("tcpdump is not installed"); return
        }
        let diodls = try #require(Peers.which("diodls"))
        let diodcat = try #require(Peers.which("diodcat"))
        let ls = try Peers.run(diodls, ["-s", diod.address, "-a", export, "/"])
        #expect(ls.status == 0, "diodls failed: \(ls.err)")
        #expect(ls.out.contains("hello.txt"))
        let cat = try Peers.run(diodcat, ["-s", diod.address, "-a", export, "-m", "8192", "hello.txt", "big.bin"])
        #expect(cat.status == 0, "diodcat failed: \(cat.err)")
        usleep(300_000)
        Peers.stop(dump, signal: SIGINT)

        let ours = try Peers.run(Peers.ninescope, ["decode", pcap, "--port", String(diod.port), "--json"])
        #expect(ours.status == 0, "ninescope decode failed: \(ours.err)")
        let mine = try RealTraffic.jsonLines(ours.out).filter { ($0["event"] as? String) == "message" }
        let theirs = try #require(try RealTraffic.tsharkMessages(file: pcap, port: diod.port))

        // diodcat of 300 KB at msize 8192 alone is ~40 reads: insist on a substantial capture.
        #expect(theirs.count > 60, "tshark saw only \(theirs.count) messages")
        #expect(mine.count == theirs.count, "ninescope decoded \(mine.count) messages, tshark \(theirs.count)")
        for (i, (m, t)) in zip(mine, theirs).enumerated() {
            let type = m["typecode"] as? Int
            let tag = m["tag"] as? Int
            #expect(type == t.type, "message \(i): type \(String(describing: type)) vs tshark \(t.type)")
            #expect(tag == t.tag, "message \(i): tag \(String(describing: tag)) vs tshark \(t.tag)")
            if let tfid = t.fid {
                let fields = m["fields"] as? [String: Any]
                let fid = (fields?["fid"] as? Int) ?? (fields?["dfid"] as? Int)
                #expect(fid == tfid, "message \(i) (\(t.type)): fid \(String(describing: fid)) vs tshark \(tfid)")
            }
        }
        // Every request is paired with its reply, and replies carry a latency.
        let replies = mine.filter { ($0["direction"] as? String) == "s2c" }
        #expect(!replies.isEmpty)
        for r in replies {
            #expect(r["answers"] is Int, "reply without its request: \(r)")
            #expect(r["latency_ns"] is Int, "reply without latency: \(r)")
        }
    }
}
