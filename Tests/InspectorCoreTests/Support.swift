@testable import InspectorCore
import NinePSession
import NinePWire
import Testing

/// Swift Testing has its own `Tag`; here it is always 9P's.
typealias Tag = NinePWire.Tag

/// The sample session's exchanges by row (see `SampleTraffic.mountAndWorkload`), named for tests.
enum Sample {
    static let version = 0, attach = 1, walkUsrLib = 2, lopenDir = 3, readdir = 4, walkPasswd = 5
    static let getattr = 6, lopenPasswd = 7, readPasswd = 8, walkMissing = 9, clunkPasswd = 10
    static let walkTmp = 11, lcreate = 12, write = 13, pendingRead = 14, flushedReaddir = 15, flush = 16
    static let injected = 17, badClunk = 18, statfs = 19
    static let count = 20

    /// A model fed with the sample session in one batch.
    static func model(scanBudget: Int = 20_000) -> InspectorModel {
        var m = InspectorModel(scanBudget: scanBudget)
        m.handle(SampleTraffic.session())
        return m
    }

    /// Rows matching `filter` after the scan completes.
    static func rows(_ model: InspectorModel, _ filter: String) throws -> [Int] {
        var m = model
        m.setFilter(try FilterParser.parse(filter))
        while !m.continueScan() {}
        return (0..<m.view.count).map { m.view[$0] }
    }
}
