import NinePWire

/// What `replay --diff` does not hold against a server: values that naturally differ between two runs
/// or two servers. Each rule is switchable (`--ignore default,-times,owner`).
public enum IgnoreRule: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// qid.version in every qid (Rattach, Rwalk wqids, Rlopen, Rgetattr, Rstat, Rreaddir entries …).
    case qidVersion = "qid.version"
    /// qid.path in every qid is compared through a one-to-one mapping built as replies arrive instead of
    /// literally: a server may number files differently, but one captured file must keep one replayed
    /// number (and vice versa), otherwise it is a difference; after a removal, a number either server had
    /// given a file may be given to another (`ReplyComparator.noteRemoval`).
    case qidPath = "qid.path"
    /// Timestamps: Rgetattr atime/mtime/ctime/btime (sec and nsec) and its `valid` bit for btime, Rstat atime
    /// and mtime.
    case times = "times"
    /// Rgetattr gen and data_version, and their `valid` bits.
    case gen = "gen"
    /// Rgetattr blksize and blocks (allocation depends on the underlying file system).
    case blocks = "blocks"
    /// Rstat type and dev (for kernel use).
    case dev = "dev"
    /// Every Rstatfs field (free space, file counts, fsid).
    case statfs = "statfs"
    /// iounit of Ropen, Rcreate, Rlopen, Rlcreate.
    case iounit = "iounit"
    /// Rreaddir entry offsets (directory cookies; replay also remaps them in later Treaddir requests).
    case direntOffset = "dirent.offset"
    /// Rreaddir entries compared as a set of (name, type) rather than in order. Off by default.
    case direntOrder = "dirent.order"
    /// Owners: Rgetattr uid/gid, Rstat uid/gid/muid and n_uid/n_gid/n_muid. Off by default.
    case owner = "owner"
    /// Rversion msize (a server may cap it). Off by default.
    case msize = "msize"
    /// Rerror's text when both replies name the same errno — 9P2000.u's errno field, or in 9P2000 the errno
    /// the text stands for (the C library's texts and Plan 9 file servers', letter case aside): servers word
    /// the same error differently. A text that names no errno known here is compared as it is.
    case ename = "ename"

    public var description: String { rawValue }

    /// What the rule leaves out, in a few words (a line of `replay --help`).
    public var summary: String {
        switch self {
        case .qidVersion: "every qid's version"
        case .qidPath: "qid paths, compared through a one-to-one map instead"
        case .times: "atime, mtime, ctime, btime"
        case .gen: "Rgetattr gen and data_version"
        case .blocks: "Rgetattr blksize and blocks"
        case .dev: "Rstat type and dev"
        case .statfs: "every Rstatfs field"
        case .iounit: "iounit of Ropen, Rcreate, Rlopen, Rlcreate"
        case .direntOffset: "Rreaddir offsets (remapped in later Treaddirs)"
        case .direntOrder: "Rreaddir entries' order (compared as a set)"
        case .owner: "uid, gid, muid, n_uid, n_gid, n_muid"
        case .msize: "Rversion msize"
        case .ename: "Rerror text when both name the same errno"
        }
    }

    /// The rules on unless switched off.
    public static let defaults: Set<IgnoreRule> = [.qidVersion, .qidPath, .times, .gen, .blocks, .dev, .statfs, .iounit,
                                                   .direntOffset, .ename]

    /// Parses a comma-separated list: rule names add, `-name` removes, `default`, `all` and `none`
    /// reset the set (`default,-times,owner`). Starts from the defaults.
    public static func parse(_ spec: String) throws(ParseError) -> Set<IgnoreRule> {
        var set = defaults
        var column = 1
        for item in spec.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            defer { column += item.count + 1 }
            let word = item.trimmingCharacters()
            switch word.lowercased() {
            case "default", "defaults": set = defaults
            case "all": set = Set(allCases)
            case "none": set = []
            case "": continue
            default:
                let remove = word.hasPrefix("-")
                let name = remove ? String(word.dropFirst()) : word
                guard let rule = allCases.first(where: { $0.rawValue.lowercased() == name.lowercased() }) else {
                    throw ParseError(column: column, expected: "an ignore rule (" + allCases.map(\.rawValue).joined(separator: ", ")
                                     + ", default, all, none)", found: word)
                }
                if remove { set.remove(rule) } else { set.insert(rule) }
            }
        }
        return set
    }
}

extension String {
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
