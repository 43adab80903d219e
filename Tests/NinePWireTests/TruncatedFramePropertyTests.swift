import NinePTestSupport
import NinePWire
import PropertyBased
import Testing

/// Every first-bytes cut of random messages of every type (what a snap length leaves of a frame): the line
/// never traps and always ends in `…`, and what `bookkeeping` keeps of a cut frame agrees with the whole
/// message (its type and tag, the data captured, the qids captured whole, the names as far as captured).
@Suite struct TruncatedFramePropertyTests {
    @Test func everyCutOfRandomMessagesAgreesWithTheWholeMessage() async {
        await propertyCheck(count: 1500, input: RandomMessages.generator) { s in
            let frame = s.fcall.encode(dialect: s.dialect)
            guard frame.count > NineP.headerSize else { return }
            let name = MessageType(rawValue: frame[4])?.name ?? "type\(frame[4])"
            // At most 40 cut points per message, spread over its length (every one for short frames).
            let step = max(1, (frame.count - NineP.headerSize) / 40)
            for keep in stride(from: NineP.headerSize, to: frame.count, by: step) {
                let cut = Array(frame.prefix(keep))
                let line = TruncatedFrame.line(cut, dialect: s.dialect)
                #expect(line.hasPrefix("\(name) tag ") && line.hasSuffix("…"), "\(s) cut at \(keep): \(line)")
                let kept = TruncatedFrame.bookkeeping(cut, dialect: s.dialect)
                if case .rwalk(let whole) = s.fcall.message {
                    #expect(kept?.walkLength == (keep >= 9 ? whole.wqids.count : nil), "\(s) at \(keep)")
                } else if let kept {
                    #expect(kept.walkLength == nil, "\(s) at \(keep)")
                }
                guard let kept else { continue }
                #expect(kept.holdsOpenMode == Self.holdsOpenMode(s.fcall.message, cutAt: keep), "\(s) at \(keep)")
                let known = kept.fcall
                #expect(known.tag == s.fcall.tag && known.message.typeCode == s.fcall.message.typeCode,
                        "\(s) at \(keep): \(known.canonicalLine)")
                Self.agree(known.message, s.fcall.message, "\(s) at \(keep)")
            }
        }
    }

    /// Whether a frame of `whole` cut to `keep` bytes holds its open mode: a Tcreate's `mode[1]` or a
    /// Tlcreate's `flags[4]`, which follow header, fid and name (and a Tcreate's perm); any other message has
    /// none to miss.
    static func holdsOpenMode(_ whole: Message, cutAt keep: Int) -> Bool {
        switch whole {
        case .tcreate(let m): keep >= NineP.headerSize + 4 + 2 + m.name.bytes.count + 4 + 1
        case .tlcreate(let m): keep >= NineP.headerSize + 4 + 2 + m.name.bytes.count + 4
        default: true
        }
    }

    /// What a cut message's bookkeeping holds is what the whole one holds, as far as captured.
    static func agree(_ known: Message, _ whole: Message, _ what: Comment) {
        switch (known, whole) {
        case let (.rread(k), .rread(w)):
            #expect(k.data.count == w.data.count && Self.isCut(Array(k.data), of: Array(w.data), pad: 0), what)
        case let (.twrite(k), .twrite(w)):
            #expect(k.fid == w.fid && k.offset == w.offset && k.data.count == w.data.count
                    && Self.isCut(Array(k.data), of: Array(w.data), pad: 0), what)
        case let (.rwalk(k), .rwalk(w)):
            #expect(w.wqids.starts(with: k.wqids) && k.wqids.count < max(1, w.wqids.count), what)
        case let (.twalk(k), .twalk(w)):
            #expect(k.fid == w.fid && k.newfid == w.newfid && k.wnames.count == w.wnames.count, what)
            for (a, b) in zip(k.wnames, w.wnames) { #expect(Self.isName(a, cutFrom: b), what) }
        case let (.tattach(k), .tattach(w)):
            #expect(k.fid == w.fid && k.afid == w.afid && Self.isName(k.uname, cutFrom: w.uname)
                    && Self.isName(k.aname, cutFrom: w.aname), what)
        case let (.txattrwalk(k), .txattrwalk(w)):
            #expect(k.fid == w.fid && k.newfid == w.newfid && Self.isName(k.name, cutFrom: w.name), what)
        case let (.trename(k), .trename(w)):
            #expect(k.fid == w.fid && k.dfid == w.dfid && Self.isName(k.name, cutFrom: w.name), what)
        case let (.trenameat(k), .trenameat(w)):
            #expect(k.olddirfid == w.olddirfid && k.oldname == w.oldname && k.newdirfid == w.newdirfid
                    && Self.isName(k.newname, cutFrom: w.newname), what)
        case let (.tlcreate(k), .tlcreate(w)):
            #expect(k.fid == w.fid && Self.isName(k.name, cutFrom: w.name), what)
        case let (.tcreate(k), .tcreate(w)):
            #expect(k.fid == w.fid && Self.isName(k.name, cutFrom: w.name), what)
        default:
            break
        }
    }

    /// `known` is `whole`, or a first part of it followed by `…`, or `…` alone.
    static func isName(_ known: P9String, cutFrom whole: P9String) -> Bool {
        let mark = Array("…".utf8)
        if known == whole { return true }
        guard known.bytes.count >= mark.count, Array(known.bytes.suffix(mark.count)) == mark else { return false }
        return whole.bytes.starts(with: known.bytes.dropLast(mark.count))
    }

    /// `known` is a first part of `whole` followed by `pad` bytes.
    static func isCut(_ known: [UInt8], of whole: [UInt8], pad: UInt8) -> Bool {
        let same = zip(known, whole).prefix { $0 == $1 }.count
        return known.count == whole.count && known[same...].allSatisfy { $0 == pad }
    }
}
