import Foundation
import NinePTestSupport
import Testing

/// The REPL at a terminal, as a person uses it: under tmux, in bash with job control, against diod.
@Suite(.serialized) struct ReplTmuxTests {
    static let env = ["HOME": Peers.tempDir("repl-home"), "NO_COLOR": ""]

    /// After ctrl-z and `fg`, the prompt and the half-typed line are drawn again and the line goes on from
    /// there; after a resize too. libedit redraws when the signal interrupts the read of the thread inside
    /// el_gets; the REPL's reading thread blocked both signals (it inherits a worker's mask) and the main
    /// thread took them, so after `fg` the line stayed blank, eight times out of eight by hand, and the
    /// terminal, left in its own echo mode, showed each key typed afterwards twice.
    @Test func theLineIsDrawnAgainAfterFgAndAResize() throws {
        let export = Peers.tempDir("repl-fg-export")
        guard let diod = try Diod.start(export: export) else {
            Issue.record("diod is not installed; `make test` installs it"); return
        }
        defer { diod.stop() }
        let pane = try #require(try TmuxPane.start(["/bin/bash", "--norc", "--noprofile", "-i"], width: 100, height: 20,
                                                   env: Self.env))
        defer { pane.kill() }
        pane.type("PS1='$ '; clear; \(Peers.ninescope) repl \(diod.address) --no-history")
        pane.keys("Enter")
        #expect(pane.wait { $0.contains("9p>") }.ok)
        pane.type("vers")
        #expect(pane.wait { $0.contains("9p> vers") }.ok)
        for round in 1...3 {
            pane.keys("C-z")
            let stopped = pane.wait { $0.lines.filter { $0.contains("Stopped") }.count >= round }
            #expect(stopped.ok, "round \(round): \(stopped.screen)")
            pane.type("fg")
            pane.keys("Enter")
            let back = pane.wait { screen in
                // The prompt and the half-typed line, on a line after bash's last `fg`.
                guard let fg = screen.lines.lastIndex(where: { $0.hasPrefix("$ fg") }) else { return false }
                return screen.lines[(fg + 1)...].contains { $0.hasPrefix("9p> vers") }
            }
            #expect(back.ok, "round \(round): the line was not drawn again after fg:\n\(back.screen)")
        }
        pane.resize(width: 80, height: 20)
        pane.type("ion")
        let typed = pane.wait { $0.lines.contains { $0.hasPrefix("9p> version") } }
        #expect(typed.ok, "\(typed.screen)")
        // Each key echoed once: libedit has the terminal in its own mode again.
        #expect(!typed.screen.contains("ionion") && !typed.screen.contains("versversion"), "\(typed.screen)")
        pane.keys("Enter")
        let sent = pane.wait { $0.contains("<- Rversion") }
        #expect(sent.ok, "\(sent.screen)")
        #expect(sent.screen.contains("-> Tversion"), "\(sent.screen)")
        pane.keys("C-d")
        // ctrl-d ends the REPL, and the shell's prompt starts a line of its own (it followed "^D" before).
        let ended = pane.wait { screen in screen.lines.last(where: { !$0.isEmpty }) == "$" }
        #expect(ended.ok, "ctrl-d did not end the REPL on a line of its own:\n\(ended.screen)")
        #expect(ended.screen.lines.contains("9p> ^D"), "\(ended.screen)")
    }
}
