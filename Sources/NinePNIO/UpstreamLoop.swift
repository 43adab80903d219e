#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether a proxy's upstream is the proxy's own listener.
///
/// `--listen 127.0.0.1:5640 --upstream localhost:5640` (the server's port typed twice, or a listener on
/// every address and the machine's own address as upstream) would relay each client back into the proxy,
/// which would dial itself again for that connection, and so on: thousands of connections a second until
/// descriptors or ports run out, and no client ever answered. The proxy refuses to start instead.
public enum UpstreamLoop {
    /// An IP address as its bytes: 4 for IPv4 (IPv4-mapped IPv6 addresses included), 16 for IPv6.
    public struct IP: Hashable, Sendable {
        public let bytes: [UInt8]
        public init?(_ text: String) {
            var host = Substring(text)
            if let percent = host.firstIndex(of: "%") { host = host[..<percent] }   // a zone: fe80::1%eth0
            var v4 = in_addr()
            if inet_pton(AF_INET, String(host), &v4) == 1 {
                self.init(bytes: withUnsafeBytes(of: v4) { Array($0) })
                return
            }
            var v6 = in6_addr()
            guard inet_pton(AF_INET6, String(host), &v6) == 1 else { return nil }
            self.init(bytes: withUnsafeBytes(of: v6) { Array($0) })
        }
        public init(bytes: [UInt8]) {
            let mappedPrefix: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]
            self.bytes = bytes.count == 16 && Array(bytes[0..<12]) == mappedPrefix ? Array(bytes[12...]) : bytes
        }
        var isV4: Bool { bytes.count == 4 }
        /// 0.0.0.0 or `::`: every address when listening, this machine when dialled.
        var isWildcard: Bool { bytes.allSatisfy { $0 == 0 } }
        /// 127.0.0.0/8 or ::1.
        var isLoopback: Bool { isV4 ? bytes[0] == 127 : bytes == [UInt8](repeating: 0, count: 15) + [1] }
    }

    /// True when a client dialling `upstream` (an address the upstream name resolved to) reaches a listener
    /// bound to `listener`, given this machine's own addresses `local`. A listener on `::` takes IPv4
    /// clients too (Linux's default); dialling the wildcard reaches this machine.
    public static func reaches(upstream: IP, port: UInt16, listener: IP, listenerPort: UInt16,
                               local: Set<IP>) -> Bool {
        guard port == listenerPort else { return false }
        if upstream == listener { return true }
        let upstreamIsHere = upstream.isLoopback || upstream.isWildcard || local.contains(upstream)
        if listener.isWildcard {
            return upstreamIsHere && (!listener.isV4 || upstream.isV4)
        }
        // Dialling 0.0.0.0 (or ::) reaches the loopback address.
        return upstream.isWildcard && listener.isLoopback && upstream.isV4 == listener.isV4
    }

    /// What to say when `upstream` is the proxy bound at `listener` (its real bound address), nil when it is
    /// not or cannot be told (a name that does not resolve now: said elsewhere). For unix sockets: the same
    /// socket file, however spelled.
    public static func check(listener: Address, upstream: Address) -> String? {
        switch (listener, upstream) {
        case (.unix(let ours), .unix(let theirs)):
            guard !ours.isEmpty, sameFile(ours, theirs) else { return nil }
        case (.tcp(let lHost, let lPort), .tcp(let uHost, let uPort)):
            guard lPort == uPort, let listenerIP = IP(lHost) else { return nil }
            let local = localAddresses()
            guard resolve(uHost, port: uPort).contains(where: {
                reaches(upstream: $0, port: uPort, listener: listenerIP, listenerPort: lPort, local: local)
            }) else { return nil }
        default:
            return nil
        }
        return "the upstream \(upstream.colonForm) is this proxy's own listener (\(listener.colonForm)): "
            + "each client would be relayed back into the proxy, without end. Give the server's address as --upstream"
    }

    /// This machine's interface addresses (getifaddrs), empty where they cannot be read.
    static func localAddresses() -> Set<IP> {
        var result: Set<IP> = []
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return result }
        defer { freeifaddrs(list) }
        var entry: UnsafeMutablePointer<ifaddrs>? = first
        while let e = entry {
            if let sa = e.pointee.ifa_addr, let ip = ip(of: sa) { result.insert(ip) }
            entry = e.pointee.ifa_next
        }
        return result
    }

    /// Every address `host` resolves to for TCP (getaddrinfo), empty when it does not resolve.
    static func resolve(_ host: String, port: UInt16) -> [IP] {
        if let literal = IP(host) { return [literal] }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(list) }
        var result: [IP] = []
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let e = entry {
            if let sa = e.pointee.ai_addr, let ip = ip(of: sa) { result.append(ip) }
            entry = e.pointee.ai_next
        }
        return result
    }

    private static func ip(of sa: UnsafeMutablePointer<sockaddr>) -> IP? {
        switch Int32(sa.pointee.sa_family) {
        case AF_INET:
            return sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                IP(bytes: withUnsafeBytes(of: $0.pointee.sin_addr) { Array($0) })
            }
        case AF_INET6:
            return sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                IP(bytes: withUnsafeBytes(of: $0.pointee.sin6_addr) { Array($0) })
            }
        default:
            return nil
        }
    }

    /// True when both paths name one file (the same device and inode), or are the same text.
    static func sameFile(_ a: String, _ b: String) -> Bool {
        if a == b { return true }
        var sa = stat(), sb = stat()
        guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return false }
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }
}
