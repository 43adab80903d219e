import Foundation
import InspectorCore
import NinePSession
import NinePWire

/// What `ninescope decode` prints for one session event, before formatting.
enum TraceItem: Sendable {
    case opened(ConnectionID, at: Int64, info: ConnectionInfo?)
    case output(TrackerOutput)
    case closed(TrackerOutput, ConnectionID, at: Int64, reason: CloseReason)
}

/// Formats and writes `decode`'s lines on a thread of its own (a `BatchQueue`) while the caller reads
/// the capture and runs the tracker: on two cores a decode then takes about as long as its slower half
/// instead of both. At most `maxItems` items wait, so a slow output holds the reader back.
enum TraceWriter {
    static func start(format: TraceLine, out: LineOutput, maxItems: Int = 16 * 512) -> BatchQueue<TraceItem> {
        BatchQueue(name: "ninescope-decode-writer", maxEvents: maxItems, bytes: { _ in 0 }) { batch in
            var bytes: [UInt8] = []
            bytes.reserveCapacity(1 << 16)
            for item in batch { append(item, format: format, to: &bytes) }
            out.write(bytes: bytes)
        }
    }

    static func append(_ item: TraceItem, format: TraceLine, to bytes: inout [UInt8]) {
        switch item {
        case let .opened(conn, at, info):
            bytes.append(contentsOf: format.opened(conn: conn, at: at, info: info).utf8)
            bytes.append(0x0A)
        case let .output(output):
            format.appendLines(for: output, to: &bytes)
        case let .closed(output, conn, at, reason):
            format.appendLines(for: output, to: &bytes)
            bytes.append(contentsOf: format.closed(conn: conn, at: at, reason: reason).utf8)
            bytes.append(0x0A)
        }
    }
}
