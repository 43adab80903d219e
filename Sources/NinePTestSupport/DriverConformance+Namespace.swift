import NinePServer
import NinePWire

/// QEMU 9pfs: create_dir, unlinkat_dir, symlink_file, unlinkat_symlink, hardlink_file,
/// unlinkat_hardlink; plus renames.
extension DriverConformance {
    static let namespaceChecks: [ConformanceCheck] = [
        ConformanceCheck("create_dir", requires: .writable) { ctx in
            let q = try await ctx.client.mkdir(ctx.root, "newdir", mode: 0o750)
            try require(q.type.contains(.dir), "Rmkdir qid is a directory")
            let d = try await ctx.client.walkTo(ctx.root, "newdir")
            let a = try await ctx.client.getattr(d)
            try requireEqual(a.qid.path, q.path, "walk finds the new directory")
            try requireEqual(a.mode, FileType.directory.rawValue | 0o750, "mode of the new directory")
            let e = try await ctx.client.expectError(.tmkdir(Tmkdir(dfid: ctx.root, name: "newdir", mode: 0o755, gid: 0)))
            try requireEqual(e, .EEXIST, "mkdir over an existing name")
        },
        ConformanceCheck("unlinkat_dir", requires: .writable) { ctx in
            _ = try await ctx.client.mkdir(ctx.root, "gone")
            let d = try await ctx.client.walkTo(ctx.root, "gone")
            try await ctx.client.createFile(d, "inside")
            let full = try await ctx.client.expectError(.tunlinkat(Tunlinkat(dirfid: ctx.root, name: "gone", flags: Tunlinkat.removeDir)))
            try requireEqual(full, .ENOTEMPTY, "rmdir of a non-empty directory")
            let notRmdir = try await ctx.client.expectError(.tunlinkat(Tunlinkat(dirfid: ctx.root, name: "gone", flags: 0)))
            try require(notRmdir == .EISDIR || notRmdir == .EPERM, "unlink without AT_REMOVEDIR on a directory (\(String(describing: notRmdir)))")
            try await ctx.client.unlinkat(d, "inside")
            try await ctx.client.unlinkat(ctx.root, "gone", removeDir: true)
            let e = try await ctx.client.expectError(.twalk(Twalk(fid: ctx.root, newfid: ctx.client.freshFid(), wnames: ["gone"])))
            try requireEqual(e, .ENOENT, "walk after rmdir")
        },
        ConformanceCheck("symlink_file", requires: [.writable, .symlinks]) { ctx in
            try await ctx.client.createFile(ctx.root, "real", contents: [42])
            let q = try await ctx.client.symlink(ctx.root, "sym", target: "real")
            try require(q.type.contains(.symlink), "Rsymlink qid type is QTSYMLINK")
            let s = try await ctx.client.walkTo(ctx.root, "sym")
            try requireEqual(try await ctx.client.readlink(s), "real", "readlink")
            let a = try await ctx.client.getattr(s)
            try requireEqual(a.mode & FileType.mask, FileType.symlink.rawValue, "symlink mode")
            let f = try await ctx.client.walkTo(ctx.root, "real")
            let e = try await ctx.client.expectError(.treadlink(Treadlink(fid: f)))
            try requireEqual(e, .EINVAL, "readlink of a regular file")
        },
        ConformanceCheck("unlinkat_symlink", requires: [.writable, .symlinks]) { ctx in
            try await ctx.client.createFile(ctx.root, "real", contents: [42])
            _ = try await ctx.client.symlink(ctx.root, "sym", target: "real")
            try await ctx.client.unlinkat(ctx.root, "sym")
            let e = try await ctx.client.expectError(.twalk(Twalk(fid: ctx.root, newfid: ctx.client.freshFid(), wnames: ["sym"])))
            try requireEqual(e, .ENOENT, "symlink gone")
            let f = try await ctx.client.walkTo(ctx.root, "real")
            try await ctx.client.lopen(f)
            try requireEqual(try await ctx.client.read(f), [42], "target untouched")
        },
        ConformanceCheck("hardlink_file", requires: [.writable, .hardLinks]) { ctx in
            try await ctx.client.createFile(ctx.root, "orig", contents: Array("shared".utf8))
            let f = try await ctx.client.walkTo(ctx.root, "orig")
            try await ctx.client.link(ctx.root, f, "alias")
            let l = try await ctx.client.walkTo(ctx.root, "alias")
            let (a, b) = (try await ctx.client.getattr(f), try await ctx.client.getattr(l))
            try requireEqual(a.qid.path, b.qid.path, "same file under both names")
            try requireEqual(b.nlink, 2, "nlink after link")
            try await ctx.client.lopen(l)
            try requireEqual(try await ctx.client.read(l), Array("shared".utf8), "contents through the link")
            let d = try await ctx.client.walkTo(ctx.root, "")
            let e = try await ctx.client.expectError(.tlink(Tlink(dfid: ctx.root, fid: d, name: "dirlink")))
            try requireEqual(e, .EPERM, "hard link to a directory")
        },
        ConformanceCheck("unlinkat_hardlink", requires: [.writable, .hardLinks]) { ctx in
            try await ctx.client.createFile(ctx.root, "orig", contents: Array("kept".utf8))
            let f = try await ctx.client.walkTo(ctx.root, "orig")
            try await ctx.client.link(ctx.root, f, "alias")
            try await ctx.client.unlinkat(ctx.root, "alias")
            try requireEqual(try await ctx.client.getattr(f).nlink, 1, "nlink after unlinking the link")
            try await ctx.client.lopen(f)
            try requireEqual(try await ctx.client.read(f), Array("kept".utf8), "original keeps its data")
        },
        ConformanceCheck("rename/renameat_and_rename", requires: .writable) { ctx in
            _ = try await ctx.client.mkdir(ctx.root, "a")
            _ = try await ctx.client.mkdir(ctx.root, "b")
            let a = try await ctx.client.walkTo(ctx.root, "a")
            let b = try await ctx.client.walkTo(ctx.root, "b")
            try await ctx.client.createFile(a, "f", contents: [7])
            _ = try await ctx.client.call(.trenameat(Trenameat(olddirfid: a, oldname: "f", newdirfid: b, newname: "g")))
            let g = try await ctx.client.walkTo(ctx.root, "b/g")
            let e = try await ctx.client.expectError(.twalk(Twalk(fid: a, newfid: ctx.client.freshFid(), wnames: ["f"])))
            try requireEqual(e, .ENOENT, "old name gone")
            _ = try await ctx.client.call(.trename(Trename(fid: g, dfid: a, name: "h")))
            let h = try await ctx.client.walkTo(ctx.root, "a/h")
            try await ctx.client.lopen(h)
            try requireEqual(try await ctx.client.read(h), [7], "contents follow the renames")
            // The renamed fid still names the file: removing it through the fid works.
            guard case .rremove = try await ctx.client.call(.tremove(Tremove(fid: g))) else { throw ConformanceFailure("expected Rremove") }
            let gone = try await ctx.client.expectError(.twalk(Twalk(fid: a, newfid: ctx.client.freshFid(), wnames: ["h"])))
            try requireEqual(gone, .ENOENT, "removed through the renamed fid")
            let into = try await ctx.client.expectError(.trenameat(Trenameat(olddirfid: ctx.root, oldname: "a", newdirfid: a, newname: "x")))
            try requireEqual(into, .EINVAL, "a directory cannot move into itself")
        },
        ConformanceCheck("remove/clunks_even_on_failure", requires: .writable) { ctx in
            _ = try await ctx.client.mkdir(ctx.root, "full")
            let d = try await ctx.client.walkTo(ctx.root, "full")
            try await ctx.client.createFile(d, "x")
            let f = try await ctx.client.walkTo(ctx.root, "full")
            let e = try await ctx.client.expectError(.tremove(Tremove(fid: f)))
            try requireEqual(e, .ENOTEMPTY, "remove of a non-empty directory")
            let after = try await ctx.client.expectError(.tclunk(Tclunk(fid: f)))
            try requireEqual(after, .EBADF, "the fid was clunked by the failed Tremove")
        },
    ]
}
