import Foundation
import NinePTestSupport

/// Field-by-field comparison of `ninescope decode --json` with tshark's 9P dissector (Wireshark 4.0 here).
///
/// Each message tshark shows becomes a map from its field name (`9p.qidpath`) to the values it shows, in
/// order (read from its PDML). Each of ours becomes the same map from its `--json` fields by the table in
/// `expected(_:)`, written from the wire layouts of the manuals (reference/MESSAGES.md) and the fields
/// tshark names (`tshark -G fields`). The maps must be equal: every field tshark shows, with the same value
/// (numbers whatever their base, times as seconds and nanoseconds), and every field of ours that tshark
/// should show, except the exceptions below.
///
/// Where tshark decodes less or otherwise than the protocol (each checked against the spec: ours follows
/// it), the difference is a named `Exception`, stated exactly: what tshark shows there instead is still
/// compared (the bytes it leaves undecoded as `9p.message_data`), so a change on either side is seen.
enum TsharkFields {
    /// What tshark's 9P dissector (4.0) does not decode as the protocol has it. README's section on tshark
    /// lists the same.
    enum Exception: String, CaseIterable, Sendable {
        /// Rlerror (7) has no decoder: its `ecode[4]` is shown as undecoded data.
        case rlerrorUndecoded = "Rlerror's ecode is shown as undecoded data (tshark has no Rlerror decoder)"
        /// Tflush's `oldtag[2]` is shown, then the same two bytes again as undecoded data.
        case tflushOldtagTwice = "Tflush's oldtag is shown, and its two bytes again as undecoded data"
        /// Tauth's `n_uname[4]` (9P2000.u and .L) is not decoded (Tattach's is, as `9p.uid`).
        case tauthNUname = "Tauth's n_uname (9P2000.u, 9P2000.L) is shown as undecoded data"
        /// Rerror's `errno[4]` (9P2000.u) is not decoded.
        case rerrorErrno = "Rerror's errno (9P2000.u) is shown as undecoded data"
        /// The 9P2000.u tail of a stat (Rstat, Twstat): `extension[s] n_uid[4] n_gid[4] n_muid[4]`.
        case statUnixTail = "a stat's 9P2000.u tail (extension, n_uid, n_gid, n_muid) is shown as undecoded data"
        /// Tcreate's `extension[s]` (9P2000.u) is shown as the 4 bytes after its length, whatever the length:
        /// a longer one cut to 4 bytes, a shorter one (a plain file's is empty) marks the message malformed.
        case tcreateExtension = "Tcreate's extension (9P2000.u) is shown as 4 bytes whatever its length (shorter: malformed)"
        /// Tfsync's `datasync[4]` is not decoded.
        case tfsyncDatasync = "Tfsync's datasync is shown as undecoded data"
        /// Tgetlock and Rgetlock are decoded as Tlock, with a `flags[4]` after `type[1]` that they do not
        /// have: every field after type is read 4 bytes off, client_id is not shown, and the message is
        /// marked malformed.
        case getlockAsTlock = "Tgetlock and Rgetlock are read as Tlock (a flags[4] they lack): start, length, proc_id misread, marked malformed"
        /// Rread's and Twrite's data, Rreaddir's entries and a 9P2000 directory Rread's stat entries are not
        /// decoded (tshark shows the count only).
        case dataNotShown = "Rread/Twrite data and Rreaddir/directory-Rread entries are not shown (count only)"
    }

    /// One 9P message as tshark shows it.
    struct Shown {
        var fields: [String: [String]]
        var type: Int? { fields["9p.msgtype"]?.first.flatMap(Int.init) }
        var tag: Int? { fields["9p.tag"]?.first.flatMap(Int.init) }
    }

    /// What came of comparing a capture.
    struct Report {
        var compared = 0
        /// Message type names compared, with how many of each.
        var types: [String: Int] = [:]
        /// Exceptions that applied, with how many messages each.
        var exceptions: [Exception: Int] = [:]
        var mismatches: [String] = []
    }

    /// tshark's messages in capture order (nil when tshark is missing or fails), read from its PDML, which
    /// keeps every field in order (its JSON merges fields of one name and JSONSerialization loses the order
    /// of the rest).
    static func shown(file: String, port: UInt16) throws -> [Shown]? {
        guard let tshark = Peers.which("tshark") else { return nil }
        var env = ProcessInfo.processInfo.environment
        env["TZ"] = "UTC"   // times are shown in local time
        let r = try Peers.run(tshark, ["-n", "-r", file, "-d", "tcp.port==\(port),9p", "-T", "pdml", "-Y", "9p"],
                              environment: env)
        guard r.status == 0 else { return nil }
        return parsePDML(r.out)
    }

    /// The 9p protos of PDML, one field a line as tshark writes it. A field nested in a named 9p field (the
    /// bits of a flag word, a string's length) is left out: the field itself is compared. Fields in unnamed
    /// subtrees (a qid) are kept.
    static func parsePDML(_ text: String) -> [Shown] {
        var out: [Shown] = []
        var current: [String: [String]]?
        var stack: [String] = []   // names of the open fields
        for raw in text.split(separator: "\n") {
            let line = raw.drop { $0 == " " }
            if line.hasPrefix("<proto name=\"9p\"") { current = [:]; stack = []; continue }
            if line.hasPrefix("<proto name=\"_ws.malformed\""), current == nil, !out.isEmpty {
                out[out.count - 1].fields["_ws.malformed"] = [""]
            }
            guard current != nil else { continue }
            if line.hasPrefix("</proto>") { out.append(Shown(fields: current!)); current = nil; continue }
            if line.hasPrefix("</field>") { _ = stack.popLast(); continue }
            guard line.hasPrefix("<field ") else { continue }
            let name = attribute("name", in: line) ?? ""
            if name.hasPrefix("_ws.malformed") || name.hasPrefix("_ws.expert") { current![name, default: []].append("") }
            if !name.isEmpty, stack.allSatisfy(\.isEmpty), let show = attribute("show", in: line) {
                current![name, default: []].append(show)
            }
            if !line.hasSuffix("/>") { stack.append(name) }
        }
        return out
    }

    private static func attribute(_ name: String, in line: Substring) -> String? {
        guard let r = line.range(of: " \(name)=\"") else { return nil }
        let rest = line[r.upperBound...]
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        return unescape(rest[..<end])
    }

    private static func unescape(_ s: Substring) -> String {
        guard s.contains("&") else { return String(s) }
        var out = "", i = s.startIndex
        while i < s.endIndex {
            if s[i] == "&", let semi = s[i...].firstIndex(of: ";") {
                let entity = s[s.index(after: i)..<semi]
                switch entity {
                case "quot": out += "\""
                case "amp": out += "&"
                case "lt": out += "<"
                case "gt": out += ">"
                case "apos": out += "'"
                default:
                    if entity.hasPrefix("#x"), let v = UInt32(entity.dropFirst(2), radix: 16), let u = Unicode.Scalar(v) {
                        out.unicodeScalars.append(u)
                    } else if entity.hasPrefix("#"), let v = UInt32(entity.dropFirst()), let u = Unicode.Scalar(v) {
                        out.unicodeScalars.append(u)
                    } else { out += "&" + entity + ";" }
                }
                i = s.index(after: semi)
            } else {
                out.append(s[i]); i = s.index(after: i)
            }
        }
        return out
    }

    /// Compares `decode --json`'s messages (those with `"event":"message"`) with tshark's, one by one.
    static func compare(ours: [[String: Any]], theirs: [Shown]) -> Report {
        var report = Report()
        if ours.count != theirs.count {
            report.mismatches.append("ninescope decoded \(ours.count) messages, tshark \(theirs.count)")
        }
        for (i, (o, t)) in zip(ours, theirs).enumerated() {
            let name = o["type"] as? String ?? "?"
            let (want, exceptions) = expected(o)
            var got = t.fields
            got["9p.msgtype.unknown"] = nil
            for (k, v) in got where timeFields.contains(k) { got[k] = v.map(seconds) }
            for (k, v) in got where !stringFields.contains(k) && !timeFields.contains(k) { got[k] = v.map(decimal) }
            report.compared += 1
            report.types[name, default: 0] += 1
            for e in exceptions { report.exceptions[e, default: 0] += 1 }
            if got != want {
                let keys = Set(got.keys).union(want.keys).sorted()
                let diffs = keys.filter { got[$0] != want[$0] }.map {
                    "\($0): tshark \(got[$0].map { "\($0)" } ?? "-"), ninescope \(want[$0].map { "\($0)" } ?? "-")"
                }
                report.mismatches.append("message \(i) (\(name) tag \(o["tag"] ?? "?")): " + diffs.joined(separator: "; "))
            }
        }
        return report
    }

    private static let stringFields: Set<String> = [
        "9p.version", "9p.uname", "9p.aname", "9p.ename", "9p.wname", "9p.filename", "9p.user", "9p.group",
        "9p.muid", "9p.extension", "9p.message_data",
    ]
    private static let timeFields: Set<String> = ["9p.atime", "9p.mtime", "9p.ctime", "9p.btime"]

    /// A number as tshark shows it (decimal, or hex with 0x) in decimal.
    private static func decimal(_ s: String) -> String {
        if s.hasPrefix("0x"), let v = UInt64(s.dropFirst(2), radix: 16) { return String(v) }
        return s
    }

    /// A time as tshark shows it in UTC (`Dec  7, 2026 21:47:17.174583447 UTC`) as `SECONDS.NANOSECONDS`
    /// since the epoch; the text itself when it is not one.
    static func seconds(_ s: String) -> String {
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let words = s.split(separator: " ")
        guard words.count == 5, words[4] == "UTC", let month = months.firstIndex(of: String(words[0])),
              let day = Int(words[1].dropLast()), let year = Int(words[2]) else { return s }
        let clock = words[3].split(separator: ".")
        let hms = clock[0].split(separator: ":").compactMap { Int($0) }
        guard hms.count == 3, clock.count == 2, clock[1].count == 9 else { return s }
        // Days from 1970-01-01 to the date (proleptic Gregorian).
        let y = month < 2 ? year - 1 : year, m = month < 2 ? month + 13 : month + 1
        let days = 365 * y + y / 4 - y / 100 + y / 400 + (153 * (m - 3) + 2) / 5 + day - 1 - 719_468
        let secs = days * 86_400 + hms[0] * 3600 + hms[1] * 60 + hms[2]
        return "\(secs).\(clock[1])"
    }

    /// Little-endian bytes as tshark shows undecoded data (`02:00:00:00`).
    static func bytes(_ v: UInt64, _ n: Int) -> String {
        (0..<n).map { String(format: "%02x", (v >> (8 * UInt64($0))) & 0xff) }.joined(separator: ":")
    }

    /// The fields tshark shows for one of our messages (header included: type and tag), and the exceptions
    /// that apply to it.
    static func expected(_ o: [String: Any]) -> ([String: [String]], [Exception]) {
        var e = Expect()
        let f = o["fields"] as? [String: Any] ?? [:]
        let code = o["typecode"] as? Int ?? -1
        e.add("9p.msglen", o["size"])
        e.add("9p.msgtype", code)
        e.add("9p.tag", o["tag"])
        switch code {
        case 100, 101: e.add("9p.maxsize", f["msize"]); e.add("9p.version", f["version"])
        case 102:
            e.add("9p.afid", f["afid"]); e.add("9p.uname", f["uname"]); e.add("9p.aname", f["aname"])
            if let n = int(f["n_uname"]) { e.data(bytes(n, 4), .tauthNUname) }
        case 103: e.qid(f["aqid"])
        case 104:
            e.add("9p.fid", f["fid"]); e.add("9p.afid", f["afid"]); e.add("9p.uname", f["uname"])
            e.add("9p.aname", f["aname"])
            if f["n_uname"] != nil { e.add("9p.uid", f["n_uname"]) }
        case 105, 17, 19, 73: e.qid(f["qid"])
        case 107 where f["ename"] == nil:
            // errno[4] alone (a 9P2000.L Rerror, as nfs-ganesha sends): tshark too reads it as an errno.
            e.add("9p.enum", value(f["errno"]))
        case 107:
            e.add("9p.ename", f["ename"])
            if let n = value(f["errno"]) { e.data(bytes(n, 4), .rerrorErrno) }
        case 7: e.data(bytes(value(f["ecode"]) ?? 0, 4), .rlerrorUndecoded)
        case 108: e.add("9p.oldtag", f["oldtag"]); e.data(bytes(int(f["oldtag"]) ?? 0, 2), .tflushOldtagTwice)
        case 110:
            e.add("9p.fid", f["fid"]); e.add("9p.newfid", f["newfid"]); e.add("9p.nwalk", f["nwname"])
            for w in f["wname"] as? [Any] ?? [] { e.add("9p.wname", w) }
        case 111:
            e.add("9p.nqid", f["nwqid"])
            for q in f["wqid"] as? [Any] ?? [] { e.qid(q) }
        case 112: e.add("9p.fid", f["fid"]); e.add("9p.mode", value(f["mode"]))
        case 113, 115, 13, 15: e.qid(f["qid"]); e.add("9p.iounit", f["iounit"])
        case 114:
            e.add("9p.fid", f["fid"]); e.add("9p.filename", f["name"]); e.add("9p.perm", value(f["perm"]))
            e.add("9p.mode", value(f["mode"]))
            if let ext = f["extension"] as? String {
                // Always 4 bytes from the string's start, whatever its length.
                let bytes = (f["extension_hex"] as? String).map(Self.hexBytes) ?? Array(ext.utf8)
                if bytes.count >= 4 { e.add("9p.extension", String(decoding: bytes.prefix(4), as: UTF8.self)) }
                else { e.fields["_ws.malformed"] = [""] }
                e.exceptions.append(.tcreateExtension)
            }
        case 116, 40: e.add("9p.fid", f["fid"]); e.add("9p.offset", f["offset"]); e.add("9p.count", f["count"])
        case 117, 41:
            e.add("9p.count", f["count"])
            if int(f["count"]) != 0 { e.exceptions.append(.dataNotShown) }
        case 118:
            e.add("9p.fid", f["fid"]); e.add("9p.offset", f["offset"]); e.add("9p.count", f["count"])
            if int(f["count"]) != 0 { e.exceptions.append(.dataNotShown) }
        case 119: e.add("9p.count", f["count"])
        case 120, 122, 124, 8, 22: e.add("9p.fid", f["fid"])
        case 125: e.stat(f["stat"], nstat: true)
        case 126: e.add("9p.fid", f["fid"]); e.stat(f["stat"], nstat: true)
        case 9:
            e.add("9p.fstype", f["type"]); e.add("9p.blksize", f["bsize"]); e.add("9p.blocks", f["blocks"])
            e.add("9p.bfree", f["bfree"]); e.add("9p.bavail", f["bavail"]); e.add("9p.files", f["files"])
            e.add("9p.ffree", f["ffree"]); e.add("9p.fsid", f["fsid"]); e.add("9p.namelen", f["namelen"])
        case 12: e.add("9p.fid", f["fid"]); e.add("9p.statmode", value(f["flags"]))
        case 14:
            e.add("9p.fid", f["fid"]); e.add("9p.filename", f["name"]); e.add("9p.lcreate.flags", value(f["flags"]))
            e.add("9p.statmode", f["mode"]); e.add("9p.gid", f["gid"])
        case 16:
            e.add("9p.fid", f["fid"]); e.add("9p.wname", f["name"]); e.add("9p.wname", f["symtgt"]); e.add("9p.gid", f["gid"])
        case 18:
            e.add("9p.fid", f["dfid"]); e.add("9p.wname", f["name"]); e.add("9p.statmode", f["mode"])
            e.add("9p.mknod.major", f["major"]); e.add("9p.mknod.minor", f["minor"]); e.add("9p.gid", f["gid"])
        case 20: e.add("9p.fid", f["fid"]); e.add("9p.dfid", f["dfid"]); e.add("9p.wname", f["name"])
        case 23: e.add("9p.wname", f["target"])
        case 24: e.add("9p.fid", f["fid"]); e.add("9p.getattr.flags", value(f["request_mask"]))
        case 25:
            e.add("9p.getattr.flags", value(f["valid"])); e.qid(f["qid"]); e.add("9p.statmode", f["mode"])
            for k in ["uid", "gid", "nlink", "rdev", "size", "blksize", "blocks"] { e.add("9p." + k, f[k]) }
            for t in ["atime", "mtime", "ctime", "btime"] { e.time("9p." + t, f[t + "_sec"], f[t + "_nsec"]) }
            e.add("9p.gen", f["gen"]); e.add("9p.dataversion", f["data_version"])
        case 26:
            e.add("9p.fid", f["fid"]); e.add("9p.setattr.flags", value(f["valid"])); e.add("9p.statmode", f["mode"])
            e.add("9p.uid", f["uid"]); e.add("9p.gid", f["gid"]); e.add("9p.size", f["size"])
            e.time("9p.atime", f["atime_sec"], f["atime_nsec"]); e.time("9p.mtime", f["mtime_sec"], f["mtime_nsec"])
        case 30: e.add("9p.fid", f["fid"]); e.add("9p.newfid", f["newfid"]); e.add("9p.wname", f["name"])
        case 31: e.add("9p.size", f["size"])
        case 32:
            e.add("9p.fid", f["fid"]); e.add("9p.wname", f["name"]); e.add("9p.size", f["attr_size"])
            e.add("9p.xattr.flag", value(f["flags"]))
        case 50: e.add("9p.fid", f["fid"]); e.data(bytes(int(f["datasync"]) ?? 0, 4), .tfsyncDatasync)
        case 52:
            e.add("9p.fid", f["fid"]); e.add("9p.lock.type", value(f["type"])); e.add("9p.lock.flag", value(f["flags"]))
            e.add("9p.lock.start", f["start"]); e.add("9p.lock.length", f["length"])
            e.add("9p.lock.procid", f["proc_id"]); e.add("9p.wname", f["client_id"])
        case 53: e.add("9p.lock.status", value(f["status"]))
        case 54, 55: e.getlockAsTlock(f, request: code == 54)
        case 70: e.add("9p.dfid", f["dfid"]); e.add("9p.fid", f["fid"]); e.add("9p.wname", f["name"])
        case 72:
            e.add("9p.fid", f["dfid"]); e.add("9p.wname", f["name"]); e.add("9p.statmode", f["mode"]); e.add("9p.gid", f["gid"])
        case 74:
            e.add("9p.dfid", f["olddirfid"]); e.add("9p.wname", f["oldname"])
            e.add("9p.newfid", f["newdirfid"]); e.add("9p.wname", f["newname"])
        case 76: e.add("9p.dfid", f["dirfd"]); e.add("9p.wname", f["name"]); e.add("9p.unlinkat.flags", value(f["flags"]))
        default: break   // replies without fields
        }
        if o["entries"] != nil || f["entries"] != nil, !e.exceptions.contains(.dataNotShown) {
            e.exceptions.append(.dataNotShown)
        }
        return (e.fields, e.exceptions)
    }

    static func hexBytes(_ hex: String) -> [UInt8] {
        let digits = Array(hex.utf8)
        return stride(from: 0, to: digits.count - 1, by: 2).compactMap {
            UInt8(String(decoding: digits[$0...$0 + 1], as: UTF8.self), radix: 16)
        }
    }

    private static func int(_ v: Any?) -> UInt64? {
        if let n = v as? NSNumber { return n.uint64Value }
        return nil
    }
    /// A flag word's or named value's number (`{"value": n, …}`), or a plain number.
    private static func value(_ v: Any?) -> UInt64? {
        if let o = v as? [String: Any] { return int(o["value"]) }
        return int(v)
    }

    struct Expect {
        var fields: [String: [String]] = [:]
        var exceptions: [Exception] = []

        mutating func add(_ k: String, _ v: Any?) {
            if let n = v as? NSNumber, !(v is String) { fields[k, default: []].append(n.stringValue) }
            else if let n = v as? UInt64 { fields[k, default: []].append(String(n)) }
            else if let n = v as? Int { fields[k, default: []].append(String(n)) }
            else if let s = v as? String { fields[k, default: []].append(s) }
            else { fields[k, default: []].append("<ninescope has no value>") }
        }
        mutating func qid(_ v: Any?) {
            let q = v as? [String: Any] ?? [:]
            add("9p.qidtype", q["type"]); add("9p.qidvers", q["version"]); add("9p.qidpath", q["path"])
        }
        mutating func time(_ k: String, _ sec: Any?, _ nsec: Any?) {
            let s = TsharkFields.int(sec) ?? 0, n = TsharkFields.int(nsec) ?? 0
            fields[k, default: []].append("\(s).\(String(format: "%09llu", n))")
        }
        /// Bytes tshark leaves undecoded, under an exception.
        mutating func data(_ hex: String, _ why: Exception) {
            fields["9p.message_data", default: []].append(hex)
            exceptions.append(why)
        }
        /// A stat: its `size[2]` (and the message's `nstat[2]` before it) as the encoding of its fields
        /// gives them — our decoder refuses a stat whose sizes disagree with its contents.
        mutating func stat(_ v: Any?, nstat: Bool) {
            let s = v as? [String: Any] ?? [:]
            func len(_ k: String) -> Int { (s[k + "_hex"] as? String).map { $0.count / 2 } ?? (s[k] as? String)?.utf8.count ?? 0 }
            var size = 2 + 4 + 13 + 4 + 4 + 4 + 8 + 8 + len("name") + len("uid") + len("gid") + len("muid")
            let unix = s["extension"] != nil
            if unix { size += 2 + len("extension") + 12 }
            if nstat { add("9p.paramsz", size + 2) }
            add("9p.sdlen", size)
            add("9p.stattype", s["type"]); add("9p.dev", s["dev"]); qid(s["qid"])
            add("9p.statmode", TsharkFields.value(s["mode"]))
            time("9p.atime", s["atime"], 0); time("9p.mtime", s["mtime"], 0)
            add("9p.length", s["length"]); add("9p.filename", s["name"]); add("9p.user", s["uid"])
            add("9p.group", s["gid"]); add("9p.muid", s["muid"])
            if unix {
                let ext = (s["extension_hex"] as? String).map(TsharkFields.hexBytes)
                    ?? Array(((s["extension"] as? String) ?? "").utf8)
                var raw = [UInt8(ext.count & 0xff), UInt8(ext.count >> 8)] + ext
                for k in ["n_uid", "n_gid", "n_muid"] {
                    let n = TsharkFields.int(s[k]) ?? 0
                    raw += (0..<4).map { UInt8((n >> (8 * UInt64($0))) & 0xff) }
                }
                data(raw.map { String(format: "%02x", $0) }.joined(separator: ":"), .statUnixTail)
            }
        }
        /// Tgetlock `fid[4] type[1] start[8] length[8] proc_id[4] client_id[s]` and Rgetlock (no fid) as
        /// tshark reads them, as Tlock `… type[1] flags[4] start[8] length[8] proc_id[4]`, from our fields'
        /// bytes; client_id is not shown.
        mutating func getlockAsTlock(_ f: [String: Any], request: Bool) {
            if request { add("9p.fid", f["fid"]) }
            let type = TsharkFields.value(f["type"]) ?? 0
            var raw: [UInt8] = []
            for (k, n) in [("start", 8), ("length", 8), ("proc_id", 4)] {
                let v = TsharkFields.int(f[k]) ?? 0
                raw += (0..<n).map { UInt8((v >> (8 * UInt64($0))) & 0xff) }
            }
            let client = Array(((f["client_id"] as? String) ?? "").utf8)
            raw += [UInt8(client.count & 0xff), UInt8(client.count >> 8)] + client
            func le(_ at: Int, _ n: Int) -> UInt64 {
                (0..<n).reduce(UInt64(0)) { acc, i in at + i < raw.count ? acc | UInt64(raw[at + i]) << (8 * UInt64(i)) : acc }
            }
            add("9p.lock.type", type)
            add("9p.lock.flag", le(0, 4)); add("9p.lock.start", le(4, 8)); add("9p.lock.length", le(12, 8))
            add("9p.lock.procid", le(20, 4))
            // It then wants client_id where the message has ended (or reads a length from its bytes).
            fields["_ws.malformed"] = [""]
            exceptions.append(.getlockAsTlock)
        }
    }
}
