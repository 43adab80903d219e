import NinePServer
import NinePWire

/// QEMU 9pfs: lopen/basic, write/basic, create_file, unlinkat_file, use_after_unlink; plus reads,
/// offsets, truncation and attributes.
extension DriverConformance {
    static let fileChecks: [ConformanceCheck] = [
        ConformanceCheck("lopen/basic") { ctx in
            try await ctx.ensureFile(SyntheticDriverNames.lopen)
            let f = try await ctx.client.walkTo(ctx.root, SyntheticDriverNames.lopen)
            let r = try await ctx.client.lopen(f)
            try require(!r.qid.type.contains(.dir), "LOPEN is a file")
            try require(r.iounit > 0 && r.iounit <= 8192 - 24, "iounit within msize − IOHDRSZ (\(r.iounit))")
            let again = try await ctx.client.expectError(.tlopen(Tlopen(fid: f, flags: .rdonly)))
            try require(again != nil, "a fid opens once")
            let d = try await ctx.client.walkTo(ctx.root, "")
            let e = try await ctx.client.expectError(.tlopen(Tlopen(fid: d, flags: .rdwr)))
            try requireEqual(e, .EISDIR, "a directory opened for writing")
        },
        ConformanceCheck("write/basic") { ctx in
            try await ctx.ensureFile(SyntheticDriverNames.write)
            let f = try await ctx.client.walkTo(ctx.root, SyntheticDriverNames.write)
            try await ctx.client.lopen(f, .wronly)
            let data = Array("hello, 9p".utf8)
            let n = try await ctx.client.write(f, data)
            try requireEqual(n, UInt32(data.count), "Rwrite count")
            let e = try await ctx.client.expectError(.tread(Tread(fid: f, offset: 0, count: 10)))
            try requireEqual(e, .EBADF, "read from a write-only fid")
            let r = try await ctx.client.walkTo(ctx.root, SyntheticDriverNames.write)
            try await ctx.client.lopen(r)
            try requireEqual(try await ctx.client.read(r, count: 100), data, "read back")
            try requireEqual(try await ctx.client.read(r, offset: 7, count: 100), Array("9p".utf8), "read at an offset")
            try requireEqual(try await ctx.client.read(r, offset: 100, count: 100), [], "read past the end")
            let w = try await ctx.client.expectError(.twrite(Twrite(fid: r, offset: 0, data: [1])))
            try requireEqual(w, .EBADF, "write to a read-only fid")
        },
        ConformanceCheck("fsync", requires: .writable) { ctx in
            // Tfsync of an open file, data and metadata or data only; of a fid not open: an error.
            let d = try await ctx.client.walkTo(ctx.root, "")
            _ = try await ctx.client.lcreate(d, "synced", flags: .rdwr, mode: 0o640)
            try requireEqual(try await ctx.client.write(d, Array("kept".utf8)), 4, "Rwrite count")
            for datasync: UInt32 in [0, 1] {
                guard case .rfsync = try await ctx.client.call(.tfsync(Tfsync(fid: d, datasync: datasync))) else {
                    throw ConformanceFailure("expected Rfsync (datasync \(datasync))")
                }
            }
            let walked = try await ctx.client.walkTo(ctx.root, "synced")
            let e = try await ctx.client.expectError(.tfsync(Tfsync(fid: walked, datasync: 0)))
            try require(e != nil, "Tfsync of a fid that is not open")
            let r = try await ctx.client.walkTo(ctx.root, "synced")
            try await ctx.client.lopen(r)
            try requireEqual(try await ctx.client.read(r, count: 10), Array("kept".utf8), "read back after fsync")
        },
        ConformanceCheck("create_file", requires: .writable) { ctx in
            let d = try await ctx.client.walkTo(ctx.root, "")
            let r = try await ctx.client.lcreate(d, "new-file", flags: .rdwr, mode: 0o640)
            try require(!r.qid.type.contains(.dir), "created a file")
            try requireEqual(try await ctx.client.write(d, Array("abc".utf8)), 3, "write through the created fid")
            try requireEqual(try await ctx.client.read(d, count: 10), Array("abc".utf8), "read through the created fid")
            let a = try await ctx.client.getattr(d)
            try requireEqual(a.mode, FileType.regular.rawValue | 0o640, "mode of the new file")
            try requireEqual(a.size, 3, "size after write")
            let f = try await ctx.client.walkTo(ctx.root, "new-file")
            try requireEqual(try await ctx.client.getattr(f).qid.path, r.qid.path, "walk finds the new file")
            let dup = try await ctx.client.walkTo(ctx.root, "")
            let e = try await ctx.client.expectError(.tlcreate(Tlcreate(fid: dup, name: "new-file", flags: [.rdwr, .excl], mode: 0o644, gid: 0)))
            try requireEqual(e, .EEXIST, "create with O_EXCL over an existing name")
            // Without O_EXCL it is open(2) with O_CREAT: the file there is opened (with O_TRUNC, truncated),
            // its mode untouched.
            guard case .rlcreate(let again) = try await ctx.client.call(.tlcreate(Tlcreate(fid: dup, name: "new-file", flags: .rdonly, mode: 0o600, gid: 0))) else {
                throw ConformanceFailure("create without O_EXCL over an existing name did not open it")
            }
            try requireEqual(again.qid.path, r.qid.path, "the existing file opened")
            try requireEqual(try await ctx.client.read(dup, count: 10), Array("abc".utf8), "read the existing file's bytes")
            let trunc = try await ctx.client.walkTo(ctx.root, "")
            _ = try await ctx.client.call(.tlcreate(Tlcreate(fid: trunc, name: "new-file", flags: [.wronly, .trunc], mode: 0o600, gid: 0)))
            try requireEqual(try await ctx.client.getattr(f).size, 0, "O_TRUNC truncated the existing file")
            try requireEqual(try await ctx.client.getattr(f).mode, FileType.regular.rawValue | 0o640, "its mode untouched")
            _ = try await ctx.client.mkdir(ctx.root, "a-dir")
            let onDir = try await ctx.client.walkTo(ctx.root, "")
            let isDir = try await ctx.client.expectError(.tlcreate(Tlcreate(fid: onDir, name: "a-dir", flags: .rdonly, mode: 0o600, gid: 0)))
            try requireEqual(isDir, .EISDIR, "create without O_EXCL over a directory")
            let bad = try await ctx.client.expectError(.tlcreate(Tlcreate(fid: onDir, name: "a/b", flags: .rdwr, mode: 0o644, gid: 0)))
            try requireEqual(bad, .EINVAL, "create a name with a slash")
        },
        ConformanceCheck("unlinkat_file", requires: .writable) { ctx in
            try await ctx.client.createFile(ctx.root, "doomed", contents: [1, 2, 3])
            try await ctx.client.unlinkat(ctx.root, "doomed")
            let e = try await ctx.client.expectError(.twalk(Twalk(fid: ctx.root, newfid: ctx.client.freshFid(), wnames: ["doomed"])))
            try requireEqual(e, .ENOENT, "walk after unlink")
            let again = try await ctx.client.expectError(.tunlinkat(Tunlinkat(dirfid: ctx.root, name: "doomed", flags: 0)))
            try requireEqual(again, .ENOENT, "unlink twice")
        },
        ConformanceCheck("use_after_unlink", requires: .writable) { ctx in
            let f = try await ctx.client.walkTo(ctx.root, "")
            try await ctx.client.lcreate(f, "ghost", flags: .rdwr)
            try await ctx.client.write(f, Array("before".utf8))
            try await ctx.client.unlinkat(ctx.root, "ghost")
            let n = try await ctx.client.write(f, offset: 6, Array(" after".utf8))
            try requireEqual(n, 6, "write to an open fid after unlink")
            try requireEqual(try await ctx.client.read(f, count: 100), Array("before after".utf8), "read after unlink")
            try await ctx.client.clunk(f)
        },
        ConformanceCheck("setattr/truncate_chmod_utimes", requires: .writable) { ctx in
            try await ctx.client.createFile(ctx.root, "attrs", contents: Array("0123456789".utf8))
            let f = try await ctx.client.walkTo(ctx.root, "attrs")
            _ = try await ctx.client.call(.tsetattr(Tsetattr(fid: f, valid: [.size], size: 4)))
            try requireEqual(try await ctx.client.getattr(f).size, 4, "size after truncate")
            _ = try await ctx.client.call(.tsetattr(Tsetattr(fid: f, valid: [.mode], mode: 0o600)))
            try requireEqual(try await ctx.client.getattr(f).mode, FileType.regular.rawValue | 0o600, "mode after chmod")
            _ = try await ctx.client.call(.tsetattr(Tsetattr(fid: f, valid: [.mtime, .mtimeSet, .atime, .atimeSet],
                                                            atimeSec: 1_000_000, atimeNsec: 5, mtimeSec: 2_000_000, mtimeNsec: 7)))
            let a = try await ctx.client.getattr(f)
            try requireEqual(a.mtimeSec, 2_000_000, "mtime set")
            try requireEqual(a.atimeSec, 1_000_000, "atime set")
            let o = try await ctx.client.walkTo(ctx.root, "attrs")
            try await ctx.client.lopen(o)
            try requireEqual(try await ctx.client.read(o, count: 100), Array("0123".utf8), "contents after truncate")
        },
        ConformanceCheck("statfs/basic") { ctx in
            guard case .rstatfs(let s) = try await ctx.client.call(.tstatfs(Tstatfs(fid: ctx.root))) else {
                throw ConformanceFailure("expected Rstatfs")
            }
            try require(s.bsize > 0, "bsize > 0")
            try require(s.bfree <= s.blocks && s.bavail <= s.blocks, "free blocks within total")
            try require(s.namelen > 0, "namelen > 0")
        },
    ]
}
