import Testing
import NinePWire
@testable import NinePREPL

/// The note of replies that are errors where the capture has none says which of them the lines after it
/// show: all (before, with no earlier fid to blame, always "the first:", over a list of two), or the first
/// few.
@Test func theNoteOfNewErrorsSaysWhichItLists() {
    func errors(_ count: Int, following: Int) -> [String] {
        var r = ReplayReport(total: 20, sent: 20, answered: 20, compared: 0, differences: [], problems: [])
        r.newErrors = count
        r.newErrorsFollowing = following
        r.firstNewErrors = (0..<min(3, count - following)).map {
            ReplayDifference(step: $0, connection: 0, request: "Tclunk tag 0 fid \($0)", captured: "Rclunk tag 0",
                             replayed: "Rlerror tag 0 ecode 9 EBADF", fields: [])
        }
        return r.lines().filter { $0.hasPrefix("note: ") }
    }
    let start = "replies are errors where the capture has none (--diff compares every reply)"
    #expect(errors(1, following: 0) == ["note: 1 reply is an error where the capture has none (--diff compares every reply):"])
    #expect(errors(2, following: 0) == ["note: 2 \(start):"])
    #expect(errors(5, following: 0) == ["note: 5 \(start); the first 3:"])
    #expect(errors(3, following: 2) == ["note: 3 \(start); 2 of them only follow from an earlier one (a fid it left "
                                        + "otherwise); the other:"])
    #expect(errors(4, following: 1) == ["note: 4 \(start); 1 of them only follows from an earlier one (a fid it left "
                                        + "otherwise); the 3 others:"])
    #expect(errors(9, following: 4) == ["note: 9 \(start); 4 of them only follow from an earlier one (a fid it left "
                                        + "otherwise); the first 3 of the 5 others:"])
    #expect(errors(2, following: 2) == ["note: 2 \(start); all of them only follow from an earlier one (a fid it left "
                                        + "otherwise)"])
}
