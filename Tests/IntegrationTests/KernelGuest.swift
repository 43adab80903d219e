import Foundation
import NinePTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A Linux guest whose kernel mounts a 9P2000.L export from the host over TCP (`trans=tcp`), runs a
/// workload on it and powers off: `Captures/linux-guest.sh` (Debian's kernel under qemu's software
/// emulation, an initramfs made from busybox-static and the kernel's 9p modules). The guest reaches the
/// host's 127.0.0.1 as 10.0.2.2 (qemu's user-mode network), so whatever listens there on loopback —
/// `ninescope proxy`, diod, `ninescope serve` — is what the kernel's 9p client talks to.
///
/// The guest prints `@@ step` lines on its serial console (the script's output), followed by what the
/// step printed; `Console` splits them.
enum KernelGuest {
    /// What the guest does once mounted (the script's WORKLOAD argument).
    enum Workload: String {
        /// List, read (cat, sha256sum of big.bin), create, write, mkdir, rename, symlink, hard link, chmod,
        /// touch, remove, readlink, stat, statfs, unmount.
        case files
        /// Against the synthetic driver: a write to /FLUSH (which blocks until flushed) from a process
        /// that is then killed, so the kernel flushes it; then a directory listing on the same mount.
        case flush
        /// The short session recorded as Captures/linux-guest.pcapng.
        case sample
        /// Many requests, some at once (~60,000 messages): cp -a of /bin, four parallel writers, find, tar,
        /// truncate, rename, rm -rf.
        case stress
        /// Three mounts, one per dialect (`version=9p2000`, `9p2000.u`, `9p2000.L`), each making the usual
        /// errors: steps `VERSION:enoent`, `:eexist`, `:enotempty`, `:enotdir` print what the program said;
        /// `:mv` renames a file and prints it from its new name.
        case dialects
        /// Mounted with `access=user`, so that each user attaches on its own (n_uname its uid): root writes a
        /// file of mode 0600 (step `root`), nobody reads hello.txt and creates a file (`nobody`) and cannot
        /// read root's (`denied`), root can (`owner`).
        case users
        /// Through a proxy with `--fault error=Tmkdir:ENOSPC,delay=Tread:300ms,hang=Twrite`: a mkdir the
        /// proxy refuses, a cat whose reads it holds back, a write it hangs from a process then killed (so
        /// the kernel flushes it), and a listing after.
        case faults
        /// What the others leave out, with a second mount (`cache=mmap,locktimeout=1`, a connection of its
        /// own) at /m2: fcntl and flock locks held through /mnt and waited for through /m2 (`locks`), xattrs
        /// (`xattr`), a shared mapping written and msync'd through /m2 and read through /mnt (`mmap`,
        /// `mapped`), fsync and fdatasync (`fsync`), O_DIRECT (`direct`), a file used after its unlink
        /// (`unlinked`), 600 names of 230 bytes in one directory, listed (`bigdir`) and removed (`rmbig`), a
        /// path of 20 directories walked by nobody from root's working directory there (`deep`), names of 255
        /// and 256 bytes (`long`, `toolong`) and UTF-8 (`utf8`), mkfifo and mknod (`special`), touch -d
        /// (`times`), truncate down and up (`truncate`), a hard link across directories (`links`), mv over a
        /// file and across directories (`rename`), df. The calls busybox lacks are Captures/linux-guest-probe.c.
        case calls
    }

    /// Boots the guest, which mounts `aname` from 127.0.0.1:`port` (as 10.0.2.2 in the guest) and runs
    /// `workload`, and returns its console once it powered off (or `timeout` passed). `mountOptions` are
    /// added to the mount's own (`cache=loose`: the script's GUEST_MOUNT_OPTIONS).
    static func boot(port: UInt16, aname: String, workload: Workload = .files, mountOptions: String? = nil,
                     timeout: Double = 300) throws -> Console {
        let script = Peers.repoRoot + "/Captures/linux-guest.sh"
        var environment = ProcessInfo.processInfo.environment
        environment["GUEST_MOUNT_OPTIONS"] = mountOptions
        let r = try Peers.run("/bin/bash", [script, String(port), aname, workload.rawValue], timeout: timeout,
                              environment: environment)
        return Console(text: r.out + r.err, timedOut: r.timedOut)
    }

    /// What the guest printed, by `@@` step.
    struct Console {
        let text: String
        let timedOut: Bool

        /// Whether a `@@ name…` line was printed.
        func has(_ step: String) -> Bool { steps.contains { $0.name == step } }

        /// The lines printed after `@@ name`, up to the next `@@` line.
        func output(_ step: String) -> [String] { steps.first { $0.name == step }?.lines ?? [] }

        var steps: [(name: String, lines: [String])] {
            var out: [(String, [String])] = []
            // The serial console ends lines with CR LF (one Character in Swift, so split on scalars).
            for raw in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false) {
                let line = String(String.UnicodeScalarView(raw)).replacingOccurrences(of: "\r", with: "")
                if let r = line.range(of: "@@ ") {
                    out.append((String(line[r.upperBound...].split(separator: " ").first ?? ""), []))
                } else if !out.isEmpty {
                    out[out.count - 1].1.append(line)
                }
            }
            return out
        }
    }
}
