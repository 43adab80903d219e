// NinePSession — the pure tracker state machine shared by `decode`, the proxy, the REPL and replay.
//
// Entry point: `SessionTracker` (events in, `TrackerOutput` out; time is a parameter). Results:
// `TracedMessage` (one per frame or garbage run), `Exchange` (a T/R pair by tag), `FidEntry` (the fid
// table), `Anomaly`, `ConnectionSummary`. For injection: `TagAllocator`, `FidAllocator`.
