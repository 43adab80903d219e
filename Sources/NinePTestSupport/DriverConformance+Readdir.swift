import NinePServer
import NinePWire

/// QEMU 9pfs: readdir/basic and readdir/split_512, split_256, split_128.
extension DriverConformance {
    static let readdirChecks: [ConformanceCheck] = [
        ConformanceCheck("readdir/basic") { ctx in
            try await ctx.ensureReadDirDir()
            let d = try await ctx.client.walkTo(ctx.root, SyntheticDriverNames.readDirDir)
            let entries = try await ctx.client.listDirectory(d, count: 8192 - 24)
            try checkReadDirDir(entries)
            let cookies = entries.map(\.offset)
            try requireEqual(Set(cookies).count, cookies.count, "cookies are distinct")
        },
        ConformanceCheck("readdir/split_512") { ctx in try await readdirSplit(ctx, 512) },
        ConformanceCheck("readdir/split_256") { ctx in try await readdirSplit(ctx, 256) },
        ConformanceCheck("readdir/split_128") { ctx in try await readdirSplit(ctx, 128) },
        ConformanceCheck("readdir/not_open") { ctx in
            let e = try await ctx.client.expectError(.treaddir(Treaddir(fid: ctx.root, offset: 0, count: 1000)))
            try requireEqual(e, .EBADF, "Treaddir on a fid that is not open")
        },
    ]

    /// ".", ".." and ReadDirFile0…99, each once, with sensible types.
    static func checkReadDirDir(_ entries: [Dirent]) throws {
        let names = entries.map(\.name.string)
        try requireEqual(names.count, SyntheticDriverNames.readDirFileCount + 2, "entry count (files + . and ..)")
        var expected = Set((0..<SyntheticDriverNames.readDirFileCount).map { "\(SyntheticDriverNames.readDirFile)\($0)" })
        expected.formUnion([".", ".."])
        try requireEqual(Set(names), expected, "entry names")
        for e in entries {
            let isDot = e.name.string == "." || e.name.string == ".."
            try requireEqual(e.type, isDot ? FileType.directory.dirent : FileType.regular.dirent, "d_type of \(e.name)")
            try requireEqual(e.qid.type.contains(.dir), isDot, "qid type of \(e.name)")
        }
    }

    /// Reads ReadDirDir with a small count: every reply holds whole entries within count, and together
    /// they list every entry exactly once.
    static func readdirSplit(_ ctx: ConformanceContext, _ count: UInt32) async throws {
        try await ctx.ensureReadDirDir()
        let d = try await ctx.client.walkTo(ctx.root, SyntheticDriverNames.readDirDir)
        try await ctx.client.lopen(d, LOpenFlags.rdonly.union(.directory))
        var all: [Dirent] = []
        var offset: UInt64 = 0
        var replies = 0
        while replies < 1000 {
            let part = try await ctx.client.readdir(d, offset: offset, count: count)
            guard let last = part.last else { break }
            let bytes = part.reduce(0) { $0 + 24 + $1.name.bytes.count }
            try require(bytes <= Int(count), "reply of \(bytes) bytes for count \(count)")
            all += part
            offset = last.offset
            replies += 1
        }
        try require(replies > 1, "count \(count) splits the listing (\(replies) replies)")
        try checkReadDirDir(all)
    }
}
