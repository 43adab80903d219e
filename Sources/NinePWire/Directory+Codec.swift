/// Directory data: packed .L dirents (Rreaddir) and concatenated stat entries (9P2000/.u directory Rread).

extension Dirent {
    /// Decodes packed entries `qid[13] offset[8] type[1] name[s]` covering all of `data` (offsets in errors
    /// are relative to `data`). An entry cut short is an error.
    public static func decodeAll(_ data: [UInt8]) throws(DecodeError) -> [Dirent] {
        try decodeAll(DataBytes(data))
    }

    /// The same, of a message's data field (borrowed, not copied).
    public static func decodeAll(_ data: DataBytes) throws(DecodeError) -> [Dirent] {
        let result: Result<[Dirent], DecodeError> = data.withUnsafeBytes { buf in
            var r = FastReader(buf)
            do throws(DecodeError) { return .success(try decodeAll(&r)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    static func decodeAll<R: WireSource>(_ r: inout R) throws(DecodeError) -> [Dirent] {
        var out: [Dirent] = []
        var i = 0
        while r.remaining > 0 {
            out.append(try decode(&r, WireField("dirent", index: i)))
            i += 1
        }
        return out
    }

    static func decode<R: WireSource>(_ r: inout R, _ group: WireField) throws(DecodeError) -> Dirent {
        r.beginGroup(group)
        let qid = try r.qid(WireField("qid"))
        let offset = try r.u64(WireField("offset"))
        let type = try r.u8(WireField("type", .direntType))
        let name = try r.string(WireField("name"))
        r.endGroup()
        return Dirent(qid: qid, offset: offset, type: type, name: name)
    }
}

extension Stat {
    /// Decodes concatenated stat entries covering all of `data` (a 9P2000/.u directory read). Offsets in
    /// errors are relative to `data`.
    public static func decodeAll(_ data: [UInt8], dialect: Dialect) throws(DecodeError) -> [Stat] {
        try decodeAll(DataBytes(data), dialect: dialect)
    }

    /// The same, of a message's data field (borrowed, not copied).
    public static func decodeAll(_ data: DataBytes, dialect: Dialect) throws(DecodeError) -> [Stat] {
        let result: Result<[Stat], DecodeError> = data.withUnsafeBytes { buf in
            var r = FastReader(buf)
            do throws(DecodeError) { return .success(try decodeAll(&r, dialect)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Decodes one entry (`size[2]` included) that must cover all of `data`.
    public static func decode(_ data: [UInt8], dialect: Dialect) throws(DecodeError) -> Stat {
        let all = try decodeAll(data, dialect: dialect)
        guard all.count == 1 else {
            throw DecodeError(offset: 0, field: "stat", reason: "expected one stat entry, found \(all.count)")
        }
        return all[0]
    }

    static func decodeAll<R: WireSource>(_ r: inout R, _ d: Dialect) throws(DecodeError) -> [Stat] {
        var out: [Stat] = []
        var i = 0
        while r.remaining > 0 {
            out.append(try decode(&r, d, WireField("stat", index: i)))
            i += 1
        }
        return out
    }
}
