import NinePServer

/// How a ``NinePTestClient`` reaches a server: in process (a `ServerConnection`) or over a socket (an
/// adapter in a test target that can use NinePNIO). The client sends frames through the transport and
/// reads the server's output from the `AsyncStream<ServerOutput>` given to
/// ``NinePTestClient/connect(transport:output:dialect:)``; that stream finishing means the connection ended.
public protocol NinePTestTransport: Sendable {
    /// Hands one frame (or any bytes, for malformed-input tests) to the server, in call order.
    func send(frame: [UInt8]) async
    /// Ends the connection from the client's side; returns once the server side has let go (in process:
    /// every fid clunked) or the socket is closed.
    func close() async
}

extension ServerConnection: NinePTestTransport {
    public func send(frame: [UInt8]) async { await receive(frame: frame) }
    public func close() async { await closed() }
}
