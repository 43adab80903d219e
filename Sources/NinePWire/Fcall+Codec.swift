// Codec entry points: frames in, `Fcall` out, and back.

extension Message {
    /// The message's type code as on the wire. (`borrowing get`: a plain getter's `switch self` copied the
    /// whole message, about 160 bytes plus a retain per reference in it, just to read its case.)
    public var typeCode: UInt8 {
        borrowing get {
        switch self {
        case .tversion: 100
        case .rversion: 101
        case .tauth: 102
        case .rauth: 103
        case .tattach: 104
        case .rattach: 105
        case .rerror: 107
        case .tflush: 108
        case .rflush: 109
        case .twalk: 110
        case .rwalk: 111
        case .topen: 112
        case .ropen: 113
        case .tcreate: 114
        case .rcreate: 115
        case .tread: 116
        case .rread: 117
        case .twrite: 118
        case .rwrite: 119
        case .tclunk: 120
        case .rclunk: 121
        case .tremove: 122
        case .rremove: 123
        case .tstat: 124
        case .rstat: 125
        case .twstat: 126
        case .rwstat: 127
        case .rlerror: 7
        case .tstatfs: 8
        case .rstatfs: 9
        case .tlopen: 12
        case .rlopen: 13
        case .tlcreate: 14
        case .rlcreate: 15
        case .tsymlink: 16
        case .rsymlink: 17
        case .tmknod: 18
        case .rmknod: 19
        case .trename: 20
        case .rrename: 21
        case .treadlink: 22
        case .rreadlink: 23
        case .tgetattr: 24
        case .rgetattr: 25
        case .tsetattr: 26
        case .rsetattr: 27
        case .txattrwalk: 30
        case .rxattrwalk: 31
        case .txattrcreate: 32
        case .rxattrcreate: 33
        case .treaddir: 40
        case .rreaddir: 41
        case .tfsync: 50
        case .rfsync: 51
        case .tlock: 52
        case .rlock: 53
        case .tgetlock: 54
        case .rgetlock: 55
        case .tlink: 70
        case .rlink: 71
        case .tmkdir: 72
        case .rmkdir: 73
        case .trenameat: 74
        case .rrenameat: 75
        case .tunlinkat: 76
        case .runlinkat: 77
        case .unknown(let type, _): type
        }
        }
    }
    /// The known type, nil for `.unknown` codes that are not in the table.
    public var type: MessageType? { MessageType(rawValue: typeCode) }
    /// The manual name ("Twalk"); for codes outside the table `"type<code>"` (e.g. "type98").
    public var name: String { Message.name(ofType: typeCode) }
    /// Whether this is a request (T-message: even type code).
    public var isRequest: Bool { typeCode & 1 == 0 }

    static func name(ofType code: UInt8) -> String { nameByCode[Int(code)] }

    /// Names for all 256 codes (array lookup: the canonical line needs one per message).
    static let nameByCode: [String] = (0...255).map { code in
        MessageType(rawValue: UInt8(code))?.name ?? "type" + String(code)
    }
}

extension Fcall {
    /// The complete frame, `size[4]` included, in the given dialect.
    ///
    /// Dialect-dependent optionals are written when present, whatever the dialect; when nil but required by
    /// the dialect they get their "none" value (NONUNAME, errno 0, empty extension, ~0 ids). A frame larger
    /// than 4 GiB cannot be represented; counts are truncated to their field width (callers validate).
    public func encode(dialect: Dialect) -> [UInt8] {
        var w = WireWriter(capacity: message.encodedSizeHint)
        w.u32(0)
        w.u8(message.typeCode)
        w.tag(tag)
        message.encodeBody(into: &w, dialect: dialect)
        w.patch32(UInt32(truncatingIfNeeded: w.bytes.count), at: 0)
        return w.bytes
    }

    /// Decodes one complete frame (as produced by `FrameSplitter`). Total: any bytes give a value or a
    /// `DecodeError`, never a trap, and no allocation is sized by an unchecked length or count.
    ///
    /// Rules:
    /// - `size[4]` must equal the frame length (field `size`); a frame shorter than 7 bytes is truncated.
    /// - Every field is bounds-checked; errors name the manual field (`wname[2]`, `stat.muid`) and the byte
    ///   offset where it starts. Bytes left after a complete body are an error on field `trailing` at the
    ///   first extra byte ("3 trailing bytes after a complete Tclunk body").
    /// - `nwname`/`nwqid` above MAXWELEM (16) are NOT errors: they decode (the session tracker reports the
    ///   anomaly); the element array is reserved for at most as many elements as the remaining bytes can
    ///   hold, so a lying count fails on the first missing element without a large allocation.
    /// - Unknown codes, and the never-sent Terror (106) and Tlerror (6), decode as `.unknown(type:body:)`.
    /// - .L-only codes (7…77) decode in every dialect (the codes do not overlap the classic ones), so a
    ///   capture decoded with the wrong dialect still shows them. Classic codes decode in 9P2000.L too.
    /// - Optional fields by dialect: `n_uname` (Tauth, Tattach) in .u and .L; Rerror `errno`, Tcreate
    ///   `extension` and the stat .u tail in .u. Under .L, where Rerror/Tcreate/stat are not legal, they are
    ///   read leniently: `errno` when exactly 4 bytes follow `ename`, `extension` when bytes follow `mode`,
    ///   the stat tail when the stat's size leaves room for it.
    public static func decode(_ frame: [UInt8], dialect: Dialect) throws(DecodeError) -> Fcall {
        let result: Result<Fcall, DecodeError> = frame.withUnsafeBytes { buf in
            // Data fields share the frame's storage (see `DataBytes`).
            var r = FastReader(buf)
            r.owner = frame
            do throws(DecodeError) {
                return .success(try decodeFrame(&r, frameCount: buf.count, dialect: dialect))
            } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Decodes one complete frame from borrowed bytes (for NIO callers); same rules as `decode(_:dialect:)`.
    public static func decode(_ frame: UnsafeRawBufferPointer, dialect: Dialect) throws(DecodeError) -> Fcall {
        var r = FastReader(frame)
        return try decodeFrame(&r, frameCount: frame.count, dialect: dialect)
    }

    /// The header checks and body dispatch shared by the fast decoder and the field tree.
    static func decodeFrame<R: WireSource>(_ r: inout R, frameCount: Int, dialect: Dialect) throws(DecodeError) -> Fcall {
        let sizeField = WireField("size", .size)
        let size = try r.u32(sizeField)
        guard UInt64(size) == UInt64(frameCount) else {
            throw r.error(at: 0, sizeField, "size field says \(size) bytes but the frame is \(frameCount) bytes")
        }
        let type = try r.u8(WireField("type", .msgType))
        let tag = try r.tag(WireField("tag", .tag))
        let message = try Message.decodeBody(type: type, &r, dialect: dialect)
        guard r.remaining == 0 else {
            throw r.error(at: r.offset, WireField("trailing"),
                          "\(r.remaining) trailing bytes after a complete \(Message.name(ofType: type)) body")
        }
        return Fcall(tag: tag, message)
    }
}

extension Message {
    /// Decodes a body (the bytes after `tag[2]`) of the given type. Does not check for trailing bytes.
    static func decodeBody<R: WireSource>(type: UInt8, _ r: inout R, dialect: Dialect) throws(DecodeError) -> Message {
        let known: Message?
        if type >= 100 {
            known = try decodeClassic(type, &r, dialect)
        } else {
            known = try decodeLinux(type, &r)
        }
        if let m = known { return m }
        return .unknown(type: type, body: try r.bytes(r.remaining, WireField("body"), content: .raw))
    }
}
