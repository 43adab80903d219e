import NinePWire

/// One command of the REPL grammar: a friendly request form, a convenience or a meta command.
/// The table of these (`CommandSpec.all`) drives parsing, help and completion.
public struct CommandSpec: Sendable {
    public enum Kind: Hashable, Sendable {
        /// Builds one T-message; the positional words fill `positional` fields in order.
        case request(MessageType)
        /// A sequence of requests built from the primitives (`ls`, `cat`, `stat PATH`, `put`).
        case convenience
        /// Acts on the REPL itself (`help`, `set`, `fids`, `expect`, …).
        case meta
    }

    public let name: String
    public let kind: Kind
    /// Positional arguments, by manual field name for requests, as shown in `usage` otherwise.
    public let positional: [String]
    /// How many positional arguments must be given.
    public let required: Int
    /// How the last positional argument takes the remaining words.
    public let tail: Tail
    /// Values for omitted fields that differ from the raw form's defaults.
    public let defaults: [String: FieldValue]
    /// Extra `key=value` names this command understands beyond the message's fields.
    public let extraKeys: [String]
    public let summary: String

    public enum Tail: Hashable, Sendable {
        /// One word per positional argument.
        case single
        /// The last argument is a list: every remaining word is one element (`walk`'s names).
        case list
        /// The last argument is the rest of the line, words joined by one space (`write`'s data).
        case rest
    }

    init(_ name: String, _ kind: Kind, _ positional: [String], required: Int? = nil, tail: Tail = .single,
         defaults: [String: FieldValue] = [:], extraKeys: [String] = [], _ summary: String) {
        self.name = name; self.kind = kind; self.positional = positional; self.required = required ?? positional.count
        self.tail = tail; self.defaults = defaults; self.extraKeys = extraKeys; self.summary = summary
    }

    public var messageType: MessageType? { if case .request(let t) = kind { return t } else { return nil } }
    public var schema: MessageSchema? { messageType.flatMap(MessageSchema.schema(for:)) }

    /// `walk FID NEWFID [WNAME…]`.
    public var usage: String {
        var parts = [name]
        for (i, p) in positional.enumerated() {
            var word = p.uppercased()
            if i == positional.count - 1 && tail != .single { word += "…" }
            parts.append(i < required ? word : "[\(word)]")
        }
        return parts.joined(separator: " ")
    }

    /// `usage`, plus the markers every request accepts.
    public var fullUsage: String {
        if case .request = kind { return usage + " [FIELD=VALUE…] [tag=N] [&]" }
        return usage
    }

    public static func named(_ name: String) -> CommandSpec? {
        let lower = name.lowercased()
        return all.first { $0.name == lower }
    }

    /// The table. Friendly request defaults: see each entry and `MessageSchema` field defaults;
    /// `read`/`readdir` COUNT defaults to msize − 24 and `version` to the REPL's msize and dialect.
    public static let all: [CommandSpec] = requests + conveniences + metas

    static let requests: [CommandSpec] = [
        CommandSpec("version", .request(.tversion), ["msize", "version"], required: 0,
                    "negotiate msize and dialect (tag NOTAG); sets the dialect for later commands"),
        CommandSpec("auth", .request(.tauth), ["afid", "uname", "aname", "n_uname"], required: 1,
                    "start authentication on AFID"),
        CommandSpec("attach", .request(.tattach), ["fid", "uname", "aname", "n_uname", "afid"], required: 2,
                    "attach FID to the root of ANAME as UNAME (afid NOFID unless given)"),
        CommandSpec("flush", .request(.tflush), ["oldtag"], "abort the request with tag OLDTAG"),
        CommandSpec("walk", .request(.twalk), ["fid", "newfid", "wname"], required: 2, tail: .list,
                    "walk FID through the names to NEWFID (no names: clone)"),
        CommandSpec("open", .request(.topen), ["fid", "mode"], required: 1,
                    "open FID (9P2000/.u); MODE read|write|rdwr|exec [|trunc|rclose], default read"),
        CommandSpec("create", .request(.tcreate), ["fid", "name", "perm", "mode", "extension"], required: 2,
                    "create NAME in directory FID (9P2000/.u); PERM default 0644, MODE default rdwr"),
        CommandSpec("read", .request(.tread), ["fid", "offset", "count"], required: 1,
                    "read COUNT bytes at OFFSET (default 0, msize−24)"),
        CommandSpec("write", .request(.twrite), ["fid", "offset", "data"], required: 3, tail: .rest,
                    "write DATA at OFFSET; DATA is the rest of the line, or 0x… hex"),
        CommandSpec("clunk", .request(.tclunk), ["fid"], "forget FID"),
        CommandSpec("remove", .request(.tremove), ["fid"], "remove the file of FID and clunk it"),
        CommandSpec("stat", .request(.tstat), ["fid"],
                    "Tstat FID (9P2000/.u); with a path instead of a number: the stat convenience"),
        CommandSpec("wstat", .request(.twstat), ["fid"],
                    "Twstat FID with the given stat fields (name= mode= length= mtime= …); others don't-touch"),
        CommandSpec("statfs", .request(.tstatfs), ["fid"], "file system statistics"),
        CommandSpec("lopen", .request(.tlopen), ["fid", "flags"], required: 1,
                    "open FID (.L); FLAGS rdonly|wronly|rdwr [|create|trunc|…] or a number, default rdonly"),
        CommandSpec("lcreate", .request(.tlcreate), ["fid", "name", "flags", "mode", "gid"], required: 2,
                    "create and open NAME in directory FID (.L); FLAGS default rdwr|create, MODE 0644"),
        CommandSpec("symlink", .request(.tsymlink), ["fid", "name", "symtgt", "gid"], required: 3,
                    "make symlink NAME -> SYMTGT in directory FID"),
        CommandSpec("mknod", .request(.tmknod), ["dfid", "name", "mode", "major", "minor", "gid"], required: 3,
                    "make a device/fifo/socket node; MODE includes S_IF* bits (e.g. 010644 fifo)"),
        CommandSpec("rename", .request(.trename), ["fid", "dfid", "name"], "move FID's file to NAME in directory DFID"),
        CommandSpec("readlink", .request(.treadlink), ["fid"], "read a symlink's target"),
        CommandSpec("getattr", .request(.tgetattr), ["fid", "request_mask"], required: 1,
                    "get attributes; MASK basic (default), all, or mode|size|…"),
        CommandSpec("setattr", .request(.tsetattr), ["fid"], extraKeys: ["atime", "mtime", "ctime"],
                    "set attributes: mode= uid= gid= size= atime=now|SEC[.NSEC] mtime=… ctime=now; valid follows"),
        CommandSpec("xattrwalk", .request(.txattrwalk), ["fid", "newfid", "name"], required: 2,
                    "open xattr NAME of FID as NEWFID (no name: list names)"),
        CommandSpec("xattrcreate", .request(.txattrcreate), ["fid", "name", "attr_size", "flags"], required: 3,
                    "prepare FID to write xattr NAME of SIZE bytes; FLAGS create|replace"),
        CommandSpec("readdir", .request(.treaddir), ["fid", "offset", "count"], required: 1,
                    "read directory entries from OFFSET (default 0) up to COUNT bytes (default msize−24)"),
        CommandSpec("fsync", .request(.tfsync), ["fid", "datasync"], required: 1, "flush FID's file to stable storage"),
        CommandSpec("lock", .request(.tlock), ["fid", "type", "start", "length", "flags", "proc_id", "client_id"], required: 2,
                    "POSIX record lock; TYPE rdlck|wrlck|unlck, FLAGS block|reclaim"),
        CommandSpec("getlock", .request(.tgetlock), ["fid", "type", "start", "length", "proc_id", "client_id"], required: 2,
                    "test for a conflicting lock"),
        CommandSpec("link", .request(.tlink), ["dfid", "fid", "name"], "hard-link FID's file as NAME in directory DFID"),
        CommandSpec("mkdir", .request(.tmkdir), ["dfid", "name", "mode", "gid"], required: 2,
                    "make directory NAME in DFID; MODE default 0755"),
        CommandSpec("renameat", .request(.trenameat), ["olddirfid", "oldname", "newdirfid", "newname"], "rename by directory fids"),
        CommandSpec("unlinkat", .request(.tunlinkat), ["dirfd", "name", "flags"], required: 2,
                    "remove NAME from directory DIRFD; FLAGS removedir for directories"),
    ]

    static let conveniences: [CommandSpec] = [
        CommandSpec("ls", .convenience, ["path"], required: 0, "list a directory (walk, open, read entries, clunk)"),
        CommandSpec("cat", .convenience, ["path"], "print a file (walk, open, read to the end, clunk)"),
        CommandSpec("put", .convenience, ["local", "remote"], "copy a local file to REMOTE (walk, create, write, clunk)"),
    ]

    static let metas: [CommandSpec] = [
        CommandSpec("help", .meta, ["command"], required: 0, "list commands, or describe one (also message names: help Twalk)"),
        CommandSpec("set", .meta, ["name", "value"], "change a setting: datalimit N, catlimit N, msize N, dialect 9P2000|9P2000.u|9P2000.L, root FID, timeout SECONDS; set alone lists them"),
        CommandSpec("fids", .meta, [], "list the fids in use, with paths and state (and whose, when several users attached)"),
        CommandSpec("pending", .meta, [], "list outstanding tags"),
        CommandSpec("wait", .meta, ["tag"], required: 0, "wait for the reply to TAG (default: every outstanding request)"),
        CommandSpec("hex", .meta, ["bytes"], tail: .rest, "send raw bytes, size field included (malformed frames welcome); waits for a reply when the type code is even; several whole frames go in one write, each reply waited for"),
        CommandSpec("expect", .meta, ["reply", "value"], required: 1, tail: .list,
                    "assert on the last reply: expect Rwalk nwqid=2 | expect Rlerror ENOENT | expect Rread data='hi' | expect ok | expect error"),
        CommandSpec("echo", .meta, ["text"], required: 0, tail: .rest, "print TEXT"),
        CommandSpec("reconnect", .meta, [], "drop the connection and dial again (fids and tags start over)"),
        CommandSpec("quit", .meta, [], "leave the REPL"),
        CommandSpec("exit", .meta, [], "leave the REPL"),
    ]
}
