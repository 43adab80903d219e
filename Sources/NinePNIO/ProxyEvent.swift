import NinePSession
import NinePWire

/// Which end of a proxied connection something happened at.
public enum ProxySide: String, Hashable, Sendable, CustomStringConvertible {
    /// The 9P client that connected to the proxy.
    case client
    /// The real server the proxy dialed.
    case upstream
    public var description: String { rawValue }
}

/// Why a proxied connection ended.
public enum ProxyCloseReason: Hashable, Sendable, CustomStringConvertible {
    /// Both directions ended with an orderly EOF at a frame boundary, the client's first (it hung up, or
    /// both at once).
    case eof
    /// Both directions ended with an orderly EOF at a frame boundary, the upstream server's first: the
    /// server hung up on a client that had not (it died, or closed the session; requests still pending
    /// then are reported unanswered).
    case closedByUpstream
    /// Orderly EOF, but the stream in `direction` ended inside a frame (a `.garbage` event carries the bytes).
    case midFrame(NinePWire.Direction)
    /// A peer reset the connection (ECONNRESET / EPIPE). The proxy resets the other side too.
    case reset(ProxySide)
    /// Any other transport error, as text.
    case error(ProxySide, String)
    /// Dialing the upstream server failed; the client was closed.
    case dialFailed(String)
    /// The proxy was stopped.
    case stopped
    /// A `--fault close=…` rule fired on a request (the rule, e.g. `close=Twrite`): the proxy closed both
    /// sides before the request reached the server, as a server dying there would.
    case fault(String)
    /// The upstream led back to the proxy (`LoopChain`): the chain this connection was part of, as
    /// `LoopChain.Found` says it.
    case loop(String)

    public var description: String {
        switch self {
        case .eof: return "eof"
        case .closedByUpstream: return "closed by upstream"
        case .midFrame(let d): return "eof mid-frame (\(d == .toServer ? "client→server" : "server→client"))"
        case .reset(let s): return "reset by \(s)"
        case .error(let s, let text): return "\(s) error: \(text)"
        case .dialFailed(let text): return "upstream dial failed: \(text)"
        case .stopped: return "proxy stopped"
        case .fault(let rule): return "closed by --fault \(rule)"
        case .loop(let chain): return "upstream loop (\(chain))"
        }
    }

    /// The reason the headless trace prints, and a capture records (as its `why`) for `decode` and `view`
    /// to show: the tracker's reasons are coarse (eof/reset/error), the proxy's say which side reset and
    /// whether a stream ended inside a frame, so every end but an orderly EOF shows as its description.
    public var shownReason: CloseReason {
        self == .eof ? .eof : .error(description)
    }

    /// The tracker's reason: the one shown, so that its reports (`unanswered: … (error: reset by client)`)
    /// name the end as the close line does, and as `decode` of the capture (which has only the recorded
    /// `why`) names it too.
    public var sessionReason: CloseReason { shownReason }
}

/// What the proxy's tap reports, in order per connection. Timestamps are wall-clock nanoseconds since the
/// Unix epoch, read by the proxy when the bytes arrived (for a frame: when its last byte arrived).
///
/// Marks on frames:
/// - `[.injected]` — sent by ninescope, not by the client or server: a request from `inject`, the Tflush
///   from `flush`, or the error reply the proxy gave the client for a flushed tag.
/// - `[.intercepted]` — a server reply to one of ninescope's own requests (injected request or Tflush):
///   never forwarded to the client.
/// - `[.dropped]` — a server reply for a tag the proxy already answered (a late reply after Rflush): not
///   forwarded, so the client never gets two replies for one tag. With `--fault`, also a client request a
///   rule kept from the server (error, hang, close) and a server reply an error rule replaced.
/// - `[.delayed]` — a server reply a `--fault delay=…` rule held back; reported when it was passed on. Also
///   a client request whose reply a rule will hold back or replace (it reached the server).
/// - With `--fault error=…`, the error reply the proxy gave the client is `[.injected]`.
public enum ProxyEvent: Sendable, Hashable {
    /// A client connected and the upstream connection is being dialed. `client` is the client's address as
    /// the proxy saw it (nil when the socket has none), `upstream` the address dialed.
    case opened(conn: NinePWire.ConnectionID, client: Address?, upstream: Address, at: Int64)
    /// One complete frame (`size[4]` included), exactly as it travelled.
    case frame(conn: NinePWire.ConnectionID, direction: NinePWire.Direction, at: Int64, bytes: [UInt8], marks: NinePWire.FrameMarks)
    /// Bytes that could not be framed, passed on unchanged all the same.
    case garbage(conn: NinePWire.ConnectionID, direction: NinePWire.Direction, at: Int64, bytes: [UInt8], reason: String)
    /// The connection ended; both sides are closed.
    case closed(conn: NinePWire.ConnectionID, reason: ProxyCloseReason, at: Int64)

    public var conn: NinePWire.ConnectionID {
        switch self {
        case .opened(let c, _, _, _), .frame(let c, _, _, _, _), .garbage(let c, _, _, _, _), .closed(let c, _, _):
            return c
        }
    }

    public var at: Int64 {
        switch self {
        case .opened(_, _, _, let t), .frame(_, _, let t, _, _), .garbage(_, _, let t, _, _), .closed(_, _, let t):
            return t
        }
    }

    /// How a connection's two ends are shown, the same in the live trace and UI and in captures: both in
    /// colon form (`127.0.0.1:40312`, `unix:/run/9p.sock`); an unknown client is `?` and an unnamed
    /// unix-socket client (the usual case) `unix:(unnamed)`.
    public static func connectionInfo(client: Address?, upstream: Address) -> ConnectionInfo {
        let name: String
        switch client {
        case .none: name = "?"
        case .unix(let path)? where path.isEmpty: name = "unix:(unnamed)"
        case let a?: name = a.colonForm
        }
        return ConnectionInfo(client: name, upstream: upstream.colonForm, fromStart: true)
    }

    /// The same event as the tracker's input.
    public var sessionEvent: SessionEvent {
        switch self {
        case .opened(let c, let client, let upstream, let t):
            return .connectionOpened(conn: c, at: t, info: Self.connectionInfo(client: client, upstream: upstream))
        case .frame(let c, let d, let t, let bytes, let marks):
            return .frame(conn: c, direction: d, at: t, bytes: bytes, marks: marks)
        case .garbage(let c, let d, let t, let bytes, let reason):
            return .garbage(conn: c, direction: d, at: t, bytes: bytes, reason: reason)
        case .closed(let c, let reason, let t):
            return .connectionClosed(conn: c, at: t, reason: reason.sessionReason)
        }
    }
}

/// Receives the proxy's events in batches (one batch per burst of socket reads, in order per connection).
/// Called on NIO event loop threads: it must be cheap and must not block; typically it yields into an
/// `AsyncStream` (see `NinePProxy.makeEventStream`).
public typealias ProxyEventSink = @Sendable ([ProxyEvent]) -> Void
