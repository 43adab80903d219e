import NinePServer
import NinePWire

/// QEMU 9pfs: version/basic, attach/basic, walk/basic, no_slash, none, dotdot_from_root, non_existent,
/// 2nd_non_existent; plus the clone-in-place and walk-from-open-fid rules.
extension DriverConformance {
    static let walkChecks: [ConformanceCheck] = [
        ConformanceCheck("version/basic") { ctx in
            // A second Tversion resets the session: the root fid is gone afterwards.
            let v = try await ctx.client.version(msize: 4096, "9P2000.L")
            try requireEqual(v.version.string, "9P2000.L", "version")
            try requireEqual(v.msize, 4096, "msize = min(client, server)")
            let e = try await ctx.client.expectError(.tgetattr(Tgetattr(fid: ctx.root, requestMask: .basic)))
            try requireEqual(e, .EBADF, "fid after Tversion reset")
        },
        ConformanceCheck("attach/basic") { ctx in
            try require(ctx.rootQid.type.contains(.dir), "root qid is a directory")
            let a = try await ctx.client.getattr(ctx.root)
            try requireEqual(a.qid, ctx.rootQid, "Rgetattr qid of the root")
            try requireEqual(a.mode & FileType.mask, FileType.directory.rawValue, "root mode is a directory")
            // The same fid cannot be attached twice.
            let e = try await ctx.client.expectError(.tattach(Tattach(fid: ctx.root, uname: "x", aname: "", nUname: NineP.noUname)))
            try requireEqual(e, .EBADF, "attach to a fid in use")
        },
        ConformanceCheck("walk/basic") { ctx in
            try await ctx.ensureWalkTree()
            let names = (0..<NineP.maxWalkElements).map { "\(SyntheticDriverNames.walk)\($0)" }
            let nf = ctx.client.freshFid()
            let qids = try await ctx.client.walk(ctx.root, nf, names)
            try requireEqual(qids.count, names.count, "Rwalk nwqid")
            try require(qids.allSatisfy { $0.type.contains(.dir) }, "every walked qid is a directory")
            try requireEqual(Set(qids.map(\.path)).count, qids.count, "distinct qid paths")
            let a = try await ctx.client.getattr(nf)
            try requireEqual(a.qid, qids.last!, "newfid refers to the last element")
            // More than MAXWELEM names is refused.
            let e = try await ctx.client.expectError(.twalk(Twalk(fid: ctx.root, newfid: ctx.client.freshFid(), wnames: Array(repeating: "x", count: 17))))
            try require(e != nil, "walk of 17 names fails")
        },
        ConformanceCheck("walk/no_slash") { ctx in
            try await ctx.ensureWalkTree()
            let e = try await ctx.client.expectError(.twalk(Twalk(fid: ctx.root, newfid: ctx.client.freshFid(), wnames: ["WALK0/WALK1"])))
            try requireEqual(e, .ENOENT, "a name with a slash")
        },
        ConformanceCheck("walk/none") { ctx in
            let nf = ctx.client.freshFid()
            let qids = try await ctx.client.walk(ctx.root, nf, [])
            try requireEqual(qids.count, 0, "nwqid of a clone")
            let a = try await ctx.client.getattr(nf)
            try requireEqual(a.qid, ctx.rootQid, "clone refers to the same file")
            // newfid == fid with no names is allowed too.
            let same = try await ctx.client.walk(nf, nf, [])
            try requireEqual(same.count, 0, "clone in place")
            try await ctx.client.clunk(nf)
        },
        ConformanceCheck("walk/dotdot_from_root") { ctx in
            let nf = ctx.client.freshFid()
            let qids = try await ctx.client.walk(ctx.root, nf, [".."])
            try requireEqual(qids, [ctx.rootQid], "`..` at the root stays at the root")
            try await ctx.ensureWalkTree()
            let deep = try await ctx.client.walk(ctx.root, ctx.client.freshFid(), ["WALK0", "WALK1", "..", "..", ".."])
            try requireEqual(deep.last?.path, ctx.rootQid.path, "walking back up ends at the root")
        },
        ConformanceCheck("walk/non_existent") { ctx in
            let nf = ctx.client.freshFid()
            let e = try await ctx.client.expectError(.twalk(Twalk(fid: ctx.root, newfid: nf, wnames: ["non-existent"])))
            try requireEqual(e, .ENOENT, "first element missing")
            let e2 = try await ctx.client.expectError(.tclunk(Tclunk(fid: nf)))
            try requireEqual(e2, .EBADF, "newfid not created by a failed walk")
        },
        ConformanceCheck("walk/2nd_non_existent") { ctx in
            try await ctx.ensureWalkTree()
            let nf = ctx.client.freshFid()
            let qids = try await ctx.client.walk(ctx.root, nf, ["WALK0", "non-existent"])
            try requireEqual(qids.count, 1, "partial walk returns the qids walked")
            let e = try await ctx.client.expectError(.tgetattr(Tgetattr(fid: nf, requestMask: .basic)))
            try requireEqual(e, .EBADF, "newfid not created by a partial walk")
            // In place: the fid stays where it was.
            let f = try await ctx.client.walkTo(ctx.root, "")
            _ = try await ctx.client.walk(f, f, ["WALK0", "non-existent"])
            try requireEqual(try await ctx.client.getattr(f).qid.path, ctx.rootQid.path, "fid unchanged by a partial walk in place")
        },
        ConformanceCheck("walk/open_fid") { ctx in
            try await ctx.ensureWalkTree()
            let d = try await ctx.client.walkTo(ctx.root, "WALK0")
            try await ctx.client.lopen(d, LOpenFlags.rdonly.union(.directory))
            let e = try await ctx.client.expectError(.twalk(Twalk(fid: d, newfid: d, wnames: [])))
            try require(e != nil, "an open fid cannot be walked in place")
            // 9P2000.L (diod, QEMU): walking from an open fid into a new fid works (diodls -l does it); the
            // new fid is not open, and the open one still reads.
            let sub = ctx.client.freshFid()
            try requireEqual(try await ctx.client.walk(d, sub, ["\(SyntheticDriverNames.walk)1"]).count, 1, "walk from an open fid")
            try await ctx.client.lopen(sub, LOpenFlags.rdonly.union(.directory))
            try require(!(try await ctx.client.readdir(d)).isEmpty, "the open fid still reads")
            let f = try await ctx.client.walkTo(ctx.root, "WALK0")
            let e2 = try await ctx.client.expectError(.twalk(Twalk(fid: ctx.root, newfid: f, wnames: [])))
            try requireEqual(e2, .EBADF, "newfid already in use")
        },
    ]
}
