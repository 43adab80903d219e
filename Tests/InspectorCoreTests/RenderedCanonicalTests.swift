import InspectorCore
import NinePSession
import NinePWire
import Testing

/// `TraceLine.appendLines(for:to:rendered:)`: a canonical line made ahead is used only for a frame the
/// tracker decoded with the same dialect; otherwise the line is made again, so the output never depends
/// on the guess made ahead.
@Suite struct RenderedCanonicalTests {
    static func output(_ bytes: [UInt8], conn: ConnectionID = 1) -> TrackerOutput {
        var tracker = SessionTracker(configuration: .lineTrace())
        return tracker.frame(conn: conn, direction: .toServer, at: 1_700_000_000_000_000_000, bytes: bytes)
    }

    static func text(_ output: TrackerOutput, _ rendered: RenderedCanonical?) -> String {
        var out: [UInt8] = []
        TraceLine(style: .text).appendLines(for: output, to: &out, rendered: rendered)
        return String(decoding: out, as: UTF8.self)
    }

    @Test func usedWhenTheDialectAgrees() throws {
        let frame = Fcall(tag: 1, .tclunk(Tclunk(fid: 3))).encode(dialect: .l)
        let output = Self.output(frame)
        let plain = Self.text(output, nil)
        #expect(plain.contains("Tclunk tag 1 fid 3"))
        // The same line made ahead gives the same output …
        let line = Array(try #require(output.message).canonicalLine.utf8)
        #expect(Self.text(output, RenderedCanonical(dialect: .l, bytes: line[...])) == plain)
        // … and a line made ahead is what is printed (a marker shows it was taken).
        let marked = Self.text(output, RenderedCanonical(dialect: .l, bytes: Array("MADE-AHEAD".utf8)[...]))
        #expect(marked.contains("MADE-AHEAD") && !marked.contains("Tclunk"))
    }

    @Test func ignoredForAnotherDialectOrAnUndecodedFrame() {
        let frame = Fcall(tag: 1, .tclunk(Tclunk(fid: 3))).encode(dialect: .l)
        let output = Self.output(frame)
        let bogus = RenderedCanonical(dialect: .u, bytes: Array("MADE-AHEAD".utf8)[...])
        #expect(Self.text(output, bogus) == Self.text(output, nil))

        var broken = frame
        broken[0] = 0x7F   // size field lies: malformed
        let malformed = Self.output(broken)
        #expect(malformed.message?.isMalformed == true)
        let ahead = RenderedCanonical(dialect: .l, bytes: Array("MADE-AHEAD".utf8)[...])
        #expect(Self.text(malformed, ahead) == Self.text(malformed, nil))
        #expect(Self.text(malformed, nil).contains("malformed"))
    }
}
