import Foundation
import Testing
import NinePTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Issue 3: the sample captures in Captures/ (made by Captures/make-samples.sh: real clients through
/// `ninescope proxy --capture`) decode completely, agree with tshark, and hold what README says they hold.
/// Expected contents come from the workload in make-samples.sh (file names and sizes, the client's
/// requests), not from ninescope's output.
@Suite struct ProxySampleCaptureTests {
    static let dir = Peers.repoRoot + "/Captures"
    static let aname = "/tmp/ninescope-sample-export"

    /// Decodes a sample; checks the generic properties every sample has.
    static func decode(_ name: String) throws -> [[String: Any]] {
        let path = dir + "/" + name
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int, "\(name) is missing")
        #expect(size < 200_000, "\(name) is \(size) bytes")
        let (objects, r) = try ProxyTool.decodeJSON(path)
        #expect(r.status == 0, "decode \(name): \(r.err)")
        #expect(r.err.isEmpty, "decode \(name) warned: \(r.err)")
        let messages = objects.filter { $0.pxEvent == "message" }
        #expect(!messages.isEmpty)
        #expect(!messages.contains { $0["malformed"] != nil || $0["garbage"] != nil }, "\(name) has undecodable frames")
        // Every connection opened (with the client's and upstream's addresses) and closed.
        let opens = objects.filter { $0.pxEvent == "open" }
        #expect(opens.allSatisfy { $0["client"] is String && $0["upstream"] is String })
        #expect(Set(opens.compactMap(\.pxConn)) == Set(objects.filter { $0.pxEvent == "close" }.compactMap(\.pxConn)))
        #expect(Set(messages.compactMap(\.pxConn)).isSubset(of: Set(opens.compactMap(\.pxConn))))

        // tshark decodes the same messages (type, tag, fid) with no plugin: port 564 is 9P to it.
        if let theirs = try RealTraffic.tsharkMessages(file: path, port: 564) {
            #expect(theirs.count == messages.count, "\(name): tshark \(theirs.count) vs decode \(messages.count)")
            for (i, (m, t)) in zip(messages, theirs).enumerated() {
                #expect(m.pxTypecode == t.type && (m["tag"] as? Int) == t.tag, "\(name) message \(i)")
                if let tfid = t.fid {
                    #expect(((m.pxFields["fid"] as? Int) ?? (m.pxFields["dfid"] as? Int)) == tfid, "\(name) message \(i) fid")
                }
            }
        } else {
            Issue.record("tshark is not installed; `make test` installs it")
        }
        return objects
    }

    static func requestsAllAnswered(_ messages: [[String: Any]]) -> Bool {
        let replies = messages.filter { ($0["direction"] as? String) == "s2c" }
        return replies.count * 2 == messages.count && replies.allSatisfy { $0["answers"] is Int }
    }

    static func hexBytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var it = hex.utf8.makeIterator()
        while let a = it.next(), let b = it.next() {
            out.append(UInt8(String(decoding: [a, b], as: UTF8.self), radix: 16) ?? 0)
        }
        return out
    }

    @Test func diodLsSample() throws {
        let objects = try Self.decode("diod-ls.pcapng")
        let messages = objects.filter { $0.pxEvent == "message" }
        #expect(Set(messages.compactMap(\.pxConn)).count == 1)
        #expect(messages.first?.pxTypeName == "Tversion")
        #expect(messages.contains { $0.pxTypeName == "Tattach" && ($0.pxFields["aname"] as? String) == Self.aname })
        let names = messages.filter { $0.pxTypeName == "Rreaddir" }
            .flatMap { ($0.pxFields["entries"] as? [[String: Any]]) ?? [] }
            .compactMap { $0["name"] as? String }
        for expected in ["hello.txt", "data.bin", "sub", "deeper"] { #expect(names.contains(expected), "\(names)") }
        #expect(Self.requestsAllAnswered(messages))
        #expect(!messages.contains { $0.pxTypeName == "Rlerror" && ($0["answers"] as? Int).map { i in
            (messages.first { ($0["index"] as? Int) == i })?.pxTypeName != "Tauth" } ?? true },
            "diodls gets no errors except the refused Tauth")
    }

    @Test func diodCatSample() throws {
        let objects = try Self.decode("diod-cat.pcapng")
        let messages = objects.filter { $0.pxEvent == "message" }
        #expect(Set(messages.compactMap(\.pxConn)).count == 2)
        #expect(Self.requestsAllAnswered(messages))
        // The bytes read back are the files' contents (data.bin: byte i = (i*131 + i>>8) mod 256).
        func readData(_ suffix: String) -> [UInt8] {
            messages.filter { $0.pxTypeName == "Rread" && (($0["path"] as? String)?.hasSuffix(suffix) ?? false) }
                .flatMap { Self.hexBytes((($0.pxFields["data"] as? [String: Any])?["hex"] as? String) ?? "") }
        }
        #expect(readData("/hello.txt") == Array("hello, 9p\n".utf8))
        let expected = (0..<20000).map { UInt8(truncatingIfNeeded: $0 * 131 + ($0 >> 8)) }
        #expect(readData("/data.bin") == expected)
        // msize 8192: no Tread asks for more than msize − 24.
        let reads = messages.filter { $0.pxTypeName == "Tread" }
        #expect(reads.count >= 3 && reads.allSatisfy { ($0.pxFields["count"] as? Int ?? .max) <= 8192 - 24 })
        // The second connection's walk to a missing file fails with ENOENT.
        let errors = messages.filter { $0.pxConn == 1 && $0.pxTypeName == "Rlerror" }
        #expect(errors.contains { (($0.pxFields["ecode"] as? [String: Any])?["name"] as? String) == "ENOENT" })
        #expect(messages.contains { $0.pxConn == 1 && $0.pxTypeName == "Twalk"
            && (($0.pxFields["wname"] as? [String]) ?? []) == ["no-such-file"] })
    }

    /// The Linux kernel's own 9p client (a qemu guest, Captures/linux-guest.sh) through the proxy to diod.
    @Test func linuxGuestSample() throws {
        let objects = try Self.decode("linux-guest.pcapng")
        let messages = objects.filter { $0.pxEvent == "message" }
        #expect(Set(messages.compactMap(\.pxConn)).count == 1)
        #expect(Self.requestsAllAnswered(messages))
        #expect(!objects.contains { $0.pxEvent == "anomaly" }, "the kernel's session has no anomalies")
        // The mount options: 9P2000.L at msize 131072, which diod lowers to 65536.
        let version = try #require(messages.first)
        #expect(version.pxTypeName == "Tversion" && version.pxFields["msize"] as? Int == 131072
                && version.pxFields["version"] as? String == "9P2000.L")
        #expect(messages.contains { $0.pxTypeName == "Rversion" && $0.pxFields["msize"] as? Int == 65536 })
        #expect(messages.contains { $0.pxTypeName == "Tattach" && ($0.pxFields["aname"] as? String) == Self.aname })
        // cat of hello.txt and sub/deeper/n.txt: the bytes read are the files' contents.
        func data(_ m: [String: Any]) -> [UInt8] {
            Self.hexBytes(((m.pxFields["data"] as? [String: Any])?["hex"] as? String) ?? "")
        }
        func readData(_ suffix: String) -> [UInt8] {
            messages.filter { $0.pxTypeName == "Rread" && (($0["path"] as? String)?.hasSuffix(suffix) ?? false) }.flatMap(data)
        }
        #expect(readData("/hello.txt") == Array("hello, 9p\n".utf8))
        #expect(readData("/sub/deeper/n.txt") == Array("nested\n".utf8))
        // new.txt created, written, moved into d (Trenameat first; diod refuses it and the kernel falls back
        // to Trename), read back, and everything removed again.
        #expect(messages.contains { $0.pxTypeName == "Tlcreate" && $0.pxFields["name"] as? String == "new.txt" })
        #expect(messages.filter { $0.pxTypeName == "Twrite" }.map(data) == [Array("written-by-linux\n".utf8)])
        #expect(messages.contains { $0.pxTypeName == "Tmkdir" && $0.pxFields["name"] as? String == "d" })
        #expect(messages.contains { ($0.pxTypeName == "Trename" || $0.pxTypeName == "Trenameat")
                && ($0.pxFields["name"] ?? $0.pxFields["newname"]) as? String == "moved.txt" })
        #expect(readData("/d/moved.txt") == Array("written-by-linux\n".utf8))
        #expect(messages.contains { $0.pxTypeName == "Rremove" || $0.pxTypeName == "Runlinkat" })
    }

    /// The kernel through `proxy --fault error=Tmkdir:ENOSPC,delay=Tread:300ms,hang=Twrite` (make-samples.sh
    /// 6): the capture holds what the client saw, each fault marked, and no anomaly.
    @Test func linuxGuestFaultsSample() throws {
        let objects = try Self.decode("linux-guest-faults.pcapng")
        let messages = objects.filter { $0.pxEvent == "message" }
        #expect(!objects.contains { $0.pxEvent == "anomaly" })
        func marks(_ m: [String: Any]) -> String { (m["marks"] as? String) ?? "" }
        let mkdir = try #require(messages.first { $0.pxTypeName == "Tmkdir" })
        #expect(mkdir.pxFields["name"] as? String == "made" && marks(mkdir) == "dropped")
        let refused = try #require(messages.first { $0.pxTypeName == "Rlerror" && $0["answers"] as? Int == mkdir["index"] as? Int })
        #expect((refused.pxFields["ecode"] as? [String: Any])?["name"] as? String == "ENOSPC" && marks(refused) == "injected")
        let reads = messages.filter { $0.pxTypeName == "Rread" }
        #expect(!reads.isEmpty && reads.allSatisfy { marks($0) == "delayed" && ($0["latency_ns"] as? Int ?? 0) >= 300_000_000 })
        #expect(reads.contains { ($0.pxFields["data"] as? [String: Any])?["hex"] as? String == "68656c6c6f2c2039700a" })
        let write = try #require(messages.first { $0.pxTypeName == "Twrite" })
        #expect(marks(write) == "dropped")
        let flush = try #require(messages.first { $0.pxTypeName == "Tflush" && $0.pxFields["oldtag"] as? Int == write["tag"] as? Int })
        #expect(messages.contains { $0.pxTypeName == "Rflush" && $0["answers"] as? Int == flush["index"] as? Int })
        #expect(!messages.contains { $0.pxTypeName == "Rwrite" })
    }

    /// access=user: the kernel's own attach (`nobody`, NONUNAME), then root's (n_uname 0) and nobody's
    /// (n_uname 65534), each request's fid known as one of them: "user" in the JSON, `user:` in the filter.
    @Test func linuxGuestUsersSample() throws {
        let objects = try Self.decode("linux-guest-users.pcapng")
        let messages = objects.filter { $0.pxEvent == "message" }
        #expect(!objects.contains { $0.pxEvent == "anomaly" })
        let attaches = messages.filter { $0.pxTypeName == "Tattach" }
        #expect(Set(attaches.compactMap { $0.pxFields["n_uname"] as? Int }).isSuperset(of: [0, 65534]), "\(attaches)")
        func user(of name: String, creating file: String) -> String? {
            messages.first { $0.pxTypeName == name && $0.pxFields["name"] as? String == file }?["user"] as? String
        }
        #expect(user(of: "Tlcreate", creating: "root.txt") == "0")
        #expect(user(of: "Tlcreate", creating: "nobody.txt") == "65534")
        let writes = messages.filter { $0.pxTypeName == "Twrite" }
        #expect(writes.count == 2 && Set(writes.compactMap { $0["user"] as? String }) == ["0", "65534"])
        // Every request on a fid says whose; the same messages the filter picks.
        let requests = messages.filter { $0["direction"] as? String == "c2s" && $0["path"] != nil }
        #expect(requests.allSatisfy { $0["user"] is String })
        let nobodys = requests.filter { $0["user"] as? String == "65534" }.compactMap { $0["index"] as? Int }
        let (filtered, r) = try ProxyTool.decodeJSON(Self.dir + "/linux-guest-users.pcapng", extra: ["--filter", "user:65534"])
        #expect(r.status == 0, "\(r.err)")
        let picked = filtered.filter { $0.pxEvent == "message" && $0["direction"] as? String == "c2s" }
        #expect(picked.compactMap { $0["index"] as? Int } == nobodys && nobodys.count > 10)
    }

    @Test func diodloadBurstSample() throws {
        let objects = try Self.decode("diodload-burst.pcapng")
        let messages = objects.filter { $0.pxEvent == "message" }
        #expect(Set(messages.compactMap(\.pxConn)).count == 2, "diodload -n 2: two connections")
        let getattrs = messages.filter { $0.pxTypeName == "Tgetattr" }
        #expect(getattrs.count >= 100, "a burst: \(getattrs.count) Tgetattr")
        #expect(messages.filter { $0.pxTypeName == "Rgetattr" }.count >= getattrs.count - 2)
        // The killed clients never clunked: their fids are reported leaked at close.
        let leaks = objects.filter { $0.pxEvent == "anomaly" && ($0["kind"] as? String) == "fid-leak" }
        #expect(!leaks.isEmpty)
    }

    /// `bench-trace` (bench/proxy.sh's trace-cost probe) replays every message of a sample through the
    /// trace and capture work and says how many it replayed; a file that is not a capture is refused.
    @Test func benchTraceReplaysEveryMessage() throws {
        let file = Peers.repoRoot + "/Captures/diodload-burst.pcapng"
        let (objects, _) = try ProxyTool.decodeJSON(file)
        let decoded = objects.filter { $0.pxEvent == "message" }.count
        let r = try Peers.run(Peers.ninescope, ["bench-trace", file, "--reps", "2"])
        #expect(r.status == 0, "\(r.err)")
        let fields = Dictionary(r.out.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { part -> (String, Int)? in
            let kv = part.split(separator: "=")
            guard kv.count == 2, let v = Int(kv[1]) else { return nil }
            return (String(kv[0]), v)
        }, uniquingKeysWith: { a, _ in a })
        #expect(fields["messages"] == decoded, "\(r.out)")
        #expect(fields["reps"] == 2)
        #expect((fields["ns_per_message"] ?? 0) > 0, "\(r.out)")
        // The capture's share: a cost, or a plain statement that it was below the noise (never a made-up 0).
        #expect(r.out.range(of: #"\(trace \d+, capture (\d+|below the noise: .* less)\)"#, options: .regularExpression) != nil,
                "\(r.out)")

        let bad = try Peers.run(Peers.ninescope, ["bench-trace", Peers.repoRoot + "/README.md"])
        #expect(bad.status != 0)
        #expect(bad.err.contains("not a pcap or pcapng capture"), "\(bad.err)")
    }

    @Test func synthErrorFlushSample() throws {
        let objects = try Self.decode("synth-error-flush.pcapng")
        let messages = objects.filter { $0.pxEvent == "message" }
        func ecodes() -> [String] {
            messages.filter { $0.pxTypeName == "Rlerror" }
                .compactMap { ($0.pxFields["ecode"] as? [String: Any])?["name"] as? String }
        }
        #expect(ecodes() == ["ENOENT", "EIO"], "\(ecodes())")
        let flush = try #require(messages.first { $0.pxTypeName == "Tflush" })
        #expect(flush.pxFields["oldtag"] as? Int == 10)
        #expect(messages.contains { $0.pxTypeName == "Rflush" && ($0["tag"] as? Int) == 11 })
        // The flushed Twrite (tag 10) is never answered.
        #expect(messages.contains { $0.pxTypeName == "Twrite" && ($0["tag"] as? Int) == 10 })
        #expect(!messages.contains { ($0["direction"] as? String) == "s2c" && ($0["tag"] as? Int) == 10 })
    }

    /// `decode --filter` keeps the matching exchanges (both messages, in order) and nothing else; a bad
    /// expression is refused with its column.
    @Test func decodeFilterOnASample() throws {
        let file = Peers.repoRoot + "/Captures/synth-error-flush.pcapng"
        let all = try Peers.run(Peers.ninescope, ["decode", file, "--json"])
        #expect(all.status == 0, "\(all.err)")
        let messages = try RealTraffic.jsonLines(all.out).filter { ($0["event"] as? String) == "message" }
        let errors = messages.filter { ($0["type"] as? String) == "Rlerror" }
        #expect(errors.count == 2)

        let r = try Peers.run(Peers.ninescope, ["decode", file, "--json", "--filter", "error"])
        #expect(r.status == 0, "\(r.err)")
        let kept = try RealTraffic.jsonLines(r.out).filter { ($0["event"] as? String) == "message" }
        // Each error reply and the request it answers; the indices keep the capture's order.
        #expect(kept.count == 2 * errors.count, "\(r.out)")
        #expect(kept.filter { ($0["type"] as? String) == "Rlerror" }.count == errors.count)
        let indices = kept.compactMap { $0["index"] as? Int }
        #expect(indices == indices.sorted() && indices.count == kept.count)

        let walks = try Peers.run(Peers.ninescope, ["decode", file, "--filter", "Twalk and not error"])
        let lines = walks.out.split(separator: "\n")
        #expect(!lines.isEmpty && lines.allSatisfy { $0.contains("Twalk") || $0.contains("Rwalk") }, "\(walks.out)")

        let bad = try Peers.run(Peers.ninescope, ["decode", file, "--filter", "Twalk and ("])
        #expect(bad.status != 0)
        #expect(bad.err.contains("--filter: column"), "\(bad.err)")
    }
}
