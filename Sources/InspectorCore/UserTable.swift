import NinePSession

/// The users exchanges were made as (the attaches their requests' fids descend from), numbered for
/// `ExchangeRow.user`: 0 for none known, 1 … 254 for the first 254 users seen, `other` for any after them
/// (a trace has a few: a mount with `access=user` attaches once per user of the guest).
public struct UserTable: Sendable {
    public private(set) var users: [AttachUser] = []
    private var ids: [AttachUser: UInt8] = [:]
    /// The last user numbered: consecutive requests are nearly always one user's.
    private var last: (user: AttachUser, id: UInt8)?

    public static let none: UInt8 = 0
    public static let other: UInt8 = 255

    public init() {}

    /// The number of `user` (of the path of a request's fid), adding it when new.
    public mutating func id(_ user: AttachUser?) -> UInt8 {
        guard let user else { return Self.none }
        if let last, last.user == user { return last.id }
        let id: UInt8
        if let known = ids[user] {
            id = known
        } else if users.count < Int(Self.other) - 1 {
            users.append(user)
            id = UInt8(users.count)
            ids[user] = id
        } else {
            id = Self.other
        }
        last = (user, id)
        return id
    }

    /// The user numbered `id`; nil for none and for `other`.
    public subscript(id: UInt8) -> AttachUser? {
        id != Self.none && id != Self.other && Int(id) <= users.count ? users[Int(id) - 1] : nil
    }
}
