import NinePWire

/// One field of a message as the grammar sees it.
public struct FieldSpec: Sendable {
    /// The manual's name (`newfid`, `request_mask`, `n_uname`).
    public let name: String
    /// Other accepted spellings (`requestMask`, `mask`).
    public let aliases: [String]
    public let type: FieldType
    /// Dialects that carry the field (nil = all the message's dialects).
    public let dialects: Set<Dialect>?
    /// Computed from other fields (`nwname`, `count`); readable, never set by hand.
    public let derived: Bool
    /// Raw-form value when the field is omitted (nil: must be given, or the context supplies it).
    public let defaultValue: FieldValue?
    /// One line for help.
    public let note: String

    public init(_ name: String, _ type: FieldType, aliases: [String] = [], dialects: Set<Dialect>? = nil,
                derived: Bool = false, default defaultValue: FieldValue? = nil, note: String = "") {
        self.name = name; self.type = type; self.aliases = aliases; self.dialects = dialects
        self.derived = derived; self.defaultValue = defaultValue; self.note = note
    }

    /// Whether `word` names this field (case-insensitive, any alias).
    public func matches(_ word: String) -> Bool {
        let w = word.lowercased()
        return name.lowercased() == w || aliases.contains { $0.lowercased() == w }
    }
}

/// What the grammar knows about one message type: its fields (the single table behind the raw form,
/// help, completion, `expect` and replay diffs), how to build it (T-messages) and how to read it.
public struct MessageSchema: Sendable {
    public let type: MessageType
    public let fields: [FieldSpec]
    let builder: (@Sendable (FieldBag, Dialect) -> Message)?
    let reader: @Sendable (Message) -> [FieldValue?]?

    init(_ type: MessageType, _ fields: [FieldSpec], build: (@Sendable (FieldBag, Dialect) -> Message)? = nil,
         read: @escaping @Sendable (Message) -> [FieldValue?]?) {
        self.type = type; self.fields = fields; self.builder = build; self.reader = read
    }

    public var name: String { type.name }
    public var isRequest: Bool { type.isRequest }

    public func field(named word: String) -> FieldSpec? { fields.first { $0.matches(word) } }

    /// The fields' values in `fields` order (nil where the dialect leaves a field out), or nil when
    /// `message` is not of this type.
    public func values(of message: Message) -> [FieldValue?]? { reader(message) }

    /// (field, value) pairs of `message`, skipping absent optional fields.
    public func namedValues(of message: Message) -> [(FieldSpec, FieldValue)]? {
        guard let vals = reader(message) else { return nil }
        return zip(fields, vals).compactMap { f, v in v.map { (f, $0) } }
    }

    /// Builds the message from field values; omitted fields take their defaults.
    public func build(_ values: [String: FieldValue], dialect: Dialect) -> Message? {
        builder.map { $0(FieldBag(values: values), dialect) }
    }

    /// Every message the grammar knows, in code order.
    public static let all: [MessageSchema] = (classic + linux).sorted { $0.type.rawValue < $1.type.rawValue }

    static let byType: [MessageType: MessageSchema] = Dictionary(uniqueKeysWithValues: all.map { ($0.type, $0) })

    public static func schema(for type: MessageType) -> MessageSchema? { byType[type] }

    /// The schema for a message name (`Twalk`, `rlerror`).
    public static func schema(named name: String) -> MessageSchema? {
        MessageType(name: name).flatMap { byType[$0] }
    }

    /// The schema of a message value (nil for `.unknown`).
    public static func schema(of message: Message) -> MessageSchema? {
        MessageType(rawValue: message.typeCode).flatMap { byType[$0] }
    }
}

/// Field values by manual name, with typed accessors that fall back to zero/empty.
public struct FieldBag: Sendable {
    public var values: [String: FieldValue]
    public init(values: [String: FieldValue]) { self.values = values }

    public func has(_ name: String) -> Bool { values[name] != nil }
    func n(_ name: String) -> UInt64 { values[name]?.number ?? 0 }
    func fid(_ name: String) -> Fid { Fid(UInt32(truncatingIfNeeded: n(name))) }
    func tag(_ name: String) -> Tag { Tag(UInt16(truncatingIfNeeded: n(name))) }
    func u8(_ name: String) -> UInt8 { UInt8(truncatingIfNeeded: n(name)) }
    func u16(_ name: String) -> UInt16 { UInt16(truncatingIfNeeded: n(name)) }
    func u32(_ name: String) -> UInt32 { UInt32(truncatingIfNeeded: n(name)) }
    func u64(_ name: String) -> UInt64 { n(name) }
    func string(_ name: String) -> P9String { P9String(bytes: values[name]?.bytes ?? []) }
    func data(_ name: String) -> [UInt8] { values[name]?.bytes ?? [] }
    func strings(_ name: String) -> [P9String] {
        if case .strings(let s)? = values[name] { return s } else { return [] }
    }
    func qid(_ name: String) -> Qid {
        if case .qid(let q)? = values[name] { return q } else { return Qid(path: 0) }
    }
}

// Small constructors used by the tables.
extension FieldValue {
    static func fid(_ f: Fid) -> FieldValue { .number(UInt64(f.rawValue)) }
    static func tag(_ t: Tag) -> FieldValue { .number(UInt64(t.rawValue)) }
    static func u(_ v: some BinaryInteger) -> FieldValue { .number(UInt64(v)) }
    static func s(_ p: P9String) -> FieldValue { .bytes(p.bytes) }
    static let zero = FieldValue.number(0)
    static let empty = FieldValue.bytes([])
    static let nofid = FieldValue.number(UInt64(Fid.nofid.rawValue))
    static let nonuname = FieldValue.number(UInt64(NineP.noUname))
}
