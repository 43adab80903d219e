import ArgumentParser
import NinePNIO
import NinePWire
#if canImport(Glibc)
import Glibc
#endif

/// `ninescope bench-ping ADDR --aname PATH`: a hidden latency probe for bench/proxy.sh (not in the help).
/// Negotiates 9P2000.L, attaches, then sends Tgetattr requests one at a time over a blocking socket with
/// TCP_NODELAY, timing each round trip with the monotonic clock. Prints one line of `key=value` figures:
/// `n=20000 p50_us=24.1 p90_us=27.0 p99_us=41.3 max_us=210.4 mean_us=25.0`.
struct BenchPingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-ping",
        abstract: "Measure 9P request round-trip latency (Tgetattr ping-pong).",
        shouldDisplay: false
    )

    @Argument(help: "The server (or proxy) address.") var address: String
    @Option(help: "The attach name (diod: the exported directory).") var aname: String = ""
    @Option(help: "Timed round trips.") var count: Int = 20000
    @Option(help: "Untimed round trips first.") var warmup: Int = 1000

    func validate() throws {
        _ = try Address.option(address)
    }

    func run() throws {
        let addr = try Address.option(address)
        let sock = try BlockingSocket(connectingTo: addr)
        defer { sock.close() }

        func rpc(_ tag: UInt16, _ message: Message) throws -> Fcall {
            try sock.send(Fcall(tag: Tag(tag), message).encode(dialect: .l))
            let reply = try Fcall.decode(try sock.receiveFrame(), dialect: .l)
            switch reply.message {
            case .rlerror(let e): throw ProxyCommandError("\(MessageType(rawValue: message.typeCode)?.description ?? "request") failed: \(e.ecode)")
            case .rerror(let e): throw ProxyCommandError("request failed: \(e.text)")
            default: return reply
            }
        }

        let version = try rpc(0xFFFF, .tversion(Tversion(msize: 65536, version: "9P2000.L")))
        guard case .rversion(let rv) = version.message, rv.version == "9P2000.L" else {
            throw ProxyCommandError("the server did not accept 9P2000.L: \(version)")
        }
        _ = try rpc(1, .tattach(Tattach(fid: 1, uname: "root", aname: P9String(aname), nUname: 0)))
        let request = Fcall(tag: Tag(2), .tgetattr(Tgetattr(fid: 1, requestMask: GetattrMask(rawValue: 0x7ff))))
            .encode(dialect: .l)
        var samples: [UInt64] = []
        samples.reserveCapacity(count)
        for i in 0..<(warmup + count) {
            let t0 = WallClock.monotonicNanos()
            try sock.send(request)
            let reply = try sock.receiveFrame()
            let t1 = WallClock.monotonicNanos()
            guard reply.count > 4, reply[4] == MessageType.rgetattr.rawValue else {
                throw ProxyCommandError("unexpected reply to Tgetattr: \((try? Fcall.decode(reply, dialect: .l)).map { "\($0)" } ?? "undecodable")")
            }
            if i >= warmup { samples.append(t1 - t0) }
        }
        _ = try rpc(3, .tclunk(Tclunk(fid: 1)))
        samples.sort()
        func pct(_ p: Double) -> String {
            guard !samples.isEmpty else { return "nan" }
            let i = min(samples.count - 1, Int((p / 100 * Double(samples.count)).rounded(.up)) - 1)
            return Self.micros(samples[max(0, i)])
        }
        let mean = samples.isEmpty ? 0 : samples.reduce(0, +) / UInt64(samples.count)
        print("n=\(samples.count) p50_us=\(pct(50)) p90_us=\(pct(90)) p99_us=\(pct(99)) "
              + "max_us=\(Self.micros(samples.last ?? 0)) mean_us=\(Self.micros(mean))")
    }

    static func micros(_ ns: UInt64) -> String {
        let tenths = (ns + 50) / 100
        return "\(tenths / 10).\(tenths % 10)"
    }
}

/// A blocking stream socket (TCP with TCP_NODELAY, or unix) that reads whole 9P frames.
final class BlockingSocket {
    private var fd: Int32
    private var buffer: [UInt8] = []
    private var chunk = [UInt8](repeating: 0, count: 65536 + 64)

    init(connectingTo address: Address) throws {
        switch address {
        case .unix(let path):
            fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var sa = sockaddr_un()
            sa.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            withUnsafeMutableBytes(of: &sa.sun_path) { raw in
                for (i, b) in bytes.prefix(raw.count - 1).enumerated() { raw[i] = b }
            }
            let rc = withUnsafePointer(to: &sa) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            if rc != 0 { throw ProxyCommandError("connect \(address.colonForm): \(String(cString: strerror(errno)))") }
        case .tcp(let host, let port):
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var list: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(host, String(port), &hints, &list) == 0, let ai = list else {
                throw ProxyCommandError("cannot resolve \(host)")
            }
            defer { freeaddrinfo(list) }
            fd = socket(ai.pointee.ai_family, Int32(SOCK_STREAM.rawValue), 0)
            if connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) != 0 {
                throw ProxyCommandError("connect \(address.colonForm): \(String(cString: strerror(errno)))")
            }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    func send(_ bytes: [UInt8]) throws {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + off, $0.count - off, Int32(MSG_NOSIGNAL)) }
            if n < 0 { if errno == EINTR { continue }; throw ProxyCommandError("send: \(String(cString: strerror(errno)))") }
            off += n
        }
    }

    /// The next whole frame (`size[4]` included).
    func receiveFrame() throws -> [UInt8] {
        while true {
            if buffer.count >= 4 {
                let size = Int(buffer[0]) | Int(buffer[1]) << 8 | Int(buffer[2]) << 16 | Int(buffer[3]) << 24
                if size < 7 { throw ProxyCommandError("bad frame size \(size)") }
                if buffer.count >= size {
                    let frame = Array(buffer[0..<size])
                    buffer.removeFirst(size)
                    return frame
                }
            }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n < 0 { if errno == EINTR { continue }; throw ProxyCommandError("recv: \(String(cString: strerror(errno)))") }
            if n == 0 { throw ProxyCommandError("the server closed the connection") }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }

    func close() {
        if fd >= 0 { _ = Glibc.close(fd); fd = -1 }
    }
}
