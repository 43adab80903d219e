import NinePWire
/// The tracker's inputs. Timestamps (`at`) are nanoseconds since the Unix epoch, supplied by the caller.
public enum SessionEvent: Sendable {
    /// A connection began. Optional: a frame on an unknown connection opens it implicitly (without info).
    case connectionOpened(conn: ConnectionID, at: Int64, info: ConnectionInfo?)
    /// One complete frame (`size[4]` included), raw. The tracker decodes it with the connection's dialect.
    case frame(conn: ConnectionID, direction: Direction, at: Int64, bytes: [UInt8], marks: FrameMarks)
    /// Bytes the frame splitter could not frame, with its reason.
    case garbage(conn: ConnectionID, direction: Direction, at: Int64, bytes: [UInt8], reason: String)
    /// The connection ended.
    case connectionClosed(conn: ConnectionID, at: Int64, reason: CloseReason)

    /// The connection the event concerns.
    public var conn: ConnectionID {
        switch self {
        case .connectionOpened(let c, _, _), .frame(let c, _, _, _, _), .garbage(let c, _, _, _, _),
             .connectionClosed(let c, _, _):
            return c
        }
    }

    /// The event's timestamp (ns since the epoch).
    public var at: Int64 {
        switch self {
        case .connectionOpened(_, let t, _), .frame(_, _, let t, _, _), .garbage(_, _, let t, _, _),
             .connectionClosed(_, let t, _):
            return t
        }
    }
}
