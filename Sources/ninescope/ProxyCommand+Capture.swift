import ArgumentParser
import NinePCapture
import NinePNIO
#if canImport(Glibc)
import Glibc
#endif

/// The proxy's capture: opening it as the options ask (one file, standard output, or files cut by size
/// or time), and what is said about it.
extension ProxyCommand {
    /// The capture `--capture` and its companions ask for, started (nil without `--capture`); refuses what
    /// cannot work. `-` is standard output, which must not be a terminal and is one stream.
    static func startCapture(_ capture: String?, size: String?, duration: String?, files: Int?, data: Int? = nil,
                             stdoutIsTerminal: Bool) throws -> CaptureRecorder? {
        try checkCapture(capture, size: size, duration: duration, files: files, data: data,
                         stdoutIsTerminal: stdoutIsTerminal)
        let rotation = try Self.rotation(capture: capture, size: size, duration: duration, files: files)
        guard let capture else { return nil }
        do {
            let started = try CaptureRecorder.start(path: capturesToStdout(capture) ? "/dev/stdout" : capture,
                                                    rotation: rotation,
                                                    options: PcapngWriterOptions(toolVersion: NinescopeVersion.string),
                                                    dataLimit: data)
            if let first = started.removed.first, let last = started.removed.last {
                printError("ninescope: deleted \(started.removed.count) file\(started.removed.count == 1 ? "" : "s") "
                           + "of an earlier capture: \(first == last ? first : first + " … " + last)")
            }
            return started.recorder
        } catch {
            throw ProxyCommandError("cannot write the capture: \(error)")
        }
    }

    /// Refuses a combination of `--capture` and its companions that cannot work (a usage error); touches no
    /// file. `startCapture` checks the same.
    static func checkCapture(_ capture: String?, size: String?, duration: String?, files: Int?, data: Int?,
                             stdoutIsTerminal: Bool) throws {
        let rotation = try Self.rotation(capture: capture, size: size, duration: duration, files: files)
        if let data {
            guard capture != nil else { throw ValidationError("--capture-data needs --capture FILE") }
            guard data >= 0 else { throw ValidationError("--capture-data must be 0 or more, not \(data)") }
        }
        if let capture, capturesToStdout(capture) {
            guard !stdoutIsTerminal else {
                throw ValidationError("--capture -: standard output is a terminal; pipe it to a reader "
                                      + "(… | wireshark -k -i -)")
            }
            guard rotation == nil else {
                throw ValidationError("--capture - is one stream: it cannot be cut into files")
            }
        }
    }

    /// What is said when a capture's write fails: the capture ends there, the relaying goes on.
    static func captureStopped(_ error: CaptureFileError) -> String {
        "ninescope: capture stopped: \(error); the capture holds what was written before (the proxy goes on)"
    }

    /// "; capture FILE (12 MB)" for the closing line, or why the capture is incomplete. A capture in several
    /// files names the first and last kept and says how many there were: "; capture t_00004_….pcapng …
    /// t_00006_….pcapng (the last 3 of 6 files, 310 MB written in all)".
    static func closeCapture(_ recorder: CaptureRecorder?) -> String {
        guard let recorder else { return "" }
        func described(complete: Bool) -> String {
            let written = ProxyTrace.bytes(recorder.file.bytesWritten)
            guard recorder.rotation != nil else {
                return "\(shownPath(recorder)) " + (complete ? "(\(written))" : "incomplete (\(written) written)")
            }
            let files = recorder.files
            let begun = recorder.filesBegun
            let named = files.count == 1 ? files[0] : "\(files[0]) … \(files[files.count - 1])"
            let size = files.count == begun
                ? "\(begun) file\(begun == 1 ? "" : "s"), \(written)\(complete ? "" : " written")"
                : "the last \(files.count) of \(begun) files, \(written) written in all"
            return named + (complete ? " (\(size))" : " incomplete (\(size))")
        }
        do {
            recorder.finish(why: "proxy stopped")
            try recorder.file.close()
            return "; capture " + described(complete: true)
        } catch {
            return "; capture " + described(complete: false) + ": \(error)"
        }
    }

    /// The capture as the start-up line names it: the file, or the first file and how the rest follow.
    /// With `--capture-data N`: "…, data of reads and writes cut to N bytes".
    static func captureDescription(_ recorder: CaptureRecorder) -> String {
        let cut = recorder.dataLimit.map { ", data of reads and writes cut to \($0) byte\($0 == 1 ? "" : "s")" } ?? ""
        guard let rotation = recorder.rotation else { return shownPath(recorder) + cut }
        let every = [rotation.fileSize.map(CaptureRotation.sizeText),
                     rotation.fileDuration.map(CaptureRotation.durationText)].compactMap { $0 }.joined(separator: " or ")
        let keep = rotation.keep.map { n in n == 1 ? ", only the newest kept" : ", the newest \(n) kept" } ?? ""
        return "\(recorder.file.path), … (a new file every \(every)\(keep))" + cut
    }

    /// Whether `--capture` names standard output (`-`, or `/dev/stdout` itself): the lines then go to
    /// standard error.
    static func capturesToStdout(_ capture: String?) -> Bool {
        capture == "-" || capture == "/dev/stdout"
    }

    /// A one-file capture's path, or "standard output" for `--capture -`.
    static func shownPath(_ recorder: CaptureRecorder) -> String {
        recorder.file.path == "/dev/stdout" ? "standard output" : recorder.file.path
    }

    /// The rotation `--capture-size`, `--capture-duration` and `--capture-files` ask for, or nil; refuses what
    /// cannot work.
    static func rotation(capture: String?, size: String?, duration: String?, files: Int?) throws -> CaptureRotation? {
        guard size != nil || duration != nil else {
            if files != nil { throw ValidationError("--capture-files needs --capture-size or --capture-duration") }
            return nil
        }
        guard let capture else {
            throw ValidationError("\(size != nil ? "--capture-size" : "--capture-duration") needs --capture FILE")
        }
        var bytes: Int?
        if let size {
            guard let n = CaptureRotation.parseSize(size) else {
                throw ValidationError("--capture-size: '\(size)' is not a size (e.g. 100M, 1G, 65536)")
            }
            guard n >= CaptureRotation.minimumFileSize else { throw ValidationError("--capture-size: at least 64K") }
            bytes = n
        }
        var nanos: Int64?
        if let duration {
            guard let n = CaptureRotation.parseDuration(duration) else {
                throw ValidationError("--capture-duration: '\(duration)' is not a time span (e.g. 30s, 10m, 1h, 1d)")
            }
            guard n >= CaptureRotation.minimumFileDuration else {
                throw ValidationError("--capture-duration: at least 1s")
            }
            nanos = n
        }
        if let files, files < 1 { throw ValidationError("--capture-files must be at least 1") }
        return CaptureRotation(path: capture, fileSize: bytes, fileDuration: nanos, keep: files)
    }

    /// Exit status 1 when the capture stopped early (already said): a failure for scripts that asked for one.
    static func failIfCaptureIncomplete(_ recorder: CaptureRecorder?) throws {
        if recorder?.file.lastError != nil { throw ExitCode(1) }
    }
}
