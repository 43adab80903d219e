import Testing
import NinePWire
@testable import NinePREPL

private func attr(path: UInt64 = 2, mtime: UInt64 = 0, size: UInt64 = 5, version: UInt32 = 0) -> Fcall {
    Fcall(tag: 1, .rgetattr(Rgetattr(valid: .basic, qid: Qid(type: .file, version: version, path: path), mode: 0o100644,
                                     size: size, atimeSec: mtime, mtimeSec: mtime, ctimeSec: mtime)))
}

@Test func defaultsIgnoreTimesAndQidVersion() {
    var c = ReplyComparator()
    #expect(c.compare(captured: attr(mtime: 1, version: 1), replayed: attr(mtime: 99, version: 7)).isEmpty)
    var strict = ReplyComparator(ignore: [])
    let diffs = strict.compare(captured: attr(mtime: 1, version: 1), replayed: attr(mtime: 99, version: 7))
    #expect(Set(diffs.map(\.field)) == ["qid.version", "atime_sec", "mtime_sec", "ctime_sec"])
}

@Test func realDifferencesAreReported() {
    var c = ReplyComparator()
    let diffs = c.compare(captured: attr(size: 5), replayed: attr(size: 6))
    #expect(diffs == [FieldDifference(field: "size", captured: "5", replayed: "6")])
    let type = c.compare(captured: Fcall(tag: 1, .rwalk(Rwalk(wqids: []))), replayed: Fcall(tag: 1, .rlerror(Rlerror(ecode: .ENOENT))))
    #expect(type.map(\.field) == ["type"])
    let data = c.compare(captured: Fcall(tag: 1, .rread(Rread(data: [1, 2]))), replayed: Fcall(tag: 2, .rread(Rread(data: [1, 3]))))
    #expect(data.map(\.field) == ["data"])
}

@Test func qidPathsMustMapOneToOne() {
    var c = ReplyComparator()
    #expect(c.compare(captured: attr(path: 1), replayed: attr(path: 100)).isEmpty)
    #expect(c.compare(captured: attr(path: 1), replayed: attr(path: 100)).isEmpty)
    #expect(c.compare(captured: attr(path: 2), replayed: attr(path: 200)).isEmpty)
    // Captured file 3 comes back with the number of file 1: inconsistent.
    #expect(c.compare(captured: attr(path: 3), replayed: attr(path: 100)).map(\.field) == ["qid.path"])
    // Captured file 1 comes back with a new number: inconsistent too.
    #expect(c.compare(captured: attr(path: 1), replayed: attr(path: 101)).map(\.field) == ["qid.path"])
    var literal = ReplyComparator(ignore: IgnoreRule.defaults.subtracting([.qidPath]))
    #expect(literal.compare(captured: attr(path: 1), replayed: attr(path: 100)).map(\.description)
            == ["qid.path: captured 0x1, replayed 0x64"])
    #expect(literal.compare(captured: attr(path: 1), replayed: attr(path: 100)).map(\.field) == ["qid.path"])
}

@Test func walkQidsComparedElementwise() {
    var c = ReplyComparator(ignore: [])
    let a = Fcall(tag: 1, .rwalk(Rwalk(wqids: [Qid(type: .dir, path: 1), Qid(path: 2)])))
    let b = Fcall(tag: 1, .rwalk(Rwalk(wqids: [Qid(type: .dir, path: 1), Qid(type: .dir, path: 2)])))
    #expect(c.compare(captured: a, replayed: b).map(\.field) == ["wqid[1].type"])
    let short = Fcall(tag: 1, .rwalk(Rwalk(wqids: [Qid(type: .dir, path: 1)])))
    #expect(c.compare(captured: a, replayed: short).map(\.field) == ["wqid"])
}

@Test func readdirEntries() {
    func dir(_ entries: [(String, UInt64)]) -> Fcall {
        Fcall(tag: 1, .rreaddir(Rreaddir(data: Dirent.encodeAll(entries.enumerated().map { i, e in
            Dirent(qid: Qid(path: UInt64(i + 10)), offset: e.1, type: 8, name: P9String(e.0)) }))))
    }
    var c = ReplyComparator()
    #expect(c.compare(captured: dir([("a", 1), ("b", 2)]), replayed: dir([("a", 50), ("b", 60)])).isEmpty)
    #expect(c.compare(captured: dir([("a", 1), ("b", 2)]), replayed: dir([("b", 1), ("a", 2)])).map(\.field) == ["names"])
    var unordered = ReplyComparator(ignore: IgnoreRule.defaults.union([.direntOrder]))
    let d = unordered.compare(captured: dir([("a", 1), ("b", 2)]), replayed: dir([("b", 1), ("a", 2)]))
    #expect(!d.contains { $0.field == "names" })
    var strict = ReplyComparator(ignore: [.qidPath])
    #expect(strict.compare(captured: dir([("a", 1)]), replayed: dir([("a", 9)])).map(\.field) == ["entries[0].offset"])
}

@Test func ignoreRuleSpecs() throws {
    #expect(try IgnoreRule.parse("") == IgnoreRule.defaults)
    #expect(try IgnoreRule.parse("none") == [])
    #expect(try IgnoreRule.parse("all") == Set(IgnoreRule.allCases))
    #expect(try IgnoreRule.parse("default,-times,owner") == IgnoreRule.defaults.subtracting([.times]).union([.owner]))
    #expect(try IgnoreRule.parse("none,qid.version") == [.qidVersion])
    let e = try #require(throws: ParseError.self) { try IgnoreRule.parse("times,bogus") }
    #expect(e.column == 7)
    #expect(e.found == "bogus")
}

@Test func statfsAndIounitRules() {
    var c = ReplyComparator()
    let a = Fcall(tag: 1, .rstatfs(Rstatfs(type: 1, bsize: 2, blocks: 3, bfree: 4, bavail: 5, files: 6, ffree: 7, fsid: 8, namelen: 255)))
    let b = Fcall(tag: 1, .rstatfs(Rstatfs(type: 1, bsize: 2, blocks: 3, bfree: 40, bavail: 50, files: 6, ffree: 70, fsid: 80, namelen: 255)))
    #expect(c.compare(captured: a, replayed: b).isEmpty)
    let o1 = Fcall(tag: 1, .rlopen(Rlopen(qid: Qid(path: 1), iounit: 0)))
    let o2 = Fcall(tag: 1, .rlopen(Rlopen(qid: Qid(path: 1), iounit: 8168)))
    #expect(c.compare(captured: o1, replayed: o2).isEmpty)
    var strict = ReplyComparator(ignore: [])
    #expect(strict.compare(captured: o1, replayed: o2).map(\.field) == ["iounit"])
}

/// The `ename` rule: Rerror texts naming the same errno (9P2000.u's errno field, or what a 9P2000 text stands
/// for) are not a difference; other errnos, or texts that name none, are.
@Test func errorTextsNamingTheSameErrno() {
    var c = ReplyComparator()
    func rerror(_ text: String, _ errno: UInt32? = nil) -> Fcall { Fcall(tag: 1, .rerror(Rerror(ename: P9String(text), errno: errno))) }
    #expect(c.compare(captured: rerror("no such file or directory", 2), replayed: rerror("No such file or directory", 2),
                      dialect: .u).isEmpty)
    #expect(c.compare(captured: rerror("whatever", 2), replayed: rerror("something else", 2), dialect: .u).isEmpty)
    #expect(c.compare(captured: rerror("x", 2), replayed: rerror("x", 13), dialect: .u).map(\.field) == ["errno"])
    #expect(c.compare(captured: rerror("file does not exist"), replayed: rerror("No such file or directory"), dialect: .p9).isEmpty)
    #expect(c.compare(captured: rerror("file does not exist"), replayed: rerror("Permission denied"), dialect: .p9)
            .map(\.field) == ["ename"])
    #expect(c.compare(captured: rerror("my own words"), replayed: rerror("other words"), dialect: .p9).map(\.field) == ["ename"])
    var strict = ReplyComparator(ignore: IgnoreRule.defaults.subtracting([.ename]))
    #expect(strict.compare(captured: rerror("file does not exist"), replayed: rerror("No such file or directory"), dialect: .p9)
            .map(\.field) == ["ename"])
}

/// An Rlerror captured (diod) and an errno-only Rerror replayed (nfs-ganesha's errors in 9P2000.L), or the
/// reverse: the type differs, and the difference says whether the errnos agree (it said only "type: captured
/// Rlerror, replayed Rerror", whatever each carried).
@Test func anRlerrorAndAnRerrorSayWhetherTheirErrnosAgree() {
    var c = ReplyComparator()
    let rlerror = Fcall(tag: 1, .rlerror(Rlerror(ecode: .ENOENT)))
    let ganesha = { (n: UInt32) in Fcall(tag: 1, .rerror(Rerror(ename: nil, errno: n))) }
    #expect(c.compare(captured: rlerror, replayed: ganesha(2)).map(\.description)
            == ["type: captured Rlerror, replayed Rerror (the same errno, ENOENT; Rerror is not a 9P2000.L message)"])
    #expect(c.compare(captured: ganesha(5), replayed: rlerror).map(\.description)
            == ["type: captured Rerror, replayed Rlerror (errno EIO and ENOENT; Rerror is not a 9P2000.L message)"])
    // A reply that is no error keeps the plain form.
    #expect(c.compare(captured: Fcall(tag: 1, .rclunk), replayed: ganesha(5)).map(\.description)
            == ["type: captured Rclunk, replayed Rerror"])
}

/// Rgetattr `valid`: the bits of fields a rule leaves out (btime with `times`, gen and data_version with
/// `gen`) are left out with them — diod declares them all, filled with zeros; ninescope serve only BASIC.
@Test func getattrValidBitsOfIgnoredFields() {
    func attr(_ valid: GetattrMask) -> Fcall {
        Fcall(tag: 1, .rgetattr(Rgetattr(valid: valid, qid: Qid(type: .file, path: 2), mode: 0o100644, size: 5)))
    }
    var c = ReplyComparator()
    #expect(c.compare(captured: attr(.all), replayed: attr(.basic)).isEmpty)
    #expect(c.compare(captured: attr(.all), replayed: attr(GetattrMask(rawValue: GetattrMask.basic.rawValue & ~GetattrMask.size.rawValue)))
            .map(\.field) == ["valid"])
    var keepTimes = ReplyComparator(ignore: IgnoreRule.defaults.subtracting([.times]))
    #expect(keepTimes.compare(captured: attr(.all), replayed: attr(.basic)).map(\.field) == ["valid"])
}

/// A qid path that breaks the map says which captured path was already mapped to which replayed one (before:
/// `captured 0x3 (replayed before as nothing), replayed 0x64 (captured before as 0x1)`).
@Test func aBrokenQidPathMapIsSaidPlainly() {
    var c = ReplyComparator()
    _ = c.compare(captured: attr(path: 1), replayed: attr(path: 100))
    _ = c.compare(captured: attr(path: 2), replayed: attr(path: 200))
    let taken = c.compare(captured: attr(path: 3), replayed: attr(path: 100))
    #expect(taken.map(\.description) == ["qid.path: replayed 0x64 was already the reply for captured 0x1; captured 0x3 "
                                         + "had no replayed path yet"])
    #expect(taken.first?.captured == "0x3" && taken.first?.replayed == "0x64")
    #expect(c.compare(captured: attr(path: 1), replayed: attr(path: 101)).map(\.description)
            == ["qid.path: captured 0x1 was replayed before as 0x64, now as 0x65, a replayed path not seen before"])
    #expect(c.compare(captured: attr(path: 1), replayed: attr(path: 200)).map(\.description)
            == ["qid.path: captured 0x1 was replayed before as 0x64, now as 0xc8; replayed 0xc8 was already the reply "
                + "for captured 0x2"])
}

/// A removal frees a qid path, which one server gives the next file it makes and the other does not (a local
/// file system reuses inode numbers; the memory driver never does): after it, a path seen before may pair
/// anew. Before, `classic.9p` captured from the memory driver and replayed to the local one reported its
/// `dir1`, made after `classic.txt` was removed, as `replayed 0xfba1c2 was already the reply for captured 0xe`.
@Test func aQidPathFreedByARemovalMayPairAnew() {
    var c = ReplyComparator()
    _ = c.compare(captured: attr(path: 14), replayed: attr(path: 500))
    _ = c.compare(captured: attr(path: 2), replayed: attr(path: 200))
    c.noteRemoval()
    // The replayed server gives the removed file's number to a new file.
    #expect(c.compare(captured: attr(path: 15), replayed: attr(path: 500)).isEmpty)
    #expect(c.compare(captured: attr(path: 15), replayed: attr(path: 500)).isEmpty)
    // Without a removal since, a pair is held to: 15, seen after the removal, stays 500.
    #expect(c.compare(captured: attr(path: 16), replayed: attr(path: 500)).map(\.field) == ["qid.path"])
    // The captured server gives 2's number to a new file, after another removal.
    c.noteRemoval()
    #expect(c.compare(captured: attr(path: 2), replayed: attr(path: 201)).isEmpty)
    #expect(c.compare(captured: attr(path: 2), replayed: attr(path: 202)).map(\.field) == ["qid.path"])
    // What may remove: a remove, unlink or rename that either server did.
    let ok = Fcall(tag: 1, .rremove), refused = Fcall(tag: 1, .rlerror(Rlerror(ecode: .ENOENT)))
    #expect(ReplyComparator.mayRemove(.tremove(Tremove(fid: 1)), answeredBy: ok))
    #expect(!ReplyComparator.mayRemove(.tremove(Tremove(fid: 1)), answeredBy: refused))
    #expect(!ReplyComparator.mayRemove(.tremove(Tremove(fid: 1)), answeredBy: nil))
    #expect(ReplyComparator.mayRemove(.tunlinkat(Tunlinkat(dirfid: 1, name: "f", flags: 0)), answeredBy: Fcall(tag: 1, .runlinkat)))
    #expect(!ReplyComparator.mayRemove(.tclunk(Tclunk(fid: 1)), answeredBy: Fcall(tag: 1, .rclunk)))
}

/// Two long payloads that part after their first 64 bytes (what a value shows) say where, with the bytes from
/// there. Before, a read whose 64 KiB differed at byte 3000 showed the same 64 bytes twice.
@Test func longPayloadsSayWhereTheyPart() {
    var c = ReplyComparator()
    let a: [UInt8] = (0..<5000).map { (i: Int) -> UInt8 in UInt8(truncatingIfNeeded: i &* 7 &+ 1) }
    var b = a
    b[3000] ^= 0xFF
    let read = { (d: [UInt8]) in Fcall(tag: 1, .rread(Rread(data: d))) }
    let diffs = c.compare(captured: read(a), replayed: read(b))
    #expect(diffs.map(\.field) == ["data"])
    let hex = { (d: [UInt8]) -> String in
        let digits: [String] = d[3000..<3032].map { (x: UInt8) -> String in
            let h = String(x, radix: 16)
            return h.count == 1 ? "0" + h : h
        }
        return "0x" + digits.joined() + " … (+1968 bytes)"
    }
    #expect(diffs.first?.description == "data: 5000 bytes each; alike up to byte 3000, then captured \(hex(a)), replayed \(hex(b))")
    let shorter = c.compare(captured: read(a), replayed: read(Array(a.prefix(4000))))
    #expect(shorter.first?.description.hasPrefix("data: captured 5000 bytes, replayed 4000; alike up to byte 4000, then "
                                                  + "captured 0x") == true, "\(shorter)")
    #expect(shorter.first?.description.hasSuffix(", replayed nothing (it ends there)") == true, "\(shorter)")
    // Short payloads show whole, as before.
    #expect(c.compare(captured: read([1, 2]), replayed: read([1, 3])).first?.description == "data: captured 0x0102, replayed 0x0103")
}

/// A directory listed in another order (the local driver lists in ext4's hash order, the memory driver in the
/// order of creation) says that this is all, and which rule compares the entries as a set; other names say
/// only what they are, as before.
@Test func aDirectoryInAnotherOrderSaysSo() {
    func dir(_ names: [String]) -> Fcall {
        Fcall(tag: 1, .rreaddir(Rreaddir(data: Dirent.encodeAll(names.enumerated().map { i, n in
            Dirent(qid: Qid(path: UInt64(i + 10)), offset: UInt64(i + 1), type: 8, name: P9String(n)) }))))
    }
    var c = ReplyComparator()
    #expect(c.compare(captured: dir([".", "a", "b"]), replayed: dir(["b", ".", "a"])).map(\.description)
            == ["names: the same 3 names in another order (--ignore dirent.order compares them as a set): "
                + "captured ['.', 'a', 'b'], replayed ['b', '.', 'a']"])
    #expect(c.compare(captured: dir(["a", "b"]), replayed: dir(["a", "c"])).map(\.description)
            == ["names: captured ['a', 'b'], replayed ['a', 'c']"])
}
