// Codec entry points. STUB — the codec is being written now; the signatures are the contract.

extension Message {
    /// The message's type code as on the wire.
    public var typeCode: UInt8 { 0 }
    /// The known type, nil for `.unknown` codes that are not in the table.
    public var type: MessageType? { MessageType(rawValue: typeCode) }
}

extension Fcall {
    /// The complete frame, `size[4]` included, in the given dialect.
    public func encode(dialect: Dialect) -> [UInt8] { [] }

    /// Decodes one complete frame (as produced by `FrameSplitter`). Total: any bytes give a value or a
    /// `DecodeError`, never a trap.
    public static func decode(_ frame: [UInt8], dialect: Dialect) throws(DecodeError) -> Fcall {
        throw DecodeError(offset: 0, field: "size", reason: "codec not implemented yet")
    }

    /// The canonical one-line text (fcallfmt style): `Twalk tag 3 fid 1 newfid 2 nwname 2 0:usr 1:bin`.
    public var canonicalLine: String { "" }
}
