import NinePSession
import NinePWire
import Testing

/// The Linux 9P2000.L mount, `ls` and `cat` sequences of TRAFFIC.md §1 and §3.
@Suite struct MountSequenceTests {
    /// version, attach, getattr; ls (walk, clone, lopen, readdir ×2, clunk); cat (walk, clone, lopen, read ×2, clunk).
    static func mountLsCat() -> Harness {
        var h = Harness(wire: .l)
        h.version("9P2000.L", msize: 131_096)
        h.attach(0, fid: 0)
        h.t(0, .tgetattr(Tgetattr(fid: 0, requestMask: GetattrMask(rawValue: 0x17ff))))
        h.r(0, .rgetattr(Rgetattr(valid: .basic, qid: Qid(type: .dir, path: 1))))
        // ls /tmp: lookup, clone, open directory, readdir until empty, closedir.
        h.walk(0, 0, 1, ["tmp"])
        h.t(0, .tgetattr(Tgetattr(fid: 1, requestMask: GetattrMask(rawValue: 0x17ff))))
        h.r(0, .rgetattr(Rgetattr(valid: .basic, qid: Qid(type: .dir, path: 100))))
        h.walk(0, 1, 2, [])
        h.t(0, .tlopen(Tlopen(fid: 2, flags: LOpenFlags(rawValue: 0x98800))))
        h.r(0, .rlopen(Rlopen(qid: Qid(type: .dir, path: 100), iounit: 0)))
        h.t(0, .treaddir(Treaddir(fid: 2, offset: 0, count: 131_072)))
        h.r(0, .rreaddir(Rreaddir(data: [])))
        h.clunk(0, 2)
        // cat /tmp/file
        h.walk(0, 1, 3, ["file"], dir: false)
        h.walk(0, 3, 4, [])
        h.t(0, .tlopen(Tlopen(fid: 4, flags: LOpenFlags(rawValue: 0x8000))))
        h.r(0, .rlopen(Rlopen(qid: Qid(path: 100), iounit: 4096)))
        h.t(0, .tread(Tread(fid: 4, offset: 0, count: 4096)))
        h.r(0, .rread(Rread(data: Array("hello\n".utf8))))
        h.t(0, .tread(Tread(fid: 4, offset: 6, count: 4096)))
        h.r(0, .rread(Rread(data: [])))
        h.clunk(0, 4)
        return h
    }

    @Test func negotiatesDialectAndMsize() {
        let h = Self.mountLsCat()
        let s = h.summary
        #expect(s.dialect == .l)
        #expect(s.dialectSource == .negotiated)
        #expect(s.negotiatedVersion == "9P2000.L")
        #expect(s.msize == 131_096)
        #expect(!s.startedMidStream)
        #expect(s.messageCount == h.tracker.messageCount)
        #expect(s.requestCount == s.replyCount)
        #expect(s.pendingCount == 0)
        #expect(h.anomalies.isEmpty, "\(h.anomalies)")
    }

    @Test func fidTableAfterMount() {
        let h = Self.mountLsCat()
        let live = h.tracker.fidTable(on: h.conn)
        #expect(live.map(\.fid) == [0, 1, 3])
        #expect(h.path(0) == "/")
        #expect(h.path(1) == "/tmp")
        #expect(h.path(3) == "/tmp/file")
        #expect(live[0].state == .attached)
        #expect(live[0].uname == "nobody")
        #expect(live[1].state == .walked)
        #expect(live[1].uname == "nobody", "walked fids inherit the attach's user")
        #expect(live[2].qid == Qid(type: .file, path: 100))
        #expect(live.allSatisfy { !$0.isOpen })

        let history = h.tracker.fidTable(on: h.conn, includingHistory: true)
        #expect(history.map(\.fid) == [0, 1, 2, 3, 4])
        let two = history[2], four = history[4]
        #expect(two.state == .clunked && four.state == .clunked)
        #expect(two.path?.description == "/tmp")
        #expect(two.openMode == .dotL(LOpenFlags(rawValue: 0x98800)))
        #expect(four.openMode == .dotL(LOpenFlags(rawValue: 0x8000)))
        #expect(four.iounit == 4096)
        // fid 4: created by the clone, then Tlopen, 2× Tread, Tclunk = 5 uses.
        #expect(four.useCount == 5)
        #expect(four.endedBy != nil)
        #expect(h.tracker.exchange(four.endedBy!)?.requestType == .tclunk)
        #expect(h.tracker.exchange(four.createdBy!)?.requestType == .twalk)
    }

    @Test func exchangesPairRepliesWithLatency() {
        let h = Self.mountLsCat()
        let n = h.tracker.messageCount
        #expect(h.tracker.exchangeCount == n / 2)
        for i in stride(from: 0, to: n, by: 2) {
            let req = h.tracker.message(at: i)!, rep = h.tracker.message(at: i + 1)!
            #expect(req.isRequest == true && rep.isRequest == false)
            #expect(req.exchange == rep.exchange)
            #expect(rep.requestIndex == i)
            #expect(rep.latency == rep.timestamp - req.timestamp)
            #expect(rep.latency == h.step)
            let x = h.tracker.exchange(rep.exchange!)!
            #expect(x.status == .ok)
            #expect(x.requestIndex == i && x.replyIndex == i + 1)
            #expect(x.latency == h.step)
            #expect(h.tracker.messages(of: x.id) == [i, i + 1])
        }
    }

    @Test func messagesCarryFidPaths() {
        let h = Self.mountLsCat()
        var lines: [String: String] = [:]
        for i in 0..<h.tracker.messageCount {
            let m = h.tracker.message(at: i)!
            if case .success(let f) = m.fcall, let p = m.fidPath {
                lines["\(i) \(f.message.name)"] = p.description
            }
        }
        #expect(lines["2 Tattach"] == "/")
        #expect(lines["6 Twalk"] == "/", "a Twalk shows its source fid's path")
        #expect(lines["7 Rwalk"] == "/tmp", "an Rwalk shows the new fid's path")
        #expect(lines["14 Treaddir"] == "/tmp")
        #expect(lines["22 Tlopen"] == "/tmp/file")
        #expect(lines["24 Tread"] == "/tmp/file")
        #expect(lines["0 Tversion"] == nil)
    }

    @Test func leaksAtCloseOnePerLiveFidWithPath() {
        var h = Self.mountLsCat()
        let out = h.close(.eof)
        let leaks = out.anomalies
        #expect(leaks.map(\.kind) == [.fidLeakedAtClose, .fidLeakedAtClose, .fidLeakedAtClose])
        #expect(leaks.map(\.fid) == [0, 1, 3])
        // The message index is the request that made the fid: Tattach #2, Twalk #6, Twalk #18.
        #expect(leaks.map(\.messageIndex) == [2, 6, 18])
        #expect(leaks[1].text.contains("/tmp"))
        #expect(leaks[2].text.contains("/tmp/file"))
        #expect(h.tracker.fidTable(on: h.conn).isEmpty)
        #expect(h.tracker.fidTable(on: h.conn, includingHistory: true).filter { $0.state == .leaked }.count == 3)
        #expect(h.summary.closedAt != nil && h.summary.closeReason == .eof)
    }

    @Test func umountClunksEverythingSoNoLeaks() {
        var h = Self.mountLsCat()
        h.clunk(0, 3)
        h.clunk(0, 1)
        h.clunk(0, 0)
        let out = h.close(.eof)
        #expect(out.anomalies.isEmpty)
        #expect(h.anomalies.isEmpty)
    }

    @Test func endOfCaptureIsNotALeak() {
        var h = Self.mountLsCat()
        h.t(1, .tgetattr(Tgetattr(fid: 3, requestMask: .all)))
        let out = h.close(.endOfCapture)
        #expect(out.anomalies.isEmpty)
        #expect(h.tracker.fidTable(on: h.conn).count == 3)
        // What was pending when the capture ended stays pending (a view shows its age then).
        #expect(out.exchanges.isEmpty)
        #expect(h.tracker.pendingTags(on: h.conn) == [1])
    }

    /// The tracker is a value: a copy taken mid-session is not changed by what the original is fed
    /// afterwards, and the original is not changed by what the copy is fed (connection state is kept in
    /// boxes shared until one side writes).
    @Test func copiesOfTheTrackerAreIndependent() {
        var h = Harness(wire: .l)
        h.version("9P2000.L", msize: 8192)
        h.attach(0, fid: 0)
        let snapshot = h.tracker
        h.walk(1, 0, 1, ["usr"])
        h.t(2, .tread(Tread(fid: 1, offset: 0, count: 10)))
        #expect(h.tracker.liveFids(on: h.conn) == [0, 1])
        #expect(h.tracker.pendingTags(on: h.conn) == [2])
        #expect(snapshot.liveFids(on: h.conn) == [0])
        #expect(snapshot.pendingTags(on: h.conn).isEmpty)
        #expect(snapshot.connection(h.conn)?.messageCount == 4)
        #expect(h.tracker.connection(h.conn)?.messageCount == 7)

        var other = Harness(wire: .l)
        other.tracker = snapshot
        other.now = h.now
        other.clunk(3, 0)
        #expect(other.tracker.liveFids(on: h.conn).isEmpty)
        #expect(h.tracker.liveFids(on: h.conn) == [0, 1])
        #expect(snapshot.liveFids(on: h.conn) == [0])
    }
}
