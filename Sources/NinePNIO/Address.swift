/// A place to listen on or dial: a TCP host and port, or a unix-domain socket path.
///
/// Accepted spellings (DESIGN.md "Command line"): `tcp!HOST!PORT`, `HOST:PORT`, `[V6]:PORT`, `unix!/path`,
/// `unix:/path`. `tcp!*!PORT` means every local address (`0.0.0.0`). Port 0 asks for an ephemeral port when
/// listening; the listener reports the address it really bound.
public enum Address: Hashable, Sendable, CustomStringConvertible {
    /// `host` is a name, an IPv4 address or an IPv6 address (without brackets).
    case tcp(host: String, port: UInt16)
    /// A unix-domain stream socket. An empty path stands for an unnamed socket (a connected unix client).
    case unix(path: String)

    /// The longest unix socket path the kernel accepts (`sun_path` is 108 bytes, NUL included).
    public static let maxUnixPathBytes = 107

    /// Parses any accepted spelling. Throws an `AddressError` that quotes the input and says what is wrong.
    public init(parsing text: String) throws(AddressError) {
        let s = text.trimmingSpaces()
        if s.isEmpty { throw AddressError(input: text, reason: "empty address") }
        if let rest = s.dropPrefix("unix!") ?? s.dropPrefix("unix:") {
            self = try Address.unixAddress(rest, input: text)
        } else if let rest = s.dropPrefix("tcp!") {
            let parts = rest.split(separator: "!", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw AddressError(input: text, reason: "expected tcp!HOST!PORT")
            }
            var host = String(parts[0])
            if host.hasPrefix("[") && host.hasSuffix("]") && host.count >= 2 {
                host = String(host.dropFirst().dropLast())
            }
            if host == "*" { host = "0.0.0.0" }
            guard !host.isEmpty else { throw AddressError(input: text, reason: "missing host") }
            try Address.checkHost(host, input: text)
            self = .tcp(host: host, port: try Address.parsePort(Substring(parts[1]), input: text))
        } else if s.hasPrefix("tcp:") {
            throw AddressError(input: text, reason: "use tcp!HOST!PORT or HOST:PORT")
        } else if s.hasPrefix("[") {
            guard let close = s.firstIndex(of: "]") else {
                throw AddressError(input: text, reason: "missing ] after the IPv6 address")
            }
            let host = String(s[s.index(after: s.startIndex)..<close])
            guard !host.isEmpty else { throw AddressError(input: text, reason: "empty IPv6 address in brackets") }
            let after = s[s.index(after: close)...]
            guard after.hasPrefix(":") else {
                throw AddressError(input: text, reason: "expected [V6]:PORT (a port after the ])")
            }
            try Address.checkHost(host, input: text)
            self = .tcp(host: host, port: try Address.parsePort(after.dropFirst(), input: text))
        } else if s.hasPrefix("/") {
            throw AddressError(input: text, reason: "a socket path needs unix!/path or unix:/path")
        } else {
            guard let colon = s.lastIndex(of: ":") else {
                throw AddressError(input: text,
                                   reason: "expected HOST:PORT, [V6]:PORT, tcp!HOST!PORT, unix!/path or unix:/path")
            }
            let host = String(s[..<colon])
            if host.contains(":") {
                throw AddressError(input: text, reason: "an IPv6 address needs brackets: [V6]:PORT")
            }
            guard !host.isEmpty else { throw AddressError(input: text, reason: "missing host before :PORT") }
            try Address.checkHost(host, input: text)
            self = .tcp(host: host, port: try Address.parsePort(s[s.index(after: colon)...], input: text))
        }
    }

    /// The dial string: `tcp!127.0.0.1!564`, `tcp!::1!564`, `unix!/tmp/9p.sock`. Parses back to the same value.
    public var description: String {
        switch self {
        case .tcp(let host, let port): return "tcp!\(host)!\(port)"
        case .unix(let path): return "unix!\(path)"
        }
    }

    /// The colon form: `127.0.0.1:564`, `[::1]:564`, `unix:/tmp/9p.sock`. Parses back to the same value.
    public var colonForm: String {
        switch self {
        case .tcp(let host, let port): return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unix(let path): return "unix:\(path)"
        }
    }

    /// True for `.tcp`.
    public var isTCP: Bool { if case .tcp = self { return true } else { return false } }

    /// The port of a TCP address, nil for unix sockets.
    public var port: UInt16? { if case .tcp(_, let p) = self { return p } else { return nil } }

    // MARK: - Parsing helpers

    static func unixAddress(_ rest: String, input: String) throws(AddressError) -> Address {
        guard !rest.isEmpty else { throw AddressError(input: input, reason: "missing socket path") }
        guard !rest.contains("\0") else { throw AddressError(input: input, reason: "NUL byte in socket path") }
        let bytes = rest.utf8.count
        guard bytes <= maxUnixPathBytes else {
            throw AddressError(input: input,
                               reason: "socket path is \(bytes) bytes; the limit is \(maxUnixPathBytes)")
        }
        return .unix(path: rest)
    }

    static func parsePort(_ text: Substring, input: String) throws(AddressError) -> UInt16 {
        guard !text.isEmpty else { throw AddressError(input: input, reason: "missing port") }
        guard text.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw AddressError(input: input, reason: "port \"\(text)\" is not a number")
        }
        guard text.count <= 5, let value = Int(text), value <= 65535 else {
            throw AddressError(input: input, reason: "port \(text) is out of range (0…65535)")
        }
        return UInt16(value)
    }

    static func checkHost(_ host: String, input: String) throws(AddressError) {
        for ch in host.unicodeScalars {
            let ok = (ch >= "a" && ch <= "z") || (ch >= "A" && ch <= "Z") || (ch >= "0" && ch <= "9")
                || ch == "." || ch == "-" || ch == ":" || ch == "_" || ch == "%"
            if !ok { throw AddressError(input: input, reason: "invalid character \"\(ch)\" in host \"\(host)\"") }
        }
    }
}

/// Why an address string could not be parsed (or resolved).
public struct AddressError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The text as given.
    public var input: String
    public var reason: String
    public init(input: String, reason: String) { self.input = input; self.reason = reason }
    public var description: String { "bad address \"\(input)\": \(reason)" }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var sub = Substring(self)
        while let f = sub.first, f == " " || f == "\t" || f == "\n" { sub = sub.dropFirst() }
        while let l = sub.last, l == " " || l == "\t" || l == "\n" { sub = sub.dropLast() }
        return String(sub)
    }

    fileprivate func dropPrefix(_ prefix: String) -> String? {
        hasPrefix(prefix) ? String(dropFirst(prefix.count)) : nil
    }
}
