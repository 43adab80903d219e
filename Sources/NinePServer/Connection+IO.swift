import NinePWire

/// Tread, Twrite, Treaddir; classic directory reads as packed stat entries (read(5), stat(5)).
extension Connection {
    /// The most data an Rread or Rreaddir may carry under this msize.
    var maxIO: UInt32 { msize > UInt32(NineP.ioHeaderSize) ? msize - UInt32(NineP.ioHeaderSize) : 0 }

    func read(_ t: Tread) async throws -> Message {
        let e = try entry(t.fid)
        let count = min(t.count, maxIO)
        switch e.state {
        case .xattrRead(let value):
            guard t.offset < UInt64(value.count) else { return .rread(Rread(data: [])) }
            let from = Int(t.offset)
            return .rread(Rread(data: Array(value[from..<min(value.count, from + Int(count))])))
        case .open(let o):
            guard o.canRead else { throw ServerError(.EBADF, "fid not open for reading") }
            if o.isDirectory {
                guard dialect != .l else { throw ServerError(.EISDIR) }
                return .rread(Rread(data: try await readStats(t.fid, e, o, offset: t.offset, count: count)))
            }
            return .rread(Rread(data: try await driver.read(o.file, offset: t.offset, count: count)))
        default:
            throw ServerError(.EBADF, "fid is not open")
        }
    }

    /// Tread, with file data read straight into the reply frame when the fid is an open regular file:
    /// the driver leaves `Reply.rreadHeaderSize` bytes of headroom, and the header is written there while
    /// this function still holds the only reference to the array (so the data is never copied).
    /// A Tread of an open regular file whose data the driver can read now, answered here and now: the
    /// data read straight into the transport's buffer, with no task, pending entry or closure made for
    /// it (the common case of a bulk read, the same reply `readReply`'s in-place path would send, as that
    /// path never suspends either). False, having sent nothing, when the request needs the general path
    /// (another kind of fid, an unknown one, a driver's request hook, a driver that must wait).
    func readAtOnce(_ t: Tread, tag: Tag) -> Bool {
        guard emitInPlace != nil, driver.requestHook == nil, case .live(let e)? = fids[t.fid],
              case .open(let o) = e.state, o.canRead, !o.isDirectory, driver.canReadNow(o.file) else { return false }
        let count = Int(min(t.count, maxIO)), driver = self.driver
        let error = sendRread(tag, capacity: Reply.rreadHeaderSize + count) { b throws(Errno) in
            try Self.fillRread(b, driver: driver, file: o.file, offset: t.offset, count: count, tag: tag)
        }
        if let error { sendError(tag, error) }
        return true
    }

    /// An Rread built in `b` (the transport's buffer): `count` bytes at `offset` read by the driver there
    /// and then (`readNow`), the header written before them. Returns the frame's size.
    static func fillRread(_ b: UnsafeMutableRawBufferPointer, driver: Driver, file: OpenFile, offset: UInt64,
                          count: Int, tag: Tag) throws(Errno) -> Int {
        let header = Reply.rreadHeaderSize
        let n = try driver.readNow(file, offset: offset, into: UnsafeMutableRawBufferPointer(rebasing: b[header..<(header + count)]))
        Reply.writeRreadHeader(into: b, size: header + n, tag: tag)
        return header + n
    }

    /// A Twrite to an open regular file that the driver can write now, answered here and now from the
    /// borrowed frame: its data goes from the transport's buffer to the driver with no copy, and no task or
    /// pending entry is made. The same checks and reply as `dispatch` and `write` give it; false, having
    /// sent nothing, when it needs the general path (before Tversion, a tag in use, a frame whose count
    /// does not match its size, another kind of fid, a request hook, a driver that must wait).
    func writeAtOnce(_ frame: UnsafeRawBufferPointer, tag: Tag) -> Bool {
        let header = NineP.headerSize + 4 + 8 + 4  // fid[4] offset[8] count[4]
        guard dialect != nil, frame.count >= header, pending[tag] == nil, driver.requestHook == nil else { return false }
        let fid = Fid(frame.loadUnaligned(fromByteOffset: NineP.headerSize, as: UInt32.self).littleEndian)
        let offset = frame.loadUnaligned(fromByteOffset: NineP.headerSize + 4, as: UInt64.self).littleEndian
        let count = frame.loadUnaligned(fromByteOffset: NineP.headerSize + 12, as: UInt32.self).littleEndian
        guard header + Int(count) == frame.count, case .live(let e)? = fids[fid],
              case .open(let o) = e.state, o.canWrite, !o.isDirectory, driver.canWriteNow(o.file) else { return false }
        do throws(Errno) {
            let n = try driver.writeNow(o.file, offset: offset, from: UnsafeRawBufferPointer(rebasing: frame[header...]))
            send(tag, .rwrite(Rwrite(count: n)))
        } catch {
            sendError(tag, ServerError(error))
        }
        return true
    }

    func readReply(_ t: Tread, tag: Tag) async throws -> Reply {
        let e = try entry(t.fid)
        if case .open(let o) = e.state, o.canRead, !o.isDirectory {
            let count = min(t.count, maxIO)
            if emitInPlace != nil, driver.canReadNow(o.file) {
                // Read when the reply is built, straight into the transport's buffer.
                let driver = self.driver, file = o.file, offset = t.offset
                return .rreadInPlace(capacity: Reply.rreadHeaderSize + Int(count)) { b throws(Errno) in
                    try Self.fillRread(b, driver: driver, file: file, offset: offset, count: Int(count), tag: tag)
                }
            }
            var frame = try await driver.read(o.file, offset: t.offset, count: count, headroom: Reply.rreadHeaderSize)
            let size = frame.count
            guard size >= Reply.rreadHeaderSize else { throw ServerError(.EIO, "driver read returned no headroom") }
            frame.withUnsafeMutableBytes { Reply.writeRreadHeader(into: $0, size: size, tag: tag) }
            return .rreadFrame(frame)
        }
        return .message(try await read(t))
    }

    func write(_ t: Twrite) async throws -> Message {
        let e = try entry(t.fid)
        switch e.state {
        case .xattrWrite(var x):
            let end = t.offset.addingReportingOverflow(UInt64(t.payload.count))
            guard !end.overflow, end.partialValue <= UInt64(x.value.count) else {
                throw ServerError(.ENOSPC, "write past the declared xattr size")
            }
            x.value.replaceSubrange(Int(t.offset)..<Int(end.partialValue), with: t.payload)
            x.written = max(x.written, end.partialValue)
            let updated = x
            update(t.fid, serial: e.serial) { $0.state = .xattrWrite(updated) }
            return .rwrite(Rwrite(count: UInt32(t.payload.count)))
        case .open(let o):
            guard o.canWrite, !o.isDirectory else { throw ServerError(.EBADF, "fid not open for writing") }
            let n = try await driver.write(o.file, offset: t.offset, data: t.data)
            return .rwrite(Rwrite(count: n))
        default:
            throw ServerError(.EBADF, "fid is not open")
        }
    }

    /// 9P2000.L readdir: whole dirents only, as many as fit in `count`.
    func readdir(_ t: Treaddir) async throws -> Message {
        let (_, o) = try openedEntry(t.fid)
        guard o.isDirectory else { throw ServerError(.ENOTDIR) }
        guard o.canRead else { throw ServerError(.EBADF, "fid not open for reading") }
        let count = Int(min(t.count, maxIO))
        let limit = count / 24 + 1
        let entries = try await driver.readdir(o.file, after: t.offset, limit: limit)
        var data: [UInt8] = []
        for ent in entries {
            guard data.count + ent.direntSize <= count else { break }
            DirentPacking.append(ent, to: &data)
        }
        if data.isEmpty && !entries.isEmpty {
            throw ServerError(.EINVAL, "count \(t.count) too small for the next entry")
        }
        return .rreaddir(Rreaddir(data: data))
    }

    /// read(5) on a directory: offset 0 restarts, otherwise it must be where the previous read ended;
    /// whole stat entries only; `.` and `..` are not listed.
    private func readStats(_ fid: Fid, _ e: Entry, _ o: Opened, offset: UInt64, count: UInt32) async throws -> [UInt8] {
        let cookie: UInt64
        if offset == 0 {
            cookie = 0
        } else if offset == o.dirOffset {
            cookie = o.dirCookie
        } else {
            throw ServerError(.EINVAL, "bad offset in directory read")
        }
        var data: [UInt8] = []
        var next = cookie
        var full = false
        while !full {
            let entries = try await driver.readdir(o.file, after: next, limit: 64)
            if entries.isEmpty { break }
            for ent in entries {
                if ent.name.bytes == [0x2E] || ent.name.bytes == [0x2E, 0x2E] { next = ent.cookie; continue }
                let stat = try await dirStat(e, ent)
                let bytes = StatPacking.encode(stat, dialect: dialect ?? .p9)
                guard data.count + bytes.count <= Int(count) else { full = true; break }
                data += bytes
                next = ent.cookie
            }
        }
        if data.isEmpty && full { throw ServerError(.EINVAL, "count \(count) too small for the next entry") }
        let reached = offset + UInt64(data.count), resume = next
        update(fid, serial: e.serial) {
            if case .open(var cur) = $0.state {
                cur.dirOffset = reached
                cur.dirCookie = resume
                $0.state = .open(cur)
            }
        }
        return data
    }

    /// The stat of one directory entry (looking the entry up when the driver gave no attributes, or
    /// when a 9P2000.u symlink needs its target).
    private func dirStat(_ dir: Entry, _ ent: DirectoryEntry) async throws -> Stat {
        if let attrs = ent.attributes, !(dialect == .u && attrs.fileType == .symlink) {
            return makeStat(attrs, name: ent.name, symlinkTarget: nil)
        }
        let node = try await driver.lookup(dir.node, name: ent.name)
        let attrs = try await driver.getattr(node)
        let target = (dialect == .u && attrs.fileType == .symlink) ? try? await driver.readlink(node) : nil
        return makeStat(attrs, name: ent.name, symlinkTarget: target)
    }
}

extension Reply {
    /// size[4] type[1] tag[2] count[4] of an Rread frame of `size` bytes, at the start of `b`.
    static func writeRreadHeader(into b: UnsafeMutableRawBufferPointer, size: Int, tag: Tag) {
        b.storeBytes(of: UInt32(truncatingIfNeeded: size).littleEndian, toByteOffset: 0, as: UInt32.self)
        b[4] = MessageType.rread.rawValue
        b.storeBytes(of: tag.rawValue.littleEndian, toByteOffset: 5, as: UInt16.self)
        b.storeBytes(of: UInt32(truncatingIfNeeded: size - rreadHeaderSize).littleEndian, toByteOffset: 7, as: UInt32.self)
    }
}
