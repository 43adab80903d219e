import NinePWire

/// A failure the server reports to the client: a Linux errno (Rlerror, .u Rerror errno) plus, where the
/// server knows better than the errno's stock text, the message for the classic Rerror `ename`. Without
/// one, `ename` is the C library's text for the errno (`Errno.text`), which a 9P2000 client without an errno
/// field (Linux's maps the text back) needs to tell one failure from another: filesystem errors (a
/// driver's) never carry a message of their own; the server's own messages describe a request it refused.
struct ServerError: Error, Hashable, Sendable {
    var errno: Errno
    var message: String?
    init(_ errno: Errno, _ message: String? = nil) { self.errno = errno; self.message = message }

    /// The `ename` text, at most ERRMAX−1 bytes.
    var text: String {
        let t = message ?? errno.text
        return t.utf8.count < NineP.errMax ? t : String(decoding: Array(t.utf8.prefix(NineP.errMax - 1)), as: UTF8.self)
    }

    /// Any error thrown while handling a request, as a ServerError.
    static func from(_ error: any Error) -> ServerError {
        switch error {
        case let e as ServerError: e
        case let e as Errno: ServerError(e)
        case is CancellationError: ServerError(.EINTR)
        default: ServerError(.EIO, "\(error)")
        }
    }

    static let unknownFid = ServerError(.EBADF, "unknown fid")
    static let fidInUse = ServerError(.EBADF, "fid already in use")
    static let readOnly = ServerError(.EROFS)
}
