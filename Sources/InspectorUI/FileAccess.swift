import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reading and writing the UI's files (themes, saved captures) with errors that name the file and give the
/// plain reason, as the C library words it: `cannot write /tmp: Is a directory`, `cannot read
/// /x/dark.toml: No such file or directory` (not Foundation's "The operation could not be completed").
public enum FileAccess {
    /// An operation on a file that failed, and why.
    public struct Failure: Error, Hashable, Sendable, CustomStringConvertible {
        public var operation: String
        public var path: String
        public var reason: String
        public var description: String { "cannot \(operation) \(path): \(reason)" }
    }

    /// Writes `data` to `path`: a new file put in place of any old one.
    public static func write(_ data: Data, toFile path: String) throws(Failure) {
        try refuseDirectory(path, "write")
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw Failure(operation: "write", path: path, reason: reason(error))
        }
    }

    /// Reads the UTF-8 text of `path`.
    public static func readText(_ path: String) throws(Failure) -> String {
        try refuseDirectory(path, "read")
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw Failure(operation: "read", path: path, reason: reason(error))
        }
    }

    /// A directory cannot be read or written as a file: said as the C library says it (Foundation's own
    /// error for it names no reason).
    private static func refuseDirectory(_ path: String, _ operation: String) throws(Failure) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw Failure(operation: operation, path: path, reason: errnoText(EISDIR))
        }
    }

    /// The plain reason of a Foundation file error: the C library's text for the errno it carries (or stands
    /// for), else its own description.
    public static func reason(_ error: any Error) -> String {
        let ns = error as NSError
        if ns.domain == NSPOSIXErrorDomain { return errnoText(Int32(ns.code)) }
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return errnoText(Int32(underlying.code))
        }
        if let cocoa = error as? CocoaError {
            switch cocoa.code {
            case .fileNoSuchFile, .fileReadNoSuchFile: return errnoText(ENOENT)
            case .fileReadNoPermission, .fileWriteNoPermission: return errnoText(EACCES)
            case .fileWriteOutOfSpace: return errnoText(ENOSPC)
            case .fileWriteVolumeReadOnly: return errnoText(EROFS)
            case .fileReadInapplicableStringEncoding, .fileReadCorruptFile: return "not UTF-8 text"
            default: break
            }
        }
        return ns.localizedDescription
    }

    static func errnoText(_ code: Int32) -> String { String(cString: strerror(code)) }
}
