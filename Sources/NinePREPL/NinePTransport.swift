/// A client connection to a 9P server, as the REPL engine and replay see it. NinePNIO's client
/// connection is adapted to it in the `ninescope` target; tests use an in-process fake.
public protocol NinePTransport: Sendable {
    /// Sends one frame (`size[4]` included) exactly as given — malformed frames too.
    func send(_ frame: [UInt8]) async throws
    /// Sends one frame without waiting for it to be written (replay: a wait per request cost a thread
    /// wake-up each); frames posted one after another go out in that order. A failure shows as the
    /// connection's end on `incoming`.
    func post(_ frame: [UInt8])
    /// What the server sends, split into frames, in arrival order; ends after `.closed`.
    /// Consumed by exactly one reader.
    var incoming: AsyncStream<TransportEvent> { get }
    /// Closes the connection; `incoming` then finishes.
    func close() async
}

public enum TransportEvent: Sendable, Hashable {
    /// One complete frame from the server, with its arrival time (ns, the engine's clock) when the
    /// transport knows it better than the engine would (latencies then exclude the hops in between).
    case frame([UInt8], receivedAt: Int64?)
    /// Bytes that could not be framed (an impossible size field).
    case garbage([UInt8], reason: String)
    /// The connection ended; `reason` is nil for an orderly end of stream.
    case closed(reason: String?)

    /// A frame without an arrival time.
    public static func frame(_ bytes: [UInt8]) -> TransportEvent { .frame(bytes, receivedAt: nil) }
}

/// Opens a transport (again, for `reconnect`).
public typealias NinePConnector = @Sendable () async throws -> any NinePTransport

/// One line of REPL output, with what kind of line it is (for colour or stream choice).
public struct ReplOutput: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        /// A message we sent: `-> Twalk tag 0 …`.
        case sent
        /// A message received: `<- Rwalk tag 0 … (0.210 ms)`.
        case received
        /// Payloads, listings, tables, help.
        case info
        /// Protocol oddities shown in the message flow: malformed frames, tracker anomalies, garbage.
        case anomaly
        /// Something went wrong (parse error, failed expectation, connection lost).
        case error
    }
    public var kind: Kind
    public var text: String
    public init(_ kind: Kind, _ text: String) { self.kind = kind; self.text = text }
}

/// How a command ended.
public enum CommandOutcome: Hashable, Sendable {
    case ok
    /// The server answered with Rerror/Rlerror (or a convenience met one).
    case errorReply(String)
    /// The command could not run or an `expect` failed.
    case failed(String)
    /// The line did not parse.
    case syntaxError(ParseError)
    /// `quit`/`exit`.
    case quit

    public var isSuccess: Bool { self == .ok || self == .quit }
}
