/// What one event produced. Everything in it is a value snapshot taken after the event.
public struct TrackerOutput: Hashable, Sendable {
    /// The message the event added to the log (frames and garbage; nil for open/close).
    public var message: TracedMessage?
    /// Anomalies found while handling the event, in detection order.
    public var anomalies: [Anomaly]
    /// Exchanges created or changed by the event (request seen, reply matched, flushed, closed …).
    public var exchanges: [Exchange]
    /// Fid records created or changed by the event.
    public var fids: [FidEntry]

    public init(message: TracedMessage? = nil, anomalies: [Anomaly] = [], exchanges: [Exchange] = [],
                fids: [FidEntry] = []) {
        self.message = message; self.anomalies = anomalies; self.exchanges = exchanges; self.fids = fids
    }
}
