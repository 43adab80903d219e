import Foundation
import NinePTestSupport
import Testing

/// `decode --stats` and `proxy --stats`: statistics per request type and per connection, checked against
/// what the same traffic's JSON lines say exchange by exchange.
@Suite(.serialized) struct StatisticsCommandTests {
    /// What the JSON lines of a trace say per request type: exchanges, errors, bytes, latencies.
    struct Expected {
        var count = 0, errors = 0, bytes = 0
        var latencies: [Int] = []
        /// Exchanges with no reply: a flushed one's latency runs to its Rflush, which the lines do not
        /// pair with it (the inspector's model is compared with for that, in TraceStatisticsTests).
        var unanswered = 0
        /// The latency at a percentile, nearest rank (what a histogram reports, to its precision).
        func latency(_ percentile: Double) -> Int? {
            guard !latencies.isEmpty else { return nil }
            let sorted = latencies.sorted()
            return sorted[max(0, Int((percentile / 100 * Double(sorted.count)).rounded(.up)) - 1)]
        }
    }

    static func expected(_ messages: [[String: Any]]) -> [String: Expected] {
        var byExchange: [Int: (type: String?, error: Bool, bytes: Int, latency: Int?)] = [:]
        for m in messages {
            guard let x = m["exchange"] as? Int, let code = m.pxTypecode else { continue }
            var e = byExchange[x] ?? (nil, false, 0, nil)
            e.bytes += m["size"] as? Int ?? 0
            if code % 2 == 0 { e.type = m.pxTypeName } else {
                e.error = code == 7 || code == 107
                e.latency = m["latency_ns"] as? Int
            }
            byExchange[x] = e
        }
        var out: [String: Expected] = [:]
        for e in byExchange.values {
            guard let type = e.type else { continue }
            out[type, default: Expected()].count += 1
            out[type, default: Expected()].errors += e.error ? 1 : 0
            out[type, default: Expected()].bytes += e.bytes
            if let l = e.latency { out[type, default: Expected()].latencies.append(l) } else {
                out[type, default: Expected()].unanswered += 1
            }
        }
        return out
    }

    /// The statistics object's entries by type name.
    static func types(_ stats: [String: Any]) -> [String: [String: Any]] {
        var out: [String: [String: Any]] = [:]
        for t in stats["types"] as? [[String: Any]] ?? [] { if let name = t["type"] as? String { out[name] = t } }
        return out
    }

    /// A histogram's percentile agrees with the exact one to three significant digits.
    static func close(_ a: Int?, _ b: Int?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        return abs(a - b) <= max(b / 500, 1)
    }

    static func check(_ stats: [String: Any], against messages: [[String: Any]], _ what: String) {
        let want = expected(messages)
        let got = types(stats)
        #expect(Set(got.keys) == Set(want.keys), "\(what): \(got.keys.sorted()) vs \(want.keys.sorted())")
        for (type, w) in want {
            guard let g = got[type] else { continue }
            let latency = g["latency_ns"] as? [String: Any]
            #expect(g["count"] as? Int == w.count && g["errors"] as? Int == w.errors && g["bytes"] as? Int == w.bytes,
                    "\(what) \(type): \(g) vs \(w.count) \(w.errors) \(w.bytes)")
            guard w.unanswered == 0 else { continue }
            #expect(close(latency?["p50"] as? Int, w.latency(50)) && close(latency?["p99"] as? Int, w.latency(99))
                    && close(latency?["max"] as? Int, w.latencies.max()) && latency?["count"] as? Int == (w.latencies.isEmpty ? nil : w.latencies.count),
                    "\(what) \(type): \(latency ?? [:]) vs p50 \(w.latency(50) ?? -1)")
        }
        let total = stats["total"] as? [String: Any]
        #expect(total?["count"] as? Int == want.values.reduce(0) { $0 + $1.count }, "\(what)")
    }

    @Test func decodeStatsAgreeWithTheLines() throws {
        let captures = ["diod-ls.pcapng", "diod-cat.pcapng", "diodload-burst.pcapng", "linux-guest.pcapng",
                        "linux-guest-faults.pcapng", "synth-error-flush.pcapng"].map { Peers.repoRoot + "/Captures/" + $0 }
        for file in captures {
            let (objects, r) = try ProxyTool.decodeJSON(file)
            #expect(r.status == 0, "\(file): \(r.err)")
            let stats = try Peers.run(Peers.ninescope, ["decode", file, "--stats", "--json"])
            let lines = try RealTraffic.jsonLines(stats.out)
            #expect(stats.status == 0 && lines.count == 1 && lines.first?.pxEvent == "statistics", "\(file): \(stats.out)")
            Self.check(lines.first ?? [:], against: objects.filter { $0.pxEvent == "message" }, file)
            // As text: the table, one row per type, the total last.
            let text = try Peers.run(Peers.ninescope, ["decode", file, "--stats"])
            let rows = text.out.split(separator: "\n").map(String.init)
            #expect(text.status == 0 && rows.first == "statistics"
                    && rows.dropFirst().first?.hasPrefix("type") == true && rows.last?.hasPrefix("total") == true, "\(text.out)")
            for (type, w) in Self.expected(objects.filter { $0.pxEvent == "message" }) {
                #expect(rows.contains { $0.hasPrefix(type + " ") && $0.split(separator: " ")[1] == "\(w.count)" },
                        "\(file): \(type) \(w.count) in \(text.out)")
            }
        }
        // With a filter: only the exchanges that match.
        let file = Peers.repoRoot + "/Captures/linux-guest.pcapng"
        let (objects, _) = try ProxyTool.decodeJSON(file, extra: ["--filter", "Twalk or error"])
        let filtered = try Peers.run(Peers.ninescope, ["decode", file, "--stats", "--json", "--filter", "Twalk or error"])
        let stats = try RealTraffic.jsonLines(filtered.out).first ?? [:]
        Self.check(stats, against: objects.filter { $0.pxEvent == "message" }, "--filter")
        #expect(Self.types(stats)["Twalk"] != nil && Self.types(stats)["Tread"] == nil)
        let bad = try Peers.run(Peers.ninescope, ["decode", file, "--stats", "--filter", "latency>"])
        #expect(bad.status == 64 && bad.err.contains("--filter"), "\(bad.err)")
    }

    /// `proxy --stats` in front of diod: at exit, the statistics of everything relayed (JSON: the last
    /// object; text: on standard error after the summary), agreeing with the lines printed.
    @Test func proxyStatsAgainstDiod() throws {
        let (export, diod, proxy) = try ProxyCaptureTests.diodAndProxy(bigSize: 300_000, extra: ["--json", "--stats"])
        defer { diod.kill() }
        let ls = try ProxyTool.client("diodls", ["-s", proxy.listenAddress, "-a", export, "-l", "/", "/sub"])
        #expect(ls.status == 0, "diodls: \(ls.err)")
        let cat = try ProxyTool.client("diodcat", ["-s", proxy.listenAddress, "-a", export, "-m", "8192", "big.bin", "no-such-file"])
        #expect(cat.status != 0, "the missing file fails")
        #expect(proxy.waitForOutput { s in s.split(separator: "\n").filter { $0.contains("\"event\":\"close\"") }.count == 2 })
        #expect(proxy.stop(signal: SIGINT).status == 0)
        let objects = try RealTraffic.jsonLines(proxy.stdout)
        let stats = try #require(objects.last, "no output")
        #expect(stats.pxEvent == "statistics" && objects.dropLast().allSatisfy { $0.pxEvent != "statistics" })
        Self.check(stats, against: objects.filter { $0.pxEvent == "message" }, "proxy")
        #expect((Self.types(stats)["Tread"]?["count"] as? Int ?? 0) >= 37, "the 300 kB read in 8 KiB reads")
        #expect((Self.types(stats)["Twalk"]?["errors"] as? Int ?? 0) >= 1, "the missing file")
        #expect((stats["connections"] as? [[String: Any]])?.count == 2)

        // Text: the table on standard error, after the summary line.
        let (export2, diod2, proxy2) = try ProxyCaptureTests.diodAndProxy(bigSize: 10_000, extra: ["--stats"])
        defer { diod2.kill() }
        #expect(try ProxyTool.client("diodcat", ["-s", proxy2.listenAddress, "-a", export2, "big.bin"]).status == 0)
        #expect(proxy2.waitForOutput { $0.contains("- close") })
        #expect(proxy2.stop(signal: SIGINT).status == 0)
        let err = proxy2.stderr.split(separator: "\n").map(String.init)
        let summary = try #require(err.firstIndex { $0.contains("proxy stopped;") }, "\(proxy2.stderr)")
        #expect(err.count > summary + 3 && err[summary + 1] == "statistics" && err[summary + 2].hasPrefix("type")
                && err.last?.hasPrefix("total") == true && err.contains { $0.hasPrefix("Tread ") }, "\(proxy2.stderr)")
        // --quiet decodes nothing to count.
        let quiet = try Peers.run(Peers.ninescope, ["proxy", "--listen", "127.0.0.1:0", "--upstream", diod2.address,
                                                    "--quiet", "--stats"])
        #expect(quiet.status == 64 && quiet.err.contains("--stats needs the decoding"), "\(quiet.err)")
    }

    /// `serve --stats`: the hosted server's own statistics when it stops, agreeing with its `--trace --json`
    /// lines; alone, the table on standard error after the stop line.
    @Test func serveStatsAgreeWithItsTrace() throws {
        let server = try NinescopeProcess.start(["serve", "--listen", "127.0.0.1:0", "--driver", "memory",
                                                 "--trace", "--json", "--stats"])
        #expect(try ProxyTool.client("diodls", ["-s", server.address, "-a", "/", "-l", "/", "/etc"]).status == 0)
        #expect(try ProxyTool.client("diodcat", ["-s", server.address, "-a", "/", "/README"]).status == 0)
        #expect(try ProxyTool.client("diodcat", ["-s", server.address, "-a", "/", "/no-such-file"]).status != 0)
        #expect(server.stop(signal: SIGINT) == 0)
        let objects = try RealTraffic.jsonLines(server.output.split(separator: "\n").filter { $0.hasPrefix("{") }
                                                    .joined(separator: "\n"))
        let stats = try #require(objects.last, "no JSON lines: \(server.output)")
        #expect(stats.pxEvent == "statistics", "the last object")
        Self.check(stats, against: objects.filter { $0.pxEvent == "message" }, "serve")
        #expect((Self.types(stats)["Twalk"]?["errors"] as? Int ?? 0) >= 1 && (stats["connections"] as? [Any])?.count == 3)

        let quiet = try NinescopeProcess.start(["serve", "--listen", "127.0.0.1:0", "--driver", "memory", "--stats"])
        #expect(try ProxyTool.client("diodcat", ["-s", quiet.address, "-a", "/", "/README"]).status == 0)
        #expect(quiet.stop(signal: SIGINT) == 0)
        let lines = quiet.output.split(separator: "\n").map(String.init)
        let stopped = try #require(lines.firstIndex { $0.contains("stopped after 1 connection") }, "\(quiet.output)")
        #expect(lines.count > stopped + 3 && lines[stopped + 1] == "statistics" && lines.last?.hasPrefix("total") == true
                && lines.contains { $0.hasPrefix("Tread ") } && !lines.contains { $0.contains("Tread tag") },
                "the table and no trace lines: \(quiet.output)")
    }
}
