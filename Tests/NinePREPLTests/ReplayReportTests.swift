import Testing
import NinePWire
@testable import NinePREPL

private func getattrDifference(_ step: Int, type: String = "0x0") -> ReplayDifference {
    ReplayDifference(step: step, connection: 0, request: "Tgetattr tag 0 fid 1 request_mask 0x7ff BASIC",
                     captured: "Rgetattr tag 0 …", replayed: "Rgetattr tag 0 …",
                     fields: [FieldDifference(field: "qid.type", captured: "0x4", replayed: type)])
}

private func report(_ differences: [ReplayDifference]) -> ReplayReport {
    ReplayReport(total: 300, sent: 300, answered: 300, compared: 300, differences: differences, problems: [])
}

/// A server that answers every Tgetattr of a file with another qid type than the capture's makes the same
/// difference at each (234 of them, replayed to our server from diodload-burst.pcapng): the first is shown
/// in full, then how many more steps differ the same way, and which; the totals count every one.
@Test func alikeDifferencesAreShownOnceWithACount() {
    var differences = (0..<234).map { getattrDifference(10 + 2 * $0) }
    differences.insert(getattrDifference(11, type: "0x80"), at: 1)   // another difference: shown in full
    let lines = report(differences).lines()
    #expect(lines == [
        "step 10 (connection 0): Tgetattr tag 0 fid 1 request_mask 0x7ff BASIC",
        "  captured: Rgetattr tag 0 …",
        "  replayed: Rgetattr tag 0 …",
        "    qid.type: captured 0x4, replayed 0x0",
        "  … and 233 more steps differ the same way (steps 12, 14, 16, …, 476)",
        "step 11 (connection 0): Tgetattr tag 0 fid 1 request_mask 0x7ff BASIC",
        "  captured: Rgetattr tag 0 …",
        "  replayed: Rgetattr tag 0 …",
        "    qid.type: captured 0x4, replayed 0x80",
        "replayed 300 of 300 requests, 300 answered, 300 compared, 235 differ",
    ], "\(lines)")

    let two = report([getattrDifference(3), getattrDifference(5)]).lines()
    #expect(two.contains("  … and 1 more step differs the same way (step 5)"), "\(two)")
    #expect(!two.contains { $0.hasPrefix("step 5 ") })

    // Unanswered requests and those that follow from an earlier step are one line each already: left alone.
    var none = getattrDifference(7)
    none.replayed = nil
    none.fields = []
    var after = none
    after.step = 8
    #expect(report([none, after]).lines().filter { $0.hasPrefix("step ") }.count == 2)
}

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

/// `replay --json`: every difference as its own line (the alike ones too, which the text folds into a count),
/// one with no reply as `"replayed":null`, one that follows from an earlier step with that step; each problem
/// and note (a note's listed steps with it); and a summary last whose counts and exit status are the text's.
@Test func theReportAsJSONLinesHoldsWhatTheTextSays() throws {
    var r = report((0..<3).map { getattrDifference(10 + 2 * $0) })
    var unanswered = getattrDifference(20)
    unanswered.replayed = nil
    unanswered.fields = []
    var following = unanswered
    following.step = 21
    following.replayed = "Rlerror tag 0 ecode 9 EBADF"
    following.follows = DivergedFid(step: 4, fid: 7, how: "was not made")
    r.differences += [unanswered, following]
    r.problems = ["connection 0: nothing arrived for 10000 ms; 1 request unanswered"]
    r.compared = 0
    r.newErrors = 2
    r.newErrorsFollowing = 1
    r.firstNewErrors = [ReplayDifference(step: 9, connection: 1, request: "Tclunk tag 3 fid 2", captured: "Rclunk tag 3",
                                         replayed: "Rlerror tag 3 ecode 9 EBADF", fields: [])]
    let lines = r.jsonLines()
    #expect(lines.count == 5 + 1 + 1 + 1, "\(lines)")
    #expect(lines[0] == #"{"event":"difference","step":10,"conn":0,"request":"Tgetattr tag 0 fid 1 request_mask 0x7ff BASIC","captured":"Rgetattr tag 0 …","replayed":"Rgetattr tag 0 …","fields":[{"field":"qid.type","captured":"0x4","replayed":"0x0"}]}"#)
    #expect(lines[2].contains(#""step":14,"#))
    #expect(lines[3].contains(#""step":20,"#) && lines[3].contains(#""replayed":null}"#), "\(lines[3])")
    #expect(lines[4].hasSuffix(#","follows":{"step":4,"fid":7,"how":"was not made"}}"#), "\(lines[4])")
    #expect(lines[5] == #"{"event":"problem","text":"connection 0: nothing arrived for 10000 ms; 1 request unanswered"}"#)
    let note = try #require(r.notes().last)
    #expect(lines[6].hasPrefix(#"{"event":"note","text":""# + note.text + #"","steps":[{"step":9,"conn":1,"request":"Tclunk tag 3 fid 2","#), "\(lines[6])")
    #expect(lines[7].hasPrefix(#"{"event":"summary","requests":300,"sent":300,"answered":300,"compared":0,"differ":5,"differ_following":1,"new_errors":2,"new_errors_following":1,"#), "\(lines[7])")
    #expect(lines[7].hasSuffix(#""exit_status":1,"text":""# + r.summary + #""}"#), "\(lines[7])")
    // The text form says the same: the note and its step, the summary line.
    let text = r.lines()
    #expect(text.contains("note: " + note.text))
    #expect(text.contains("  step 9 (connection 1): Tclunk tag 3 fid 2 → Rlerror tag 3 ecode 9 EBADF"))
    #expect(text.last == r.summary)
}
