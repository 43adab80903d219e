import Testing
import NinePWire
import NinePTestSupport

@Suite struct JSONTests {
    @Test func serializerEscapes() {
        let v = JSONValue.object([
            ("s", .string("q\"b\\n\n\u{1}\u{2028}é")), ("n", .null), ("t", .bool(true)), ("i", .int(-3)),
            ("u", .uint(UInt64.max)), ("a", .array([.uint(1), .string("")])), ("o", .object([])),
        ])
        #expect(v.serialized == #"{"s":"q\"b\\n\n\u0001\u2028é","n":null,"t":true,"i":-3,"u":18446744073709551615,"a":[1,""],"o":{}}"#)
        #expect(v["u"] == .uint(UInt64.max))
        #expect(v["missing"] == nil)
        #expect(JSONValue.object([("a", .uint(1))]) != JSONValue.object([("b", .uint(1))]))
    }

    /// The streaming writer gives the same text as the `JSONValue` tree, for thousands of random messages of
    /// every type (strings that are invalid UTF-8 or hold quotes, control characters, U+2028 included).
    @Test func streamedFieldsEqualTheTree() {
        var g = SplitMix(seed: 0x5EED_0002)
        var seenTypes = Set<UInt8>()
        for _ in 0..<6000 {
            let (f, _) = RandomMessages.any(&g)
            seenTypes.insert(f.message.typeCode)
            let treeFields = f.jsonObject.filter { !["message", "code", "tag"].contains($0.0) }
            let tree = JSONValue.object([("event", .string("x\u{2028}\"\n")), ("n", .int(-42)), ("u", .uint(.max)),
                                         ("fields", .object(treeFields)), ("v", .array([.null, .bool(true)]))]).serialized
            var w = JSONObjectWriter()
            w.string("event", "x\u{2028}\"\n"); w.int("n", -42); w.uint("u", .max)
            w.fields("fields", of: f); w.value("v", .array([.null, .bool(true)]))
            var out = Array("> ".utf8)
            w.finish(appendingTo: &out)
            #expect(String(decoding: out, as: UTF8.self) == "> " + tree, "\(f.canonicalLine)")
        }
        #expect(seenTypes.count > 60)
        var w = JSONObjectWriter()
        w.string("s", utf8: Array("tab\there \u{1} é".utf8))
        var out: [UInt8] = []
        w.finish(appendingTo: &out)
        #expect(String(decoding: out, as: UTF8.self) == JSONValue.object([("s", .string("tab\there \u{1} é"))]).serialized)
    }

    @Test func messagesAsJSON() throws {
        let walk = try Fcall.decode(golden("Twalk", .l), dialect: .l)
        #expect(walk.jsonLine == #"{"message":"Twalk","code":110,"tag":3,"fid":1,"newfid":2,"nwname":2,"wname":["usr","bin"]}"#)
        let lerror = try Fcall.decode(golden("Rlerror", .l), dialect: .l)
        #expect(lerror.jsonLine == #"{"message":"Rlerror","code":7,"tag":4,"ecode":{"value":2,"name":"ENOENT"}}"#)
        let lopen = try Fcall.decode(golden("Tlopen", .l), dialect: .l)
        #expect(lopen.jsonLine == #"{"message":"Tlopen","code":12,"tag":7,"fid":2,"flags":{"value":32768,"names":["RDONLY","LARGEFILE"]}}"#)
        let rattach = try Fcall.decode(golden("Rattach", .l), dialect: .l)
        #expect(rattach.jsonLine == #"{"message":"Rattach","code":105,"tag":2,"qid":{"type":128,"type_names":["QTDIR"],"version":0,"path":16}}"#)
        let rread = try Fcall.decode(golden("Rread", .l), dialect: .l)
        #expect(rread.jsonLine == #"{"message":"Rread","code":117,"tag":8,"count":12,"data":{"length":12,"hex":"68656c6c6f20776f726c640a"}}"#)
        let version = try Fcall.decode(golden("Tversion", .l), dialect: .l)
        #expect(version.jsonLine == #"{"message":"Tversion","code":100,"tag":65535,"msize":8192,"version":"9P2000.L"}"#)
        let unknown = try Fcall.decode(golden("type98", .l), dialect: .l)
        #expect(unknown.jsonLine == #"{"message":"type98","code":98,"tag":1,"body":{"length":5,"hex":"0200000000"}}"#)
        let readdir = try Fcall.decode(golden("Rreaddir", .l), dialect: .l)
        let entries = readdir.json["entries"]
        if case .array(let e)? = entries {
            #expect(e.count == 2)
            #expect(e[1]["name"] == .string("a"))
            #expect(e[0]["type"] == .object([("value", .uint(4)), ("name", .string("DT_DIR"))]))
        } else {
            Issue.record("no entries in \(readdir.jsonLine)")
        }
    }

    @Test func invalidUTF8GetsAHexTwin() {
        let a = Fcall(tag: 1, .tattach(Tattach(fid: 1, uname: P9String(bytes: [0x61, 0xFF]), aname: "ok", nUname: 7)))
        #expect(a.jsonLine == #"{"message":"Tattach","code":104,"tag":1,"fid":1,"afid":4294967295,"uname":"a\#u{FFFD}","uname_hex":"61ff","aname":"ok","n_uname":7}"#)
        let w = Fcall(tag: 1, .twalk(Twalk(fid: 1, newfid: 2, wnames: ["x", P9String(bytes: [0xC3])])))
        #expect(w.json["wname_hex"] == .array([.string("78"), .string("c3")]))
        let fine = Fcall(tag: 1, .twalk(Twalk(fid: 1, newfid: 2, wnames: ["x"])))
        #expect(fine.json["wname_hex"] == nil)
    }

    @Test(arguments: goldenVectors.indices)
    func everyGoldenMessageHasAllItsFields(_ i: Int) {
        let v = goldenVectors[i]
        let keys = v.fcall.jsonObject.map(\.0)
        #expect(Array(keys.prefix(3)) == ["message", "code", "tag"])
        #expect(Set(keys).count == keys.count, "duplicate keys in \(v.fcall.jsonLine)")
        // Every field of the canonical line (its words in name position) appears as a JSON key (stat fields
        // are nested under "stat").
        var words = v.fcall.canonicalLine.split(separator: " ").map(String.init)
        if let s = words.firstIndex(of: "stat") { words = Array(words[...s]) }
        for name in ["fid", "newfid", "afid", "msize", "version", "iounit", "offset", "count", "flags", "mode",
                     "request_mask", "valid", "ecode", "n_uname", "name", "qid", "stat", "dfid"] where words.contains(name) {
            #expect(keys.contains(name), "\(name) missing from \(v.fcall.jsonLine)")
        }
    }
}

/// A cut frame's fields in `--json`, as far as its captured bytes hold them whole.
@Suite struct CutFrameJSONTests {
    /// Cut inside its second name, a Twalk gives its fids, its count and the first name (in an array, as a
    /// whole frame's `wname`); the members it has are the whole frame's, with the same values.
    @Test func aCutTwalkGivesWhatItHoldsWhole() {
        let whole = Fcall(tag: 3, .twalk(Twalk(fid: 1, newfid: 2, wnames: ["usr", "local", "bin"])))
        let bytes = whole.encode(dialect: .l)
        let cut = Array(bytes.prefix(7 + 4 + 4 + 2 + 2 + 3 + 2 + 2))   // header, fids, nwname, "usr", half of "local"
        let fields = Fcall.fieldTree(cut, dialect: .l, cut: true).capturedFieldsJSON
        #expect(fields.map(\.0) == ["fid", "newfid", "nwname", "wname"])
        #expect(JSONValue.object(fields).serialized == #"{"fid":1,"newfid":2,"nwname":3,"wname":["usr"]}"#)
        let full = whole.jsonObject.filter { ["fid", "newfid", "nwname"].contains($0.0) }
        #expect(JSONValue.object(Array(fields.prefix(3))).serialized == JSONValue.object(full).serialized)
        // Cut in its header, nothing; cut in a qid of an Rgetattr, the fields before it.
        #expect(Fcall.fieldTree(Array(bytes.prefix(6)), dialect: .l, cut: true).capturedFieldsJSON.isEmpty)
        let reply = Fcall(tag: 1, .rgetattr(Rgetattr(valid: .basic, qid: Qid(type: .dir, version: 0, path: 9), mode: 0o40755)))
            .encode(dialect: .l)
        let partial = Fcall.fieldTree(Array(reply.prefix(7 + 8 + 5)), dialect: .l, cut: true).capturedFieldsJSON
        #expect(partial.map(\.0) == ["valid"])
    }
}
