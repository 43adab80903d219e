/// How a fid was opened.
public enum FidOpenMode: Hashable, Sendable, CustomStringConvertible {
    /// Topen/Tcreate `mode[1]`.
    case classic(OpenMode)
    /// Tlopen/Tlcreate `flags[4]`.
    case dotL(LOpenFlags)

    /// Whether a fid so opened may be read: OREAD, ORDWR, OEXEC (open(5): execute permits reading);
    /// RDONLY, RDWR (and the access mode 3, which no flag names).
    public var allowsReading: Bool {
        switch self {
        case .classic(let m): m.access != 1
        case .dotL(let f): f.accessMode != 1
        }
    }

    /// Whether a fid so opened may be written: OWRITE, ORDWR; WRONLY, RDWR (and the access mode 3).
    public var allowsWriting: Bool {
        switch self {
        case .classic(let m): m.access == 1 || m.access == 2
        case .dotL(let f): f.accessMode != 0
        }
    }

    public var description: String {
        switch self {
        case .classic(let m):
            var s = ["OREAD", "OWRITE", "ORDWR", "OEXEC"][Int(m.access)]
            if m.truncate { s += "|OTRUNC" }
            if m.removeOnClose { s += "|ORCLOSE" }
            if m.rawValue & OpenMode.appendBit != 0 { s += "|OAPPEND" }
            return s
        case .dotL(let f):
            var parts = [LOpenFlags.accessNames[Int(f.accessMode)]]
            for (name, bit) in LOpenFlags.bitNames where f.rawValue & bit != 0 { parts.append(name) }
            return parts.joined(separator: "|")
        }
    }
}
