import NIOCore

extension Address {
    /// The NIO socket address. Host names are resolved here (getaddrinfo; it may block briefly).
    public func socketAddress() throws -> SocketAddress {
        switch self {
        case .tcp(let host, let port):
            do {
                return try SocketAddress.makeAddressResolvingHost(host, port: Int(port))
            } catch {
                // getaddrinfo's own words ("Name or service not known"), not SwiftNIO's wrapping of them.
                let why: String = switch error {
                case let e as SocketAddressError.UnknownHost: e.errorDescription
                case SocketAddressError.unknown: "unknown host"
                default: "\(error)"
                }
                throw AddressError(input: description, reason: "cannot resolve host \"\(host)\": \(why)")
            }
        case .unix(let path):
            do {
                return try SocketAddress(unixDomainSocketPath: path)
            } catch {
                throw AddressError(input: description, reason: "bad unix socket path: \(error)")
            }
        }
    }

    /// The address NIO reports for a socket (a bound listener, a peer). Nil when NIO gives none. An IPv4
    /// client of a listener on `::` (an IPv4-mapped address, `::ffff:127.0.0.1`) is given as the IPv4
    /// address it is (`127.0.0.1`).
    public init?(_ socketAddress: SocketAddress?) {
        guard let socketAddress else { return nil }
        switch socketAddress {
        case .v4, .v6:
            guard var ip = socketAddress.ipAddress, let port = socketAddress.port else { return nil }
            if ip.lowercased().hasPrefix("::ffff:"), ip.dropFirst(7).contains("."), !ip.dropFirst(7).contains(":") {
                ip = String(ip.dropFirst(7))
            }
            self = .tcp(host: ip, port: UInt16(truncatingIfNeeded: port))
        case .unixDomainSocket:
            self = .unix(path: socketAddress.pathname ?? "")
        }
    }
}
