import NinePDrivers
import NinePServer
import NinePTestSupport
import NinePWire
import Testing

@Suite struct FaultTests {
    @Test func parsesRules() throws {
        let spec = try FaultSpec(parsing: ["delay=Tread:200ms,error=Tlopen:EACCES@10%", "hang=twrite", "error=*:5@50%",
                                           "close=Tclunk@25%"])
        #expect(spec.rules == [
            .init(type: .tread, action: .delay(.milliseconds(200))),
            .init(type: .tlopen, action: .error(.EACCES), probability: 0.1),
            .init(type: .twrite, action: .hang),
            .init(type: nil, action: .error(.EIO), probability: 0.5),
            .init(type: .tclunk, action: .close, probability: 0.25),
        ])
        #expect(try FaultSpec(parsing: "delay=Twalk:1.5s").rules.first?.action == .delay(.milliseconds(1500)))
        #expect(try FaultSpec(parsing: "delay=Twalk:250").rules.first?.action == .delay(.milliseconds(250)))
        #expect(try FaultSpec(parsing: spec.description) == spec)
    }

    @Test(arguments: ["delay=Tread", "error=Tlopen:EWHAT", "hang=Twrite:1s", "boom=Tread", "error=Tversion:EIO",
                      "close=Tread:now", "close=Tversion",
                      "error=Rread:EIO", "delay=Tread:fast", "error=Tread:EIO@150%", "Tread"])
    func rejectsBadRules(_ text: String) {
        #expect(throws: FaultSpecError.self) { try FaultSpec(parsing: text) }
    }

    /// One request's plan, which `serve` and the proxy both follow: delays add up until an error, hang or
    /// close ends the list; every rule that fired counts.
    @Test func planAddsDelaysUntilARuleEndsTheList() throws {
        let spec = try FaultSpec(parsing: "delay=*:5ms,delay=Tread:10ms,error=Tread:EIO,delay=*:1s")
        var dice = SplitMix64(seed: 1)
        let read = spec.plan(for: .tread, rolling: &dice)
        #expect(read.delay == .milliseconds(15) && read.then?.action == .error(.EIO) && read.fired == 3)
        let getattr = spec.plan(for: .tgetattr, rolling: &dice)
        #expect(getattr.delay == .milliseconds(1005) && getattr.then == nil && getattr.fired == 2)
        #expect(FaultSpec.nanoseconds(getattr.delay) == 1_005_000_000)
    }

    func client(_ spec: String, seed: UInt64 = 1) async throws -> (NinePTestClient, FaultDriver<MemoryDriver>) {
        let mem = MemoryDriver()
        try await mem.makeFile("f", contents: [1, 2, 3])
        let driver = FaultDriver(wrapping: mem, spec: try FaultSpec(parsing: spec), seed: seed)
        let c = await NinePTestClient.connect(driver: driver)
        try await c.version()
        try await c.attach(0)
        return (c, driver)
    }

    @Test func errorFault() async throws {
        let (c, d) = try await client("error=Tlopen:EACCES")
        let f = try await c.walkTo(0, "f")
        #expect(try await c.expectError(.tlopen(Tlopen(fid: f, flags: .rdonly))) == .EACCES)
        #expect(d.firedCounts[.tlopen] == 1)
        #expect(try await c.getattr(f).size == 3)   // other requests unaffected
    }

    /// An error rule on Tclunk or Tremove still ends the fid (clunk(5), remove(5)): its number is free at
    /// once, and a refused remove removes nothing.
    @Test func aRefusedClunkOrRemoveStillEndsTheFid() async throws {
        let (c, _) = try await client("error=Tclunk:EIO,error=Tremove:EACCES")
        let f = try await c.walkTo(0, "f")
        #expect(try await c.expectError(.tclunk(Tclunk(fid: f))) == .EIO)
        #expect(try await c.walk(0, f, ["f"]).count == 1)        // the number is free again
        #expect(try await c.expectError(.tremove(Tremove(fid: f))) == .EACCES)
        #expect(try await c.expectError(.tgetattr(Tgetattr(fid: f, requestMask: .basic))) == .EBADF)
        let still = try await c.walkTo(0, "f")
        #expect(try await c.getattr(still).size == 3)             // nothing was removed
    }

    @Test func hangFaultIsReleasedByFlush() async throws {
        let (c, _) = try await client("hang=Tgetattr")
        let hung = await c.send(.tgetattr(Tgetattr(fid: 0, requestMask: .basic)))
        guard case .rstatfs? = await c.reply(to: await c.send(.tstatfs(Tstatfs(fid: 0))))?.message else {
            Issue.record("Tstatfs should complete while Tgetattr hangs"); return
        }
        let fl = await c.send(.tflush(Tflush(oldtag: hung)))
        #expect(await c.reply(to: fl)?.message == .rflush)
        #expect(await c.replies(tagged: hung).isEmpty)
    }

    /// `close`: the connection is dropped when the request arrives, it and the requests outstanding
    /// unanswered (a hung one here), and the reason names the rule; requests before it were answered.
    @Test func closeFaultDropsTheConnection() async throws {
        let (c, d) = try await client("hang=Tstatfs,close=Tgetattr")
        let f = try await c.walkTo(0, "f")
        let hung = await c.send(.tstatfs(Tstatfs(fid: 0)))
        let dropped = await c.send(.tgetattr(Tgetattr(fid: f, requestMask: .basic)))
        #expect(await c.waitForClose() == .fault("close=Tgetattr"))
        let answered = await c.replies(tagged: hung) + (await c.replies(tagged: dropped))
        #expect(answered.isEmpty)
        #expect(await c.hasEnded)
        #expect(d.firedCounts[.tgetattr] == 1)
        #expect(CloseReason.fault("close=Tgetattr").description == "fault close=Tgetattr")
    }

    @Test func delayFaultStillAnswers() async throws {
        let (c, d) = try await client("delay=Tread:20ms")
        let f = try await c.walkTo(0, "f")
        try await c.lopen(f)
        #expect(try await c.read(f) == [1, 2, 3])
        #expect(d.firedCounts[.tread] == 1)
    }

    @Test func probabilityIsSeededAndPartial() async throws {
        func outcomes(seed: UInt64) async throws -> [Bool] {
            let (c, _) = try await client("error=Tgetattr:EIO@50%", seed: seed)
            var out: [Bool] = []
            for _ in 0..<64 { out.append(try await c.rpc(.tgetattr(Tgetattr(fid: 0, requestMask: .basic))).type == .rgetattr) }
            return out
        }
        let a = try await outcomes(seed: 7), b = try await outcomes(seed: 7)
        #expect(a == b)
        #expect(a.contains(true) && a.contains(false))
    }
}

/// `serve` picks its driver at run time: an existential driver must fit both FaultDriver and
/// ServerConnection (implicitly opened existentials).
@Test func existentialDriversWire() async throws {
    let chosen: any FileSystemDriver = SyntheticDriver()
    func wrap<D: FileSystemDriver>(_ d: D) throws -> any FileSystemDriver { FaultDriver(wrapping: d, spec: try FaultSpec(parsing: "error=Tstatfs:EIO")) }
    let faulty = try wrap(chosen)
    let c = await NinePTestClient.connect(driver: faulty)
    try await c.version()
    try await c.attach(0)
    #expect(try await c.expectError(.tstatfs(Tstatfs(fid: 0))) == .EIO)
    let conn = ServerConnection(driver: faulty, send: { _ in }, close: { _ in })
    await conn.closed()
}
