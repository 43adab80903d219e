import Foundation
import NinePTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A Linux guest whose kernel mounts a 9P2000.L export from the host over TCP (`trans=tcp`), runs a
/// fixed workload on it and powers off: Debian's own kernel (`linux-image-amd64`) booted by qemu under
/// software emulation (`-accel tcg`, no KVM needed) with a small initramfs built here from
/// `busybox-static` and the kernel's 9p modules. The guest reaches the host's 127.0.0.1 as 10.0.2.2
/// (qemu's user-mode network), so whatever listens there on loopback — `ninescope proxy`, diod,
/// `ninescope serve` — is what the kernel's 9p client talks to.
///
/// The guest prints `@@ step` lines on its serial console (qemu's stdout), followed by what the step
/// printed; `Console` splits them.
enum KernelGuest {
    struct Kernel {
        let image: String
        let modules: String
    }

    /// Modules the mount needs, in load order; those built into the kernel are simply absent.
    static let moduleNames = ["e1000", "netfs", "fscache", "9pnet", "9pnet_fd", "9p"]

    /// Busybox applets the init script uses.
    static let applets = ["sh", "mount", "umount", "insmod", "ip", "ls", "cat", "echo", "mkdir", "poweroff",
                          "sed", "sha256sum", "mv", "ln", "chmod", "touch", "rm", "readlink", "df", "stat",
                          "sync", "tail", "dmesg", "sleep", "printf", "kill", "wc"]

    /// The guest's workload. Every step's output follows its `@@` line.
    static let initScript = """
    #!/bin/sh
    export PATH=/bin
    mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
    for m in \(moduleNames.joined(separator: " ")); do [ -f /lib/$m.ko ] && insmod /lib/$m.ko; done
    PORT=$(sed -n 's/.*ninep_port=\\([0-9]*\\).*/\\1/p' /proc/cmdline)
    ANAME=$(sed -n 's/.*ninep_aname=\\([^ ]*\\).*/\\1/p' /proc/cmdline)
    ip link set lo up; ip link set eth0 up
    ip addr add 10.0.2.15/24 dev eth0; ip route add default via 10.0.2.2
    echo "@@ mount 10.0.2.2:$PORT $ANAME"
    WORK=$(sed -n 's/.*ninep_work=\\([a-z]*\\).*/\\1/p' /proc/cmdline)
    if ! mount -t 9p -o trans=tcp,port=$PORT,version=9p2000.L,aname=$ANAME,msize=131072 10.0.2.2 /mnt; then
      echo "@@ mount failed"; dmesg | tail -8
    elif [ "$WORK" = flush ]; then
      echo "@@ mounted"
      printf x 1<>/mnt/FLUSH &
      W=$!; sleep 2; kill $W; wait $W; echo "@@ killed $?"
      echo "@@ after"; ls -1 /mnt/ReadDirDir | wc -l
      umount /mnt && echo "@@ unmounted"
    else
      echo "@@ mounted"
      echo "@@ ls"; ls -1 /mnt
      echo "@@ cat"; cat /mnt/hello.txt
      echo "@@ sha"; sha256sum /mnt/big.bin
      echo written-by-guest > /mnt/new.txt
      mkdir /mnt/dir; echo x > /mnt/dir/f; mv /mnt/dir/f /mnt/dir/g
      ln -s new.txt /mnt/link; ln /mnt/new.txt /mnt/hard
      chmod 600 /mnt/new.txt; touch /mnt/dir/g; rm /mnt/dir/g
      echo "@@ readlink"; readlink /mnt/link
      echo "@@ stat"; stat -c '%a %s %h' /mnt/new.txt
      echo "@@ df"; df /mnt | tail -1
      sync
      umount /mnt && echo "@@ unmounted"
    fi
    echo "@@ end"
    poweroff -f

    """

    /// The newest installed kernel that has the 9p modules, or an error saying what is missing.
    static func findKernel() throws -> Kernel {
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: "/lib/modules")) ?? []).sorted().reversed()
        for v in versions {
            let image = "/boot/vmlinuz-\(v)"
            guard FileManager.default.fileExists(atPath: image), moduleFile("9p", in: "/lib/modules/\(v)") != nil
            else { continue }
            guard access(image, R_OK) == 0 else {
                throw ProxyHarnessError("\(image) is not readable by this user (Debian installs it mode 0600)")
            }
            return Kernel(image: image, modules: "/lib/modules/\(v)")
        }
        throw ProxyHarnessError("no kernel with 9p modules under /boot and /lib/modules; `make test` installs linux-image-amd64")
    }

    /// The path of module `name` (`name.ko`, possibly compressed) under `modules`/kernel.
    static func moduleFile(_ name: String, in modules: String) -> String? {
        guard let walker = FileManager.default.enumerator(atPath: modules + "/kernel") else { return nil }
        for case let rel as String in walker {
            let base = (rel as NSString).lastPathComponent
            if base == name + ".ko" || base.hasPrefix(name + ".ko.") { return modules + "/kernel/" + rel }
        }
        return nil
    }

    /// The initramfs (a newc cpio archive, uncompressed): busybox, the modules, /init.
    static func initramfs(_ kernel: Kernel) throws -> Data {
        guard let busybox = ["/bin/busybox", "/usr/bin/busybox"].first(where: { FileManager.default.fileExists(atPath: $0) })
        else { throw ProxyHarnessError("busybox is not installed; `make test` installs busybox-static") }
        var cpio = Cpio()
        for d in ["bin", "lib", "proc", "sys", "dev", "mnt"] { cpio.directory(d) }
        cpio.file("bin/busybox", Array(try Data(contentsOf: URL(fileURLWithPath: busybox))), mode: 0o755)
        for a in applets { cpio.symlink("bin/" + a, target: "busybox") }
        for m in moduleNames {
            guard let path = moduleFile(m, in: kernel.modules) else { continue }
            cpio.file("lib/\(m).ko", try moduleBytes(path), mode: 0o644)
        }
        cpio.file("init", Array(initScript.utf8), mode: 0o755)
        return cpio.finish()
    }

    /// A module's bytes, decompressed when the distribution ships it compressed (busybox insmod takes
    /// plain ELF only).
    static func moduleBytes(_ path: String) throws -> [UInt8] {
        let tool: String? = path.hasSuffix(".xz") ? "xz" : path.hasSuffix(".zst") ? "zstd" : path.hasSuffix(".gz") ? "gzip" : nil
        guard let tool else { return Array(try Data(contentsOf: URL(fileURLWithPath: path))) }
        guard let exe = Peers.which(tool) else { throw ProxyHarnessError("\(tool) is needed to unpack \(path)") }
        let r = try Peers.run(exe, ["-dc", path])
        guard r.status == 0 else { throw ProxyHarnessError("\(tool) -dc \(path) failed: \(r.err)") }
        return Array(r.stdout)
    }

    /// Boots the guest, which mounts `aname` from 127.0.0.1:`port` (as 10.0.2.2 in the guest) and runs
    /// `workload`, and returns its console once it powered off (or `timeout` passed).
    static func boot(port: UInt16, aname: String, workload: Workload = .files, timeout: Double = 300) throws -> Console {
        guard let qemu = Peers.which("qemu-system-x86_64") else {
            throw ProxyHarnessError("qemu-system-x86_64 is not installed; `make test` installs qemu-system-x86")
        }
        let kernel = try findKernel()
        let dir = Peers.tempDir("guest")
        let initrd = dir + "/initramfs.cpio"
        try initramfs(kernel).write(to: URL(fileURLWithPath: initrd))
        let r = try Peers.run(qemu, [
            "-accel", "tcg", "-m", "384", "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot",
            "-kernel", kernel.image, "-initrd", initrd,
            "-append", "console=ttyS0 quiet panic=-1 ninep_port=\(port) ninep_aname=\(aname) ninep_work=\(workload.rawValue)",
            "-netdev", "user,id=n0", "-device", "e1000,netdev=n0",
        ], timeout: timeout)
        return Console(text: r.out + r.err, timedOut: r.timedOut)
    }

    /// What the guest does once mounted.
    enum Workload: String {
        /// List, read (cat, sha256sum), create, write, mkdir, rename, symlink, hard link, chmod, touch,
        /// remove, readlink, stat, statfs, unmount.
        case files
        /// Against the synthetic driver: a write to /FLUSH (which blocks until flushed) from a process
        /// that is then killed, so the kernel flushes it; then a directory listing on the same mount.
        case flush
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

    /// A newc ("070701") cpio archive, as the kernel unpacks an initramfs.
    struct Cpio {
        private var data = Data()
        private var inode: UInt32 = 1

        mutating func directory(_ name: String) { entry(name, mode: 0o040755, body: []) }
        mutating func file(_ name: String, _ bytes: [UInt8], mode: UInt32) { entry(name, mode: 0o100000 | mode, body: bytes) }
        mutating func symlink(_ name: String, target: String) { entry(name, mode: 0o120777, body: Array(target.utf8)) }

        mutating func finish() -> Data {
            entry("TRAILER!!!", mode: 0, body: [])
            return data
        }

        private mutating func entry(_ name: String, mode: UInt32, body: [UInt8]) {
            let nameBytes = Array(name.utf8) + [0]
            let isDirectory = mode & 0o170000 == 0o040000
            // ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
            let fields: [UInt32] = [inode, mode, 0, 0, isDirectory ? 2 : 1, 0, UInt32(body.count), 0, 0, 0, 0,
                                    UInt32(nameBytes.count), 0]
            inode += 1
            var header = "070701"
            for f in fields { header += String(format: "%08X", f) }
            data.append(contentsOf: Array(header.utf8))
            data.append(contentsOf: nameBytes)
            pad()
            data.append(contentsOf: body)
            pad()
        }

        private mutating func pad() {
            while data.count % 4 != 0 { data.append(0) }
        }
    }
}
