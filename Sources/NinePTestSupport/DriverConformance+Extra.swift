import NinePServer
import NinePWire

/// Extended attributes (Txattrwalk/Txattrcreate) and POSIX locks (Tlock/Tgetlock).
extension DriverConformance {
    static let extraChecks: [ConformanceCheck] = [
        ConformanceCheck("xattr/set_get_list_remove", requires: [.writable, .xattrs]) { ctx in
            let c = ctx.client
            try await c.createFile(ctx.root, "tagged")
            let f = try await c.walkTo(ctx.root, "tagged")
            let value = Array("blue".utf8)
            let w = try await c.walkTo(f, "")
            _ = try await c.call(.txattrcreate(Txattrcreate(fid: w, name: "user.colour", attrSize: UInt64(value.count), flags: 0)))
            try await c.write(w, value)
            try await c.clunk(w)   // the value is set at clunk
            let r = c.freshFid()
            guard case .rxattrwalk(let x) = try await c.call(.txattrwalk(Txattrwalk(fid: f, newfid: r, name: "user.colour"))) else {
                throw ConformanceFailure("expected Rxattrwalk")
            }
            try requireEqual(x.size, UInt64(value.count), "xattr size")
            try requireEqual(try await c.read(r, count: 100), value, "xattr value")
            let l = c.freshFid()
            _ = try await c.call(.txattrwalk(Txattrwalk(fid: f, newfid: l, name: "")))
            let list = try await c.read(l, count: 1000)
            try require(list.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }.contains("user.colour"),
                        "listxattr contains the name")
            let missing = try await c.expectError(.txattrwalk(Txattrwalk(fid: f, newfid: c.freshFid(), name: "user.none")))
            try requireEqual(missing, .ENODATA, "absent xattr")
            let rm = try await c.walkTo(f, "")
            _ = try await c.call(.txattrcreate(Txattrcreate(fid: rm, name: "user.colour", attrSize: 0, flags: 0)))
            try await c.clunk(rm)
            let gone = try await c.expectError(.txattrwalk(Txattrwalk(fid: f, newfid: c.freshFid(), name: "user.colour")))
            try requireEqual(gone, .ENODATA, "xattr removed by a size-0 Txattrcreate")
        },
        ConformanceCheck("lock/posix_conflicts", requires: [.writable, .locks]) { ctx in
            let c = ctx.client
            try await c.createFile(ctx.root, "locked", contents: [UInt8](repeating: 0, count: 100))
            let a = try await c.walkTo(ctx.root, "locked"), b = try await c.walkTo(ctx.root, "locked")
            try await c.lopen(a, .rdwr)
            try await c.lopen(b, .rdwr)
            func lock(_ fid: Fid, _ type: LockType, _ start: UInt64, _ len: UInt64, _ proc: UInt32) async throws -> LockStatus {
                guard case .rlock(let r) = try await c.call(.tlock(Tlock(fid: fid, type: type, flags: [], start: start, length: len, procId: proc, clientId: "test")))
                else { throw ConformanceFailure("expected Rlock") }
                return r.status
            }
            try requireEqual(try await lock(a, .wrlck, 0, 10, 1), .success, "first write lock")
            try requireEqual(try await lock(b, .wrlck, 5, 10, 2), .blocked, "overlapping write lock of another owner")
            try requireEqual(try await lock(b, .wrlck, 10, 10, 2), .success, "adjacent range")
            guard case .rgetlock(let g) = try await c.call(.tgetlock(Tgetlock(fid: b, type: .rdlck, start: 0, length: 1, procId: 2, clientId: "test")))
            else { throw ConformanceFailure("expected Rgetlock") }
            try requireEqual(g.type, .wrlck, "getlock reports the conflicting lock")
            try requireEqual(g.procId, 1, "conflicting owner")
            try requireEqual(try await lock(a, .unlck, 0, 0, 1), .success, "unlock")
            try requireEqual(try await lock(b, .wrlck, 0, 10, 2), .success, "lock after unlock")
        },
    ]
}
