import NinePWire

/// One entry returned by ``FileSystemDriver/readdir(_:after:limit:)``.
public struct DirectoryEntry: Hashable, Sendable {
    public var name: P9String
    public var qid: Qid
    public var type: FileType
    /// The cookie that continues the listing *after* this entry (Rreaddir dirent `offset`). Opaque to the
    /// server and the client; it must be stable while the directory is unchanged and never 0.
    public var cookie: UInt64
    /// The entry's attributes if the driver has them at hand; the server looks them up otherwise (only
    /// classic directory reads need them).
    public var attributes: NodeAttributes?

    public init(name: P9String, qid: Qid, type: FileType, cookie: UInt64, attributes: NodeAttributes? = nil) {
        self.name = name; self.qid = qid; self.type = type; self.cookie = cookie; self.attributes = attributes
    }

    /// Encoded size in an Rreaddir: `qid[13] offset[8] type[1] name[s]`.
    public var direntSize: Int { 13 + 8 + 1 + 2 + name.bytes.count }
}
