import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Socket errors as a person reads them.
public enum NetworkErrorText {
    /// A system error by its errno text (`Address already in use`, not SwiftNIO's `bind(descriptor:ptr:bytes:):
    /// Address already in use) (errno: 98)`), a failed connect by its first attempt's error, a connect
    /// timeout with its limit; anything else as it describes itself. Out of descriptors (EMFILE),
    /// with the process's limits.
    public static func describe(_ error: any Error) -> String {
        if let io = error as? IOError {
            let text = String(cString: strerror(io.errnoCode))
            return io.errnoCode == EMFILE ? OpenFileLimit.exhaustedText(text) : text
        }
        if let failed = error as? NIOConnectionError, let first = failed.connectionErrors.first {
            return describe(first.error)
        }
        if error is UnixDomainSocketPathWrongType { return "a file that is not a socket is in the way" }
        if case ChannelError.connectTimeout(let limit) = error {
            return "timed out after \(limit.nanoseconds / 1_000_000) ms"
        }
        return String(describing: error)
    }
}

/// A socket that could not be set up, said as `NetworkErrorText` says it (`Address already in use`).
public struct SocketFailure: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
